"""Forms cannot reach outside the bundle (no network, no files), must be JSON Schema objects,
and their patterns run on RE2, which cannot backtrack catastrophically."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from picycle.engine.errors import ValidationFailed
from picycle.engine.forms import Form, parse_form

from tests.unit.test_validation import FORM, minimal, validate

NAME = FORM


@pytest.fixture
def listener():
    """A local HTTP server that records every request it gets."""
    contacted: list[str] = []

    class Record(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 (http.server's name)
            contacted.append(self.path)
            body = json.dumps({"type": "string"}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Record)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", contacted
    server.shutdown()
    server.server_close()


def note_form(field: dict) -> str:
    schema = {
        "type": "object",
        "properties": {"note": field},
        "required": ["note"],
    }
    return json.dumps(schema, indent=2)


def refusal(text: str) -> ValidationFailed:
    with pytest.raises(ValidationFailed) as refused:
        parse_form(NAME, text)
    return refused.value


def problems_of(text: str):
    return validate({**minimal(), NAME: text.encode()})


def test_a_remote_ref_is_refused_and_never_fetched(listener):
    url, contacted = listener
    text = note_form({"$ref": url + "/note.json"})
    assert NAME in refusal(text).errors
    [problem] = [p for p in problems_of(text) if p.file == NAME]
    assert problem.line == text.splitlines().index(f'      "$ref": "{url}/note.json"') + 1
    assert "$ref" in problem.message and url in problem.message
    # A form that slipped past the check (deployed before it) does not fetch either.
    with pytest.raises(Exception):  # noqa: B017 (what matters is that nothing was fetched)
        Form(NAME, json.loads(text)).accept({"note": "hello"})
    assert contacted == []


def test_a_file_ref_is_refused_and_the_file_never_read(tmp_path):
    secret = tmp_path / "secret.json"
    secret.write_text(json.dumps({"const": "the-secret-7f3a"}))
    text = note_form({"$ref": secret.as_uri()})
    refused = refusal(text)
    problems = problems_of(text)
    shown = str(refused) + json.dumps(refused.errors) + repr(problems)
    assert "the-secret-7f3a" not in shown
    assert [p.file for p in problems if p.is_error] == [NAME]
    with pytest.raises(Exception) as failed:  # noqa: B017
        Form(NAME, json.loads(text)).accept({"note": "guess"})
    assert "the-secret-7f3a" not in str(failed.value)


def test_a_silent_host_is_never_waited_for():
    # Nothing listens on this port: were the ref retrieved, the check would fail to connect.
    text = note_form({"$ref": "http://127.0.0.1:9/never"})
    assert "outside the form" in refusal(text).errors[NAME][0]


def test_refs_within_the_form_are_fine():
    schema = {
        "type": "object",
        "$defs": {"score": {"type": "integer", "minimum": 1, "maximum": 5}},
        "properties": {"impact": {"$ref": "#/$defs/score"}},
    }
    form = parse_form(NAME, json.dumps(schema))
    assert form.violations({"impact": 9}) == {"impact": ["9 is greater than the maximum of 5"]}
    missing = {**schema, "properties": {"impact": {"$ref": "#/$defs/nothing"}}}
    assert "#/$defs/nothing" in refusal(json.dumps(missing)).errors[NAME][0]


@pytest.mark.parametrize("text", ["true", "false", "[]", '"form"', "3", "null"])
def test_a_form_file_must_be_a_json_schema_object(text):
    assert "JSON Schema object" in refusal(text).errors[NAME][0]
    problems = [p for p in problems_of(text) if p.is_error]
    assert [p.file for p in problems] == [NAME]


def test_a_pathological_pattern_runs_on_re2_and_returns():
    form = parse_form(NAME, note_form({"type": "string", "pattern": "^(a+)+$"}))
    # Python's backtracking engine takes hours over this value; RE2 answers at once.
    assert form.violations({"note": "a" * 40 + "!"}) == {
        "note": [f"'{'a' * 40}!' does not match '^(a+)+$'"]
    }
    assert form.violations({"note": "a" * 41}) == {}


@pytest.mark.parametrize(
    "pattern", [r"^(a)\1$", r"^(?=a)a$", r"(?<!x)y", r"^(?P<x>a)(?P=x)$", r"a{1001}"]
)
def test_patterns_re2_cannot_run_are_refused_with_file_and_pattern(pattern):
    text = note_form({"type": "string", "pattern": pattern})
    [message] = refusal(text).errors[NAME]
    assert repr(pattern) in message and "RE2" in message
    [problem] = [p for p in problems_of(text) if p.file == NAME]
    assert problem.line == next(
        n for n, line in enumerate(text.splitlines(), 1) if '"pattern"' in line
    )


def test_pattern_properties_are_refused():
    schema = {"type": "object", "patternProperties": {"^(a+)+$": {"type": "string"}}}
    assert "patternProperties" in refusal(json.dumps(schema)).errors[NAME][0]


def test_a_field_the_engine_could_not_store_is_refused_with_its_line():
    nested = {"type": "object", "properties": {"typename": {"type": "string"}}}
    schema = {"type": "object", "properties": {"gap": {"type": "array", "items": nested}}}
    text = json.dumps(schema, indent=2)
    [message] = refusal(text).errors[NAME]
    assert "may not be named 'typename'" in message
    [problem] = [p for p in problems_of(text) if p.file == NAME]
    assert problem.line == next(
        n for n, line in enumerate(text.splitlines(), 1) if '"typename"' in line
    )


def test_a_field_named_like_a_keyword_is_just_a_field():
    schema = {
        "type": "object",
        "properties": {"pattern": {"type": "string"}, "$ref": {"type": "string"}},
        "default": {"pattern": "(a)\\1", "$ref": "http://127.0.0.1:9/"},
    }
    assert parse_form(NAME, json.dumps(schema)).fields.keys() == {"pattern", "$ref"}


def test_a_regex_format_is_checked_by_re2():
    form = parse_form(NAME, note_form({"type": "string", "format": "regex"}))
    assert form.violations({"note": "^[a-z]+$"}) == {}
    assert form.violations({"note": "(a)\\1"}) == {"note": ["'(a)\\\\1' is not a 'regex'"]}
