"""incidents: failed model steps for admins to retry or dismiss

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02 01:00:00.000000
"""

import sqlalchemy as sa
from alembic import op
from picycle.engine.db.types import JsonDocument, UTCDateTime

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "incidents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("cycle_id", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(length=30), nullable=False),
        sa.Column("task_id", sa.String(length=36), nullable=True),
        sa.Column("element_id", sa.String(length=255), nullable=True),
        sa.Column("attempted_by", sa.String(length=100), nullable=False),
        sa.Column("data", JsonDocument, nullable=True),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("budget_limit", sa.String(length=100), nullable=True),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("raised_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_failed_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("resolved_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("resolved_by", sa.String(length=100), nullable=True),
        sa.Column("resolution", sa.String(length=30), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["cycle_id"], ["cycles.id"], name=op.f("fk_incidents_cycle_id_cycles")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_incidents")),
    )
    with op.batch_alter_table("incidents", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_incidents_cycle_id"), ["cycle_id"], unique=False)
        batch_op.create_index("ix_incidents_open", ["resolved_at", "id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("incidents", schema=None) as batch_op:
        batch_op.drop_index("ix_incidents_open")
        batch_op.drop_index(batch_op.f("ix_incidents_cycle_id"))
    op.drop_table("incidents")
