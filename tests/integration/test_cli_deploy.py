"""``picycle init`` and ``picycle deploy``: what they say, where, and how often."""

from __future__ import annotations

import shutil

from picycle.engine.bundles import shipped_processes

SHIPPED_GROUPS = ("PI Unit", "Department Team", "Leadership")


def test_init_notes_the_empty_groups_once_on_stderr(picycle):
    result = picycle("init")
    assert result.exit_code == 0, result.output
    # The fixture deployed the shipped processes already.
    assert result.stdout == "unchanged: these files are already the latest versions\n"
    assert result.stderr == (
        "note: no user is in group(s) PI Unit, Department Team, Leadership yet; "
        "add users with --group\n"
    )


def test_init_notes_only_the_groups_still_empty_and_nothing_once_all_have_users(picycle):
    picycle("init")
    picycle("user", "add", "pia", "--group", "PI Unit", "--group", "Leadership")
    again = picycle("init")
    assert again.stderr.startswith("note: no user is in group(s) Department Team yet;")
    picycle("user", "add", "dana", "--group", "Department Team")
    assert picycle("init").stderr == ""


def draft(tmp_path, *replacements: tuple[str, str]):
    folder = tmp_path / "draft"
    shutil.copytree(shipped_processes(), folder, ignore=shutil.ignore_patterns("__*"))
    bpmn = folder / "pi_cycle.bpmn"
    text = bpmn.read_text()
    for old, new in replacements:
        text = text.replace(old, new)
    bpmn.write_text(text)
    return folder


def test_deploy_warns_of_each_empty_group_once_on_stderr(picycle, tmp_path):
    picycle("init")
    result = picycle("deploy", str(draft(tmp_path, ('name="Leadership approval"', 'name="Ok"'))))
    assert result.exit_code == 0, result.output
    assert result.stdout == "deployed pi_cycle version 2\n"
    warnings = result.stderr.splitlines()
    assert len(warnings) == 4 and all(w.startswith("warning: pi_cycle.bpmn:") for w in warnings)
    for group in SHIPPED_GROUPS:
        assert sum(f"lane '{group}' names no existing group" in w for w in warnings) == 1


def test_a_refused_deploy_names_each_problem_once_then_sums_up(picycle, tmp_path):
    picycle("init")
    for group in SHIPPED_GROUPS:
        picycle("user", "add", group.split()[0].lower(), "--group", group)
    broken = draft(
        tmp_path,
        (
            "approved == False and design_returns &lt; 5",
            "${approved} === false and design_returns &lt; 5",
        ),
        ("leadership-approval.schema.json", "budget.schema.json"),
    )
    result = picycle("deploy", str(broken))
    assert result.exit_code == 1
    assert result.stdout == ""
    *problems, summary = result.stderr.splitlines()
    assert len(problems) == 2 and all(p.startswith("error: pi_cycle.bpmn:") for p in problems)
    assert sum("JUEL" in p for p in problems) == 1
    assert sum("form 'budget.schema.json' is not in the bundle" in p for p in problems) == 1
    assert "did you mean" not in result.stderr
    assert summary == "error: deploy refused: 2 problems in 1 file; nothing deployed"
    assert "pi_cycle v2" not in picycle("definition", "list").output


def test_a_refused_deploy_counts_its_warnings_in_the_summary(picycle, tmp_path):
    picycle("init")
    broken = draft(
        tmp_path,
        (
            "approved == False and design_returns &lt; 5",
            "approved = = False and design_returns &lt; 5",
        ),
    )
    result = picycle("deploy", str(broken))
    assert result.stderr.splitlines()[-1] == (
        "error: deploy refused: 1 problem in 1 file (and 4 warnings); nothing deployed"
    )
