"""A long fuzzing run: schemathesis over every operation of the OpenAPI document,
against a real gunicorn server on a throw-away database, with a valid token.

    .venv/bin/python bench/fuzz.py                       # 500 examples per operation, SQLite
    .venv/bin/python bench/fuzz.py --examples 2000 --database postgresql+psycopg://postgres@127.0.0.1/tracker_fuzz

The database is created (PostgreSQL: dropped and created) and migrated; the
run prints the figures and every failing operation with a curl line to
reproduce it, and exits non-zero when any failed. Generated pushes carry the
token's device and reach validation, the merge and the ledger; a stateful run
follows the document's links afterwards. ``make test`` runs the same code with
a few examples per operation (tests/test_fuzz.py).
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=500, help="examples per operation (default 500)")
    parser.add_argument("--database", default="", help="SQLAlchemy URL (default: a temporary SQLite file)")
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--seed", type=int, default=int(time.time()))
    parser.add_argument("--minutes", type=float, default=0, help="stop after this long (0: no limit)")
    args = parser.parse_args()

    from flask_migrate import upgrade

    from tests.helpers import recreate_pg_database
    from tests.sync_support import LiveServer
    from tests.test_fuzz import DEVICE, fuzz, seed
    from tracker.app import create_app
    from tracker.extensions import db

    work = Path(tempfile.mkdtemp(prefix="tracker-fuzz-"))
    url = args.database or f"sqlite:///{work / 'fuzz.db'}"
    if url.startswith("postgresql"):
        recreate_pg_database(url)
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "INSTANCE_DIR": str(work), "PHOTO_DIR": str(work / "photos"),
                      "ENV_NAME": "testing", "TESTING": True})
    with app.app_context():
        upgrade()
        seed(work)
        db.engine.dispose()
    server = LiveServer(url, work / "live", workers=args.workers)
    try:
        token = server.token("fuzz-manager", DEVICE)
        deadline = time.monotonic() + args.minutes * 60 if args.minutes else None
        report = fuzz(server.base, token, args.examples, seed_value=args.seed, deadline=deadline)
    finally:
        server.stop()
    print(f"fuzz: {report.summary()} (seed {args.seed}, {url.split('://')[0]})")
    for failure in report.failures:
        print(" -", failure)
    return 1 if report.failures or any(code >= 500 for code in report.statuses) else 0


if __name__ == "__main__":
    sys.exit(main())
