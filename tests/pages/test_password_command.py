"""``picycle user password NAME``: the password from standard input, then signing in."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from picycle.cli.main import main
from picycle.engine.errors import SignInRefused
from picycle.engine.services import sign_in
from picycle.engine.services.sign_in import SignInLimits


@pytest.fixture
def password_command(driver, database_url):
    def run(*args: str, typed: str):
        return CliRunner().invoke(
            main,
            ["user", "password", *args],
            input=typed,
            env={"PICYCLE_DATABASE_URL": database_url},
        )

    return run


def signs_in(driver, name: str, password: str) -> bool:
    try:
        sign_in.sign_in(driver.engine, name, password, "192.0.2.1", SignInLimits())
    except SignInRefused:
        return False
    return True


def test_the_password_is_read_from_standard_input(password_command, driver):
    result = password_command("pia", typed="a long enough secret\n")
    assert (result.exit_code, result.output) == (0, "pia has a new password\n")
    assert signs_in(driver, "pia", "a long enough secret")
    assert not signs_in(driver, "pia", "a long enough secret\n")


@pytest.mark.parametrize("typed", ["", "\n", "too short\n"])
def test_empty_and_short_passwords_are_refused(password_command, driver, typed):
    result = password_command("pia", typed=typed)
    assert result.exit_code != 0
    assert "password must" in result.output


def test_a_member_sets_only_their_own(password_command, driver):
    assert password_command("pia", "--as", "pia", typed="my own long secret\n").exit_code == 0
    refused = password_command("dana", "--as", "pia", typed="not pia's to set\n")
    assert refused.exit_code != 0 and "only an admin or dana" in refused.output
    assert not signs_in(driver, "dana", "not pia's to set")
