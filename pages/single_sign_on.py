"""Single sign-on with an OpenID Connect provider, configured by ``PICYCLE_OIDC_*`` settings
(the environment of ``picycle serve``, or the app's config keys of the same names; the
README's table lists them). authlib's Flask client does the protocol: discovery, the
authorization code flow with PKCE (S256), state and nonce kept in the session, and the ID
token checked (signature against the provider's JWKS, issuer, audience, expiry, nonce)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from authlib.integrations.base_client import MismatchingStateError
from authlib.integrations.flask_client import FlaskIntegration, FlaskOAuth2App, OAuthError
from flask import current_app, request, session
from joserfc.errors import JoseError
from picycle.engine.errors import ConfigurationError
from picycle.engine.services.single_sign_on import ClaimMapping, Identity, parse_claim_mapping
from requests import RequestException

ISSUER = "PICYCLE_OIDC_ISSUER"
CLIENT_ID = "PICYCLE_OIDC_CLIENT_ID"
CLIENT_SECRET = "PICYCLE_OIDC_CLIENT_SECRET"
CLIENT_SECRET_FILE = "PICYCLE_OIDC_CLIENT_SECRET_FILE"
SCOPES = "PICYCLE_OIDC_SCOPES"
DISPLAY_NAME = "PICYCLE_OIDC_DISPLAY_NAME"
NAME_CLAIM = "PICYCLE_OIDC_USERNAME_CLAIM"
GROUPS_CLAIM = "PICYCLE_OIDC_GROUPS_CLAIM"
MEMBERSHIPS = "PICYCLE_OIDC_MEMBERSHIPS"
MEMBERSHIPS_FILE = "PICYCLE_OIDC_MEMBERSHIPS_FILE"
SETTINGS = (
    ISSUER,
    CLIENT_ID,
    CLIENT_SECRET,
    CLIENT_SECRET_FILE,
    SCOPES,
    DISPLAY_NAME,
    NAME_CLAIM,
    GROUPS_CLAIM,
    MEMBERSHIPS,
    MEMBERSHIPS_FILE,
)
CLIENT_NAME = "picycle_oidc"
LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")
MAX_SUBJECT = 255  # OpenID Connect Core 1.0, section 2
# The longest ID token kept in the session cookie as the hint for signing out at the
# provider (a cookie holds about 4 kB); past it, the client id alone names picycle there.
MAX_HINT = 2500
TIMEOUT = 10  # seconds for each request to the provider
# What a provider that is unreachable, misconfigured or hostile makes authlib raise.
PROTOCOL_ERRORS = (OAuthError, JoseError, RequestException, ValueError)


class SignInNotProven(Exception):
    """The provider's answer did not prove who signed in; the message says why (for the
    audit trail and the log, not for the user)."""


@dataclass(frozen=True)
class Proven:
    """Who signed in, and the ID token that said so: the hint for signing out there
    (None when too long to keep)."""

    identity: Identity
    id_token: str | None


@dataclass(frozen=True)
class SingleSignOn:
    issuer: str
    display_name: str
    name_claim: str
    groups_claim: str
    mapping: ClaimMapping
    client: FlaskOAuth2App

    def start(self, callback_url: str):
        """The redirect to the provider's sign-in, its state, nonce and PKCE verifier kept
        in the session; SignInNotProven when the provider cannot be asked."""
        try:
            self._check_issuer()
            return self.client.authorize_redirect(callback_url)
        except PROTOCOL_ERRORS as error:
            raise _not_proven(error) from None

    def finish(self) -> Proven:
        """Who the provider says signed in, from the request it sent the browser back with;
        SignInNotProven unless its state, code and ID token all hold. A state this browser
        was not sent off with is refused before the provider is asked anything."""
        if self.client.framework.get_state_data(session, request.args.get("state")) is None:
            raise _not_proven(MismatchingStateError())
        claims = {
            "iss": {"essential": True, "value": self.issuer},
            "aud": {"essential": True, "value": self.client.client_id},
            "sub": {"essential": True},
        }
        try:
            self._check_issuer()
            token = self.client.authorize_access_token(claims_options=claims)
        except PROTOCOL_ERRORS as error:
            raise _not_proven(error) from None
        userinfo = token.get("userinfo")
        if not userinfo:
            raise SignInNotProven("the provider sent no ID token")
        subject = str(userinfo["sub"])
        if not 0 < len(subject) <= MAX_SUBJECT or "\x00" in subject:
            raise SignInNotProven(f"the ID token's subject is not 1 to {MAX_SUBJECT} characters")
        name = _claim(userinfo, self.name_claim)
        if not isinstance(name, str) or not name:
            raise SignInNotProven(f"the ID token has no {self.name_claim} claim")
        # An e-mail-like value (an Entra ID UPN) proposes its local part: the rest is no
        # part of a picycle name. A second account proposing the same is refused, not linked.
        proposed = name.rsplit("@", 1)[0] if "@" in name else name
        identity = Identity(self.issuer, subject, proposed, _values(userinfo, self))
        hint = token.get("id_token")
        return Proven(identity, hint if isinstance(hint, str) and len(hint) <= MAX_HINT else None)

    def end_session_url(self, id_token: str | None, return_to: str) -> str | None:
        """Where the browser ends its session at the provider and comes back to
        ``return_to`` (OpenID Connect RP-Initiated Logout 1.0), or None when the provider
        publishes no end_session_endpoint or cannot be asked."""
        try:
            if not self.client.load_server_metadata().get("end_session_endpoint"):
                return None
            return self.client.create_logout_url(
                post_logout_redirect_uri=return_to,
                id_token_hint=id_token,
                client_id=self.client.client_id,
            )["url"]
        except PROTOCOL_ERRORS as error:
            current_app.logger.warning("signing out at the provider failed: %s", error)
            return None

    def origins(self) -> list[str]:
        """Where the sign-in button's and the sign-out button's posts are redirected: the
        issuer's origin and, once the discovery document is known, its authorization and
        end-session endpoints'. The page is never held up asking the provider."""
        known = self.client.server_metadata
        endpoints = (known.get(key) for key in ("authorization_endpoint", "end_session_endpoint"))
        return sorted({_origin(self.issuer), *(_origin(url) for url in endpoints if url)})

    def _check_issuer(self) -> None:
        """The discovery document must name the configured issuer (OpenID Connect
        Discovery 1.0, section 4.3): tokens are checked against it."""
        found = self.client.load_server_metadata().get("issuer")
        if found != self.issuer:
            raise SignInNotProven(f"the discovery document names the issuer {found!r}")


def _not_proven(error: Exception) -> SignInNotProven:
    return SignInNotProven(f"{type(error).__name__}: {error}")


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def _claim(claims: Mapping[str, Any], path: str) -> Any:
    """The claim at a dotted path (Keycloak's ``realm_access.roles``)."""
    found: Any = claims
    for part in path.split("."):
        found = found.get(part) if isinstance(found, Mapping) else None
    return found


def _values(claims: Mapping[str, Any], settings: SingleSignOn) -> frozenset[str]:
    found = _claim(claims, settings.groups_claim)
    if isinstance(found, str):
        return frozenset([found])
    if isinstance(found, list):
        return frozenset(value for value in found if isinstance(value, str))
    return frozenset()


def single_sign_on(config: Mapping[str, Any]) -> SingleSignOn | None:
    """The provider the settings configure, or None without ``PICYCLE_OIDC_ISSUER``;
    ConfigurationError naming the setting that is wrong."""
    issuer = _text(config, ISSUER)
    if not issuer:
        stray = [key for key in SETTINGS if _text(config, key)]
        if stray:
            raise ConfigurationError(f"{stray[0]} is set but {ISSUER} is not")
        return None
    parts = urlsplit(issuer)
    if parts.scheme != "https" and not (parts.scheme == "http" and parts.hostname in LOCAL_HOSTS):
        raise ConfigurationError(
            f"{ISSUER}: {issuer!r} must be an https URL (http only for a provider on this host)"
        )
    client_id = _text(config, CLIENT_ID)
    if not client_id:
        raise ConfigurationError(f"{CLIENT_ID} must be set with {ISSUER}")
    scopes = _text(config, SCOPES) or "openid profile email"
    if "openid" not in scopes.split():
        raise ConfigurationError(f"{SCOPES}: {scopes!r} must include openid")
    secret = _secret(config)
    client = FlaskOAuth2App(
        FlaskIntegration(CLIENT_NAME),
        CLIENT_NAME,
        client_id=client_id,
        client_secret=secret,
        server_metadata_url=issuer.rstrip("/") + "/.well-known/openid-configuration",
        client_kwargs={
            "scope": scopes,
            "code_challenge_method": "S256",
            # Without a secret the client is public: PKCE alone binds the code to it.
            "token_endpoint_auth_method": "client_secret_basic" if secret else "none",
            "default_timeout": TIMEOUT,
        },
    )
    return SingleSignOn(
        issuer=issuer,
        display_name=_text(config, DISPLAY_NAME) or parts.hostname or issuer,
        name_claim=_text(config, NAME_CLAIM) or "preferred_username",
        groups_claim=_text(config, GROUPS_CLAIM) or "groups",
        mapping=_mapping(config),
        client=client,
    )


def _text(config: Mapping[str, Any], key: str) -> str:
    value = config.get(key)
    return str(value).strip() if value is not None else ""


def _from_file(config: Mapping[str, Any], key: str, file_key: str) -> str:
    """The setting ``key``, or the content of the file ``file_key`` names; not both."""
    text, path = _text(config, key), _text(config, file_key)
    if text and path:
        raise ConfigurationError(f"set {key} or {file_key}, not both")
    if not path:
        return text
    try:
        return Path(path).read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigurationError(f"{file_key}: cannot read {path}: {error}") from error


def _secret(config: Mapping[str, Any]) -> str | None:
    return _from_file(config, CLIENT_SECRET, CLIENT_SECRET_FILE) or None


def _mapping(config: Mapping[str, Any]) -> ClaimMapping:
    text = _from_file(config, MEMBERSHIPS, MEMBERSHIPS_FILE)
    if not text:
        return ClaimMapping({})
    source = MEMBERSHIPS_FILE if _text(config, MEMBERSHIPS_FILE) else MEMBERSHIPS
    return parse_claim_mapping(text, source)
