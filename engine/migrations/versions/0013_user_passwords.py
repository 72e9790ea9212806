"""user passwords, sign-in sessions and failed sign-ins

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-03 01:00:00.000000
"""

import sqlalchemy as sa
from alembic import op
from picycle.engine.db.types import UTCDateTime

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ALTER TABLE (SQLite has ADD and DROP COLUMN): a batch copy of ``users`` would
    # lose its index on lower(name).
    op.add_column("users", sa.Column("password_hash", sa.String(length=200), nullable=True))
    op.add_column(
        "users", sa.Column("session_version", sa.Integer(), server_default="0", nullable=False)
    )
    op.create_table(
        "sign_in_failures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_name", sa.String(length=100), nullable=False),
        sa.Column("address", sa.String(length=100), nullable=False),
        sa.Column("at", UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sign_in_failures")),
    )
    with op.batch_alter_table("sign_in_failures", schema=None) as batch_op:
        batch_op.create_index("ix_sign_in_failures_user", ["user_name", "at"], unique=False)
        batch_op.create_index("ix_sign_in_failures_address", ["address", "at"], unique=False)
        batch_op.create_index("ix_sign_in_failures_at", ["at"], unique=False)


def downgrade() -> None:
    op.drop_table("sign_in_failures")
    op.drop_column("users", "session_version")
    op.drop_column("users", "password_hash")
