"""Notebook paths over REST: the parameters of a notebook for the schedule form, and paths that leave the
server's root (``..``, absolute paths, symbolic links) refused wherever a request names a notebook."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.server.conftest import make_notebook


async def test_parameters_of_a_notebook(api, notebook):
    status, body = await api("GET", "notebooks", "parameters", params={"path": "report.ipynb"})
    assert status == 200
    assert body == {
        "path": "report.ipynb",
        "has_parameters_cell": True,
        "kernel_name": "python3",
        "parameters": [
            {
                "name": "region",
                "default": "EU",
                "expression": '"EU"',
                "literal": True,
                "type": "str",
                "annotation": None,
            },
            {"name": "limit", "default": 10, "expression": "10", "literal": True, "type": "int", "annotation": "int"},
            {
                "name": "threshold",
                "default": 0.5,
                "expression": "0.5",
                "literal": True,
                "type": "float",
                "annotation": None,
            },
            {
                "name": "flags",
                "default": [1, 2],
                "expression": "[1, 2]",
                "literal": True,
                "type": "list",
                "annotation": None,
            },
            {
                "name": "start",
                "default": None,
                "expression": "date.today()",
                "literal": False,
                "type": None,
                "annotation": None,
            },
        ],
    }


async def test_parameters_of_a_notebook_in_a_folder_without_parameters_cell(api, jp_root_dir):
    make_notebook(jp_root_dir / "sub" / "plain.ipynb", parameters=None)
    status, body = await api("GET", "notebooks", "parameters", params={"path": "sub/plain.ipynb"})
    assert status == 200
    assert body == {"path": "sub/plain.ipynb", "has_parameters_cell": False, "kernel_name": "python3", "parameters": []}


async def test_parameters_errors(api, jp_root_dir):
    status, reply = await api("GET", "notebooks", "parameters", params={"path": "missing.ipynb"})
    assert (status, reply) == (
        404,
        {"message": "NotebookParameters: path 'missing.ipynb' does not exist", "error": "NotebookLookupError"},
    )
    status, reply = await api("GET", "notebooks", "parameters")
    assert (status, reply) == (
        400,
        {
            "message": "NotebookParameters: path None must be the path of a .ipynb file under the server root",
            "error": "InvalidArgumentError",
        },
    )
    (jp_root_dir / "broken.ipynb").write_text("{not json", encoding="utf-8")
    status, reply = await api("GET", "notebooks", "parameters", params={"path": "broken.ipynb"})
    assert status == 400
    assert reply["message"].startswith("NotebookParameters: path 'broken.ipynb' is not a readable notebook (")


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """A notebook outside the server's root (a sibling folder of it)."""
    return make_notebook(tmp_path / "elsewhere" / "secret.ipynb")


def escapes(jp_root_dir: Path, outside: Path) -> dict[str, str]:
    """Ways to name a notebook outside the root; the symlink is inside the root and points out of it."""
    link = jp_root_dir / "innocent.ipynb"
    link.symlink_to(outside)
    return {
        "dotdot": "../elsewhere/secret.ipynb",
        "deep-dotdot": "sub/../../../../../../etc/passwd.ipynb",
        "etc-passwd": "../../etc/passwd",
        "absolute": str(outside),
        "absolute-etc": "/etc/passwd",
        "symlink": "innocent.ipynb",
    }


def refused(owner: str, field: str, path: str) -> str:
    """The message for a path outside the root (long paths are shortened in messages, as in every nbsched error)."""
    shown = repr(path) if len(repr(path)) <= 80 else repr(path)[:77] + "..."
    return f"{owner}: {field} {shown} is outside the server root"


ESCAPES = ["dotdot", "deep-dotdot", "etc-passwd", "absolute", "absolute-etc", "symlink"]


@pytest.mark.parametrize("how", ESCAPES)
async def test_parameters_refuse_paths_outside_the_root(api, jp_root_dir, outside, how):
    path = escapes(jp_root_dir, outside)[how]
    status, reply = await api("GET", "notebooks", "parameters", params={"path": path})
    assert (status, reply) == (
        400,
        {"message": refused("NotebookParameters", "path", path), "error": "InvalidArgumentError"},
    )


@pytest.mark.parametrize("how", ESCAPES)
async def test_jobs_refuse_notebooks_outside_the_root(api, jp_root_dir, outside, notebook, how):
    path = escapes(jp_root_dir, outside)[how]
    body = {"task": {"type": "notebook", "path": path}, "trigger": {"every": "1h"}}
    status, reply = await api("POST", "jobs", body=body)
    assert (status, reply) == (
        400,
        {"message": refused("JobCreate", "task.path", path), "error": "InvalidArgumentError"},
    )
    await api(
        "POST",
        "jobs",
        body={"id": "ok", "task": {"type": "notebook", "path": "report.ipynb"}, "trigger": {"every": "1h"}},
    )
    status, reply = await api("PATCH", "jobs", "ok", body={"task": {"type": "notebook", "path": path}})
    assert (status, reply) == (
        400,
        {"message": refused("JobUpdate", "task.path", path), "error": "InvalidArgumentError"},
    )
    status, reply = await api(
        "PATCH", "jobs", "ok", body={"task": {"type": "notebook", "path": "report.ipynb", "cwd": "../elsewhere"}}
    )
    assert (status, reply) == (
        400,
        {"message": "JobUpdate: task.cwd '../elsewhere' is outside the server root", "error": "InvalidArgumentError"},
    )


async def test_hidden_notebooks_are_refused_and_absolute_paths_inside_the_root_are_stored_relative(
    api, jp_root_dir, notebook
):
    make_notebook(jp_root_dir / ".hidden" / "x.ipynb")
    status, reply = await api("GET", "notebooks", "parameters", params={"path": ".hidden/x.ipynb"})
    assert (status, reply["message"]) == (
        400,
        "NotebookParameters: path '.hidden/x.ipynb' is hidden (ContentsManager.allow_hidden is off)",
    )
    status, job = await api(
        "POST", "jobs", body={"task": {"type": "notebook", "path": str(notebook)}, "trigger": {"every": "1h"}}
    )
    assert (status, job["task"]["path"]) == (201, "report.ipynb")
    status, job = await api(
        "POST", "jobs", body={"task": {"type": "notebook", "path": "./sub/../report.ipynb"}, "trigger": {"every": "1h"}}
    )
    assert (status, job["task"]["path"]) == (201, "report.ipynb")


async def test_notebook_jobs_run_from_the_server_root(api, jp_serverapp, notebook):
    status, _ = await api(
        "POST",
        "jobs",
        body={"id": "r", "task": {"type": "notebook", "path": "report.ipynb"}, "trigger": {"every": "1h"}},
    )
    assert status == 201
    task = jp_serverapp.web_app.settings["nbsched_service"].scheduler.get_job("r").func
    assert Path(task.root) == Path(os.path.realpath(jp_serverapp.root_dir))
