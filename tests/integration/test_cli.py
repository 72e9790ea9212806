"""The ``picycle`` command line, on both databases."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from picycle.cli.main import main
from sqlalchemy import text


@pytest.fixture
def picycle(engine, database_url):
    runner = CliRunner()

    def run(*args: str):
        return runner.invoke(main, list(args), env={"PICYCLE_DATABASE_URL": database_url})

    return run


def test_init_is_idempotent(picycle):
    result = picycle("init")
    assert result.exit_code == 0, result.output
    assert "unchanged" in result.output


def test_user_add_prints_the_token_alone(picycle, engine):
    result = picycle("user", "add", "pia", "--role", "member", "--group", "PI Unit")
    assert result.exit_code == 0
    token = result.stdout.strip()
    assert token.startswith("pic_") and "\n" not in token
    from picycle.engine.services import users

    with engine.unit_of_work(write=False) as uow:
        assert users.authenticate(uow, token).groups == frozenset({"PI Unit"})


def test_a_cycle_is_worked_from_the_command_line(picycle, tmp_path):
    picycle("user", "add", "pia", "--group", "PI Unit")
    started = picycle("cycle", "start", "--unit", "Planning", "--title", "Permits", "--as", "pia")
    assert started.exit_code == 0 and "cycle 1" in started.output
    listed = picycle("task", "list", "--as", "pia")
    assert "Assess performance" in listed.output
    task_id = listed.output.splitlines()[1].split()[2]
    data = tmp_path / "assessment.json"
    data.write_text(
        '{"indicators": [{"key": "k", "name": "K", "unit": "%", '
        '"direction": "increase", "baseline": 1, "target": 2}]}'
    )
    done = picycle("task", "complete", task_id, "--as", "pia", "--data", f"@{data}")
    assert done.exit_code == 0, done.output
    shown = picycle("cycle", "show", "1")
    assert "Identify gaps" in shown.output and '"key": "k"' in shown.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("cycle", "show", "99"), "error: there is no cycle #99"),
        (("task", "complete", "x", "--as", "ghost", "--data", "{}"), "no user called ghost"),
        (("deploy", "/nonexistent"), "is not a folder"),
        (("cycle", "start", "--unit", " ", "--title", "t"), "unit must not be empty"),
    ],
)
def test_bad_input_is_one_line_on_stderr_and_a_failure(picycle, args, message):
    result = picycle(*args)
    assert result.exit_code == 1
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert result.stdout == ""


def test_the_demo_drives_a_whole_cycle(picycle):
    result = picycle("demo")
    assert result.exit_code == 0, result.output
    assert "refused:" in result.output and "too big" in result.output
    assert "leadership sent the design back" in result.output
    assert "targets not met: back to gap analysis" in result.output
    assert "is completed; targets met: True" in result.output


def test_the_audit_trail_is_verified_and_exported(picycle, engine):
    picycle("demo")
    verified = picycle("audit", "verify")
    assert verified.exit_code == 0 and "intact" in verified.output
    lines = picycle("audit", "export", "--format", "jsonl", "--type", "task_completed")
    assert lines.exit_code == 0
    assert {json.loads(line)["type"] for line in lines.stdout.splitlines()} == {"task_completed"}
    with engine.database.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(text("ALTER TABLE audit_events DISABLE TRIGGER USER"))
        else:
            connection.execute(text("DROP TRIGGER audit_events_no_update"))
        connection.execute(text("UPDATE audit_events SET actor = 'mallory' WHERE seq = 7"))
    broken = picycle("audit", "verify")
    assert broken.exit_code == 1
    assert "NOT intact: event 7" in broken.output


def test_an_admin_deploys_a_changed_model_and_moves_the_cycles(picycle, tmp_path):
    import shutil

    from picycle.engine.bundles import shipped_processes

    picycle("user", "add", "pia", "--group", "PI Unit")
    picycle("cycle", "start", "--unit", "Planning", "--title", "Permits", "--as", "pia")
    draft = tmp_path / "draft"
    shutil.copytree(shipped_processes(), draft)
    bpmn = draft / "pi_cycle.bpmn"
    bpmn.write_text(bpmn.read_text().replace("approved == False", "${approved} === false"))
    refused = picycle("deploy", str(draft))
    assert refused.exit_code == 1
    assert "error: pi_cycle.bpmn:" in refused.stderr and "JUEL" in refused.stderr
    bpmn.write_text(
        bpmn.read_text()
        .replace("${approved} === false", "approved == False")
        .replace('name="Leadership approval"', 'name="Approve the design"')
    )
    assert "valid: nothing deployed" in picycle("deploy", str(draft), "--dry-run").output
    assert "deployed pi_cycle version 2" in picycle("deploy", str(draft)).output
    diff = json.loads(picycle("definition", "diff", "pi_cycle", "--from", "1", "--to", "2").stdout)
    assert [e["name"] for e in diff["elements"]["changed"]] == ["Approve the design"]
    dry = picycle("cycle", "migrate", "--all", "pi_cycle", "--dry-run")
    assert "cycle #1 v1 -> v2: can move" in dry.output
    moved = picycle("cycle", "migrate", "1")
    assert "cycle #1 v1 -> v2: moved" in moved.output
    assert "pi_cycle v2" in picycle("definition", "list").output
