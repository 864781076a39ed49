"""Configuration, read once from the environment.

Every variable is documented in README.md ("Configuration"). ``create_app``
accepts a mapping that overrides these values (the tests use it).
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from tracker import jsoncodec

INSTANCE_DIR = Path(__file__).resolve().parent.parent / "instance"
DEV_SECRET = "dev-only-secret-key"


def _int(env: dict[str, str], name: str, default: int) -> int:
    value = env.get(name)
    return int(value) if value not in (None, "") else default


def _normalise_database_url(url: str) -> str:
    """Accept plain ``postgresql://`` URLs and use the psycopg 3 driver."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def from_environment(env: dict[str, str] | None = None) -> dict[str, Any]:
    """The settings for one app, from environment variables with defaults."""
    env = dict(os.environ if env is None else env)
    instance = Path(env.get("INSTANCE_DIR", INSTANCE_DIR))
    database_url = env.get("DATABASE_URL") or f"sqlite:///{instance / 'tracker.db'}"
    return {
        "ENV_NAME": env.get("TRACKER_ENV", "development"),
        "SECRET_KEY": env.get("SECRET_KEY", ""),
        "INSTANCE_DIR": str(instance),
        "SQLALCHEMY_DATABASE_URI": _normalise_database_url(database_url),
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True, "json_serializer": jsoncodec.dumps,
                                      "json_deserializer": jsoncodec.loads},
        "BOUNDARIES_DIR": env.get("BOUNDARIES_DIR", ""),
        "DEFAULT_BOUNDARY_SET": env.get("DEFAULT_BOUNDARY_SET", ""),
        "PHOTO_DIR": env.get("PHOTO_DIR", str(instance / "photos")),
        "MAX_CONTENT_LENGTH": _int(env, "MAX_BODY_BYTES", 8 * 1024 * 1024),
        "PHOTO_MAX_BYTES": _int(env, "PHOTO_MAX_BYTES", 15 * 1024 * 1024),
        "PHOTO_MAX_PIXELS": _int(env, "PHOTO_MAX_PIXELS", 40_000_000),
        "PROXY_HOPS": _int(env, "PROXY_HOPS", 0),
        "HTTPS": env.get("HTTPS", "") in ("1", "true", "yes"),
        "PHOTO_STORE": env.get("PHOTO_STORE", "local"),
        "PHOTO_ACCEL_PREFIX": env.get("PHOTO_ACCEL_PREFIX", ""),
        "S3_BUCKET": env.get("S3_BUCKET", ""),
        "S3_ENDPOINT_URL": env.get("S3_ENDPOINT_URL", ""),
        "S3_REGION": env.get("S3_REGION", ""),
        "S3_PREFIX": env.get("S3_PREFIX", ""),
        "PHOTO_UPLOAD_IDLE_MINUTES": _int(env, "PHOTO_UPLOAD_IDLE_MINUTES", 3 * 24 * 60),
        "PHOTO_MAX_OPEN_UPLOADS": _int(env, "PHOTO_MAX_OPEN_UPLOADS", 100),
        # Slow work on a queue: Redis when REDIS_URL is set, in-process otherwise (README, "Jobs").
        "REDIS_URL": env.get("REDIS_URL", ""),
        "JOB_QUEUE_PREFIX": env.get("JOB_QUEUE_PREFIX", "tracker"),
        "JOB_ATTEMPTS": _int(env, "JOB_ATTEMPTS", 3),
        "JOB_RETRY_BACKOFF_MS": _int(env, "JOB_RETRY_BACKOFF_MS", 5000),
        "JOB_HEARTBEAT_SECONDS": _int(env, "JOB_HEARTBEAT_SECONDS", 60),
        "JOB_MAINTENANCE_CHANCE": _int(env, "JOB_MAINTENANCE_CHANCE", 10_000),
        "JOB_KEEP_DAYS": _int(env, "JOB_KEEP_DAYS", 30),
        "JOB_TIME_LIMIT_SECONDS": _int(env, "JOB_TIME_LIMIT_SECONDS", 3600),
        "JOB_MODULES": env.get("JOB_MODULES", ""),
        "EXPORT_INLINE_ROWS": _int(env, "EXPORT_INLINE_ROWS", 20_000),
        "PUSH_MAX_RECORDS": _int(env, "PUSH_MAX_RECORDS", 500),
        # What one OpenRosa POST may carry (Collect splits a bigger submission), plus room for the multipart framing.
        "OPENROSA_ACCEPT_BYTES": _int(env, "OPENROSA_ACCEPT_BYTES", 10_000_000),
        "OPENROSA_MAX_BODY_BYTES": _int(env, "OPENROSA_ACCEPT_BYTES", 10_000_000) + 1024 * 1024,
        "PUBLIC_URL": env.get("PUBLIC_URL", ""),
        "TOKEN_TTL_HOURS": _int(env, "TOKEN_TTL_HOURS", 24 * 30),
        "LOGIN_RATE_LIMIT": _int(env, "LOGIN_RATE_LIMIT", 10),
        # flask-smorest: the OpenAPI document is served at /api/v1/openapi.json
        "API_TITLE": "Housing programme tracker",
        "API_VERSION": "v1",
        "OPENAPI_VERSION": "3.0.3",
        "OPENAPI_URL_PREFIX": "/api/v1",
        "OPENAPI_JSON_PATH": "openapi.json",
        "JSON_SORT_KEYS": False,
    }


def check_secret(config: dict[str, Any]) -> None:
    """Refuse to run outside development without a real ``SECRET_KEY``."""
    development = config.get("ENV_NAME") in ("development", "testing")
    if config.get("SECRET_KEY") and (development or config["SECRET_KEY"] != DEV_SECRET):
        return
    if development:
        config["SECRET_KEY"] = DEV_SECRET
        return
    raise RuntimeError("SECRET_KEY must be set when TRACKER_ENV is not 'development'")
