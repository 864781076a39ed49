"""Reading a submitted instance safely (pure: no Flask, no database).

The XML is parsed with ``defusedxml``: a DOCTYPE, an entity or an external
reference is refused before anything is expanded. Names are compared without
their namespace, as OpenRosa clients differ in how they write it. Every
element path must exist in the form's own instance.
"""
from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring


class InstanceError(ValueError):
    """The submitted XML cannot be taken; ``status`` is the HTTP status to answer."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


@dataclass
class Instance:
    form_id: str
    version: str
    instance_id: str
    deprecated_id: str | None
    xml_hash: str
    values: dict[str, Any] = field(default_factory=dict)  # name → text, or a list of dicts for repeats
    paths: set[str] = field(default_factory=set)


def local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _attribute(root: Element, name: str) -> str:
    for key, value in root.attrib.items():
        if local(key) == name:
            return value.strip()
    return ""


def _walk(node: Element, prefix: str, repeats: frozenset[str], paths: set[str]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for child in node:
        name = local(child.tag)
        path = f"{prefix}{name}"
        paths.add(path)
        if path in repeats:
            values.setdefault(name, []).append(_walk(child, path + "/", repeats, paths))
        elif len(child):
            values[name] = _walk(child, path + "/", repeats, paths)
        else:
            values[name] = (child.text or "").strip()
    return values


def read_instance(data: bytes, repeats_of: Mapping[str, frozenset[str]]) -> Instance:
    """The instance's identity and values; raises :class:`InstanceError`.

    ``repeats_of`` gives each form's repeat paths (read as lists of dicts).
    """
    try:
        root = fromstring(data, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException:
        raise InstanceError("Phiếu gửi lên có khai báo DOCTYPE hoặc thực thể XML: không được chấp nhận.") from None
    except (ParseError, ValueError):
        raise InstanceError("Phiếu gửi lên không phải XML hợp lệ.") from None
    form_id = _attribute(root, "id") or local(root.tag)
    paths: set[str] = set()
    values = _walk(root, "", repeats_of.get(form_id, frozenset()), paths)
    meta = values.get("meta") if isinstance(values.get("meta"), dict) else {}
    instance_id = (meta or {}).get("instanceID", "")
    if not instance_id:
        raise InstanceError("Phiếu thiếu mã phiếu (meta/instanceID).")
    if len(instance_id) > 100:
        raise InstanceError("Mã phiếu (instanceID) quá dài.")
    deprecated = (meta or {}).get("deprecatedID") or None
    return Instance(form_id, _attribute(root, "version"), instance_id,
                    deprecated[:100] if deprecated else None, hashlib.sha256(data).hexdigest(), values, paths)


def unknown_paths(instance: Instance, known: frozenset[str]) -> list[str]:
    return sorted(path for path in instance.paths if path not in known)
