"""``picycle user``: users, their roles, groups, API tokens and passwords.

Admins manage users; without ``--as`` the operator acts as ``system``, an admin."""

from __future__ import annotations

import sys

import click
from picycle.engine import Engine
from picycle.engine.errors import ValidationFailed
from picycle.engine.services import notification_settings, sso_links, users
from picycle.engine.user_names import normalised
from picycle.engine.vocabulary import Role

from .common import ID, acting_as, as_option, echo_json, json_option
from .render import echo, print_tokens, print_users, shown, user_line
from .units import unit_id

ROLES = click.Choice([role.value for role in Role])
UNIT_OPTION = click.option(
    "--unit",
    "in_units",
    multiple=True,
    metavar="UNIT",
    help="Where the --group in the same place holds (a unit's name or id, and the units "
    "below it); without --unit, groups hold in the whole organisation.",
)


def held_in_units(uow, groups: tuple[str, ...], in_units: tuple[str, ...]) -> list:
    """--group and --unit, paired in the order given."""
    if len(in_units) != len(groups):
        raise click.UsageError("give one --unit for each --group, or none at all")
    return [(g, unit_id(uow, u)) for g, u in zip(groups, in_units, strict=True)]


@click.group()
def user() -> None:
    """Add, list and change users; issue and revoke their API tokens; set passwords; link
    them to single sign-on."""


@user.command("add")
@click.argument("name")
@click.option("--role", type=ROLES, default=Role.MEMBER.value, show_default=True, help="Role.")
@click.option("--group", "groups", multiple=True, help="A group (lane) the user works in; repeat.")
@UNIT_OPTION
@as_option
@click.pass_obj
def user_add(engine: Engine, name: str, role: str, groups, in_units, as_user) -> None:
    """Add a user; prints their new API token (shown only once).

    NAME: 1-64 of a-z, 0-9, '.', '-', '_', starting with a letter or digit; kept lower
    case. Reserved names (system, admin, ...) are refused. Memberships in units are
    pairs: --group "Department Team" --unit "Directorate of Planning" --group ..."""
    with engine.unit_of_work() as uow:
        actor = acting_as(uow, as_user)
        known = _known_groups(uow, actor)
        if in_units:
            held = held_in_units(uow, groups, in_units)
            added = users.add_user(uow, actor, name, role, [], held)
        else:
            added = users.add_user(uow, actor, name, role, list(groups))
    click.echo(added.token)
    _note_new_groups(known, groups)


@user.command("list")
@as_option
@json_option
@click.pass_obj
def user_list(engine: Engine, as_user: str | None, as_json: bool) -> None:
    """Every user with their role, groups and whether they are active (admins, auditors)."""
    with engine.unit_of_work(write=False) as uow:
        found = users.list_users(uow, acting_as(uow, as_user))
    echo_json(found) if as_json else print_users(found)


@user.command("groups")
@as_option
@json_option
@click.pass_obj
def user_groups(engine: Engine, as_user: str | None, as_json: bool) -> None:
    """Every group there is, a line each (admins, auditors): a group is made with its
    first member, and a model's lane or candidateGroup names one."""
    with engine.unit_of_work(write=False) as uow:
        found = users.group_names(uow, acting_as(uow, as_user))
    echo_json(found) if as_json else click.echo("\n".join(found))


@user.command("change")
@click.argument("name")
@click.option("--role", type=ROLES, help="The new role.")
@click.option(
    "--group", "groups", multiple=True, help="A group the user works in; repeat; replaces all."
)
@UNIT_OPTION
@click.option("--no-groups", is_flag=True, help="Take the user out of every group.")
@click.option(
    "--active/--inactive",
    default=None,
    help="Reactivate, or deactivate (which revokes every token of theirs).",
)
@as_option
@click.pass_obj
def user_change(engine: Engine, name, role, groups, in_units, no_groups, active, as_user) -> None:
    """Change a user's role, groups or active flag (admins); prints the user as changed.

    --group alone replaces the groups held in the whole organisation; with --unit pairs,
    every membership. The last active admin cannot be demoted or deactivated."""
    if groups and no_groups:
        raise ValidationFailed("give --group or --no-groups, not both")
    if role is None and not groups and not no_groups and active is None:
        raise ValidationFailed(
            "nothing to change: give --role, --group, --no-groups, --active or --inactive"
        )
    new_groups = [] if no_groups else (list(groups) if groups and not in_units else None)
    with engine.unit_of_work() as uow:
        actor = acting_as(uow, as_user)
        known = _known_groups(uow, actor)
        held = held_in_units(uow, groups, in_units) if in_units else None
        changed = users.update_user(
            uow,
            actor,
            name,
            groups=new_groups,
            memberships=[] if no_groups else held,
            role=role,
            active=active,
        )
    echo(user_line(changed))
    _note_new_groups(known, groups)


def _known_groups(uow, actor) -> set[str]:
    """The groups there are, for one who may list them (the others are refused the change
    anyway, with their own reason)."""
    return set(users.group_names(uow, actor)) if actor.reads_everything else set()


def _note_new_groups(known: set[str], groups) -> None:
    """A misspelt group shows at once, not when its member never gets a task."""
    for group in sorted({g.strip() for g in groups} - known - {""}):
        echo(f"note: the group '{shown(group)}' is new: no one was in it before", err=True)


@user.command("token")
@click.argument("name")
@as_option
@click.pass_obj
def user_token(engine: Engine, name: str, as_user: str | None) -> None:
    """Issue NAME a new API token and print it (shown only once); their others keep
    working. A reactivated user needs one: deactivation revoked their tokens."""
    with engine.unit_of_work() as uow:
        issued = users.issue_token(uow, acting_as(uow, as_user), name)
    click.echo(issued.token)


@user.command("revoke")
@click.argument("name")
@as_option
@click.pass_obj
def user_revoke(engine: Engine, name: str, as_user: str | None) -> None:
    """Revoke every API token of NAME (admins, or the user themself)."""
    with engine.unit_of_work() as uow:
        revoked = users.revoke_tokens(uow, acting_as(uow, as_user), name)
    echo(f"revoked {revoked.revoked} token(s) of {shown(revoked.user)}")


@user.command("tokens")
@click.argument("name")
@as_option
@json_option
@click.pass_obj
def user_tokens(engine: Engine, name: str, as_user: str | None, as_json: bool) -> None:
    """List NAME's API tokens, newest first: each one's id (for revoke-token), when it was
    issued and revoked; never the token itself (admins, or the user themself)."""
    with engine.unit_of_work(write=False) as uow:
        found = users.list_tokens(uow, acting_as(uow, as_user), name)
    echo_json(found) if as_json else print_tokens(found)


@user.command("revoke-token")
@click.argument("name")
@click.argument("token_id", metavar="ID", type=ID)
@as_option
@click.pass_obj
def user_revoke_token(engine: Engine, name: str, token_id: int, as_user: str | None) -> None:
    """Revoke NAME's API token ID, as `picycle user tokens NAME` lists it (a leaked one);
    their others keep working (admins, or the user themself)."""
    with engine.unit_of_work() as uow:
        revoked = users.revoke_token(uow, acting_as(uow, as_user), name, token_id)
    echo(f"revoked token {revoked.id} of {shown(normalised(name))}")


@user.command("link")
@click.argument("name")
@click.option(
    "--issuer", required=True, metavar="URL", help="The provider's issuer, as PICYCLE_OIDC_ISSUER."
)
@click.option(
    "--subject",
    required=True,
    metavar="SUB",
    help="The user's subject there: the sub claim of their ID tokens (the refused sign-in "
    "on the audit trail names it).",
)
@as_option
@click.pass_obj
def user_link(engine: Engine, name: str, issuer: str, subject: str, as_user: str | None) -> None:
    """Link NAME, a user who existed before single sign-on, to their identity at the
    provider, so signing in there signs them in as NAME (admins). Never done by name or
    e-mail: check the identity is theirs. An identity linked to another user is refused."""
    with engine.unit_of_work() as uow:
        linked = sso_links.link(uow, acting_as(uow, as_user), name, issuer, subject)
    echo(f"{shown(linked.user)} is linked to {shown(linked.subject)} at {shown(linked.issuer)}")


@user.command("unlink")
@click.argument("name")
@as_option
@click.pass_obj
def user_unlink(engine: Engine, name: str, as_user: str | None) -> None:
    """Remove NAME's link to their identity at the single sign-on provider (admins). Their
    sign-ins end; their password and API tokens keep working."""
    with engine.unit_of_work() as uow:
        removed = sso_links.unlink(uow, acting_as(uow, as_user), name)
    echo(
        f"{shown(removed.user)} is no longer linked to {shown(removed.subject)} "
        f"at {shown(removed.issuer)}"
    )


@user.command("password")
@click.argument("name")
@as_option
@click.pass_obj
def user_password(engine: Engine, name: str, as_user: str | None) -> None:
    """Set NAME's password for signing in to the web pages, read from standard input: its
    first line, or typed twice without echo at a terminal. At least 12 characters. NAME's
    sign-ins end; their API tokens keep working."""
    password = _read_password()
    with engine.unit_of_work() as uow:
        changed = users.set_password(uow, acting_as(uow, as_user), name, password)
    echo(f"{shown(changed.name)} has a new password")


def _read_password() -> str:
    if sys.stdin.isatty():
        return click.prompt("Password", hide_input=True, confirmation_prompt=True)
    line = sys.stdin.readline()
    return line.removesuffix("\n").removesuffix("\r")


def _choice(name: str, what: str):
    flag = name.replace("_", "-")
    return click.option(f"--{flag}/--no-{flag}", name, default=None, help=what)


@user.command("notifications")
@click.argument("name")
@click.option("--email", metavar="ADDRESS", help="Where e-mail goes; '' removes the address.")
@_choice("assigned", "E-mail when a task is assigned to them.")
@_choice("group_open", "E-mail when a task becomes open to one of their groups.")
@_choice("overdue", "E-mail when a task of theirs falls overdue.")
@_choice("digest", "A daily e-mail of their open and overdue tasks.")
@as_option
@json_option
@click.pass_obj
def user_notifications(engine: Engine, name: str, email, as_user, as_json, **choices) -> None:
    """Show NAME's e-mail address and the notifications they get; change them with the
    options (admins for anyone, users for themself with --as)."""
    changing = email is not None or any(value is not None for value in choices.values())
    with engine.unit_of_work(write=changing) as uow:
        actor = acting_as(uow, as_user)
        if changing:
            found = notification_settings.change_settings(uow, actor, name, email, **choices)
        else:
            found = notification_settings.read_settings(uow, actor, name)
    if as_json:
        echo_json(found)
        return
    click.echo(f"email: {found.email or '-'}")
    for choice in notification_settings.CHOICES:
        click.echo(f"{choice}: {'yes' if getattr(found, choice) else 'no'}")
