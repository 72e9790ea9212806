"""audit events: hash chain, chain heads, append-only enforcement

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 16:30:00.000000
"""

from types import SimpleNamespace

import sqlalchemy as sa
from alembic import op

# The hash function and chain names are the trail's stored contract: they never change.
from picycle.engine.audit.chain import GENESIS, GLOBAL_CHAIN, chain_of, seal
from picycle.engine.db.types import UTCDateTime

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

APPEND_ONLY_MESSAGE = "audit events are append-only"

POSTGRES_UP = f"""
CREATE FUNCTION picycle_refuse_audit_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION '{APPEND_ONLY_MESSAGE}';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON audit_events
    FOR EACH ROW EXECUTE FUNCTION picycle_refuse_audit_change();
"""
POSTGRES_DOWN = """
DROP TRIGGER audit_events_append_only ON audit_events;
DROP FUNCTION picycle_refuse_audit_change();
"""
SQLITE_UP = [
    f"""CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events
        BEGIN SELECT RAISE(ABORT, '{APPEND_ONLY_MESSAGE}'); END""",
    f"""CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events
        BEGIN SELECT RAISE(ABORT, '{APPEND_ONLY_MESSAGE}'); END""",
]
SQLITE_DOWN = ["DROP TRIGGER audit_events_no_update", "DROP TRIGGER audit_events_no_delete"]


def upgrade() -> None:
    op.create_table(
        "audit_chains",
        sa.Column("chain", sa.String(length=40), nullable=False),
        sa.Column("length", sa.Integer(), nullable=False),
        sa.Column("head_hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("chain", name=op.f("pk_audit_chains")),
    )
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.add_column(sa.Column("chain", sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column("position", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("prev_hash", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("hash", sa.String(length=64), nullable=True))
    _seal_existing_events()
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        for column in ("chain", "position", "prev_hash", "hash"):
            batch_op.alter_column(column, nullable=False)
        batch_op.create_unique_constraint(
            batch_op.f("uq_audit_events_chain"), ["chain", "position"]
        )
        batch_op.create_index(batch_op.f("ix_audit_events_at"), ["at"], unique=False)
        batch_op.create_index(batch_op.f("ix_audit_events_actor"), ["actor"], unique=False)
    if op.get_bind().dialect.name == "postgresql":
        op.execute(POSTGRES_UP)
    else:
        for statement in SQLITE_UP:
            op.execute(statement)


def _seal_existing_events() -> None:
    """Chain the events recorded before this migration, in the order they were recorded;
    the global chain's head exists from the start, so two first writers cannot race to
    create it. Written against the tables as they are at this revision."""
    connection = op.get_bind()
    events = sa.table(
        "audit_events",
        *(sa.column(name) for name in ("seq", "actor", "type", "cycle_id", "task_id")),
        sa.column("element_id"),
        sa.column("at", UTCDateTime()),
        sa.column("data", sa.JSON()),
        *(sa.column(name) for name in ("chain", "position", "prev_hash", "hash")),
    )
    chains = sa.table(
        "audit_chains", sa.column("chain"), sa.column("length"), sa.column("head_hash")
    )
    heads: dict[str, tuple[int, str]] = {GLOBAL_CHAIN: (0, GENESIS)}
    for event in connection.execute(sa.select(events).order_by(events.c.seq)).all():
        chain = chain_of(event.cycle_id)
        length, previous = heads.get(chain, (0, GENESIS))
        linked = SimpleNamespace(**{**event._mapping, "chain": chain, "position": length + 1})
        digest = seal(previous, linked)
        connection.execute(
            sa.update(events)
            .where(events.c.seq == event.seq)
            .values(chain=chain, position=length + 1, prev_hash=previous, hash=digest)
        )
        heads[chain] = (length + 1, digest)
    connection.execute(
        sa.insert(chains),
        [{"chain": c, "length": n, "head_hash": h} for c, (n, h) in heads.items()],
    )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(POSTGRES_DOWN)
    else:
        for statement in SQLITE_DOWN:
            op.execute(statement)
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_events_actor"))
        batch_op.drop_index(batch_op.f("ix_audit_events_at"))
        batch_op.drop_constraint(batch_op.f("uq_audit_events_chain"), type_="unique")
        batch_op.drop_column("hash")
        batch_op.drop_column("prev_hash")
        batch_op.drop_column("position")
        batch_op.drop_column("chain")
    op.drop_table("audit_chains")
