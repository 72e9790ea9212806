"""Turns a bundle of BPMN and DMN files into process specs, parsing XML safely."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from lxml import etree
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.bpmn.specs import BpmnProcessSpec
from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser

from ..errors import ValidationFailed
from ..safe_xml import DoctypeDeclared, NotWellFormed, parse_untrusted


@dataclass(frozen=True)
class ParsedProcess:
    process_id: str
    name: str
    spec: BpmnProcessSpec
    subprocess_specs: dict[str, BpmnProcessSpec]


def parse_xml(name: str, content: bytes) -> etree._Element:
    """The root element of one uploaded file; DTDs are refused outright."""
    try:
        return parse_untrusted(content)
    except NotWellFormed as error:
        raise ValidationFailed(
            f"{name} is not well-formed XML: {error}", {name: [f"not well-formed XML: {error}"]}
        ) from error
    except DoctypeDeclared as error:
        message = "DOCTYPE declarations are not allowed in model files"
        raise ValidationFailed(f"{name}: {message}", {name: [message]}) from error


def parse_bundle(files: Mapping[str, bytes]) -> list[ParsedProcess]:
    """Every executable process the bundle's BPMN files define, with DMN decisions resolved."""
    parser = SpiffBpmnParser()
    try:
        for name, content in sorted(files.items()):
            if name.endswith(".bpmn"):
                parser.add_bpmn_xml(parse_xml(name, content), filename=name)
            elif name.endswith(".dmn"):
                parser.add_dmn_xml(parse_xml(name, content), filename=name)
        processes = []
        for process_id in sorted(parser.get_process_ids()):
            spec = parser.get_spec(process_id)
            processes.append(
                ParsedProcess(
                    process_id=process_id,
                    name=spec.description or process_id,
                    spec=spec,
                    subprocess_specs=parser.get_subprocess_specs(process_id),
                )
            )
    except ValidationException as error:
        where = error.file_name or "bundle"
        detail = str(error)
        raise ValidationFailed(f"{where}: {detail}", {where: [detail]}) from error
    if not processes:
        message = 'no executable BPMN process found (isExecutable="true")'
        raise ValidationFailed(message, {"files": [message]})
    return processes
