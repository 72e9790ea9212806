"""Untrusted XML is read one way only: engine.safe_xml, which refuses DTDs and entities."""

from __future__ import annotations

import ast
from pathlib import Path

import picycle.engine
import pytest
from picycle.engine.errors import ValidationFailed
from picycle.engine.safe_xml import DoctypeDeclared, NotWellFormed, parse_untrusted
from picycle.engine.spiff.parser import parse_xml
from picycle.engine.spiff.validation.documents import read_files

ENGINE = Path(picycle.engine.__file__).parent

BILLION_LAUGHS = (
    b'<?xml version="1.0"?>\n<!DOCTYPE lolz [<!ENTITY lol0 "lol">'
    + b"".join(f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">'.encode() for i in range(1, 10))
    + b"]>\n<lolz>&lol9;</lolz>"
)
EXTERNAL_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE definitions [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<definitions>&xxe;</definitions>"""
# UTF-7 hides "<!DOCTYPE" from a search of the bytes; the parsed document still shows it.
HIDDEN_BY_ENCODING = (
    b'<?xml version="1.0" encoding="UTF-7"?>\n+ADw-!DOCTYPE d +AFs-+ADw-!ENTITY xxe SYSTEM '
    b"+ACI-file:///etc/passwd+ACI-+AD4-+AF0-+AD4-\n+ADw-d+AD4-+ACY-xxe;+ADw-/d+AD4-"
)


@pytest.mark.parametrize(
    ("content", "line"),
    [(BILLION_LAUGHS, 2), (EXTERNAL_ENTITY, 2), (HIDDEN_BY_ENCODING, 1)],
    ids=["billion laughs", "external entity", "hidden by its encoding"],
)
def test_a_doctype_is_refused_with_its_line(content, line):
    with pytest.raises(DoctypeDeclared) as refused:
        parse_untrusted(content)
    assert refused.value.line == line


def test_a_doctype_inside_the_document_is_just_text():
    root = parse_untrusted(b'<script><![CDATA[page = "<!DOCTYPE html>"]]></script>')
    assert root.text == 'page = "<!DOCTYPE html>"'


def test_xml_that_is_not_well_formed_is_refused_with_its_line():
    with pytest.raises(NotWellFormed) as refused:
        parse_untrusted(b"<a>\n  <b>\n</a>")
    assert refused.value.line == 3
    assert "mismatch" in refused.value.reason


def test_a_tree_nested_too_deep_is_refused():
    with pytest.raises(NotWellFormed, match="Excessive depth"):
        parse_untrusted(b"<a>" * 300 + b"</a>" * 300)


def test_comments_are_left_out():
    root = parse_untrusted(b"<a><!-- a note --><b/></a>")
    assert [child.tag for child in root] == ["b"]


def test_the_deployment_parser_and_the_validator_refuse_what_safe_xml_refuses():
    with pytest.raises(ValidationFailed, match="DOCTYPE declarations are not allowed"):
        parse_xml("evil.bpmn", HIDDEN_BY_ENCODING)
    read = read_files({"evil.bpmn": HIDDEN_BY_ENCODING})
    assert [(p.file, p.line) for p in read.problems] == [("evil.bpmn", 1)]
    assert "DOCTYPE" in read.problems[0].message
    assert read.bpmn == []


# lxml's ways to parse, and SpiffWorkflow's parser reading XML text or files by itself.
_LXML_PARSING = {"fromstring", "fromstringlist", "XML", "XMLID", "parse", "iterparse", "XMLParser"}
_SPIFF_PARSING = {
    f"add_{kind}_{source}"
    for kind in ("bpmn", "dmn")
    for source in ("str", "file", "files", "files_by_glob")
}
# Other XML parsers (writing helpers such as xml.sax.saxutils parse nothing).
_OTHER_XML_PARSERS = ("xml.etree", "xml.dom", "xml.parsers", "xml.sax", "defusedxml")
_WRITING_ONLY = {"xml.sax.saxutils"}


def _xml_parsing(source: str) -> list[str]:
    """Where the Python source parses XML, as "line what"."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            called, on = node.func.attr, ast.unparse(node.func.value)
            if called in _SPIFF_PARSING or (called in _LXML_PARSING and on.endswith("etree")):
                found.append(f"{node.lineno} {on}.{called}")
        elif isinstance(node, ast.ImportFrom) and node.module == "lxml.etree":
            found += [f"{node.lineno} lxml.etree.{a.name}" for a in node.names]
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            modules = (
                [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module]
            )
            found += [
                f"{node.lineno} {m}"
                for m in modules
                if m and m.startswith(_OTHER_XML_PARSERS) and m not in _WRITING_ONLY
            ]
    return sorted(found)


def test_the_scan_finds_xml_parsing():
    source = """
from lxml import etree
from lxml.etree import XMLParser
import xml.etree.ElementTree
from xml.sax.saxutils import escape
root = etree.fromstring(content, etree.XMLParser())
parser.add_bpmn_str(content)
tree = ast.parse(code)
"""
    assert _xml_parsing(source) == [
        "3 lxml.etree.XMLParser",
        "4 xml.etree.ElementTree",
        "6 etree.XMLParser",
        "6 etree.fromstring",
        "7 parser.add_bpmn_str",
    ]


def test_no_engine_module_but_safe_xml_parses_xml():
    found = {
        str(path.relative_to(ENGINE)): calls
        for path in sorted(ENGINE.rglob("*.py"))
        if path != ENGINE / "safe_xml.py" and (calls := _xml_parsing(path.read_text()))
    }
    assert found == {}
