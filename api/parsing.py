"""Reading requests strictly: JSON that PostgreSQL and SQLite can store as it is, text
without NUL bytes or broken surrogates, bounded numbers and nesting."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime
from typing import Any

import marshmallow as ma
from flask_smorest import Blueprint
from picycle.engine.services.cycles import MAX_TITLE_LENGTH
from webargs import core
from webargs.flaskparser import FlaskParser, is_json_request
from werkzeug.exceptions import BadRequest, UnsupportedMediaType
from werkzeug.routing import BaseConverter

MAX_DEPTH = 32


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"the number {text[:20]} is too large")
    return value


def loads_strictly(body: bytes) -> Any:
    """JSON as RFC 8259 has it: no NaN or Infinity, numbers a database can store."""
    try:
        return json.loads(
            body.decode("utf-8"), parse_constant=_reject_constant, parse_float=_finite
        )
    except RecursionError as error:
        raise ValueError("the JSON is nested too deeply") from error


class StrictParser(FlaskParser):
    """webargs' Flask parser with strict JSON: malformed JSON is a 400, a body that is
    not JSON is a 415."""

    def load_json(self, req, schema):
        if not is_json_request(req):
            if _has_body(req):
                raise UnsupportedMediaType(
                    f"send the body as application/json, not {req.mimetype or 'untyped'}"
                )
            return core.missing
        body = req.get_data(cache=True)
        if not body.strip():
            return core.missing
        try:
            return loads_strictly(body)
        except ValueError as error:  # JSONDecodeError and UnicodeDecodeError included
            raise BadRequest(f"the body is not valid JSON: {error}") from error


def _has_body(req) -> bool:
    return bool(req.content_length) or "chunked" in req.headers.get("Transfer-Encoding", "")


def check_text(value: str, *, where: str = "") -> None:
    if "\x00" in value:
        raise ma.ValidationError(f"{where}must not contain NUL characters")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as error:
        raise ma.ValidationError(f"{where}is not valid Unicode text") from error


def check_document(value: Any, depth: int = 0) -> None:
    """A JSON document fit to store: storable text everywhere, nesting bounded."""
    if depth > MAX_DEPTH:
        raise ma.ValidationError(f"nested more than {MAX_DEPTH} levels deep")
    if isinstance(value, str):
        check_text(value)
    elif isinstance(value, dict):
        for key, inner in value.items():
            check_text(key, where="a key ")
            check_document(inner, depth + 1)
    elif isinstance(value, list):
        for inner in value:
            check_document(inner, depth + 1)


NO_NUL = r"^[^\x00]*$"
NOT_BLANK = r"^[^\x00]*[^\s\x00][^\x00]*$"
# A title: one line, with no control character nor one that turns the text after it
# around (the engine refuses them, naming the character).
_IN_LINE = r"[^\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]"
_SHOWN = r"[^\s\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]"
ONE_LINE = rf"^{_IN_LINE}*{_SHOWN}{_IN_LINE}*$"


class Text(ma.fields.String):
    """A string a database can store (no NUL, no lone surrogates); unless ``blank``, with
    something besides white space in it."""

    def __init__(self, *, blank: bool = False, **kwargs):
        metadata = {"pattern": NO_NUL if blank else NOT_BLANK, **kwargs.pop("metadata", {})}
        super().__init__(metadata=metadata, **kwargs)
        self.blank = blank

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs)
        check_text(text)
        if not self.blank and not text.strip():
            raise ma.ValidationError("must not be empty or only white space")
        return text


class Title(Text):
    """``Text`` of one line, documented as such; the engine says which character it refuses."""

    def __init__(self, **kwargs):
        metadata = {"pattern": ONE_LINE, **kwargs.pop("metadata", {})}
        super().__init__(
            metadata=metadata, validate=ma.validate.Length(1, MAX_TITLE_LENGTH), **kwargs
        )


class Document(ma.fields.Dict):
    """A JSON object of any shape, checked to be storable."""

    def __init__(self, **kwargs):
        metadata = kwargs.pop("metadata", {})
        description = metadata.get("description", "A JSON object")
        metadata["description"] = (
            f"{description}. Strings in it must not contain NUL characters, and it may nest "
            f"at most {MAX_DEPTH} levels deep (422 otherwise)"
        )
        super().__init__(keys=ma.fields.String(), metadata=metadata, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        document = super()._deserialize(value, attr, data, **kwargs)
        check_document(document)
        return document


class UtcDateTime(ma.fields.AwareDateTime):
    """An ISO 8601 date-time; without an offset it is taken as UTC. Loaded as UTC."""

    def __init__(self, **kwargs):
        super().__init__(format="iso", default_timezone=UTC, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs) -> datetime:
        moment = super()._deserialize(value, attr, data, **kwargs)
        try:
            return moment.astimezone(UTC)
        except (OverflowError, ValueError) as error:
            raise ma.ValidationError("is out of range") from error


class NameConverter(BaseConverter):
    """A user name in a URL: 1 to 100 characters, no slash and no control characters."""

    regex = r"[^/\x00-\x1f\x7f]{1,100}"


def name_converter_schema(converter) -> dict[str, Any]:
    return {"type": "string", "minLength": 1, "maxLength": 100}


class PicycleBlueprint(Blueprint):
    """A flask-smorest blueprint with the strict parser, tagged with its area's name."""

    ARGUMENTS_PARSER = StrictParser()

    def __init__(self, area: str, import_name: str, **kwargs):
        super().__init__(f"picycle_{area}", import_name, **kwargs)
        self.area = area

    def route(self, rule, *, parameters=None, tags=None, **options):
        return super().route(rule, parameters=parameters, tags=tags or [self.area], **options)

    def problems(self, *codes: int):
        """Document the problem responses an operation returns (always 500 as well)."""

        def decorator(func):
            for code in sorted({*codes, 500}, reverse=True):
                func = self.alt_response(code, response=_response_name(code))(func)
            return func

        return decorator


def _response_name(code: int) -> str:
    from http import HTTPStatus

    return HTTPStatus(code).name


def page_body(page: Any, args: dict) -> dict:
    """A page of a list as the page schemas show it, with the paging it was asked for."""
    return {
        "items": page.items,
        "total": page.total,
        "limit": args["limit"],
        "offset": args["offset"],
    }
