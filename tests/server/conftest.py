"""Fixtures for the REST tests: a Jupyter server with the nbsched extension over a store in a temporary folder.

pytest-jupyter has no entry point and ``pytest_plugins`` is only allowed in the root conftest, so its fixtures
(and the hooks that run ``async def`` tests) are imported here, where they apply to this folder only.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import nbformat
import pytest
from pytest_jupyter.jupyter_server import *  # noqa: F403  # fixtures and hooks, for this folder only
from tornado.httpclient import HTTPResponse
from traitlets.config import Config

from tests.server.openapi_check import check_response

Fetch = Callable[..., Awaitable[HTTPResponse]]

PARAMETERS_SOURCE = 'region = "EU"\nlimit: int = 10\nthreshold = 0.5\nflags = [1, 2]\nstart = date.today()\n'


@pytest.fixture(autouse=True)
def nbsched_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The data folder and the SQLite store of the test (never the user's)."""
    home = tmp_path / "nbsched-home"
    monkeypatch.setenv("NBSCHED_HOME", str(home))
    monkeypatch.setenv("NBSCHED_DB_URL", f"sqlite:///{home / 'nbsched.db'}")
    return home


def server_config(**nbsched: Any) -> Config:
    return Config(
        {
            "ServerApp": {"jpserver_extensions": {"nbsched.server": True}},
            "NbschedServer": nbsched,
        }
    )


@pytest.fixture
def jp_server_config(nbsched_home: Path) -> Config:
    """The extension with its scheduler paused: the API works, nothing runs (tests that run jobs turn it on)."""
    return server_config(run_scheduler=False)


def make_notebook(path: Path, parameters: str | None = PARAMETERS_SOURCE) -> Path:
    """A small notebook, with a cell tagged ``parameters`` holding ``parameters`` (none when ``None``)."""
    cells = []
    if parameters is not None:
        cell = nbformat.v4.new_code_cell(parameters)
        cell.metadata["tags"] = ["parameters"]
        cells.append(cell)
    cells.append(nbformat.v4.new_code_cell("print(region)"))
    nb = nbformat.v4.new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, str(path))
    return path


@pytest.fixture
def notebook(jp_root_dir: Path) -> Path:
    """``report.ipynb`` in the server's root."""
    return make_notebook(jp_root_dir / "report.ipynb")


@pytest.fixture
def api(jp_fetch: Fetch) -> Callable[..., Awaitable[tuple[int, Any]]]:
    """``await api("GET", "jobs")`` -> (status, decoded JSON body or None); never raises on error statuses."""

    async def call(
        method: str, *parts: str, body: Any = None, params: dict[str, Any] | None = None, **kwargs: Any
    ) -> tuple[int, Any]:
        options: dict[str, Any] = {"method": method, "raise_error": False, **kwargs}
        if body is not None:
            options["body"] = body if isinstance(body, str | bytes) else json.dumps(body)
        elif method in ("POST", "PATCH", "PUT"):
            options["body"] = b""
            options.setdefault("allow_nonstandard_methods", True)
        response = await jp_fetch("nbsched", "api", *parts, params=params, **options)
        content_type = response.headers.get("Content-Type", "")
        text = response.body
        decoded: Any = None
        if text:
            decoded = json.loads(text) if content_type.startswith("application/json") else text
        path = "/" + "/".join(("nbsched", "api", *parts))
        check_response(method, path, response.code, content_type, decoded)
        return response.code, decoded

    return call
