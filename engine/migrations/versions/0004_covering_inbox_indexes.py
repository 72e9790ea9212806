"""covering indexes for the inbox

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23 17:30:00.000000
"""

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

COVERING = {
    "ix_tasks_open_group": [
        "state",
        "candidate_group",
        "created_at",
        "id",
        "claimed_by",
        "assignee",
        "due_at",
    ],
    "ix_tasks_open_assignee": ["state", "assignee", "created_at", "id", "claimed_by", "due_at"],
    "ix_tasks_open_claimed": ["state", "claimed_by", "created_at", "id", "due_at"],
}
NARROW = {
    "ix_tasks_open_group": ["state", "candidate_group", "created_at"],
    "ix_tasks_open_assignee": ["state", "assignee", "created_at"],
    "ix_tasks_open_claimed": ["state", "claimed_by", "created_at"],
}


def _replace(indexes: dict[str, list[str]]) -> None:
    for name, columns in indexes.items():
        op.drop_index(name, table_name="tasks")
        op.create_index(name, "tasks", columns)


def upgrade() -> None:
    _replace(COVERING)


def downgrade() -> None:
    _replace(NARROW)
