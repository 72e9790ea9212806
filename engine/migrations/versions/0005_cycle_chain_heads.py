"""cycle aggregate: chain heads on the cycle row, random revision tokens

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01 22:00:00.000000

Each cycle's audit chain head moves from ``audit_chains`` onto its ``cycles`` row (which
every change of the cycle locks and writes anyway); ``audit_chains`` keeps the global
chain's head. The revision becomes a random 62-bit token (BIGINT on PostgreSQL; SQLite's
INTEGER is 64-bit already).
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

GENESIS = "0" * 64
CYCLE_CHAIN = "cycle:"

chains = sa.table(
    "audit_chains", sa.column("chain", sa.String), sa.column("length"), sa.column("head_hash")
)
cycles = sa.table(
    "cycles", sa.column("id"), sa.column("audit_length"), sa.column("audit_head", sa.String)
)


def upgrade() -> None:
    op.add_column(
        "cycles", sa.Column("audit_length", sa.Integer(), server_default="0", nullable=False)
    )
    op.add_column(
        "cycles",
        sa.Column("audit_head", sa.String(length=64), server_default=GENESIS, nullable=False),
    )
    if op.get_bind().dialect.name == "postgresql":
        op.alter_column("cycles", "revision", type_=sa.BigInteger(), existing_nullable=False)
    connection = op.get_bind()
    heads = connection.execute(
        sa.select(chains.c.chain, chains.c.length, chains.c.head_hash).where(
            chains.c.chain.startswith(CYCLE_CHAIN)
        )
    ).all()
    for chain, length, head_hash in heads:
        connection.execute(
            sa.update(cycles)
            .where(cycles.c.id == int(chain.removeprefix(CYCLE_CHAIN)))
            .values(audit_length=length, audit_head=head_hash)
        )
    connection.execute(sa.delete(chains).where(chains.c.chain.startswith(CYCLE_CHAIN)))


def downgrade() -> None:
    connection = op.get_bind()
    rows = connection.execute(
        sa.select(cycles.c.id, cycles.c.audit_length, cycles.c.audit_head).where(
            cycles.c.audit_length > 0
        )
    ).all()
    if rows:
        connection.execute(
            sa.insert(chains),
            [{"chain": f"{CYCLE_CHAIN}{i}", "length": n, "head_hash": h} for i, n, h in rows],
        )
    if connection.dialect.name == "postgresql":
        op.alter_column("cycles", "revision", type_=sa.Integer(), existing_nullable=False)
    with op.batch_alter_table("cycles") as batch_op:
        batch_op.drop_column("audit_head")
        batch_op.drop_column("audit_length")
