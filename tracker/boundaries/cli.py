"""``flask boundaries import PATH --set NAME``."""
from __future__ import annotations

import time
from datetime import datetime
from pathlib import Path

import click
from flask.cli import with_appcontext

from tracker.boundaries.outlines import PREPARED_ZOOMS, prepare_outlines
from tracker.boundaries.service import BoundaryFileError, ImportReport, boundary_sets, get_set, import_boundary_set
from tracker.extensions import db
from tracker.web.maps import prepare_base_maps

boundaries_cli = click.Group("boundaries", help="Administrative boundary sets.")

_PATH = click.Path(dir_okay=False, path_type=Path)


def echo_report(report: ImportReport) -> None:
    plural = {"province": "provinces", "district": "districts", "commune": "communes"}
    counts = ", ".join(f"{n} {level if n == 1 else plural[level]}" for level, n in report.counts.items() if n)
    click.echo(f"boundary set {report.name}: {report.status} ({counts})")
    for line in report.repaired:
        click.echo(f"  repaired: {line}")
    for line in report.derived:
        click.echo(f"  {line}")


@boundaries_cli.command("import")
@click.argument("path", type=_PATH)
@click.option("--set", "set_name", required=True, help="Name of the boundary set, e.g. 2025.")
@click.option("--districts", type=_PATH, help="GeoJSON of the districts the communes name.")
@click.option("--province", type=_PATH, help="GeoJSON of the province outline.")
@click.option("--description", default="", help="Free text shown with the set.")
@click.option("--in-force-from", type=click.DateTime(formats=["%Y-%m-%d"]),
              help="The day this map came into force, e.g. 2025-07-01; reports default to the map in force on their date.")
@click.option("--job", "as_job", is_flag=True,
              help="Re-assign the households by a job on the queue (its id is printed) rather than here.")
@with_appcontext
def import_command(path: Path, set_name: str, districts: Path | None, province: Path | None, description: str,
                   in_force_from: datetime | None, as_job: bool) -> None:
    """Load a GeoJSON FeatureCollection of communes as boundary set NAME."""
    if not set_name.strip() or len(set_name) > 64:
        raise click.BadParameter("must be 1 to 64 characters", param_hint="--set")
    try:
        report = import_boundary_set(set_name.strip(), path, districts, province, description=description,
                                     in_force_from=in_force_from.date() if in_force_from else None)
    except BoundaryFileError as exc:
        db.session.rollback()
        lines = "\n  ".join(exc.problems[:50])
        more = f"\n  … and {len(exc.problems) - 50} more" if len(exc.problems) > 50 else ""
        raise click.ClickException(f"{exc.path}: nothing imported.\n  {lines}{more}") from None
    echo_report(report)
    if report.status != "unchanged" and as_job:
        from tracker.jobs.cli import started

        db.session.commit()  # the set first: the worker reads it
        started("households.reassign", {"set": report.name})
    elif report.status != "unchanged":
        reassign(report.name)
    db.session.commit()


def reassign(set_name: str) -> None:
    """Every household's assignment under the set, through the ledger, in batches with a progress bar."""
    from tracker.households.ledger import Actor, reassign_set

    boundary_set = get_set(set_name)
    assert boundary_set is not None
    started = time.perf_counter()
    with click.progressbar(length=1, label="re-assigning households", show_pos=True) as bar:
        def advance(done: int, total: int) -> None:
            bar.length = max(total, 1)
            bar.update(done - bar.pos)

        done = reassign_set(boundary_set, Actor(device_id="boundaries-import"), progress=advance)
    click.echo(f"  {done:,} household revisions re-assigned under {set_name} in {time.perf_counter() - started:.1f} s")


@boundaries_cli.command("outlines")
@click.option("--set", "set_name", help="Only this boundary set (default: every set).")
@with_appcontext
def outlines_command(set_name: str | None) -> None:
    """Simplify and store the commune outlines of the web-map zooms and the SVG base maps (done by every import)."""
    if set_name is not None and get_set(set_name) is None:
        raise click.BadParameter(f"no boundary set named {set_name!r}", param_hint="--set")
    chosen = [get_set(set_name)] if set_name is not None else boundary_sets()
    for boundary_set in chosen:
        rows = prepare_outlines(boundary_set)
        prepare_base_maps(boundary_set)
        db.session.commit()
        click.echo(f"boundary set {boundary_set.name}: {rows} outlines stored "
                   f"(zooms {PREPARED_ZOOMS[0]}–{PREPARED_ZOOMS[-1]})")
