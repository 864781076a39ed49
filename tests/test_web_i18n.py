"""The Vietnamese catalog covers every message and its compiled form is up to date."""
from __future__ import annotations

from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
CATALOG = ROOT / "tracker" / "translations" / "vi" / "LC_MESSAGES"
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "_l": None, "lazy_gettext": None}


def _extracted() -> set[str]:
    method_map = [("tracker/web/**.py", "python"), ("tracker/web/templates/**.html", "jinja2")]
    found = set()
    for _file, _line, message, _comments, _context in extract_from_dir(str(ROOT), method_map, keywords=KEYWORDS):
        found.add(message if isinstance(message, str) else message[0])
    return found


def test_every_message_has_a_vietnamese_translation() -> None:
    with open(CATALOG / "messages.po", "rb") as handle:
        catalog = read_po(handle)
    # a plural message is keyed by its singular and translated when every form is
    translated = {(m.id[0] if isinstance(m.id, tuple) else m.id): m.string if isinstance(m.string, str)
                  else all(m.string) for m in catalog if m.id}
    missing = sorted(m for m in _extracted() if not translated.get(m))
    assert not missing, f"untranslated (run pybabel extract/update, see README): {missing}"


def _key(value: str | tuple[str, ...] | list[str]) -> str | tuple[str, ...]:
    """Plural messages come back as tuples from the .po file and as lists from the .mo file."""
    return value if isinstance(value, str) else tuple(value)


def test_compiled_catalog_matches_the_po_file() -> None:
    with open(CATALOG / "messages.po", "rb") as handle:
        po = {_key(m.id): _key(m.string) for m in read_po(handle) if m.id}
    with open(CATALOG / "messages.mo", "rb") as handle:
        mo = {_key(m.id): _key(m.string) for m in read_mo(handle) if m.id}
    assert po == mo, "messages.mo is stale: run pybabel compile -d tracker/translations"
