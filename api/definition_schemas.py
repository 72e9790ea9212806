"""Request and response bodies of the process-model administration endpoints: deploying
bundles, reading versions and their files, comparing versions, migrating cycles."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import fields, validate
from picycle.engine.read_models import MAX_ID

from .schemas import ProblemSchema

SEVERITIES = ("error", "warning")


# --- problems ----------------------------------------------------------------------------


class ModelProblemSchema(ma.Schema):
    """One thing a modeller has to fix (error) or should look at (warning)."""

    severity = fields.String(required=True, metadata={"enum": list(SEVERITIES)})
    file = fields.String(
        required=True,
        metadata={
            "description": "The bundle path (pi_cycle.bpmn, forms/x.schema.json), or "
            "`bundle` for the bundle as a whole"
        },
    )
    line = fields.Integer(
        required=True, allow_none=True, metadata={"description": "Source line, where known"}
    )
    element_id = fields.String(
        required=True,
        allow_none=True,
        metadata={"description": "The BPMN or DMN element's id, where known"},
    )
    message = fields.String(
        required=True, metadata={"description": "What is wrong and what to write instead"}
    )


class BundleProblemSchema(ProblemSchema):
    """A problem document for a bundle that cannot be deployed: every problem of every file
    at once (warnings included), besides the usual `errors` map."""

    problems = fields.List(
        fields.Nested(ModelProblemSchema),
        metadata={
            "description": "A bundle that fails validation: every problem found, errors and "
            "warnings, ordered by file and line. Absent for other 422s (a bad query)"
        },
    )


class MigrationProblemSchema(ProblemSchema):
    """A problem document for a cycle that cannot move to the version asked for."""

    reasons = fields.List(
        fields.String(),
        metadata={"description": "Every reason the cycle cannot move (a conflict only)"},
    )


# --- definitions -------------------------------------------------------------------------


class DefinitionSchema(ma.Schema):
    """One version of one process."""

    process_id = fields.String(required=True, metadata={"description": "The BPMN process id"})
    version = fields.Integer(required=True)
    name = fields.String(required=True)
    deployed_at = fields.DateTime(required=True)
    deployed_by = fields.String(required=True)


class DefinitionListSchema(ma.Schema):
    items = fields.List(
        fields.Nested(DefinitionSchema),
        required=True,
        metadata={"description": "The latest version of each process, by process id"},
    )
    total = fields.Integer(required=True)


class VersionListSchema(ma.Schema):
    process_id = fields.String(required=True)
    items = fields.List(
        fields.Nested(DefinitionSchema),
        required=True,
        metadata={"description": "Every version, oldest first"},
    )


class DefinitionFileSchema(ma.Schema):
    name = fields.String(
        required=True, metadata={"description": "Its path in the bundle (forms/x.schema.json)"}
    )
    media_type = fields.String(
        required=True, metadata={"enum": ["application/xml", "application/json"]}
    )
    size = fields.Integer(required=True, metadata={"description": "In bytes (UTF-8)"})
    url = fields.String(required=True, metadata={"description": "Where to download it"})


class DefinitionDetailSchema(DefinitionSchema):
    content_hash = fields.String(
        required=True,
        metadata={"description": "SHA-256 over the bundle the version was deployed from"},
    )
    files = fields.List(
        fields.Nested(DefinitionFileSchema),
        required=True,
        metadata={"description": "The files of that bundle, by name"},
    )


class DeployArgs(ma.Schema):
    dry_run = fields.Boolean(
        load_default=False,
        metadata={"description": "true: validate the bundle only; nothing is deployed"},
    )


class DeploymentResultSchema(ma.Schema):
    valid = fields.Boolean(
        required=True, metadata={"description": "Always true: an invalid bundle is a 422"}
    )
    dry_run = fields.Boolean(required=True)
    unchanged = fields.Boolean(
        required=True,
        metadata={"description": "The same files are the latest versions: no new version"},
    )
    definitions = fields.List(
        fields.Nested(DefinitionSchema),
        required=True,
        metadata={
            "description": "The new versions; when unchanged, the versions that already "
            "hold these files; empty for a dry run"
        },
    )
    warnings = fields.List(
        fields.Nested(ModelProblemSchema),
        required=True,
        metadata={"description": "What the validator found worth a look but not blocking"},
    )


# --- differences -------------------------------------------------------------------------


class DiffArgs(ma.Schema):
    from_version = fields.Integer(
        data_key="from",
        required=True,
        validate=validate.Range(1, MAX_ID),
        metadata={"description": "The older version"},
    )
    to_version = fields.Integer(
        data_key="to",
        required=True,
        validate=validate.Range(1, MAX_ID),
        metadata={"description": "The newer version"},
    )


class ChangedItemSchema(ma.Schema):
    id = fields.String(required=True, metadata={"description": "The element's or rule's id"})
    type = fields.String(
        required=True,
        metadata={"description": "The BPMN/DMN element type (userTask, sequenceFlow, rule...)"},
    )
    name = fields.String(
        required=True, metadata={"description": "Its name; for a rule, its entries"}
    )


class ChangesSchema(ma.Schema):
    added = fields.List(fields.Nested(ChangedItemSchema), required=True)
    removed = fields.List(fields.Nested(ChangedItemSchema), required=True)
    changed = fields.List(fields.Nested(ChangedItemSchema), required=True)


class FormChangeSchema(ma.Schema):
    file = fields.String(required=True)
    fields_added = fields.List(fields.String(), required=True)
    fields_removed = fields.List(fields.String(), required=True)
    fields_changed = fields.List(fields.String(), required=True)
    required_before = fields.List(fields.Raw(), required=True)
    required_after = fields.List(fields.Raw(), required=True)


class FormChangesSchema(ma.Schema):
    added = fields.List(fields.String(), required=True, metadata={"description": "Form files"})
    removed = fields.List(fields.String(), required=True)
    changed = fields.List(fields.Nested(FormChangeSchema), required=True)


class DiffSchema(ma.Schema):
    process_id = fields.String(required=True)
    from_version = fields.Integer(required=True)
    to_version = fields.Integer(required=True)
    elements = fields.Nested(
        ChangesSchema,
        required=True,
        metadata={"description": "BPMN elements (diagram layout left out)"},
    )
    decision_rules = fields.Nested(
        ChangesSchema, required=True, metadata={"description": "DMN decision table rules"}
    )
    forms = fields.Nested(
        FormChangesSchema, required=True, metadata={"description": "JSON Schema forms"}
    )


# --- migration ---------------------------------------------------------------------------


class MigrationSchema(ma.Schema):
    to_version = fields.Integer(
        load_default=None,
        allow_none=True,
        validate=validate.Range(1, MAX_ID),
        metadata={"description": "The version to move to; null or absent: the latest"},
    )
    dry_run = fields.Boolean(
        load_default=False,
        metadata={"description": "true: only say whether the move is possible, and why not"},
    )


class MigrationPlanSchema(ma.Schema):
    cycle_id = fields.Integer(required=True)
    from_version = fields.Integer(required=True)
    to_version = fields.Integer(required=True)
    possible = fields.Boolean(required=True, metadata={"description": "The move can be made"})
    problems = fields.List(
        fields.String(),
        required=True,
        metadata={"description": "Why the cycle cannot move; empty when it can"},
    )
    migrated = fields.Boolean(required=True, metadata={"description": "The cycle was moved"})


class BulkMigrationSchema(ma.Schema):
    process_id = fields.String(required=True)
    to_version = fields.Integer(required=True)
    dry_run = fields.Boolean(required=True)
    plans = fields.List(
        fields.Nested(MigrationPlanSchema),
        required=True,
        metadata={"description": "One per running cycle of the process, by cycle id"},
    )
    migrated_count = fields.Integer(required=True, metadata={"description": "Cycles moved"})
    blocked_count = fields.Integer(
        required=True, metadata={"description": "Cycles that cannot move (see their problems)"}
    )
