"""Packaging: what the wheel ships and what the README's test command installs.

The README's test command is ``pip install -e '.[test]' && pytest``; every third-party module the tests import must
therefore come with the ``test`` extra (directly or through what it requires), or its tests would be skipped
everywhere but in CI, which installs more.
"""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from importlib.metadata import PackageNotFoundError, packages_distributions, requires
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

REPO = Path(__file__).resolve().parent.parent
PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text())


def _requirement_closure(roots: list[str], extras: set[str]) -> set[str]:
    """Canonical names of the distributions ``roots`` need, transitively over what is installed."""
    seen: set[str] = set()
    todo = [(Requirement(text), extras) for text in roots]
    while todo:
        req, wanted = todo.pop()
        markers = [{"extra": extra} for extra in wanted or {""}]
        if req.marker is not None and not any(req.marker.evaluate(env) for env in markers):
            continue
        name = canonicalize_name(req.name)
        if name in seen:
            continue
        seen.add(name)
        try:
            below = requires(req.name) or []
        except PackageNotFoundError:
            continue  # not installed here: the import check below reports what is missing
        todo.extend((Requirement(text), set(req.extras)) for text in below)
    return seen


def _imported_top_level_modules() -> set[str]:
    modules: set[str] = set()
    for path in (REPO / "tests").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                modules.update(alias.name.partition(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                modules.add(node.module.partition(".")[0])
            elif (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "importorskip"
                and node.args
                and isinstance(node.args[0], ast.Constant)
            ):
                modules.add(str(node.args[0].value).partition(".")[0])
    return modules


def test_py_typed_is_in_the_package() -> None:
    # hatch puts every file under the package folder into the wheel (only .gitignore'd ones are left out).
    assert (REPO / "nbsched" / "py.typed").is_file()
    assert PYPROJECT["tool"]["hatch"]["build"]["targets"]["wheel"]["packages"] == ["nbsched"]
    ignored = (REPO / ".gitignore").read_text().split()
    assert not any(re.fullmatch(pattern.replace("*", ".*"), "py.typed") for pattern in ignored)


def test_the_test_extra_installs_every_module_the_tests_import() -> None:
    project = PYPROJECT["project"]
    needed = _requirement_closure(project["dependencies"] + project["optional-dependencies"]["test"], set())
    owners = packages_distributions()
    local = {"nbsched", "tests", "nbsched_vanishing", *sys.stdlib_module_names}
    outside = {}
    for module in sorted(_imported_top_level_modules() - local):
        dists = {canonicalize_name(dist) for dist in owners.get(module, [])}
        if not dists & needed:
            outside[module] = sorted(dists) or "not installed"
    assert outside == {}, "tests import modules the `test` extra does not install"
