"""``flask users create|password|sign-out`` and ``flask devices revoke``."""
from __future__ import annotations

import sys

import click
from flask.cli import with_appcontext
from sqlalchemy import select

from tracker.accounts.models import ROLES, User
from tracker.accounts.service import AccountError, create_user, end_sessions, revoke_device, set_password
from tracker.audit import service as audit
from tracker.extensions import db

users_cli = click.Group("users", help="User accounts.")
devices_cli = click.Group("devices", help="Phones and their tokens.")


def _read_password() -> str:
    """The password from standard input (a prompt when it is a terminal)."""
    if sys.stdin.isatty():
        return click.prompt("Password", hide_input=True, confirmation_prompt=True)
    return sys.stdin.readline().rstrip("\r\n")


@users_cli.command("create")
@click.argument("name")
@click.option("--role", required=True, type=click.Choice(ROLES))
@click.option("--commune", "communes", multiple=True, help="A commune code (repeatable).")
@click.option("--area", "areas", multiple=True, help="A district or province code, for viewers (repeatable).")
@with_appcontext
def create_command(name: str, role: str, communes: tuple[str, ...], areas: tuple[str, ...]) -> None:
    """Create an account; the password is read from standard input."""
    try:
        user = create_user(name, _read_password(), role, list(communes) + list(areas))
    except AccountError as exc:
        db.session.rollback()
        raise click.ClickException(str(exc)) from None
    audit.record("user.create", actor_name="cli", object_type="user", object_id=str(user.id),
                 details={"username": user.username, "role": role})
    db.session.commit()
    click.echo(f"user {user.username} created ({role})")


def _user(name: str) -> User:
    user = db.session.scalar(select(User).where(User.username == name))
    if user is None:
        raise click.ClickException(f"no user {name!r}")
    return user


@users_cli.command("password")
@click.argument("name")
@with_appcontext
def password_command(name: str) -> None:
    """Set a new password (read from standard input): every session and token of the user ends."""
    user = _user(name)
    try:
        revoked = set_password(user, _read_password())
    except AccountError as exc:
        db.session.rollback()
        raise click.ClickException(str(exc)) from None
    audit.record("user.password", actor_name="cli", object_type="user", object_id=str(user.id),
                 details={"username": user.username, "tokens_revoked": revoked})
    db.session.commit()
    click.echo(f"password of {user.username} changed; signed out everywhere, {revoked} token(s) revoked")


@users_cli.command("sign-out")
@click.argument("name")
@with_appcontext
def sign_out_command(name: str) -> None:
    """Sign the user out of every browser (phones keep their tokens: see ``devices revoke``)."""
    user = _user(name)
    end_sessions(user)
    audit.record("user.sign_out_everywhere", actor_name="cli", object_type="user", object_id=str(user.id),
                 details={"username": user.username})
    db.session.commit()
    click.echo(f"{user.username} signed out of every browser")


@devices_cli.command("revoke")
@click.argument("device_id")
@click.option("--user", "username", help="Only this user's device.")
@with_appcontext
def revoke_command(device_id: str, username: str | None) -> None:
    """Revoke a device: its tokens stop working at once."""
    count = revoke_device(device_id, username)
    if not count:
        raise click.ClickException(f"no device {device_id!r}")
    audit.record("device.revoke", actor_name="cli", object_type="device", object_id=device_id)
    db.session.commit()
    click.echo(f"device {device_id} revoked ({count})")
