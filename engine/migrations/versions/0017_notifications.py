"""notifications: users' e-mail addresses and choices, the outbox, the notices written

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-07 00:30:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

CHOICES = (
    ("notify_assigned", sa.true()),
    ("notify_group_open", sa.true()),
    ("notify_overdue", sa.true()),
    ("notify_digest", sa.false()),
)


def upgrade() -> None:
    # Plain ALTER TABLE, as 0013: a batch copy of ``users`` would lose its index on lower(name).
    op.add_column("users", sa.Column("email", sa.String(length=254), nullable=True))
    for name, default in CHOICES:
        op.add_column(
            "users", sa.Column(name, sa.Boolean(), nullable=False, server_default=default)
        )
    op.create_table(
        "outbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("recipient", sa.String(length=100), nullable=False),
        sa.Column("address", sa.String(length=254), nullable=False),
        sa.Column("language", sa.String(length=16), nullable=False),
        sa.Column("subject", sa.String(length=500), nullable=False),
        sa.Column("body_text", sa.Text(), nullable=False),
        sa.Column("body_html", sa.Text(), nullable=False),
        sa.Column("message_id", sa.String(length=200), nullable=False),
        sa.Column("task_id", sa.String(length=36), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("failed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox")),
        sa.UniqueConstraint("message_id", name=op.f("uq_outbox_message_id")),
    )
    unsent = sa.text("sent_at IS NULL AND failed_at IS NULL")
    op.create_index(
        "ix_outbox_due",
        "outbox",
        ["next_attempt_at", "id"],
        postgresql_where=unsent,
        sqlite_where=unsent,
    )
    op.create_table(
        "notification_marks",
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("key", sa.String(length=100), nullable=False),
        sa.Column("moment", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("kind", "key", name=op.f("pk_notification_marks")),
    )


def downgrade() -> None:
    op.drop_table("notification_marks")
    op.drop_index("ix_outbox_due", table_name="outbox")
    op.drop_table("outbox")
    for name, _ in reversed(CHOICES):
        op.drop_column("users", name)
    op.drop_column("users", "email")
