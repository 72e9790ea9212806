"""``picycle demo``: three cycles of a directorate of a ministry, narrated step by step.

The first goes through the method's hard parts: a microproject too big to accept, a design
sent back by leadership, and an evaluation that misses its targets and returns to gap
analysis, until both targets are met. The second raises the targets: one is met, the other
missed three times, and leadership carries it into the next cycle. The third is left
running, so the results and the leadership reports show a trend.
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
    # Someone to manage users, units and models, and someone to trace the cycles.
    "ada": (Role.ADMIN, []),
    "audrey": (Role.AUDITOR, []),
}


def holdings(role: Role, held: list[tuple[str, str]]) -> str:
    """What a demo user is: their groups, each in its unit, or else their role."""
    return ", ".join(f"{group} in {unit}" for group, unit in held) or f"the {role.value}"


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

# The microproject designed for each indicator's gap.
MICROPROJECTS = {
    "permits": {
        "title": "Online permit intake",
        "owner": "dana",
        "deliverable": "Applications accepted through the city portal",
    },
    "complaints": {
        "title": "Daily complaint triage",
        "owner": "omar",
        "deliverable": "A triage rota and a shared board",
    },
}
LESSON = "Start with the smallest change that staff can own."
# The second cycle aims higher, with microprojects of its own.
RAISED_TARGETS = {"permits": 95, "complaints": 30}
SECOND_MICROPROJECTS = {
    "permits": {
        "title": "Same-day completeness check",
        "owner": "dana",
        "deliverable": "Every application checked on the day it arrives",
    },
    "complaints": {
        "title": "Complaint follow-up calls",
        "owner": "omar",
        "deliverable": "A call to every complainant within two days",
    },
}
SECOND_LESSONS = (
    "A call settles most complaints before they are written twice.",
    "Missing documents, not staff time, hold permits back.",
    "The last permits wait on other directorates: the next cycle must include them.",
)
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
            self.say(f"added {name} ({holdings(role, held)})")

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

    def plan_and_start_next(self, title: str) -> list[dict[str, Any]]:
        """Pia plans the next cycle for today, which completes this one; the timer worker
        starts it. Its seeded indicators."""
        today = self.engine.clock().date().isoformat()
        self.complete(
            "pia", "plan_next_cycle", {"next_cycle_start": today, "next_cycle_title": title}
        )
        with self.engine.unit_of_work(write=False) as uow:
            cycle = cycles.get_cycle(uow, SYSTEM, self.cycle_id)
        met = cycle.records.get("targets_met")
        self.say(f"\n{cycle_label(cycle)} is {cycle.status}; targets met: {met}")
        self.say(f"  pia planned the next cycle for {today}; the timer worker starts it")
        timers.fire_due_timers(self.engine)
        with self.engine.unit_of_work(write=False) as uow:
            following = cycles.list_cycles(uow, SYSTEM, limit=1).items[0]
        self.cycle_id = following.id
        seeded = self.open_task("assess_performance").form_data["indicators"]
        baselines = ", ".join(f"{i['key']} {i['baseline']}" for i in seeded)
        self.say(f"pia opens {cycle_label(following)}; new baselines: {baselines}")
        return seeded

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

    def design(self, days: int, projects: dict[str, dict[str, str]] = MICROPROJECTS) -> None:
        """A microproject for each gap still open."""
        today = self.engine.clock().date()
        due = (today + timedelta(days=days)).isoformat()
        open_gaps = {
            gap["indicator"] for gap in self.open_task("design_microprojects").form_data["gaps"]
        }
        self.complete(
            "dana",
            "design_microprojects",
            {
                "microprojects": [
                    {**project, "gap": gap, "due": due}
                    for gap, project in projects.items()
                    if gap in open_gaps
                ]
            },
        )

    def implement(self, report: str = "Delivered and in use") -> None:
        with self.engine.unit_of_work(write=False) as uow:
            owners = [
                task.assignee
                for task in cycles.open_tasks(uow, self.cycle_id)
                if task.element_id == "implement_microproject"
            ]
        for owner in owners:
            self.complete(
                owner,
                "implement_microproject",
                {"status": "done", "report": report},
                assignee=owner,
            )

    def evaluate(self, permits: float, complaints: float, lessons: str = LESSON) -> None:
        self.complete(
            "pia",
            "evaluate_results",
            {
                "measurements": [
                    {"indicator": "permits", "actual": permits},
                    {"indicator": "complaints", "actual": complaints},
                ],
                "lessons_learned": lessons,
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
    seeded = demo.plan_and_start_next("Keep the gains")
    raised = [{**i, "target": RAISED_TARGETS[i["key"]]} for i in seeded]
    demo.complete("pia", "assess_performance", {"indicators": raised})
    say("  pia raises the targets: " + ", ".join(f"{k} {v}" for k, v in RAISED_TARGETS.items()))
    for round_, (permits, complaints) in enumerate(((90, 28), (92, 27), (93, 26)), start=1):
        demo.analyse_gaps()
        demo.design(days=30, projects=SECOND_MICROPROJECTS)
        demo.complete("lena", "leadership_approval", {"approved": True, "comment": "Go ahead."})
        demo.implement(report="Running every day")
        demo.evaluate(permits, complaints, lessons=SECOND_LESSONS[round_ - 1])
        if round_ == 1:
            demo.complete(
                "lena",
                "institutionalise_and_share",
                {
                    "standardised_practices": ["Complaint follow-up calls"],
                    "presented_to": "The ministry's management board",
                },
            )
            say("  complaints met and institutionalised; permits back to gap analysis")
    demo.complete(
        "lena",
        "decide_on_cycle",
        {"decision": "continue", "comment": "Permits keep improving: carry on next cycle."},
    )
    say("  three evaluations missed the permits target: leadership carries it on")
    demo.plan_and_start_next("Permits within the week")
