"""``GET /docs/api``: the OpenAPI document as one server-rendered page.

Rendered from the same document ``/api/v1/openapi.json`` serves, so the page
cannot drift from it. No script and nothing from outside: the page works
offline and under the pages' strict Content-Security-Policy.
"""
from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, render_template

bp = Blueprint("docs", __name__, template_folder="templates", url_prefix="/docs")
METHOD_ORDER = ("get", "head", "post", "put", "patch", "delete")


def _ref_name(ref: str) -> str:
    return ref.rsplit("/", 1)[-1]


def describe(schema: Any) -> str:
    """A short type for a schema: ``string (date)``, ``array of Household``, ``PushArgs``…"""
    if not isinstance(schema, dict):
        return ""
    if "$ref" in schema:
        return _ref_name(schema["$ref"])
    kind = schema.get("type", "object" if "properties" in schema else "any")
    if kind == "array":
        return f"array of {describe(schema.get('items', {})) or 'any'}"
    extra = schema.get("format") or ""
    if "enum" in schema:
        extra = " | ".join(str(v) for v in schema["enum"] if v is not None)
    return f"{kind} ({extra})" if extra else str(kind)


def _operations(spec: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    for path, item in spec.get("paths", {}).items():
        shared = item.get("parameters", [])
        for method in METHOD_ORDER:
            operation = item.get(method)
            if operation is None:
                continue
            responses = []
            for code, response in sorted(operation.get("responses", {}).items()):
                if "$ref" in response:
                    response = spec["components"]["responses"][_ref_name(response["$ref"])]
                media = response.get("content") or {}
                responses.append({"code": code, "description": response.get("description", ""),
                                  "media": {m: describe(c.get("schema")) for m, c in media.items()}})
            body = operation.get("requestBody") or {}
            out.append({
                "id": f"{method}-{path}".replace("/", "-").replace("{", "").replace("}", ""),
                "method": method.upper(), "path": path, "tag": (operation.get("tags") or ["other"])[0],
                "summary": operation.get("summary", ""), "description": operation.get("description", ""),
                "secured": bool(operation.get("security")),
                "parameters": [{**p, "type": describe(p.get("schema"))} for p in [*shared,
                                                                                   *operation.get("parameters", [])]],
                "body": {m: describe(c.get("schema")) for m, c in (body.get("content") or {}).items()},
                "responses": responses,
            })
    return out


def _schemas(spec: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    for name, schema in sorted(spec.get("components", {}).get("schemas", {}).items()):
        required = set(schema.get("required", []))
        fields = [{"name": field, "type": describe(sub), "required": field in required,
                   "description": sub.get("description", ""), "read_only": sub.get("readOnly", False),
                   "nullable": sub.get("nullable", False)}
                  for field, sub in (schema.get("properties") or {}).items()]
        out.append({"name": name, "description": schema.get("description", ""), "fields": fields})
    return out


@bp.route("/api")
def api_page() -> str:
    spec = current_app.extensions["flask-smorest"]["apis"][""]["ext_obj"].spec.to_dict()
    operations = _operations(spec)
    tags = [t["name"] for t in spec.get("tags", [])] or sorted({o["tag"] for o in operations})
    tags += sorted({o["tag"] for o in operations} - set(tags))
    return render_template("docs/api.html", spec=spec, operations=operations, tags=tags,
                           tag_info={t["name"]: t.get("description", "") for t in spec.get("tags", [])},
                           schemas=_schemas(spec))
