"""A small OpenID Connect provider for the tests, built from authlib's server components and
served over HTTP on 127.0.0.1 (a free port) in a thread: discovery, JWKS (an RS256 key made
for the run), an authorization endpoint that signs in whoever the test says without asking,
authorization and token endpoints that require PKCE (S256), and an end-session endpoint
(RP-Initiated Logout) that sends the browser back only to a registered address.

A test chooses who signs in (``provider.user``) and may make the provider misbehave
(``provider.forge``, ``provider.tamper``) to see picycle refuse what it sends; it sees
every path picycle or a browser asked for (``provider.asked``) and each end-session request
(``provider.ended``)."""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from authlib.integrations.flask_oauth2 import AuthorizationServer
from authlib.oauth2 import OAuth2Error
from authlib.oauth2.rfc6749 import ClientMixin, InvalidRequestError, grants
from authlib.oauth2.rfc7636 import CodeChallenge
from authlib.oidc.core import UserInfo
from authlib.oidc.core.grants import OpenIDCode
from flask import Flask, abort, jsonify, redirect, request
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet, RSAKey
from werkzeug.serving import make_server

CLIENT_ID = "picycle"
CLIENT_SECRET = "a client secret for the tests only"


def new_key(kid: str = "test-key") -> RSAKey:
    return RSAKey.generate_key(2048, parameters={"kid": kid, "use": "sig", "alg": "RS256"})


@dataclass
class Client(ClientMixin):
    redirect_uris: list[str]

    def get_client_id(self):
        return CLIENT_ID

    def get_default_redirect_uri(self):
        return self.redirect_uris[0]

    def get_allowed_scope(self, scope):
        return scope

    def check_redirect_uri(self, redirect_uri):
        return redirect_uri in self.redirect_uris

    def check_client_secret(self, client_secret):
        return secrets.compare_digest(client_secret, CLIENT_SECRET)

    def check_endpoint_auth_method(self, method, endpoint):
        return method == "client_secret_basic"

    def check_response_type(self, response_type):
        return response_type == "code"

    def check_grant_type(self, grant_type):
        return grant_type == "authorization_code"


@dataclass
class Code:
    """An authorization code and what it was issued for."""

    code: str
    redirect_uri: str
    scope: str
    nonce: str | None
    code_challenge: str | None
    code_challenge_method: str | None
    user: dict[str, Any]

    def get_redirect_uri(self):
        return self.redirect_uri

    def get_scope(self):
        return self.scope

    def get_nonce(self):
        return self.nonce

    def get_auth_time(self):
        return int(time.time())

    def get_acr(self):
        return None

    def get_amr(self):
        return None


@dataclass
class Provider:
    """The provider's state, which tests change between requests."""

    key: RSAKey
    redirect_uris: list[str] = field(default_factory=list)
    user: dict[str, Any] = field(default_factory=dict)
    # Claims put into the ID token over the right ones (iss, aud, exp, nonce...).
    forge: dict[str, Any] = field(default_factory=dict)
    # "signature": the ID token's signature spoiled; "key": signed by a key not published.
    tamper: str | None = None
    issuer: str = ""
    codes: dict[str, Code] = field(default_factory=dict)
    token_requests: list[dict[str, str]] = field(default_factory=list)
    # Where signing out may send the browser back to: picycle's sign-in page.
    post_logout_redirect_uris: list[str] = field(default_factory=list)
    # False: the discovery document publishes no end_session_endpoint.
    ends_sessions: bool = True
    asked: list[str] = field(default_factory=list)
    ended: list[dict[str, str]] = field(default_factory=list)

    def reset(self, redirect_uris: list[str]) -> None:
        self.redirect_uris = redirect_uris
        self.post_logout_redirect_uris = [
            uri.removesuffix("/sso/callback") for uri in redirect_uris
        ]
        self.user, self.forge, self.tamper = {}, {}, None
        self.ends_sessions = True
        self.codes.clear()
        self.token_requests.clear()
        self.asked.clear()
        self.ended.clear()

    def id_token(self, token: str) -> str:
        """The ID token as the test wants it sent."""
        if self.forge or self.tamper == "key":
            claims = jwt.decode(token, self.key).claims | self.forge
            key = new_key(self.key.kid) if self.tamper == "key" else self.key
            token = jwt.encode({"alg": "RS256", "kid": self.key.kid}, claims, key)
        if self.tamper == "signature":
            head, body, signature = token.split(".")
            middle = len(signature) // 2
            flipped = "A" if signature[middle] != "A" else "B"
            token = f"{head}.{body}.{signature[:middle]}{flipped}{signature[middle + 1 :]}"
        return token


class RequiredS256(CodeChallenge):
    """PKCE for every client, confidential ones too (authlib requires it of public clients
    only), and only with S256."""

    SUPPORTED_CODE_CHALLENGE_METHOD = ["S256"]

    def validate_code_challenge(self, grant, redirect_uri):
        data = grant.request.payload.data
        if not data.get("code_challenge") or data.get("code_challenge_method") != "S256":
            raise InvalidRequestError("PKCE is required: send a code_challenge made with S256")
        super().validate_code_challenge(grant, redirect_uri)


def _grant(provider: Provider) -> type[grants.AuthorizationCodeGrant]:
    class CodeGrant(grants.AuthorizationCodeGrant):
        TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic"]

        def save_authorization_code(self, code, oauth_request):
            data = oauth_request.payload.data
            provider.codes[code] = Code(
                code,
                oauth_request.payload.redirect_uri,
                oauth_request.scope,
                data.get("nonce"),
                data.get("code_challenge"),
                data.get("code_challenge_method"),
                dict(oauth_request.user),
            )

        def query_authorization_code(self, code, client):
            return provider.codes.get(code)

        def delete_authorization_code(self, authorization_code):
            provider.codes.pop(authorization_code.code, None)

        def authenticate_user(self, authorization_code):
            return authorization_code.user

    return CodeGrant


def _openid(provider: Provider) -> OpenIDCode:
    class Extension(OpenIDCode):
        def resolve_client_private_key(self, client):
            return provider.key

        def get_client_claims(self, client):
            return {"iss": provider.issuer, "aud": [CLIENT_ID], "exp": int(time.time()) + 300}

        def exists_nonce(self, nonce, oauth_request):
            return any(code.nonce == nonce for code in provider.codes.values())

        def generate_user_info(self, user, scope):
            return UserInfo(user)

        def process_token(self, grant, response):
            token = super().process_token(grant, response)
            if "id_token" in token:
                token["id_token"] = provider.id_token(token["id_token"])
            return token

    return Extension(require_nonce=True)


def _app(provider: Provider) -> Flask:
    app = Flask("test_identity_provider")
    server = AuthorizationServer(
        app,
        query_client=lambda client_id: (
            Client(provider.redirect_uris) if client_id == CLIENT_ID else None
        ),
        save_token=lambda token, oauth_request: None,
    )
    server.register_grant(_grant(provider), [RequiredS256(), _openid(provider)])

    @app.before_request
    def note():
        provider.asked.append(request.path)

    @app.get("/.well-known/openid-configuration")
    def discovery():
        ending = {"end_session_endpoint": f"{provider.issuer}/end-session"}
        return jsonify(
            **(ending if provider.ends_sessions else {}),
            issuer=provider.issuer,
            authorization_endpoint=f"{provider.issuer}/authorize",
            token_endpoint=f"{provider.issuer}/token",
            jwks_uri=f"{provider.issuer}/jwks",
            response_types_supported=["code"],
            subject_types_supported=["public"],
            id_token_signing_alg_values_supported=["RS256"],
            code_challenge_methods_supported=["S256"],
            token_endpoint_auth_methods_supported=["client_secret_basic"],
        )

    @app.get("/jwks")
    def jwks():
        return jsonify(KeySet([provider.key]).as_dict(private=False))

    @app.get("/authorize")
    def authorize():
        # Whoever the test chose is signed in and consents.
        try:
            grant = server.get_consent_grant(end_user=provider.user)
        except OAuth2Error as error:
            return server.handle_error_response(None, error)
        return server.create_authorization_response(grant=grant, grant_user=provider.user)

    @app.get("/end-session")
    def end_session():
        """The session ends; the browser goes back only to a registered address, and only
        for a hint this provider signed for this client."""
        asked = request.args.to_dict()
        provider.ended.append(asked)
        hint = asked.get("id_token_hint")
        if hint:
            try:
                claims = jwt.decode(hint, provider.key).claims
            except (JoseError, ValueError):
                abort(400)
            if CLIENT_ID not in claims.get("aud", ()):
                abort(400)
        if asked.get("client_id", CLIENT_ID) != CLIENT_ID:
            abort(400)
        back = asked.get("post_logout_redirect_uri")
        if back is None:
            return "signed out"
        if back not in provider.post_logout_redirect_uris:
            abort(400)
        state = asked.get("state")
        return redirect(f"{back}?state={state}" if state else back)

    @app.post("/token")
    def token():
        provider.token_requests.append(request.form.to_dict())
        return server.create_token_response()

    return app


@contextmanager
def serving(key: RSAKey) -> Iterator[Provider]:
    """The provider, answering on a free port until the block ends."""
    provider = Provider(key)
    server = make_server("127.0.0.1", 0, _app(provider), threaded=True)
    provider.issuer = f"http://127.0.0.1:{server.server_port}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield provider
    finally:
        server.shutdown()
        thread.join()
