"""the language each user chose for the pages

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-06 23:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ALTER TABLE, as 0013: a batch copy of ``users`` would lose its index on lower(name).
    op.add_column("users", sa.Column("language", sa.String(length=16), nullable=True))


def downgrade() -> None:
    op.drop_column("users", "language")
