"""The Alembic migrations build exactly the schema the models describe, and carry the data
of earlier revisions along."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from picycle.engine import Engine
from picycle.engine.actors import SYSTEM
from picycle.engine.audit.chain import GENESIS, chain_of, seal
from picycle.engine.audit.verify import Break
from picycle.engine.db.database import alembic_config, open_database
from picycle.engine.db.models import Base
from picycle.engine.db.types import JsonDocument, UTCDateTime
from picycle.engine.services import audit, users

BIG = 2**62 - 1


# SQLite cannot reflect an index on an expression (users' lower(name)), so it is left out
# of the comparison there; tests/integration/test_accounts.py shows it at work.
@pytest.mark.filterwarnings("ignore:.*expression-based index")
def test_migrations_match_the_models(engine):
    with engine.database.connect() as connection:
        context = MigrationContext.configure(connection)
        assert compare_metadata(context, Base.metadata) == []


# The triggers that guard the audit trail. On SQLite a migration that rebuilds one of these
# tables (batch mode) drops its triggers silently: this names any that went missing.
TRAIL_GUARDS = {
    "sqlite": {
        "audit_events_no_update",
        "audit_events_no_delete",
        "audit_chains_head_insert",
        "audit_chains_head_update",
        "audit_chains_head_delete",
        "cycles_audit_head_insert",
        "cycles_audit_head_update",
        "cycles_audit_head_delete",
    },
    "postgresql": {
        "audit_events_append_only",
        "audit_events_no_truncate",
        "audit_chains_heads",
        "audit_chains_no_truncate",
        "cycles_audit_head_insert_delete",
        "cycles_audit_head_update",
        "cycles_no_truncate",
    },
}
TRIGGER_NAMES = {
    "sqlite": "SELECT name FROM sqlite_master WHERE type = 'trigger'",
    "postgresql": "SELECT tgname FROM pg_trigger WHERE NOT tgisinternal",
}


def test_every_guard_of_the_audit_trail_is_in_place(engine):
    dialect = engine.database.dialect.name
    with engine.database.connect() as connection:
        names = set(connection.scalars(sa.text(TRIGGER_NAMES[dialect])))
    assert TRAIL_GUARDS[dialect] <= names


def test_every_write_to_who_is_who_changes_the_directory_token(engine):
    """Each of the directory's tables has its trigger (a rebuilt table would lose it), and
    a write through any of them gives a new token."""
    dialect = engine.database.dialect.name
    expected = {
        f"{table}_directory_{write}" if dialect == "sqlite" else f"{table}_directory_changed"
        for table in ("users", "memberships", "unit_paths")
        for write in ("insert", "update", "delete")
    }
    with engine.database.connect() as connection:
        assert expected <= set(connection.scalars(sa.text(TRIGGER_NAMES[dialect])))
    token = sa.text("SELECT token FROM directory_version")
    with engine.database.begin() as connection:
        before = connection.scalar(token)
        connection.execute(sa.text("UPDATE users SET language = 'nl' WHERE 1 = 0"))
        after_no_row = connection.scalar(token)
    # PostgreSQL's triggers fire once per statement, SQLite's once per row written.
    assert (after_no_row != before) == (dialect == "postgresql")
    with engine.database.begin() as connection:
        connection.execute(sa.text("DELETE FROM directory_version"))
    with engine.unit_of_work() as uow:
        users.add_user(uow, SYSTEM, "eve", "member", [])
    with engine.database.connect() as connection:
        assert connection.scalar(token) not in (None, before)  # a lost row comes back


def test_upgrading_twice_changes_nothing(engine):
    engine.upgrade_schema()
    with engine.database.connect() as connection:
        assert MigrationContext.configure(connection).get_current_revision() is not None


# --- 0005: each cycle's chain head moves onto its row -------------------------------------

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
DEPLOYMENTS = sa.table(
    "deployments",
    *(sa.column(n) for n in ("id", "content_hash", "deployed_by")),
    sa.column("deployed_at", UTCDateTime()),
)
DEFINITIONS = sa.table(
    "process_definitions",
    *(sa.column(n) for n in ("id", "process_id", "version", "name", "deployment_id", "spec")),
    sa.column("deployed_at", UTCDateTime()),
)
CYCLES = sa.table(
    "cycles",
    *(sa.column(n) for n in ("id", "definition_id", "process_id", "unit", "title")),
    *(sa.column(n) for n in ("cycle_number", "status", "started_by", "state", "revision")),
    sa.column("started_at", UTCDateTime()),
    sa.column("data", JsonDocument),
)
EVENTS = sa.table(
    "audit_events",
    *(sa.column(n) for n in ("seq", "actor", "type", "cycle_id", "task_id", "element_id")),
    *(sa.column(n) for n in ("chain", "position", "prev_hash", "hash")),
    sa.column("at", UTCDateTime()),
    sa.column("data", JsonDocument),
)
CHAINS = sa.table("audit_chains", sa.column("chain"), sa.column("length"), sa.column("head_hash"))
# (cycle or None, actor, type) in the order they happened; cycle 3 has recorded nothing.
HISTORY = [
    (None, "system", "user_created"),
    (1, "pia", "cycle_started"),
    (1, "pia", "task_created"),
    (2, "ada", "cycle_started"),
    (1, "pia", "task_completed"),
    (None, "ada", "definition_deployed"),
    (2, "ada", "task_created"),
]
REVISIONS = {1: 3, 2: 7, 3: 1}  # counted, as 0004-era code counted them


def deploy_definition_1(connection) -> None:
    """Version 1 of pi_cycle and its deployment, as any era's code wrote them."""
    connection.execute(
        sa.insert(DEPLOYMENTS).values(
            id=1, content_hash="0" * 64, deployed_by="ada", deployed_at=T0
        )
    )
    connection.execute(
        sa.insert(DEFINITIONS).values(
            id=1,
            process_id="pi_cycle",
            version=1,
            name="PI cycle",
            deployment_id=1,
            spec="{}",
            deployed_at=T0,
        )
    )


def as_0004_wrote_it(connection) -> dict[str, tuple[int, str]]:
    """Cycles and their chained events written the way 0004-era code did: each chain's head
    in ``audit_chains``. Returns the heads."""
    deploy_definition_1(connection)
    connection.execute(
        sa.insert(CYCLES),
        [
            {
                "id": cycle_id,
                "definition_id": 1,
                "process_id": "pi_cycle",
                "unit": f"Directorate {cycle_id}",
                "title": "Faster permits",
                "cycle_number": 1,
                "status": "running",
                "started_by": "pia",
                "state": "{}",
                "revision": revision,
                "started_at": T0,
                "data": {},
            }
            for cycle_id, revision in REVISIONS.items()
        ],
    )
    heads: dict[str, tuple[int, str]] = {}
    for seq, (cycle_id, actor, kind) in enumerate(HISTORY, start=1):
        chain = chain_of(cycle_id)
        length, previous = heads.get(chain, (0, GENESIS))
        event = SimpleNamespace(
            at=T0 + timedelta(minutes=seq),
            actor=actor,
            type=kind,
            cycle_id=cycle_id,
            task_id=None,
            element_id=None,
            data={"n": seq},
            chain=chain,
            position=length + 1,
        )
        event.prev_hash = previous
        event.hash = seal(previous, event)
        connection.execute(sa.insert(EVENTS).values(**vars(event)))
        heads[chain] = (event.position, event.hash)
    # 0003 made the global chain's row; every other chain got one on its first event.
    connection.execute(sa.delete(CHAINS))
    connection.execute(
        sa.insert(CHAINS),
        [{"chain": c, "length": n, "head_hash": h} for c, (n, h) in heads.items()],
    )
    return heads


def test_migration_0005_moves_each_cycles_chain_head_onto_its_row(blank_database_url):
    database = open_database(blank_database_url)
    config = alembic_config(database)
    try:
        command.upgrade(config, "0004")
        with database.begin() as connection:
            heads = as_0004_wrote_it(connection)
        assert set(heads) == {"global", "cycle:1", "cycle:2"}

        command.upgrade(config, "head")
        with database.connect() as connection:
            rows = connection.execute(
                sa.text("SELECT id, revision, audit_length, audit_head FROM cycles ORDER BY id")
            ).all()
            chains = connection.execute(
                sa.select(CHAINS.c.chain, CHAINS.c.length, CHAINS.c.head_hash)
            ).all()
        assert [tuple(r) for r in rows] == [
            (1, REVISIONS[1], *heads["cycle:1"]),
            (2, REVISIONS[2], *heads["cycle:2"]),
            (3, REVISIONS[3], 0, GENESIS),
        ]
        assert [tuple(c) for c in chains] == [("global", *heads["global"])]
        # A random 62-bit revision fits the column now.
        with database.begin() as connection:
            connection.execute(sa.text("UPDATE cycles SET revision = :r WHERE id = 3"), {"r": BIG})
            assert connection.scalar(sa.text("SELECT revision FROM cycles WHERE id = 3")) == BIG

        engine = Engine(blank_database_url)
        try:
            with engine.unit_of_work(write=False) as uow:
                recorded = audit.recorded_heads(uow.session)
            assert {chain: head[:2] for chain, head in recorded.items()} == {
                **heads,
                "cycle:3": (0, GENESIS),
            }
            # Every cycle records its start: one without events had them deleted.
            no_events = Break(
                "cycle:3", None, "chain cycle:3 records no events: its cycle's events were deleted"
            )
            verified = audit.verify(engine, SYSTEM)
            assert verified.breaks == [no_events]
            assert (verified.events_checked, verified.chains_checked) == (len(HISTORY), 4)
            # The global chain goes on from its migrated head.
            with engine.unit_of_work() as uow:
                users.add_user(uow, SYSTEM, "newcomer", "member", [])
            assert audit.verify(engine, SYSTEM).breaks == [no_events]
            with engine.unit_of_work(write=False) as uow:
                grown = audit.recorded_heads(uow.session)
            assert grown["global"][0] == heads["global"][0] + 2  # user added, token issued
            heads["global"] = grown["global"][:2]
        finally:
            engine.dispose()

        # And back: the cycles' heads return to audit_chains, the revisions as they were.
        with database.begin() as connection:
            connection.execute(sa.text("UPDATE cycles SET revision = 1 WHERE id = 3"))
        command.downgrade(config, "0004")
        with database.connect() as connection:
            back = connection.execute(
                sa.select(CHAINS.c.chain, CHAINS.c.length, CHAINS.c.head_hash)
            ).all()
        assert {c: (n, h) for c, n, h in back} == heads
    finally:
        database.dispose()


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_postgresql_compresses_cycle_state_with_lz4(engine):
    with engine.database.connect() as connection:
        method = connection.scalar(
            sa.text(
                "SELECT attcompression FROM pg_attribute "
                "WHERE attrelid = 'cycles'::regclass AND attname = 'state'"
            )
        )
    assert method == "l"


# --- 0012: units become a tree, groups memberships ----------------------------------------

TASKS_0011 = sa.table(
    "tasks",
    *(sa.column(n) for n in ("id", "cycle_id", "element_id", "title", "state")),
    *(sa.column(n) for n in ("candidate_group",)),
    sa.column("created_at", UTCDateTime()),
    sa.column("form_data", JsonDocument),
)


def as_0011_wrote_it(connection) -> None:
    """Two cycles of one free-text unit, one of another, an open task of each; a member
    of two groups, as 0011-era code wrote them."""
    deploy_definition_1(connection)
    connection.execute(
        sa.insert(CYCLES),
        [
            {
                "id": cycle_id,
                "definition_id": 1,
                "process_id": "pi_cycle",
                "unit": unit,
                "title": "Faster permits",
                "cycle_number": number,
                "status": "running",
                "started_by": "pia",
                "state": "{}",
                "revision": cycle_id,
                "started_at": T0,
                "data": {},
            }
            for cycle_id, unit, number in [(1, "Planning", 1), (2, "Roads", 1), (3, "Planning", 2)]
        ],
    )
    connection.execute(
        sa.insert(TASKS_0011),
        [
            {
                "id": f"task-{cycle_id}",
                "cycle_id": cycle_id,
                "element_id": "identify_gaps",
                "title": "Identify gaps",
                "state": "open",
                "candidate_group": "Department Team",
                "created_at": T0,
                "form_data": {},
            }
            for cycle_id in REVISIONS
        ],
    )
    connection.execute(
        sa.text(
            "INSERT INTO groups (name, created_at) VALUES ('Department Team', :t), ('PI Unit', :t)"
        ),
        {"t": T0},
    )
    connection.execute(
        sa.text(
            "INSERT INTO users (id, name, role, active, created_at) "
            "VALUES (1, 'dana', 'member', :yes, :t)"
        ),
        {"t": T0, "yes": True},
    )
    connection.execute(
        sa.text(
            "INSERT INTO user_groups (user_id, group_name) "
            "VALUES (1, 'Department Team'), (1, 'PI Unit')"
        )
    )


def test_migration_0012_makes_each_unit_name_a_unit_and_groups_organisation_wide(
    blank_database_url,
):
    database = open_database(blank_database_url)
    config = alembic_config(database)
    try:
        command.upgrade(config, "0011")
        with database.begin() as connection:
            as_0011_wrote_it(connection)
        command.upgrade(config, "head")
        with database.connect() as connection:
            units = dict(connection.execute(sa.text("SELECT name, id FROM units")).all())
            cycles = connection.execute(sa.text("SELECT id, unit_id FROM cycles ORDER BY id")).all()
            tasks = connection.execute(
                sa.text("SELECT cycle_id, unit_id FROM tasks ORDER BY cycle_id")
            ).all()
            held = connection.execute(
                sa.text("SELECT group_name, unit_id FROM memberships ORDER BY group_name")
            ).all()
            paths = connection.scalar(sa.text("SELECT count(*) FROM unit_paths"))
            triggers = set(connection.scalars(sa.text(TRIGGER_NAMES[database.dialect.name])))
        assert set(units) == {"Planning", "Roads"}
        expected = [(1, units["Planning"]), (2, units["Roads"]), (3, units["Planning"])]
        assert [tuple(row) for row in cycles] == expected
        assert [tuple(row) for row in tasks] == expected
        assert [tuple(row) for row in held] == [("Department Team", None), ("PI Unit", None)]
        assert paths == 2  # each unit its own, at the top of the tree
        assert TRAIL_GUARDS[database.dialect.name] <= triggers

        engine = Engine(blank_database_url)
        try:
            with engine.unit_of_work(write=False) as uow:
                dana = users.actor_named(uow, "dana")
            assert dana.groups == frozenset({"Department Team", "PI Unit"})
            assert dana.unit_groups == frozenset()
        finally:
            engine.dispose()

        command.downgrade(config, "0011")
        with database.connect() as connection:
            back = connection.execute(sa.text("SELECT id, unit FROM cycles ORDER BY id")).all()
            groups = connection.scalars(
                sa.text("SELECT group_name FROM user_groups ORDER BY group_name")
            ).all()
        assert [tuple(row) for row in back] == [
            (1, "Planning"),
            (2, "Roads"),
            (3, "Planning"),
        ]
        assert groups == ["Department Team", "PI Unit"]
    finally:
        database.dispose()
