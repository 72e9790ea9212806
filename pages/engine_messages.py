"""The engine's messages (refusals, conflicts, a form's field errors) in the reader's
language, chosen by each message's stable code, never by its English wording; a message
without a code, or with one this table lacks, is shown as the engine wrote it."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from .i18n import gettext as _
from .rendering import format_date, format_number, isolated

Say = Callable[[Mapping[str, Any]], str]

# Each code with how to say it; ``p`` holds the message's values, formatted for the reader.
MESSAGES: dict[str, Say] = {
    "no_task": lambda p: _("There is no such task."),
    "no_cycle": lambda p: _("There is no such cycle."),
    "no_unit": lambda p: _("There is no such unit."),
    "task_not_yours": lambda p: _("This task is neither yours nor open to your groups."),
    "task_not_open": lambda p: _("This task is no longer open."),
    "task_not_claimed": lambda p: _("Nobody holds this task."),
    "task_held": lambda p: _("%(holder)s holds this task now.", holder=isolated(p["holder"])),
    "task_assigned": lambda p: _(
        "This task is assigned to %(assignee)s.", assignee=isolated(p["assignee"])
    ),
    "task_for_group": lambda p: _(
        "This task is for the %(group)s group of its unit, and you are not in it.", **p
    ),
    "admin_only": lambda p: _("Only an administrator may do this."),
    "auditors_only": lambda p: _("Only auditors and administrators may read this."),
    "read_only": lambda p: _("Auditors read but do not change anything."),
    "no_part": lambda p: _(
        "You take no part in this cycle yet: its history is for those who act in it, and "
        "for auditors.",
        **p,
    ),
    "unit_out_of_reach": lambda p: _(
        "None of your groups is in unit %(unit)s or a unit above it.", **p
    ),
    "unit_inactive": lambda p: _("Unit %(unit)s is inactive.", unit=isolated(p["unit"])),
    "unit_has_active_unit_below": lambda p: _(
        "Unit %(unit)s has an active unit below it, %(below)s: deactivate the units below "
        "it first, or move them elsewhere.",
        **p,
    ),
    "unit_under_inactive": lambda p: _(
        "Unit %(unit)s is below %(parent)s, which is inactive: reactivate that unit first, "
        "or move this one elsewhere.",
        **p,
    ),
    "cycle_running": lambda p: _(
        "The unit's cycle %(number)s is still running: complete or cancel it first.", **p
    ),
    "cycle_number_taken": lambda p: _(
        "Another cycle was started meanwhile: the unit's next cycle is now number %(number)s.",
        **p,
    ),
    "empty": lambda p: _("Fill this in."),
    "too_long": lambda p: _("Use at most %(limit)s characters.", **p),
    "nul": lambda p: _("Remove the NUL character."),
    "too_short": lambda p: _("Use at least %(limit)s characters.", **p),
    "user_name_character": lambda p: _(
        "Use only lower-case letters a-z, digits, '.', '-' and '_' (not %(character)s).", **p
    ),
    "user_name_start": lambda p: _("Start with a letter or a digit."),
    "user_name_reserved": lambda p: _(
        "This name is reserved for picycle itself; choose another.", **p
    ),
    "unseen_character": lambda p: _(
        "Remove %(character)s: it does not show, or turns the text around.", **p
    ),
    "reserved_name": lambda p: _(
        "The form has a field the engine cannot store; ask an admin to rename it."
    ),
    "required": lambda p: _("This field is required."),
    "unknown_field": lambda p: _("This field is not part of the form."),
    "schema_minimum": lambda p: _("Enter %(limit)s or more.", **p),
    "schema_maximum": lambda p: _("Enter %(limit)s or less.", **p),
    "schema_exclusiveMinimum": lambda p: _("Enter more than %(limit)s.", **p),
    "schema_exclusiveMaximum": lambda p: _("Enter less than %(limit)s.", **p),
    "schema_multipleOf": lambda p: _("Enter a multiple of %(limit)s.", **p),
    "schema_minLength": lambda p: _("Use at least %(limit)s characters.", **p),
    "schema_maxLength": lambda p: _("Use at most %(limit)s characters.", **p),
    "schema_minItems": lambda p: _("Add at least %(limit)s rows.", **p),
    "schema_maxItems": lambda p: _("Use at most %(limit)s rows.", **p),
    "schema_uniqueItems": lambda p: _("Each row must be different."),
    "schema_type": lambda p: _("This is not the kind of value this field takes."),
    "schema_enum": lambda p: _("Choose one of the options offered."),
    "schema_const": lambda p: _("This value cannot be changed."),
    "schema_format": lambda p: _("This is not in the form this field takes (e.g. a date)."),
    "schema_pattern": lambda p: _(
        "This is not in the form this field takes: write it as the note above says."
    ),
    "key_twice": lambda p: _("The indicator key %(key)s is used twice.", **p),
    "not_assessed": lambda p: _("%(key)s is not an indicator assessed in this cycle.", **p),
    "gap_missing": lambda p: _(
        "The gap of indicator %(key)s needs its cause, impact and effort.", **p
    ),
    "not_a_gap": lambda p: _("Choose one of this cycle's gaps: %(gaps)s.", **p),
    "owner_unable": lambda p: _(
        "%(owner)s is not an active user who can work tasks: choose a member or an administrator.",
        **p,
    ),
    "due_in_past": lambda p: _("The due date is in the past."),
    "due_too_far": lambda p: _(
        "A microproject must finish within %(days)s days, by %(latest)s: split it into "
        "smaller ones.",
        **p,
    ),
    "not_an_indicator": lambda p: _("%(key)s is not one of this cycle's indicators.", **p),
    "measured_twice": lambda p: _("%(key)s is measured twice.", **p),
    "not_measured": lambda p: _("Indicator %(key)s has no measurement.", **p),
    "moved_too_often": lambda p: _(
        "The due date was moved %(moves)s times already: record what was done and leave the date.",
        **p,
    ),
    "due_not_ahead": lambda p: _("The new due date must lie after today."),
    "start_in_past": lambda p: _("The next cycle cannot start in the past."),
    "start_too_far": lambda p: _("The next cycle should start within a year, by %(latest)s.", **p),
    "cycle_not_completed": lambda p: _(
        "Only a completed cycle's plan for the next one can be changed."
    ),
    "no_pending_plan": lambda p: _(
        "No next cycle waits to start: it has started, was skipped or was called off."
    ),
    "user_exists": lambda p: _(
        "There is already a user called %(name)s.", name=isolated(p["name"])
    ),
    "last_admin": lambda p: _(
        "%(name)s is the last active administrator: make another user an administrator first.",
        **p,
    ),
    "user_deactivated": lambda p: _(
        "%(name)s is deactivated: reactivate them before issuing a token.", **p
    ),
    "token_revoked": lambda p: _("Token #%(id)s was revoked already.", **p),
    "identity_taken": lambda p: _(
        "This identity is already linked to %(holder)s: unlink %(holder)s first.", **p
    ),
    "linked_elsewhere": lambda p: _(
        "%(name)s is already linked to another identity: unlink it first.", **p
    ),
    "unit_exists": lambda p: _(
        "There is already a unit called %(name)s there.", name=isolated(p["name"])
    ),
    "unit_has_running_cycle": lambda p: _(
        "Unit %(unit)s has a running cycle: complete or cancel it before deactivating the unit.",
        **p,
    ),
}


@dataclass(frozen=True)
class Refusal:
    """An engine's refusal as a page shows it: in the reader's language where its code is
    known, else in the engine's English, marked so for screen readers."""

    text: str
    english: bool


def refusal(error: BaseException) -> Refusal:
    return Refusal(say(error), english=getattr(error, "code", None) not in MESSAGES)


def say(message: object) -> str:
    """A message (or an error's) in the reader's language where its code is known."""
    if isinstance(message, BaseException):
        message = message.args[0] if message.args else str(message)
    saying = MESSAGES.get(getattr(message, "code", None) or "")
    if saying is None:
        return str(message)
    return saying({name: _shown(value) for name, value in message.params.items()})


def say_all(errors: Mapping[str, list]) -> dict[str, list[str]]:
    """Each field's messages in the reader's language."""
    return {path: [say(message) for message in messages] for path, messages in errors.items()}


def _shown(value: Any) -> Any:
    if isinstance(value, date):
        return format_date(value.isoformat())
    if isinstance(value, int | float) and not isinstance(value, bool):
        return format_number(value)
    return value
