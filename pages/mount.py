"""Mounting the pages into a Flask app beside the API (``init_picycle`` calls this)."""

from __future__ import annotations

import logging
import secrets
from datetime import timedelta

from flask import Flask, make_response, request
from picycle.api.context import end_request_uow
from picycle.engine.errors import ConfigurationError
from picycle.engine.services.sign_in import SignInLimits
from werkzeug.exceptions import HTTPException

from . import errors, views  # noqa: F401  (views: the routes are added on import)
from .blueprint import blueprint
from .content_policy import content_security_policy
from .context import EXTENSION, Pages, find_signed_in_user, form_targets, prepare_request
from .i18n import init_languages
from .single_sign_on import SingleSignOn, single_sign_on

log = logging.getLogger("picycle.pages")
DEFAULT_LIMITS = SignInLimits()
PASSWORD_SIGN_IN = "PICYCLE_PASSWORD_SIGN_IN"


def init_pages(app: Flask, *, url_prefix: str = "", api_prefix: str) -> None:
    """The pages at ``{url_prefix}/``; URLs under ``api_prefix`` stay the API's.

    The session cookie is made Secure (unless ``PICYCLE_SECURE_COOKIES`` is false, for
    local http) and SameSite=Lax unless the host chose otherwise. Without a secret key,
    ``PICYCLE_SECRET_KEY`` is used, else a random one: sessions then end when the process
    does and are not shared between processes. ``PICYCLE_SIGN_IN_MAX_FAILURES_PER_USER``,
    ``..._PER_ADDRESS`` and ``PICYCLE_SIGN_IN_WINDOW_SECONDS`` set the sign-in limits.
    ``PICYCLE_OIDC_*`` configure single sign-on (``single_sign_on.py``);
    ``PICYCLE_PASSWORD_SIGN_IN`` false leaves it the only way to sign in.
    """
    prefix = url_prefix.rstrip("/")
    if not app.secret_key:
        app.secret_key = app.config.get("PICYCLE_SECRET_KEY") or _random_key()
    app.config["SESSION_COOKIE_SECURE"] = _flag(app.config.get("PICYCLE_SECURE_COOKIES", True))
    app.config["SESSION_COOKIE_HTTPONLY"] = True
    if app.config.get("SESSION_COOKIE_SAMESITE") is None:
        app.config["SESSION_COOKIE_SAMESITE"] = "Lax"
    provider, passwords = sign_in_settings(app.config)
    app.extensions[EXTENSION] = Pages(
        api_prefix=api_prefix,
        sign_in_limits=_limits(app),
        single_sign_on=provider,
        passwords=passwords,
    )
    init_languages(app)
    app.register_blueprint(blueprint, url_prefix=prefix or None)
    app.before_request(_gate(prefix, api_prefix))


def sign_in_settings(config) -> tuple[SingleSignOn | None, bool]:
    """The single sign-on provider the settings configure (None: none), and whether users
    may sign in with a password; ConfigurationError naming a wrong setting."""
    provider = single_sign_on(config)
    passwords = _flag(config.get(PASSWORD_SIGN_IN, True))
    if not passwords and provider is None:
        raise ConfigurationError(
            f"{PASSWORD_SIGN_IN} is false but single sign-on is not configured: nobody "
            "could sign in"
        )
    return provider, passwords


def _random_key() -> str:
    log.warning(
        "no secret key set (PICYCLE_SECRET_KEY): sign-ins last until this process ends "
        "and hold in no other process"
    )
    return secrets.token_hex(32)


def _flag(value) -> bool:
    if isinstance(value, str):
        return value.strip().lower() not in ("0", "false", "no", "off", "")
    return bool(value)


def _limits(app: Flask) -> SignInLimits:
    config = app.config
    return SignInLimits(
        per_user=int(config.get("PICYCLE_SIGN_IN_MAX_FAILURES_PER_USER", DEFAULT_LIMITS.per_user)),
        per_address=int(
            config.get("PICYCLE_SIGN_IN_MAX_FAILURES_PER_ADDRESS", DEFAULT_LIMITS.per_address)
        ),
        window=timedelta(
            seconds=float(
                config.get("PICYCLE_SIGN_IN_WINDOW_SECONDS", DEFAULT_LIMITS.window.total_seconds())
            )
        ),
    )


def _gate(prefix: str, api_prefix: str):
    """A URL under the pages' prefix that no page (nor the API) matches, or a method a page
    does not take, gets an error page: Flask never lets a blueprint handle those."""

    def handle():
        path = request.path
        if path == api_prefix or path.startswith(api_prefix + "/"):
            return None
        if prefix and not (path == prefix or path.startswith(prefix + "/")):
            return None
        error = request.routing_exception
        if isinstance(error, HTTPException) and (error.code or 0) >= 400:
            find_signed_in_user()  # the page names them and offers the way on, as any page
            return with_page_headers(make_response(errors.from_http_exception(error)))
        return None

    return handle


PAGE_HEADERS = {
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}


def with_page_headers(response):
    # A user signed in through the provider signs out there too: the form may go on to it.
    response.headers.setdefault("Content-Security-Policy", content_security_policy(form_targets()))
    for name, value in PAGE_HEADERS.items():
        response.headers.setdefault(name, value)
    return response


def _setup_blueprint() -> None:
    blueprint.before_request(prepare_request)
    blueprint.after_request(with_page_headers)
    blueprint.teardown_request(end_request_uow)
    errors.register_handlers(blueprint)


_setup_blueprint()
