"""What a new user meets at the command line: versions and help, the user, task and history
commands, forms shown whole, --data errors, the worker and text output for scripts too."""

from __future__ import annotations

import json
import logging
import os
import signal
from importlib.metadata import version

import click
import pytest
from picycle.cli import worker as worker_module
from picycle.cli.main import main
from picycle.engine.actors import SYSTEM
from picycle.engine.errors import Unavailable
from picycle.engine.services import users

from .test_cli import ASSESSMENT


def test_version_comes_from_the_installed_package(picycle):
    result = picycle("--version")
    assert result.exit_code == 0
    assert result.stdout == f"picycle {version('picycle')}\n"


def commands(group: click.Group, path=("picycle",)):
    for name, command in group.commands.items():
        yield (*path, name), command
        if isinstance(command, click.Group):
            yield from commands(command, (*path, name))


@pytest.mark.parametrize(
    ("path", "command"),
    list(commands(main)),
    ids=lambda c: " ".join(c) if isinstance(c, tuple) else "",
)
def test_every_command_and_option_says_what_it_is_for(path, command):
    assert (command.help or "").strip(), f"{' '.join(path)} has no help"
    for option in command.params:
        if isinstance(option, click.Option):
            assert (option.help or "").strip(), f"{' '.join(path)} {option.opts[0]} has no help"


# --- --data -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        (
            "{bad",
            "--data is not valid JSON: Expecting property name enclosed in double quotes "
            "at line 1, column 2",
        ),
        ("@missing.json", "--data @missing.json: cannot read the file (No such file or directory)"),
        ("[1]", "--data is a JSON list, not an object"),
    ],
    ids=["bad JSON", "missing file", "not an object"],
)
def test_bad_data_is_said_once_with_what_to_do(picycle, started, data, problem):
    result = picycle("task", "complete", started, "--as", "pia", "--data", data)
    assert result.exit_code == 1 and result.stdout == ""
    (line,) = result.stderr.splitlines()
    assert line.startswith(f"error: {problem}; give the form data as a JSON object")
    assert line.endswith("`picycle task show TASK_ID` prints an example")
    assert line.count(problem.split(":")[-1].strip()) == 1


def test_an_error_does_not_repeat_its_fields(picycle, started):
    result = picycle("task", "comment", started, "--as", "pia", "--text", "  ")
    assert result.stderr == "error: a comment must not be empty\n"


# --- users ------------------------------------------------------------------------------------


def test_user_list_shows_each_user_to_admins_and_auditors_only(picycle, started):
    listed = picycle("user", "list")
    assert listed.exit_code == 0, listed.output
    lines = listed.stdout.splitlines()
    assert lines[0] == "3 user(s)" and lines[1].split() == ["name", "role", "active", "groups"]
    assert lines[4].split() == ["pia", "member", "yes", "PI", "Unit"]
    as_json = json.loads(picycle("user", "list", "--as", "audrey", "--json").stdout)
    assert [u["name"] for u in as_json] == ["ada", "audrey", "pia"]
    refused = picycle("user", "list", "--as", "pia")
    assert refused.exit_code == 1
    assert refused.stderr == "error: only admins and auditors may list users; pia is a member\n"


def test_user_groups_lists_every_group_to_admins_and_auditors_only(picycle, started):
    picycle("user", "add", "lena", "--group", " Leadership")
    listed = picycle("user", "groups")
    assert listed.exit_code == 0, listed.output
    assert listed.stdout.splitlines() == ["Leadership", "PI Unit"]
    assert json.loads(picycle("user", "groups", "--as", "audrey", "--json").stdout) == [
        "Leadership",
        "PI Unit",
    ]
    refused = picycle("user", "groups", "--as", "pia")
    assert refused.exit_code == 1
    assert refused.stderr == "error: only admins and auditors may list groups; pia is a member\n"


def test_a_group_no_one_was_in_is_noted_beside_the_output(picycle, started):
    added = picycle("user", "add", "nora", "--group", "PI Unit", "--group", "Departmnet Team")
    assert added.exit_code == 0, added.output
    assert len(added.stdout.strip()) > 20  # the token alone, for scripts that keep it
    assert added.stderr == ("note: the group 'Departmnet Team' is new: no one was in it before\n")
    changed = picycle("user", "change", "nora", "--group", "Department Team", "--group", "PI Unit")
    assert "note: the group 'Department Team' is new" in changed.stderr
    again = picycle("user", "change", "nora", "--group", " PI Unit ")
    assert again.exit_code == 0 and again.stderr == ""


def test_user_change_sets_role_groups_and_active(picycle, engine, started):
    changed = picycle("user", "change", "pia", "--group", "Leadership", "--group", "PI Unit")
    assert changed.stdout == "pia: member, active, groups: Leadership, PI Unit\n"
    assert picycle("user", "change", "PIA", "--no-groups", "--role", "auditor").stdout == (
        "pia: auditor, active, groups: no groups\n"
    )
    assert picycle("user", "change", "pia", "--inactive", "--as", "ada").stdout == (
        "pia: auditor, deactivated, groups: no groups\n"
    )
    with engine.unit_of_work(write=False) as uow:
        assert not users.read_user(uow, SYSTEM, "pia").active


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("pia", "--group", "X", "--no-groups"), "error: give --group or --no-groups, not both"),
        (("pia",), "error: nothing to change: give --role, --group, --no-groups, --active"),
        (("ghost", "--inactive"), "error: there is no user called ghost"),
        (("ada", "--role", "member"), "error: ada is the last active admin"),
        (("pia", "--role", "admin", "--as", "pia"), "error: only an admin may change users"),
        (("pia", "--role", "admin", "--as", "ghost"), "error: there is no user called ghost"),
    ],
    ids=["both", "nothing", "unknown user", "last admin", "member", "unknown actor"],
)
def test_user_change_refuses_in_one_line_and_changes_nothing(picycle, started, args, message):
    before = picycle("user", "list", "--json").stdout
    result = picycle("user", "change", *args)
    assert result.exit_code == 1 and result.stdout == ""
    assert result.stderr.startswith(message) and len(result.stderr.splitlines()) == 1
    assert picycle("user", "list", "--json").stdout == before


def test_user_change_refuses_an_unknown_role(picycle, started):
    result = picycle("user", "change", "pia", "--role", "boss")
    assert result.exit_code == 2 and "'boss' is not one of" in result.stderr


def test_user_revoke_ends_every_token_of_the_user(picycle, engine, started):
    token = picycle("user", "token", "pia", "--as", "pia").stdout.strip()
    with engine.unit_of_work(write=False) as uow:
        assert users.authenticate(uow, token).name == "pia"
    refused = picycle("user", "revoke", "ada", "--as", "pia")
    assert refused.stderr == "error: only an admin or ada themself may revoke their tokens\n"
    assert picycle("user", "token", "ada", "--as", "pia").exit_code == 1
    revoked = picycle("user", "revoke", "pia", "--as", "pia")
    assert revoked.stdout == "revoked 2 token(s) of pia\n"
    with engine.unit_of_work(write=False) as uow:
        assert users.authenticate(uow, token) is None
    assert picycle("user", "revoke", "ghost").stderr == "error: there is no user called ghost\n"


def test_user_revoke_token_ends_one_token_listed_by_user_tokens(picycle, engine, started):
    kept = picycle("user", "token", "pia", "--as", "pia").stdout.strip()
    listed = json.loads(picycle("user", "tokens", "pia", "--as", "pia", "--json").stdout)
    assert [set(t) for t in listed] == [{"id", "created_at", "revoked_at"}] * 2
    new, leaked = (t["id"] for t in listed)
    revoked = picycle("user", "revoke-token", "PIA", str(leaked), "--as", "pia")
    assert revoked.stdout == f"revoked token {leaked} of pia\n"
    with engine.unit_of_work(write=False) as uow:
        assert users.authenticate(uow, kept).name == "pia"
    count, header, *rows = picycle("user", "tokens", "pia").stdout.splitlines()
    assert (count, header.split()) == ("2 token(s)", ["id", "issued", "revoked"])
    # id, issued (date and time), revoked (date and time, or -)
    assert [(r.split()[0], len(r.split())) for r in rows] == [(str(new), 4), (str(leaked), 5)]
    again = picycle("user", "revoke-token", "pia", str(leaked))
    assert again.exit_code == 1
    assert again.stderr.startswith(f"error: token #{leaked} of pia was revoked already, at ")
    refused = picycle("user", "revoke-token", "ada", str(new), "--as", "pia")
    assert refused.stderr == "error: only an admin or ada themself may revoke their tokens\n"
    elsewhere = picycle("user", "revoke-token", "ada", str(new))
    assert elsewhere.stderr == f"error: ada has no token #{new}\n"
    assert picycle("user", "tokens", "ada", "--as", "pia").exit_code == 1
    for not_an_id in ("0", "x", "2147483648"):
        assert picycle("user", "revoke-token", "pia", not_an_id).exit_code == 2, not_an_id


def test_user_link_ties_a_user_to_their_identity_at_the_provider(picycle, started):
    issuer = "https://id.ministry.example"
    linked = picycle("user", "link", "PIA", "--issuer", issuer, "--subject", "pia-sub")
    assert linked.stdout == f"pia is linked to pia-sub at {issuer}\n"
    taken = picycle("user", "link", "ada", "--issuer", issuer, "--subject", "pia-sub")
    assert (taken.exit_code, taken.stderr) == (
        1,
        f"error: the identity pia-sub at {issuer} is already linked to pia; unlink pia first\n",
    )
    refused = picycle("user", "unlink", "pia", "--as", "pia")
    assert refused.stderr == (
        "error: only an admin may unlink users from single sign-on; pia is a member\n"
    )
    unlinked = picycle("user", "unlink", "pia", "--as", "ada")
    assert unlinked.stdout == f"pia is no longer linked to pia-sub at {issuer}\n"
    assert picycle("user", "unlink", "pia").stderr == "error: pia is not linked to single sign-on\n"
    assert picycle("user", "link", "pia", "--issuer", issuer).exit_code == 2


# --- tasks ------------------------------------------------------------------------------------


def test_a_held_task_is_given_back(picycle, started):
    picycle("user", "add", "pete", "--group", "PI Unit")
    picycle("task", "claim", started, "--as", "pia")
    refused = picycle("task", "unclaim", started, "--as", "pete")
    assert refused.exit_code == 1 and "pia" in refused.stderr
    given_back = picycle("task", "unclaim", started, "--as", "pia")
    assert given_back.stdout == "'Assess performance' is back with PI Unit; nobody holds it\n"
    assert f"{started}  Assess performance  [PI Unit]" in picycle("cycle", "show", "1").output
    assert picycle("task", "unclaim", started).exit_code == 2  # --as is required
    unknown = picycle("task", "unclaim", "nope", "--as", "pia")
    assert unknown.exit_code == 1 and len(unknown.stderr.splitlines()) == 1


def test_a_comment_is_kept_and_shown_with_the_task(picycle, started):
    added = picycle("task", "comment", started, "--as", "pia", "--text", "Figures from March")
    assert added.stdout == f"comment #1 by pia on task {started}\n"
    shown = picycle("task", "show", started, "--as", "pia").stdout.splitlines()
    assert shown[-2] == "  comments: 1"
    assert shown[-1].endswith("  pia: Figures from March")
    auditor = picycle("task", "comment", started, "--as", "audrey", "--text", "x")
    assert auditor.stderr.startswith("error: auditors read but do not change anything")
    assert picycle("task", "comment", started, "--as", "pia").exit_code == 2  # no --text


def test_task_show_prints_the_whole_form_and_an_example_to_fill_in(picycle, started):
    shown = picycle("task", "show", started, "--as", "pia")
    assert shown.exit_code == 0, shown.output
    lines = shown.stdout.splitlines()
    assert "  form: Assess performance (forms/assess-performance.schema.json)" in lines
    for line in [
        '    unit: Unit  [text, read-only, not empty] = "Planning"',
        "    indicators: Indicators  [required, list of Indicator, at least 1 item]",
        "      key: Indicator key  [required, text, 1 to 40 characters, like ^[a-z][a-z0-9_]*$]",
        "      direction: Better when  [required, one of: increase, decrease]",
        "      baseline: Baseline  [required, number]",
        "      target: Target  [required, number]",
    ]:
        assert line in lines
    start = lines.index("  example --data (fill in the values; give it inline or as @FILE):")
    example = json.loads("\n".join(lines[start + 1 :]))
    assert example == {
        "indicators": [
            {
                "key": "",
                "name": "",
                "unit": "",
                "direction": "increase|decrease",
                "baseline": None,
                "target": None,
            }
        ]
    }
    # Its placeholders never pass: a value left unfilled is refused, not recorded.
    unfilled = picycle("task", "complete", started, "--as", "pia", "--data", json.dumps(example))
    assert unfilled.exit_code == 1 and "indicators.0.direction" in unfilled.stderr


def test_task_show_json_is_the_task_and_its_comments(picycle, started):
    shown = json.loads(picycle("task", "show", started, "--as", "pia", "--json").stdout)
    assert shown["task"]["title"] == "Assess performance" and shown["comments"] == []
    assert shown["task"]["form_schema"]["properties"]["indicators"]["minItems"] == 1


# --- cycles -----------------------------------------------------------------------------------


def test_cycle_history_is_readable_lines_for_those_taking_part(picycle, started):
    picycle("task", "claim", started, "--as", "pia")
    picycle("task", "complete", started, "--as", "pia", "--data", ASSESSMENT)
    history = picycle("cycle", "history", "1", "--as", "pia")
    assert history.exit_code == 0, history.output
    lines = history.stdout.splitlines()
    assert lines[0] == "cycle 1: 5 event(s)"
    assert lines[1].split() == ["time", "actor", "event", "task", "data"]
    started_line, created, claimed, completed, next_task = lines[2:]
    assert started_line.split()[2:4] == ["pia", "cycle_started"]
    assert '"unit": "Planning"' in started_line
    assert "task_claimed    Assess performance (assess_performance)" in claimed
    assert 'task_completed  Assess performance (assess_performance)  {"indicators": [' in completed
    events = json.loads(picycle("cycle", "history", "1", "--as", "audrey", "--json").stdout)
    assert [e["type"] for e in events][-1] == "task_created"
    picycle("user", "add", "omar", "--group", "Leadership")  # no task of theirs is open yet
    outsider = picycle("cycle", "history", "1", "--as", "omar")
    assert outsider.stderr == "error: omar takes no part in cycle #1\n"
    assert picycle("cycle", "history", "9").stderr == "error: there is no cycle #9\n"
    assert picycle("cycle", "history", "one").exit_code == 2


def test_cycle_show_prints_what_the_cycle_recorded_as_tables(demo, picycle):
    demo()
    shown = picycle("cycle", "show", "1").stdout.splitlines()
    assert shown[0] == "cycle 1 (Directorate of Planning, cycle 1 of the unit): Faster permits"
    gaps = shown.index("  gaps:")
    assert shown[gaps + 1].split() == ["priority", "indicator", "gap", "cause", "category"]
    assert shown[gaps + 2].split() == ["high", "permits", "10", "%", "Applications", "arrive"] + [
        "on",
        "paper",
        "tools_resources",
    ]
    microproject = next(line for line in shown if "Online permit intake" in line)
    assert microproject.split()[3:7] == ["permits", "dana", microproject.split()[5], "done"]
    evaluation = shown.index("  evaluation:")
    assert shown[evaluation + 2].split() == ["permits", "55", "->", "84", "80", "%", "yes"]
    assert "  targets met: yes" in shown
    as_json = json.loads(picycle("cycle", "show", "1", "--json").stdout)
    assert as_json["records"]["targets_met"] is True and as_json["cycle_number"] == 1


def test_cycle_list_json_is_the_page(picycle, started):
    page = json.loads(picycle("cycle", "list", "--json").stdout)
    assert page["total"] == 1 and page["items"][0]["unit"] == "Planning"


def test_a_table_lines_up_on_screen_with_wide_and_combining_characters(picycle):
    # 計画局 takes six columns on a terminal, مُدِيرِيَّة (with its vowel signs) six too:
    # each is padded up to Planning's eight, then two spaces part the columns.
    for unit in ("Planning", "計画局", "مُدِيرِيَّة"):
        picycle("unit", "add", unit)
        picycle("cycle", "start", "--unit", unit, "--title", "t")
    rows = picycle("cycle", "list").stdout.splitlines()[2:]
    # The Arabic name is isolated and its row marked left to right, invisibly (the test
    # below): on screen the columns line up as here.
    assert [row.split("1            running")[0] for row in rows] == [
        "\u200e3      \u2068مُدِيرِيَّة\u2069    ",
        "2      計画局    ",
        "1      Planning  ",
    ]


def test_a_right_to_left_row_keeps_its_columns_in_order_in_a_bidi_terminal(picycle):
    """A terminal applying the Unicode bidi algorithm would show a row whose first letter
    is Arabic right to left, and two Arabic cells side by side in swapped places: the row
    starts with a left-to-right mark and each Arabic cell is isolated (FSI ... PDI)."""
    picycle("unit", "add", "التخطيط")
    picycle("cycle", "start", "--unit", "التخطيط", "--title", "خطة الأداء")
    header, row = picycle("cycle", "list").stdout.splitlines()[1:3]
    assert "\u200e" not in header and "\u2068" not in header
    assert row.startswith("\u200e1  ")
    assert "\u2068التخطيط\u2069" in row and row.endswith("\u2068خطة الأداء\u2069")
    visible = row.replace("\u200e", "").replace("\u2068", "").replace("\u2069", "")
    assert visible.split() == [
        "1",
        "التخطيط",
        "1",
        "running",
        *visible.split()[4:6],
        "خطة",
        "الأداء",
    ]


def test_lines_naming_right_to_left_values_keep_their_order_in_a_bidi_terminal(picycle):
    """Outside tables too: a line that names an Arabic unit or title starts left to right
    and isolates each value, so the words around them stay where they are; lines without
    right-to-left text are printed as they were."""
    picycle("unit", "add", "التخطيط")
    started = picycle("cycle", "start", "--unit", "التخطيط", "--title", "خطة الأداء")
    assert started.stdout == (
        "\u200estarted cycle 1 (\u2068التخطيط\u2069, cycle 1 of the unit): \u2068خطة الأداء\u2069\n"
    )
    heading, status = picycle("cycle", "show", "1").stdout.splitlines()[:2]
    assert heading == started.stdout[len("\u200estarted ") : -1].join(["\u200e", ""])
    assert "\u200e" not in status and "\u2068" not in status
    added = picycle("user", "add", "pia", "--group", "فريق الأداء")
    assert added.stderr == (
        "\u200enote: the group '\u2068فريق الأداء\u2069' is new: no one was in it before\n"
    )
    refused = picycle("unit", "add", "التخطيط")
    assert refused.stderr.startswith("\u200eerror: \u2068") and refused.stderr.endswith("\u2069\n")


def test_migrate_all_says_when_there_is_nothing_to_migrate(picycle):
    result = picycle("cycle", "migrate", "--all", "pi_cycle")
    assert result.exit_code == 0
    assert result.stdout == "no running cycles of pi_cycle to migrate\n"
    neither = picycle("cycle", "migrate")
    assert neither.stderr == "error: name a CYCLE_ID or --all PROCESS, not both or neither\n"


def test_definition_diff_of_a_version_with_itself_says_nothing_changed(picycle):
    result = picycle("definition", "diff", "pi_cycle", "--from", "1", "--to", "1")
    assert result.stdout == (
        "pi_cycle v1 -> v1\nelements: no change\ndecision rules: no change\nforms: no change\n"
    )
    as_json = json.loads(
        picycle("definition", "diff", "pi_cycle", "--from", "1", "--to", "1", "--json").stdout
    )
    assert as_json["elements"] == {"added": [], "removed": [], "changed": []}


# --- the worker -------------------------------------------------------------------------------


def test_worker_once_says_what_it_fired(picycle, monkeypatch):
    assert picycle("worker", "--once").stdout == "no timers due\n"
    monkeypatch.setattr(worker_module.timers, "fire_due_timers", lambda engine: 2)
    assert picycle("worker", "--once").stdout == "fired 2 timer(s)\n"


def test_a_worker_logs_its_passes_rides_out_an_outage_and_stops_on_sigterm(
    picycle, monkeypatch, caplog
):
    outcomes = [0, 3, Unavailable("the database cannot be reached: gone"), 0]
    calls = []

    def one_pass(engine, stopping):
        calls.append(stopping)
        if len(calls) == len(outcomes):
            os.kill(os.getpid(), signal.SIGTERM)  # during the last pass, as systemd stops it
        outcome = outcomes[len(calls) - 1]
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    monkeypatch.setattr(worker_module.timers, "fire_due_timers", one_pass)
    before = signal.getsignal(signal.SIGTERM)
    with caplog.at_level(logging.INFO, logger="picycle.worker"):
        result = picycle("worker", "--interval", "0")
    assert result.exit_code == 0, result.output
    lines = [record.getMessage() for record in caplog.records if record.name == "picycle.worker"]
    started, unsent, fired, outage, stopped = lines
    assert started.startswith("worker ") and started.endswith(" every 0s")
    assert unsent == "PICYCLE_SMTP_HOST is not set: e-mail waits in the outbox, unsent"
    assert fired == "pass: fired 3 timer(s); 0 due left, lag 0 s"
    assert outage == "the database cannot be reached: gone; trying again after the interval"
    assert stopped == "worker stopped"
    assert len(calls) == len(outcomes) and calls[-1]()  # the last pass was told to stop
    assert signal.getsignal(signal.SIGTERM) is before


@pytest.mark.parametrize("interval", ["inf", "nan", "-1", "86401"])
def test_a_worker_interval_it_cannot_wait_is_a_usage_error(picycle, interval, monkeypatch):
    # Without the check, inf overflowed the clock after the first pass and nan never
    # woke the worker again.
    monkeypatch.setattr(worker_module, "run_worker", lambda *args: pytest.fail("it ran"))
    refused = picycle("worker", "--interval", interval)
    assert refused.exit_code == 2
    assert "Invalid value for '--interval'" in refused.stderr


@pytest.mark.parametrize("grace", ["nan", "-1", "3601"])
def test_a_grace_a_stopping_server_cannot_keep_is_a_usage_error(picycle, grace, monkeypatch):
    monkeypatch.setattr("picycle.api.serve.serve", lambda *args, **kw: pytest.fail("served"))
    refused = picycle("serve", "--grace", grace)
    assert refused.exit_code == 2
    assert "Invalid value for '--grace'" in refused.stderr


def example_of(shown: str) -> dict:
    lines = shown.splitlines()
    start = lines.index("  example --data (fill in the values; give it inline or as @FILE):")
    return json.loads("\n".join(lines[start + 1 :]))


def test_the_example_keeps_the_starting_rows_and_adds_what_they_lack(picycle, started):
    picycle("user", "add", "dana", "--group", "Department Team")
    picycle("task", "complete", started, "--as", "pia", "--data", ASSESSMENT)
    task_id = picycle("task", "list", "--as", "dana").stdout.splitlines()[1].split()[2]
    example = example_of(picycle("task", "show", task_id, "--as", "dana").stdout)
    (row,) = example["gaps"]
    assert (row["indicator"], row["baseline"], row["target"], row["gap"]) == ("k", 1, 2, 1)
    assert (row["cause"], row["impact"], row["effort"]) == ("", None, None)
    row.update(cause="Forms on paper", cause_category="tools_resources", impact=4, effort=2)
    done = picycle("task", "complete", task_id, "--as", "dana", "--data", json.dumps(example))
    assert done.exit_code == 0, done.output


@pytest.mark.parametrize(
    "command",
    [
        ("cycle", "show", "ID"),
        ("cycle", "history", "ID"),
        ("cycle", "cancel", "ID", "--reason", "x"),
        ("cycle", "plan", "ID", "--title", "x"),
        ("cycle", "unplan", "ID", "--reason", "x"),
        ("task", "list", "--cycle", "ID"),
        ("audit", "export", "--cycle", "ID"),
        ("incident", "show", "ID"),
        ("evidence", "save", "some-task", "ID", "-o", "x"),
        ("report", "ID", "-o", "x.pdf"),
        ("definition", "diff", "pi_cycle", "--from", "1", "--to", "ID"),
    ],
)
def test_an_id_the_database_cannot_hold_is_a_usage_error(picycle, command, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # where the commands that write a file would write it
    fitting = picycle(*["1" if word == "ID" else word for word in command])
    assert fitting.exit_code in (0, 1), fitting.output  # the command as such is well formed
    for not_an_id in ("0", "2147483648", "99999999999"):
        typed = [not_an_id if word == "ID" else word for word in command]
        answer = picycle(*typed)
        assert answer.exit_code == 2, (typed, answer.output)
        assert "Traceback" not in answer.output
