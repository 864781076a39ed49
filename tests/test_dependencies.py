"""Every package the code imports is declared in setup.cfg.

The imports are read from the source (function bodies included); each
top-level module is mapped to the distribution that installs it, which must be
named in ``install_requires`` (the app) or in the ``test``/``bench`` extras
(tests and benchmarks), with a version range.
"""
from __future__ import annotations

import ast
import configparser
import re
import sys
from importlib.metadata import packages_distributions
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OWN = {"tracker", "sync", "schemas", "migrations", "tests", "wsgi", "bench"}


def top_level_imports(paths: list[Path]) -> set[str]:
    """The top-level names of every absolute import in these files."""
    found: set[str] = set()
    for path in paths:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                found.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                found.add(node.module.split(".")[0])
    return found - OWN - set(sys.stdlib_module_names)


def sources(*names: str) -> list[Path]:
    files: list[Path] = []
    for name in names:
        path = ROOT / name
        files.extend(sorted(path.rglob("*.py")) if path.is_dir() else [path])
    return files


def declared(*sections: str) -> dict[str, str]:
    """Distribution name (normalised) → version range, from setup.cfg."""
    config = configparser.ConfigParser()
    config.read(ROOT / "setup.cfg", encoding="utf-8")
    lines: list[str] = []
    for section in sections:
        table, _, key = section.partition(":")
        lines += config[table][key].split("\n")
    ranges = {}
    for line in filter(None, (line.strip() for line in lines)):
        name, spec = re.match(r"([A-Za-z0-9_.-]+)(?:\[[^]]*\])?\s*(.*)", line).groups()
        ranges[normalise(name)] = spec
    return ranges


def normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def undeclared(modules: set[str], ranges: dict[str, str]) -> dict[str, list[str]]:
    owners = packages_distributions()
    missing = {}
    for module in sorted(modules):
        dists = [normalise(d) for d in owners.get(module, [module])]
        if not any(d in ranges for d in dists):
            missing[module] = dists
    return missing


def test_every_import_of_the_app_is_declared_with_a_range() -> None:
    ranges = declared("options:install_requires")
    modules = top_level_imports(sources("tracker", "sync", "schemas", "migrations", "wsgi.py", "gunicorn.conf.py"))
    assert {"flask", "webargs", "apispec", "babel", "wtforms", "PIL"} <= modules  # the scan sees them
    assert undeclared(modules, ranges) == {}
    assert [name for name, spec in ranges.items() if "<" not in spec or ">=" not in spec] == []


def test_every_import_of_the_tests_and_benchmarks_is_declared() -> None:
    ranges = declared("options:install_requires", "options.extras_require:test", "options.extras_require:bench")
    assert undeclared(top_level_imports(sources("tests", "bench")), ranges) == {}
