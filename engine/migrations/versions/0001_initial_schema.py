"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-23 15:06:02.497344
"""

import sqlalchemy as sa
from alembic import op
from picycle.engine.db.types import UTCDateTime
from sqlalchemy.dialects import postgresql

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table(
        "audit_events",
        sa.Column("seq", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.Column("type", sa.String(length=50), nullable=False),
        sa.Column("cycle_id", sa.Integer(), nullable=True),
        sa.Column("task_id", sa.String(length=36), nullable=True),
        sa.Column("element_id", sa.String(length=255), nullable=True),
        sa.Column(
            "data",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_audit_events")),
    )
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.create_index("ix_audit_events_cycle", ["cycle_id", "seq"], unique=False)
        batch_op.create_index(batch_op.f("ix_audit_events_type"), ["type"], unique=False)

    op.create_table(
        "deployments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("deployed_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("deployed_by", sa.String(length=100), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deployments")),
        sa.UniqueConstraint("content_hash", name=op.f("uq_deployments_content_hash")),
    )
    op.create_table(
        "groups",
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_groups")),
    )
    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("name", name=op.f("uq_users_name")),
    )
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_api_tokens_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_api_tokens_token_hash")),
    )
    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_api_tokens_user_id"), ["user_id"], unique=False)

    op.create_table(
        "deployment_files",
        sa.Column("deployment_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["deployment_id"],
            ["deployments.id"],
            name=op.f("fk_deployment_files_deployment_id_deployments"),
        ),
        sa.PrimaryKeyConstraint("deployment_id", "name", name=op.f("pk_deployment_files")),
    )
    op.create_table(
        "process_definitions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("process_id", sa.String(length=255), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("deployment_id", sa.Integer(), nullable=False),
        sa.Column("spec", sa.Text(), nullable=False),
        sa.Column("deployed_at", UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["deployment_id"],
            ["deployments.id"],
            name=op.f("fk_process_definitions_deployment_id_deployments"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_process_definitions")),
        sa.UniqueConstraint(
            "process_id", "version", name=op.f("uq_process_definitions_process_id")
        ),
    )
    with op.batch_alter_table("process_definitions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_process_definitions_deployment_id"), ["deployment_id"], unique=False
        )

    op.create_table(
        "user_groups",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("group_name", sa.String(length=100), nullable=False),
        sa.ForeignKeyConstraint(
            ["group_name"], ["groups.name"], name=op.f("fk_user_groups_group_name_groups")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_user_groups_user_id_users")
        ),
        sa.PrimaryKeyConstraint("user_id", "group_name", name=op.f("pk_user_groups")),
    )
    op.create_table(
        "cycles",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("definition_id", sa.Integer(), nullable=False),
        sa.Column("process_id", sa.String(length=255), nullable=False),
        sa.Column("unit", sa.String(length=255), nullable=False),
        sa.Column("title", sa.String(length=500), nullable=False),
        sa.Column("cycle_number", sa.Integer(), nullable=False),
        sa.Column("previous_cycle_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("started_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("started_by", sa.String(length=100), nullable=False),
        sa.Column("ended_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column(
            "data",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("state", sa.Text(), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["definition_id"],
            ["process_definitions.id"],
            name=op.f("fk_cycles_definition_id_process_definitions"),
        ),
        sa.ForeignKeyConstraint(
            ["previous_cycle_id"], ["cycles.id"], name=op.f("fk_cycles_previous_cycle_id_cycles")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cycles")),
        sa.UniqueConstraint("unit", "cycle_number", name=op.f("uq_cycles_unit")),
    )
    with op.batch_alter_table("cycles", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_cycles_definition_id"), ["definition_id"], unique=False
        )
        batch_op.create_index("ix_cycles_status_unit", ["status", "unit"], unique=False)

    op.create_table(
        "pending_timers",
        sa.Column("task_id", sa.String(length=36), nullable=False),
        sa.Column("cycle_id", sa.Integer(), nullable=False),
        sa.Column("element_id", sa.String(length=255), nullable=False),
        sa.Column("due_at", UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["cycle_id"], ["cycles.id"], name=op.f("fk_pending_timers_cycle_id_cycles")
        ),
        sa.PrimaryKeyConstraint("task_id", name=op.f("pk_pending_timers")),
    )
    with op.batch_alter_table("pending_timers", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_pending_timers_cycle_id"), ["cycle_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_pending_timers_due_at"), ["due_at"], unique=False)

    op.create_table(
        "tasks",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("cycle_id", sa.Integer(), nullable=False),
        sa.Column("element_id", sa.String(length=255), nullable=False),
        sa.Column("title", sa.String(length=500), nullable=False),
        sa.Column("instructions", sa.Text(), nullable=True),
        sa.Column("candidate_group", sa.String(length=100), nullable=True),
        sa.Column("assignee", sa.String(length=100), nullable=True),
        sa.Column("claimed_by", sa.String(length=100), nullable=True),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("due_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("ended_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("completed_by", sa.String(length=100), nullable=True),
        sa.Column("form_file", sa.String(length=255), nullable=True),
        sa.Column(
            "form_data",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(["cycle_id"], ["cycles.id"], name=op.f("fk_tasks_cycle_id_cycles")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tasks")),
    )
    with op.batch_alter_table("tasks", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_tasks_cycle_id"), ["cycle_id"], unique=False)
        batch_op.create_index(
            "ix_tasks_open_assignee", ["state", "assignee", "created_at"], unique=False
        )
        batch_op.create_index(
            "ix_tasks_open_claimed", ["state", "claimed_by", "created_at"], unique=False
        )
        batch_op.create_index(
            "ix_tasks_open_group", ["state", "candidate_group", "created_at"], unique=False
        )


def downgrade() -> None:

    with op.batch_alter_table("tasks", schema=None) as batch_op:
        batch_op.drop_index("ix_tasks_open_group")
        batch_op.drop_index("ix_tasks_open_claimed")
        batch_op.drop_index("ix_tasks_open_assignee")
        batch_op.drop_index(batch_op.f("ix_tasks_cycle_id"))

    op.drop_table("tasks")
    with op.batch_alter_table("pending_timers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_pending_timers_due_at"))
        batch_op.drop_index(batch_op.f("ix_pending_timers_cycle_id"))

    op.drop_table("pending_timers")
    with op.batch_alter_table("cycles", schema=None) as batch_op:
        batch_op.drop_index("ix_cycles_status_unit")
        batch_op.drop_index(batch_op.f("ix_cycles_definition_id"))

    op.drop_table("cycles")
    op.drop_table("user_groups")
    with op.batch_alter_table("process_definitions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_process_definitions_deployment_id"))

    op.drop_table("process_definitions")
    op.drop_table("deployment_files")
    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_api_tokens_user_id"))

    op.drop_table("api_tokens")
    op.drop_table("users")
    op.drop_table("groups")
    op.drop_table("deployments")
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_events_type"))
        batch_op.drop_index("ix_audit_events_cycle")

    op.drop_table("audit_events")
