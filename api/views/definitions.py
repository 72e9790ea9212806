"""Process definitions: deploying bundles of model files (admins), reading their versions
and files, comparing versions; moving running cycles onto another version (admins)."""

from __future__ import annotations

from flask import current_app, url_for
from marshmallow import RAISE
from picycle.engine.bundles import MAX_NAME
from picycle.engine.errors import Conflict
from picycle.engine.read_models import MAX_ID
from picycle.engine.services import definitions, migration
from picycle.engine.services.definitions import checked_process_id

from .. import problems
from ..context import (
    current_actor,
    engine_for_own_transactions,
    request_uow,
    takes_uploads,
)
from ..definition_schemas import (
    BulkMigrationSchema,
    BundleProblemSchema,
    DefinitionDetailSchema,
    DefinitionListSchema,
    DeployArgs,
    DeploymentResultSchema,
    DiffArgs,
    DiffSchema,
    MigrationPlanSchema,
    MigrationProblemSchema,
    MigrationSchema,
    VersionListSchema,
)
from ..parsing import PicycleBlueprint
from ..uploads import MULTIPART, uploaded_bundle

blp = PicycleBlueprint(
    "process-definitions",
    __name__,
    description="Process models (BPMN, DMN, JSON Schema forms): deploy new versions (admins), "
    "read and compare them; move running cycles onto another version (admins)",
)

XML = "application/xml"
JSON = "application/json"

PROCESS_ID = f"<string(maxlength={MAX_NAME}):process_id>"
VERSION = f"<int(min=1, max={MAX_ID}):version>"
CYCLE_ID = f"<int(min=1, max={MAX_ID}):cycle_id>"
BODY = (400, 413, 415)

UPLOAD_BODY = {
    "required": True,
    "description": (
        "The bundle: BPMN and DMN files at its top, JSON Schema forms under `forms/`. "
        "Either multipart parts named `files`, one per file, each part's filename its path "
        "in the bundle (`pi_cycle.bpmn`, `forms/assess-performance.schema.json`); or one zip "
        "archive, as a part named `archive` or as the whole body (`application/zip`). In an "
        "archive, files other than .bpmn, .dmn and .json, a `__MACOSX/` folder and one "
        "folder around everything are left out. At most 20 MiB unless configured otherwise "
        "(413)."
    ),
    "content": {
        MULTIPART: {
            "schema": {
                "type": "object",
                "properties": {
                    "files": {
                        "type": "array",
                        "items": {"type": "string", "format": "binary"},
                        "description": "One part per file; the filename is its bundle path",
                    },
                    "archive": {
                        "type": "string",
                        "format": "binary",
                        "description": "A zip archive of the bundle (instead of files)",
                    },
                },
                "additionalProperties": False,
            }
        },
        "application/zip": {"schema": {"type": "string", "format": "binary"}},
    },
}


# --- deploying ---------------------------------------------------------------------------


@blp.route("/process-definitions", methods=["POST"])
@takes_uploads
@blp.arguments(DeployArgs, location="query", unknown=RAISE)
@blp.response(201, DeploymentResultSchema, description="Deployed: a new version of each process")
@blp.alt_response(
    200,
    schema=DeploymentResultSchema,
    description="A dry run (valid), or the latest versions' files (unchanged): no new version",
)
@blp.alt_response(
    422,
    schema=BundleProblemSchema,
    content_type=problems.PROBLEM_JSON,
    description="The bundle cannot be deployed: `problems` lists every problem; nothing "
    "was deployed",
)
@blp.doc(requestBody=UPLOAD_BODY)
@blp.problems(401, 403, 409, *BODY)
def deploy(args):
    """Deploy a bundle of model files (admins)

    The bundle is validated as a whole first: malformed or unsafe XML (a DOCTYPE is
    refused), FEEL/JUEL where Python is expected, missing forms, unreachable elements,
    broken decision tables... A bundle with errors is a 422 listing every problem with its
    file, line and element, and nothing is deployed. A valid bundle becomes a new version
    of each process it defines (201), unless the very same files are the latest versions
    (200, `unchanged`); an older version's files deployed again become new versions (a
    rollback). `dry_run=true` validates only (200). Each new version is audited
    as `definition_deployed`.
    """
    actor = current_actor()
    definitions.require_deployer(actor)  # before reading any of the body
    bundle = uploaded_bundle().files
    result = definitions.deploy(request_uow(), actor, bundle, dry_run=args["dry_run"])
    if result.dry_run:
        shown = []
    elif result.unchanged:
        shown = result.already_deployed
    else:
        shown = result.definitions
    body = {
        "valid": True,
        "dry_run": result.dry_run,
        "unchanged": result.unchanged,
        "definitions": shown,
        "warnings": result.warnings,
    }
    return body, 200 if result.dry_run or result.unchanged else 201


# --- reading -----------------------------------------------------------------------------


def _media_type(name: str) -> str:
    return JSON if name.endswith(".json") else XML


@blp.route("/process-definitions", methods=["GET"])
@blp.response(200, DefinitionListSchema)
@blp.problems(401)
def list_definitions():
    """The deployed processes: the latest version of each"""
    found = definitions.latest_definitions(request_uow())
    return {"items": found, "total": len(found)}


@blp.route(f"/process-definitions/{PROCESS_ID}/versions", methods=["GET"])
@blp.response(200, VersionListSchema)
@blp.problems(401, 404)
def list_versions(process_id):
    """Every version of a process, oldest first"""
    found = definitions.versions_of(request_uow(), checked_process_id(process_id))
    return {"process_id": process_id, "items": found}


@blp.route(f"/process-definitions/{PROCESS_ID}/versions/{VERSION}", methods=["GET"])
@blp.response(200, DefinitionDetailSchema)
@blp.problems(401, 404)
def get_version(process_id, version):
    """One version of a process: who deployed it, when, and the files of its bundle"""
    found = definitions.definition_version(request_uow(), checked_process_id(process_id), version)
    return {
        **vars(found),
        "files": [
            {
                "name": file.name,
                "media_type": _media_type(file.name),
                "size": file.size,
                "url": url_for(".get_file", process_id=process_id, version=version, name=file.name),
            }
            for file in found.files
        ],
    }


@blp.route(
    f"/process-definitions/{PROCESS_ID}/versions/{VERSION}/files/<path:name>", methods=["GET"]
)
@blp.response(
    200,
    schema={"type": "string"},
    content_type=XML,
    description="The file: BPMN or DMN as XML, a form as JSON",
)
@blp.alt_response(
    200,
    schema={"type": "object"},
    content_type=JSON,
    description="The file: BPMN or DMN as XML, a form as JSON",
)
@blp.problems(401, 404)
def get_file(process_id, version, name):
    """One file of a version's bundle, as deployed

    BPMN and DMN as `application/xml`, JSON Schema forms as `application/json`.
    """
    content = definitions.definition_file(
        request_uow(), checked_process_id(process_id), version, name
    )
    return current_app.response_class(content, mimetype=_media_type(name))


@blp.route(f"/process-definitions/{PROCESS_ID}/diff", methods=["GET"])
@blp.arguments(DiffArgs, location="query", unknown=RAISE)
@blp.response(200, DiffSchema)
@blp.problems(401, 404)
def diff(args, process_id):
    """What changed from one version to another

    BPMN elements, DMN decision rules (each rule compared whole) and form fields added,
    removed or changed, in a modeller's terms; diagram layout is left out.
    """
    return definitions.diff_versions(
        request_uow(),
        checked_process_id(process_id),
        args["from_version"],
        args["to_version"],
    )


# --- migrating ---------------------------------------------------------------------------


@blp.route(f"/cycles/{CYCLE_ID}/migrate", methods=["POST"])
@blp.arguments(MigrationSchema)
@blp.response(200, MigrationPlanSchema)
@blp.alt_response(
    409,
    schema=MigrationProblemSchema,
    content_type=problems.PROBLEM_JSON,
    description="The cycle cannot move: `reasons` says why; it stays where it is",
)
@blp.problems(401, 403, 404, *BODY)
def migrate_cycle(body, cycle_id):
    """Move a running cycle onto another version of its process (admins)

    The cycle moves when every element it has reached exists in the target version and
    the data of its open tasks fits the target's forms; it keeps its history and its open
    tasks. Otherwise 409 listing every reason. A dry run answers 200 with the plan
    (`possible`, `problems`) and changes nothing. A move is audited as `cycle_migrated`.
    """
    try:
        return migration.migrate_cycle(
            request_uow(), current_actor(), cycle_id, body["to_version"], dry_run=body["dry_run"]
        )
    except Conflict as refusal:
        # Refused by the plan: its problems; refused otherwise (a race): the refusal itself.
        plan = refusal.plan if isinstance(refusal, migration.MigrationRefused) else None
        return problems.problem(
            409,
            str(refusal),
            type=problems.TYPE_PREFIX + "conflict",
            title="Conflict",
            extra={"reasons": list(plan.problems) if plan else [str(refusal)]},
        )


@blp.route(f"/process-definitions/{PROCESS_ID}/migrate", methods=["POST"])
@blp.arguments(MigrationSchema)
@blp.response(200, BulkMigrationSchema)
@blp.problems(401, 403, 404, *BODY)
def migrate_all(body, process_id):
    """Move every running cycle of a process onto another version (admins)

    Each cycle that can move does, in a transaction of its own; the plans of the others
    say why not (the same checks as for one cycle). A dry run moves none.
    """
    actor = current_actor()
    migration.require_migrator(actor)  # before looking anything up
    target = definitions.definition_version(
        request_uow(), checked_process_id(process_id), body["to_version"]
    )
    # Each cycle moves in a unit of work of its own.
    plans = migration.migrate_all(
        engine_for_own_transactions(), actor, process_id, target.version, dry_run=body["dry_run"]
    )
    return {
        "process_id": process_id,
        "to_version": target.version,
        "dry_run": body["dry_run"],
        "plans": plans,
        "migrated_count": sum(p.migrated for p in plans),
        "blocked_count": sum(not p.possible for p in plans),
    }
