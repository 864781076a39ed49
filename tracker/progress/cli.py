"""``flask tallies rebuild``: the commune tallies counted afresh."""
from __future__ import annotations

import click
from flask.cli import with_appcontext

from tracker.boundaries.service import boundary_sets, get_set
from tracker.extensions import db
from tracker.progress import kept

tallies_cli = click.Group("tallies", help="Commune tallies kept by the household ledger.")


@tallies_cli.command("rebuild")
@click.option("--set", "set_name", help="Only this boundary set (default: every set).")
@click.option("--job", "as_job", is_flag=True, help="Hand the work to the job queue and print the job's id.")
@with_appcontext
def rebuild_command(set_name: str | None, as_job: bool) -> None:
    """Count the commune tallies afresh from the revisions and say whether they had drifted.

    Each set is rebuilt in one transaction: interrupted, it leaves the old
    tallies in force. Phone syncs wait while a set is counted.
    """
    if set_name is not None and get_set(set_name) is None:
        raise click.BadParameter(f"no boundary set named {set_name!r}", param_hint="--set")
    if as_job:
        from tracker.jobs.cli import started

        started("tallies.rebuild", {"set": set_name})
        return
    drifted_sets = 0
    for boundary_set in [get_set(set_name)] if set_name is not None else boundary_sets():
        drifted = kept.rebuild(boundary_set)
        db.session.commit()
        if drifted:
            drifted_sets += 1
            click.echo(f"boundary set {boundary_set.name}: the tallies had drifted ({drifted} rows differed); "
                       "counted afresh")
        else:
            click.echo(f"boundary set {boundary_set.name}: the tallies were right (no drift); counted afresh")
    if drifted_sets:
        raise SystemExit(1)
