"""README.md's examples run as written (issue 16, point 6).

- Every ```` ```python ```` block runs, in a fresh namespace, in a folder holding a copy of
  ``notebooks/report.ipynb``, with its own ``NBSCHED_HOME``, on the real clock: what they schedule is minutes or
  hours away, so nothing fires while the test runs, and every scheduler they start is shut down afterwards.
  A block may use names that stand for the reader's own code: ``report`` (a function) and
  ``mypkg.tasks:refresh``. The test defines them; README says so in an HTML comment before the block
  (``<!-- readme-test: ... -->``), so whoever edits the block sees which names are given.
- The block of magics (the untyped block whose lines start with ``%``) runs line by line through the magics of
  a real IPython shell: a ``%%`` line is a cell with a one-line body, ``#`` lines are comments, and the synopsis
  line (``%jobs   %jobs --panel   %runs [job] ...``) runs each of its commands, ``NAME``/``[job]`` being the job
  named earlier in the block and ``--pause/--resume/--run-now`` each form in turn. On the real clock, so a
  ``--at`` date that has passed fails here.
- The ```` ```bash ```` blocks are the two commands: ``tests/test_demo.py`` runs the main one, ``.ci/run`` the test
  command.
"""

from __future__ import annotations

import re
import shutil
import sys
import types
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import nbsched.default
from nbsched.schedulers.base import BaseScheduler

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text()
BLOCK = re.compile(r"```(\w*)\n(.*?)```", re.S)


def python_blocks() -> list[str]:
    return [code for lang, code in BLOCK.findall(README) if lang == "python"]


def magics_block() -> str:
    [block] = [code for lang, code in BLOCK.findall(README) if not lang and code.lstrip().startswith(("%", "#"))]
    return block


def report(region: str) -> None:
    """Stands for the reader's report function in README's first example."""


def refresh() -> None:
    """Stands for ``mypkg.tasks:refresh`` in README's first example."""


@pytest.fixture
def reader_code(monkeypatch: pytest.MonkeyPatch) -> None:
    """``mypkg.tasks:refresh``, importable."""
    package, module = types.ModuleType("mypkg"), types.ModuleType("mypkg.tasks")
    module.refresh = refresh  # type: ignore[attr-defined]
    package.tasks = module  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "mypkg", package)
    monkeypatch.setitem(sys.modules, "mypkg.tasks", module)
    monkeypatch.setattr(refresh, "__module__", "mypkg.tasks")


@pytest.fixture
def readme_folder(project: Path) -> Path:
    """The current folder holds ``notebooks/report.ipynb``, as the repository does."""
    (project / "notebooks").mkdir()
    shutil.copy(ROOT / "notebooks" / "report.ipynb", project / "notebooks" / "report.ipynb")
    return project


@pytest.fixture
def fresh_default_scheduler() -> Iterator[None]:
    assert nbsched.default._scheduler is None or not nbsched.default._scheduler.running
    nbsched.default._scheduler = None
    yield
    scheduler = nbsched.default._scheduler
    if scheduler is not None and scheduler.running:
        scheduler.shutdown()
    nbsched.default._scheduler = None


def test_readme_has_the_blocks_this_test_runs() -> None:
    assert len(python_blocks()) >= 2
    assert "%%schedule" in magics_block()
    # a python block that needs names of the reader's own code says which (see the module docstring)
    for code in python_blocks():
        if "report," in code or "mypkg" in code:
            marker = README[: README.index(code)].rstrip().rsplit("\n", 2)[-2]
            assert marker.startswith("<!-- readme-test:"), marker


@pytest.mark.slow  # the notebook example starts a warm kernel
@pytest.mark.parametrize("index", range(len(python_blocks())))
def test_readme_python_block_runs_as_written(
    index: int, reader_code: None, readme_folder: Path, fresh_default_scheduler: None
) -> None:
    code = python_blocks()[index]
    namespace: dict[str, Any] = {"__name__": "readme", "report": report}
    try:
        exec(compile(code, f"README.md python block {index + 1}", "exec"), namespace)
    finally:
        for value in namespace.values():
            if isinstance(value, BaseScheduler) and value.running:
                value.shutdown()


def magic_cells(block: str) -> list[str]:
    """The cells that run README's magics block (see the module docstring)."""
    name = re.search(r"--name (\S+)", block)
    assert name is not None
    cells: list[str] = []
    for raw in block.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("%%"):
            cells.append(f"{line}\nx = 1\n")
            continue
        for synopsis in re.split(r"\s{2,}(?=%)", line):
            command = synopsis.replace("[job]", name.group(1)).replace("NAME", name.group(1))
            forms = re.search(r"(--[\w-]+(?:/--[\w-]+)+)", command)
            if forms is None:
                cells.append(command)
            else:
                cells.extend(command.replace(forms.group(1), form) for form in forms.group(1).split("/"))
    # the job is removed last, so the commands after %unschedule in the synopsis still find it
    removals = [cell for cell in cells if cell.startswith("%unschedule")]
    return [cell for cell in cells if cell not in removals] + removals


@pytest.mark.slow  # headless cells start kernels
def test_readme_magics_run_as_written(
    readme_folder: Path, fresh_default_scheduler: None, capsys: pytest.CaptureFixture[str]
) -> None:
    from IPython.core.interactiveshell import InteractiveShell

    shell = InteractiveShell.instance()
    cells = magic_cells(magics_block())
    try:
        for cell in cells:
            result = shell.run_cell(cell)
            assert result.success, (cell, result.error_before_exec or result.error_in_exec)
        out = capsys.readouterr().out
        assert "refresh-prices" in out and "report.ipynb" in out
    finally:
        shell.run_line_magic("unload_ext", "nbsched")
