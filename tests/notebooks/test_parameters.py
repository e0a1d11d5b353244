"""Task specs and parameters: no kernel needed."""

from __future__ import annotations

import json
import math
import pickle
from datetime import UTC, date, datetime, time, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import nbformat
import pytest

from nbsched.exceptions import InvalidArgumentError, JobArgumentError, SerializationError
from nbsched.job import Job
from nbsched.notebooks import Cell, Notebook
from nbsched.notebooks.execute import NotebookRunError
from nbsched.notebooks.parameters import (
    check_parameters,
    inject_parameters,
    json_parameters,
    parameter_names,
    render_parameters,
    render_value,
)
from nbsched.schedulers.background import BackgroundScheduler


def installed() -> str:
    """The installed kernelspecs as the error lists them, as jupyter_client finds them."""
    from jupyter_client.kernelspec import KernelSpecManager

    names = sorted(KernelSpecManager().find_kernel_specs())
    assert "python3" in names
    return ", ".join(names)


def _nb(*cells: tuple[str, list[str]]) -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    for source, tags in cells:
        cell = nbformat.v4.new_code_cell(source)
        if tags:
            cell.metadata["tags"] = tags
        nb.cells.append(cell)
    return nb


@pytest.mark.parametrize(
    ("value", "text"),
    [
        ("EU", '"EU"'),
        ('say "hi"\n', '"say \\"hi\\"\\n"'),
        ("héllo", '"héllo"'),
        (3, "3"),
        (-2.5, "-2.5"),
        (float("nan"), "float('nan')"),
        (float("-inf"), "float('-inf')"),
        (True, "True"),
        (None, "None"),
        ([1, "a", None], '[1, "a", None]'),
        ((1,), "(1,)"),
        ({"a": [1, {"b": False}]}, '{"a": [1, {"b": False}]}'),
        (date(2026, 1, 5), '__import__("datetime").date(2026, 1, 5)'),
        (
            datetime(2026, 1, 5, 9, 30, tzinfo=UTC),
            '__import__("datetime").datetime.fromisoformat("2026-01-05T09:30:00+00:00")',
        ),
        (time(9, 30), '__import__("datetime").time.fromisoformat("09:30:00")'),
        (timedelta(minutes=1.5), '__import__("datetime").timedelta(seconds=90.0)'),
    ],
)
def test_values_render_as_python_literals_that_evaluate_back(value: object, text: str) -> None:
    assert render_value(value) == text
    again = eval(text)
    assert again == value or (isinstance(value, float) and math.isnan(again))


def test_injected_cell_reads_like_papermills() -> None:
    assert render_parameters({"region": "US", "limit": 3}) == '# Parameters\nregion = "US"\nlimit = 3\n'


def test_parameter_names_from_assignments_annotations_and_unpacking() -> None:
    nb = _nb(("a = 1\nb: int = 2\nc, (d, e) = 3, (4, 5)\nif a:\n    hidden = 1\nprint(a)", ["parameters"]))
    assert parameter_names(nb) == ["a", "b", "c", "d", "e"]
    with_magic = _nb(("%matplotlib inline\nx = 1\ny: str = 'a'\nx == 2", ["parameters"]))
    assert parameter_names(with_magic) == ["x", "y"]
    assert parameter_names(_nb(("x = 1", []))) is None


def test_unknown_parameter_is_refused_listing_the_known_ones() -> None:
    nb = _nb(("region = 'EU'\nlimit = 10", ["parameters"]))
    check_parameters(nb, {"region": "US"}, "report.ipynb")
    with pytest.raises(JobArgumentError) as info:
        check_parameters(nb, {"regoin": "US"}, "report.ipynb")
    assert str(info.value) == (
        "Notebook: parameter 'regoin' is not assigned in the parameters cell of report.ipynb (known: limit, region)"
    )
    with pytest.raises(JobArgumentError) as info:
        check_parameters(_nb(("x = 1", [])), {"x": 2}, "plain.ipynb")
    assert str(info.value) == "Notebook: parameter 'x' cannot be set: plain.ipynb has no cell tagged 'parameters'"


def test_injection_goes_after_the_parameters_cell_or_replaces_an_earlier_one() -> None:
    nb = _nb(("import os", []), ("x = 1", ["parameters"]), ("print(x)", []))
    assert inject_parameters(nb, {"x": 2}, nbformat.v4.new_code_cell) == 2
    assert [c.metadata.get("tags") for c in nb.cells] == [None, ["parameters"], ["injected-parameters"], None]
    assert inject_parameters(nb, {"x": 3}, nbformat.v4.new_code_cell) == 2
    assert len(nb.cells) == 4
    assert nb.cells[2].source == "# Parameters\nx = 3\n"
    bare = _nb(("print(1)", []))
    assert inject_parameters(bare, {"x": 1}, nbformat.v4.new_code_cell) == 0


def test_metadata_parameters_are_plain_json() -> None:
    values = {"d": date(2026, 1, 5), "t": (1, 2), "f": float("inf")}
    assert json_parameters(values) == {"d": "2026-01-05", "t": [1, 2], "f": "inf"}


# ------------------------------------------------------------------------------------------------- Notebook
def test_notebook_checks_path_root_parameters_and_options(root: Path) -> None:
    cases = [
        (
            lambda: Notebook("../outside.ipynb"),
            f"Notebook: path '../outside.ipynb' is outside the root folder '{root}' (resolves to '{root.parent / 'outside.ipynb'}'); pass root= to allow it",
        ),
        (
            lambda: Notebook("/etc/passwd.ipynb"),
            f"Notebook: path '/etc/passwd.ipynb' is outside the root folder '{root}' (resolves to '/etc/passwd.ipynb'); pass root= to allow it",
        ),
        (
            lambda: Notebook("missing.ipynb"),
            f"Notebook: path 'missing.ipynb' does not exist (looked for {root / 'missing.ipynb'})",
        ),
        (lambda: Notebook("params.py"), "Notebook: path 'params.py' must name a .ipynb file"),
        (
            lambda: Notebook("params.ipynb", parameters={"regoin": "x"}),
            "Notebook: parameter 'regoin' is not assigned in the parameters cell of params.ipynb (known: limit, region, start, weights)",
        ),
        (
            lambda: Notebook("params.ipynb", parameters={"start": {1, 2}}),
            "Notebook: parameters['start'] {1, 2} is a set, which cannot be stored as JSON (use str, int, float, bool, None, lists, dicts or dates)",
        ),
        (
            lambda: Notebook("params.ipynb", timeout=0),
            "Notebook: timeout 0 must be a positive number of seconds or None",
        ),
        (
            lambda: Notebook("params.ipynb", output_formats=["pdf"]),
            "Notebook: output_formats 'pdf' is not a known format (known: ipynb, html)",
        ),
        (
            lambda: Notebook("params.ipynb", cwd=".."),
            f"Notebook: cwd '..' is outside the root folder '{root}' (resolves to '{root.parent}'); pass root= to allow it",
        ),
        (lambda: Cell("  "), "Cell: source '  ' must be non-empty code (a string)"),
        (lambda: Cell("x", mode="remote"), "Cell: mode 'remote' must be 'headless' or 'kernel'"),
        (lambda: Cell("x", cell_timeout=-1), "Cell: cell_timeout -1 must be a positive number of seconds or None"),
    ]
    for make, message in cases:
        with pytest.raises(InvalidArgumentError) as info:
            make()
        assert str(info.value) == message


def test_symlink_leaving_the_root_is_refused(root: Path, tmp_path: Path) -> None:
    (tmp_path / "secret.ipynb").write_text((root / "params.ipynb").read_text())
    (root / "link.ipynb").symlink_to(tmp_path / "secret.ipynb")
    with pytest.raises(JobArgumentError, match="is outside the root folder"):
        Notebook("link.ipynb")
    assert Notebook(str(root / "link.ipynb"), root=tmp_path).root == str(tmp_path)


def test_state_round_trips_through_json_without_reading_the_notebook(root: Path) -> None:
    spec = Notebook(
        "params.ipynb",
        parameters={"region": "US", "start": date(2026, 1, 5)},
        timeout="600",
        output_formats="html",
        retry_on_timeout=True,
    )
    state = json.loads(json.dumps(spec.to_dict()))
    assert state["type"] == "notebook" and state["version"] == 1 and state["root"] == str(root)
    assert state["parameters"]["start"] == {"$nbsched": "date", "value": "2026-01-05"}
    (root / "params.ipynb").unlink()  # stored jobs load even when their notebook is gone: the run will say so
    again = Notebook.from_dict(state)
    assert again == spec and again.timeout == 600.0 and again.output_formats == ("html",)
    with pytest.raises(NotebookRunError) as info:
        again.load()
    assert info.value.ename == "FileNotFoundError"
    with pytest.raises(SerializationError, match="version 99 is not supported"):
        Notebook.from_dict({**state, "version": 99})


def test_zone_aware_dates_come_back_in_their_zone(root: Path) -> None:
    berlin = ZoneInfo("Europe/Berlin")
    # The day before the spring change: at a fixed +01:00, "a day later" would be an hour off in Berlin.
    start = datetime(2026, 3, 28, 9, 0, tzinfo=berlin)
    repeated = datetime(2026, 10, 25, 2, 30, fold=1, tzinfo=berlin)  # the second 02:30 of the autumn change
    spec = Notebook(
        "params.ipynb",
        parameters={"start": start, "weights": {"again": repeated, "utc": datetime(2026, 1, 5, tzinfo=UTC)}},
    )
    state = json.loads(json.dumps(spec.to_dict()))
    assert state["version"] == 1  # an older nbsched reads it (it ignores "zone" and gets the same instant)
    assert state["parameters"]["start"] == {
        "$nbsched": "datetime",
        "value": "2026-03-28T09:00:00+01:00",
        "zone": "Europe/Berlin",
    }
    assert "zone" not in state["parameters"]["weights"]["utc"]
    again = Notebook.from_dict(state).parameters
    assert again["start"] == start and again["start"].tzinfo is berlin
    assert (again["start"] + timedelta(days=1)).utcoffset() == timedelta(hours=2)
    assert again["weights"]["again"].tzinfo is berlin and again["weights"]["again"].fold == 1
    assert again["weights"]["utc"].tzinfo is UTC
    # State written before zones were kept, and a zone this machine lacks, read as before: the offset.
    old = {"$nbsched": "datetime", "value": "2026-03-28T09:00:00+01:00"}
    unknown = {**old, "zone": "Mars/Olympus_Mons"}
    for stored in (old, unknown):
        value = Notebook.from_dict({**state, "parameters": {"start": stored}}).parameters["start"]
        assert value == start and value.tzinfo == timezone(timedelta(hours=1))
    # The notebook gets it in its zone too.
    rendered = render_value(start)
    assert rendered == (
        '__import__("datetime").datetime.fromisoformat("2026-03-28T09:00:00+01:00")'
        '.astimezone(__import__("zoneinfo").ZoneInfo("Europe/Berlin"))'
    )
    assert eval(rendered) == start and eval(rendered).tzinfo is berlin


def test_kernel_name_must_be_installed_when_the_spec_is_made_not_when_it_is_loaded(root: Path) -> None:
    for make, owner in (
        (lambda: Notebook("params.ipynb", kernel_name="nosuchkernel"), "Notebook"),
        (lambda: Cell("x = 1", kernel_name="nosuchkernel"), "Cell"),
    ):
        with pytest.raises(JobArgumentError) as info:
            make()
        assert str(info.value) == (
            f"{owner}: kernel_name 'nosuchkernel' is not an installed kernelspec (installed: {installed()})"
        )
    scheduler = BackgroundScheduler(timezone="UTC")
    with pytest.raises(JobArgumentError, match="is not an installed kernelspec"):
        scheduler.add_job(Notebook("params.ipynb", kernel_name="nosuchkernel"), "interval", minutes=5)
    assert scheduler.get_jobs() == []
    # A job stored where that kernel exists still loads here (its run says what is missing).
    stored = {**Notebook("params.ipynb", kernel_name="python3").to_dict(), "kernel_name": "nosuchkernel"}
    assert Notebook.from_dict(stored).kernel_name == "nosuchkernel"
    cell_state = {**Cell("x = 1").to_dict(), "kernel_name": "nosuchkernel"}
    assert Cell.from_dict(cell_state).kernel_name == "nosuchkernel"


def test_snapshot_keeps_the_notebook_as_it_was(root: Path) -> None:
    live = Notebook("params.ipynb")
    frozen = Notebook("params.ipynb", snapshot=True)
    original = (root / "params.ipynb").read_bytes()
    (root / "params.ipynb").write_text(original.decode().replace("EU", "US"))
    _, live_hash, _ = live.load()
    nb, frozen_hash, _ = Notebook.from_dict(frozen.to_dict()).load()
    assert '"EU"' in nb.cells[1].source
    assert live_hash != frozen_hash
    import hashlib

    assert frozen_hash == hashlib.sha256(original).hexdigest()


def test_cells_describe_themselves_and_pick_their_executor(root: Path) -> None:
    assert Cell("x = 1\nprint(x)").describe() == "cell: x = 1"
    assert Cell("x").default_executor == "notebook"
    assert Cell("x", mode="kernel").default_executor == "kernel"
    assert Notebook("params.ipynb", parameters={"limit": 3}).describe() == "params.ipynb(limit=3)"
    assert Cell.from_dict(json.loads(json.dumps(Cell("y", mode="kernel").to_dict()))) == Cell("y", mode="kernel")


def test_add_job_routes_tasks_to_their_executor_and_stores_them_as_json(root: Path) -> None:
    scheduler = BackgroundScheduler(timezone="UTC")
    job = scheduler.add_job(Notebook("params.ipynb", parameters={"limit": 3}), "cron", hour=9, id="report")
    cell = scheduler.add_job(Cell("print(1)"), "interval", minutes=5)
    assert job.executor == "notebook" and cell.executor == "notebook"
    assert job.name == "params.ipynb(limit=3)"
    state = json.loads(json.dumps(job.to_dict()))
    assert state["func"] is None and state["task"]["type"] == "notebook"
    restored = Job.from_dict(state)
    assert restored.func == job.func


@pytest.mark.parametrize("job_id", ["a/b", "..", "a\\b"])
def test_task_job_ids_must_name_a_folder(root: Path, job_id: str) -> None:
    scheduler = BackgroundScheduler(timezone="UTC")
    with pytest.raises(JobArgumentError) as info:
        scheduler.add_job(Cell("print(1)"), "interval", minutes=5, id=job_id)
    assert str(info.value).startswith(f"add_job: id {job_id!r} ")
    assert str(info.value).endswith("notebook and cell runs keep their outputs in a folder named so")
    assert scheduler.get_jobs() == []
    scheduler.add_job(print, "interval", minutes=5, id="a/b")  # a function job keeps no output folder


def test_run_errors_pickle_with_their_details() -> None:
    error = NotebookRunError("ValueError", "boom", 3, {"ipynb": "/x.ipynb"}, "timed_out", "Traceback...")
    again = pickle.loads(pickle.dumps(error))
    assert (again.ename, again.evalue, again.cell_index, again.outputs, again.run_status, again.traceback_text) == (
        "ValueError",
        "boom",
        3,
        {"ipynb": "/x.ipynb"},
        "timed_out",
        "Traceback...",
    )
    # Messages number cells from 1, as progress does ("cell 4/5"); cell_index stays papermill's 0-based index.
    assert str(again) == "ValueError in cell 4: boom"
