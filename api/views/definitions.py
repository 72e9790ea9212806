"""Process definitions: deploying bundles of model files (admins), reading their versions
and files, comparing versions; moving running cycles onto another version (admins)."""

from __future__ import annotations

from flask import current_app, request, url_for
from marshmallow import RAISE
from picycle.engine.bundles import MAX_FILES, MAX_NAME, printable, read_zip
from picycle.engine.errors import Conflict, InvalidModel, NotFound, ValidationFailed
from picycle.engine.services import definitions, migration
from werkzeug.exceptions import RequestEntityTooLarge, UnsupportedMediaType

from .. import problems
from ..context import (
    current_actor,
    engine_for_own_transactions,
    picycle,
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
from ..parsing import MAX_ID, PicycleBlueprint

blp = PicycleBlueprint(
    "process-definitions",
    __name__,
    description="Process models (BPMN, DMN, JSON Schema forms): deploy new versions (admins), "
    "read and compare them; move running cycles onto another version (admins)",
)

MAX_FORM_FIELD = 500_000  # a non-file multipart field (none is expected); Flask's default
ZIP_TYPES = ("application/zip", "application/x-zip-compressed")
MULTIPART = "multipart/form-data"
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
    description="A dry run (valid), or files deployed before (unchanged): no new version",
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
    of each process it defines (201), unless the very same files were deployed before
    (200, `unchanged`). `dry_run=true` validates only (200). Each new version is audited
    as `definition_deployed`.
    """
    actor = current_actor()
    definitions.require_deployer(actor)  # before reading any of the body
    result = definitions.deploy(request_uow(), actor, _uploaded_bundle(), dry_run=args["dry_run"])
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


def _uploaded_bundle() -> dict[str, bytes]:
    """The files of the upload: multipart parts or a zip archive, names checked."""
    limit = picycle().max_upload_length
    request.max_form_memory_size = MAX_FORM_FIELD
    request.max_form_parts = MAX_FILES + 10
    try:
        if request.mimetype == MULTIPART:
            return _from_parts()
        if request.mimetype in ZIP_TYPES:
            return _from_zip(request.get_data(cache=False))
    except RequestEntityTooLarge as error:
        raise RequestEntityTooLarge(
            f"the upload is larger than {limit:,} bytes, the limit for bundles "
            f"(or has more than {MAX_FILES} parts)"
        ) from error
    raise UnsupportedMediaType(
        "send the bundle as multipart/form-data (parts named files, or one named archive) "
        f"or as application/zip, not {request.mimetype or 'untyped'}"
    )


def _from_parts() -> dict[str, bytes]:
    errors: dict[str, list[str]] = {}
    for field in request.form:
        if field == "files":
            errors.setdefault("files", []).append(
                "each files part needs a filename: the file's path in the bundle"
            )
        else:
            errors.setdefault(field, []).append("Unknown field.")
    for field in request.files:
        if field not in ("files", "archive"):
            errors.setdefault(field, []).append("Unknown field.")
    parts = request.files.getlist("files")
    archives = request.files.getlist("archive")
    if parts and archives:
        errors.setdefault("body", []).append("send either files or one archive, not both")
    elif len(archives) > 1:
        errors.setdefault("archive", []).append("send one archive")
    elif not parts and not archives and not errors:
        errors["body"] = ["the bundle is empty: send its files (parts named files) or an archive"]
    if errors:
        raise ValidationFailed("the upload is not a bundle; see errors", errors)
    if archives:
        return _from_zip(archives[0].read())
    found: dict[str, bytes] = {}
    faults: list[dict] = []
    for part in parts:
        name = part.filename or ""
        if name in found:
            faults.append(_fault(name, "is in the upload twice"))
        found[name] = part.read()
    if faults:
        raise InvalidModel(f"the upload has {len(faults)} problem(s); nothing was deployed", faults)
    return found


def _from_zip(content: bytes) -> dict[str, bytes]:
    try:
        return read_zip(content, picycle().engine.limits)
    except ValidationFailed as error:
        faults = [_fault(file, m) for file, messages in error.errors.items() for m in messages]
        raise InvalidModel(str(error), faults) from error


def _fault(file: str, message: str) -> dict:
    return {"severity": "error", "file": file, "line": None, "element_id": None, "message": message}


# --- reading -----------------------------------------------------------------------------


def _media_type(name: str) -> str:
    return JSON if name.endswith(".json") else XML


def _checked_id(process_id: str) -> str:
    """Process ids are BPMN ids: one with control characters names nothing."""
    if not printable(process_id):
        raise NotFound("no process definition with such an id is deployed")
    return process_id


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
    found = definitions.versions_of(request_uow(), _checked_id(process_id))
    return {"process_id": process_id, "items": found}


@blp.route(f"/process-definitions/{PROCESS_ID}/versions/{VERSION}", methods=["GET"])
@blp.response(200, DefinitionDetailSchema)
@blp.problems(401, 404)
def get_version(process_id, version):
    """One version of a process: who deployed it, when, and the files of its bundle"""
    found = definitions.definition_version(request_uow(), _checked_id(process_id), version)
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
    content = definitions.definition_file(request_uow(), _checked_id(process_id), version, name)
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
        request_uow(), _checked_id(process_id), args["from_version"], args["to_version"]
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
        request_uow(), _checked_id(process_id), body["to_version"]
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
