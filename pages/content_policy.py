"""The pages' content security policy: they load nothing from elsewhere and run no inline
script, so a browser refuses any that an injected text would bring; no other site may frame
them (clickjacking); their forms post only here, or to ``form_targets``: the single
sign-on provider, where the sign-in button's post is redirected, and the sign-out
button's for a user who signed in there."""

from __future__ import annotations

from collections.abc import Iterable


def content_security_policy(form_targets: Iterable[str] = ()) -> str:
    targets = " ".join(["'self'", *form_targets])
    return f"default-src 'self'; frame-ancestors 'none'; form-action {targets}; base-uri 'none'"
