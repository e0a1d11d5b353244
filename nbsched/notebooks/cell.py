"""The cell task: code run headless in a fresh kernel, or in the live kernel that scheduled it."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, ClassVar

import attrs

from nbsched.abc import TaskSummary
from nbsched.exceptions import InvalidArgumentError, JobArgumentError, NotInIPythonError
from nbsched.notebooks._common import NotebookTaskBase, _common_kwargs
from nbsched.notebooks._fields import _LOADING, STATE_VERSION, _check_version, _default_folder
from nbsched.notebooks.paths import resolve_within

__all__ = ["Cell"]

_MODES = ("headless", "kernel")


def _check_mode(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    if value not in _MODES:
        raise JobArgumentError("Cell", "mode", value, "must be 'headless' or 'kernel'")


def _check_source(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    if not isinstance(value, str) or not value.strip():
        raise JobArgumentError("Cell", "source", value, "must be non-empty code (a string)")


@attrs.frozen
class Cell(NotebookTaskBase):
    """A cell of code as a job.

    :param source: the code
    :param mode: ``"headless"`` (default): run in a fresh kernel as a one-cell notebook, with the same outputs
        as a notebook run; ``"kernel"``: run in the namespace of the live kernel that scheduled it (the
        ``kernel`` executor)
    The other options are :class:`Notebook`'s (``cwd`` defaults to ``root``).
    """

    task_type: ClassVar[str] = "cell"

    source: str = attrs.field(validator=_check_source)
    mode: str = attrs.field(default="headless", validator=_check_mode, kw_only=True)

    def __attrs_post_init__(self) -> None:
        if not _LOADING.get():
            self._check_cwd("Cell")
            self._check_kernel("Cell")

    @property
    def default_executor(self) -> str:
        """``"kernel"`` for ``mode="kernel"``, else ``"notebook"``."""
        return "kernel" if self.mode == "kernel" else "notebook"

    def summary(self) -> TaskSummary:
        """``("cell", "cell: <first line>")``; a cell has no parameters."""
        return TaskSummary(kind=self.task_type, target=self.describe())

    def describe(self) -> str:
        """``cell: <first line of the source>`` (shortened)."""
        first = next((line.strip() for line in self.source.splitlines() if line.strip()), "")
        return "cell: " + (first if len(first) <= 60 else first[:57] + "...")

    def to_dict(self) -> dict[str, Any]:
        return {
            "type": self.task_type,
            "version": STATE_VERSION,
            "source": self.source,
            "mode": self.mode,
            **self._common_state(),
        }

    @classmethod
    def from_dict(cls, state: Mapping[str, Any]) -> Cell:
        _check_version("Cell", state, cls.task_type)
        token = _LOADING.set(True)
        try:
            return cls(source=state["source"], mode=state.get("mode", "headless"), **_common_kwargs(state))
        finally:
            _LOADING.reset(token)

    def __call__(self) -> Any:
        """Run the cell now: headless in a fresh kernel (blocking), or in this IPython kernel for ``mode="kernel"``.

        :raises NotebookRunError: when a headless run failed or timed out
        :raises RuntimeError: for ``mode="kernel"`` outside IPython
        """
        if self.mode == "kernel":
            return self._run_here()
        return self.run_into(_default_folder())

    def _run_here(self) -> Any:
        try:
            from IPython import get_ipython
        except ImportError:
            get_ipython = None
        shell = get_ipython() if get_ipython is not None else None
        if shell is None:
            raise NotInIPythonError("Cell(mode='kernel')", "runs only inside an IPython kernel")
        result = shell.run_cell(self.source, store_history=False, silent=True)
        result.raise_error()
        return result.result

    def run_into(
        self,
        folder: Path,
        *,
        pool: Any = None,
        on_progress: Callable[[str, dict[str, str]], None] | None = None,
        on_started: Callable[[], None] | None = None,
        metadata: Mapping[str, Any] | None = None,
        cancel: Any = None,
    ) -> Any:
        """Run headless into ``folder`` as a one-cell notebook named ``cell.ipynb``."""
        import nbformat

        from nbsched.notebooks.execute import NotebookRunError, RunSpec, content_hash, run_notebook

        if self.mode == "kernel":
            raise NotebookRunError("ValueError", "Cell(mode='kernel') runs on the kernel executor, not headless")
        try:
            cwd = resolve_within(self._root(), self.cwd or ".", "Cell", "cwd")
        except InvalidArgumentError as exc:
            raise NotebookRunError(type(exc).__name__, str(exc)) from None
        nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(self.source)])
        spec = RunSpec(
            name="cell",
            owner="Cell",
            input_path="<cell>",
            input_sha256=content_hash(self.source),
            kernel_name=self.kernel_name or "python3",
            cwd=cwd,
            timeout=self.timeout,
            cell_timeout=self.cell_timeout,
            startup_timeout=self.startup_timeout,
            interrupt_grace=self.interrupt_grace,
            formats=self.output_formats,
            metadata=dict(metadata or {}),
        )
        return run_notebook(nb, spec, folder, pool=pool, on_progress=on_progress, on_started=on_started, cancel=cancel)

    def kernel_for_warming(self) -> str | None:
        return None if self.mode == "kernel" else (self.kernel_name or "python3")
