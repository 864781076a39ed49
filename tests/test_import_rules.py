"""The pure cores load neither Flask nor the database layer.

Each core is imported in a fresh interpreter and the modules it loaded are
read: none may be Flask, SQLAlchemy or the extension objects. The project's own
modules it loaded are then read as source, so an import of those packages
tucked inside a function (which the import itself would not run) fails too.
"""
from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CORES = (
    "sync.merge",
    "sync.decide",
    "sync.validate",
    "sync.records",
    "sync.vocabulary",
    "tracker.geo.assign",
    "tracker.geo.crosswalk",
    "tracker.progress.pace",
    "tracker.progress.rollup",
    "tracker.progress.tallies",
)
FORBIDDEN = ("flask", "flask_sqlalchemy", "flask_smorest", "sqlalchemy", "tracker.extensions")
OWN_PACKAGES = ("sync", "schemas", "tracker")

_PROBE = """
import importlib, json, sys
importlib.import_module(sys.argv[1])
print(json.dumps({name: getattr(module, "__file__", None) for name, module in sys.modules.items()}))
"""


def _forbidden(name: str) -> bool:
    return any(name == root or name.startswith(root + ".") for root in FORBIDDEN)


def loaded_by(module: str) -> dict[str, str | None]:
    """Every module (name → file) that importing ``module`` loads in a fresh interpreter."""
    result = subprocess.run([sys.executable, "-c", _PROBE, module], cwd=ROOT, capture_output=True, text=True,
                            check=True)
    return json.loads(result.stdout)


def imports_in(path: Path) -> set[str]:
    """Every module an ``import`` statement anywhere in the file names, function bodies included."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


@pytest.mark.parametrize("core", CORES)
def test_core_loads_no_flask_and_no_database(core: str) -> None:
    modules = loaded_by(core)
    assert sorted(name for name in modules if _forbidden(name)) == []
    own = {name: file for name, file in modules.items() if name.split(".")[0] in OWN_PACKAGES and file}
    hidden = {name: sorted(i for i in imports_in(Path(file)) if _forbidden(i)) for name, file in own.items()}
    assert {name: found for name, found in hidden.items() if found} == {}


def test_the_check_sees_a_core_that_imports_flask(tmp_path: Path) -> None:
    """The probe itself works: a module importing Flask is caught both ways."""
    (tmp_path / "leaky.py").write_text("def later():\n    import flask\n", encoding="utf-8")
    assert "flask" in imports_in(tmp_path / "leaky.py")
    assert "flask" in loaded_by("tracker.app")
