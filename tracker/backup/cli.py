"""``flask backup create PATH`` and ``flask backup restore PATH``."""
from __future__ import annotations

from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from tracker.backup import service
from tracker.photos import service as photos

backup_cli = click.Group("backup", help="Back up and restore the database and the photos.")


@backup_cli.command("create")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@with_appcontext
def create_command(path: Path) -> None:
    """Write a backup archive (.tar.gz) of the database and the photos to PATH."""
    try:
        manifest = service.create(path, current_app.config["SQLALCHEMY_DATABASE_URI"], photos.storage().blobs)
    except service.BackupError as exc:
        raise click.ClickException(str(exc)) from exc
    rows = sum(manifest.tables.values())
    click.echo(f"backup written to {path}: {manifest.database}, {rows} rows in {len(manifest.tables)} tables, "
               f"{manifest.photos} photos")


@backup_cli.command("restore")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@with_appcontext
def restore_command(path: Path, yes: bool) -> None:
    """Replace the database's content and the photos with the backup at PATH."""
    try:
        manifest = service.read_manifest(path)
    except (service.BackupError, OSError, ValueError) as exc:
        raise click.ClickException(str(exc)) from exc
    if not yes:
        click.confirm(f"Replace everything in the database and the photo store ({_store_name()}) with the backup "
                      f"made {manifest.created_at}?", abort=True)
    try:
        service.restore(path, current_app.config["SQLALCHEMY_DATABASE_URI"], photos.storage().blobs)
    except service.BackupError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"restored {path}: {sum(manifest.tables.values())} rows, {manifest.photos} photos")


def _store_name() -> str:
    config = current_app.config
    if config.get("PHOTO_STORE", "local") == "s3":
        return f"s3://{config['S3_BUCKET']}/{config.get('S3_PREFIX', '')}"
    return str(config["PHOTO_DIR"])
