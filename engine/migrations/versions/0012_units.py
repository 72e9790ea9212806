"""units as a tree, group memberships that hold in a unit

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-03 01:00:00.000000

Every distinct unit name a cycle was started for becomes a top-level unit, and the cycle
refers to it; the inbox's rows carry their cycle's unit. Every group membership held so
far holds in the whole organisation, as it did.

On SQLite, rebuilding ``cycles`` (to swap its unique constraint) drops the table's
triggers, the audit trail's guards among them: they are taken from the schema before and
created again after, exactly as they were.
"""

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op
from picycle.engine.db.types import UTCDateTime

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

UNITS = sa.table(
    "units",
    sa.column("id"),
    sa.column("name"),
    sa.column("parent_id"),
    sa.column("active"),
    sa.column("created_at", UTCDateTime()),
)
INBOX_INDEXES = {
    "ix_tasks_open_group": [
        "state",
        "candidate_group",
        "created_at",
        "id",
        "claimed_by",
        "assignee",
        "due_at",
        "cycle_id",
    ],
    "ix_tasks_open_assignee": [
        "state",
        "assignee",
        "created_at",
        "id",
        "claimed_by",
        "due_at",
        "cycle_id",
    ],
    "ix_tasks_open_claimed": ["state", "claimed_by", "created_at", "id", "due_at", "cycle_id"],
}
GROUP_UNIT_INDEX = [
    "state",
    "candidate_group",
    "unit_id",
    "created_at",
    "id",
    "claimed_by",
    "assignee",
    "due_at",
    "cycle_id",
]


def _rebuild_cycles(change) -> None:
    """Run ``change(batch_op)`` on ``cycles``; on SQLite, keep the table's triggers."""
    bind = op.get_bind()
    triggers = []
    if bind.dialect.name == "sqlite":
        triggers = bind.execute(
            sa.text(
                "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' "
                "AND tbl_name = 'cycles' ORDER BY name"
            )
        ).all()
        for name, _ in triggers:
            op.execute(f"DROP TRIGGER {name}")
    with op.batch_alter_table("cycles", recreate="always" if triggers else "auto") as batch_op:
        change(batch_op)
    for _, sql in triggers:
        op.execute(sql)


def _replace_inbox_indexes(indexes: dict[str, list[str]]) -> None:
    for name, columns in indexes.items():
        op.drop_index(name, table_name="tasks")
        op.create_index(name, "tasks", columns)


def upgrade() -> None:
    op.create_table(
        "units",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("parent_id", sa.Integer(), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["parent_id"], ["units.id"], name=op.f("fk_units_parent_id_units")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_units")),
    )
    op.create_index(op.f("ix_units_parent_id"), "units", ["parent_id"])
    op.create_index(
        "uq_units_sibling_name",
        "units",
        [sa.text("coalesce(parent_id, 0)"), "name"],
        unique=True,
    )
    op.create_table(
        "unit_paths",
        sa.Column("ancestor_id", sa.Integer(), nullable=False),
        sa.Column("descendant_id", sa.Integer(), nullable=False),
        sa.Column("depth", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["ancestor_id"], ["units.id"], name=op.f("fk_unit_paths_ancestor_id_units")
        ),
        sa.ForeignKeyConstraint(
            ["descendant_id"], ["units.id"], name=op.f("fk_unit_paths_descendant_id_units")
        ),
        sa.PrimaryKeyConstraint("ancestor_id", "descendant_id", name=op.f("pk_unit_paths")),
    )
    op.create_index(op.f("ix_unit_paths_descendant_id"), "unit_paths", ["descendant_id"])

    bind = op.get_bind()
    names = bind.scalars(sa.text("SELECT DISTINCT unit FROM cycles ORDER BY unit")).all()
    if names:
        now = datetime.now(UTC)
        bind.execute(
            sa.insert(UNITS),
            [{"name": n, "parent_id": None, "active": True, "created_at": now} for n in names],
        )
    op.execute("INSERT INTO unit_paths SELECT id, id, 0 FROM units")

    op.add_column("cycles", sa.Column("unit_id", sa.Integer(), nullable=True))
    op.execute("UPDATE cycles SET unit_id = (SELECT u.id FROM units u WHERE u.name = cycles.unit)")

    def to_unit_ids(batch_op) -> None:
        batch_op.drop_index("ix_cycles_status_unit")
        batch_op.drop_constraint("uq_cycles_unit", type_="unique")
        batch_op.alter_column("unit_id", existing_type=sa.Integer(), nullable=False)
        batch_op.create_foreign_key(op.f("fk_cycles_unit_id_units"), "units", ["unit_id"], ["id"])
        batch_op.create_unique_constraint(op.f("uq_cycles_unit_id"), ["unit_id", "cycle_number"])
        batch_op.drop_column("unit")
        batch_op.create_index("ix_cycles_status_unit", ["status", "unit_id"])

    _rebuild_cycles(to_unit_ids)

    op.add_column("tasks", sa.Column("unit_id", sa.Integer(), nullable=True))
    op.execute(
        "UPDATE tasks SET unit_id = (SELECT c.unit_id FROM cycles c WHERE c.id = tasks.cycle_id)"
    )
    _replace_inbox_indexes({n: [*columns, "unit_id"] for n, columns in INBOX_INDEXES.items()})
    op.create_index("ix_tasks_open_group_unit", "tasks", GROUP_UNIT_INDEX)

    op.create_table(
        "memberships",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("group_name", sa.String(length=100), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["group_name"], ["groups.name"], name=op.f("fk_memberships_group_name_groups")
        ),
        sa.ForeignKeyConstraint(
            ["unit_id"], ["units.id"], name=op.f("fk_memberships_unit_id_units")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_memberships_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_memberships")),
    )
    op.create_index(op.f("ix_memberships_unit_id"), "memberships", ["unit_id"])
    op.create_index(
        "uq_memberships_user_group_unit",
        "memberships",
        ["user_id", "group_name", sa.text("coalesce(unit_id, 0)")],
        unique=True,
    )
    op.execute(
        "INSERT INTO memberships (user_id, group_name, unit_id) "
        "SELECT user_id, group_name, NULL FROM user_groups ORDER BY user_id, group_name"
    )
    op.drop_table("user_groups")


def downgrade() -> None:
    """Back to free-text units and organisation-wide groups: a cycle keeps its unit's name,
    a membership held in a unit becomes one in the whole organisation."""
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
    op.execute("INSERT INTO user_groups SELECT DISTINCT user_id, group_name FROM memberships")
    op.drop_table("memberships")

    op.drop_index("ix_tasks_open_group_unit", table_name="tasks")
    _replace_inbox_indexes(INBOX_INDEXES)
    with op.batch_alter_table("tasks") as batch_op:
        batch_op.drop_column("unit_id")

    op.add_column("cycles", sa.Column("unit", sa.String(length=255), nullable=True))
    op.execute("UPDATE cycles SET unit = (SELECT u.name FROM units u WHERE u.id = cycles.unit_id)")

    def to_unit_names(batch_op) -> None:
        batch_op.drop_index("ix_cycles_status_unit")
        batch_op.drop_constraint("uq_cycles_unit_id", type_="unique")
        batch_op.drop_constraint("fk_cycles_unit_id_units", type_="foreignkey")
        batch_op.alter_column("unit", existing_type=sa.String(length=255), nullable=False)
        batch_op.create_unique_constraint(op.f("uq_cycles_unit"), ["unit", "cycle_number"])
        batch_op.drop_column("unit_id")
        batch_op.create_index("ix_cycles_status_unit", ["status", "unit"])

    _rebuild_cycles(to_unit_names)
    op.drop_table("unit_paths")
    op.drop_table("units")
