"""Request bodies are refused by their size before they are read: waitress, which reads a
body whole before the app sees the request, is told each route's limit, so a body over it
is answered 413 (a problem document) as soon as its headers are in, token or not; a chunked
body is cut off when it passes the limit. The app checks again (``app.py``) for servers
other than waitress."""

from __future__ import annotations

import json
from collections.abc import Callable
from http import HTTPStatus

from flask import Flask
from waitress.channel import HTTPChannel
from waitress.parser import HTTPRequestParser
from waitress.server import BaseWSGIServer
from waitress.utilities import RequestEntityTooLarge
from werkzeug.exceptions import HTTPException

from .context import EXTENSION, body_too_large
from .problems import PROBLEM_JSON

# (method, path) -> the largest body that request may have, bytes
LimitFor = Callable[[str, str], int]


def limits_of(app: Flask) -> LimitFor:
    """Each request's body limit as the app's views set it, found by the app's own routing."""
    state = app.extensions[EXTENSION]
    routes = app.url_map.bind("localhost")

    def limit(method: str, path: str) -> int:
        try:
            endpoint, _ = routes.match(path, method)
        except HTTPException:  # no such route: nothing will read the body
            return state.max_content_length
        return state.body_limit(app.view_functions.get(endpoint))

    return limit


def largest_body(app: Flask) -> int:
    state = app.extensions[EXTENSION]
    return max(state.max_content_length, state.max_upload_length, state.evidence_length)


def limit_waitress(server, limit_for: LimitFor) -> None:
    """Make the waitress ``server`` (one listener or several) refuse bodies over their
    route's limit before reading them."""
    listeners = (
        [server]
        if isinstance(server, BaseWSGIServer)
        else [s for s in server.map.values() if isinstance(s, BaseWSGIServer)]
    )
    channel = _channel_class(limit_for)
    for listener in listeners:
        listener.channel_class = channel


def _channel_class(limit_for: LimitFor) -> type[HTTPChannel]:
    class LimitedParser(HTTPRequestParser):
        def received(self, data: bytes) -> int:
            consumed = super().received(data)
            # waitress's own limit, the largest of ours, is said our way too.
            over_waitress = isinstance(self.error, RequestEntityTooLarge)
            if self.headers_finished and not self.empty and (over_waitress or not self.error):
                limit = limit_for(self.command, self.path)
                if over_waitress or max(self.content_length, self.body_bytes_received) > limit:
                    self.error = _TooLarge(limit, self.path)
                    self.completed = True
            return consumed

    class LimitedChannel(HTTPChannel):
        parser_class = LimitedParser

    return LimitedChannel


class _TooLarge(RequestEntityTooLarge):
    """waitress's 413, as the problem document the API answers with."""

    def __init__(self, limit: int, path: str):
        super().__init__(body_too_large(limit))
        self.path = path

    def to_response(self, ident=None):
        status = HTTPStatus.REQUEST_ENTITY_TOO_LARGE
        body = {
            "type": "about:blank",
            "title": status.phrase,
            "status": status.value,
            "detail": self.body,
            "instance": self.path,
        }
        return (
            f"{status.value} {status.phrase}",
            [("Content-Type", PROBLEM_JSON)],
            json.dumps(body).encode(),
        )
