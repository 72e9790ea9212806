"""the inbox's covering indexes also hold cycle_id

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 22:30:00.000000

The inbox filters by cycle, unit and process; with ``cycle_id`` in the entries those
filters are answered from the indexes too, instead of reading every candidate task row.
"""

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

WITHOUT_CYCLE = {
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


def _replace(indexes: dict[str, list[str]]) -> None:
    for name, columns in indexes.items():
        op.drop_index(name, table_name="tasks")
        op.create_index(name, "tasks", columns)


def upgrade() -> None:
    _replace({name: [*columns, "cycle_id"] for name, columns in WITHOUT_CYCLE.items()})


def downgrade() -> None:
    _replace(WITHOUT_CYCLE)
