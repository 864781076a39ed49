"""The migrated schema equals the models, and downgrade works."""
from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask import Flask
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect

from tracker.extensions import db


def _diff() -> list:
    with db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        return compare_metadata(context, db.metadata)


def test_migrated_schema_matches_models(app: Flask) -> None:
    assert _diff() == []


def test_downgrade_then_upgrade_round_trips(app: Flask) -> None:
    db.session.remove()
    downgrade(revision="base")
    assert "households" not in inspect(db.engine).get_table_names()
    upgrade()
    assert "households" in inspect(db.engine).get_table_names()
    assert _diff() == []
