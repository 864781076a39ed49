"""``flask photos prune``: remove uploads abandoned half-way."""
from __future__ import annotations

import click
from flask.cli import AppGroup

from tracker.photos import service, uploads

photos_cli = AppGroup("photos", help="Photo storage.")


@photos_cli.command("prune")
@click.option("--idle-minutes", type=click.IntRange(min=0), default=None,
              help="Prune uploads idle this long (default: PHOTO_UPLOAD_IDLE_MINUTES).")
def prune_command(idle_minutes: int | None) -> None:
    """Remove uploads in progress that nothing has added to for a while."""
    count, freed = uploads.prune(idle_minutes)
    click.echo(f"Pruned {count} abandoned uploads ({freed} bytes).")


@photos_cli.command("ensure-bucket")
def ensure_bucket_command() -> None:
    """Create the S3 bucket named by S3_BUCKET when it does not exist yet."""
    from tracker.photos.s3 import S3Blobs  # boto3 only when the S3 store is used

    blobs = service.storage().blobs
    if not isinstance(blobs, S3Blobs):
        raise click.ClickException("PHOTO_STORE is not s3: there is no bucket to create.")
    blobs.ensure_bucket()
    click.echo(f"bucket {blobs.bucket} is ready")
