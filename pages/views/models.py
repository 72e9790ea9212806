"""Process models, for admins: the deployed processes and their versions; one version's
files, its bundle as a zip, and the modeler that edits it. Check and Deploy take the edited
files (merged over the version's bundle, so files the modeler does not edit are carried
over) or a whole bundle as a zip, and run the same validation and deployment as the API and
the command line."""

from __future__ import annotations

import io
import zipfile

from flask import flash, jsonify, make_response, redirect, request, url_for
from picycle.api.context import request_uow, takes_uploads
from picycle.api.uploads import fault, uploaded_bundle
from picycle.engine.actors import require_admin
from picycle.engine.bundles import MAX_NAME, process_file
from picycle.engine.errors import InvalidModel, ValidationFailed
from picycle.engine.services import definitions
from picycle.engine.services.definitions import Deployed, checked_process_id

from ..blueprint import blueprint
from ..context import CSRF_FIELD, signed_in
from ..i18n import gettext as _
from ..rendering import render
from .cycles import XML_HEADERS

PROCESS = f"/models/<string(maxlength={MAX_NAME}):process_id>"
VERSION = f"{PROCESS}/versions/<int(min=1, max=2147483647):version>"
JSON = "application/json"


def _admin() -> None:
    require_admin(signed_in(), "edit process models")


@blueprint.get("/models")
def models():
    _admin()
    return render("models.html", definitions=definitions.latest_definitions(request_uow()))


@blueprint.get(PROCESS)
def model_versions(process_id: str):
    _admin()
    found = definitions.versions_of(request_uow(), checked_process_id(process_id))
    return render("model_versions.html", process_id=process_id, versions=list(reversed(found)))


def version_page(process_id: str, version: int, *, problems=None, status=200, notice=None):
    """The version's page; ``problems`` when a check or a refused deployment is shown."""
    uow = request_uow()
    detail = definitions.definition_version(uow, checked_process_id(process_id), version)
    bundle = definitions.bundle_files(uow, process_id, version)
    return render(
        "model_version.html",
        status,
        definition=detail,
        model_file=process_file(bundle, process_id),
        modeler_texts=_modeler_texts(),
        problems=problems,
        notice=notice,
    )


def _modeler_texts() -> dict[str, str]:
    """The words the modeler's script shows, in the page's language ({target}: filled in
    by the script)."""
    return {
        "name": _("Name"),
        "id": _("Id: %(id)s", id="{id}"),
        "laneGroup": _("Group that works the tasks in this lane (its name)"),
        "instructions": _("Instructions for the person doing the task"),
        "form": _("Form file, under forms/"),
        "editForm": _("Edit the form"),
        "candidateGroup": _("Group that works it, instead of the lane's"),
        "decision": _("Decision it looks up (the decision table's id)"),
        "editDecision": _("Edit the decision table"),
        "noDecision": _("No DMN file of this version holds the decision %(id)s.", id="{id}"),
        "script": _("Script (Python)"),
        "condition": _("Condition to take this flow (Python)"),
        "conditionTo": _("Condition to go on to %(target)s (Python)", target="{target}"),
        "timerKind": _("The timer fires"),
        "timeDuration": _("after a duration"),
        "timeDate": _("at a date"),
        "timeCycle": _("repeatedly"),
        "timerValue": _('Timer value (Python, e.g. "P14D" in quotes)'),
        "nothing": _("Select an element on the diagram."),
        "checking": _("Checking…"),
        "deploying": _("Deploying…"),
        "valid": _("No problems: the model can be deployed."),
        "invalid": _("The check found problems: see the list below the diagram."),
        "failed": _("The server could not be reached, or refused the request."),
        "loadFailed": _("The modeler could not load this version; use the files below."),
        "error": _("Error"),
        "warning": _("Warning"),
    }


@blueprint.get(VERSION)
def model_version(process_id: str, version: int):
    _admin()
    return version_page(process_id, version)


@blueprint.get(f"{VERSION}/files/<path:name>")
def model_file(process_id: str, version: int, name: str):
    """One file of the version's bundle, as deployed: the deployer's text, never run here."""
    _admin()
    content = definitions.definition_file(
        request_uow(), checked_process_id(process_id), version, name
    )
    response = make_response(content, XML_HEADERS)
    response.mimetype = JSON if name.endswith(".json") else "application/xml"
    return response


@blueprint.get(f"{VERSION}/bundle.zip")
def model_bundle(process_id: str, version: int):
    """The version's bundle as a zip, as ``picycle deploy`` and the upload below take it."""
    _admin()
    bundle = definitions.bundle_files(request_uow(), checked_process_id(process_id), version)
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as packed:
        for name, content in sorted(bundle.items()):
            packed.writestr(name, content)
    response = make_response(archive.getvalue())
    response.mimetype = "application/zip"
    filename = f"{process_id}-{version}.zip" if process_id.isascii() else f"bundle-{version}.zip"
    response.headers.set("Content-Disposition", "attachment", filename=filename)
    return response


def _edited_bundle(process_id: str, version: int) -> dict[str, bytes]:
    """The posted files over the version's bundle; a posted archive is a whole bundle."""
    upload = uploaded_bundle(also=frozenset({CSRF_FIELD}))
    if upload.archive:
        return upload.files
    return {**definitions.bundle_files(request_uow(), process_id, version), **upload.files}


def _wants_json() -> bool:
    return request.accept_mimetypes.best == JSON


def _deploy(process_id: str, version: int, dry_run: bool) -> tuple[Deployed | None, list[dict]]:
    """The edited bundle through the deploy service: what it did (None when it refused) and
    every problem it found."""
    _admin()
    checked_process_id(process_id)
    uow = request_uow()
    try:
        bundle = _edited_bundle(process_id, version)
        done = definitions.deploy(uow, signed_in(), bundle, dry_run=dry_run)
    except ValidationFailed as refused:
        uow.rollback()
        if isinstance(refused, InvalidModel):
            return None, refused.problems
        return None, [fault(field, m) for field, ms in refused.errors.items() for m in ms]
    return done, [problem.as_dict() for problem in done.warnings]


@blueprint.post(f"{VERSION}/check")
@takes_uploads
def check_model(process_id: str, version: int):
    """The validator's dry run over the edited bundle: every problem with its element."""
    checked, problems = _deploy(process_id, version, dry_run=True)
    if _wants_json():
        return jsonify(valid=checked is not None, problems=problems)
    notice = _("The model can be deployed.") if checked else _("The model has problems.")
    return version_page(process_id, version, problems=problems, notice=notice)


@blueprint.post(f"{VERSION}/deploy")
@takes_uploads
def deploy_model(process_id: str, version: int):
    """Deploy the edited bundle: a new version of each process in it, audited."""
    deployed, problems = _deploy(process_id, version, dry_run=False)
    if deployed is None:
        if _wants_json():
            return jsonify(valid=False, problems=problems), 422
        notice = _("Nothing was deployed: the model has problems.")
        return version_page(process_id, version, problems=problems, notice=notice, status=422)
    shown = deployed.definitions or deployed.already_deployed
    # The validator refuses a bundle without a process: there is one at least.
    ours = next((d for d in shown if d.process_id == process_id), shown[0])
    target = url_for(
        "picycle_pages.model_version", process_id=ours.process_id, version=ours.version
    )
    if deployed.unchanged:
        message = _("Nothing changed: these files are version %(version)s.", version=ours.version)
    else:
        message = _("Deployed as version %(version)s.", version=ours.version)
    flash(message)
    if _wants_json():
        return jsonify(valid=True, unchanged=deployed.unchanged, url=target)
    return redirect(target)
