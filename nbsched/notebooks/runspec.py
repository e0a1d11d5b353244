"""What a notebook run is given and what it returns: :class:`RunSpec`, :class:`NotebookResult`.

Also the two small conventions every part of a run shares: :func:`cell_number` (how a cell is numbered for
people, see :mod:`nbsched.notebooks.execute`) and :func:`content_hash` (how the input is identified).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

import attrs

__all__ = ["NotebookResult", "ProgressCallback", "RunSpec", "cell_number", "content_hash"]

#: called with the progress text (``"cell 4/5"``) and the outputs written so far (kind -> path)
ProgressCallback = Callable[[str, dict[str, str]], None]


@attrs.frozen(kw_only=True)
class NotebookResult:
    """What a successful run returns (the job's return value).

    :ivar outputs: output kind -> path (``ipynb``, ``html``, ``stdout``, ``stderr``, ``kernel_log``)
    :ivar input_sha256: content hash of the notebook (or cell source) that ran
    :ivar cells: number of cells in the executed notebook
    :ivar duration: seconds from the first cell to the last
    :ivar kernel_id: id of the kernel that ran it (never reused)
    :ivar warm_kernel: whether that kernel was started ahead of the run (by the pool)
    :ivar warnings: the outputs that could not be written, and why (``outputs`` lists only those that exist)
    """

    outputs: dict[str, str]
    input_sha256: str
    cells: int
    duration: float
    kernel_id: str
    warm_kernel: bool = False
    warnings: tuple[str, ...] = ()


def _names(names: Iterable[str]) -> tuple[str, ...]:
    return tuple(names)


@attrs.frozen(kw_only=True)
class RunSpec:
    """Everything one run needs besides the notebook itself.

    :ivar name: base name of the output files
    :ivar input_path: shown in ``metadata.papermill.input_path``
    :ivar input_sha256: hash of the input, recorded in the outputs
    :ivar parameters: values for the injected cell (checked against the ``parameters`` cell)
    :ivar kernel_name: kernelspec name (``None``: the notebook's, else ``python3``)
    :ivar cwd: working folder of the kernel
    :ivar timeout: seconds for the whole run (``None``: no limit)
    :ivar cell_timeout: seconds for each cell (``None``: no limit)
    :ivar startup_timeout: seconds for the kernel to start
    :ivar interrupt_grace: seconds between interrupting a timed-out kernel and killing it
    :ivar formats: renderings besides the notebook (``html``)
    :ivar metadata: extra ``metadata.nbsched`` entries (job and run ids)
    :ivar owner: the spec it came from (``Notebook``, ``Cell``), named in errors about its options
    :ivar secret_parameters: names among ``parameters`` whose values the kernel gets but nothing written shows
        (those secret by their name are too; see :mod:`nbsched.notebooks.scrub`)
    """

    name: str
    input_path: str
    input_sha256: str
    parameters: Mapping[str, Any] = attrs.field(factory=dict)
    kernel_name: str | None = None
    cwd: Path
    timeout: float | None = None
    cell_timeout: float | None = None
    startup_timeout: float = 60.0
    interrupt_grace: float = 5.0
    formats: tuple[str, ...] = ("ipynb", "html")
    metadata: Mapping[str, Any] = attrs.field(factory=dict)
    owner: str = "Notebook"
    secret_parameters: tuple[str, ...] = attrs.field(default=(), converter=_names)


def cell_number(cell_index: int) -> int:
    """The number people see for the cell at ``cell_index`` (counted from 1; see the module docstring)."""
    return cell_index + 1


def content_hash(data: bytes | str) -> str:
    """SHA-256 of a notebook's bytes (or a cell's source), hex."""
    return hashlib.sha256(data.encode() if isinstance(data, str) else data).hexdigest()
