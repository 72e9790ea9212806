"""``picycle demo``: one whole cycle of a demo unit, narrated step by step.

It goes through the method's hard parts: a microproject too big to accept, a design sent
back by leadership, and an evaluation that misses its targets and returns to gap analysis.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from picycle.engine.actors import SYSTEM
from picycle.engine.errors import NotFound, ValidationFailed
from picycle.engine.services import cycles, tasks, users
from picycle.engine.uow import Engine

UNIT = "Demo directorate"
PEOPLE = {
    "pia": ("member", ["PI Unit"]),
    "dana": ("member", ["Department Team"]),
    "omar": ("member", ["Department Team"]),
    "lena": ("member", ["Leadership"]),
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
    def __init__(self, engine: Engine, say: Say):
        self.engine = engine
        self.say = say
        self.cycle_id = 0

    def people(self) -> None:
        with self.engine.unit_of_work() as uow:
            for name, (role, groups) in PEOPLE.items():
                try:
                    users.get_user(uow, name)
                except NotFound:
                    users.add_user(uow, SYSTEM, name, role, groups)
                    self.say(f"added {name} ({', '.join(groups)})")
            uow.commit()

    def start(self) -> str:
        """A unit of its own for each run, so every demo shows a first cycle."""
        with self.engine.unit_of_work() as uow:
            runs = 1
            while cycles.list_cycles(uow, cycles.CycleFilter(unit=f"{UNIT} {runs}"))[1]:
                runs += 1
            unit = f"{UNIT} {runs}"
            cycle = cycles.start_cycle(uow, self.actor(uow, "pia"), unit, "Faster permits")
            uow.commit()
        self.cycle_id = cycle.id
        self.say(f"\npia opens cycle {cycle.cycle_number} of {unit} (#{cycle.id})")
        return unit

    def actor(self, uow, name: str):
        return users.actor_named(uow, name)

    def open_task(self, element_id: str, assignee: str | None = None):
        with self.engine.unit_of_work(write=False) as uow:
            for task in cycles.open_tasks(uow, self.cycle_id):
                if task.element_id == element_id and assignee in (None, task.assignee):
                    return task
        raise NotFound(f"the demo expected an open '{element_id}' task")

    def complete(self, who: str, element_id: str, data: dict[str, Any], assignee=None) -> None:
        task = self.open_task(element_id, assignee)
        with self.engine.unit_of_work() as uow:
            tasks.complete_task(uow, self.actor(uow, who), task.id, data)
            uow.commit()
        self.say(f"[{task.candidate_group}] {who} completes '{task.title}'")

    def attempt(self, who: str, element_id: str, data: dict[str, Any]) -> None:
        """A step the engine is expected to refuse; shows the message the user gets."""
        try:
            self.complete(who, element_id, data)
        except ValidationFailed as refusal:
            self.say(f"  refused: {refusal}")

    def data(self) -> dict[str, Any]:
        with self.engine.unit_of_work(write=False) as uow:
            return cycles.get_cycle(uow, self.cycle_id).data

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
        for gap in self.data().get("gaps", []):
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
        data = self.data()
        for row in data.get("evaluation", []):
            self.say(
                f"  {row['indicator']}: {row['baseline']} -> {row['actual']} "
                f"(target {row['target']}, {'met' if row['met'] else 'not met'})"
            )


def run_demo(engine: Engine, say: Say) -> None:
    demo = _Demo(engine, say)
    demo.people()
    unit = demo.start()
    demo.complete("pia", "assess_performance", {"indicators": INDICATORS})
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
    with engine.unit_of_work(write=False) as uow:
        cycle = cycles.get_cycle(uow, demo.cycle_id)
    say(f"\ncycle #{cycle.id} is {cycle.status}; targets met: {cycle.data.get('targets_met')}")
    with engine.unit_of_work() as uow:
        following = cycles.start_cycle(uow, demo.actor(uow, "pia"), unit, "Keep the gains")
        uow.commit()
    demo.cycle_id = following.id
    seeded = demo.open_task("assess_performance").form_data["indicators"]
    baselines = ", ".join(f"{i['key']} {i['baseline']}" for i in seeded)
    say(f"pia opens cycle {following.cycle_number} (#{following.id}); new baselines: {baselines}")
    say(f"see them with: picycle cycle show {cycle.id}; picycle task list --as pia")
