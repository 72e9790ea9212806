"""indexes for the audit event browser

The event browser pages through the events newest first, by the time recorded and then by
``seq`` (keyset, no offset). Unfiltered or within a time range, and filtered by who acted
or by the type of event, a page is then read from one index in that order, as deep in the
trail as it lies and for a time range and a user together; the indexes of the column alone,
which these replace, left the database to sort every match.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-07 00:40:00.000000
"""

from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None

# index name -> (its columns before, its columns after)
INDEXES = {
    "ix_audit_events_at": (["at"], ["at", "seq"]),
    "ix_audit_events_actor": (["actor"], ["actor", "at", "seq"]),
    "ix_audit_events_type": (["type"], ["type", "at", "seq"]),
}


def upgrade() -> None:
    for name, (_, columns) in INDEXES.items():
        op.drop_index(name, table_name="audit_events")
        op.create_index(name, "audit_events", columns)


def downgrade() -> None:
    for name, (columns, _) in INDEXES.items():
        op.drop_index(name, table_name="audit_events")
        op.create_index(name, "audit_events", columns)
