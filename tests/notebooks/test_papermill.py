"""Differential: the same notebooks with the same parameters through papermill and through nbsched.

nbsched promises papermill's conventions (``metadata.papermill`` on the notebook and its cells, an
``injected-parameters`` cell after the ``parameters`` cell, papermill's error banner), so the two output
notebooks are compared after what differs from run to run is normalised (cell ids, times, the output folder).

Deliberate differences, checked as such rather than normalised away:

- ``metadata.papermill.version`` is ``"nbsched <version>"``: the notebook says what wrote it;
- ``metadata.papermill.exception`` is ``False`` once a run has succeeded (papermill leaves ``None`` there, the
  value it also has while the run is going), so a reader can tell a finished run from an unfinished one;
  ``True`` after a failure in both;
- ``metadata.nbsched`` is added (the SHA-256 of what ran, and job and run ids when a scheduler ran it);
- nbsched leaves a cell's metadata as the notebook had it, where papermill gives every cell ``tags: []``;
- an error in a cell tagged ``raises-exception`` is kept as that cell's output and the run succeeds (nbclient's
  meaning of the tag); papermill runs on to the end too, but then fails the run and adds its banner all the
  same, as its final check looks at every error output, tagged or not;
- a parameter that the ``parameters`` cell does not assign is refused (papermill injects it, with a warning in
  its log): it is almost always a typo. Where there is no ``parameters`` cell, any parameter is refused
  (papermill puts the injected cell first).
"""

from __future__ import annotations

import contextlib
import copy
import json
from pathlib import Path
from typing import Any

import nbformat
import papermill
import pytest

from nbsched import __version__
from nbsched.exceptions import JobArgumentError
from nbsched.notebooks import Notebook
from nbsched.notebooks.execute import NotebookRunError
from nbsched.notebooks.kernels import KernelPool
from nbsched.notebooks.outputs import ERROR_MARKER_TAG

pytestmark = pytest.mark.realtime

TIMES = ("start_time", "end_time", "duration")


def _papermill(root: Path, name: str, parameters: dict[str, Any], tmp_path: Path) -> dict[str, Any]:
    output = tmp_path / "papermill" / name
    output.parent.mkdir(exist_ok=True)
    with contextlib.suppress(papermill.PapermillExecutionError):  # a failed run's output is written all the same
        papermill.execute_notebook(
            str(root / name),
            str(output),
            parameters=parameters,
            kernel_name="python3",
            progress_bar=False,
            cwd=str(root),
        )
    return json.loads(output.read_text())


def _nbsched(root: Path, name: str, parameters: dict[str, Any], tmp_path: Path, pool: KernelPool) -> dict[str, Any]:
    folder = tmp_path / "nbsched" / Path(name).stem
    folder.mkdir(parents=True)
    try:
        path = Notebook(name, parameters=parameters).run(folder, pool=pool).outputs["ipynb"]
    except NotebookRunError as error:
        path = error.outputs["ipynb"]
    return json.loads(Path(path).read_text())


def _normalise(nb: dict[str, Any]) -> dict[str, Any]:
    """Without what changes from run to run: cell ids, times, where the output went; tracebacks as lines of
    text (colours and frames are IPython's, the same for both)."""
    nbformat.validate(nbformat.from_dict(nb))  # both write valid notebooks
    nb = copy.deepcopy(nb)
    meta = nb["metadata"]["papermill"]
    for key in TIMES:
        assert meta[key] is not None, key
        meta[key] = "<time>"
    meta["output_path"] = Path(meta["output_path"]).name
    for cell in nb["cells"]:
        cell.pop("id", None)
        cell_meta = cell["metadata"].get("papermill")
        for key in TIMES:
            if cell_meta is not None and cell_meta[key] is not None:
                cell_meta[key] = "<time>"
        if "execution" in cell["metadata"]:
            cell["metadata"]["execution"] = sorted(cell["metadata"]["execution"])
        for output in cell.get("outputs", []):
            if output["output_type"] == "error":
                output["traceback"] = "<traceback>"
    return nb


def _differences_applied(nbsched_nb: dict[str, Any], papermill_nb: dict[str, Any]) -> dict[str, Any]:
    """papermill's notebook as nbsched writes it on purpose (see the module docstring), checking each difference."""
    expected = copy.deepcopy(papermill_nb)
    if _expected_error_only(expected):
        # papermill's banner for an error the notebook said to expect: nbsched's run succeeded
        expected["cells"] = [c for c in expected["cells"] if ERROR_MARKER_TAG not in c["metadata"].get("tags", [])]
    meta = expected["metadata"]["papermill"]
    assert meta["version"] == papermill.__version__
    meta["version"] = f"nbsched {__version__}"
    if meta["exception"] is None:
        meta["exception"] = False  # succeeded
    extra = nbsched_nb["metadata"]["nbsched"]
    assert sorted(extra) == ["input_sha256"] and len(extra["input_sha256"]) == 64
    expected["metadata"]["nbsched"] = extra
    for cell in expected["cells"]:
        if cell["metadata"].get("tags") == []:
            del cell["metadata"]["tags"]  # papermill's empty tags
    return expected


def _expected_error_only(nb: dict[str, Any]) -> bool:
    """Whether every error output of ``nb`` is in a cell tagged ``raises-exception``."""
    tags = [
        c["metadata"].get("tags", [])
        for c in nb["cells"]
        if any(o["output_type"] == "error" for o in c.get("outputs", []))
    ]
    return bool(tags) and all("raises-exception" in t for t in tags)


CASES = [
    (
        "params.ipynb",
        {"region": 'say "hi"', "limit": 3, "weights": {"b": 2.5, "a": [1, None, True]}, "start": None},
    ),
    ("fail.ipynb", {"divisor": 5}),
    ("tags.ipynb", {}),
]


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # papermill's dependencies, not nbsched
@pytest.mark.parametrize(("name", "parameters"), CASES, ids=[name for name, _ in CASES])
def test_output_notebooks_match_papermills(
    root: Path, tmp_path: Path, pool: KernelPool, name: str, parameters: dict[str, Any]
) -> None:
    written = _normalise(_papermill(root, name, parameters, tmp_path))
    ours = _normalise(_nbsched(root, name, parameters, tmp_path, pool))

    def banner(nb: dict[str, Any]) -> list[tuple[int, str]]:
        cells = enumerate(nb["cells"])
        return [(i, "".join(c["source"])) for i, c in cells if ERROR_MARKER_TAG in c["metadata"].get("tags", [])]

    assert len(banner(written)) == (0 if name == "params.ipynb" else 2)  # tags.ipynb: see the module docstring
    theirs = _differences_applied(ours, written)
    # What the last comparison covers, spelled out: metadata.papermill keys, each cell's papermill metadata
    # (keys and status), the injected-parameters cell (source and tags), and the error banner cells.
    assert sorted(ours["metadata"]["papermill"]) == sorted(theirs["metadata"]["papermill"])
    assert [sorted(c["metadata"]["papermill"]) for c in ours["cells"] if "papermill" in c["metadata"]] == [
        sorted(c["metadata"]["papermill"]) for c in theirs["cells"] if "papermill" in c["metadata"]
    ]
    assert [c["metadata"].get("papermill", {}).get("status") for c in ours["cells"]] == [
        c["metadata"].get("papermill", {}).get("status") for c in theirs["cells"]
    ]

    def injected(nb: dict[str, Any]) -> list[tuple[str, list[str]]]:
        tagged = [c for c in nb["cells"] if "injected-parameters" in c["metadata"].get("tags", [])]
        return [("".join(c["source"]), c["metadata"]["tags"]) for c in tagged]

    assert injected(ours) == injected(theirs)
    assert len(injected(ours)) == (1 if parameters else 0)
    assert banner(ours) == banner(theirs)
    assert len(banner(ours)) == (2 if name == "fail.ipynb" else 0)
    # ...and everything else, outputs included.
    assert ours == theirs


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_parameters_the_notebook_does_not_take_are_refused_where_papermill_injects_them(
    root: Path, tmp_path: Path
) -> None:
    theirs = _papermill(root, "params.ipynb", {"regoin": "US"}, tmp_path)
    assert "".join(theirs["cells"][2]["source"]) == '# Parameters\nregoin = "US"\n'  # and the notebook uses "EU"
    with pytest.raises(JobArgumentError) as info:
        Notebook("params.ipynb", parameters={"regoin": "US"})
    assert str(info.value) == (
        "Notebook: parameter 'regoin' is not assigned in the parameters cell of params.ipynb "
        "(known: limit, region, start, weights)"
    )
    theirs = _papermill(root, "tags.ipynb", {"x": 1}, tmp_path)
    cells = [c for c in theirs["cells"] if ERROR_MARKER_TAG not in c["metadata"].get("tags", [])]
    assert cells[0]["metadata"]["tags"] == ["injected-parameters"]  # first, for want of a parameters cell
    with pytest.raises(JobArgumentError, match="has no cell tagged 'parameters'"):
        Notebook("tags.ipynb", parameters={"x": 1})
