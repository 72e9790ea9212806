"""The Alembic migrations build exactly the schema the models describe."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from picycle.engine.db.models import Base


def test_migrations_match_the_models(engine):
    with engine.database.connect() as connection:
        context = MigrationContext.configure(connection)
        assert compare_metadata(context, Base.metadata) == []


def test_upgrading_twice_changes_nothing(engine):
    engine.upgrade_schema()
    with engine.database.connect() as connection:
        assert MigrationContext.configure(connection).get_current_revision() is not None
