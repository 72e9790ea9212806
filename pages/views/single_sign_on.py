"""Signing in through the organisation's OpenID Connect provider: the sign-in page's button
posts here (with its CSRF token), the browser goes to the provider and comes back to the
callback, which signs the user in as the provider's ID token says."""

from __future__ import annotations

from flask import abort, current_app, redirect, request, session, url_for
from picycle.api.context import end_request_uow, engine_for_own_transactions
from picycle.engine.services import single_sign_on as signing
from picycle.engine.services.single_sign_on import SingleSignOnRefused

from ..blueprint import blueprint
from ..context import SESSION_ID_TOKEN, begin_session, pages, public
from ..i18n import gettext as _
from ..redirects import local_target
from ..single_sign_on import SignInNotProven, SingleSignOn
from .account import next_target, sign_in_page

# Where to go once signed in; the provider's round trip carries nothing of ours but state.
NEXT = "picycle_sso_next"


def _provider() -> SingleSignOn:
    provider = pages().single_sign_on
    if provider is None:
        abort(404)
    return provider


def _address() -> str:
    return request.remote_addr or "unknown"


@blueprint.post("/sign-in/sso")
@public
def sso_start():
    provider = _provider()
    session[NEXT] = next_target()
    end_request_uow()  # no transaction is held open while the provider answers
    try:
        return provider.start(url_for("picycle_pages.sso_callback", _external=True))
    except SignInNotProven as failed:  # the provider is unreachable or misconfigured
        return _not_proven(provider, failed, 502)


@blueprint.get("/sign-in/sso/callback")
@public
def sso_callback():
    provider = _provider()
    engine = engine_for_own_transactions()  # none held open while the provider answers
    try:
        # Limited as password sign-ins are, per address, before the provider is asked.
        signing.refuse_if_too_many(engine, _address(), pages().sign_in_limits)
    except SingleSignOnRefused:
        return sign_in_page(429, _("Too many failed sign-ins. Wait a few minutes, then try again."))
    try:
        proven = provider.finish()
    except SignInNotProven as failed:
        return _not_proven(provider, failed, 401)
    try:
        done = signing.sign_in(engine, proven.identity, provider.mapping, _address())
    except SingleSignOnRefused as refused:
        return sign_in_page(403, _refusal(refused.reason))
    target = local_target(session.get(NEXT), url_for("picycle_pages.inbox"))
    begin_session(done.name, done.session_version)
    session[SESSION_ID_TOKEN] = proven.id_token or ""
    return redirect(target)


def _not_proven(provider: SingleSignOn, failed: SignInNotProven, status: int):
    current_app.logger.warning("single sign-on failed: %s", failed)
    signing.record_failure(engine_for_own_transactions(), _address(), str(failed))
    problem = _(
        "Signing in with %(provider)s did not work. Try again; if it keeps failing, tell "
        "your administrator.",
        provider=provider.display_name,
    )
    return sign_in_page(status, problem)


def _refusal(reason: str) -> str:
    if reason == "inactive":
        return _("Your picycle account is deactivated. Ask an administrator to reactivate it.")
    if reason == "name_taken":
        return _(
            "A picycle user with your user name already exists and is not linked to your "
            "account at the identity provider. Ask an administrator to sort this out."
        )
    return _(
        "The identity provider gave a user name picycle cannot use. Ask an administrator "
        "to check your user name there."
    )
