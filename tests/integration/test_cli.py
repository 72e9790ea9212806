"""The ``picycle`` command line, on both databases."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from picycle.cli.main import main
from picycle.engine import Engine
from picycle.engine.actors import SYSTEM
from picycle.engine.bundles import shipped_processes
from picycle.engine.repository import CycleRepository
from picycle.engine.services import audit, cycles, users
from sqlalchemy import text

from tests.spinning import OVERSIZED, PROCESS, bundle

ASSESSMENT = json.dumps(
    {
        "indicators": [
            {
                "key": "k",
                "name": "K",
                "unit": "%",
                "direction": "increase",
                "baseline": 1,
                "target": 2,
            }
        ]
    }
)


# Stand-ins in a command's arguments, for the started task's id and the shipped bundle.
TASK, BUNDLE = "<task>", "<bundle>"


def filled(args, task: str) -> list[str]:
    stand_ins = {TASK: task, BUNDLE: str(shipped_processes())}
    return [stand_ins.get(arg, arg) for arg in args]


def database_state(engine: Engine) -> dict:
    """Everything a command could change, read straight from the tables."""
    queries = {
        "cycles": "SELECT id, status, revision, audit_length, audit_head, data, state "
        "FROM cycles ORDER BY id",
        "tasks": "SELECT id, state, claimed_by, completed_by, form_data FROM tasks ORDER BY id",
        "timers": "SELECT task_id, due_at FROM pending_timers ORDER BY task_id",
        "events": "SELECT seq, chain, hash FROM audit_events ORDER BY seq",
        "chains": "SELECT chain, length, head_hash FROM audit_chains ORDER BY chain",
        "definitions": "SELECT process_id, version FROM process_definitions ORDER BY id",
        "users": "SELECT name, role, active FROM users ORDER BY name",
    }
    with engine.database.connect() as connection:
        return {name: connection.execute(text(sql)).all() for name, sql in queries.items()}


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
    picycle("unit", "add", "Planning")
    picycle("user", "add", "pia", "--group", "PI Unit")
    started = picycle("cycle", "start", "--unit", "Planning", "--title", "Permits", "--as", "pia")
    assert started.exit_code == 0 and "cycle 1" in started.output
    listed = picycle("task", "list", "--as", "pia")
    assert "Assess performance" in listed.output
    (task_id,) = picycle("task", "list", "--as", "pia", "--ids").stdout.split()
    assert task_id in listed.output
    data = tmp_path / "assessment.json"
    data.write_text(
        '{"indicators": [{"key": "k", "name": "K", "unit": "%", '
        '"direction": "increase", "baseline": 1, "target": 2}]}'
    )
    done = picycle("task", "complete", task_id, "--as", "pia", "--data", f"@{data}")
    assert done.exit_code == 0, done.output
    shown = picycle("cycle", "show", "1").output.splitlines()
    indicators = shown.index("  indicators:")
    assert shown[indicators + 1].split() == ["key", "indicator", "baseline", "->", "target"] + [
        "unit",
        "better",
        "when",
    ]
    assert shown[indicators + 2].split() == ["k", "K", "1", "->", "2", "%", "higher"]
    assert "Identify gaps  [Department Team]" in shown[-1]


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


def test_deploy_refuses_a_link_out_of_the_bundle_and_publishes_nothing(picycle, tmp_path):
    import shutil

    secret = tmp_path / "secret.schema.json"
    secret.write_text('{"type": "object", "description": "secret-5e1d"}')
    draft = tmp_path / "draft"
    shutil.copytree(shipped_processes(), draft)
    form = draft / "forms" / "leadership-approval.schema.json"
    form.unlink()
    form.symlink_to(secret)
    refused = picycle("deploy", str(draft))
    assert refused.exit_code == 1
    assert "forms/leadership-approval.schema.json" in refused.stderr
    assert "symbolic link" in refused.stderr
    listed = picycle("definition", "list").output
    assert "pi_cycle v1" in listed and "v2" not in listed


def test_the_demo_drives_a_whole_cycle(demo, picycle):
    result = demo()
    assert result.exit_code == 0, result.output
    assert "refused:" in result.output and "too big" in result.output
    assert "leadership sent the design back" in result.output
    assert "targets not met: back to gap analysis" in result.output
    assert (
        "cycle 1 (Directorate of Planning, cycle 1 of the unit) is completed; targets met: True"
        in result.output
    )
    # The next cycle aims higher and ends without meeting every target; a third runs.
    assert (
        "cycle 2 (Directorate of Planning, cycle 2 of the unit) is completed; targets met: False"
        in result.output
    )
    assert "pia opens cycle 3 (Directorate of Planning, cycle 3 of the unit)" in result.output


def test_the_demo_runs_on_a_fresh_database_of_its_own(picycle, engine, tmp_path, monkeypatch):
    monkeypatch.setenv("PICYCLE_DATA_DIR", str(tmp_path / "data"))
    demo_db = tmp_path / "data" / "demo.db"
    for _ in range(2):
        result = picycle("demo")
        assert result.exit_code == 0, result.output
        assert result.stdout.startswith(f"demo database: sqlite:///{demo_db} (made afresh")
        assert "pia opens cycle 1 (Directorate of Planning, cycle 1 of the unit)" in result.stdout
        assert f"PICYCLE_DATABASE_URL=sqlite:///{demo_db} picycle cycle show 1" in result.stdout
        assert "warning" not in result.output
    with engine.unit_of_work(write=False) as uow:
        assert cycles.list_cycles(uow, SYSTEM).total == 0
        assert users.list_users(uow, SYSTEM) == []


def test_the_demo_refuses_a_database_that_holds_cycles(demo, picycle):
    assert demo().exit_code == 0
    again = demo()
    assert again.exit_code == 1
    assert "the demo needs a database without cycles" in again.stderr


def test_the_audit_trail_is_verified_and_exported(demo, picycle, engine):
    demo()
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
        seventh = connection.scalar(
            text("SELECT seq FROM audit_events ORDER BY seq LIMIT 1 OFFSET 6")
        )
        connection.execute(text(f"UPDATE audit_events SET actor = 'mallory' WHERE seq = {seventh}"))
    broken = picycle("audit", "verify")
    assert broken.exit_code == 1
    assert f"NOT intact: event {seventh}" in broken.output


def test_an_admin_deploys_a_changed_model_and_moves_the_cycles(picycle, tmp_path):
    import shutil

    from picycle.engine.bundles import shipped_processes

    picycle("unit", "add", "Planning")
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
    diff = picycle("definition", "diff", "pi_cycle", "--from", "1", "--to", "2").stdout
    assert "elements: 1 changed\n  ~ userTask leadership_approval  'Approve the design'\n" in diff
    dry = picycle("cycle", "migrate", "--all", "pi_cycle", "--dry-run")
    assert "cycle 1 v1 -> v2: can move" in dry.output
    moved = picycle("cycle", "migrate", "1")
    assert "cycle 1 v1 -> v2: moved" in moved.output
    assert "pi_cycle v2" in picycle("definition", "list").output


def test_tasks_are_shown_and_claimed_and_cycles_listed_and_cancelled(picycle, started):
    shown = picycle("task", "show", started, "--as", "pia")
    assert shown.exit_code == 0, shown.output
    assert shown.output.splitlines()[0] == f"{started}  Assess performance  [PI Unit]"
    assert "  state: open, created " in shown.output
    assert '    unit: Unit  [text, read-only, not empty] = "Planning"' in shown.output
    claimed = picycle("task", "claim", started, "--as", "pia")
    assert claimed.stdout == "pia holds 'Assess performance'\n"
    assert f"{started}  Assess performance  [pia]" in picycle("cycle", "show", "1").output
    running = picycle("cycle", "list", "--status", "running")
    assert running.output.splitlines()[0] == "1 cycle(s)"
    assert running.output.splitlines()[2].split()[:4] == ["1", "Planning", "1", "running"]
    assert picycle("cycle", "list", "--status", "cancelled").output == "0 cycle(s)\n"
    assert picycle("cycle", "list", "--status", "paused").exit_code == 2
    # A unit filter is found however its name is written, and a misspelt one is said so.
    assert picycle("cycle", "list", "--unit", "Ｐｌａｎｎｉｎｇ").output.startswith("1 ")
    misspelt = picycle("cycle", "list", "--unit", "Planing")
    assert (misspelt.exit_code, misspelt.stdout) == (1, "")
    assert misspelt.stderr == "error: there is no unit 'Planing'\n"
    refused = picycle("cycle", "cancel", "1", "--reason", "Wrong unit", "--as", "pia")
    assert refused.exit_code == 1 and "only an admin may cancel" in refused.stderr
    cancelled = picycle("cycle", "cancel", "1", "--reason", "Wrong unit", "--as", "ada")
    assert cancelled.stdout == "cancelled cycle 1 (Planning, cycle 1 of the unit)\n"
    shown = picycle("cycle", "show", "1").output
    assert "\n  cancelled: started " in shown and "  open tasks: 0" in shown


def test_a_refused_export_writes_nothing(picycle, started, tmp_path):
    target = tmp_path / "events.csv"
    refused = picycle("audit", "export", "--format", "csv", "-o", str(target), "--as", "pia")
    assert refused.exit_code == 1
    assert "only auditors and admins read the whole audit trail" in refused.stderr
    assert not target.exists()
    exported = picycle(
        "audit", "export", "--format", "csv", "--type", "cycle_started", "--as", "ada"
    )
    header, row = exported.stdout.splitlines()
    assert header.startswith("seq,at,actor,type") and ",pia,cycle_started,1," in row


def test_an_export_failing_half_way_leaves_the_file_as_it_was(
    picycle, started, tmp_path, monkeypatch
):
    target = tmp_path / "exports" / "events.csv"
    target.parent.mkdir()
    target.write_text("the previous export\n")

    def broken(events):
        yield "seq,at\n"
        raise OSError("the database went away")

    monkeypatch.setitem(audit.EXPORT_FORMATS, "csv", (broken, "text/csv", "csv"))
    failed = picycle("audit", "export", "--format", "csv", "-o", str(target), "--as", "ada")
    assert failed.exit_code != 0
    assert target.read_text() == "the previous export\n"
    assert [p.name for p in target.parent.iterdir()] == ["events.csv"]  # no partial file left


# One unit of work per command: --as is looked up in the one the service then runs in.
ONE_UNIT_OF_WORK = [
    (("cycle", "start", "--unit", "Licensing", "--title", "t", "--as", "pia"), True),
    (("cycle", "show", "1"), False),
    (("cycle", "list", "--status", "running"), False),
    (("cycle", "cancel", "1", "--reason", "r", "--as", "ada"), True),
    (("cycle", "migrate", "1", "--dry-run", "--as", "ada"), True),
    (("task", "list", "--as", "pia"), False),
    (("task", "show", TASK, "--as", "pia"), False),
    (("task", "claim", TASK, "--as", "pia"), True),
    (("task", "complete", TASK, "--as", "pia", "--data", ASSESSMENT), True),
    (("deploy", BUNDLE, "--dry-run", "--as", "ada"), True),
    (("definition", "list"), False),
    (("definition", "diff", "pi_cycle", "--from", "1", "--to", "1"), False),
    (("audit", "verify", "--as", "audrey"), False),
    (("audit", "export", "--as", "audrey"), False),
    (("user", "add", "omar", "--group", "Department Team"), True),
    (("user", "list", "--as", "ada"), False),
    (("user", "groups", "--as", "ada"), False),
    (("user", "change", "pia", "--group", "Leadership", "--as", "ada"), True),
    (("user", "token", "pia", "--as", "pia"), True),
    (("user", "revoke", "pia", "--as", "pia"), True),
    (("user", "tokens", "pia", "--as", "pia"), False),
    (("task", "comment", TASK, "--as", "pia", "--text", "t"), True),
    (("cycle", "history", "1", "--as", "pia"), False),
]


@pytest.mark.parametrize(
    ("args", "write"), ONE_UNIT_OF_WORK, ids=[" ".join(args[:2]) for args, _ in ONE_UNIT_OF_WORK]
)
def test_a_command_runs_in_one_unit_of_work(picycle, started, monkeypatch, args, write):
    opened, looked_up = [], []
    open_unit_of_work = Engine.unit_of_work
    actor_named = users.actor_named

    def spied_unit_of_work(self, write=True):
        uow = open_unit_of_work(self, write)
        opened.append((write, uow))
        return uow

    def spied_actor_named(uow, name):
        looked_up.append(uow)
        return actor_named(uow, name)

    monkeypatch.setattr(Engine, "unit_of_work", spied_unit_of_work)
    monkeypatch.setattr(users, "actor_named", spied_actor_named)
    result = picycle(*filled(args, started))
    assert result.exit_code == 0, result.output
    assert [w for w, _ in opened] == [write]
    assert looked_up == ([opened[0][1]] if "--as" in args else [])


WRITES_AS_PIA = [
    ("task", "claim", TASK, "--as", "pia"),
    ("task", "complete", TASK, "--as", "pia", "--data", ASSESSMENT),
    ("cycle", "start", "--unit", "Licensing", "--title", "t", "--as", "pia"),
]


def test_a_deactivated_user_is_refused_and_changes_nothing(picycle, engine, started):
    with engine.unit_of_work() as uow:
        users.update_user(uow, SYSTEM, "pia", active=False)
    before = database_state(engine)
    for args in [*WRITES_AS_PIA, ("task", "show", TASK, "--as", "pia")]:
        result = picycle(*filled(args, started))
        assert result.exit_code == 1, args
        assert result.stderr == "error: user pia is deactivated\n"
        assert result.stdout == ""
    assert database_state(engine) == before


def test_an_unknown_as_name_changes_nothing(picycle, engine, started):
    before = database_state(engine)
    writes = [[a if a != "pia" else "ghost" for a in args] for args in WRITES_AS_PIA] + [
        ["cycle", "cancel", "1", "--reason", "r", "--as", "ghost"],
        ["deploy", str(shipped_processes()), "--as", "ghost"],
    ]
    for args in writes:
        result = picycle(*filled(args, started))
        assert result.exit_code == 1, args
        assert result.stderr == "error: there is no user called ghost\n"
        assert result.stdout == ""
    assert database_state(engine) == before


@pytest.mark.parametrize(
    ("args", "step"),
    [
        (("cycle", "start", "--unit", "Licensing", "--title", "t", "--as", "pia"), "add"),
        (("task", "complete", TASK, "--as", "pia", "--data", ASSESSMENT), "write"),
    ],
    ids=["start", "complete"],
)
def test_a_run_that_fails_midway_leaves_no_cycle_half_written(
    picycle, engine, started, monkeypatch, args, step
):
    """The cycle's row and task rows are written, then the run fails before the rest (its
    audit events, the commit): none of it stays."""
    args = filled(args, started)
    before = database_state(engine)
    written = getattr(CycleRepository, step)

    def write_then_fail(self, *arguments):
        written(self, *arguments)
        raise RuntimeError("the disk is full")

    with monkeypatch.context() as patch:
        patch.setattr(CycleRepository, step, write_then_fail)
        failed = picycle(*args)
    assert failed.exit_code == 1 and isinstance(failed.exception, RuntimeError)
    assert failed.stdout == ""
    assert database_state(engine) == before
    assert picycle(*args).exit_code == 0
    assert database_state(engine) != before
    assert picycle("audit", "verify").output.endswith("intact\n")


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("system", "error: name 'system' is reserved"),
        ("a/b", "not U+002F SOLIDUS"),
        ("pia\n", "not U+000A"),
        (" pia", "not U+0020 SPACE"),
        ("p\u0456a", "not U+0456 CYRILLIC SMALL LETTER BYELORUSSIAN-UKRAINIAN I"),
    ],
)
def test_user_add_refuses_a_hostile_name_in_one_line(picycle, engine, name, message):
    before = database_state(engine)
    result = picycle("user", "add", name)
    assert result.exit_code == 1
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert result.stdout == ""
    assert database_state(engine) == before


def test_as_finds_a_user_however_the_name_is_written(picycle):
    picycle("unit", "add", "Planning")
    picycle("user", "add", "Pia", "--group", "PI Unit")
    result = picycle("cycle", "start", "--unit", "Planning", "--title", "t", "--as", "PIA")
    assert result.exit_code == 0, result.output
    assert picycle("cycle", "show", "1").exit_code == 0
    assert picycle("user", "add", "pia").stderr == "error: there is already a user called pia\n"


def test_the_command_line_acts_as_system_which_no_user_can_be(picycle, engine, started):
    result = picycle("cycle", "cancel", "1", "--reason", "Wrong unit", "--as", "system")
    assert result.stderr == "error: there is no user called system\n"
    assert picycle("cycle", "cancel", "1", "--reason", "Wrong unit").exit_code == 0
    with engine.unit_of_work(write=False) as uow:
        (event,) = [
            e for e in audit.cycle_history(uow, SYSTEM, 1).items if e.type == "cycle_cancelled"
        ]
    assert event.actor == "system"


def test_user_token_issues_a_new_token_after_reactivation(picycle, engine):
    old = picycle("user", "add", "pia").stdout.strip()
    with engine.unit_of_work() as uow:
        users.update_user(uow, SYSTEM, "pia", active=False)
    with engine.unit_of_work() as uow:
        users.update_user(uow, SYSTEM, "pia", active=True)
    result = picycle("user", "token", "PIA")
    assert result.exit_code == 0, result.output
    new = result.stdout.strip()
    with engine.unit_of_work(write=False) as uow:
        assert users.authenticate(uow, old) is None
        assert users.authenticate(uow, new).name == "pia"


def test_an_admin_sees_and_dismisses_an_incident_from_the_command_line(picycle, tmp_path):
    bundle_folder = tmp_path / "spinning"
    for name, content in bundle(OVERSIZED).items():
        (bundle_folder / name).parent.mkdir(parents=True, exist_ok=True)
        (bundle_folder / name).write_bytes(content)
    picycle("unit", "add", "Roads")
    picycle("user", "add", "pia", "--group", "PI Unit")
    picycle("user", "add", "ada", "--role", "admin")
    assert picycle("deploy", str(bundle_folder)).exit_code == 0
    started = picycle(
        "cycle", "start", "--unit", "Roads", "--title", "Spin", "--process", PROCESS, "--as", "pia"
    )
    assert started.exit_code == 0, started.output
    task_id = picycle("task", "list", "--as", "pia").output.splitlines()[1].split()[2]
    failed = picycle("task", "complete", task_id, "--as", "pia", "--data", '{"note": "x"}')
    assert failed.exit_code == 1
    assert "'spin'" in failed.stderr and "(incident #1 raised for an admin)" in failed.stderr
    refused = picycle("incident", "list", "--as", "pia")
    assert refused.exit_code == 1 and "only an admin" in refused.stderr
    listed = picycle("incident", "list", "--as", "ada").output
    assert "1 incident(s)" in listed and "#1  cycle 1  spin  complete_task  open" in listed
    shown = picycle("incident", "show", "1", "--as", "ada").output
    assert "attempted by pia" in shown and "limit: PICYCLE_MODEL_MAX_ITEMS" in shown
    dismissed = picycle("incident", "dismiss", "1", "--reason", "fixing it", "--as", "ada")
    assert dismissed.exit_code == 0 and "incident #1 dismissed" in dismissed.output
    assert "0 incident(s)" in picycle("incident", "list", "--as", "ada").output
    assert "dismissed by ada" in picycle("incident", "show", "1", "--as", "ada").output


AUDIT_KEY = "0123456789abcdef" * 4


def test_the_trail_is_sealed_and_verified_against_the_seal(
    demo, picycle, engine, tmp_path, monkeypatch
):
    monkeypatch.setenv("PICYCLE_AUDIT_KEY", AUDIT_KEY)
    demo()
    seal_file = tmp_path / "seal.json"
    sealed = picycle("audit", "seal", "-o", str(seal_file))
    assert sealed.exit_code == 0, sealed.output
    assert "with the audit key" in sealed.stderr
    document = json.loads(seal_file.read_text())
    assert document["key_sealed"] and {"global", "cycle:1"} <= {
        c["chain"] for c in document["chains"]
    }
    verified = picycle("audit", "verify", "--against", str(seal_file))
    assert verified.exit_code == 0 and verified.stdout.splitlines()[-1] == "intact"
    assert "no audit key" not in verified.stdout
    with engine.database.begin() as connection:
        if connection.dialect.name == "postgresql":
            for table in ("audit_events", "cycles"):
                connection.execute(text(f"ALTER TABLE {table} DISABLE TRIGGER USER"))
        else:
            for name in ("audit_events_no_delete", "cycles_audit_head_update"):
                connection.execute(text(f"DROP TRIGGER {name}"))
        connection.execute(text("DELETE FROM audit_events WHERE cycle_id = 1"))
        connection.execute(text("UPDATE cycles SET audit_length = 0 WHERE id = 1"))
    broken = picycle("audit", "verify", "--against", str(seal_file))
    assert broken.exit_code == 1
    assert "chain cycle:1 records no events" in broken.stdout
    assert "chain cycle:1 held" in broken.stdout and "events were deleted" in broken.stdout


def test_without_an_audit_key_verify_warns_that_heads_are_not_key_sealed(demo, picycle):
    demo()
    verified = picycle("audit", "verify")
    assert verified.exit_code == 0
    assert "warning: no audit key (PICYCLE_AUDIT_KEY)" in verified.stdout
    sealed = picycle("audit", "seal")
    assert "WITHOUT an audit key" in sealed.stderr
    assert not json.loads(sealed.stdout)["key_sealed"]


@pytest.mark.parametrize(
    "setting, message",
    [
        ({"PICYCLE_AUDIT_KEY": "short"}, "the audit key has 5 bytes, at least 32"),
        ({"PICYCLE_AUDIT_KEY_FILE": "/nonexistent/key"}, "cannot read the audit key from"),
        (
            {"PICYCLE_AUDIT_KEY": AUDIT_KEY, "PICYCLE_AUDIT_KEY_FILE": "/etc/hostname"},
            "set PICYCLE_AUDIT_KEY or PICYCLE_AUDIT_KEY_FILE, not both",
        ),
    ],
)
def test_a_bad_audit_key_setting_is_one_clear_error(picycle, monkeypatch, setting, message):
    for name, value in setting.items():
        monkeypatch.setenv(name, value)
    result = picycle("audit", "verify")
    assert result.exit_code == 1
    assert message in result.stderr


def test_the_audit_key_is_read_from_a_file(demo, picycle, tmp_path, monkeypatch):
    key_file = tmp_path / "audit.key"
    key_file.write_text(AUDIT_KEY + "\n")
    monkeypatch.setenv("PICYCLE_AUDIT_KEY_FILE", str(key_file))
    demo()
    verified = picycle("audit", "verify")
    assert verified.exit_code == 0 and "no audit key" not in verified.stdout


def test_a_file_that_is_no_seal_document_is_refused(picycle, tmp_path):
    not_a_seal = tmp_path / "seal.json"
    not_a_seal.write_text('{"format": "something else"}')
    result = picycle("audit", "verify", "--against", str(not_a_seal))
    assert result.exit_code == 1
    assert "not a seal document" in result.stderr and "format" in result.stderr


def test_units_are_added_listed_as_a_tree_and_hold_memberships(picycle, engine):
    assert picycle("unit", "add", "Ministry").exit_code == 0
    added = picycle("unit", "add", "Planning", "--parent", "Ministry")
    assert added.stdout == "added unit #2: Ministry / Planning\n"
    picycle("unit", "add", "Finance", "--parent", "1")
    assert picycle("unit", "list").stdout == "#1  Ministry\n  #3  Finance\n  #2  Planning\n"
    moved = picycle("unit", "change", "Finance", "--top", "--inactive")
    assert moved.stdout == "unit #3: Finance (inactive)\n"
    assert picycle("unit", "change", "Ministry", "--parent", "Planning").exit_code == 1

    picycle("user", "add", "dana", "--group", "Department Team", "--unit", "Planning")
    with engine.unit_of_work(write=False) as uow:
        assert users.actor_named(uow, "dana").unit_groups == {("Department Team", 2)}
    unpaired = picycle("user", "add", "omar", "--group", "A", "--group", "B", "--unit", "1")
    assert unpaired.exit_code != 0 and "one --unit for each --group" in unpaired.output
    unknown = picycle("user", "add", "omar", "--group", "A", "--unit", "Atlantis")
    assert unknown.stderr == "error: there is no unit 'Atlantis'\n"

    assert "Department Team in Planning" in picycle("user", "list").stdout
    moved = picycle("user", "change", "dana", "--group", "Leadership", "--unit", "Ministry")
    assert moved.stdout.endswith("groups: Leadership in Ministry\n")
    kept = picycle("user", "change", "dana", "--group", "PI Unit")  # organisation-wide, added
    assert kept.stdout.endswith("groups: Leadership in Ministry, PI Unit\n")
    assert picycle("user", "change", "dana", "--no-groups").stdout.endswith("no groups\n")


def test_cycle_start_takes_the_units_id_or_its_name(picycle):
    picycle("unit", "add", "Planning")
    started = picycle("cycle", "start", "--unit", "1", "--title", "Permits")
    assert started.stdout == "started cycle 1 (Planning, cycle 1 of the unit): Permits\n"
    # '²' is a digit to str.isdigit() but no number, and no id is that large: each can
    # only be a unit's name.
    for ref in ("²", "99999999999999999999"):
        for command in (
            ("unit", "change", ref, "--inactive"),
            ("cycle", "start", "--unit", ref, "--title", "x"),
        ):
            refused = picycle(*command)
            assert refused.exit_code == 1
            assert refused.stderr == f"error: there is no unit '{ref}'\n"


def test_a_database_picycle_init_has_not_made_is_said_in_one_line(blank_database_url):
    runner = CliRunner()
    env = {"PICYCLE_DATABASE_URL": blank_database_url}
    said = "error: the database has no picycle tables yet: run `picycle init`\n"
    for command in (("cycle", "list"), ("audit", "export", "--as", "ada")):
        refused = runner.invoke(main, list(command), env=env)
        assert refused.exit_code == 1, refused.output
        assert refused.stderr == said
    assert runner.invoke(main, ["init"], env=env).exit_code == 0
    assert runner.invoke(main, ["cycle", "list"], env=env).stdout == "0 cycle(s)\n"


def test_an_export_goes_through_a_link_and_says_when_its_folder_is_missing(
    picycle, started, tmp_path
):
    kept = tmp_path / "kept.jsonl"
    link = tmp_path / "latest.jsonl"
    link.symlink_to(kept)
    assert picycle("audit", "export", "-o", str(link), "--as", "ada").exit_code == 0
    assert link.is_symlink() and '"type": "cycle_started"' in kept.read_text()
    missing = tmp_path / "nowhere" / "events.jsonl"
    refused = picycle("audit", "export", "-o", str(missing), "--as", "ada")
    assert refused.exit_code == 1
    assert "its folder does not exist or may not be written" in refused.stderr
