"""indexes for results across cycles

The overview reads, per unit, the tasks that have a due date (microprojects) and, per
running cycle, its latest completed task: both from an index alone.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-06 23:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

DUE = sa.text("due_at IS NOT NULL")


def upgrade() -> None:
    op.create_index("ix_tasks_cycle_done", "tasks", ["cycle_id", "state", "ended_at"])
    op.create_index(
        "ix_tasks_due",
        "tasks",
        ["unit_id", "state", "due_at", "ended_at"],
        postgresql_where=DUE,
        sqlite_where=DUE,
    )


def downgrade() -> None:
    op.drop_index("ix_tasks_due", table_name="tasks")
    op.drop_index("ix_tasks_cycle_done", table_name="tasks")
