"""Health, the OpenAPI document and the docs pages, authentication, and text the databases
cannot store, on both databases."""

from __future__ import annotations

import pytest
from alembic import command
from picycle.api import create_app
from picycle.engine import Engine
from picycle.engine.db.database import alembic_config

from tests.api.conftest import PROBLEM, assert_problem


def test_health_needs_no_token_and_reports_the_database(client):
    response = client.get("/api/v1/health")
    assert response.status_code == 200
    assert response.json == {"status": "ok", "database": "ok", "schema": "ok"}


def test_health_says_when_the_database_cannot_be_reached():
    engine = Engine("postgresql+psycopg://nobody@127.0.0.1:1/none?connect_timeout=2")
    try:
        response = create_app({"PICYCLE_ENGINE": engine}).test_client().get("/api/v1/health")
    finally:
        engine.dispose()
    assert response.status_code == 503
    assert response.json == {
        "status": "unavailable",
        "database": "unreachable",
        "schema": "unknown",
    }
    live = create_app({"PICYCLE_ENGINE": engine}).test_client().get("/api/v1/health/live")
    assert (live.status_code, live.json) == (200, {"status": "ok"})


def test_a_request_the_database_cannot_serve_is_answered_503_to_retry():
    engine = Engine("postgresql+psycopg://nobody@127.0.0.1:1/none?connect_timeout=2")
    try:
        client = create_app({"PICYCLE_ENGINE": engine}).test_client()
        response = client.get("/api/v1/me", headers={"Authorization": "Bearer some-token"})
    finally:
        engine.dispose()
    assert_problem(response, 503)
    assert response.headers["Retry-After"] == "5"
    assert response.json["type"] == "urn:picycle:problem:unavailable"


def test_health_is_not_ready_until_the_schema_is_upgraded(tmp_path):
    engine = Engine(f"sqlite:///{tmp_path / 'old.db'}")
    try:
        command.upgrade(alembic_config(engine.database), "0011")
        client = create_app({"PICYCLE_ENGINE": engine}).test_client()
        response = client.get("/api/v1/health")
        assert response.status_code == 503
        assert response.json == {"status": "unavailable", "database": "ok", "schema": "outdated"}
        engine.upgrade_schema()
        assert client.get("/api/v1/health").json["schema"] == "ok"
    finally:
        engine.dispose()


def test_me_names_the_caller(api):
    response = api.get("dana", "/me")
    assert response.status_code == 200
    assert response.json == {
        "name": "dana",
        "role": "member",
        "groups": ["Department Team"],
        "unit_groups": [],
    }


def test_the_openapi_document_describes_every_area(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    document = response.json
    assert document["openapi"].startswith("3.")
    assert {tag["name"] for tag in document["tags"]} == {
        "health",
        "users",
        "groups",
        "units",
        "cycles",
        "tasks",
        "evidence",
        "audit",
        "process-definitions",
        "results",
        "incidents",
    }
    assert document["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    assert document["paths"]["/api/v1/health"]["get"]["security"] == []
    complete = document["paths"]["/api/v1/tasks/{task_id}/complete"]["post"]
    assert {"200", "401", "403", "404", "409", "422"} <= set(complete["responses"])
    problem = document["components"]["responses"]["UNPROCESSABLE_ENTITY"]["content"]
    assert list(problem) == [PROBLEM]


@pytest.mark.parametrize("page", ["docs", "redoc"])
def test_the_browsable_docs_load_the_document(client, page):
    response = client.get(f"/api/v1/{page}")
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    assert "/api/v1/openapi.json" in response.get_data(as_text=True)


# --- authentication ------------------------------------------------------------------------


BAD_HEADERS = [None, "Bearer", "Bearer ", "Basic cGlhOnBpYQ==", "Bearer pic_not-a-token", "pic_x"]


def test_without_a_valid_token_it_is_401_with_a_bearer_challenge(client, tokens):
    for header in BAD_HEADERS:
        headers = {"Authorization": header} if header is not None else {}
        response = client.get("/api/v1/cycles", headers=headers)
        assert_problem(response, 401, title="Unauthorized")
        assert response.headers["WWW-Authenticate"].startswith("Bearer"), header


def test_401_comes_before_validating_the_request(client, tokens):
    response = client.post("/api/v1/cycles", json={"nonsense": True})
    assert_problem(response, 401)


def test_a_deactivated_users_token_stops_working(api, tokens):
    assert api.get("dana", "/me").status_code == 200
    assert api.patch("ada", "/users/dana", json={"active": False}).status_code == 200
    response = api.get("dana", "/me")
    assert_problem(response, 401)
    assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]


# --- text the databases cannot store: refused before it reaches them, on both ---------


UNSTORABLE = [
    ({"unit": "U\x00", "title": "T"}, "unit"),
    ({"unit": "   ", "title": "T"}, "unit"),
    ({"unit": "U", "title": "T" * 501}, "title"),
    ({"unit": "U", "title": "T", "data": {"k": "\x00"}}, "data"),
    ({"unit": "U", "title": "T", "data": {"\x00": 1}}, "data"),
    ({"unit": "U", "title": "T", "data": "text"}, "data"),
    ({"title": "T"}, "unit"),
]


def test_text_the_database_cannot_store_is_a_422_not_a_500(api):
    for body, field in UNSTORABLE:
        problem = assert_problem(api.post("pia", "/cycles", json=body), 422)
        assert field in problem["errors"], (body, problem)


def test_a_lone_surrogate_is_a_422(api):
    response = api.post(
        "pia",
        "/cycles",
        data='{"unit": "\\ud800", "title": "T"}',
        headers={"Content-Type": "application/json"},
    )
    assert_problem(response, 422)
    assert "unit" in response.json["errors"]


def test_an_out_of_range_date_is_a_422(api):
    response = api.get("pia", "/tasks?due_before=0001-01-01T00:00:00%2B14:00")
    assert_problem(response, 422)
    assert "due_before" in response.json["errors"]
