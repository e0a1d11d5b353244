"""The files of one notebook run, all inside its run folder ``<data dir>/runs/<job id>/<run id>/``.

``<name>.ipynb`` is rewritten (atomically) before the first cell and after every cell, so a crash or a kill
leaves the last finished cell on disk; ``<name>.html`` is rendered by nbconvert when the run ends, failed or not;
``stdout.txt``/``stderr.txt`` collect the cells' streams and ``kernel.log`` what the kernel process itself
printed. An output that cannot be written (a full disk, a read-only folder) does not stop the run: the failure is
kept (:attr:`RunOutputs.failed`), the write is tried again at the next chance, and the run records only the
outputs that exist, with a warning for each that could not be written (:meth:`RunOutputs.outcome`).

Failed runs get papermill's error banner: a red note at the top linking to an anchor cell placed just
before the failing cell. The note names that cell by its execution count (``In [3]``), as papermill's does;
progress and error messages number cells from 1 over every cell of the notebook as it ran, so the failing cell
``cell_index`` is "cell ``cell_index + 1``" there (see :mod:`nbsched.notebooks.execute`).
"""

from __future__ import annotations

import os
import tempfile
import threading
from pathlib import Path
from typing import Any

from nbsched.notebooks.paths import resolve_within

__all__ = [
    "ERROR_ANCHOR_MSG",
    "ERROR_MARKER_TAG",
    "ERROR_MESSAGE_TEMPLATE",
    "RunOutputs",
    "add_error_banner",
    "remove_error_markers",
    "render_html",
    "written",
]

# papermill's error banner, word for word, so that failed outputs read (and link) the same.
ERROR_MARKER_TAG = "papermill-error-cell-tag"
_ERROR_STYLE = 'style="color:red; font-family:Helvetica Neue, Helvetica, Arial, sans-serif; font-size:2em;"'
ERROR_MESSAGE_TEMPLATE = (
    f"<span {_ERROR_STYLE}>An Exception was encountered at '<a href=\"#papermill-error-cell\">In [%s]</a>'.</span>"
)
ERROR_ANCHOR_MSG = (
    f'<span id="papermill-error-cell" {_ERROR_STYLE}>'
    "Execution using papermill encountered an exception here and stopped:"
    "</span>"
)


def remove_error_markers(nb: Any) -> None:
    """Drop banner cells left by an earlier failed run (in place)."""
    nb.cells = [cell for cell in nb.cells if ERROR_MARKER_TAG not in cell.get("metadata", {}).get("tags", [])]


def add_error_banner(nb: Any, cell_index: int, new_markdown_cell: Any) -> None:
    """Mark the failing cell ``cell_index`` of ``nb`` (in place): an anchor before it, a linking note first."""
    execution_count = nb.cells[cell_index].get("execution_count")
    anchor = new_markdown_cell(ERROR_ANCHOR_MSG)
    anchor.metadata["tags"] = [ERROR_MARKER_TAG]
    note = new_markdown_cell(ERROR_MESSAGE_TEMPLATE % str(execution_count))
    note.metadata["tags"] = [ERROR_MARKER_TAG]
    nb.cells.insert(cell_index, anchor)
    nb.cells.insert(0, note)


_exporter_lock = threading.Lock()
_exporter: Any = None


def render_html(nb: Any) -> str:
    """The notebook as a standalone HTML page (nbconvert's ``lab`` template, images embedded)."""
    global _exporter
    with _exporter_lock:  # exporters are costly to build (templates) and not documented as thread-safe
        if _exporter is None:
            from nbconvert import HTMLExporter

            _exporter = HTMLExporter()
        body, _ = _exporter.from_notebook_node(nb)
    return str(body)


def warm_up() -> None:
    """Import nbconvert and render a tiny notebook once, so that the first run does not pay for it."""
    import nbformat

    render_html(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("1")]))


def _atomic_write(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def written(paths: dict[str, str]) -> dict[str, str]:
    """The outputs among ``paths`` (kind -> path) whose files exist.

    A run reports only these, so its row never lists a file it has not written yet: a run whose worker dies
    lists no HTML page it never rendered. Looked at on the machine that runs it, the only one that can tell.
    """
    return {kind: path for kind, path in paths.items() if os.path.exists(path)}


class RunOutputs:
    """The output files of one run.

    :param folder: the run folder (created by the caller, e.g. :func:`nbsched.paths.runs_dir`)
    :param name: base name of the output notebook and page (the input notebook's stem)
    :param formats: renderings to write at the end besides the notebook (``"html"``)
    """

    def __init__(self, folder: Path, name: str, formats: tuple[str, ...] = ("ipynb", "html")) -> None:
        #: output kind -> why its latest write failed (a later write that succeeds clears it)
        self.failed: dict[str, str] = {}
        self.folder = folder.resolve()
        self.ipynb = resolve_within(self.folder, f"{name}.ipynb", "RunOutputs", "name")
        self.html = resolve_within(self.folder, f"{name}.html", "RunOutputs", "name") if "html" in formats else None
        self.stdout = self.folder / "stdout.txt"
        self.stderr = self.folder / "stderr.txt"
        self.kernel_log = self.folder / "kernel.log"

    def paths(self) -> dict[str, str]:
        """Output kind -> path, as recorded on the run."""
        out = {"ipynb": str(self.ipynb)}
        if self.html is not None:
            out["html"] = str(self.html)
        out["stdout"] = str(self.stdout)
        out["stderr"] = str(self.stderr)
        return out

    def write_notebook(self, nb: Any) -> None:
        """Write the notebook as it is now (readers never see a half-written file); a write that fails (disk
        full) is recorded in :attr:`failed`, not raised: the run goes on and tries again after its next cell."""
        import nbformat

        try:
            _atomic_write(self.ipynb, nbformat.writes(nb))
        except OSError as exc:
            self.record_failure("ipynb", exc)
        else:
            self.failed.pop("ipynb", None)

    def write_html(self, nb: Any) -> None:
        """Render and write the HTML page (rendering errors are raised; a failed write is recorded)."""
        if self.html is not None:
            page = render_html(nb)
            try:
                _atomic_write(self.html, page)
            except OSError as exc:
                self.record_failure("html", exc)
            else:
                self.failed.pop("html", None)

    def append_streams(self, cell: Any) -> None:
        """Append a finished cell's stdout/stderr stream outputs to ``stdout.txt``/``stderr.txt`` (a failed
        write is recorded in :attr:`failed`)."""
        for output in cell.get("outputs", []):
            if output.get("output_type") == "stream":
                kind = "stderr" if output.get("name") == "stderr" else "stdout"
                try:
                    with (self.stderr if kind == "stderr" else self.stdout).open("a", encoding="utf-8") as handle:
                        handle.write("".join(output.get("text", "")))
                except OSError as exc:
                    self.record_failure(kind, exc)  # the text already appended stays; the rest is missing

    def record_failure(self, kind: str, exc: BaseException) -> None:
        """Note that output ``kind`` could not be written, and why."""
        self.failed[kind] = str(exc) if isinstance(exc, OSError) else f"{type(exc).__name__}: {exc}"

    def outcome(self, paths: dict[str, str]) -> tuple[dict[str, str], list[str]]:
        """What the run records at its end: the outputs of ``paths`` whose files exist, and a warning for each
        output that could not be written (or is missing)."""
        existing: dict[str, str] = {}
        warnings: list[str] = []
        for kind, path in paths.items():
            there = Path(path).is_file()
            if there:
                existing[kind] = path
            reason = self.failed.get(kind)
            if reason is not None:
                kept = "; the file there is from before the failure" if there else ""
                warnings.append(f"{kind} not written: {reason}{kept}")
            elif not there:
                warnings.append(f"{kind} not written: {path} is missing")
        return existing, warnings

    def touch_streams(self) -> None:
        """Create (or empty, for a retried run) the stream files, readable by the owner only."""
        for path in (self.stdout, self.stderr):
            os.close(os.open(path, os.O_CREAT | os.O_TRUNC | os.O_WRONLY, 0o600))
