"""The link between a user and their identity at the single sign-on provider: the issuer
and the subject the provider names them by. The first sign-in through the provider links
the user it makes; an admin links a user who existed before (with their password and
their history) by hand, never picycle by a name or an e-mail address, which whoever
controls them at the provider could use to take the user over. A user has one link at a
time, and an identity links one user."""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from ..actors import Actor, require_admin, require_reader
from ..db.models import SingleSignOnLink, User
from ..errors import Conflict, Message, NotFound, ValidationFailed
from ..inputs import require_text
from ..read_models import LinkView
from ..uow import UnitOfWork
from ..user_names import normalised
from ..vocabulary import EventType
from .users import get_user

LONGEST = 255  # the columns' length; OpenID Connect Core 1.0 caps a subject there too
# An http(s) URL with a host, as an issuer is (OpenID Connect Discovery 1.0, section 3);
# issuer and subject are compared exactly, so white space around either would make
# another identity, one no provider signs in as.
# White space spelt out: what Python's \s and JSON Schema's (ECMAScript's) take together.
SPACE = r"\t\n\v\f\r \x1c-\x1f\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"
ISSUER_PATTERN = rf"^https?://[^{SPACE}/?#\[\]\x00]+(?:[/?#](?:[^\x00]*[^{SPACE}\x00])?)?$"
ISSUER_MESSAGE = (
    "must be the provider's issuer URL, https (or http) with a host, as its ID tokens name it"
)
SUBJECT_PATTERN = rf"^[^{SPACE}\x00](?:[^\x00]*[^{SPACE}\x00])?$"
SUBJECT_MESSAGE = "must not begin or end with white space: the provider's subject has none"


def linked_user(uow: UnitOfWork, issuer: str, subject: str) -> User | None:
    """The user the identity is linked to."""
    return uow.session.scalar(
        select(User)
        .join(SingleSignOnLink, SingleSignOnLink.user_id == User.id)
        .where(SingleSignOnLink.issuer == issuer, SingleSignOnLink.subject == subject)
    )


def add_link(uow: UnitOfWork, actor: Actor, user: User, issuer: str, subject: str) -> None:
    """The link, recorded, not committed: for a service that has checked the actor may."""
    uow.session.add(
        SingleSignOnLink(user_id=user.id, issuer=issuer, subject=subject, created_at=uow.now)
    )
    uow.session.flush()
    uow.record(actor.name, EventType.USER_LINKED, user=user.name, issuer=issuer, subject=subject)


def find_link(uow: UnitOfWork, actor: Actor, name: str) -> LinkView | None:
    """The user's link, or None (admins and auditors)."""
    require_reader(actor, "see links")
    user = get_user(uow, name)
    link_row = _link_of(uow, user)
    return None if link_row is None else _view(user, link_row)


def read_link(uow: UnitOfWork, actor: Actor, name: str) -> LinkView:
    """The user's link; NotFound when they have none (admins and auditors)."""
    found = find_link(uow, actor, name)
    if found is None:
        raise NotFound(f"{normalised(name)} is not linked to single sign-on")
    return found


def link(uow: UnitOfWork, actor: Actor, name: str, issuer: str, subject: str) -> LinkView:
    """Link the user to the identity (admins). Linking them again to the identity they
    have changes nothing; Conflict when the identity is another user's or the user has
    another one (unlink it first)."""
    require_admin(actor, "link users to single sign-on")
    _check(issuer, subject)
    user = get_user(uow, name)
    # Locked, so two links made at once for the same user queue (the table does not
    # hold a user to one link; it holds an identity to one user).
    uow.session.scalar(select(User.id).where(User.id == user.id).with_for_update())
    holder = linked_user(uow, issuer, subject)
    if holder is not None and holder.id != user.id:
        raise Conflict(
            Message(
                f"the identity {subject} at {issuer} is already linked to {holder.name}; "
                f"unlink {holder.name} first",
                "identity_taken",
                holder=holder.name,
            )
        )
    existing = _link_of(uow, user)
    if existing is not None and holder is None:
        raise Conflict(
            Message(
                f"{user.name} is already linked to {existing.subject} at {existing.issuer}; "
                "unlink them first",
                "linked_elsewhere",
                name=user.name,
            )
        )
    if existing is None:
        try:
            add_link(uow, actor, user, issuer, subject)
        except IntegrityError as error:  # linked to someone else since it was looked up
            raise Conflict(
                f"the identity {subject} at {issuer} was linked to another user at the same "
                "moment; reload and try again"
            ) from error
        existing = _link_of(uow, user)
    linked = _view(user, existing)
    uow.commit()
    return linked


def unlink(uow: UnitOfWork, actor: Actor, name: str) -> LinkView:
    """Remove the user's link (admins); NotFound when they have none. Their sign-ins end:
    the identity may have been the wrong one; their password and API tokens keep working."""
    require_admin(actor, "unlink users from single sign-on")
    user = get_user(uow, name)
    link_row = _link_of(uow, user, lock=True)
    if link_row is None:
        raise NotFound(f"{user.name} is not linked to single sign-on")
    removed = _view(user, link_row)
    uow.session.delete(link_row)
    user.session_version += 1
    uow.record(
        actor.name,
        EventType.USER_UNLINKED,
        user=user.name,
        issuer=removed.issuer,
        subject=removed.subject,
    )
    uow.commit()
    return removed


def _check(issuer: str, subject: str) -> None:
    require_text(issuer=(issuer, LONGEST), subject=(subject, LONGEST))
    if not re.fullmatch(ISSUER_PATTERN, issuer):
        raise ValidationFailed(f"issuer {ISSUER_MESSAGE}", {"issuer": [ISSUER_MESSAGE]})
    if not re.fullmatch(SUBJECT_PATTERN, subject):
        raise ValidationFailed(f"subject {SUBJECT_MESSAGE}", {"subject": [SUBJECT_MESSAGE]})


def _link_of(uow: UnitOfWork, user: User, lock: bool = False) -> SingleSignOnLink | None:
    query = select(SingleSignOnLink).where(SingleSignOnLink.user_id == user.id)
    if lock:
        query = query.with_for_update()
    return uow.session.scalars(query.order_by(SingleSignOnLink.id)).first()


def _view(user: User, link_row: SingleSignOnLink) -> LinkView:
    return LinkView(user.name, link_row.issuer, link_row.subject, link_row.created_at)
