"""The API's request and response bodies. Unknown fields in a request are an error (422)."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import fields, validate
from picycle.engine.read_models import MAX_ID
from picycle.engine.services.audit import EXPORT_FORMATS
from picycle.engine.services.comments import MAX_COMMENT_LENGTH
from picycle.engine.services.cycles import DEFAULT_PROCESS
from picycle.engine.services.inbox import SCOPES
from picycle.engine.services.sso_links import (
    ISSUER_MESSAGE,
    ISSUER_PATTERN,
    SUBJECT_MESSAGE,
    SUBJECT_PATTERN,
)
from picycle.engine.user_names import TYPED_PATTERN
from picycle.engine.vocabulary import CycleStatus, IncidentAction, IncidentResolution, Role
from picycle.pages.catalogs import LANGUAGES

from .parsing import Document, Text, Title, UtcDateTime

ROLES = tuple(role.value for role in Role)
CYCLE_STATUSES = tuple(status.value for status in CycleStatus)
MAX_LIMIT = 200
MAX_PAGE = 1_000_000


def _text(low: int, high: int, **kwargs) -> Text:
    return Text(validate=validate.Length(low, high), **kwargs)


# --- problems ----------------------------------------------------------------------------


class ProblemSchema(ma.Schema):
    """An RFC 9457 problem document."""

    type = fields.String(
        required=True,
        metadata={
            "description": "about:blank for HTTP-level errors, urn:picycle:problem:<kind> "
            "for picycle's own (validation-failed, model-error, not-found, conflict, "
            "permission-denied, bad-request)"
        },
    )
    title = fields.String(required=True, metadata={"description": "Short summary of the kind"})
    status = fields.Integer(required=True, metadata={"description": "The HTTP status code"})
    detail = fields.String(metadata={"description": "What went wrong this time, for people"})
    instance = fields.String(metadata={"description": "The path of the request"})
    errors = fields.Dict(
        keys=fields.String(),
        values=fields.List(fields.String()),
        metadata={
            "description": "For validation failures: field path (e.g. indicators.0.target) "
            "-> messages; 'body' or 'query' for the request as a whole"
        },
    )
    incident = fields.Integer(
        metadata={
            "description": "For model errors of a running cycle: the incident raised, which "
            "admins see at /incidents/{id}"
        }
    )


# --- paging ------------------------------------------------------------------------------


class PageArgs(ma.Schema):
    limit = fields.Integer(
        load_default=50,
        validate=validate.Range(1, MAX_LIMIT),
        metadata={"description": f"Items per page, 1 to {MAX_LIMIT}"},
    )
    offset = fields.Integer(
        validate=validate.Range(0, MAX_ID),
        metadata={"description": "Items to skip (default 0)"},
    )
    page = fields.Integer(
        validate=validate.Range(1, MAX_PAGE),
        metadata={"description": "1-based page of `limit` items; when given, offset is ignored"},
    )

    @ma.post_load
    def _to_offset(self, data, **kwargs):
        page = data.pop("page", None)
        if page is not None:
            data["offset"] = (page - 1) * data["limit"]
        data.setdefault("offset", 0)
        return data


class PageSchema(ma.Schema):
    total = fields.Integer(required=True, metadata={"description": "Items matching in all"})
    limit = fields.Integer(required=True)
    offset = fields.Integer(required=True)


# --- users -------------------------------------------------------------------------------


class MembershipSchema(ma.Schema):
    group = fields.String(required=True)
    unit = fields.Integer(
        required=True,
        allow_none=True,
        attribute="unit_id",
        metadata={"description": "The unit's id; null: the whole organisation"},
    )
    unit_name = fields.String(required=True, allow_none=True, attribute="unit")


class NewMembershipSchema(ma.Schema):
    group = _text(1, 100, required=True)
    unit = fields.Integer(
        required=True,
        allow_none=True,
        validate=validate.Range(1, MAX_ID),
        metadata={
            "description": "The id of the unit the membership holds in (and every unit below "
            "it); null: the whole organisation"
        },
    )


def _memberships(description: str) -> fields.List:
    return fields.List(
        fields.Nested(NewMembershipSchema),
        validate=validate.Length(max=200),
        metadata={"description": description},
    )


class _PersonSchema(ma.Schema):
    """Who someone is: what a user's record and the caller's own (``/me``) both begin with."""

    name = fields.String(required=True)
    role = fields.String(required=True, metadata={"enum": list(ROLES)})
    groups = fields.List(
        fields.String(),
        required=True,
        metadata={"description": "The groups held in the whole organisation"},
    )


class UserSchema(_PersonSchema):
    memberships = fields.List(fields.Nested(MembershipSchema), required=True)
    active = fields.Boolean(required=True)
    created_at = fields.DateTime(required=True)


class UserListSchema(ma.Schema):
    items = fields.List(fields.Nested(UserSchema), required=True)
    total = fields.Integer(required=True)


class NewUserSchema(ma.Schema):
    name = _text(
        1,
        100,
        required=True,
        metadata={
            "pattern": TYPED_PATTERN,
            "description": "1-64 of a-z, 0-9, '.', '-', '_' after NFKC normalisation and "
            "lower-casing (`Pia` is kept as `pia`), starting with a letter or digit; "
            "unique whatever its case; reserved names (`system`, the role names, ...) are "
            "refused",
        },
    )
    role = fields.String(load_default=Role.MEMBER.value, validate=validate.OneOf(ROLES))
    groups = fields.List(
        _text(1, 100),
        load_default=list,
        validate=validate.Length(max=50),
        metadata={
            "description": "Groups (lanes) the user works in, in the whole organisation; "
            "made when new"
        },
    )
    memberships = _memberships("Groups the user works in, each in a unit (or null)")


class UserChangeSchema(ma.Schema):
    groups = fields.List(
        _text(1, 100),
        validate=validate.Length(max=50),
        metadata={
            "description": "The user's whole set of groups held in the whole organisation "
            "(those held in units are kept, unless `memberships` is given too)"
        },
    )
    memberships = _memberships(
        "The user's whole list of memberships (with `groups`: those come on top)"
    )
    role = fields.String(validate=validate.OneOf(ROLES))
    active = fields.Boolean(
        metadata={
            "description": "false: every token of the user is revoked; once reactivated, "
            "they need a new one"
        }
    )


class CreatedUserSchema(UserSchema):
    """A user just added (a ``NewUser``): the user's fields and their first token."""

    token = fields.String(
        required=True, metadata={"description": "The user's API token; shown only this once"}
    )

    @ma.pre_dump
    def _flatten(self, created, **kwargs):
        return {**vars(created.user), "token": created.token}


class TokenSchema(ma.Schema):
    user = fields.String(required=True)
    token = fields.String(
        required=True, metadata={"description": "A new API token; shown only this once"}
    )


class KeptTokenSchema(ma.Schema):
    """An API token as kept: never the token itself, which is stored only hashed."""

    id = fields.Integer(
        required=True, metadata={"description": "Names the token when revoking it alone"}
    )
    created_at = fields.DateTime(required=True, metadata={"description": "When it was issued"})
    revoked_at = fields.DateTime(
        required=True, allow_none=True, metadata={"description": "null while it works"}
    )


class LinkSchema(ma.Schema):
    """A user's identity at the single sign-on provider."""

    user = fields.String(required=True)
    issuer = fields.String(required=True, metadata={"description": "The provider's issuer URL"})
    subject = fields.String(
        required=True, metadata={"description": "The sub claim the provider names the user by"}
    )
    linked_at = fields.DateTime(required=True)


class NewLinkSchema(ma.Schema):
    issuer = Text(
        required=True,
        validate=[validate.Length(1, 255), validate.Regexp(ISSUER_PATTERN, error=ISSUER_MESSAGE)],
        metadata={
            "pattern": ISSUER_PATTERN,
            "description": "The provider's issuer URL, exactly as its ID tokens' iss claim "
            "(PICYCLE_OIDC_ISSUER)",
        },
    )
    subject = Text(
        required=True,
        validate=[validate.Length(1, 255), validate.Regexp(SUBJECT_PATTERN, error=SUBJECT_MESSAGE)],
        metadata={
            "pattern": SUBJECT_PATTERN,
            "description": "The user's sub claim there, exactly, without white space around "
            "it; never an e-mail address or a name",
        },
    )


class KeptTokenListSchema(ma.Schema):
    items = fields.List(
        fields.Nested(KeptTokenSchema), required=True, metadata={"description": "Newest first"}
    )
    total = fields.Integer(required=True)


class RevokedSchema(ma.Schema):
    user = fields.String(required=True)
    revoked = fields.Integer(required=True, metadata={"description": "Tokens revoked"})


class MeSchema(_PersonSchema):
    unit_groups = fields.List(
        fields.Nested(NewMembershipSchema),
        required=True,
        metadata={"description": "Each group and unit the caller's unit memberships cover"},
    )


# --- units -------------------------------------------------------------------------------


class UnitSchema(ma.Schema):
    id = fields.Integer(required=True)
    name = fields.String(required=True)
    parent_id = fields.Integer(required=True, allow_none=True)
    active = fields.Boolean(required=True)
    created_at = fields.DateTime(required=True)
    path = fields.List(
        fields.String(),
        required=True,
        metadata={"description": "The names from the top of the tree down to this unit"},
    )


class GroupListSchema(ma.Schema):
    items = fields.List(fields.String(), required=True, metadata={"description": "By name"})
    total = fields.Integer(required=True)


class UnitListSchema(ma.Schema):
    items = fields.List(
        fields.Nested(UnitSchema),
        required=True,
        metadata={"description": "Each unit followed by the units below it"},
    )
    total = fields.Integer(required=True)


class NewUnitSchema(ma.Schema):
    name = _text(1, 255, required=True, metadata={"description": "Unique among its siblings"})
    parent_id = fields.Integer(
        load_default=None,
        allow_none=True,
        validate=validate.Range(1, MAX_ID),
        metadata={"description": "The unit above it; null: the top of the tree"},
    )


class UnitChangeSchema(ma.Schema):
    name = _text(1, 255)
    parent_id = fields.Integer(
        allow_none=True,
        validate=validate.Range(1, MAX_ID),
        metadata={"description": "Move the unit, with the units below it; null: to the top"},
    )
    active = fields.Boolean(
        metadata={"description": "false: refused (409) while one of its cycles runs"}
    )


class UnitMemberSchema(ma.Schema):
    user = fields.String(required=True)
    group = fields.String(required=True)
    held_in_id = fields.Integer(
        required=True,
        allow_none=True,
        metadata={"description": "The unit the membership is held in; null: the organisation"},
    )
    held_in = fields.String(required=True, allow_none=True)


class UnitMemberListSchema(ma.Schema):
    items = fields.List(fields.Nested(UnitMemberSchema), required=True)
    total = fields.Integer(required=True)


# --- tasks -------------------------------------------------------------------------------


class TaskSchema(ma.Schema):
    id = fields.String(required=True)
    cycle_id = fields.Integer(required=True)
    element_id = fields.String(required=True, metadata={"description": "The BPMN task's id"})
    title = fields.String(required=True)
    candidate_group = fields.String(
        required=True, allow_none=True, metadata={"description": "The lane (group) it is for"}
    )
    assignee = fields.String(required=True, allow_none=True)
    claimed_by = fields.String(required=True, allow_none=True)
    state = fields.String(required=True, metadata={"description": "open, completed or withdrawn"})
    created_at = fields.DateTime(required=True)
    due_at = fields.DateTime(required=True, allow_none=True)


class TaskDetailSchema(TaskSchema):
    instructions = fields.String(required=True, allow_none=True)
    ended_at = fields.DateTime(required=True, allow_none=True)
    completed_by = fields.String(required=True, allow_none=True)
    form_schema = fields.Dict(
        required=True,
        allow_none=True,
        metadata={"description": "The JSON Schema of the task's form; null without a form"},
    )
    form_data = fields.Dict(
        required=True, metadata={"description": "The data the form starts from"}
    )


class TaskPageSchema(PageSchema):
    items = fields.List(fields.Nested(TaskSchema), required=True)


class InboxArgs(PageArgs):
    scope = fields.String(
        load_default="mine",
        validate=validate.OneOf(SCOPES),
        metadata={
            "description": "mine: held by or assigned to you, plus your groups' unheld "
            "tasks; groups: only your groups' unheld tasks; all: every open task "
            "(admins and auditors)"
        },
    )
    cycle = fields.Integer(validate=validate.Range(1, MAX_ID))
    unit = _text(
        1,
        255,
        blank=True,
        metadata={"description": "A unit's name: its tasks and those below (422 if none has it)"},
    )
    process_id = _text(1, 255, blank=True)
    overdue = fields.Boolean(load_default=False)
    due_before = UtcDateTime()
    sort = fields.String(load_default="created", validate=validate.OneOf(("due", "created")))


class CompletionSchema(ma.Schema):
    data = Document(
        load_default=dict, metadata={"description": "The form data, checked against the form"}
    )


class CommentSchema(ma.Schema):
    id = fields.Integer(required=True)
    task_id = fields.String(required=True)
    author = fields.String(required=True)
    text = fields.String(required=True)
    created_at = fields.DateTime(required=True)


class CommentListSchema(ma.Schema):
    items = fields.List(fields.Nested(CommentSchema), required=True)


class NewCommentSchema(ma.Schema):
    text = _text(1, MAX_COMMENT_LENGTH, required=True)


class EvidenceSchema(ma.Schema):
    id = fields.Integer(required=True)
    task_id = fields.String(required=True)
    cycle_id = fields.Integer(required=True)
    name = fields.String(
        required=True,
        metadata={"description": "The file's name as sent, without folders or control characters"},
    )
    media_type = fields.String(
        required=True,
        metadata={"description": "The type its content shows (not the one declared)"},
    )
    size = fields.Integer(required=True, metadata={"description": "Bytes"})
    sha256 = fields.String(required=True, metadata={"description": "Hex SHA-256 of the content"})
    attached_by = fields.String(required=True)
    attached_at = fields.DateTime(required=True)


class EvidenceListSchema(ma.Schema):
    items = fields.List(fields.Nested(EvidenceSchema), required=True)


# --- cycles ------------------------------------------------------------------------------


class CycleSchema(ma.Schema):
    id = fields.Integer(required=True)
    status = fields.String(required=True, metadata={"enum": list(CYCLE_STATUSES)})
    unit_id = fields.Integer(required=True)
    unit = fields.String(required=True, metadata={"description": "The unit's name"})
    title = fields.String(required=True)
    cycle_number = fields.Integer(required=True)
    previous_cycle_id = fields.Integer(required=True, allow_none=True)
    process_id = fields.String(required=True)
    version = fields.Integer(required=True, metadata={"description": "Of the process"})
    started_at = fields.DateTime(required=True)
    started_by = fields.String(required=True)
    ended_at = fields.DateTime(required=True, allow_none=True)


def _recorded(name: str, description: str) -> fields.Raw:
    """One of the cycle's ``records``, shown at the top of the cycle."""
    return fields.Raw(
        attribute=f"records.{name}",
        metadata={"description": f"{description}, as the process recorded it; absent until then"},
    )


class CycleDetailSchema(CycleSchema):
    """A cycle with its open tasks and what it has recorded. The records are shown as the
    process keeps them (the PI cycle keeps lists of objects and a boolean), whatever their
    shape."""

    open_tasks = fields.List(fields.Nested(TaskSchema), required=True)
    indicators = _recorded(
        "indicators", "The indicators: key, name, unit, direction, baseline, target"
    )
    gaps = _recorded("gaps", "The gaps per indicator, with cause and priority")
    microprojects = _recorded(
        "microprojects", "The microprojects: title, gap, owner, due, deliverable"
    )
    evaluation = _recorded("evaluation", "The evaluation: measurements against baseline and target")
    targets_met = _recorded("targets_met", "Whether the evaluation met every target (true/false)")


class CyclePageSchema(PageSchema):
    items = fields.List(fields.Nested(CycleSchema), required=True)


class CycleArgs(PageArgs):
    unit = _text(
        1,
        255,
        blank=True,
        metadata={"description": "A unit's name: its cycles and those below (422 if none has it)"},
    )
    status = fields.String(validate=validate.OneOf(CYCLE_STATUSES))
    process_id = _text(1, 255, blank=True)


class NewCycleSchema(ma.Schema):
    process_id = _text(1, 255, load_default=DEFAULT_PROCESS)
    unit = _text(
        1,
        255,
        metadata={"description": "The unit's name, when no other unit has it (or unit_id)"},
    )
    unit_id = fields.Integer(
        validate=validate.Range(1, MAX_ID), metadata={"description": "The unit"}
    )
    title = Title(required=True)
    data = Document(metadata={"description": "Extra start data for the process"})

    @ma.validates_schema
    def _one_unit(self, data, **kwargs):
        if ("unit" in data) == ("unit_id" in data):
            raise ma.ValidationError("give the unit's name or its id", "unit")


class ReportArgs(ma.Schema):
    lang = fields.String(
        validate=validate.OneOf(LANGUAGES),
        metadata={"description": "The report's language; without it, Accept-Language decides"},
    )


class CancelSchema(ma.Schema):
    reason = _text(1, 2000, required=True)


class PlannedCycleSchema(ma.Schema):
    """The next cycle a completed cycle planned."""

    cycle_id = fields.Integer(required=True, metadata={"description": "The planning cycle"})
    start_on = fields.Date(required=True, metadata={"description": "It starts that day (UTC)"})
    title = fields.String(required=True)
    pending = fields.Boolean(
        required=True,
        metadata={"description": "Still to start by itself: not started, skipped or called off"},
    )
    may_change = fields.Boolean(
        required=True, metadata={"description": "The caller may move, retitle or call it off"}
    )
    followed_by = fields.Integer(
        allow_none=True,
        metadata={
            "description": "The unit's cycle that came after, once one started (the plan's "
            "or another); null until then, or when the caller may not see it"
        },
    )


class PlanChangeSchema(ma.Schema):
    """What changes; what is left out stays as planned."""

    start_on = fields.Date(
        metadata={"description": "The new start date: today at the earliest, within a year"}
    )
    title = Title(metadata={"description": "The next cycle's new title"})


class HealthSchema(ma.Schema):
    status = fields.String(required=True, metadata={"enum": ["ok", "unavailable"]})
    database = fields.String(required=True, metadata={"enum": ["ok", "unreachable"]})
    schema = fields.String(
        required=True,
        metadata={
            "enum": ["ok", "outdated", "unknown"],
            "description": "outdated: `picycle init` has not upgraded it to this version",
        },
    )


class LivenessSchema(ma.Schema):
    status = fields.String(required=True, metadata={"enum": ["ok"]})


# --- audit -------------------------------------------------------------------------------


class AuditEventSchema(ma.Schema):
    seq = fields.Integer(
        required=True, metadata={"description": "Sequence number: the order of recording"}
    )
    at = fields.DateTime(required=True)
    actor = fields.String(required=True, metadata={"description": "Who acted (or `system`)"})
    type = fields.String(
        required=True,
        metadata={
            "description": "What happened: cycle_started, task_created, task_claimed, "
            "task_completed, access_denied, ..."
        },
    )
    cycle_id = fields.Integer(required=True, allow_none=True)
    task_id = fields.String(required=True, allow_none=True)
    element_id = fields.String(
        required=True, allow_none=True, metadata={"description": "The BPMN element's id"}
    )
    data = fields.Dict(
        required=True, metadata={"description": "The event's facts (form data, reason, ...)"}
    )
    hash = fields.String(
        required=True,
        metadata={"description": "SHA-256 sealing the event to the one before it in its chain"},
    )


class AuditEventPageSchema(PageSchema):
    items = fields.List(fields.Nested(AuditEventSchema), required=True)


class AuditEventArgs(PageArgs):
    cycle = fields.Integer(validate=validate.Range(1, MAX_ID), metadata={"description": "Cycle id"})
    unit = _text(
        1,
        255,
        blank=True,
        metadata={
            "description": "Events of the cycles of the unit of this name and those below "
            "(422 if none has it)"
        },
    )
    actor = _text(1, 100, blank=True)
    type = _text(1, 50, blank=True, metadata={"description": "e.g. task_completed"})
    since = UtcDateTime(
        metadata={"description": "Recorded at or after (ISO 8601; UTC when no offset is given)"}
    )
    until = UtcDateTime(
        metadata={"description": "Recorded before (ISO 8601; UTC when no offset is given)"}
    )
    format = fields.String(
        validate=validate.OneOf(tuple(EXPORT_FORMATS)),
        metadata={
            "description": "Export every matching event, streamed as a file: csv "
            "(text/csv), jsonl (application/x-ndjson, one event per line) or xes "
            "(application/xml, IEEE 1849: one trace per cycle). limit, offset and page do "
            "not apply to an export"
        },
    )


class AuditBreakSchema(ma.Schema):
    seq = fields.Integer(
        required=True,
        allow_none=True,
        metadata={
            "description": "The first event that is not intact; null for deletions "
            "at the end of a chain"
        },
    )
    chain = fields.String(
        required=True, metadata={"description": "cycle:<id> or global (everything else)"}
    )
    reason = fields.String(required=True)


class EvidenceDamageSchema(ma.Schema):
    evidence_id = fields.Integer(required=True)
    name = fields.String(required=True)
    task_id = fields.String(required=True)
    cycle_id = fields.Integer(required=True)
    reason = fields.String(required=True, metadata={"description": "Missing, or changed"})


class VerificationSchema(ma.Schema):
    intact = fields.Boolean(
        required=True, metadata={"description": "Every chain recomputes; nothing was deleted"}
    )
    events_checked = fields.Integer(required=True)
    chains_checked = fields.Integer(required=True)
    first_break = fields.Nested(
        AuditBreakSchema,
        required=True,
        allow_none=True,
        metadata={"description": "The earliest break by sequence number; null when intact"},
    )
    breaks = fields.List(
        fields.Nested(AuditBreakSchema),
        required=True,
        metadata={"description": "One per broken chain"},
    )
    heads_key_sealed = fields.Boolean(
        required=True,
        metadata={
            "description": "Whether the chain heads' seals with the audit key were checked; "
            "false when the server has no key (PICYCLE_AUDIT_KEY), and then a chain "
            "rewritten with every hash recomputed would pass"
        },
    )
    unsealed_heads = fields.List(
        fields.String(),
        required=True,
        metadata={
            "description": "Chains whose head carries no seal although a key is set (written "
            "before it was, or the seal was removed); these make `intact` false"
        },
    )
    damaged_evidence = fields.List(
        fields.Nested(EvidenceDamageSchema),
        required=True,
        metadata={
            "description": "Evidence files the trail recorded that are missing from the store "
            "or whose content no longer has the recorded SHA-256; these make `intact` false"
        },
    )


class ElementPassageSchema(ma.Schema):
    element_id = fields.String(required=True, metadata={"description": "The BPMN element's id"})
    name = fields.String(required=True, allow_none=True)
    type = fields.String(
        required=True,
        metadata={
            "description": "The BPMN element type: userTask, scriptTask, businessRuleTask, "
            "subProcess, exclusiveGateway, startEvent, endEvent, boundaryEvent, ..."
        },
    )
    times_completed = fields.Integer(
        required=True,
        metadata={"description": "A multi-instance activity counts once per run, not per instance"},
    )
    first_completed_at = fields.DateTime(required=True, allow_none=True)
    last_completed_at = fields.DateTime(required=True, allow_none=True)
    active = fields.Boolean(
        required=True,
        metadata={
            "description": "The cycle is at this element now: a task ready, an event or join "
            "waiting, a subprocess or multi-instance activity under way"
        },
    )


class FlowPassageSchema(ma.Schema):
    source = fields.String(required=True, metadata={"description": "Element id"})
    target = fields.String(required=True, metadata={"description": "Element id"})
    times = fields.Integer(required=True, metadata={"description": "How often it was taken"})


class CyclePathSchema(ma.Schema):
    cycle_id = fields.Integer(required=True)
    process_id = fields.String(required=True)
    version = fields.Integer(required=True, metadata={"description": "Of the process"})
    elements = fields.List(
        fields.Nested(ElementPassageSchema),
        required=True,
        metadata={
            "description": "The elements completed at least once or active now, in the order "
            "first completed; elements only active come last"
        },
    )
    flows = fields.List(
        fields.Nested(FlowPassageSchema),
        required=True,
        metadata={
            "description": "The connections taken between elements (the sequence flows from "
            "source to target; a boundary event's attachment is not one)"
        },
    )


# --- incidents ---------------------------------------------------------------------------


class IncidentSchema(ma.Schema):
    id = fields.Integer(required=True)
    cycle_id = fields.Integer(required=True)
    action = fields.String(
        required=True,
        metadata={
            "enum": [action.value for action in IncidentAction],
            "description": "What failed and what a retry does again: a task completion "
            "(with the form data submitted) or the cycle's due timers",
        },
    )
    task_id = fields.String(allow_none=True)
    element_id = fields.String(allow_none=True, metadata={"description": "The failing step"})
    attempted_by = fields.String(required=True)
    message = fields.String(required=True)
    budget_limit = fields.String(
        allow_none=True,
        metadata={"description": "The setting of the budget the step went over, if any"},
    )
    failures = fields.Integer(required=True)
    raised_at = fields.DateTime(required=True)
    last_failed_at = fields.DateTime(required=True)
    resolved_at = fields.DateTime(allow_none=True)
    resolved_by = fields.String(allow_none=True)
    resolution = fields.String(
        allow_none=True, metadata={"enum": [r.value for r in IncidentResolution]}
    )
    reason = fields.String(allow_none=True)


class IncidentPageSchema(PageSchema):
    items = fields.List(fields.Nested(IncidentSchema), required=True)


class IncidentArgs(PageArgs):
    state = fields.String(
        load_default="open",
        validate=validate.OneOf(["open", "all"]),
        metadata={"description": "open (the default) or all, resolved ones included"},
    )
    cycle_id = fields.Integer(validate=validate.Range(1, MAX_ID))


class DismissSchema(ma.Schema):
    reason = _text(1, 2000, required=True)
