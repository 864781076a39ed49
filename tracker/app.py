"""The app factory: ``create_app`` wires settings, extensions, blueprints and commands."""
from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Flask

from tracker import config as config_module
from tracker import proxy
from tracker.extensions import api, db, migrate

MIGRATIONS_DIR = str(Path(__file__).resolve().parent.parent / "migrations")


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build the app: settings from the environment, overridden by ``config``."""
    app = Flask(__name__, instance_path=config_module.from_environment()["INSTANCE_DIR"])
    register_config(app, config)
    register_extensions(app)
    register_input_checks(app)
    register_blueprints(app)
    register_cli(app)
    register_jobs(app)
    register_logging(app)
    proxy.init_app(app)
    return app


def register_config(app: Flask, overrides: Mapping[str, Any] | None) -> None:
    settings = config_module.from_environment()
    settings.update(overrides or {})
    config_module.check_secret(settings)
    app.config.update(settings)
    app.instance_path = app.config["INSTANCE_DIR"]
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)


def register_extensions(app: Flask) -> None:
    from sqlalchemy.orm import configure_mappers

    from tracker import models  # noqa: F401  (every table registered before use)

    configure_mappers()  # once per process, at start rather than in its first request (tens of ms)
    db.init_app(app)
    migrate.init_app(app, db, directory=MIGRATIONS_DIR)
    api.init_app(app)
    api.spec.components.security_scheme("bearerAuth", {"type": "http", "scheme": "bearer"})
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        _tune_sqlite(app)


def _tune_sqlite(app: Flask) -> None:
    """WAL and a busy timeout let several workers share one SQLite file."""
    from sqlalchemy import event

    with app.app_context():
        engine = db.engine

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()


def register_input_checks(app: Flask) -> None:
    """Refuse NUL characters in paths, queries and forms before any view runs (after the body limit),
    and bodies of no declared length that run past it."""
    from tracker.inputs import BoundedRequest, check_parameters

    app.request_class = BoundedRequest
    app.before_request(check_parameters)


def register_blueprints(app: Flask) -> None:
    """The API (documented in the OpenAPI document) and the web pages."""
    from tracker.accounts.views import blp as auth_blp
    from tracker.boundaries.views import blp as boundaries_blp
    from tracker.crosswalks.views import blp as crosswalks_blp
    from tracker.exports.views import blp as exports_blp
    from tracker.households.views import blp as sync_blp
    from tracker.jobs import pages  # noqa: F401  (the job pages' routes)
    from tracker.jobs.pages import queue_unavailable
    from tracker.jobs.queue import QueueUnavailable
    from tracker.jobs.views import blp as jobs_blp
    from tracker.meta.views import blp as meta_blp
    from tracker.openrosa import init_app as register_openrosa
    from tracker.openrosa.api import blp as field_app_blp
    from tracker.photos.blobs import StoreUnavailable
    from tracker.photos.serving import store_unavailable
    from tracker.photos.views import blp as photos_blp
    from tracker.plans.views import blp as plans_blp
    from tracker.progress.views import blp as progress_blp
    from tracker.web import init_app as register_web

    for blueprint in (meta_blp, boundaries_blp, auth_blp, sync_blp, photos_blp, plans_blp, progress_blp,
                      exports_blp, crosswalks_blp, field_app_blp, jobs_blp):
        api.register_blueprint(blueprint)
    register_web(app)
    register_openrosa(app)
    app.register_error_handler(StoreUnavailable, store_unavailable)
    app.register_error_handler(QueueUnavailable, queue_unavailable)


def register_cli(app: Flask) -> None:
    from tracker.accounts.cli import devices_cli, users_cli
    from tracker.backup.cli import backup_cli
    from tracker.boundaries.cli import boundaries_cli
    from tracker.crosswalks.cli import crosswalks_cli
    from tracker.demo.cli import demo_cli
    from tracker.households.cli import households_cli
    from tracker.jobs.cli import jobs_cli
    from tracker.openrosa.cli import enroll_command, forms_cli
    from tracker.photos.cli import photos_cli
    from tracker.plans.cli import plans_cli
    from tracker.progress.cli import tallies_cli

    for group in (boundaries_cli, crosswalks_cli, plans_cli, households_cli, users_cli, devices_cli, demo_cli,
                  backup_cli, tallies_cli, photos_cli, jobs_cli):
        app.cli.add_command(group)
    devices_cli.add_command(enroll_command)
    app.cli.add_command(forms_cli)


def register_jobs(app: Flask) -> None:
    """The kinds of job, and those of any module named in ``JOB_MODULES`` (comma-separated)."""
    import importlib

    from tracker.jobs import kinds  # noqa: F401  (registers the kinds)

    for name in filter(None, (part.strip() for part in app.config.get("JOB_MODULES", "").split(","))):
        importlib.import_module(name)


def register_logging(app: Flask) -> None:
    if not app.debug and not app.testing:
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
