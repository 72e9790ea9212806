"""a token that changes with every write to who is who

Every step that offers a task reads who is to be told by e-mail (users, their memberships
and the unit tree). ``directory_version`` holds one random token that triggers replace with
every write to those tables, whoever writes them: a process keeps what it read beside the
token it read it at, and reads again only once the token moved. Random, not counted: a
database restored from a backup cannot bring back a token a process kept.

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-07 23:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None

DIRECTORY_TABLES = ("users", "memberships", "unit_paths")
WRITES = ("INSERT", "UPDATE", "DELETE")

# A new token; upserted, so a deleted row comes back with the next write.
POSTGRES_TOKEN = "(random() * 4611686018427387903)::bigint"
SQLITE_TOKEN = "random()"
NEW_TOKEN = (
    "INSERT INTO directory_version (id, token) VALUES (1, {token}) "
    "ON CONFLICT (id) DO UPDATE SET token = excluded.token"
)
POSTGRES_UP = f"""
CREATE FUNCTION picycle_directory_changed() RETURNS trigger AS $$
BEGIN
    {NEW_TOKEN.format(token=POSTGRES_TOKEN)};
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
""" + "".join(
    f"""CREATE TRIGGER {table}_directory_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE
    ON {table} FOR EACH STATEMENT EXECUTE FUNCTION picycle_directory_changed();
"""
    for table in DIRECTORY_TABLES
)
POSTGRES_DOWN = (
    "".join(f"DROP TRIGGER {table}_directory_changed ON {table};\n" for table in DIRECTORY_TABLES)
    + "DROP FUNCTION picycle_directory_changed();\n"
)


def sqlite_triggers() -> dict[str, str]:
    """The triggers SQLite needs (one per table and kind of write), by name."""
    return {
        f"{table}_directory_{write.lower()}": (
            f"AFTER {write} ON {table} BEGIN {NEW_TOKEN.format(token=SQLITE_TOKEN)}; END"
        )
        for table in DIRECTORY_TABLES
        for write in WRITES
    }


def upgrade() -> None:
    op.create_table(
        "directory_version",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_directory_version")),
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(NEW_TOKEN.format(token=POSTGRES_TOKEN))
        op.execute(POSTGRES_UP)
    else:
        op.execute(NEW_TOKEN.format(token=SQLITE_TOKEN))
        for name, body in sqlite_triggers().items():
            op.execute(f"CREATE TRIGGER {name} {body}")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(POSTGRES_DOWN)
    else:
        for name in sqlite_triggers():
            op.execute(f"DROP TRIGGER {name}")
    op.drop_table("directory_version")
