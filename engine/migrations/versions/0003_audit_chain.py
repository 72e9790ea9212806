"""audit events: hash chain, chain heads, append-only enforcement

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 16:30:00.000000
"""

import sqlalchemy as sa
from alembic import op
from picycle.engine.audit.chain import GENESIS, GLOBAL_CHAIN, chain_of
from sqlalchemy import select
from sqlalchemy.orm import Session

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
    """Chain the events recorded before this migration, in the order they were recorded."""
    from picycle.engine.audit.chain import ChainWriter
    from picycle.engine.db.models import AuditChain, AuditEvent

    session = Session(bind=op.get_bind())
    writer = ChainWriter(session)
    for event in session.scalars(select(AuditEvent).order_by(AuditEvent.seq)).all():
        event.chain = chain_of(event.cycle_id)
        writer.append(event)
    session.flush()
    # The global chain's head exists from the start, so two first writers cannot race to
    # create it.
    if session.get(AuditChain, GLOBAL_CHAIN) is None:
        session.add(AuditChain(chain=GLOBAL_CHAIN, length=0, head_hash=GENESIS))
        session.flush()


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
