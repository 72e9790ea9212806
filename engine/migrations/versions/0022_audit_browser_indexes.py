"""indexes for the audit event browser

The event browser pages through the events newest first by ``seq`` (keyset, no offset).
Filtered by who acted or by the type of event, a page is then read from an index of that
column and ``seq`` in order, as deep in the trail as it lies; the indexes of the column
alone, which these replace, left the database to sort every match.

Revision ID: 0022
Revises: 0015
Create Date: 2026-12-07 00:40:00.000000
"""

from alembic import op

revision = "0022"
down_revision = "0015"
branch_labels = None
depends_on = None

COLUMNS = ("actor", "type")


def upgrade() -> None:
    for column in COLUMNS:
        op.drop_index(f"ix_audit_events_{column}", table_name="audit_events")
        op.create_index(f"ix_audit_events_{column}", "audit_events", [column, "seq"])


def downgrade() -> None:
    for column in COLUMNS:
        op.drop_index(f"ix_audit_events_{column}", table_name="audit_events")
        op.create_index(f"ix_audit_events_{column}", "audit_events", [column])
