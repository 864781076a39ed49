"""The published forms: XLSForms in ``forms/`` compiled once per process with pyxform.

Each form's ``version`` is the start of the SHA-256 of its XLSForm source, so
it changes whenever the XLSForm does; ``hash`` is the md5 of the XForm file,
as the OpenRosa form list wants. The XForm's primary instance also tells
which element paths a submission may carry.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from defusedxml import ElementTree

FORMS_DIR = Path(__file__).resolve().parent / "forms"
FORM_IDS = ("household", "household_update")
XFORMS_NS = "{http://www.w3.org/2002/xforms}"
# The metadata an OpenRosa client may add to any instance.
VERSION_PLACEHOLDER = "SOURCE_HASH"  # the settings sheet's version cell in the source
META_PATHS = frozenset({"meta", "meta/instanceID", "meta/deprecatedID", "meta/instanceName"})


@dataclass(frozen=True)
class Form:
    form_id: str
    title: str
    version: str
    xml: bytes
    md5: str
    media: tuple[str, ...]  # the form attachments the server generates per officer
    paths: frozenset[str]  # element paths of the instance, below its root ("funding/source")
    repeats: frozenset[str]
    choice_labels: dict[str, dict[str, str]] = field(default_factory=dict)  # list → name → Vietnamese label


def source_path(form_id: str) -> Path:
    return FORMS_DIR / f"{form_id}.md"


def version_of(source: str) -> str:
    return hashlib.sha256(source.encode("utf-8")).hexdigest()[:12]


def workbook(form_id: str) -> dict:
    """The XLSForm as pyxform's workbook dict, its version filled in."""
    from pyxform.xls2json_backends import md_to_dict  # pyxform loads slowly: only when a form is compiled

    source = source_path(form_id).read_text(encoding="utf-8")
    book = md_to_dict(source)
    book["settings"][0]["version"] = version_of(source)
    return book


def compile_form(form_id: str, validate: bool = False, warnings: list[str] | None = None) -> str:
    """The XForm XML of one form (``validate`` also runs ODK Validate, which needs Java)."""
    from pyxform.xls2xform import convert

    return convert(workbook(form_id), validate=validate, form_name=form_id, warnings=warnings).xform


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _instance_paths(xml: bytes) -> tuple[frozenset[str], frozenset[str]]:
    root = ElementTree.fromstring(xml)
    model = root.find(f".//{XFORMS_NS}model")
    assert model is not None
    instance = model.find(f"{XFORMS_NS}instance")
    assert instance is not None
    data = next(iter(instance))
    paths: set[str] = set()
    repeats: set[str] = set()

    def walk(node, prefix: str) -> None:
        for child in node:
            path = f"{prefix}{_local(child.tag)}"
            paths.add(path)
            if any(_local(name) == "template" for name in child.attrib):
                repeats.add(path)
            walk(child, path + "/")

    walk(data, "")
    return frozenset(paths | META_PATHS), frozenset(repeats)


def _choice_labels(book: dict) -> dict[str, dict[str, str]]:
    labels: dict[str, dict[str, str]] = {}
    for row in book.get("choices", []):
        label = next((v for k, v in row.items() if k.startswith("label") and "(vi)" in k), row.get("name"))
        labels.setdefault(row["list_name"], {})[row["name"]] = label
    return labels


def _media(book: dict) -> tuple[str, ...]:
    names = []
    for row in book.get("survey", []):
        kind = row.get("type", "")
        if kind.startswith("select_one_from_file ") or kind.startswith("select_multiple_from_file "):
            names.append(kind.split(" ", 1)[1].strip())
    return tuple(dict.fromkeys(names))


@cache
def published(form_id: str) -> Form:
    book = workbook(form_id)
    xml = compile_form(form_id).encode("utf-8")
    paths, repeats = _instance_paths(xml)
    settings = book["settings"][0]
    return Form(form_id, settings["form_title"], settings["version"], xml, hashlib.md5(xml).hexdigest(),
                _media(book), paths, repeats, _choice_labels(book))


def all_forms() -> list[Form]:
    return [published(form_id) for form_id in FORM_IDS]


def find(form_id: str) -> Form | None:
    return published(form_id) if form_id in FORM_IDS else None
