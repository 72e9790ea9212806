"""a bundle deployed before can be deployed again

Deploying the files of an earlier version again, after newer ones, is how an admin rolls a
process back: it becomes a new version. The same content hash can then stand for several
deployments, so it is indexed instead of unique.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-07 10:00:00.000000
"""

from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("deployments") as batch:
        batch.drop_constraint("uq_deployments_content_hash", type_="unique")
        batch.create_index("ix_deployments_content_hash", ["content_hash"])


def downgrade() -> None:
    with op.batch_alter_table("deployments") as batch:
        batch.drop_index("ix_deployments_content_hash")
        batch.create_unique_constraint("uq_deployments_content_hash", ["content_hash"])
