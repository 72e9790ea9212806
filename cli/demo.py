"""``picycle demo``: one whole cycle of a directorate of a ministry, narrated step by step.

It goes through the method's hard parts: a microproject too big to accept, a design sent
back by leadership, and an evaluation that misses its targets and returns to gap analysis.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from picycle.engine import Engine
from picycle.engine.actors import SYSTEM
from picycle.engine.bundles import read_bundle, shipped_processes
from picycle.engine.config import data_dir
from picycle.engine.errors import Conflict, NotFound, ValidationFailed
from picycle.engine.read_models import CycleDetail, TaskDetail, TaskSummary
from picycle.engine.services import cycles, definitions, inbox, tasks, timers, units, users
from picycle.engine.vocabulary import Role

from .render import cycle_label

MINISTRY = "Ministry of Public Works"
UNIT = "Directorate of Planning"
OTHER_UNIT = "Directorate of Finance"
# name: (role, [(group, the unit the membership holds in)]); the PI unit and leadership sit
# at the ministry and serve every directorate below it.
PEOPLE = {
    "pia": (Role.MEMBER, [("PI Unit", MINISTRY)]),
    "dana": (Role.MEMBER, [("Department Team", UNIT)]),
    "omar": (Role.MEMBER, [("Department Team", UNIT)]),
    "fatima": (Role.MEMBER, [("Department Team", OTHER_UNIT)]),
    "lena": (Role.MEMBER, [("Leadership", MINISTRY)]),
}
INDICATORS = [
    {
        "key": "permits",
        "name": "Permits issued within 30 days",
        "unit": "%",
        "direction": "increase",
        "baseline": 55,
        "target": 80,
    },
    {
        "key": "complaints",
        "name": "Open complaints",
        "unit": "cases",
        "direction": "decrease",
        "baseline": 120,
        "target": 60,
    },
]

Say = Callable[[str], None]


class _Demo:
    """Each step is one unit of work: the services commit and return read models."""

    def __init__(self, engine: Engine, say: Say):
        self.engine = engine
        self.say = say
        self.cycle_id = 0

    def organisation(self) -> None:
        """The ministry and its two directorates; then everyone, a member of their group
        in their unit."""
        ids = {}
        with self.engine.unit_of_work() as uow:
            ids[MINISTRY] = units.add_unit(uow, SYSTEM, MINISTRY).id
        for directorate in (UNIT, OTHER_UNIT):
            with self.engine.unit_of_work() as uow:
                ids[directorate] = units.add_unit(uow, SYSTEM, directorate, ids[MINISTRY]).id
        self.say(f"{MINISTRY}: {UNIT}, {OTHER_UNIT}")
        for name, (role, held) in PEOPLE.items():
            with self.engine.unit_of_work() as uow:
                memberships = [(group, ids[unit]) for group, unit in held]
                users.add_user(uow, SYSTEM, name, role, [], memberships)
            self.say(f"added {name} ({', '.join(f'{g} in {u}' for g, u in held)})")

    def inbox_size(self, who: str) -> int:
        with self.engine.unit_of_work(write=False) as uow:
            return inbox.list_inbox(uow, users.actor_named(uow, who), inbox.InboxQuery()).total

    def start(self, title: str) -> CycleDetail:
        """Pia opens the unit's next cycle."""
        with self.engine.unit_of_work() as uow:
            cycle = cycles.start_cycle(uow, users.actor_named(uow, "pia"), UNIT, title)
        self.cycle_id = cycle.id
        return cycle

    def _open_task(self, uow, element_id: str, assignee: str | None = None) -> TaskSummary:
        for task in cycles.open_tasks(uow, self.cycle_id):
            if task.element_id == element_id and assignee in (None, task.assignee):
                return task
        raise NotFound(f"the demo expected an open '{element_id}' task")

    def open_task(self, element_id: str) -> TaskDetail:
        """The open task with its form data, as the operator (``system``) reads it."""
        with self.engine.unit_of_work(write=False) as uow:
            return tasks.get_task(uow, SYSTEM, self._open_task(uow, element_id).id)

    def complete(self, who: str, element_id: str, data: dict[str, Any], assignee=None) -> None:
        with self.engine.unit_of_work() as uow:
            task = self._open_task(uow, element_id, assignee)
            tasks.complete_task(uow, users.actor_named(uow, who), task.id, data)
        self.say(f"[{task.candidate_group}] {who} completes '{task.title}'")

    def attempt(self, who: str, element_id: str, data: dict[str, Any]) -> None:
        """A step the engine is expected to refuse; shows the message the user gets."""
        try:
            self.complete(who, element_id, data)
        except ValidationFailed as refusal:
            self.say(f"  refused: {refusal}")

    def records(self) -> dict[str, Any]:
        """What the cycle has recorded so far: indicators, gaps, evaluation..."""
        with self.engine.unit_of_work(write=False) as uow:
            return cycles.get_cycle(uow, SYSTEM, self.cycle_id).records

    def analyse_gaps(self) -> None:
        gaps = self.open_task("identify_gaps").form_data["gaps"]
        for gap in gaps:
            self.say(f"  gap on {gap['name']}: {gap['gap']} {gap['unit']}")
        causes = {
            "permits": ("tools_resources", "Applications arrive on paper", 5, 2),
            "complaints": ("capacity", "Nobody triages complaints daily", 4, 3),
        }
        analysed = []
        for gap in gaps:
            category, cause, impact, effort = causes[gap["indicator"]]
            analysed.append(
                {
                    **gap,
                    "cause_category": category,
                    "cause": cause,
                    "impact": impact,
                    "effort": effort,
                }
            )
        self.complete("dana", "identify_gaps", {"gaps": analysed})
        for gap in self.records().get("gaps", []):
            self.say(f"  priority of {gap['indicator']}: {gap.get('priority')}")

    def design(self, days: int) -> None:
        today = self.engine.clock().date()
        due = (today + timedelta(days=days)).isoformat()
        self.complete(
            "dana",
            "design_microprojects",
            {
                "microprojects": [
                    {
                        "title": "Online permit intake",
                        "gap": "permits",
                        "owner": "dana",
                        "due": due,
                        "deliverable": "Applications accepted through the city portal",
                    },
                    {
                        "title": "Daily complaint triage",
                        "gap": "complaints",
                        "owner": "omar",
                        "due": due,
                        "deliverable": "A triage rota and a shared board",
                    },
                ]
            },
        )

    def implement(self) -> None:
        for owner in ("dana", "omar"):
            self.complete(
                owner,
                "implement_microproject",
                {"status": "done", "report": "Delivered and in use"},
                assignee=owner,
            )

    def evaluate(self, permits: float, complaints: float) -> None:
        self.complete(
            "pia",
            "evaluate_results",
            {
                "measurements": [
                    {"indicator": "permits", "actual": permits},
                    {"indicator": "complaints", "actual": complaints},
                ],
                "lessons_learned": "Start with the smallest change that staff can own.",
            },
        )
        for row in self.records().get("evaluation", []):
            self.say(
                f"  {row['indicator']}: {row['baseline']} -> {row['actual']} "
                f"(target {row['target']}, {'met' if row['met'] else 'not met'})"
            )


def fresh_demo_database() -> str:
    """The URL of ``demo.db`` in the data directory, emptied first: every demo starts from
    nothing, and the database picycle's other commands use is never touched."""
    folder = data_dir()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "demo.db"
    for leftover in (path, path.with_name("demo.db-wal"), path.with_name("demo.db-shm")):
        leftover.unlink(missing_ok=True)
    return f"sqlite:///{path}"


def run_demo(engine: Engine, say: Say) -> None:
    engine.upgrade_schema()
    with engine.unit_of_work(write=False) as uow:
        if cycles.list_cycles(uow, SYSTEM).total:
            raise Conflict(
                "the demo needs a database without cycles; run `picycle demo` without "
                "--database-url to get a fresh one of its own"
            )
    demo = _Demo(engine, say)
    demo.organisation()
    # Deployed once its lanes' groups have members, so there is nothing to warn about.
    with engine.unit_of_work() as uow:
        definitions.deploy(uow, SYSTEM, read_bundle(shipped_processes()))
    first = demo.start("Faster permits")
    say(f"\npia opens {cycle_label(first)}")
    demo.complete("pia", "assess_performance", {"indicators": INDICATORS})
    say(
        f"  open tasks for dana ({UNIT}): {demo.inbox_size('dana')}; "
        f"for fatima ({OTHER_UNIT}): {demo.inbox_size('fatima')}"
    )
    demo.analyse_gaps()
    say("dana proposes a year-long project:")
    today = engine.clock().date()
    demo.attempt(
        "dana",
        "design_microprojects",
        {
            "microprojects": [
                {
                    "title": "Digitise the whole directorate",
                    "gap": "permits",
                    "owner": "dana",
                    "due": (today + timedelta(days=365)).isoformat(),
                    "deliverable": "Everything online",
                },
            ]
        },
    )
    demo.design(days=45)
    demo.complete(
        "lena",
        "leadership_approval",
        {"approved": False, "comment": "Name who staffs the triage desk."},
    )
    say(
        "  leadership sent the design back: "
        f"{demo.open_task('design_microprojects').form_data.get('approval_comment')}"
    )
    demo.design(days=45)
    demo.complete("lena", "leadership_approval", {"approved": True, "comment": "Go ahead."})
    demo.implement()
    demo.evaluate(permits=70, complaints=80)
    say("  targets not met: back to gap analysis with the new actuals")
    demo.analyse_gaps()
    demo.design(days=30)
    demo.complete("lena", "leadership_approval", {"approved": True, "comment": "Continue."})
    demo.implement()
    demo.evaluate(permits=84, complaints=55)
    demo.complete(
        "lena",
        "institutionalise_and_share",
        {
            "standardised_practices": ["Online permit intake", "Daily complaint triage"],
            "presented_to": "All directorates at the quarterly meeting",
        },
    )
    today = engine.clock().date().isoformat()
    demo.complete(
        "pia",
        "plan_next_cycle",
        {"next_cycle_start": today, "next_cycle_title": "Keep the gains"},
    )
    with engine.unit_of_work(write=False) as uow:
        cycle = cycles.get_cycle(uow, SYSTEM, demo.cycle_id)
    say(
        f"\n{cycle_label(cycle)} is {cycle.status}; targets met: {cycle.records.get('targets_met')}"
    )
    say(f"  pia planned the next cycle for {today}; the timer worker starts it")
    timers.fire_due_timers(engine)
    with engine.unit_of_work(write=False) as uow:
        following = cycles.list_cycles(uow, SYSTEM, limit=1).items[0]
    demo.cycle_id = following.id
    seeded = demo.open_task("assess_performance").form_data["indicators"]
    baselines = ", ".join(f"{i['key']} {i['baseline']}" for i in seeded)
    say(f"pia opens {cycle_label(following)}; new baselines: {baselines}")
