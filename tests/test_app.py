"""The factory, configuration and the single JSON error shape."""
from __future__ import annotations

import pytest
from flask import Flask

from tracker.app import create_app
from tracker.config import check_secret, from_environment


def _is_error(response, status: int, code: str) -> dict:
    assert response.status_code == status
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert set(body) == {"error"}
    assert body["error"]["code"] == code
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    return body["error"]


def test_factory_reads_overrides(app: Flask) -> None:
    assert app.testing
    assert app.config["SECRET_KEY"]
    assert "wsgi" not in app.import_name


def test_health_reports_database(client) -> None:
    response = client.get("/api/v1/health")
    assert response.status_code == 200
    assert response.get_json()["status"] == "ok"
    assert response.get_json()["database"] in ("sqlite", "postgresql")


def test_unknown_api_path_is_json_404(client) -> None:
    _is_error(client.get("/api/v1/nothing-here"), 404, "not_found")


def test_wrong_method_is_json_405(client) -> None:
    error = _is_error(client.delete("/api/v1/health"), 405, "method_not_allowed")
    assert "allowed" in error["message"].lower()


def test_oversized_body_is_json_413(app: Flask, client) -> None:
    app.config["MAX_CONTENT_LENGTH"] = 1024
    response = client.post("/api/v1/health", data=b"x" * 4096, content_type="application/json")
    _is_error(response, 413, "payload_too_large")


def test_validation_error_names_the_field(client) -> None:
    error = _is_error(client.get("/api/v1/boundary-sets/x/units?level=village"), 422, "validation_error")
    assert "level" in error["fields"]


def test_unexpected_exception_is_json_500_without_traceback(app: Flask) -> None:
    @app.route("/api/v1/boom")
    def boom() -> str:
        raise RuntimeError("secret detail")

    response = app.test_client().get("/api/v1/boom")
    error = _is_error(response, 500, "internal_error")
    assert "secret detail" not in response.get_data(as_text=True)
    assert "Traceback" not in response.get_data(as_text=True)
    assert error["message"] == "Internal server error"


def test_pages_outside_api_keep_html_errors(client) -> None:
    response = client.get("/no-such-page")
    assert response.status_code == 404
    assert response.mimetype == "text/html"


def test_openapi_document_lists_endpoints(client) -> None:
    spec = client.get("/api/v1/openapi.json").get_json()
    assert spec["info"]["title"]
    assert "/api/v1/health" in spec["paths"]
    assert "/api/v1/boundary-sets/{name}/units" in spec["paths"]


def test_start_page_renders_in_vietnamese(client) -> None:
    response = client.get("/")
    assert response.status_code == 200
    assert "xóa nhà tạm" in response.get_data(as_text=True)


def test_secret_key_required_outside_development() -> None:
    settings = from_environment({"TRACKER_ENV": "production"})
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        check_secret(settings)
    with pytest.raises(RuntimeError):
        create_app({"ENV_NAME": "production", "SECRET_KEY": "", "SQLALCHEMY_DATABASE_URI": "sqlite://"})


def test_database_url_defaults_to_sqlite_in_instance_folder(tmp_path) -> None:
    settings = from_environment({"INSTANCE_DIR": str(tmp_path)})
    assert settings["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path / 'tracker.db'}"
    pg = from_environment({"DATABASE_URL": "postgresql://u@h/db"})
    assert pg["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://u@h/db"
