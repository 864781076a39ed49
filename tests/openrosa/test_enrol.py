"""Enrolling a field device: the CLI, its key, and Collect's settings QR code read back from the PNG."""
from __future__ import annotations

from pathlib import Path

from flask import Flask

from tests.openrosa.engine_client import decode_qr, engine_ready
from tests.sync_support import COMMUNE_1, load_communes, make_user
from tracker.extensions import db
from tracker.openrosa import enrol


def test_cli_enrolls_a_device_and_writes_collects_settings_qr(app: Flask, runner, client, tmp_path: Path) -> None:
    engine_ready()
    load_communes(tmp_path)
    make_user("canbo", "commune_officer", [COMMUNE_1])
    png = tmp_path / "canbo.png"
    result = runner.invoke(args=["devices", "enroll", "canbo", "--device", "may-1", "--qr", str(png),
                                 "--base-url", "https://tracker.example.vn/"])
    assert result.exit_code == 0, result.output
    url = next(line.split(": ", 1)[1] for line in result.output.splitlines() if line.startswith("server URL"))
    assert url.startswith("https://tracker.example.vn/openrosa/key/")
    settings = enrol.decode_settings(decode_qr(png))
    assert settings["general"]["server_url"] == url
    assert settings["general"]["autosend"] == "wifi_and_cellular"
    assert settings["general"]["app_language"] == "vi"
    assert settings["general"]["form_update_mode"] == "match_exactly"
    assert "admin" in settings and settings["project"]["name"]
    key_path = url.removeprefix("https://tracker.example.vn")
    assert client.get(f"{key_path}/formList").status_code == 200
    # Enrolling the same device again replaces its key; revoking it stops the new key too.
    again = runner.invoke(args=["devices", "enroll", "canbo", "--device", "may-1", "--base-url", "https://x.vn"])
    assert again.exit_code == 0
    assert client.get(f"{key_path}/formList").status_code == 401
    new_path = "/openrosa/key/" + again.output.split("/openrosa/key/")[1].split()[0]
    assert client.get(f"{new_path}/formList").status_code == 200
    assert runner.invoke(args=["devices", "revoke", "may-1"]).exit_code == 0
    db.session.expire_all()
    assert client.get(f"{new_path}/formList").status_code == 401


def test_cli_explains_what_it_cannot_do(app: Flask, runner, tmp_path: Path) -> None:
    make_user("xem", "viewer", ["90001"])
    assert "PUBLIC_URL" in runner.invoke(args=["devices", "enroll", "xem"]).output
    refused = runner.invoke(args=["devices", "enroll", "xem", "--base-url", "http://x"])
    assert refused.exit_code == 1 and "viewer" in refused.output
    unknown = runner.invoke(args=["devices", "enroll", "ai-do", "--base-url", "http://x"])
    assert unknown.exit_code == 1 and "no user" in unknown.output
    make_user("canbo", "commune_officer", ["90001"])
    bad_path = runner.invoke(args=["devices", "enroll", "canbo", "--base-url", "http://x", "--qr",
                                   str(tmp_path / "missing" / "q.png")])
    assert bad_path.exit_code == 1 and "cannot write" in bad_path.output
