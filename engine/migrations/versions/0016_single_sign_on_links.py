"""users linked to their identity at an OpenID Connect provider (issuer and subject)

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07 00:30:00.000000
"""

import sqlalchemy as sa
from alembic import op
from picycle.engine.db.types import UTCDateTime

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "single_sign_on_links",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("issuer", sa.String(length=255), nullable=False),
        sa.Column("subject", sa.String(length=255), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_single_sign_on_links_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_single_sign_on_links")),
        sa.UniqueConstraint("issuer", "subject", name=op.f("uq_single_sign_on_links_issuer")),
    )
    op.create_index(
        op.f("ix_single_sign_on_links_user_id"), "single_sign_on_links", ["user_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_single_sign_on_links_user_id"), table_name="single_sign_on_links")
    op.drop_table("single_sign_on_links")
