from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "browser: drives a real JupyterLab in headless Chromium (needs chromium and jupyter-lab)"
    )


@pytest.fixture(autouse=True)
def nbsched_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test gets its own store (kernels started by a test inherit it)."""
    home = tmp_path / "home"
    monkeypatch.setenv("NBSCHED_HOME", str(home))
    monkeypatch.delenv("NBSCHED_DB_URL", raising=False)
    return home


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The current folder of the shell (notebooks scheduled by path are looked up there)."""
    folder = tmp_path / "project"
    folder.mkdir()
    monkeypatch.chdir(folder)
    return folder


@pytest.fixture
def shell(nbsched_home: Path, project: Path) -> Iterator[Any]:
    """A real IPython shell with ``%load_ext nbsched`` done; the process-wide scheduler is fresh for each test."""
    from IPython.core.interactiveshell import InteractiveShell

    import nbsched.default

    assert nbsched.default._scheduler is None or not nbsched.default._scheduler.running
    nbsched.default._scheduler = None
    ip = InteractiveShell.instance()
    result = ip.run_cell("%load_ext nbsched")
    assert result.success, result.error_in_exec
    yield ip
    ip.run_line_magic("unload_ext", "nbsched")
    scheduler = nbsched.default._scheduler
    if scheduler is not None and scheduler.running:
        scheduler.shutdown()
    nbsched.default._scheduler = None
    for name in ("log", "ticks", "counter"):
        ip.user_ns.pop(name, None)
