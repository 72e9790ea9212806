"""The process-model validator: each rule broken on its own in a minimal model, the bundle
as a whole, hostile input, and the PI cycle picycle ships.

Most tests take the minimal bundle in tests/data/bpmn/minimal (which is valid), change one
thing in it, and expect exactly one error naming the file, the element and the line.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from picycle.engine.bundles import read_bundle, shipped_processes
from picycle.engine.errors import ValidationFailed
from picycle.engine.forms import parse_form
from picycle.engine.rules import RULES
from picycle.engine.spiff.limits import DEFAULT_LIMITS
from picycle.engine.spiff.validation import ERROR, WARNING, Problem, validate_bundle
from picycle.engine.spiff.validation import bundle as bundle_module

MINIMAL = Path(__file__).parents[1] / "data" / "bpmn" / "minimal"
BPMN = "minimal.bpmn"
DMN = "minimal.dmn"
FORM = "forms/review.schema.json"


def validate(files, known_groups=None) -> list[Problem]:
    """The validator as deploying runs it: with picycle's rule sets and form parser."""
    return validate_bundle(
        files, rule_names=RULES.keys(), parse_form=parse_form, known_groups=known_groups
    )


def minimal() -> dict[str, bytes]:
    return read_bundle(MINIMAL)


def changed(file: str, *replacements: tuple[str, str]) -> tuple[dict[str, bytes], int]:
    """The minimal bundle with text replaced in one file (each old text occurs once), and the
    line where the first replacement starts."""
    files = minimal()
    text = files[file].decode()
    line = text[: text.index(replacements[0][0])].count("\n") + 1
    for old, new in replacements:
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    files[file] = text.encode()
    return files, line


def line_of(files: dict[str, bytes], element_id: str, file: str = BPMN) -> int:
    """The line where the element with this id starts."""
    return files[file].decode().split(f'id="{element_id}"')[0].count("\n") + 1


def the_error(problems: list[Problem]) -> Problem:
    errors = [p for p in problems if p.severity == ERROR]
    assert len(errors) == 1, errors
    return errors[0]


def assert_error(problems, file: str, element_id: str | None, line: int | None, fragment: str):
    error = the_error(problems)
    assert (error.file, error.element_id, error.line) == (file, element_id, line), error
    assert fragment in error.message, error.message


# --- the bundle as a whole ---------------------------------------------------------------------


def test_the_minimal_bundle_is_valid():
    assert validate(minimal()) == []


def test_the_shipped_pi_cycle_has_no_problems():
    assert validate(read_bundle(shipped_processes())) == []


def test_the_shipped_pi_cycle_only_warns_about_groups_that_do_not_exist():
    problems = validate(read_bundle(shipped_processes()), known_groups={"PI Unit"})
    assert {(p.severity, p.element_id) for p in problems} == {
        (WARNING, "lane_department_team"),
        (WARNING, "lane_leadership"),
    }
    assert any('picycle user add NAME --group "Leadership"' in p.message for p in problems)
    groups = {"PI Unit", "Department Team", "Leadership"}
    assert validate(read_bundle(shipped_processes()), known_groups=groups) == []


def test_all_problems_are_reported_at_once():
    files, _ = changed(
        BPMN,
        ("approved == True", "${approved}"),
        (">proposal_priority<", ">proposal_priorty<"),
        (
            '<bpmn:sequenceFlow id="to_done"',
            '<bpmn:task id="forgotten" /><bpmn:sequenceFlow id="to_done"',
        ),
    )
    files[DMN] = files[DMN].replace(b'"low"', b"'low")
    files[FORM] = b"{"
    problems = validate(files)
    assert {(p.file, p.element_id) for p in problems if p.severity == ERROR} == {
        (BPMN, "approved_flow"),
        (BPMN, "score"),
        (BPMN, "forgotten"),
        (DMN, "rule_low_priority"),
        (FORM, None),
    }


def test_a_process_that_does_not_run_is_not_checked_when_another_one_runs():
    pool = (
        '<bpmn:process id="citizen" isExecutable="false"><bpmn:userTask id="apply" />'
        "</bpmn:process></bpmn:definitions>"
    )
    files, _ = changed(BPMN, ("</bpmn:definitions>", pool))
    assert validate(files) == []


def test_a_check_that_breaks_is_reported_not_raised(monkeypatch):
    def broken_check(bundle):
        raise RuntimeError("a bug")

    monkeypatch.setattr(bundle_module, "_CHECKS", (broken_check,))
    problems = validate(minimal())
    assert [(p.severity, p.file) for p in problems] == [(ERROR, "bundle")]
    assert "could not finish checking broken check (RuntimeError)" in problems[0].message


# --- rule 1: safe, well-formed XML within limits -----------------------------------------------

XXE = b"""<?xml version="1.0"?>
<!DOCTYPE definitions [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL">&xxe;</definitions>"""
LAUGHS = (
    b'<?xml version="1.0"?>\n<!DOCTYPE lolz [<!ENTITY lol0 "lol">'
    + b"".join(f'<!ENTITY lol{n} "{f"&lol{n - 1};" * 10}">'.encode() for n in range(1, 10))
    + b"]>\n<lolz>&lol9;</lolz>"
)
EXTERNAL_DTD = b"""<?xml version="1.0"?>
<!DOCTYPE definitions SYSTEM "http://example.com/evil.dtd">
<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL" />"""


@pytest.mark.parametrize("content", [XXE, LAUGHS, EXTERNAL_DTD], ids=["xxe", "laughs", "dtd"])
def test_a_doctype_is_refused_without_reading_what_it_points_to(content):
    problems = validate({"evil.bpmn": content})
    assert_error(problems, "evil.bpmn", None, 2, "DOCTYPE")
    assert not any("root:" in p.message or "lol" in p.message for p in problems)


def test_a_doctype_hidden_by_an_odd_encoding_is_refused_too():
    utf7 = (
        b'<?xml version="1.0" encoding="UTF-7"?>\n+ADw-!DOCTYPE d +AFs-+ADw-!ENTITY xxe SYSTEM '
        b"+ACI-file:///etc/passwd+ACI-+AD4-+AF0-+AD4-\n+ADw-d+AD4-+ACY-xxe;+ADw-/d+AD4-"
    )
    problems = validate({"evil.bpmn": utf7})
    assert_error(problems, "evil.bpmn", None, 1, "DOCTYPE")


def test_doctype_inside_a_script_is_just_text():
    files, _ = changed(
        BPMN, ("reminders = 1", '<![CDATA[page = "<!DOCTYPE html>"]]>\nreminders = 1')
    )
    assert validate(files) == []


def test_text_that_is_not_xml_is_refused():
    problems = validate({"notes.bpmn": b"these are my notes, not a model"})
    assert_error(problems, "notes.bpmn", None, 1, "is not well-formed XML")


def test_an_empty_file_is_refused():
    assert_error(validate({"empty.bpmn": b""}), "empty.bpmn", None, 1, "not well-formed")


def test_a_file_that_is_not_utf8_is_refused():
    files = minimal()
    files[BPMN] = files[BPMN].decode().replace("Review a proposal", "Révision").encode("latin-1")
    assert_error(validate(files), BPMN, None, None, "is not UTF-8 text")


MAX_FILE_BYTES = DEFAULT_LIMITS.max_file_bytes
MAX_BUNDLE_BYTES = DEFAULT_LIMITS.max_bundle_bytes


def test_a_file_over_the_size_limit_is_refused():
    files = minimal()
    files["huge.dmn"] = b" " * (MAX_FILE_BYTES + 1)
    assert_error(validate(files), "huge.dmn", None, None, "at most")


def test_a_bundle_over_the_size_limit_is_refused():
    files = {
        f"part{n}.bpmn": b" " * MAX_FILE_BYTES
        for n in range(MAX_BUNDLE_BYTES // MAX_FILE_BYTES + 1)
    }
    assert_error(validate(files), "bundle", None, None, "at most")


def test_a_bundle_without_bpmn_is_refused():
    assert_error(validate({}), "bundle", None, None, "no .bpmn file")


def test_files_that_are_not_models_are_ignored_with_a_warning():
    files = minimal()
    files["README.md"] = b"# notes"
    problems = validate(files)
    assert [(p.severity, p.file) for p in problems] == [(WARNING, "README.md")]
    assert "is ignored" in problems[0].message


# --- rule 2: the BPMN and DMN schemas ----------------------------------------------------------


def test_bpmn_that_breaks_the_bpmn_schema_is_refused_with_its_line():
    files, line = changed(BPMN, ('cancelActivity="false"', 'cancelActivity="sometimes"'))
    assert_error(validate(files), BPMN, "review_overdue", line, "BPMN 2.0 schema")


def test_an_unknown_spiffworkflow_extension_attribute_is_refused():
    files, line = changed(BPMN, ('property name="dueDate"', 'property nam="dueDate"'))
    assert_error(validate(files), BPMN, "review", line, "'nam' is not allowed")


def test_xml_that_is_not_bpmn_is_refused():
    problems = validate({"page.bpmn": b"<html><body/></html>"})
    error = next(p for p in problems if "is not a BPMN 2.0 file" in p.message)
    assert (error.file, error.line) == ("page.bpmn", 1)


def test_dmn_that_breaks_the_dmn_schema_is_refused_with_its_line():
    files, line = changed(DMN, ('hitPolicy="UNIQUE"', 'hitPolicy="SOMETIMES"'))
    assert_error(validate(files), DMN, "proposal_priority_table", line, "DMN schema")


def test_dmn_of_an_unknown_version_is_refused():
    files, line = changed(DMN, ("https://www.omg.org/spec/DMN/20191111/MODEL/", "urn:dmn:2099"))
    problems = validate(files)
    error = next(p for p in problems if p.file == DMN)
    assert error.line == line and "is not a DMN file" in error.message


# --- rule 3: an executable process that SpiffWorkflow loads ------------------------------------


def test_a_bundle_without_an_executable_process_is_refused():
    files, line = changed(
        BPMN,
        (
            'id="minimal" name="Review a proposal" isExecutable="true"',
            'id="minimal" isExecutable="false"',
        ),
        (
            'id="archiving" name="Archive a proposal" isExecutable="true"',
            'id="archiving" isExecutable="false"',
        ),
    )
    assert_error(validate(files), BPMN, "minimal", line, 'isExecutable="true"')


def test_what_spiffworkflow_refuses_is_reported_at_the_element():
    files, _ = changed(
        BPMN,
        (
            "<bpmn:outgoing>to_score</bpmn:outgoing>",
            "<bpmn:outgoing>to_score</bpmn:outgoing><bpmn:multiInstanceLoopCharacteristics />",
        ),
    )
    line = (
        files[BPMN]
        .decode()
        .splitlines()
        .index('    <bpmn:userTask id="review" name="Review the proposal">')
        + 1
    )
    assert_error(validate(files), BPMN, "review", line, "cardinality")


def test_a_dmn_table_spiffworkflow_cannot_run_is_reported():
    # DMN 1.3 allows annotation columns; SpiffWorkflow's DMN parser does not.
    files, _ = changed(
        DMN, ('<rule id="rule_high">', '<annotation name="Why" /><rule id="rule_high">')
    )
    error = the_error(validate(files))
    assert error.file == DMN and "SpiffWorkflow cannot load" in error.message


# --- rule 4: scripts and expressions compile under the sandbox ---------------------------------


@pytest.mark.parametrize(
    ("old", "new", "element_id", "hint"),
    [
        (
            "approved == True",
            "${approved}",
            "approved_flow",
            "write the Python expression approved",
        ),
        ("approved == True", "approved === True", "approved_flow", "'===' is not Python: use =="),
        ('"P14D"', "P14D", "review_overdue", 'write "P14D" in quotes'),
        ('"P14D"', '"14 days"', "review_overdue", "is not an ISO 8601 duration"),
        ("reviewed = True", "import os", "review", "imports are not allowed"),
        ("approved = False", "approved = ${false}", "review", "is JUEL, not Python"),
    ],
    ids=["juel-condition", "js-equality", "unquoted-duration", "not-a-duration", "import", "juel"],
)
def test_a_bpmn_expression_that_does_not_compile_is_refused_with_a_hint(old, new, element_id, hint):
    files, line = changed(BPMN, (old, new))
    assert_error(validate(files), BPMN, element_id, line, hint)


def test_a_script_error_is_reported_at_its_line_in_the_file():
    files, line = changed(BPMN, ("reminded = True", "reminded = = True"))
    assert_error(validate(files), BPMN, "remind_reviewer", line, "Line 2: SyntaxError")


def test_a_script_task_without_a_script_is_refused():
    files, _ = changed(BPMN, ("<bpmn:script>reminders = 1\nreminded = True</bpmn:script>", ""))
    line = line_of(files, "remind_reviewer")
    assert_error(validate(files), BPMN, "remind_reviewer", line, "has no script")


@pytest.mark.parametrize("name", ["assignee", "dueDate", "taskTitle"])
def test_a_task_property_that_does_not_compile_is_refused(name):
    files, line = changed(BPMN, (f'name="{name}" value="', f'name="{name}" value="${{x}} + '))
    assert_error(validate(files), BPMN, "review", line, f"property '{name}'")


def test_a_feel_range_in_a_dmn_input_entry_is_refused_with_the_python_to_write():
    files, _ = changed(DMN, ("4 &lt;= ? &lt;= 5", "[4..5]"))
    line = line_of(files, "rule_high_impact", DMN) + 1  # the line of its <text>
    assert_error(validate(files), DMN, "rule_high_impact", line, "write 4 <= ? <= 5")


@pytest.mark.parametrize(
    ("old", "new", "element_id", "fragment"),
    [
        ('"low"', "'low", "rule_low_priority", "output entry ''low'"),
        ("proposal['impact']", "proposal['impact'", "input_impact_expression", "input 'Impact"),
        ('? != "safety"', "? !== 'safety'", "rule_low_topic", "'!==' is not Python: use !="),
        ('<text>"safety"', "<text>== = 'safety'", "rule_safety_topic", "input entry '== = "),
    ],
    ids=["output", "input-expression", "input-entry", "operator-entry"],
)
def test_a_dmn_entry_that_does_not_compile_is_refused(old, new, element_id, fragment):
    files, line = changed(DMN, (old, new))
    assert_error(validate(files), DMN, element_id, line, fragment)


@pytest.mark.parametrize(
    "entry", ['"safety"', "&lt; 4", "4 &lt;= ? &lt;= 5", "-", "? in (1, 2)", '"why?"', "? == 'a?'"]
)
def test_dmn_input_entries_are_read_the_way_spiffworkflow_evaluates_them(entry):
    files, _ = changed(DMN, ('<text>? != "safety"</text>', f"<text>{entry}</text>"))
    assert validate(files) == []


def test_a_huge_dmn_entry_is_checked_in_linear_time():
    files, _ = changed(DMN, ('? != "safety"', "?" * 19_000))
    started = time.monotonic()
    validate(files)
    assert time.monotonic() - started < 2


def test_a_script_longer_than_the_limit_is_refused():
    files, line = changed(BPMN, ("reminders = 1", "reminders = 1" + " + 1" * 5000))
    assert_error(validate(files), BPMN, "remind_reviewer", line, "at most 20,000")


def test_a_dmn_input_without_an_expression_is_refused():
    files, line = changed(DMN, ("<text>proposal['topic']</text>", "<text></text>"))
    assert_error(validate(files), DMN, "input_topic", line - 2, "has no input expression")


def test_a_dmn_file_with_two_decisions_is_refused():
    files, line = changed(
        DMN, ("</definitions>", '<decision id="second" name="Second" /></definitions>')
    )
    problems = validate(files)
    assert ("second", line) in {(p.element_id, p.line) for p in problems if p.severity == ERROR}
    assert any("one decision per DMN file" in p.message for p in problems)


# --- rule 5: what the model names exists ------------------------------------------------------


def test_a_missing_decision_is_refused_with_a_suggestion():
    files, line = changed(BPMN, (">proposal_priority<", ">proposal_priorty<"))
    error = the_error(validate(files))
    assert (error.file, error.element_id, error.line) == (BPMN, "score", line - 2)
    assert "decision 'proposal_priorty' is not in the bundle" in error.message
    assert "did you mean 'proposal_priority'?" in error.message


def test_a_missing_called_process_is_refused():
    files, line = changed(BPMN, ('calledElement="archiving"', 'calledElement="archive"'))
    assert_error(validate(files), BPMN, "archive", line, "process 'archive' is not in")


def test_a_missing_form_file_is_refused_with_a_suggestion():
    files, line = changed(BPMN, ('value="review.schema.json"', 'value="reviews.schema.json"'))
    assert_error(validate(files), BPMN, "review", line, "expected at forms/reviews.schema")
    assert "did you mean 'forms/review.schema.json'?" in the_error(validate(files)).message


def test_a_missing_form_unlike_any_other_gets_no_suggestion():
    """Every form shares the folder and the extension: only the names are compared."""
    files, _ = changed(BPMN, ('value="review.schema.json"', 'value="budget.schema.json"'))
    error = the_error(validate(files))
    assert "form 'budget.schema.json' is not in the bundle" in error.message
    assert "did you mean" not in error.message


def test_a_form_that_is_not_json_is_refused_with_its_line():
    files = minimal()
    files[FORM] = b'{\n  "type": "object",\n  "properties": {,}\n}'
    assert_error(validate(files), FORM, None, 3, "not a valid JSON Schema")


def test_a_form_that_is_not_a_json_schema_is_refused():
    files = minimal()
    files[FORM] = b'{"type": "record"}'
    assert_error(validate(files), FORM, None, None, "not a valid JSON Schema")


def test_an_unknown_rule_set_is_refused():
    files, line = changed(
        BPMN,
        (
            '<spiffworkflow:property name="assignee"',
            '<spiffworkflow:property name="picycleRules" '
            'value="check_everything" /><spiffworkflow:property name="assignee"',
        ),
    )
    assert_error(validate(files), BPMN, "review", line, "use one of: assess_performance")


def test_the_rule_sets_are_the_ones_the_caller_names():
    files, line = changed(
        BPMN,
        (
            '<spiffworkflow:property name="assignee"',
            '<spiffworkflow:property name="picycleRules" '
            'value="check_everything" /><spiffworkflow:property name="assignee"',
        ),
    )
    known = validate_bundle(files, rule_names={"check_everything"}, parse_form=parse_form)
    assert known == []
    unknown = validate_bundle(files, rule_names={"check_a", "check_b"}, parse_form=parse_form)
    assert_error(unknown, BPMN, "review", line, "use one of: check_a, check_b")


def test_forms_are_read_by_the_parser_the_caller_gives():
    def refuse_every_form(name: str, content: bytes) -> None:
        raise ValidationFailed(f"{name}: too plain", {name: ["too plain"]})

    problems = validate_bundle(minimal(), rule_names=RULES.keys(), parse_form=refuse_every_form)
    assert_error(problems, FORM, None, None, "too plain: fix the form's JSON Schema")
    files = minimal()
    files[FORM] = b'{"type": "record"}'  # not a JSON Schema, but this parser takes anything
    assert validate_bundle(files, rule_names=RULES.keys(), parse_form=lambda *_: None) == []


# --- rule 6: groups exist, every user task has a form ------------------------------------------


def test_a_lane_without_a_group_is_a_warning_that_says_which_group_to_create():
    problems = validate(minimal(), known_groups={"PI Unit"})
    assert [(p.severity, p.file, p.element_id, p.line) for p in problems] == [
        (WARNING, BPMN, "lane_reviewers", 5)
    ]
    assert 'picycle user add NAME --group "Reviewers"' in problems[0].message
    assert validate(minimal(), known_groups={"Reviewers"}) == []


def test_a_candidate_group_without_a_group_is_a_warning():
    files, line = changed(
        BPMN,
        (
            '<spiffworkflow:property name="assignee"',
            '<spiffworkflow:property name="candidateGroup" '
            'value="Editors" /><spiffworkflow:property name="assignee"',
        ),
    )
    problems = validate(files, known_groups={"Reviewers"})
    assert [(p.severity, p.element_id, p.line) for p in problems] == [(WARNING, "review", line)]
    assert "candidateGroup 'Editors' names no existing group" in problems[0].message


def test_a_user_task_nobody_can_claim_is_a_warning():
    files, _ = changed(
        BPMN,
        ("<bpmn:flowNodeRef>review</bpmn:flowNodeRef>", ""),
        ('<spiffworkflow:property name="assignee" value="proposal[\'owner\']" />', ""),
    )
    problems = validate(files)
    assert [(p.severity, p.element_id) for p in problems] == [(WARNING, "review")]
    assert "nobody can claim" in problems[0].message


def test_a_user_task_without_a_form_is_refused():
    files, _ = changed(
        BPMN,
        ('<spiffworkflow:property name="formJsonSchemaFilename" value="review.schema.json" />', ""),
    )
    line = line_of(files, "review")
    assert_error(validate(files), BPMN, "review", line, "has no form")


# --- rule 7: reachable elements, loops with a way out ------------------------------------------

EXTRA = '<bpmn:sequenceFlow id="to_done"'


def test_an_element_no_flow_leads_to_is_refused():
    files, line = changed(
        BPMN, (EXTRA, f'<bpmn:task id="forgotten" name="Forgotten step" />{EXTRA}')
    )
    assert_error(validate(files), BPMN, "forgotten", line, "cannot be reached from a start")


def test_an_element_inside_a_subprocess_no_flow_leads_to_is_refused():
    subprocess = (
        '<bpmn:subProcess id="sub" name="Sub"><bpmn:startEvent id="sub_start" />'
        '<bpmn:endEvent id="sub_end" /><bpmn:sequenceFlow id="sub_flow" sourceRef="sub_start" '
        'targetRef="sub_end" />\n<bpmn:task id="island" name="Island" /></bpmn:subProcess>'
        '<bpmn:sequenceFlow id="sub_done" sourceRef="sub" targetRef="archive" />'
    )
    files, _ = changed(
        BPMN, ('targetRef="archive">', 'targetRef="sub">'), (EXTRA, subprocess + EXTRA)
    )
    error = the_error(validate(files))
    assert (error.file, error.element_id, error.line) == (BPMN, "island", line_of(files, "island"))
    assert "task 'Island' cannot be reached" in error.message


def test_a_loop_without_a_way_out_is_refused_naming_its_elements():
    loop = (
        '<bpmn:task id="reconsider" name="Reconsider" /><bpmn:task id="rethink" name="Rethink" />'
        '<bpmn:sequenceFlow id="round" sourceRef="reconsider" targetRef="rethink" />'
        '<bpmn:sequenceFlow id="again" sourceRef="rethink" targetRef="reconsider" />'
    )
    files, _ = changed(
        BPMN,
        ('sourceRef="accepted" targetRef="review"', 'sourceRef="accepted" targetRef="reconsider"'),
        (EXTRA, loop + EXTRA),
    )
    line = line_of(files, "reconsider")
    assert_error(validate(files), BPMN, "reconsider", line, "task 'Reconsider', task 'Rethink'")


def test_a_loop_an_interrupting_timer_can_end_is_allowed():
    subprocess = (
        '<bpmn:subProcess id="sub" name="Keep asking"><bpmn:startEvent id="sub_start" />'
        '<bpmn:parallelGateway id="fork" /><bpmn:endEvent id="sub_end" />'
        '<bpmn:task id="ask" /><bpmn:task id="wait" />'
        '<bpmn:sequenceFlow id="s0" sourceRef="sub_start" targetRef="fork" />'
        '<bpmn:sequenceFlow id="s1" sourceRef="fork" targetRef="ask" />'
        '<bpmn:sequenceFlow id="s5" sourceRef="fork" targetRef="sub_end" />'
        '<bpmn:sequenceFlow id="s2" sourceRef="ask" targetRef="wait" />'
        '<bpmn:sequenceFlow id="s3" sourceRef="wait" targetRef="ask" /></bpmn:subProcess>'
        '<bpmn:boundaryEvent id="deadline" attachedToRef="sub"><bpmn:timerEventDefinition>'
        '<bpmn:timeDuration>"P7D"</bpmn:timeDuration></bpmn:timerEventDefinition>'
        "</bpmn:boundaryEvent>"
        '<bpmn:sequenceFlow id="s4" sourceRef="deadline" targetRef="archive" />'
    )
    files, _ = changed(
        BPMN, ('targetRef="archive">', 'targetRef="sub">'), (EXTRA, subprocess + EXTRA)
    )
    assert validate(files) == []


def test_event_subprocesses_and_boundary_events_count_as_reachable():
    event_subprocess = (
        '<bpmn:subProcess id="on_cancel" triggeredByEvent="true">'
        '<bpmn:startEvent id="cancel_requested"><bpmn:messageEventDefinition /></bpmn:startEvent>'
        '<bpmn:endEvent id="cancelled" />'
        '<bpmn:sequenceFlow id="c1" sourceRef="cancel_requested" targetRef="cancelled" />'
        "</bpmn:subProcess>"
    )
    files, _ = changed(BPMN, (EXTRA, event_subprocess + EXTRA))
    problems = validate(files)
    assert not any("cannot be reached" in p.message for p in problems), problems


def test_a_sequence_flow_to_an_unknown_element_is_refused():
    files, line = changed(BPMN, ('targetRef="proposal_done"', 'targetRef="proposal_gone"'))
    problems = validate(files)
    flow = next(p for p in problems if p.element_id == "to_done")
    assert flow.line == line and "'proposal_gone' is not a flow node" in flow.message


def test_a_flow_without_a_target_is_reported_by_the_schema():
    files, line = changed(BPMN, ('targetRef="proposal_done"', ""))
    problems = validate(files)
    assert any(p.line == line and "'targetRef' is required" in p.message for p in problems)
    assert not any("could not finish" in p.message for p in problems)


def test_a_process_without_an_id_cannot_be_called():
    files, _ = changed(
        BPMN, ('<bpmn:process id="archiving" name="Archive a proposal"', "<bpmn:process")
    )
    assert the_error(validate(files)).element_id == "archive"


def test_a_subprocess_without_a_start_event_is_refused():
    files, line = changed(
        BPMN,
        ('targetRef="archive">', 'targetRef="sub">'),
        (
            EXTRA,
            '<bpmn:subProcess id="sub" name="Empty" />'
            '<bpmn:sequenceFlow id="sub_done" sourceRef="sub" targetRef="archive" />' + EXTRA,
        ),
    )
    problems = validate(files)
    error = the_error(problems)
    assert error.element_id == "sub" and "has no start event" in error.message


# --- never raises --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "files",
    [
        None,
        [b"<bpmn/>"],
        {None: b""},
        {"x.bpmn": None},
        {"x.bpmn": "<definitions/>"},
        {"x.bpmn": bytes(range(256)) * 10},
        {"x.dmn": b"<?xml version='1.0'?><definitions/>"},
        {"x.bpmn": b"<a>" * 300 + b"</a>" * 300},
        {"forms/x.json": b"[" * 100_000},
    ],
    ids=[
        "none",
        "list",
        "no-name",
        "no-content",
        "text",
        "binary",
        "dmn-only",
        "deep",
        "deep-json",
    ],
)
def test_any_input_gives_problems_never_an_exception(files):
    problems = validate(files)
    assert problems and all(p.message and p.file for p in problems)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    start=st.integers(0, 6000),
    length=st.integers(1, 400),
    junk=st.sampled_from(["", "<", '"', "&"]),
)
def test_a_damaged_model_gives_problems_never_an_exception(start, length, junk):
    files = minimal()
    text = files[BPMN].decode()
    files[BPMN] = (text[:start] + junk + text[start + length :]).encode()
    problems = validate(files)
    assert all(isinstance(p, Problem) and p.message and p.file for p in problems)
    assert not any("could not finish" in p.message for p in problems), problems
