"""The picycle HTTP API: a standalone app (``create_app``) or mounted into a host Flask app
(``init_picycle``)."""

from __future__ import annotations

import io
import json
from http import HTTPStatus
from typing import Any

from flask import Flask, current_app, request
from flask_smorest import Api
from picycle.engine import Engine
from picycle.pages import init_pages
from werkzeug.exceptions import HTTPException

from . import problems
from .context import (
    EXTENSION,
    Picycle,
    body_too_large,
    end_request_uow,
    picycle,
    prepare_request,
)
from .parsing import NameConverter, name_converter_schema
from .schemas import ProblemSchema
from .views import BLUEPRINTS

API_PATH = "/api/v1"
DEFAULT_MAX_CONTENT_LENGTH = 1024 * 1024
DEFAULT_MAX_UPLOAD_LENGTH = 20 * 1024 * 1024  # bundles of model files
CONFIG_PREFIX = "PICYCLE_"
JSON = "application/json"
SWAGGER_UI_CDN = "https://cdn.jsdelivr.net/npm/swagger-ui-dist/"
REDOC_CDN = "https://cdn.jsdelivr.net/npm/redoc/bundles/redoc.standalone.js"

DESCRIPTION = """\
Run performance-improvement cycles: start a unit's cycle, work the tasks in your inbox,
follow what each cycle has recorded.

Send `Authorization: Bearer <token>` with every request except `/health`. Errors are
RFC 9457 problem documents (`application/problem+json`); validation failures list the
offending fields in `errors`. Lists take `limit` (1-200) and `offset`, or `page` (which
overrides `offset`), and return `total`.
"""


class PicycleApi(Api):
    """flask-smorest's Api with problem documents for every error, documented as such, and
    no app-wide error handlers (picycle's blueprints carry their own)."""

    ERROR_SCHEMA = ProblemSchema
    DEFAULT_ERROR_RESPONSE_NAME = None

    def _register_error_handlers(self) -> None:
        pass

    def _register_responses(self) -> None:
        for status in HTTPStatus:
            if status < 400:
                continue
            response: dict[str, Any] = {
                "description": status.phrase,
                "content": {problems.PROBLEM_JSON: {"schema": self.ERROR_SCHEMA}},
            }
            if status == 401:
                response["headers"] = {
                    "WWW-Authenticate": {
                        "description": 'Bearer realm="picycle"',
                        "schema": {"type": "string"},
                    }
                }
            self.spec.components.response(status.name, response, lazy=True)

    def _openapi_json(self):
        """The document, each operation's responses in status-code order."""
        document = self.spec.to_dict()
        for operations in document.get("paths", {}).values():
            for operation in operations.values():
                if isinstance(operation, dict) and "responses" in operation:
                    operation["responses"] = dict(sorted(operation["responses"].items()))
        return current_app.response_class(json.dumps(document, indent=2), mimetype=JSON)

    def register_blueprint(self, blp, *, parameters=None, **options):
        """As flask-smorest's, but the OpenAPI tag is the blueprint's area, not its
        (prefixed) Flask name."""
        super().register_blueprint(blp, parameters=parameters, **options)
        for tag in self.spec._tags:  # apispec keeps no public way to rename a tag
            if tag["name"] == blp.name:
                tag["name"] = blp.area


def init_picycle(
    app: Flask,
    engine: Engine,
    *,
    url_prefix: str = "",
    max_content_length: int | None = None,
    max_upload_length: int | None = None,
) -> PicycleApi:
    """Mount the picycle API into ``app`` at ``{url_prefix}/api/v1``, and its web pages
    at ``{url_prefix}/`` (``picycle.pages.init_pages`` lists their settings).

    Call it while setting the app up. The API's error handlers, body-size limit and
    authentication apply to its own URLs only; the host app's stay as they are. Config
    keys prefixed ``PICYCLE_`` (``PICYCLE_API_TITLE``, ``PICYCLE_OPENAPI_SWAGGER_UI_URL``,
    ...) override the OpenAPI settings; the body limit is ``max_content_length``, else
    ``PICYCLE_MAX_CONTENT_LENGTH``, else 1 MiB, whatever the host's own limit is; that of
    bundle uploads ``max_upload_length``, else ``PICYCLE_MAX_UPLOAD_LENGTH``, else 20 MiB.
    """
    base = url_prefix.rstrip("/") + API_PATH
    app.extensions[EXTENSION] = Picycle(
        engine=engine,
        api_prefix=base,
        max_content_length=int(
            max_content_length
            or app.config.get("PICYCLE_MAX_CONTENT_LENGTH")
            or DEFAULT_MAX_CONTENT_LENGTH
        ),
        max_upload_length=int(
            max_upload_length
            or app.config.get("PICYCLE_MAX_UPLOAD_LENGTH")
            or DEFAULT_MAX_UPLOAD_LENGTH
        ),
    )
    defaults = {
        "API_TITLE": "picycle",
        "API_VERSION": "1",
        "OPENAPI_VERSION": "3.0.3",
        "OPENAPI_URL_PREFIX": base,
        "OPENAPI_JSON_PATH": "openapi.json",
        "OPENAPI_SWAGGER_UI_PATH": "docs",
        "OPENAPI_SWAGGER_UI_URL": SWAGGER_UI_CDN,
        "OPENAPI_REDOC_PATH": "redoc",
        "OPENAPI_REDOC_URL": REDOC_CDN,
        "API_SPEC_OPTIONS": {
            "info": {"description": DESCRIPTION},
            "security": [{"bearerAuth": []}],
        },
    }
    for key, value in defaults.items():
        app.config.setdefault(CONFIG_PREFIX + key, value)
    app.url_map.converters.setdefault("picycle_name", NameConverter)
    api = PicycleApi(app, config_prefix=CONFIG_PREFIX)
    api.register_converter(NameConverter, name_converter_schema)
    api.spec.components.security_scheme(
        "bearerAuth",
        {"type": "http", "scheme": "bearer", "description": "An API token from picycle"},
    )
    for blueprint, path in BLUEPRINTS:
        api.register_blueprint(blueprint, url_prefix=base + path)
    app.before_request(_gate(base))
    init_pages(app, url_prefix=url_prefix, api_prefix=base)
    return api


def _gate(base: str):
    """Under the API's prefix, before anything else: a body declaring more than its route
    takes is refused unread, token or not, whatever the route; unknown URLs and wrong
    methods are problem documents (Flask never lets a blueprint handle those)."""

    def handle():
        if not (request.path == base or request.path.startswith(base + "/")):
            return None
        view = current_app.view_functions.get(request.endpoint or "")
        limit = picycle().body_limit(view)
        if (request.content_length or 0) > limit or not _chunked_body_within(limit):
            return problems.problem(413, body_too_large(limit))
        error = request.routing_exception
        if isinstance(error, HTTPException) and (error.code or 0) >= 400:
            return problems.from_http_exception(error)
        return None

    return handle


def _chunked_body_within(limit: int) -> bool:
    """A chunked body (one that declares no length, from a server that ends its stream) is
    read up to one byte past the limit: over it, False; within it, it is kept and declared
    like any other body. Other requests: True."""
    environ = request.environ
    if request.content_length is not None or not environ.get("wsgi.input_terminated"):
        return True  # werkzeug reads no undeclared body from other servers
    body = bytearray()
    while len(body) <= limit and (chunk := environ["wsgi.input"].read(limit + 1 - len(body))):
        body += chunk
    if len(body) > limit:
        return False
    environ["wsgi.input"] = io.BytesIO(body)
    environ["CONTENT_LENGTH"] = str(len(body))
    environ.pop("HTTP_TRANSFER_ENCODING", None)
    return True


def _setup_blueprints() -> None:
    for blueprint, _ in BLUEPRINTS:
        blueprint.before_request(prepare_request)
        blueprint.teardown_request(end_request_uow)
        problems.register_handlers(blueprint)


_setup_blueprints()


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """The API as an app of its own, with the web pages at ``/``; every error the API
    returns is a problem document.

    ``PICYCLE_ENGINE`` passes a ready ``picycle.engine.Engine`` (tests do); otherwise one is
    opened on ``PICYCLE_DATABASE_URL`` (or the environment's default database).
    """
    app = Flask("picycle")
    app.config.update(config or {})
    engine = app.config.get("PICYCLE_ENGINE") or Engine(app.config.get("PICYCLE_DATABASE_URL"))
    init_picycle(app, engine, max_content_length=app.config.get("MAX_CONTENT_LENGTH"))
    problems.register_handlers(app)
    return app
