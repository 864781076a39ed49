"""Fixtures: the app built through the factory, on SQLite and on PostgreSQL.

Every test that asks for ``app`` (or ``client``/``runner``) runs twice, once
per database. The schema is created by the Alembic migrations, once per
database and session; each test starts from empty tables.
"""
from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from werkzeug.test import TestResponse

from tests.helpers import recreate_pg_database
from tests.test_security import world  # noqa: F401  (the signed-in accounts and households several test files share)
from tracker.app import create_app
from tracker.extensions import db

DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/tracker_test"
REPORT = Path(__file__).resolve().parent.parent / ".test-results"


def _postgres_url() -> str:
    url = os.environ.get("TEST_DATABASE_URL") or DEFAULT_PG
    return url.replace("postgresql://", "postgresql+psycopg://", 1) if url.startswith("postgresql://") else url


def _session_database(url: str) -> str:
    """A database of this test session's own, so that runs never share one."""
    target = make_url(url)
    return target.set(database=f"{target.database}_{os.getpid()}").render_as_string(hide_password=False)


def _admin(url: str):
    return create_engine(make_url(url).set(database="postgres"), isolation_level="AUTOCOMMIT")


def _drop_pg_database(url: str) -> None:
    admin = _admin(url)
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path_factory.mktemp('sqlite') / 'test.db'}"
    url = _session_database(_postgres_url())
    try:
        recreate_pg_database(url)
    except Exception as exc:  # the server is down or refuses us
        if os.environ.get("ALLOW_NO_POSTGRES") == "1":
            pytest.skip(f"PostgreSQL unavailable at {make_url(url).render_as_string()}: {exc}")
        pytest.fail(f"PostgreSQL is required for the test suite and is unavailable: {exc}")
    request.addfinalizer(lambda: _drop_pg_database(url))
    return url


@pytest.fixture(scope="session")
def migrated(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> str:
    """Run the Alembic migrations once per database."""
    from flask_migrate import upgrade

    app = create_app(_settings(database_url, tmp_path_factory.mktemp("instance")))
    with app.app_context():
        upgrade()
        db.engine.dispose()
    return database_url


def _settings(url: str, instance: Path) -> dict[str, object]:
    return {
        "TESTING": True,
        "ENV_NAME": "testing",
        "SQLALCHEMY_DATABASE_URI": url,
        "INSTANCE_DIR": str(instance),
        "PHOTO_DIR": str(instance / "photos"),
    }


def _empty_tables() -> None:
    with db.engine.begin() as conn:
        for table in reversed(db.metadata.sorted_tables):
            conn.execute(table.delete())
        conn.execute(text("INSERT INTO sync_counters (name, value) VALUES ('changes', 0)"))


class ClosingClient(FlaskClient):
    """A test client that reads each answer whole and closes it, as a WSGI server does after sending it.

    Work a request leaves until its answer is sent (``tracker.http.after_response``)
    then runs before the test goes on; ``buffered=False`` still streams.
    """

    def open(self, *args: Any, buffered: bool = True, **kwargs: Any) -> TestResponse:
        return super().open(*args, buffered=buffered, **kwargs)


@pytest.fixture
def app(migrated: str, tmp_path: Path) -> Iterator[Flask]:
    app = create_app(_settings(migrated, tmp_path))
    app.test_client_class = ClosingClient
    with app.app_context():
        _empty_tables()
        yield app
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def client(app: Flask):
    return app.test_client()


@pytest.fixture
def runner(app: Flask) -> FlaskCliRunner:
    return app.test_cli_runner()


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    """Count the PostgreSQL tests that passed, for .ci/run to check."""
    if report.when == "call" and report.passed and "[postgresql" in report.nodeid:
        REPORT.mkdir(exist_ok=True)
        with open(REPORT / "postgres-passed", "a", encoding="utf-8") as handle:
            handle.write(report.nodeid + "\n")


def pytest_sessionstart(session: pytest.Session) -> None:
    (REPORT / "postgres-passed").unlink(missing_ok=True)
