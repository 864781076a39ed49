"""Benchmark: ODK Collect submissions with three 2 MB photos each, beside the JSON push of the same records.

    .venv/bin/python bench/openrosa.py [--records 30] [--workers 2]

Builds a fresh SQLite database (the Son La boundaries from ``BOUNDARIES_DIR``,
or the synthetic province) with the records of the demo generator, enrols a
device and starts gunicorn on a free loopback port. Each record gets three
distinct JPEG photos of about 2 MB. Three routes send the same records, one
after another, each with its own copy of the photos (a few bytes after the
JPEG's end, so each route stores its own files):

* OpenRosa whole: ``HEAD …/submission`` then one multipart POST (XML and
  three photos), as Collect does when the server accepts 10 MB;
* OpenRosa split: one POST per photo, ``*isIncomplete*=yes`` on all but the
  last, as Collect does when the server accepts less;
* JSON: ``PUT /api/v1/photos/<sha256>`` for each photo, then a push of the
  record (the sync API's own route).

It prints submissions per second and the p50/p95 latency of one submission
(every request it takes) for each route, each OpenRosa route's rate as a
ratio of the JSON route's, and the server's CPU time per submission (from
/proc, so a busy machine does not hide what one submission costs). Target: p95 under one second for both OpenRosa routes.
"""
from __future__ import annotations

import argparse
import hashlib
import http.client
import importlib.util
import io
import json
import os
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
_spec = importlib.util.spec_from_file_location("bench_sync", ROOT / "bench" / "sync.py")
bench_sync = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bench_sync)

TARGET_P95_S = 1.0
PHOTO_BYTES = 2_000_000
STAGES = ("before", "during", "after")


def photos(count: int) -> list[bytes]:
    """Distinct JPEGs of about 2 MB (noise, so they do not compress)."""
    from PIL import Image

    base = Image.frombytes("RGB", (1700, 1180), os.urandom(1700 * 1180 * 3))
    out = []
    for _ in range(count):
        image = base.copy()
        image.paste(Image.frombytes("RGB", (64, 64), os.urandom(64 * 64 * 3)), (0, 0))
        buffer = io.BytesIO()
        image.save(buffer, format="JPEG", quality=93)
        out.append(buffer.getvalue())
    return out


def instance_xml(record: dict[str, Any], version: str, ethnic_codes: dict[str, str], names: list[str]) -> bytes:
    """The record as the ``household`` form's instance (what Collect would send)."""
    def el(name: str, value: Any) -> str:
        return f"<{name}>{escape(str(value))}</{name}>"

    loc = record["location"]
    body = [el("start", record["captured_at"]), el("end", record["captured_at"]),
            el("household_head", record["household_head"]), el("ethnicity", ethnic_codes.get(record["ethnicity"], "other")),
            el("category", record["category"]), el("members", record["members"]),
            el("national_id", record.get("national_id") or ""), el("village", record["village"]),
            el("declared_commune", record.get("declared_commune") or ""), el("support_type", record["support_type"]),
            el("status", record["status"])]
    body += [el(f"{stage}_on", record["status_dates"].get(stage, ""))
             for stage in ("surveyed", "approved", "started", "completed", "handed_over", "withdrawn")]
    body += ["<funding>" + el("source", f["source"]) + el("amount_vnd", f["amount_vnd"]) + "</funding>"
             for f in record["funding"]]
    body.append(el("location", f"{loc['lat']} {loc['lon']} 0 {loc['accuracy_m']}"))
    body += ["<photo>" + el("stage", stage) + el("file", name) + "</photo>" for name, stage in zip(names, STAGES)]
    body.append(el("note", record.get("note") or ""))
    return (f'<household id="household" version="{version}">' + "".join(body)
            + f"<meta>{el('instanceID', 'uuid:' + record['id'])}</meta></household>").encode("utf-8")


def multipart(xml: bytes, files: dict[str, bytes], incomplete: bool) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    parts = [(b'Content-Disposition: form-data; name="xml_submission_file"; filename="submission.xml"\r\n'
              b"Content-Type: text/xml\r\n\r\n" + xml)]
    for name, data in files.items():
        parts.append(f'Content-Disposition: form-data; name="{name}"; filename="{name}"\r\n'
                     "Content-Type: image/jpeg\r\n\r\n".encode() + data)
    if incomplete:
        parts.append(b'Content-Disposition: form-data; name="*isIncomplete*"\r\n\r\nyes')
    sep = f"--{boundary}\r\n".encode()
    body = b"".join(sep + part + b"\r\n" for part in parts) + f"--{boundary}--\r\n".encode()
    return body, f"multipart/form-data; boundary={boundary}"


def request(port: int, method: str, path: str, body: bytes | None, headers: dict[str, str]) -> tuple[int, bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    try:
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def openrosa_route(port: int, base: str, submissions: list[tuple[bytes, dict[str, bytes]]], split: bool) -> list[float]:
    latencies = []
    for xml, files in submissions:
        started = time.perf_counter()
        status, _ = request(port, "HEAD", f"{base}/submission", None, {"X-OpenRosa-Version": "1.0"})
        assert status == 204, status
        groups = [{name: data} for name, data in files.items()] if split else [files]
        for i, group in enumerate(groups):
            body, content_type = multipart(xml, group, incomplete=i < len(groups) - 1)
            status, answer = request(port, "POST", f"{base}/submission", body,
                                     {"Content-Type": content_type, "X-OpenRosa-Version": "1.0"})
            if status != 201:
                raise SystemExit(f"OpenRosa POST failed: {status} {answer[:400]!r}")
        latencies.append(time.perf_counter() - started)
    return latencies


def json_route(port: int, token: str, records: list[dict[str, Any]], files: list[dict[str, bytes]]) -> list[float]:
    latencies = []
    auth = {"Authorization": f"Bearer {token}"}
    for record, photos_of in zip(records, files):
        started = time.perf_counter()
        refs = []
        for data, stage in zip(photos_of.values(), STAGES):
            sha = hashlib.sha256(data).hexdigest()
            status, answer = request(port, "PUT", f"/api/v1/photos/{sha}", data, {**auth, "Content-Type": "image/jpeg"})
            if status not in (200, 201):
                raise SystemExit(f"photo PUT failed: {status} {answer[:300]!r}")
            refs.append({"sha256": sha, "stage": stage})
        payload = {"device_id": bench_sync.DEVICE, "batch_id": str(uuid.uuid4()),
                   "households": [{**record, "photos": refs}]}
        status, answer = request(port, "POST", "/api/v1/sync/push", json.dumps(payload, ensure_ascii=False).encode(),
                                 {**auth, "Content-Type": "application/json"})
        result = json.loads(answer)["results"][0]["result"] if status == 200 else None
        if result != "created":
            raise SystemExit(f"push failed: {status} {answer[:300]!r}")
        latencies.append(time.perf_counter() - started)
    return latencies


def server_cpu(master: int) -> float:
    """CPU seconds the gunicorn workers used so far (user + system), read from /proc."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for child in Path(f"/proc/{master}/task/{master}/children").read_text().split():
        fields = Path(f"/proc/{child}/stat").read_text().rsplit(")", 1)[1].split()
        total += (int(fields[11]) + int(fields[12])) / ticks
    return total


def enrol_device(url: str, folder: Path, base_url: str) -> str:
    from tracker.extensions import db
    from tracker.openrosa import enrol

    app = bench_sync._app(url, folder)
    with app.app_context():
        enrolment = enrol.enrol("bench-officer", base_url, "bench-collect")
        db.session.commit()
        db.engine.dispose()
    return enrolment.server_url.removeprefix(base_url)


def describe(name: str, latencies: list[float], baseline: float | None) -> float:
    rate = len(latencies) / sum(latencies)
    p95 = statistics.quantiles(latencies, n=20)[-1] if len(latencies) > 1 else latencies[0]
    ratio = f"  {rate / baseline:.2f}× the JSON route" if baseline else ""
    print(f"{name:<16} {rate:6.2f} submissions/s   p50 {statistics.median(latencies) * 1000:6.0f} ms   "
          f"p95 {p95 * 1000:6.0f} ms{ratio}")
    return p95


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--records", type=int, default=30)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    from tracker.openrosa import forms

    with tempfile.TemporaryDirectory(prefix="bench-openrosa-") as tmp:
        folder = Path(tmp)
        url, generated, _codes = bench_sync.prepare(folder, max(args.records * 4, 600))  # a plan needs a house per commune
        routes = {name: generated[i::4][:args.records] for i, name in enumerate(("json", "whole", "split"))}
        warm = generated[3::4][:2 * args.workers]
        pictures = photos(args.records * 3)
        print(f"{args.records} records per route, 3 photos each of {statistics.mean(map(len, pictures)) / 1e6:.2f} MB")
        process, port = bench_sync.start_server(url, folder, args.workers)
        try:
            base = enrol_device(url, folder, f"http://127.0.0.1:{port}")
            status, body = bench_sync.call(port, "POST", "/api/v1/auth/token", {
                "username": "bench-officer", "password": bench_sync.PASSWORD, "device_id": bench_sync.DEVICE})
            token = json.loads(body)["token"]
            version = forms.published("household").version
            codes = {label: code for code, label in forms.published("household").choice_labels["ethnicity"].items()}

            def files_for(route: str, i: int) -> dict[str, bytes]:
                return {f"{route}-{i}-{s}.jpg": pictures[i * 3 + k] + route.encode() for k, s in enumerate(STAGES)}

            # Warm every worker (commune index, compiled forms) outside the timing, on both routes.
            json_route(port, token, warm[:args.workers], [{} for _ in warm])
            openrosa_route(port, base, [(instance_xml(r, version, codes, []), {}) for r in warm[args.workers:]], False)
            json_files = [files_for("json", i) for i in range(args.records)]
            cpu = {}
            before = server_cpu(process.pid)
            json_lat = json_route(port, token, routes["json"], json_files)
            cpu["json"] = server_cpu(process.pid) - before
            results = {}
            for route in ("whole", "split"):
                submissions = []
                for i, record in enumerate(routes[route]):
                    files = files_for(route, i)
                    submissions.append((instance_xml({**record, "photos": []}, version, codes, list(files)), files))
                before = server_cpu(process.pid)
                results[route] = openrosa_route(port, base, submissions, split=route == "split")
                cpu[route] = server_cpu(process.pid) - before
        finally:
            process.terminate()
            process.wait(timeout=30)
        baseline = len(json_lat) / sum(json_lat)
        print(f"load: {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} {os.getloadavg()[2]:.2f}")
        describe("JSON push", json_lat, None)
        worst = max(describe(f"OpenRosa {route}", results[route], baseline) for route in ("whole", "split"))
        print("server CPU per submission (independent of the machine's load): " + ", ".join(
            f"{name} {cpu[name] / args.records * 1000:.0f} ms" for name in ("json", "whole", "split")))
        print(f"target p95 < {TARGET_P95_S * 1000:.0f} ms: {'met' if worst < TARGET_P95_S else 'MISSED'}")


if __name__ == "__main__":
    main()
