"""Alembic environment: runs against the engine picycle hands over in ``config.attributes``."""

from alembic import context
from picycle.engine.db.models import Base

engine = context.config.attributes["engine"]
with engine.connect() as connection:
    sqlite = connection.dialect.name == "sqlite"
    if sqlite:
        # Rebuilding a table (batch mode) drops it, which SQLite refuses while rows of other
        # tables refer to it; enforcement can only be switched outside a transaction.
        connection.connection.dbapi_connection.execute("PRAGMA foreign_keys=OFF")
    try:
        context.configure(
            connection=connection,
            target_metadata=Base.metadata,
            render_as_batch=sqlite,
        )
        with context.begin_transaction():
            context.run_migrations()
            if sqlite:
                broken = connection.exec_driver_sql("PRAGMA foreign_key_check").all()
                if broken:
                    raise RuntimeError(f"the migration broke foreign keys: {broken}")
        connection.commit()
    finally:
        if sqlite:
            connection.rollback()  # what failed; then the switch takes effect
            connection.connection.dbapi_connection.execute("PRAGMA foreign_keys=ON")
