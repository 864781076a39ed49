"""``flask households import PATH [--errors PATH]``."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import click
from flask.cli import with_appcontext

from tracker.boundaries.service import boundary_sets
from tracker.exports.tables import TableError, count_rows
from tracker.extensions import db
from tracker.households.importer import default_error_path, import_file, write_error_report

households_cli = click.Group("households", help="Household records.")
SHOWN_ERRORS = 20


@households_cli.command("import")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--errors", "errors_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Where to write the per-row error report (default: PATH's name + .errors.csv, beside it).")
@click.option("--batch", default=1000, show_default=True, type=click.IntRange(1, 20_000),
              help="Rows stored per transaction.")
@with_appcontext
def import_command(path: Path, errors_path: Path | None, batch: int) -> None:
    """Bulk-load household records from CSV, XLSX or JSON lines.

    Valid rows are stored (their commune assigned from the GPS point); bad
    rows are listed with the reason in the error report. Running the same
    file again stores nothing twice.
    """
    from tracker.households.service import create_households

    if not boundary_sets():
        click.echo("warning: no boundary set is loaded, so no commune will be assigned", err=True)
    device = f"import:{path.name}"[:128]

    def store(records: list[dict[str, Any]]) -> list[Any]:
        return create_households(records, device_id=device)

    total = count_rows(path) if path.is_file() else None
    try:
        with click.progressbar(length=max(total or 1, 1), label=f"Importing {path.name}",
                               show_pos=True) as bar:
            summary = import_file(path, store, db.session.commit, progress=bar.update, batch_size=batch)
    except TableError as exc:
        db.session.rollback()
        raise click.ClickException(f"nothing imported: {exc}") from None
    except Exception:
        db.session.rollback()
        raise
    if summary.rows == 0:
        raise click.ClickException(f"nothing imported: {path.name} holds no household rows")
    counts = ", ".join(f"{n:,} {name}" for name, n in sorted(summary.counts.items())) or "nothing"
    click.echo(f"{path.name}: {summary.rows:,} rows: {counts}")
    if not summary.errors:
        return
    report = errors_path or default_error_path(path)
    try:
        write_error_report(report, summary.errors)
    except OSError as exc:
        raise click.ClickException(f"could not write the error report to {report}: {exc.strerror}") from None
    for error in summary.errors[:SHOWN_ERRORS]:
        click.echo(f"  row {error.row}: {error.field}: {error.message}", err=True)
    if len(summary.errors) > SHOWN_ERRORS:
        click.echo(f"  … and {len(summary.errors) - SHOWN_ERRORS:,} more", err=True)
    bad_rows = len({e.row for e in summary.errors})
    raise click.ClickException(
        f"{bad_rows:,} row(s) not imported (the valid rows were); every problem is listed in {report}"
    )
