"""``flask plans import PATH --name NAME --deadline DATE --effective DATE [--set NAME]``."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import click
from flask.cli import with_appcontext

from tracker.boundaries.service import get_set
from tracker.exports.tables import TableError, read_table
from tracker.extensions import db
from tracker.plans.service import PlanRowsError, add_revision

plans_cli = click.Group("plans", help="Programme plans and their revisions.")

COLUMNS = ("commune_code", "new_build", "repair", "budget_vnd")
# Columns people keep for reading; they are not imported.
INFORMATIONAL = ("commune_name", "name", "district", "province", "note")
SHOWN_PROBLEMS = 200
_DATE = click.DateTime(formats=["%Y-%m-%d"])


def read_plan_rows(path: Path) -> tuple[list[dict[str, Any]], list[tuple[int, str]], list[int]]:
    """The file's rows, problems with their shape, and each row's number in the file."""
    rows: list[dict[str, Any]] = []
    problems: list[tuple[int, str]] = []
    numbers: list[int] = []
    for number, row in read_table(path, allowed=("csv", "xlsx")):
        if not rows and not problems:
            missing = [c for c in COLUMNS if c not in row]
            unknown = [c for c in row if c not in COLUMNS + INFORMATIONAL and c != "__extra__"]
            if missing or unknown:
                parts = []
                if missing:
                    parts.append(f"missing column(s) {', '.join(missing)}")
                if unknown:
                    parts.append(f"unknown column(s) {', '.join(unknown)}")
                raise TableError(f"{path.name}: {'; '.join(parts)} (expected {', '.join(COLUMNS)})")
        if "__extra__" in row:
            problems.append((number, "has values beyond the last named column"))
        rows.append(row)
        numbers.append(number)
    if not rows:
        raise TableError(f"{path.name}: no plan rows")
    return rows, problems, numbers


def _fail(path: Path, problems: list[tuple[int, str]]) -> click.ClickException:
    lines = [f"row {n}: {m}" if n else m for n, m in sorted(problems)]
    shown = "\n  ".join(lines[:SHOWN_PROBLEMS])
    more = f"\n  … and {len(lines) - SHOWN_PROBLEMS} more" if len(lines) > SHOWN_PROBLEMS else ""
    return click.ClickException(f"{path}: nothing imported, {len(lines)} problem(s):\n  {shown}{more}")


@plans_cli.command("import")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--name", required=True, help="Plan name, e.g. \"Sơn La 2025\".")
@click.option("--deadline", required=True, type=_DATE, help="Deadline, YYYY-MM-DD.")
@click.option("--effective", required=True, type=_DATE, help="Date this revision takes effect, YYYY-MM-DD.")
@click.option("--set", "set_name", help="Boundary set of the commune codes (default: the default set).")
@with_appcontext
def import_command(path: Path, name: str, deadline: Any, effective: Any, set_name: str | None) -> None:
    """Load or revise a plan from CSV / XLSX (commune_code, new_build, repair, budget_vnd).

    Every row is checked first; if any row is bad nothing is imported and
    each problem is listed with its row number. The rows become a new
    revision of plan NAME; importing the same file again changes nothing.
    """
    name = name.strip()
    if not name or len(name) > 100:
        raise click.BadParameter("must be 1 to 100 characters", param_hint="--name")
    boundary_set = _boundary_set(set_name)
    try:
        rows, shape_problems, numbers = read_plan_rows(path)
    except TableError as exc:
        raise click.ClickException(f"nothing imported: {exc}") from None
    problems = list(shape_problems)
    try:
        result = add_revision(name, boundary_set, rows, deadline=deadline.date(), effective=effective.date(),
                              source_name=path.name[:300], row_numbers=numbers)
    except PlanRowsError as exc:
        problems += exc.problems
    if problems:
        db.session.rollback()
        raise _fail(path, problems)
    targets = result.revision.targets
    new_build = sum(t.new_build for t in targets)
    repair = sum(t.repair for t in targets)
    budget = sum(t.budget_vnd for t in targets)
    db.session.commit()
    click.echo(
        f"plan {result.plan.name}: revision {result.revision.number} effective {result.revision.effective_date} "
        f"deadline {result.revision.deadline} {result.status} ({len(targets)} communes, {new_build:,} new builds, "
        f"{repair:,} repairs, {budget:,} VND)"
    )


def _boundary_set(set_name: str | None) -> Any:
    from tracker.households.service import default_set

    boundary_set = get_set(set_name) if set_name else default_set()
    if boundary_set is None:
        if set_name:
            raise click.BadParameter(f"no boundary set named {set_name!r}", param_hint="--set")
        raise click.ClickException("no boundary set is loaded; run `flask boundaries import` first")
    return boundary_set


@plans_cli.command("carry")
@click.argument("name")
@click.option("--to", "to_name", required=True, help="The boundary set to carry the plan to, e.g. 2025.")
@click.option("--as", "new_name", help="Name of the carried plan (default: \"NAME (SET)\").")
@with_appcontext
def carry_command(name: str, to_name: str, new_name: str | None) -> None:
    """Carry plan NAME to another map through the crosswalk, as derived revisions.

    Split communes are apportioned by the households assigned under both
    maps (by area where none), in whole houses and whole VND; every total is
    preserved exactly. Revisions already carried are not carried twice.
    """
    from tracker.plans.carry import CrosswalkError, carry_plan
    from tracker.plans.service import get_plan, revision_totals

    plan = get_plan(name)
    if plan is None:
        raise click.BadParameter(f"no plan named {name!r}", param_hint="NAME")
    to_set = get_set(to_name)
    if to_set is None:
        raise click.BadParameter(f"no boundary set named {to_name!r}", param_hint="--to")
    try:
        result = carry_plan(plan, to_set, new_name)
    except CrosswalkError as exc:
        db.session.rollback()
        lines = "\n  ".join(exc.problems[:SHOWN_PROBLEMS])
        raise click.ClickException(f"nothing carried, {len(exc.problems)} problem(s):\n  {lines}") from None
    db.session.commit()
    totals = revision_totals([r.id for r in result.carried])
    click.echo(f"plan {plan.name} → {result.plan.name} on {to_set.name}: {len(result.carried)} revision(s) carried"
               f"{'' if result.carried else ' (already up to date)'}")
    for revision in result.carried:
        t = totals[revision.id]
        click.echo(f"  revision {revision.number} effective {revision.effective_date}: {t.communes} communes, "
                   f"{t.new_build:,} new builds, {t.repair:,} repairs, {t.budget_vnd:,} VND")
    if result.split:
        by = {how: sum(1 for c in result.split if result.basis[c] == how) for how in ("households", "area")}
        click.echo(f"  {len(result.split)} split communes apportioned ({by['households']} by households, "
                   f"{by['area']} by area)")
