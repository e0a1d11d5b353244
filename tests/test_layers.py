"""The layers of DESIGN.md ("Layers"): imports point downwards only.

Read from the source (AST), so imports under ``if TYPE_CHECKING:`` and inside functions count as much as those
at the top: a type-only import still ties a lower layer to a higher one.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

import nbsched

ROOT = Path(nbsched.__file__).parent

#: plain data and contracts, the bottom layer
DATA = (
    "nbsched.abc",
    "nbsched.clock",
    "nbsched.datetimes",
    "nbsched.events",
    "nbsched.exceptions",
    "nbsched.job",
    "nbsched.jobargs",
    "nbsched.jsonstate",
    "nbsched.limits",
    "nbsched.masking",
    "nbsched.paths",
    "nbsched.refs",
    "nbsched.runs",
)
#: the parts the scheduler is built from, above the data
PARTS = ("nbsched.triggers", "nbsched.jobstores", "nbsched.executors", "nbsched.notebooks")
SCHEDULERS = ("nbsched.schedulers",)
#: what people use, on top
FACES = ("nbsched.magics", "nbsched.kernel_session", "nbsched.widgets", "nbsched.cli", "nbsched.server")

#: (importing layer, what it must not import)
RULES = [
    (DATA, PARTS + SCHEDULERS + FACES),
    (PARTS, SCHEDULERS + FACES),
    (SCHEDULERS, FACES),
]

#: (importing module or package, imported module) allowed against the rules, each with why; every entry must
#: still be needed (the test says when one is not)
ALLOWED = {
    ("nbsched.abc", "nbsched.triggers.base"): "Trigger._apply_jitter, APScheduler 3's helper, imported when called",
    ("nbsched.abc", "nbsched.jobstores.runtable"): "JobStore's default run history, imported when first used",
    ("nbsched.job", "nbsched.triggers.base"): "Job.from_dict rebuilds the stored trigger, imported when called",
}


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported(path: Path, name: str | None = None) -> Iterator[tuple[int, str]]:
    """``(line, module)`` for every module ``path`` (named ``name``) imports anywhere (``from a import b``
    yields ``a`` and ``a.b``, as ``b`` may be a module), and for ``import_module("...")`` with a literal name."""
    name = name or module_name(path)
    package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package[: len(package) - node.level + 1]
                base = ".".join([*parent, base] if base else parent)
            yield node.lineno, base
            for alias in node.names:
                yield node.lineno, f"{base}.{alias.name}"
        elif (
            isinstance(node, ast.Call)
            and (getattr(node.func, "id", None) or getattr(node.func, "attr", None)) in {"import_module", "__import__"}
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            yield node.lineno, node.args[0].value


def within(name: str, prefixes: tuple[str, ...]) -> bool:
    return any(name == prefix or name.startswith(prefix + ".") for prefix in prefixes)


def crossings() -> tuple[list[str], set[tuple[str, str]]]:
    """The imports that break a rule (``path:line: a imports b``), and the allowed ones that were used."""
    broken, used = [], set()
    for path in sorted(ROOT.rglob("*.py")):
        importer = module_name(path)
        forbidden = tuple(f for layer, rule in RULES if within(importer, layer) for f in rule)
        for line, target in imported(path):
            if not within(target, forbidden):
                continue
            allowed = [key for key in ALLOWED if within(importer, (key[0],)) and within(target, (key[1],))]
            if allowed:
                used.update(allowed)
            else:
                broken.append(f"{path.relative_to(ROOT.parent)}:{line}: {importer} imports {target}")
    return broken, used


def test_imports_point_downwards_only() -> None:
    broken, _ = crossings()
    assert broken == []


def test_every_allowed_upward_import_is_still_needed() -> None:
    _, used = crossings()
    assert set(ALLOWED) - used == set(), "no longer imported: remove from ALLOWED"


@pytest.mark.parametrize("name", ["nbsched.job", "nbsched.runs", "nbsched.abc", "nbsched.events"])
def test_the_data_layer_imports_no_scheduler_executor_or_face(name: str) -> None:
    # The issue's own words, with no exception allowed: not even for types.
    path = ROOT.parent / (name.replace(".", "/") + ".py")
    faces = ("nbsched.schedulers", "nbsched.executors", "nbsched.server", "nbsched.cli", "nbsched.widgets")
    assert [f"{line}: {target}" for line, target in imported(path) if within(target, faces)] == []


def test_the_walk_sees_type_checking_and_function_level_imports(tmp_path: Path) -> None:
    # The walk itself: an import the checks must catch, in each place one can hide.
    source = (
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n"
        "    from nbsched.schedulers.base import BaseScheduler\n"
        "def f():\n"
        "    import nbsched.cli\n"
        "    from nbsched import widgets\n"
        "    from ..server import app\n"
        "    importlib.import_module('nbsched.server.app')\n"
    )
    module = tmp_path / "probe.py"
    module.write_text(source, encoding="utf-8")
    found = {target for _, target in imported(module, "nbsched.notebooks.probe") if within(target, FACES + SCHEDULERS)}
    assert found == {
        "nbsched.schedulers.base",
        "nbsched.schedulers.base.BaseScheduler",
        "nbsched.cli",
        "nbsched.widgets",
        "nbsched.server",
        "nbsched.server.app",
    }
