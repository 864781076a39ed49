"""Fuzzing: schemathesis generates requests from the OpenAPI document for every
operation and sends them, with a valid token, to a real gunicorn server.

No answer may be a 5xx, and every answer must match the document (status
code, content type, body schema). Requests are both valid (positive) and
invalid (negative) by the document. ``make test`` runs a bounded number of
examples per operation (``FUZZ_EXAMPLES``, default 15); ``bench/fuzz.py``
runs the same with many more.
"""
from __future__ import annotations

import os
import random
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from tests.progress_builders import at, load_province, plan, record, store
from tests.sync_support import LiveServer, make_user
from tracker.extensions import db

DEVICE = "fuzz-phone"


@dataclass
class FuzzReport:
    examples: int = 0
    operations: int = 0
    statuses: dict[int, int] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def summary(self) -> str:
        codes = ", ".join(f"{code}: {count}" for code, count in sorted(self.statuses.items()))
        return (f"{self.examples} requests over {self.operations} operations in {self.seconds:.1f}s; "
                f"statuses {{{codes}}}; {len(self.failures)} failing operations")


def seed(tmp_path: Path) -> None:
    """A small province with a plan, accounts and households, so reads find something."""
    load_province(tmp_path)
    plan({"90001": (3, 1), "90002": (2, 0), "90003": (2, 1), "90004": (1, 0)}, effective=at("2025-01-01 08:00").date())
    make_user("fuzz-manager", "manager")
    make_user("fuzz-officer", "commune_officer", ["90001"])
    store([record(c, status=s) for c in ("90001", "90002", "90003") for s in ("approved", "completed")],
          received_at=at("2025-04-12 09:00"))
    db.session.remove()


def _octet_streams() -> None:
    """tus PATCH bodies (``application/offset+octet-stream``) are sent as raw bytes."""
    from schemathesis.transport.requests import REQUESTS_TRANSPORT, binary_serializer

    REQUESTS_TRANSPORT.serializer("application/offset+octet-stream")(binary_serializer)


def _checks() -> list[Any]:
    from schemathesis import checks

    return [checks.not_a_server_error, checks.status_code_conformance, checks.content_type_conformance,
            checks.response_schema_conformance]


def _adjust(case: Any, rng: random.Random) -> None:
    """Nudge some cases past the first gate, so deeper code gets exercised too."""
    body = case.body
    if case.operation.path == "/api/v1/sync/push" and isinstance(body, dict) and rng.random() < 0.7:
        body["device_id"] = DEVICE
    if case.operation.path.startswith("/api/v1/photos/") and isinstance(case.path_parameters, dict) \
            and rng.random() < 0.5:
        case.path_parameters["sha"] = f"{rng.getrandbits(256):064x}"


def _describe(exc: BaseException) -> str:
    """The failures in a few lines each: what was wrong, and how to reproduce it."""
    parts = []
    for sub in getattr(exc, "exceptions", None) or [exc]:
        text = str(sub).strip().splitlines()
        title = text[0] if text else type(sub).__name__
        detail = next((line.strip() for line in text[1:] if line.strip()), "")
        parts.append(f"{type(sub).__name__}: {title} | {detail}"[:400])
    reproduce = [line.strip() for line in str(exc).splitlines() if line.strip().startswith("curl ")]
    return "; ".join(parts) + (f" | {reproduce[0][:600]}" if reproduce else "")


def fuzz(base_url: str, token: str, examples: int, seed_value: int = 0,
         deadline: float | None = None) -> FuzzReport:
    """Run schemathesis over every operation of the live server's document."""
    import schemathesis
    from hypothesis import HealthCheck, Phase, given, settings
    from hypothesis import strategies as st
    from schemathesis import GenerationMode

    _octet_streams()
    schema = schemathesis.openapi.from_url(f"{base_url}/api/v1/openapi.json")
    report = FuzzReport()
    started = time.monotonic()
    rng = random.Random(seed_value)
    headers = {"Authorization": f"Bearer {token}"}
    checks = _checks()
    for result in schema.get_all_operations():
        operation = result.ok()
        if operation.method.upper() == "DELETE" and operation.path == "/api/v1/auth/token":
            continue  # signing out would end the run's own token
        report.operations += 1

        @settings(max_examples=examples, deadline=None, database=None, derandomize=True,
                  phases=[Phase.explicit, Phase.generate],
                  suppress_health_check=list(HealthCheck))
        @given(case=st.one_of(operation.as_strategy(generation_mode=GenerationMode.POSITIVE),
                              operation.as_strategy(generation_mode=GenerationMode.NEGATIVE)))
        def run(case: Any) -> None:
            _adjust(case, rng)
            response = case.call(base_url=base_url, headers=headers, timeout=60)
            report.examples += 1
            report.statuses[response.status_code] = report.statuses.get(response.status_code, 0) + 1
            case.validate_response(response, checks=checks)

        try:
            run()
        except (KeyboardInterrupt, SystemExit):
            raise
        except BaseException as exc:  # noqa: B036 (schemathesis raises a BaseExceptionGroup)
            report.failures.append(f"{operation.method.upper()} {operation.path}: {_describe(exc)}")
        if deadline is not None and time.monotonic() > deadline:
            break
    report.seconds = time.monotonic() - started
    return report


@pytest.fixture
def fuzz_server(app: Flask, tmp_path: Path) -> Iterator[LiveServer]:
    seed(tmp_path)
    server = LiveServer(app.config["SQLALCHEMY_DATABASE_URI"], tmp_path / "live", workers=2)
    try:
        yield server
    finally:
        server.stop()


def test_fuzzing_every_operation_finds_no_5xx_and_no_mismatch(fuzz_server: LiveServer) -> None:
    token = fuzz_server.token("fuzz-manager", DEVICE)
    report = fuzz(fuzz_server.base, token, int(os.environ.get("FUZZ_EXAMPLES", "15")))
    print(report.summary())
    assert report.operations >= 24
    assert not report.failures, "\n".join(report.failures) + "\n" + fuzz_server.output()[-1500:]
    assert not any(code >= 500 for code in report.statuses)
    assert report.statuses.get(200, 0) + report.statuses.get(201, 0) > report.operations
