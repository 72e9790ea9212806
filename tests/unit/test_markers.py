"""``-m "not postgres"`` is the SQLite half of the suite: every test that runs on PostgreSQL
is marked ``postgres``, and only those."""

from __future__ import annotations

from pathlib import Path

pytest_plugins = ["pytester"]

MIGRATIONS = Path(__file__).resolve().parents[1] / "integration" / "test_migrations.py"


def collected_with(pytester, marker: str, path: Path):
    """What ``-m MARKER`` collects of ``path``, in one process (no workers to start)."""
    return pytester.runpytest_subprocess(
        "--collect-only", "-q", "-n", "0", "-p", "no:cacheprovider", "-m", marker, path
    )


def test_not_postgres_selects_the_sqlite_tests_alone(pytester):
    # This file runs on PostgreSQL through the database_url fixture's parameters, through
    # a test's own parametrisation of it, and through blank_database_url.
    result = collected_with(pytester, "not postgres", MIGRATIONS)
    collected = {line.split("::")[1] for line in result.outlines if "::" in line}
    assert collected == {
        "test_migrations_match_the_models[sqlite]",
        "test_every_guard_of_the_audit_trail_is_in_place[sqlite]",
        "test_every_write_to_who_is_who_changes_the_directory_token[sqlite]",
        "test_upgrading_twice_changes_nothing[sqlite]",
        "test_migration_0005_moves_each_cycles_chain_head_onto_its_row[sqlite]",
        "test_migration_0012_makes_each_unit_name_a_unit_and_groups_organisation_wide[sqlite]",
    }
    result.stdout.fnmatch_lines(["6/13 tests collected (7 deselected)*"])


def test_not_browser_leaves_the_browser_tests_out(pytester):
    browser_tests = MIGRATIONS.parents[1] / "browser"
    result = collected_with(pytester, "not browser", browser_tests)
    result.stdout.fnmatch_lines(["no tests collected (* deselected)*"])
