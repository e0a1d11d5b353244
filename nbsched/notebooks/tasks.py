"""Task specs: a notebook or a cell as a job, stored as JSON like any job.

::

    s.add_job(Notebook("reports/daily.ipynb", parameters={"region": "EU"}, timeout=600), "cron", hour=9)
    s.add_job(Cell("refresh_cache()"), "interval", minutes=5)             # headless: a fresh kernel each run
    s.add_job(Cell("df = load()", mode="kernel"), "interval", minutes=5)  # in the kernel that scheduled it

A spec is checked when it is created (the notebook exists inside its root, the parameters are ones its
``parameters`` cell assigns), and read again at every run: a notebook is run as it is on disk at that moment
unless ``snapshot=True`` kept a copy when it was scheduled. Every run records the SHA-256 of what it ran.
Calling a spec runs it synchronously (that is how thread pools and Dask run it); the notebook executor runs it
with warm kernels and records progress.
"""

from __future__ import annotations

import contextvars
import json
import math
import os
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any, ClassVar
from uuid import uuid4

import attrs

from nbsched import jsonstate
from nbsched.exceptions import InvalidArgumentError, JobArgumentError, NotInIPythonError, SerializationError
from nbsched.limits import check_seconds, shorten, text_problem
from nbsched.notebooks.paths import resolve_within

__all__ = ["OUTPUT_FORMATS", "Cell", "Notebook"]

#: renderings a run can write (the notebook itself is always written)
OUTPUT_FORMATS = ("ipynb", "html")
#: version of the JSON state written by ``to_dict``
STATE_VERSION = 1
#: version of a notebook's state that lists ``secret_parameters`` (written only then, so that a notebook without
#: secrets keeps the state an older nbsched reads, and one with secrets is refused there, not shown unmasked)
NOTEBOOK_SECRETS_VERSION = 2
#: the most characters of one parameter value, and of the whole, a notebook's default job name shows
NAME_VALUE_CHARS = 40
NAME_CHARS = 200

# Set while a spec is rebuilt from stored state: the file checks made at creation are not repeated then (the
# notebook may be gone by now; the run will say so).
_LOADING: contextvars.ContextVar[bool] = contextvars.ContextVar("nbsched_task_loading", default=False)


def _absolute(value: Any) -> str:
    if value is None:
        return str(Path.cwd())
    if isinstance(value, os.PathLike):
        value = os.fspath(value)
    return str(Path.cwd() / Path(value).expanduser()) if isinstance(value, str) else value


def _optional_path(value: Any) -> Any:
    return os.fspath(value) if isinstance(value, os.PathLike) else value


def _mapping(value: Any) -> Any:
    return dict(value) if isinstance(value, Mapping) else value


def _formats(value: Any) -> Any:
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list | tuple | set | frozenset):
        return tuple(value)
    return value


def _seconds(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return value
    return value


def _check_seconds() -> Callable[[Any, attrs.Attribute[Any], Any], None]:
    def check(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
        owner = type(instance).__name__
        if value is None and attribute.default is None:
            return
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value) or value <= 0:
            extra = " or None" if attribute.default is None else ""
            raise JobArgumentError(owner, attribute.name, value, f"must be a positive number of seconds{extra}")
        check_seconds(owner, attribute.name, value, JobArgumentError)  # a wait that long overflows timers

    return check


def _check_bool() -> Callable[[Any, attrs.Attribute[Any], Any], None]:
    def check(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
        owner = type(instance).__name__
        if not isinstance(value, bool):
            raise JobArgumentError(owner, attribute.name, value, "must be True or False")

    return check


def _check_optional_str() -> Callable[[Any, attrs.Attribute[Any], Any], None]:
    def check(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
        owner = type(instance).__name__
        if value is not None and (not isinstance(value, str) or not value):
            raise JobArgumentError(owner, attribute.name, value, "must be a non-empty string or None")

    return check


def _check_formats() -> Callable[[Any, attrs.Attribute[Any], Any], None]:
    def check(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
        owner = type(instance).__name__
        if not isinstance(value, tuple):
            raise JobArgumentError(owner, "output_formats", value, "must be a list of format names")
        for item in value:
            if item not in OUTPUT_FORMATS:
                raise JobArgumentError(
                    owner, "output_formats", item, f"is not a known format (known: {', '.join(OUTPUT_FORMATS)})"
                )

    return check


def _check_parameters(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    if not isinstance(value, Mapping):
        raise JobArgumentError("Notebook", "parameters", value, "must be a dict of name -> value")
    from nbsched.notebooks.parameters import render_value

    for name, item in value.items():
        if not isinstance(name, str) or not name.isidentifier():
            raise JobArgumentError("Notebook", "parameter", name, "is not a valid Python name")
        try:
            jsonstate.encode(item, "Notebook", f"parameters[{name!r}]")
            rendered = render_value(item)
        except SerializationError:
            raise
        except TypeError as exc:
            raise JobArgumentError("Notebook", f"parameters[{name!r}]", item, f"cannot be passed: {exc}") from None
        problem = text_problem(rendered)  # a lone surrogate: the notebook (UTF-8) could not hold it
        if problem is not None and "NUL" not in problem:
            raise JobArgumentError("Notebook", f"parameters[{name!r}]", item, f"cannot be passed: {problem}")


def _names(value: Any) -> Any:
    if isinstance(value, str):
        return (value,)
    if isinstance(value, set | frozenset):
        return tuple(sorted(value, key=str))
    if isinstance(value, list | tuple):
        return tuple(dict.fromkeys(value))  # once each, in the order given
    return value


def _check_secret_parameters(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    # attrs runs validators once every field is set: the parameters are known here.
    if not isinstance(value, tuple) or not all(isinstance(name, str) for name in value):
        raise JobArgumentError("Notebook", "secret_parameters", value, "must be a list of parameter names")
    for name in value:
        if name not in instance.parameters:
            given = ", ".join(sorted(instance.parameters)) or "none"
            raise JobArgumentError(
                "Notebook", "secret_parameters", name, f"is not one of the parameters given (given: {given})"
            )


def _check_version(owner: str, state: Mapping[str, Any], task_type: str, newest: int = STATE_VERSION) -> None:
    version = state.get("version")
    if not isinstance(version, int) or version > newest:
        raise SerializationError(owner, "version", version, f"is not supported (this nbsched reads up to {newest})")
    if state.get("type") != task_type:
        raise SerializationError(owner, "type", state.get("type"), f"is not {task_type!r}")


def _default_folder() -> Path:
    from nbsched.paths import runs_dir

    return runs_dir("_calls", uuid4().hex)


@attrs.frozen(kw_only=True)
class _Common:
    """Options shared by notebooks and headless cells."""

    kernel_name: str | None = attrs.field(default=None, validator=_check_optional_str())
    #: seconds for the whole run (interrupt, then kill when passed; the run is ``timed_out``)
    timeout: float | None = attrs.field(default=None, converter=_seconds, validator=_check_seconds())
    #: seconds for each cell
    cell_timeout: float | None = attrs.field(default=None, converter=_seconds, validator=_check_seconds())
    #: working folder of the kernel, relative to ``root`` (default: the notebook's folder; for a cell, ``root``)
    cwd: str | None = attrs.field(default=None, converter=_optional_path, validator=_check_optional_str())
    output_formats: tuple[str, ...] = attrs.field(
        default=OUTPUT_FORMATS, converter=_formats, validator=_check_formats()
    )
    #: whether a timed-out run is retried (when the job has ``retries``)
    retry_on_timeout: bool = attrs.field(default=False, validator=_check_bool())
    #: the folder the notebook, its working folder and anything it names must stay in (default: current folder)
    root: str = attrs.field(factory=lambda: str(Path.cwd()), converter=_absolute)
    startup_timeout: float = attrs.field(default=60.0, converter=_seconds, validator=_check_seconds())
    #: seconds between interrupting a timed-out kernel and killing it
    interrupt_grace: float = attrs.field(default=5.0, converter=_seconds, validator=_check_seconds())

    def _root(self) -> Path:
        return Path(self.root).resolve()

    def _common_state(self) -> dict[str, Any]:
        return {
            "kernel_name": self.kernel_name,
            "timeout": self.timeout,
            "cell_timeout": self.cell_timeout,
            "cwd": self.cwd,
            "output_formats": list(self.output_formats),
            "retry_on_timeout": self.retry_on_timeout,
            "root": self.root,
            "startup_timeout": self.startup_timeout,
            "interrupt_grace": self.interrupt_grace,
        }

    def _check_cwd(self, owner: str) -> None:
        if self.cwd is not None:
            folder = resolve_within(self._root(), self.cwd, owner, "cwd")
            # os.path's checks say False for a name the system refuses (too long, NUL); Path's raise OSError.
            if not os.path.isdir(folder):
                raise JobArgumentError(owner, "cwd", self.cwd, "is not an existing folder")

    def _check_kernel(self, owner: str) -> None:
        # Only when a person makes the spec: a stored job may be loaded on a machine with other kernels than
        # the one that scheduled it (its run then fails with the same message, see execute.py).
        if self.kernel_name is not None:
            from nbsched.notebooks.kernels import check_kernel_name

            check_kernel_name(owner, "kernel_name", self.kernel_name)


def _common_kwargs(state: Mapping[str, Any]) -> dict[str, Any]:
    keys = (
        "kernel_name",
        "timeout",
        "cell_timeout",
        "cwd",
        "output_formats",
        "retry_on_timeout",
        "root",
        "startup_timeout",
        "interrupt_grace",
    )
    return {key: state[key] for key in keys if key in state}


@attrs.frozen
class Notebook(_Common):
    """A notebook run headless with parameters, papermill-style.

    :param path: the ``.ipynb`` file, relative to ``root`` (or absolute, inside it)
    :param parameters: values for the notebook's ``parameters`` cell (str, int, float, bool, None, lists, dicts,
        dates); a name that cell does not assign is refused
    :param kernel_name: kernelspec to run it with (default: the notebook's own); one that is not installed here
        is refused now (a stored job is not checked when it is loaded: its run says so)
    :param timeout: seconds for the whole run
    :param cell_timeout: seconds for each cell
    :param cwd: working folder (default: the notebook's folder)
    :param output_formats: ``("ipynb", "html")`` by default; the notebook is always written
    :param snapshot: keep a copy of the notebook now and run that copy (default: read it at every run)
    :param retry_on_timeout: retry timed-out runs too (the job's ``retries``)
    :param root: folder everything must stay inside (default: the current folder)
    :param secret_parameters: names among ``parameters`` whose values are secret: shown as ``***`` by
        :meth:`describe` (the default job name), the CLI, the REST API and the JupyterLab panel, and scrubbed from
        what they print (see :mod:`nbsched.masking`; names such as ``password`` or ``api_token`` are secret
        without being listed). The notebook still gets the real values.
    :raises JobArgumentError: for a bad option, a path outside ``root``, a missing notebook, an unknown parameter
        or a secret one that is not among ``parameters``
    """

    task_type: ClassVar[str] = "notebook"
    default_executor: ClassVar[str] = "notebook"

    path: str = attrs.field(converter=_optional_path)
    parameters: dict[str, Any] = attrs.field(
        factory=dict, converter=_mapping, validator=_check_parameters, kw_only=True
    )
    secret_parameters: tuple[str, ...] = attrs.field(
        default=(), converter=_names, validator=_check_secret_parameters, kw_only=True
    )
    snapshot: bool = attrs.field(default=False, validator=_check_bool(), kw_only=True)
    #: the notebook's text kept by ``snapshot=True``
    content: str | None = attrs.field(default=None, repr=False, kw_only=True)

    def __attrs_post_init__(self) -> None:
        if not isinstance(self.path, str) or not self.path.endswith(".ipynb"):
            raise JobArgumentError("Notebook", "path", self.path, "must name a .ipynb file")
        if _LOADING.get():
            return
        if not os.path.isdir(self.root):
            raise JobArgumentError("Notebook", "root", self.root, "is not an existing folder")
        self._check_cwd("Notebook")
        self._check_kernel("Notebook")
        if self.content is not None:
            text = self.content
        else:
            file = resolve_within(self._root(), self.path, "Notebook", "path")
            if not os.path.isfile(file):
                raise JobArgumentError("Notebook", "path", self.path, f"does not exist (looked for {file})")
            try:
                text = file.read_text(encoding="utf-8")
            except (OSError, ValueError) as exc:  # unreadable, or not UTF-8
                raise JobArgumentError("Notebook", "path", self.path, f"cannot be read ({exc})") from None
        try:
            nb = json.loads(text)
        except (ValueError, RecursionError) as exc:
            raise JobArgumentError("Notebook", "path", self.path, f"is not a notebook (invalid JSON: {exc})") from None
        from nbsched.notebooks.parameters import check_parameters

        check_parameters(nb, self.parameters, Path(self.path).name)
        if self.snapshot and self.content is None:
            object.__setattr__(self, "content", text)

    # -------------------------------------------------------------------------------------- task protocol
    def describe(self) -> str:
        """``report.ipynb(region='EU', api_token=***)``: the default job name, secret values as ``***``."""
        from nbsched.masking import MASK, secret_parameter_names

        secret = secret_parameter_names(self.parameters, self.secret_parameters)
        # Values are cut short: a name is a label, not a copy of the parameters (which may be long).
        shown = {
            name: MASK if name in secret else shorten(repr(value), NAME_VALUE_CHARS)
            for name, value in self.parameters.items()
        }
        args = ", ".join(f"{name}={text}" for name, text in shown.items())
        return shorten(f"{Path(self.path).name}({args})", NAME_CHARS)

    def to_dict(self) -> dict[str, Any]:
        """Versioned JSON state (parameters with dates tagged as in job arguments).

        Version 1 has no ``secret_parameters``; version 2, written only for a notebook that lists some, adds it.
        """
        state = {
            "type": self.task_type,
            "version": STATE_VERSION,
            "path": self.path,
            "parameters": jsonstate.encode(self.parameters, "Notebook", "parameters"),
            "snapshot": self.snapshot,
            "content": self.content,
            **self._common_state(),
        }
        if self.secret_parameters:
            state.update(version=NOTEBOOK_SECRETS_VERSION, secret_parameters=list(self.secret_parameters))
        return state

    @classmethod
    def from_dict(cls, state: Mapping[str, Any]) -> Notebook:
        """Rebuild from :meth:`to_dict` output of version 1 or 2 (the notebook is not read now: it is at the next
        run)."""
        _check_version("Notebook", state, cls.task_type, NOTEBOOK_SECRETS_VERSION)
        token = _LOADING.set(True)
        try:
            return cls(
                path=state["path"],
                parameters=jsonstate.decode(state.get("parameters", {})),
                secret_parameters=state.get("secret_parameters", ()),
                snapshot=state.get("snapshot", False),
                content=state.get("content"),
                **_common_kwargs(state),
            )
        finally:
            _LOADING.reset(token)

    def __call__(self) -> Any:
        """Run the notebook now, in this thread (blocking), writing outputs under ``<data dir>/runs/_calls/``.

        :return: a :class:`~nbsched.notebooks.execute.NotebookResult`
        :raises NotebookRunError: when the run failed or timed out
        """
        return self.run(_default_folder())

    # -------------------------------------------------------------------------------------------- running
    def load(self) -> tuple[Any, str, str]:
        """The notebook to run now, its SHA-256 and its path as shown in the outputs.

        :raises NotebookRunError: when it cannot be read (gone, outside its root, not a notebook)
        """
        import nbformat

        from nbsched.notebooks.execute import NotebookRunError, content_hash

        try:
            file = resolve_within(self._root(), self.path, "Notebook", "path")
            data = self.content.encode() if self.content is not None else file.read_bytes()
            nb = nbformat.reads(data.decode("utf-8"), as_version=4)
        except InvalidArgumentError as exc:
            raise NotebookRunError(type(exc).__name__, str(exc)) from None
        except (OSError, ValueError) as exc:
            raise NotebookRunError(type(exc).__name__, f"cannot read {self.path}: {exc}") from None
        return nb, content_hash(data), str(file)

    def run(
        self,
        folder: Path,
        *,
        pool: Any = None,
        on_progress: Callable[[str, dict[str, str]], None] | None = None,
        on_started: Callable[[], None] | None = None,
        metadata: Mapping[str, Any] | None = None,
        cancel: Any = None,
        secret_parameters: Iterable[str] = (),
    ) -> Any:
        """Run into ``folder`` (the executors' entry point; see :func:`~nbsched.notebooks.execute.run_notebook`;
        ``cancel`` is its :class:`~nbsched.notebooks.execute.CancelToken`; ``secret_parameters`` names more
        parameters to keep out of the outputs, besides this task's own: those the job's ``secret:`` tags mark)."""
        from nbsched.notebooks.execute import NotebookRunError, RunSpec, run_notebook

        nb, digest, input_path = self.load()
        try:
            cwd = resolve_within(self._root(), self.cwd, "Notebook", "cwd") if self.cwd else Path(input_path).parent
        except InvalidArgumentError as exc:
            raise NotebookRunError(type(exc).__name__, str(exc)) from None
        spec = RunSpec(
            name=Path(self.path).stem,
            input_path=input_path,
            input_sha256=digest,
            parameters=self.parameters,
            kernel_name=self.kernel_name,
            cwd=cwd,
            timeout=self.timeout,
            cell_timeout=self.cell_timeout,
            startup_timeout=self.startup_timeout,
            interrupt_grace=self.interrupt_grace,
            formats=self.output_formats,
            metadata=dict(metadata or {}),
            secret_parameters=(*self.secret_parameters, *secret_parameters),
        )
        return run_notebook(nb, spec, folder, pool=pool, on_progress=on_progress, on_started=on_started, cancel=cancel)

    def kernel_for_warming(self) -> str | None:
        """The kernel name runs will use, for starting one ahead (``None`` when it cannot be told cheaply)."""
        if self.kernel_name:
            return self.kernel_name
        try:
            text = self.content or resolve_within(self._root(), self.path).read_text(encoding="utf-8")
            name = json.loads(text).get("metadata", {}).get("kernelspec", {}).get("name")
        except (OSError, ValueError, InvalidArgumentError):
            return None
        return name if isinstance(name, str) and name else "python3"


_MODES = ("headless", "kernel")


def _check_mode(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    if value not in _MODES:
        raise JobArgumentError("Cell", "mode", value, "must be 'headless' or 'kernel'")


def _check_source(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    if not isinstance(value, str) or not value.strip():
        raise JobArgumentError("Cell", "source", value, "must be non-empty code (a string)")


@attrs.frozen
class Cell(_Common):
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
        return self.run(_default_folder())

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

    def run(
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
