"""evidence files attached to tasks

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-07 00:40:00.000000
"""

import sqlalchemy as sa
from alembic import op
from picycle.engine.db.types import UTCDateTime

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "evidence",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("task_id", sa.String(length=36), nullable=False),
        sa.Column("cycle_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("media_type", sa.String(length=100), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("attached_by", sa.String(length=100), nullable=False),
        sa.Column("attached_at", UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["cycle_id"], ["cycles.id"], name=op.f("fk_evidence_cycle_id_cycles")
        ),
        sa.ForeignKeyConstraint(["task_id"], ["tasks.id"], name=op.f("fk_evidence_task_id_tasks")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_evidence")),
        sa.UniqueConstraint("task_id", "sha256", name=op.f("uq_evidence_task_id")),
    )
    op.create_index(op.f("ix_evidence_cycle_id"), "evidence", ["cycle_id"], unique=False)
    op.create_index(op.f("ix_evidence_sha256"), "evidence", ["sha256"], unique=False)
    op.create_index("ix_evidence_task", "evidence", ["task_id", "id"], unique=False)
    op.create_table(
        "evidence_contents",
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("sha256", name=op.f("pk_evidence_contents")),
    )


def downgrade() -> None:
    op.drop_table("evidence_contents")
    op.drop_index("ix_evidence_task", table_name="evidence")
    op.drop_index(op.f("ix_evidence_sha256"), table_name="evidence")
    op.drop_index(op.f("ix_evidence_cycle_id"), table_name="evidence")
    op.drop_table("evidence")
