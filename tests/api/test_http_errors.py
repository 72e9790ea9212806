"""HTTP-level errors, every one a problem document. They happen before the engine is
asked anything, so they run once, on SQLite."""

from __future__ import annotations

import pytest
from picycle.api import create_app

from tests.api.conftest import PROBLEM, assert_problem

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


def test_an_unknown_url_is_a_404_problem(api, client):
    assert_problem(api.get("pia", "/nothing-here"), 404, type="about:blank", title="Not Found")
    outside = client.get("/elsewhere")  # outside the API: the pages' own 404 page
    assert (outside.status_code, outside.mimetype) == (404, "text/html")
    assert_problem(api.get("pia", "/cycles/not-a-number"), 404)
    assert_problem(api.get("pia", "/cycles/99999999999999999999"), 404)
    assert_problem(api.get("pia", "/tasks/not-a-uuid"), 404)


def test_a_wrong_method_is_a_405_problem_naming_the_allowed_ones(api):
    response = api.delete("ada", "/cycles")
    body = assert_problem(response, 405, title="Method Not Allowed")
    assert "DELETE" in body["detail"]
    assert {"GET", "POST"} <= set(response.headers["Allow"].replace(" ", "").split(","))
    assert_problem(api.put("ada", "/tasks"), 405)


def test_an_id_out_of_range_is_a_404_whatever_the_method(api):
    # Werkzeug said 405 here: the GET rule shares the PATCH rule's pattern.
    for method in (api.patch, api.post, api.delete):
        assert_problem(method("ada", "/units/19174357947"), 404)
        assert_problem(method("ada", "/cycles/99999999999999999999"), 404)


def test_malformed_json_is_a_400_problem(api):
    response = api.post(
        "pia", "/cycles", data='{"unit": "x", ', headers={"Content-Type": "application/json"}
    )
    body = assert_problem(response, 400, title="Bad Request")
    assert "not valid JSON" in body["detail"]


def test_numbers_json_does_not_have_are_a_400(api):
    for number in ["NaN", "Infinity", "-Infinity", "1e400"]:
        body = '{"unit": "U", "title": "T", "data": {"x": NUMBER}}'.replace("NUMBER", number)
        headers = {"Content-Type": "application/json"}
        assert_problem(api.post("pia", "/cycles", data=body, headers=headers), 400)


def test_deeply_nested_json_is_refused(api):
    deep = "[" * 100_000 + "]" * 100_000
    response = api.post(
        "pia",
        "/cycles",
        data='{"unit": "U", "title": "T", "data": {"x": DEEP}}'.replace("DEEP", deep),
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code in (400, 422)
    assert response.mimetype == PROBLEM
    nested = {"x": 1}
    for _ in range(40):
        nested = {"x": nested}
    response = api.post("pia", "/cycles", json={"unit": "U", "title": "T", "data": nested})
    assert_problem(response, 422)


VALIDATION_FAILED = {"type": "urn:picycle:problem:validation-failed"}


def test_a_schema_refusal_is_a_validation_failure_like_the_engines(api, tokens):
    shape = assert_problem(api.post("pia", "/cycles", json={"unit_id": "x", "title": "T"}), 422)
    query = assert_problem(api.get("pia", "/cycles?colour=red"), 422)
    meaning = assert_problem(
        api.post("pia", "/cycles", json={"unit": "Atlantis", "title": "T"}), 422
    )
    for refused in (shape, query, meaning):
        assert {k: refused[k] for k in VALIDATION_FAILED} == VALIDATION_FAILED
        assert refused["title"] == meaning["title"] == "The data is not valid"
        assert set(refused) == {"type", "title", "status", "detail", "instance", "errors"}
    assert list(shape["errors"]) == ["unit_id"]
    assert list(query["errors"]) == ["colour"]


def test_a_body_that_is_not_json_is_a_415_problem(api):
    response = api.post(
        "pia", "/cycles", data="unit=U&title=T", content_type="application/x-www-form-urlencoded"
    )
    assert_problem(response, 415)


def test_a_body_over_the_limit_is_a_413_problem(api):
    response = api.post(
        "pia", "/cycles", json={"unit": "U", "title": "T", "data": {"x": "y" * 1_100_000}}
    )
    assert_problem(response, 413, title="Request Entity Too Large")


def test_the_body_limit_can_be_configured(engine, tokens):
    app = create_app({"PICYCLE_ENGINE": engine, "MAX_CONTENT_LENGTH": 100})
    response = app.test_client().post(
        "/api/v1/cycles",
        json={"unit": "U", "title": "T" * 200},
        headers={"Authorization": f"Bearer {tokens['pia']}"},
    )
    assert_problem(response, 413)


def test_unknown_fields_are_a_422_listing_them(api):
    response = api.post("pia", "/cycles", json={"unit": "U", "title": "T", "colour": "red"})
    body = assert_problem(response, 422)
    assert body["errors"] == {"colour": ["Unknown field."]}


def test_unknown_query_parameters_are_a_422(api):
    body = assert_problem(api.get("pia", "/tasks?scop=all"), 422)
    assert list(body["errors"]) == ["scop"]


def test_a_body_that_is_not_an_object_is_a_422(api):
    body = assert_problem(api.post("pia", "/cycles", json=["unit", "title"]), 422)
    assert "body" in body["errors"]
