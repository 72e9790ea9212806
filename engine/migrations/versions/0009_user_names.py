"""User names are unique whatever their case

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02 01:00:00.000000

New names follow the rule of ``engine/user_names.py`` (normalised, lower case, a small
ASCII set, reserved names refused); an index on ``lower(name)`` keeps them unique in the
database. A name already stored against the rule is the admin's to settle: the upgrade
stops naming each one and changes nothing, because renaming a user here would part them
from their tasks and their audit trail without anyone deciding it.
"""

import sqlalchemy as sa
from alembic import op
from picycle.engine.errors import Conflict
from picycle.engine.user_names import normalised, problem_with

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    names = op.get_bind().scalars(sa.text("SELECT name FROM users ORDER BY id")).all()
    problems = _problems(names)
    if problems:
        raise Conflict(
            "cannot upgrade: stored user names break the naming rule: "
            + "; ".join(problems)
            + ". Nothing was changed: rename or remove these users, then upgrade again"
        )
    op.create_index("uq_users_name_lower", "users", [sa.text("lower(name)")], unique=True)


def downgrade() -> None:
    op.drop_index("uq_users_name_lower", table_name="users")


def _problems(names: list[str]) -> list[str]:
    """One line per name that breaks the rule or looks like another stored name."""
    problems = [f"{name!r} {problem}" for name in names if (problem := problem_with(name))]
    first_with: dict[str, str] = {}
    for name in names:
        other = first_with.setdefault(normalised(name), name)
        if other != name:
            problems.append(f"{name!r} differs from {other!r} only in case or form")
    return problems
