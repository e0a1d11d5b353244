"""Outside the core (``nbsched/schedulers/`` and ``nbsched/jobstores/``) nothing reaches into private names.

Every module under ``nbsched/`` else is parsed and each attribute access ``x._name`` (one leading underscore, not a
dunder) whose ``x`` is not ``self`` or ``cls`` fails this test, unless listed below with its reason. The faces (CLI,
REST, magics, panel), executors and task kinds talk to the scheduler and its stores through public methods only
(DESIGN.md, "Contracts"); if one needs something, it becomes public API first.
"""

from __future__ import annotations

import ast
from pathlib import Path

import nbsched

PACKAGE = Path(nbsched.__file__).resolve().parent
#: the core, whose pieces share their internals
CORE = ("schedulers/", "jobstores/")

#: (module path under nbsched/, attribute): private accesses that are legitimate, each with why
ALLOWED: dict[tuple[str, str], str] = {
    ("cli/serve.py", "_exit"): "os._exit, the documented way to end a process without cleanup",
    ("magics.py", "_option_string_actions"): "argparse's parser, read to join dashed values (no public API)",
    ("magics.py", "_actions"): "argparse's parser, read to list its options for a 'did you mean' (no public API)",
    ("job.py", "_modify"): "Job.create calls the new Job's own checked setter (same class)",
    ("job.py", "_explicit"): "Job.create sets the new Job's own field (same class)",
    ("executors/base.py", "_do_submit_job"): "BaseExecutor asks whether a subclass overrides its own hook (same class)",
    ("masking.py", "_texts"): "Masker.merge reads another Masker's values (same class)",
    ("masking.py", "_set"): "Masker.merge builds the merged Masker's index (same class)",
    ("triggers/calendarinterval.py", "_anchor"): "the trigger's own classmethod/constructor path (same class)",
    ("triggers/calendarinterval.py", "_time"): "__eq__ compares another CalendarIntervalTrigger (same class)",
    ("triggers/cron/__init__.py", "_posix"): "CronTrigger.from_posix sets the new trigger's flag (same class)",
    ("triggers/cron/__init__.py", "_init_common"): "CronTrigger.from_posix builds the new trigger (same class)",
    ("triggers/cron/__init__.py", "_setup"): "CronTrigger.from_posix builds the new trigger (same class)",
    ("triggers/cron/__init__.py", "_key"): "__eq__ compares another CronTrigger (same class)",
    ("triggers/interval.py", "_setup"): "IntervalTrigger.from_dict builds the new trigger (same class)",
    ("triggers/interval.py", "_anchor"): "IntervalTrigger.from_dict restores the new trigger's grid (same class)",
}


def private_attributes(tree: ast.AST) -> list[ast.Attribute]:
    """The accesses ``x._name`` in ``tree`` (one leading underscore, not a dunder) whose ``x`` is not ``self``/``cls``."""
    return [
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute)
        and node.attr.startswith("_")
        and not node.attr.startswith("__")
        and not (isinstance(node.value, ast.Name) and node.value.id in ("self", "cls"))  # its own private names
    ]


def private_accesses() -> dict[tuple[str, str], list[str]]:
    """``(module, attribute) -> ["module:line: source", ...]`` of every private access outside the core."""
    found: dict[tuple[str, str], list[str]] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        module = path.relative_to(PACKAGE).as_posix()
        if module.startswith(CORE):
            continue
        for node in private_attributes(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            found.setdefault((module, node.attr), []).append(f"{module}:{node.lineno}: {ast.unparse(node)}")
    return found


def test_no_private_access_outside_the_core() -> None:
    found = private_accesses()
    unexpected = [site for key, sites in sorted(found.items()) if key not in ALLOWED for site in sites]
    assert unexpected == [], "private names reached outside schedulers/ and jobstores/ (make them public API first)"


def test_every_exception_still_applies() -> None:
    found = private_accesses()
    stale = sorted(key for key in ALLOWED if key not in found)
    assert stale == [], "remove these entries: the access is gone"


def test_the_scan_finds_what_it_must() -> None:
    """``other._x`` and ``self.other._x`` are found; ``self._x``, ``cls._x`` and dunders are not."""
    tree = ast.parse("self._a\ncls._b\nx.__dict__\nscheduler._jobstores\nself._scheduler._clock\nJobHandler._f(1)\n")
    hits = sorted(ast.unparse(node) for node in private_attributes(tree))
    assert hits == ["JobHandler._f", "scheduler._jobstores", "self._scheduler._clock"]
