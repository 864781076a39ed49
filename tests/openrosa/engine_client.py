"""Driving ODK's form engine (Node, ``engine/collect.mjs``) against a live server."""
from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

ENGINE = Path(__file__).resolve().parent / "engine"


def engine_ready() -> None:
    """Skip unless Node and the installed engine are there (``make install-test`` installs it)."""
    if shutil.which("node") is None:
        pytest.skip("Node.js is not installed")
    if not (ENGINE / "node_modules" / "@getodk" / "xforms-engine").is_dir():
        pytest.fail("the ODK form engine is not installed: run `make install-test` (npm ci in tests/openrosa/engine)")


def collect(job: dict[str, Any], timeout: float = 120) -> dict[str, Any]:
    """Fill and send one form as the field app does; returns the script's answer."""
    done = subprocess.run(["node", str(ENGINE / "collect.mjs")], input=json.dumps(job), capture_output=True,
                          text=True, timeout=timeout, cwd=ENGINE)
    if done.returncode != 0:
        raise AssertionError(f"collect.mjs failed ({done.returncode}): {done.stdout[-3000:]} {done.stderr[-3000:]}")
    return json.loads(done.stdout)


def decode_qr(png: Path) -> str:
    done = subprocess.run(["node", str(ENGINE / "qr.mjs"), str(png)], capture_output=True, text=True, timeout=60,
                          cwd=ENGINE)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()
