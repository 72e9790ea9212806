"""drop the index of tasks by cycle alone

``ix_tasks_cycle_done`` (cycle, state, end) begins with the cycle, so it answers every
lookup of a cycle's tasks that ``ix_tasks_cycle_id`` did; each new task row wrote both.

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-07 23:30:00.000000
"""

from alembic import op

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_tasks_cycle_id", table_name="tasks")


def downgrade() -> None:
    op.create_index("ix_tasks_cycle_id", "tasks", ["cycle_id"])
