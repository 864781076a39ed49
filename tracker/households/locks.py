"""Serialising writers of the same household across workers.

PostgreSQL: transaction-scoped advisory locks on hash buckets of the
household ids (and of the push batch), always taken in ascending order, so
two pushes touching the same records wait for each other instead of both
inserting, and cannot deadlock. SQLite: ``BEGIN IMMEDIATE`` takes the
database's single write lock up front, before anything is read.

Every lock is released by the transaction's commit or rollback.
"""
from __future__ import annotations

import zlib
from collections.abc import Iterable

from sqlalchemy import bindparam, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.types import Integer

from tracker.extensions import db

BUCKETS = 1 << 16
NS_HOUSEHOLD = 0x5359  # lock namespaces (the first key of the two-key form)
NS_BATCH = 0x5342
NS_PHOTO = 0x5350
NS_SIGN_IN = 0x534C  # the sign-in counters of one account and one address


def bucket(key: str) -> int:
    return zlib.crc32(key.encode("utf-8")) % BUCKETS


def dialect() -> str:
    return db.session.get_bind().dialect.name


def begin_write() -> None:
    """On SQLite, take the write lock now (no-op when a write already began)."""
    if dialect() != "sqlite":
        return
    connection = db.session.connection()
    raw = connection.connection.driver_connection
    if not raw.in_transaction:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


_PG_LOCKS = text(
    "SELECT count(pg_advisory_xact_lock(:ns, b)) FROM "
    "(SELECT b FROM unnest(:buckets) AS b ORDER BY b) AS ordered"
).bindparams(bindparam("buckets", type_=ARRAY(Integer)))


def lock(namespace: int, keys: Iterable[str]) -> None:
    """Hold a write lock on these keys until the transaction ends."""
    begin_write()
    if dialect() != "postgresql":
        return
    buckets = sorted({bucket(k) for k in keys})
    if buckets:
        db.session.execute(_PG_LOCKS, {"ns": namespace, "buckets": buckets})


def lock_households(ids: Iterable[str]) -> None:
    lock(NS_HOUSEHOLD, ids)
