"""``flask devices enroll`` (a field device for an officer, with Collect's settings QR code) and ``flask forms xlsx``."""
from __future__ import annotations

from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from tracker.accounts.service import AccountError
from tracker.audit import service as audit
from tracker.extensions import db
from tracker.openrosa import enrol, forms


@click.command("enroll")
@click.argument("name")
@click.option("--device", "device_id", help="The device's id (default: a new collect-… id).")
@click.option("--qr", "qr_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Write Collect's settings QR code here as PNG.")
@click.option("--base-url", help="The server's public address (default: PUBLIC_URL).")
@with_appcontext
def enroll_command(name: str, device_id: str | None, qr_path: Path | None, base_url: str | None) -> None:
    """Enrol a field device for officer NAME: prints the Collect server URL with the device's own key."""
    base = base_url or current_app.config.get("PUBLIC_URL")
    if not base:
        raise click.ClickException("give --base-url or set PUBLIC_URL (the address phones reach the server at)")
    try:
        enrolment = enrol.enrol(name, base, device_id)
    except AccountError as exc:
        db.session.rollback()
        raise click.ClickException(str(exc)) from None
    audit.record("device.enroll", actor_name="cli", object_type="device", object_id=enrolment.device.device_id,
                 details={"username": enrolment.user.username})
    if qr_path is not None:
        try:
            qr_path.write_bytes(enrol.qr_png(enrolment.qr_payload()))
        except OSError as exc:
            db.session.rollback()
            raise click.ClickException(f"cannot write {qr_path}: {exc.strerror}") from None
    db.session.commit()
    click.echo(f"device {enrolment.device.device_id} enrolled for {enrolment.user.username}")
    click.echo(f"server URL: {enrolment.server_url}")
    if qr_path is not None:
        click.echo(f"settings QR code: {qr_path}")


forms_cli = click.Group("forms", help="The field app's XLSForms.")


@forms_cli.command("xlsx")
@click.argument("form_id", type=click.Choice(forms.FORM_IDS))
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
def xlsx_command(form_id: str, path: Path) -> None:
    """Write FORM_ID's XLSForm as an .xlsx workbook (its version filled in), for Excel users."""
    from pyxform.xls2json_backends import md_table_to_workbook

    source = forms.source_path(form_id).read_text(encoding="utf-8")
    book = md_table_to_workbook(source.replace(forms.VERSION_PLACEHOLDER, forms.version_of(source)))
    try:
        book.save(path)
    except OSError as exc:
        raise click.ClickException(f"cannot write {path}: {exc.strerror}") from None
    click.echo(f"{form_id} version {forms.version_of(source)} written to {path}")
