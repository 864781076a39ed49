"""``flask crosswalks compute|import``."""
from __future__ import annotations

from pathlib import Path

import click
from flask.cli import with_appcontext

from tracker.boundaries.models import BoundarySet
from tracker.boundaries.service import get_set
from tracker.crosswalks.models import Crosswalk
from tracker.crosswalks.service import CrosswalkError, compute_crosswalk, import_official, read_official
from tracker.exports.tables import TableError
from tracker.extensions import db
from tracker.geo.crosswalk import DEFAULT_TOLERANCE

crosswalks_cli = click.Group("crosswalks", help="Crosswalks between boundary sets (old units → new units).")
SHOWN_PROBLEMS = 200


def _set(name: str, option: str) -> BoundarySet:
    boundary_set = get_set(name)
    if boundary_set is None:
        raise click.BadParameter(f"no boundary set named {name!r}", param_hint=option)
    return boundary_set


def _fail(what: str, problems: list[str]) -> click.ClickException:
    shown = "\n  ".join(problems[:SHOWN_PROBLEMS])
    more = f"\n  … and {len(problems) - SHOWN_PROBLEMS} more" if len(problems) > SHOWN_PROBLEMS else ""
    return click.ClickException(f"{what}: nothing stored, {len(problems)} problem(s):\n  {shown}{more}")


def echo_crosswalk(row: Crosswalk, from_set: BoundarySet, to_set: BoundarySet) -> None:
    olds = {link.old_code for link in row.links}
    split = len(olds) - len({link.old_code for link in row.links if link.share >= 1.0})
    agreement = f"{row.households_agreeing / row.households:.2%}" if row.households else "no households yet"
    click.echo(f"crosswalk {from_set.name} → {to_set.name} (set versions {row.from_version} → {row.to_version}, "
               f"{row.source}): {len(olds)} units into {len({link.new_code for link in row.links})}, "
               f"{split} split, {row.slivers} slivers below {row.tolerance:.0%} ignored; "
               f"households agreeing: {agreement}")
    if row.unmatched:
        click.echo(f"  overlapping no unit of {to_set.name}: {row.unmatched}")


@crosswalks_cli.command("compute")
@click.option("--from", "from_name", required=True, help="The old boundary set, e.g. 2024.")
@click.option("--to", "to_name", required=True, help="The new boundary set, e.g. 2025.")
@click.option("--tolerance", type=click.FloatRange(0, 0.5), default=DEFAULT_TOLERANCE, show_default=True,
              help="Pieces below this share of an old unit's area are slivers and ignored.")
@with_appcontext
def compute_command(from_name: str, to_name: str, tolerance: float) -> None:
    """Compute the crosswalk from the two sets' geometry and store it."""
    from_set, to_set = _set(from_name, "--from"), _set(to_name, "--to")
    try:
        row = compute_crosswalk(from_set, to_set, tolerance)
    except CrosswalkError as exc:
        db.session.rollback()
        raise _fail("crosswalk", exc.problems) from None
    echo_crosswalk(row, from_set, to_set)
    _reassign(from_set, to_set)
    db.session.commit()


def _reassign(*sets: BoundarySet) -> None:
    """Declared codes of one map are read through the new crosswalk under the other: assign again."""
    from tracker.boundaries.cli import reassign

    for boundary_set in sets:
        reassign(boundary_set.name)


@crosswalks_cli.command("import")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--from", "from_name", required=True, help="The old boundary set, e.g. 2024.")
@click.option("--to", "to_name", required=True, help="The new boundary set, e.g. 2025.")
@with_appcontext
def import_command(path: Path, from_name: str, to_name: str) -> None:
    """Load an official list (CSV/XLSX: old_code, new_code, share); it wins over the geometry where it speaks.

    The share may be left empty for an old unit that went wholly into one new
    unit; the shares of a split unit must sum to one. Every row is checked
    first: one bad row and nothing is stored.
    """
    from_set, to_set = _set(from_name, "--from"), _set(to_name, "--to")
    try:
        rows = read_official(path)
        row = import_official(from_set, to_set, rows, source_name=path.name)
    except TableError as exc:
        raise click.ClickException(f"nothing stored: {exc}") from None
    except CrosswalkError as exc:
        db.session.rollback()
        raise _fail(str(path), exc.problems) from None
    echo_crosswalk(row, from_set, to_set)
    _reassign(from_set, to_set)
    db.session.commit()
