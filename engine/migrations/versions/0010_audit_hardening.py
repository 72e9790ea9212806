"""audit hardening: every column in new events' hashes, chain heads that move only by
appending, sealed with a key; no TRUNCATE

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02 01:00:00.000000

New events are sealed in hash version 2 (``seq`` and every other column hashed); the
events recorded before keep version 1 and keep verifying. A chain head (``audit_chains``,
``cycles``) may be inserted only empty and may move only forward onto its chain's last
event: a plain UPDATE that cuts it back or points it elsewhere is refused, as is deleting
a head or a cycle that has events, and (PostgreSQL) TRUNCATE of the trail's tables. A
head's seal (HMAC with the audit key, which the database does not hold) may be written
freely: without the key it cannot be forged.
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

HEADS_MESSAGE = "audit chain heads move only forward, onto the last event of their chain"
TRUNCATE_MESSAGE = "the audit trail cannot be truncated"
GENESIS = "0" * 64

# Events are numbered before they are inserted (``seq`` is hashed), from blocks of numbers
# the statements that lock a chain's head draw (engine/audit/append.py).
SEQ_BLOCK = 8
POSTGRES_SEQ_STEP = """
DO $$
BEGIN
    EXECUTE format('ALTER SEQUENCE %s INCREMENT BY {step}',
                   pg_get_serial_sequence('audit_events', 'seq'));
END
$$
"""


def _moves(chain: str, old_length: str, new_length: str, new_head: str) -> str:
    """SQL (both dialects) true when a head may move from ``old_length`` to
    (``new_length``, ``new_head``): forward, onto that event of ``chain``. Inline in the
    triggers, not a function of its own: calling one costs a completion 0.1 ms more."""
    return (
        f"({new_length} > {old_length} AND EXISTS (SELECT 1 FROM audit_events e "
        f"WHERE e.chain = {chain} AND e.position = {new_length} AND e.hash = {new_head}))"
    )


POSTGRES_UP = f"""
CREATE FUNCTION picycle_guard_chain_head() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION '{HEADS_MESSAGE}';
    END IF;
    IF TG_OP = 'INSERT' THEN
        IF NEW.length <> 0 OR NEW.head_hash <> '{GENESIS}' THEN
            RAISE EXCEPTION '{HEADS_MESSAGE}';
        END IF;
    ELSIF NEW.chain IS DISTINCT FROM OLD.chain
          OR NOT {_moves("NEW.chain", "OLD.length", "NEW.length", "NEW.head_hash")} THEN
        RAISE EXCEPTION '{HEADS_MESSAGE}';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER audit_chains_heads BEFORE INSERT OR DELETE OR UPDATE OF chain, length, head_hash
    ON audit_chains FOR EACH ROW EXECUTE FUNCTION picycle_guard_chain_head();

CREATE FUNCTION picycle_guard_cycle_head() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        IF OLD.audit_length > 0 THEN
            RAISE EXCEPTION '{HEADS_MESSAGE}';
        END IF;
        RETURN OLD;
    END IF;
    IF TG_OP = 'INSERT' THEN
        IF NEW.audit_length <> 0 OR NEW.audit_head <> '{GENESIS}' THEN
            RAISE EXCEPTION '{HEADS_MESSAGE}';
        END IF;
    ELSIF NEW.id IS DISTINCT FROM OLD.id OR NOT {
    _moves("'cycle:' || NEW.id", "OLD.audit_length", "NEW.audit_length", "NEW.audit_head")
} THEN
        RAISE EXCEPTION '{HEADS_MESSAGE}';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER cycles_audit_head_insert_delete BEFORE INSERT OR DELETE ON cycles
    FOR EACH ROW EXECUTE FUNCTION picycle_guard_cycle_head();
CREATE TRIGGER cycles_audit_head_update BEFORE UPDATE OF id, audit_length, audit_head ON cycles
    FOR EACH ROW WHEN (OLD.id IS DISTINCT FROM NEW.id
                       OR OLD.audit_length IS DISTINCT FROM NEW.audit_length
                       OR OLD.audit_head IS DISTINCT FROM NEW.audit_head)
    EXECUTE FUNCTION picycle_guard_cycle_head();

CREATE FUNCTION picycle_refuse_audit_truncate() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION '{TRUNCATE_MESSAGE}';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events
    FOR EACH STATEMENT EXECUTE FUNCTION picycle_refuse_audit_truncate();
CREATE TRIGGER audit_chains_no_truncate BEFORE TRUNCATE ON audit_chains
    FOR EACH STATEMENT EXECUTE FUNCTION picycle_refuse_audit_truncate();
CREATE TRIGGER cycles_no_truncate BEFORE TRUNCATE ON cycles
    FOR EACH STATEMENT EXECUTE FUNCTION picycle_refuse_audit_truncate();
"""
POSTGRES_DOWN = """
DROP TRIGGER cycles_no_truncate ON cycles;
DROP TRIGGER audit_chains_no_truncate ON audit_chains;
DROP TRIGGER audit_events_no_truncate ON audit_events;
DROP FUNCTION picycle_refuse_audit_truncate();
DROP TRIGGER cycles_audit_head_update ON cycles;
DROP TRIGGER cycles_audit_head_insert_delete ON cycles;
DROP FUNCTION picycle_guard_cycle_head();
DROP TRIGGER audit_chains_heads ON audit_chains;
DROP FUNCTION picycle_guard_chain_head();
"""


_REFUSE = f"BEGIN SELECT RAISE(ABORT, '{HEADS_MESSAGE}'); END"
SQLITE_TRIGGERS = {
    "audit_chains_head_insert": f"""BEFORE INSERT ON audit_chains
        WHEN NEW.length <> 0 OR NEW.head_hash <> '{GENESIS}' {_REFUSE}""",
    "audit_chains_head_update": f"""BEFORE UPDATE OF chain, length, head_hash ON audit_chains
        WHEN NEW.chain IS NOT OLD.chain
          OR NOT {_moves("NEW.chain", "OLD.length", "NEW.length", "NEW.head_hash")}
        {_REFUSE}""",
    "audit_chains_head_delete": f"BEFORE DELETE ON audit_chains {_REFUSE}",
    "cycles_audit_head_insert": f"""BEFORE INSERT ON cycles
        WHEN NEW.audit_length <> 0 OR NEW.audit_head <> '{GENESIS}' {_REFUSE}""",
    "cycles_audit_head_update": f"""BEFORE UPDATE OF id, audit_length, audit_head ON cycles
        WHEN (NEW.id IS NOT OLD.id OR NEW.audit_length IS NOT OLD.audit_length
              OR NEW.audit_head IS NOT OLD.audit_head)
         AND (NEW.id IS NOT OLD.id OR NOT {
        _moves("'cycle:' || NEW.id", "OLD.audit_length", "NEW.audit_length", "NEW.audit_head")
    })
        {_REFUSE}""",
    "cycles_audit_head_delete": f"BEFORE DELETE ON cycles WHEN OLD.audit_length > 0 {_REFUSE}",
}


def upgrade() -> None:
    op.add_column(
        "audit_events",
        sa.Column("hash_version", sa.SmallInteger(), server_default="1", nullable=False),
    )
    op.add_column("cycles", sa.Column("audit_seal", sa.String(length=64), nullable=True))
    op.add_column("audit_chains", sa.Column("seal", sa.String(length=64), nullable=True))
    if op.get_bind().dialect.name == "postgresql":
        op.execute(POSTGRES_UP)
        op.execute(POSTGRES_SEQ_STEP.format(step=SEQ_BLOCK))
    else:
        for name, body in SQLITE_TRIGGERS.items():
            op.execute(f"CREATE TRIGGER {name} {body}")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(POSTGRES_DOWN)
        op.execute(POSTGRES_SEQ_STEP.format(step=1))
    else:
        for name in SQLITE_TRIGGERS:
            op.execute(f"DROP TRIGGER {name}")
    with op.batch_alter_table("audit_chains") as batch_op:
        batch_op.drop_column("seal")
    with op.batch_alter_table("cycles") as batch_op:
        batch_op.drop_column("audit_seal")
    with op.batch_alter_table("audit_events") as batch_op:
        batch_op.drop_column("hash_version")
