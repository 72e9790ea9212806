"""task comments

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 16:00:00.000000
"""

import sqlalchemy as sa
from alembic import op
from picycle.engine.db.types import UTCDateTime

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table(
        "task_comments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("task_id", sa.String(length=36), nullable=False),
        sa.Column("cycle_id", sa.Integer(), nullable=False),
        sa.Column("author", sa.String(length=100), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["cycle_id"], ["cycles.id"], name=op.f("fk_task_comments_cycle_id_cycles")
        ),
        sa.ForeignKeyConstraint(
            ["task_id"], ["tasks.id"], name=op.f("fk_task_comments_task_id_tasks")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_task_comments")),
    )
    with op.batch_alter_table("task_comments", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_task_comments_cycle_id"), ["cycle_id"], unique=False)
        batch_op.create_index("ix_task_comments_task", ["task_id", "id"], unique=False)


def downgrade() -> None:

    with op.batch_alter_table("task_comments", schema=None) as batch_op:
        batch_op.drop_index("ix_task_comments_task")
        batch_op.drop_index(batch_op.f("ix_task_comments_cycle_id"))

    op.drop_table("task_comments")
