"""``picycle cycle plan`` and ``cycle unplan``: the next cycle a completed cycle planned,
moved, retitled and called off at the command line."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest


@pytest.fixture
def completed(driver) -> int:
    cycle_id = driver.start()
    driver.work_whole_cycle(cycle_id)
    return cycle_id


def test_the_pi_unit_moves_retitles_and_calls_off_the_plan(picycle, driver, completed):
    # The command line runs on the machine's clock.
    later = (datetime.now(UTC).date() + timedelta(days=20)).isoformat()
    moved = picycle(
        "cycle", "plan", str(completed), "--on", later, "--title", "Round 2", "--as", "pia"
    )
    assert moved.exit_code == 0, moved.output
    assert moved.stdout == f"the next cycle of cycle {completed} starts on {later}: Round 2\n"
    assert driver.cycle(completed).records["next_cycle"] == {"start_on": later, "title": "Round 2"}

    refused = picycle("cycle", "unplan", str(completed), "--reason", "Audit", "--as", "audrey")
    assert refused.exit_code == 1 and "auditor" in refused.stderr
    called_off = picycle("cycle", "unplan", str(completed), "--reason", "The unit merges")
    assert called_off.stdout == f"called off the next cycle of cycle {completed}: Round 2\n"
    last = driver.events(completed)[-1]
    assert (last.type, last.actor, last.data["reason"]) == (
        "next_cycle_skipped",
        "system",
        "The unit merges",
    )
    again = picycle("cycle", "plan", str(completed), "--title", "Round 3", "--as", "pia")
    assert again.exit_code == 1 and "no next cycle waiting" in again.stderr


def test_plan_says_what_it_needs(picycle, completed):
    nothing = picycle("cycle", "plan", str(completed), "--as", "pia")
    assert nothing.exit_code == 2 and "give --on DATE, --title TITLE or both" in nothing.stderr
    garbage = picycle("cycle", "plan", str(completed), "--on", "next week")
    assert garbage.exit_code == 2 and "--on" in garbage.stderr
    past = picycle("cycle", "plan", str(completed), "--on", "2020-01-01")
    assert past.exit_code == 1 and "cannot start in the past" in past.stderr
    assert picycle("cycle", "unplan", str(completed)).exit_code == 2  # no --reason
