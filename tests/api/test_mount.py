"""The API mounted into a host Flask app under a prefix, and served by waitress."""

from __future__ import annotations

import gc
import json
import urllib.request

import pytest
from flask import Flask, jsonify
from picycle.api import init_picycle
from picycle.api.serve import ServeOptions, make_app, serve

from tests.api.conftest import assert_problem, running


@pytest.fixture
def host(engine):
    app = Flask("host")

    @app.get("/")
    def home():
        return "the host's home page"

    @app.get("/users")
    def host_users():
        return jsonify(["the host's own users"])

    @app.errorhandler(404)
    def host_not_found(error):
        return "host: not found", 404

    init_picycle(app, engine, url_prefix="/picycle")
    return app.test_client()


def test_the_api_lives_under_the_prefix(host, tokens):
    response = host.get("/picycle/api/v1/me", headers={"Authorization": f"Bearer {tokens['pia']}"})
    assert response.status_code == 200
    assert response.json["name"] == "pia"
    assert host.get("/picycle/api/v1/health").json["status"] == "ok"


def test_the_host_keeps_its_own_routes_and_error_pages(host):
    assert host.get("/").get_data(as_text=True) == "the host's home page"
    assert host.get("/users").json == ["the host's own users"]
    response = host.get("/nowhere")
    assert (response.status_code, response.get_data(as_text=True)) == (404, "host: not found")
    assert host.delete("/").status_code == 405
    assert host.delete("/").mimetype != "application/problem+json"


def test_errors_under_the_prefix_are_problems(host, tokens):
    assert_problem(host.get("/picycle/api/v1/nothing"), 404)
    assert_problem(host.delete("/picycle/api/v1/cycles"), 405)
    assert_problem(host.get("/picycle/api/v1/cycles"), 401)
    headers = {"Authorization": f"Bearer {tokens['pia']}"}
    assert_problem(host.get("/picycle/api/v1/cycles/4242", headers=headers), 404)
    assert_problem(host.post("/picycle/api/v1/cycles", json={"x": 1}, headers=headers), 422)


def test_the_openapi_document_has_the_prefixed_paths(host):
    document = host.get("/picycle/api/v1/openapi.json").json
    assert "/picycle/api/v1/cycles" in document["paths"]
    assert all(path.startswith("/picycle/api/v1/") for path in document["paths"])
    assert host.get("/picycle/api/v1/docs").status_code == 200


def test_serve_runs_the_api_under_waitress(monkeypatch, tmp_path):
    import waitress.server

    served = {}

    def fake_create_server(app, **options):
        served.update(options, app=app)
        return "server"

    def fake_run(server, stop, grace):
        served["ran"] = (server, grace)
        served["frozen"] = gc.get_freeze_count()

    monkeypatch.setenv("PICYCLE_DATABASE_URL", f"sqlite:///{tmp_path / 'served.db'}")
    monkeypatch.setattr(waitress.server, "create_server", fake_create_server)
    monkeypatch.setattr("picycle.api.serve.limit_waitress", lambda server, limits: None)
    monkeypatch.setattr("picycle.api.serve.run_until_stopped", fake_run)
    try:
        serve(ServeOptions(port=0, threads=4))  # port 0: any free one
    finally:
        gc.unfreeze()
    (listening,) = served["sockets"]  # bound before anything says where it serves
    with listening:
        assert (listening.getsockname()[0], served["threads"]) == ("127.0.0.1", 4)
    # waitress reads no body larger than the largest limit, that of evidence uploads (a
    # file of 20 MiB and the multipart around it).
    assert served["max_request_body_size"] == 20 * 1024 * 1024 + 64 * 1024 + 1
    assert served["ran"] == ("server", 30.0)
    # What the process held before its first request is out of the garbage collector's
    # reach, so full collections walk only what requests made.
    assert served["frozen"] > 0
    assert served["app"].test_client().get("/api/v1/health").json["database"] == "ok"


def test_waitress_answers_over_http(engine):
    from waitress.server import create_server

    server = create_server(make_app(engine), host="127.0.0.1", port=0, threads=2)
    with running(server) as port:
        direct = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        with direct.open(f"http://127.0.0.1:{port}/api/v1/health", timeout=10) as response:
            assert json.load(response) == {"status": "ok", "database": "ok", "schema": "ok"}


def test_the_body_limit_applies_under_the_prefix_only(host, tokens):
    headers = {"Authorization": f"Bearer {tokens['pia']}"}
    big = {"unit": "U", "title": "T", "data": {"x": "y" * 1_100_000}}
    assert_problem(host.post("/picycle/api/v1/cycles", json=big, headers=headers), 413)
