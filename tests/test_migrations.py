"""The migrated schema equals the models, and downgrade works."""
from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask import Flask
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect, select, text

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


def test_revisions_stored_before_their_exported_columns_get_them_from_their_records(app: Flask, world) -> None:
    from tracker.households.models import HouseholdRevision

    def columns() -> list[tuple]:
        return [tuple(r) for r in db.session.execute(select(
            HouseholdRevision.household_id, HouseholdRevision.revision, HouseholdRevision.village,
            HouseholdRevision.ethnicity, HouseholdRevision.members, HouseholdRevision.national_id,
        ).order_by(HouseholdRevision.id)).all()]

    written = columns()
    assert {(r[0], r[4], r[5]) for r in written} >= {(world["a"]["id"], world["a"]["members"], world["a"]["national_id"]),
                                                     (world["b"]["id"], 7, world["b"]["national_id"])}
    db.session.remove()
    downgrade(revision="e8b1c3d5f7a9")
    assert "village" not in {c["name"] for c in inspect(db.engine).get_columns("household_revisions")}
    upgrade()
    assert columns() == written


def test_packed_blobs_are_stored_by_postgresql_as_they_are(app: Flask) -> None:
    """A gzipped map answer or zlib-packed day sums: no second compression attempt (it cost 25 ms a map)."""
    if db.engine.dialect.name != "postgresql":
        assert db.engine.dialect.name == "sqlite"  # SQLite stores every value as given
        return
    storage = dict(db.session.execute(text(
        "SELECT c.relname || '.' || a.attname, a.attstorage FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid "
        "WHERE (c.relname, a.attname) IN (('stored_answers', 'body'), ('tally_snapshots', 'sums'))")).all())
    assert storage == {"stored_answers.body": "e", "tally_snapshots.sums": "e"}


def test_postgresql_leaves_room_for_the_tallies_updates_on_their_page(app: Flask) -> None:
    """fillfactor 80: the ledger's updates of a tally row stay on its page (the rows stay in key order)."""
    if db.engine.dialect.name != "postgresql":
        assert db.engine.dialect.name == "sqlite"  # a WITHOUT ROWID table: always in key order
        return
    options = db.session.scalar(text("SELECT reloptions FROM pg_class WHERE relname = 'commune_tallies'"))
    assert options == ["fillfactor=80"]
