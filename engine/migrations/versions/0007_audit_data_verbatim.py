"""audit events keep their data as the JSON text recorded (PostgreSQL: json, not jsonb)

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 23:00:00.000000

JSONB normalises numbers (-0.0 becomes 0, 1e300 a 301-digit integer), so an event whose
data held such a number read back differently from what its hash covers, and verification
reported it altered. SQLite already keeps the text.
"""

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE audit_events ALTER COLUMN data TYPE json USING data::json")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE audit_events ALTER COLUMN data TYPE jsonb USING data::jsonb")
