from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from nbsched.notebooks.kernels import KernelPool

DATA = Path(__file__).parent / "data"


@pytest.fixture(autouse=True)
def nbsched_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "home"
    monkeypatch.setenv("NBSCHED_HOME", str(home))
    return home


@pytest.fixture
def root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A project folder holding copies of the test notebooks, also the current folder."""
    folder = tmp_path / "project"
    shutil.copytree(DATA, folder)
    monkeypatch.chdir(folder)
    return folder


@pytest.fixture(scope="session")
def pool(tmp_path_factory: pytest.TempPathFactory) -> Iterator[KernelPool]:
    """Warm kernels shared by the tests that run notebooks directly (each run still gets a fresh kernel)."""
    kernels = KernelPool(tmp_path_factory.mktemp("kernels"), idle_timeout=600)
    kernels.prepare("python3")
    assert kernels.wait_ready("python3", 60)  # the first test starts warm too
    yield kernels
    kernels.shutdown()
