"""``picycle audit``: verify, seal and export the audit trail."""

from __future__ import annotations

import sys
from contextlib import closing
from datetime import UTC

import click
from picycle.engine import Engine
from picycle.engine.services import audit

from .common import ID, acting_as, as_option, written_whole


@click.group("audit")
def audit_group() -> None:
    """Verify, seal and export the audit trail."""


@audit_group.command("verify")
@click.option(
    "--against",
    type=click.File("r"),
    help="A seal document (`audit seal`): also show what was deleted or rewritten since.",
)
@as_option
@click.pass_obj
def audit_verify(engine: Engine, against, as_user: str | None) -> None:
    """Recompute every hash chain, check the heads' seals and hash every evidence file
    again; exit 1 and name the first broken event, and each missing or changed file."""
    sealed = audit.read_seal_document(against.read()) if against else None
    with engine.unit_of_work(write=False) as uow:
        result = audit.verify_trail(uow, acting_as(uow, as_user), against=sealed)
    click.echo(f"checked {result.events_checked} events in {result.chains_checked} chains")
    if sealed is not None:
        click.echo(f"against the seal of {sealed.sealed_at.isoformat()}")
    if not result.heads_key_sealed:
        click.echo(
            f"warning: no audit key ({audit.KEY_SETTING}): the heads' seals were not checked, so a "
            "chain rewritten with every hash recomputed would pass; check against a seal "
            "document, and set the key in production"
        )
    if result.intact:
        click.echo("intact")
        return
    if result.breaks:
        click.echo(f"NOT intact: {result.first_break.reason}")
        for other in result.breaks:
            if other is not result.first_break:
                click.echo(f"  also: {other.reason}")
    for damaged in result.damaged_evidence:
        click.echo(
            f"NOT intact: evidence {damaged.evidence_id} '{damaged.name}' of task "
            f"{damaged.task_id} in cycle #{damaged.cycle_id} is {damaged.reason}"
        )
    if result.unsealed_heads:
        click.echo(
            f"NOT intact: {len(result.unsealed_heads)} chain heads carry no seal of the audit "
            f"key (the first: {result.unsealed_heads[0]}): written before the key was set, "
            "or their seal was removed; an admin seals heads written before the key with "
            "`picycle audit seal --adopt-unsealed`"
        )
    sys.exit(1)


@audit_group.command("seal")
@click.option(
    "--output", "-o", type=click.File("w"), default="-", help="Write it here (default: stdout)."
)
@click.option(
    "--adopt-unsealed",
    is_flag=True,
    help="Admins: first seal, with the audit key, the heads written before it was set.",
)
@as_option
@click.pass_obj
def audit_seal(engine: Engine, output, adopt_unsealed: bool, as_user: str | None) -> None:
    """Verify the trail and write its chains' heads (length, last hash, seal with the audit
    key) as a JSON seal document for auditors to keep; `audit verify --against` it later."""
    with engine.unit_of_work(write=False) as uow:
        actor = acting_as(uow, as_user)
    sealed = audit.seal_trail(engine, actor, adopt_unsealed)
    output.write(audit.seal_document(sealed) + "\n")
    keyed = (
        "with the audit key" if sealed.key_sealed else f"WITHOUT an audit key ({audit.KEY_SETTING})"
    )
    click.echo(f"sealed {len(sealed.heads)} chains, {keyed}", err=True)


@audit_group.command("export")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(sorted(audit.EXPORT_FORMATS)),
    default="jsonl",
    show_default=True,
    help="CSV, JSON Lines, or XES for process-mining tools.",
)
@click.option("--cycle", "cycle_id", type=ID, help="Only this cycle's events (its id).")
@click.option("--unit", help="Only the events of this unit's cycles.")
@click.option("--actor", help="Only what this user did.")
@click.option("--type", "event_type", help="Only events of this type, e.g. task_completed.")
@click.option("--since", type=click.DateTime(), help="UTC, inclusive.")
@click.option("--until", type=click.DateTime(), help="UTC, exclusive.")
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, writable=True, allow_dash=True),
    default="-",
    help="Write it here (default: stdout); a failed export leaves what the file held.",
)
@as_option
@click.pass_obj
def audit_export(
    engine: Engine, fmt, cycle_id, unit, actor, event_type, since, until, output, as_user
):
    """Stream the selected events as CSV, JSON Lines or XES (one trace per cycle)."""
    filters = audit.EventFilter(
        cycle_id=cycle_id,
        unit=unit,
        actor=actor,
        type=event_type,
        since=since.replace(tzinfo=UTC) if since else None,
        until=until.replace(tzinfo=UTC) if until else None,
    )
    with engine.unit_of_work(write=False) as uow:
        exported = audit.export_events(uow, acting_as(uow, as_user), filters, fmt)
        # Closed here, while its connection is open, should the reader go away early
        # (`| head`): otherwise its cursor is closed later on a closed database.
        with closing(exported.chunks) as chunks, written_whole(output) as file:
            for chunk in chunks:
                file.write(chunk)
