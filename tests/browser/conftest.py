"""A real server and a real browser: gunicorn on a free loopback port, Debian's headless Chromium.

The server runs as a subprocess on a temporary SQLite database holding a
small province (four communes, a plan, households) and three accounts (manager,
officer, viewer). The
browser tests skip, saying why, only when Chromium or its driver is not
installed (``apt-get install chromium chromium-driver``).
"""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / ".test-results" / "screenshots"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("CHROMEDRIVER", "/usr/bin/chromedriver")
PASSWORD = "correct horse battery"
SEED = r'''
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path
from tests.progress_builders import load_province, plan, record, store, at
from tracker.app import create_app
from tracker.accounts.service import create_user
from tracker.extensions import db
from flask_migrate import upgrade

app = create_app()
with app.app_context():
    upgrade()
    load_province(Path(sys.argv[1]))
    plan({"90001": (5, 1), "90002": (2, 0), "90003": (3, 0)}, effective=at("2025-01-01 08:00").date())
    plan({"90001": (6, 1), "90002": (2, 0), "90003": (3, 0)}, effective=at("2025-04-01 08:00").date())
    store([
        record("90001", head="Lò Văn Việt"),
        record("90001", head="Cầm Thị Hoa", status="started"),
        record("90001", head="Quàng Văn Đức", support_type="repair"),
        record("90002", head="Sùng A Páo", status="approved"),
        record("90003", head="Đinh Văn Mường"),
        record("90003", head="Vì Văn Xa", lat=0.0, lon=0.0),
    ], received_at=at("2025-04-12 09:00"))
    store([record("90002", head="Tòng Văn Pọm", status="approved", lat=0.0, lon=0.0)],
          received_at=at("2025-04-13 09:00"))
    create_user("quanly", sys.argv[2], "manager", [])
    create_user("canbo", sys.argv[2], "commune_officer", ["90002"])
    create_user("xem", sys.argv[2], "viewer", ["90001", "90003"])
    db.session.commit()
'''


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def browser_missing() -> str | None:
    for path in (CHROMIUM, CHROMEDRIVER):
        if not (os.path.exists(path) and os.access(path, os.X_OK)):
            return f"{path} is not installed (apt-get install chromium chromium-driver)"
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is not installed (pip install -e '.[test]')"
    return None


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The app under gunicorn on 127.0.0.1:<free port>, with the small province loaded."""
    if reason := browser_missing():
        pytest.skip(reason)
    folder = tmp_path_factory.mktemp("live")
    env = {**os.environ, "INSTANCE_DIR": str(folder), "DATABASE_URL": f"sqlite:///{folder / 'tracker.db'}",
           "TRACKER_ENV": "development", "SECRET_KEY": "browser-test-secret", "PYTHONPATH": str(ROOT)}
    env.pop("DEFAULT_BOUNDARY_SET", None)
    subprocess.run([sys.executable, "-c", SEED, str(folder), PASSWORD], cwd=ROOT, env=env, check=True, timeout=120)
    port = _free_port()
    log = open(folder / "server.log", "wb")
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--workers", "2", "--bind", f"127.0.0.1:{port}",
         "--access-logfile", "-", "wsgi:app"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            if server.poll() is not None:
                raise RuntimeError(f"the server stopped: {(folder / 'server.log').read_text()}")
            try:
                urllib.request.urlopen(url + "/login", timeout=1).read()
                break
            except OSError:
                time.sleep(0.1)
        else:
            raise RuntimeError("the server did not answer within 10 s")
        yield url
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    """Keep a failed test's page (URL and source) beside the screenshots, to see what the browser saw."""
    outcome = yield
    report = outcome.get_result()
    driver = getattr(item, "funcargs", {}).get("browser")
    if report.when != "call" or not report.failed or driver is None:
        return
    try:
        SHOTS.mkdir(parents=True, exist_ok=True)
        name = "".join(c if c.isalnum() or c in "-_" else "-" for c in item.name)
        (SHOTS / f"failed-{name}.html").write_text(f"<!-- {driver.current_url} -->\n{driver.page_source}")
    except Exception:  # a dead browser must not hide the test's own failure
        pass


@pytest.fixture
def browser() -> Iterator[object]:
    """A fresh headless Chromium (its own profile) driven through chromedriver."""
    if reason := browser_missing():
        pytest.skip(reason)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="chromium-profile-")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
                     "--disable-background-networking", "--disable-component-update", "--disable-sync",
                     f"--user-data-dir={profile}", "--lang=vi-VN"):
        options.add_argument(argument)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture(scope="session")
def screenshots() -> Path:
    SHOTS.mkdir(parents=True, exist_ok=True)
    return SHOTS
