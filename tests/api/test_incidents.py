"""Incidents over HTTP: the member whose completion failed is told which incident was
raised; admins list, read, retry and dismiss incidents; nobody else sees them."""

from __future__ import annotations

import pytest
from picycle.engine.actors import SYSTEM
from picycle.engine.services import definitions

from tests.api.conftest import PROBLEM
from tests.spinning import OVERSIZED, PROCESS, bundle


@pytest.fixture
def failed(engine, api, tokens) -> dict:
    """pia's completion of 'look' failed on a script building 200 million characters;
    the problem document she got back."""
    with engine.unit_of_work() as uow:
        definitions.deploy(uow, SYSTEM, bundle(OVERSIZED))
    started = api.post(
        "pia", "/cycles", json={"unit": "Roads", "title": "Spin", "process_id": PROCESS}
    )
    assert started.status_code == 201, started.json
    [look] = started.json["open_tasks"]
    response = api.post("pia", f"/tasks/{look['id']}/complete", json={"data": {"note": "x"}})
    assert response.status_code == 422 and response.mimetype == PROBLEM
    return response.json


def test_the_member_learns_which_step_failed_and_the_incident_raised(failed):
    assert failed["type"] == "urn:picycle:problem:model-error"
    assert "'spin'" in failed["detail"] and "PICYCLE_MODEL_MAX_ITEMS" in failed["detail"]
    assert isinstance(failed["incident"], int)


def test_admins_list_read_and_dismiss_incidents(api, failed):
    listed = api.get("ada", "/incidents")
    assert listed.status_code == 200
    assert [item["id"] for item in listed.json["items"]] == [failed["incident"]]
    path = f"/incidents/{failed['incident']}"
    read = api.get("ada", path).json
    assert (read["element_id"], read["attempted_by"], read["action"]) == (
        "spin",
        "pia",
        "complete_task",
    )
    assert read["budget_limit"] == "PICYCLE_MODEL_MAX_ITEMS"
    no_reason = api.post("ada", f"{path}/dismiss", json={})
    assert no_reason.status_code == 422 and "reason" in no_reason.json["errors"]
    dismissed = api.post("ada", f"{path}/dismiss", json={"reason": "the model is being fixed"})
    assert dismissed.status_code == 200 and dismissed.json["resolution"] == "dismissed"
    assert api.get("ada", "/incidents").json["items"] == []
    assert [i["id"] for i in api.get("ada", "/incidents?state=all").json["items"]] == [read["id"]]
    again = api.post("ada", f"{path}/retry")
    assert again.status_code == 409 and "dismissed by ada" in again.json["detail"]


def test_a_retry_of_the_same_model_fails_again_and_counts(api, failed):
    path = f"/incidents/{failed['incident']}"
    retried = api.post("ada", f"{path}/retry")
    assert retried.status_code == 422 and retried.json["incident"] == failed["incident"]
    assert api.get("ada", path).json["failures"] == 2


@pytest.mark.parametrize("who", ["pia", "audrey"])
def test_only_admins_reach_incidents(api, failed, who):
    path = f"/incidents/{failed['incident']}"
    assert api.get(who, "/incidents").status_code == 403
    assert api.get(who, path).status_code == 403
    assert api.post(who, f"{path}/retry").status_code == 403
    assert api.post(who, f"{path}/dismiss", json={"reason": "no"}).status_code == 403
    assert api.get(None, "/incidents").status_code == 401
    assert api.get("ada", path).json["resolved_at"] is None


def test_an_unknown_incident_is_not_found(api, tokens):
    assert api.get("ada", "/incidents/999").status_code == 404
    assert api.get("ada", "/incidents?state=closed").status_code == 422
