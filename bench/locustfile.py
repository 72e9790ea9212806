"""The users of ``bench/load.py``, for locust: people of the three lanes working their
inboxes over HTTP. Each reads its inbox, looks at tasks, completes them with the data a
unit would enter, comments and starts cycles. Two people completing one task at once is
part of the day: the second gets 409, counted apart, not as an error.

Run by ``bench/load.py``, which sets ``PICYCLE_LOAD_PEOPLE`` (a JSON file of names and
tokens, and the units) and ``PICYCLE_LOAD_OUT`` (where the completions answered 200 are
written when the run ends).
"""

from __future__ import annotations

import itertools
import json
import os
import random
import sys
from datetime import date
from pathlib import Path

from locust import FastHttpUser, events, task

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.engine import ReadyTask, form_for  # noqa: E402

SETUP = json.loads(Path(os.environ["PICYCLE_LOAD_PEOPLE"]).read_text())
PEOPLE = itertools.cycle(SETUP["people"])
COMPLETED: list[str] = []
CONFLICTS: list[str] = []


class Member(FastHttpUser):
    """One person; their inbox is the tasks of their groups and those assigned to them."""

    def on_start(self) -> None:
        self.name, token = next(PEOPLE)
        self.auth = {"Authorization": f"Bearer {token}"}
        self.known: list[str] = []

    @task(5)
    def read_inbox(self) -> None:
        offset = random.randrange(0, 200, 20)
        with self.client.get(
            f"/api/v1/tasks?limit=20&offset={offset}",
            name="inbox",
            headers=self.auth,
            catch_response=True,
        ) as response:
            if response.status_code == 200:
                self.known = [item["id"] for item in response.json()["items"]]

    @task(3)
    def view_task(self) -> None:
        if self.known:
            self._view(random.choice(self.known))

    @task(5)
    def complete_task(self) -> None:
        if not self.known:
            return
        task_id = self.known.pop(random.randrange(len(self.known)))
        shown = self._view(task_id)
        if shown is None:
            return
        ready = ReadyTask(task_id, shown["element_id"], shown.get("assignee"), shown["form_data"])
        body = {"data": form_for(ready, date.today())}
        with self.client.post(
            f"/api/v1/tasks/{task_id}/complete",
            json=body,
            name="complete",
            headers=self.auth,
            catch_response=True,
        ) as response:
            if response.status_code == 200:
                COMPLETED.append(task_id)
            elif response.status_code in (404, 409):  # done by someone else meanwhile
                CONFLICTS.append(task_id)
                response.success()

    @task(1)
    def comment(self) -> None:
        if self.known:
            with self.client.post(
                f"/api/v1/tasks/{random.choice(self.known)}/comments",
                json={"text": "Checked with the team"},
                name="comment",
                headers=self.auth,
                catch_response=True,
            ) as response:
                if response.status_code in (404, 409):
                    response.success()

    @task(1)
    def start_cycle(self) -> None:
        unit = random.choice(SETUP["units"])
        with self.client.post(
            "/api/v1/cycles",
            json={"unit": unit, "title": "Faster permits"},
            name="start cycle",
            headers=self.auth,
            catch_response=True,
        ) as response:
            if response.status_code == 409:  # the unit's cycle was started by someone else
                response.success()

    def _view(self, task_id: str) -> dict | None:
        with self.client.get(
            f"/api/v1/tasks/{task_id}", name="view task", headers=self.auth, catch_response=True
        ) as response:
            if response.status_code == 200:
                return response.json()
            if response.status_code in (403, 404):  # completed and gone from their reach
                response.success()
            return None


@events.test_stop.add_listener
def write_outcome(**_) -> None:
    Path(os.environ["PICYCLE_LOAD_OUT"]).write_text(
        json.dumps({"completed": COMPLETED, "conflicts": len(CONFLICTS)})
    )
