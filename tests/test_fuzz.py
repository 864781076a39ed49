"""Fuzzing: schemathesis generates requests from the OpenAPI document for every
operation and sends them, with a valid token, to a real gunicorn server.

No answer may be a 5xx, every answer must match the document (status code,
content type, body schema), and every error under ``/api`` and every answer
to ``OPTIONS`` (sent beside a share of the cases) must be JSON. Requests are
both valid (positive) and invalid (negative) by the document. Pushes carry
the token's own device and a fresh batch id, and most carry, beside the
generated records, records of the seeded province with generated values laid
over some fields, on a few household ids, so they pass the gates and reach
validation, the merge and the ledger. After the operations one by one, a
stateful run follows the document's links (a push to its household, a
photo to its bytes…).

``make test`` runs a bounded number of examples per operation
(``FUZZ_EXAMPLES``, default 40: enough to find a NUL byte that reaches
PostgreSQL); ``bench/fuzz.py`` runs the same with many more.
"""
from __future__ import annotations

import copy
import os
import random
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from tests.progress_builders import at, centre, load_province, plan, record, store
from tests.sync_support import LiveServer, make_user
from tracker.extensions import db

DEVICE = "fuzz-phone"
EXAMPLES = 20
# A few household ids the pushes come back to, so later ones update and merge earlier ones.
KNOWN_IDS = [str(uuid.UUID(int=i + 1)) for i in range(2)]
# Characters no layer may choke on, put into a share of the generated parameters: Hypothesis
# seldom draws a NUL by itself, and a NUL reaching PostgreSQL was a 500 on 22 URLs.
HOSTILE = ["\x00", "a\x00", "\x00\x00x", "%00", "\u202e", "\ufeff", "𝔘"]


@dataclass
class FuzzReport:
    examples: int = 0
    operations: int = 0
    statuses: dict[int, int] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)
    seconds: float = 0.0
    records: dict[str, int] = field(default_factory=dict)  # pushed records by result
    options: int = 0
    stateful_steps: int = 0

    def count(self, status: int) -> None:
        self.statuses[status] = self.statuses.get(status, 0) + 1

    def summary(self) -> str:
        codes = ", ".join(f"{code}: {count}" for code, count in sorted(self.statuses.items()))
        pushed = ", ".join(f"{result}: {count}" for result, count in sorted(self.records.items()))
        return (f"{self.examples} requests over {self.operations} operations, {self.options} OPTIONS, "
                f"{self.stateful_steps} stateful steps in {self.seconds:.1f}s; statuses {{{codes}}}; "
                f"pushed records {{{pushed}}}; {len(self.failures)} failing operations")


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


def _valid_record(rng: random.Random, generated: Any) -> dict[str, Any]:
    """A record of the seeded province on a known id, with some generated values laid over it."""
    commune = rng.choice(["90001", "90002", "90003"])
    lat, lon = centre(commune)
    body = record(commune, status=rng.choice(["approved", "started", "completed"]), lat=lat + rng.uniform(0, .05),
                  lon=lon + rng.uniform(0, .05), note=rng.choice(["", "mái tôn", "tường xong"]),
                  members=rng.randint(1, 9))
    body["id"] = rng.choice(KNOWN_IDS)
    body["base_revision"] = rng.choice([None, 1, 1, 2])
    if isinstance(generated, dict):
        for key in rng.sample(sorted(generated), k=min(len(generated), rng.choice([0, 0, 1]))):
            if key not in ("id", "base_revision"):
                body[key] = copy.deepcopy(generated[key])
    return body


def _adjust(case: Any, rng: random.Random) -> None:
    """Nudge most cases past the first gates, so the code behind them is exercised too."""
    body = case.body
    if case.operation.path == "/api/v1/sync/push" and isinstance(body, dict) and rng.random() < 0.9:
        body["device_id"] = DEVICE
        body["batch_id"] = str(uuid.uuid4())
        households = body.get("households")
        if isinstance(households, list) and rng.random() < 0.8:
            generated = [h for h in households if isinstance(h, dict)]
            households.extend(_valid_record(rng, rng.choice(generated) if generated else None)
                              for _ in range(rng.randint(1, 3)))
    if case.operation.path.startswith("/api/v1/photos/") and isinstance(case.path_parameters, dict) \
            and rng.random() < 0.5:
        case.path_parameters["sha"] = f"{rng.getrandbits(256):064x}"
    _hostile(case, rng)


def _hostile(case: Any, rng: random.Random) -> None:
    """Put a hostile character into one path or query parameter of a share of the cases."""
    places = [(params, key) for params in (case.path_parameters, case.query) if isinstance(params, dict)
              for key, value in params.items() if isinstance(value, str)]
    if places and rng.random() < 0.3:
        params, key = rng.choice(places)
        at = rng.randint(0, len(params[key]))
        params[key] = params[key][:at] + rng.choice(HOSTILE) + params[key][at:]


def _content_type(response: Any) -> str:
    """The answer's content type (schemathesis keeps each header as a list)."""
    for name, value in response.headers.items():
        if name.lower() == "content-type":
            return str(value[0] if isinstance(value, list) and value else value)
    return ""


def _json_errors(case: Any, response: Any) -> str | None:
    """Every error under /api is the JSON error shape (HEAD: its content type); the reason when not."""
    if response.status_code < 400:
        return None
    if case.method.upper() == "HEAD":
        kind = _content_type(response)
        return None if kind.startswith("application/json") else f"{response.status_code} announced as {kind!r}"
    kind = _content_type(response)
    if not kind.startswith("application/json"):
        return f"{response.status_code} answered as {kind or 'no content type'}"
    try:
        body = response.json()
    except ValueError:
        return f"{response.status_code} answered with a body that is not JSON"
    if not (isinstance(body, dict) and isinstance(body.get("error"), dict)):
        return f"{response.status_code} answered without the error shape"
    return None


def _options(case: Any, base_url: str, headers: dict[str, str], report: FuzzReport) -> None:
    """OPTIONS on the case's own URL: a JSON answer, never a server error."""
    import requests

    url = base_url + case.formatted_path
    response = requests.options(url, headers=headers, params=case.query, timeout=60)
    report.options += 1
    report.count(response.status_code)
    kind = response.headers.get("Content-Type", "")
    if response.status_code >= 500 or not kind.startswith("application/json"):
        raise AssertionError(f"OPTIONS {case.formatted_path} answered {response.status_code} {kind}")


def _record_results(case: Any, response: Any, report: FuzzReport) -> None:
    if case.operation.path != "/api/v1/sync/push" or response.status_code != 200:
        return
    for result in response.json().get("results") or []:
        report.records[result["result"]] = report.records.get(result["result"], 0) + 1


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
         deadline: float | None = None, stateful_steps: int | None = None) -> FuzzReport:
    """Run schemathesis over every operation of the live server's document, then along its links."""
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

    def exchange(case: Any) -> Any:
        _adjust(case, rng)
        response = case.call(base_url=base_url, headers=headers, timeout=60)
        report.examples += 1
        report.count(response.status_code)
        _record_results(case, response, report)
        if (problem := _json_errors(case, response)) is not None:
            raise AssertionError(f"{case.method} {case.formatted_path}: {problem}")
        if rng.random() < 0.15:
            _options(case, base_url, headers, report)
        return response

    for result in schema.get_all_operations():
        operation = result.ok()
        if operation.method.upper() == "DELETE" and operation.path == "/api/v1/auth/token":
            continue  # signing out would end the run's own token
        report.operations += 1

        # The push is where records are written, merged and refused: it gets three times the examples.
        @settings(max_examples=examples * (3 if operation.path == "/api/v1/sync/push" else 1), deadline=None,
                  database=None, derandomize=True, phases=[Phase.explicit, Phase.generate],
                  suppress_health_check=list(HealthCheck))
        @given(case=st.one_of(operation.as_strategy(generation_mode=GenerationMode.POSITIVE),
                              operation.as_strategy(generation_mode=GenerationMode.NEGATIVE)))
        def run(case: Any) -> None:
            case.validate_response(exchange(case), checks=checks)

        try:
            run()
        except (KeyboardInterrupt, SystemExit):
            raise
        except BaseException as exc:  # noqa: B036 (schemathesis raises a BaseExceptionGroup)
            report.failures.append(f"{operation.method.upper()} {operation.path}: {_describe(exc)}")
        if deadline is not None and time.monotonic() > deadline:
            break
    _stateful(schema, exchange, checks, report, stateful_steps if stateful_steps is not None else examples // 4 + 1)
    report.seconds = time.monotonic() - started
    return report


def _stateful(schema: Any, exchange: Any, checks: list[Any], report: FuzzReport, scenarios: int) -> None:
    """Scenarios that follow the document's links: a push, then its household, and so on."""
    from hypothesis import HealthCheck, Phase, settings
    from hypothesis.errors import FlakyStrategyDefinition
    from hypothesis.stateful import run_state_machine_as_test

    machine = schema.exclude(method="DELETE", path="/api/v1/auth/token").as_state_machine()

    failures: dict[str, str] = {}

    # Failures are collected, not raised: the server's state moves on between scenarios, so
    # Hypothesis could not replay a failing one; the failure's text tells how to reproduce it.
    class Linked(machine):  # type: ignore[misc, valid-type]
        def call(self, case: Any, **kwargs: Any) -> Any:
            report.stateful_steps += 1
            try:
                return exchange(case)
            except AssertionError as exc:
                failures.setdefault(f"{case.method} {case.operation.path}", _describe(exc))
                raise _Skip() from None

        def validate_response(self, response: Any, case: Any, additional_checks: Any = None,
                              **kwargs: Any) -> None:
            try:
                case.validate_response(response, checks=checks)
            except (KeyboardInterrupt, SystemExit):
                raise
            except BaseException as exc:  # noqa: B036 (schemathesis raises a BaseExceptionGroup)
                failures.setdefault(f"{case.method} {case.operation.path}", _describe(exc))

    try:
        run_state_machine_as_test(Linked, settings=settings(
            max_examples=scenarios, stateful_step_count=5, deadline=None, database=None, derandomize=True,
            phases=[Phase.generate], suppress_health_check=list(HealthCheck)))
    except _Skip:
        pass
    except FlakyStrategyDefinition:
        # Links draw from the server's answers, which change as the run writes: Hypothesis may
        # meet the same choices with other values to draw from and stops; the steps taken count.
        pass
    report.failures += [f"stateful (links) {where}: {what}" for where, what in failures.items()]


class _Skip(Exception):
    """Ends a stateful scenario whose failure is already collected."""


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
    report = fuzz(fuzz_server.base, token, int(os.environ.get("FUZZ_EXAMPLES", str(EXAMPLES))))
    print(report.summary())
    assert report.operations >= 24
    assert not report.failures, "\n".join(report.failures) + "\n" + fuzz_server.output()[-1500:]
    assert not any(code >= 500 for code in report.statuses)
    assert report.statuses.get(200, 0) + report.statuses.get(201, 0) > report.operations
    # Generated pushes got through: records were written, merged and refused by validation.
    assert report.records.get("created", 0) and report.records.get("rejected", 0), report.records
    assert sum(report.records.get(r, 0) for r in ("updated", "merged", "conflict")), report.records
    assert report.options and report.stateful_steps
