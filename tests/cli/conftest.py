from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import NamedTuple

import pytest

from nbsched.cli import main
from nbsched.jobstores.sqlalchemy import SQLAlchemyJobStore
from nbsched.runs import Run

REPO = Path(__file__).resolve().parents[2]


class Result(NamedTuple):
    code: int
    out: str
    err: str


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "home"
    monkeypatch.setenv("NBSCHED_HOME", str(path))
    monkeypatch.delenv("NBSCHED_DB_URL", raising=False)
    return path


class Cli:
    """Runs ``main([...])`` in this process and returns its exit code and what it printed."""

    def __init__(self, capsys: pytest.CaptureFixture[str]) -> None:
        self._capsys = capsys

    def __call__(self, *argv: str) -> Result:
        self._capsys.readouterr()
        code = main(list(argv))
        out, err = self._capsys.readouterr()
        return Result(code, out, err)


@pytest.fixture
def cli(home: Path, capsys: pytest.CaptureFixture[str]) -> Cli:
    return Cli(capsys)


def store_run(home: Path, run: Run) -> Run:
    """Write ``run`` (all its fields) into the default store in ``home``, as a scheduler would have."""
    store = SQLAlchemyJobStore(url=f"sqlite:///{home / 'nbsched.db'}")
    try:
        store.add_run(run)
        store.update_run(run)
    finally:
        store.shutdown()
    return run


def cli_env(home: Path) -> dict[str, str]:
    """The environment of an ``nbsched`` subprocess over the default store in ``home``."""
    env = {**os.environ, "NBSCHED_HOME": str(home), "PYTHONPATH": str(REPO)}
    env.pop("NBSCHED_DB_URL", None)
    return env


def run_cli(home: Path, *argv: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """``python -m nbsched.cli ...`` in a subprocess with ``NBSCHED_HOME=home``."""
    return subprocess.run(
        [sys.executable, "-m", "nbsched.cli", *argv],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=cli_env(home),
        cwd=REPO,
        check=False,
    )


def start_serve(home: Path, grace: float) -> subprocess.Popen[str]:
    """``nbsched serve --grace GRACE`` over the default store in ``home``, its output piped as text."""
    return subprocess.Popen(
        [sys.executable, "-m", "nbsched.cli", "serve", "--grace", str(grace)],
        cwd=REPO,
        env=cli_env(home),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


#: the value of the notebook's secret parameter in the tests (never printed by any command)
NOTEBOOK_SECRET = "hunter2notebook"


def secret_notebook(folder: Path, body: str, name: str = "secok.ipynb") -> Path:
    """A notebook whose ``parameters`` cell assigns ``api_token`` (secret by its name) and ``region``, then
    ``body``."""
    import nbformat

    parameters = nbformat.v4.new_code_cell('api_token = ""\nregion = "EU"')
    parameters.metadata["tags"] = ["parameters"]
    nb = nbformat.v4.new_notebook(cells=[parameters, nbformat.v4.new_code_cell(body)])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    nbformat.write(nb, str(path))
    return path
