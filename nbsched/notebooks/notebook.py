"""The notebook task: a notebook run headless with parameters, papermill-style."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any, ClassVar

import attrs

from nbsched import jsonstate
from nbsched.abc import RunContext, TaskSummary
from nbsched.exceptions import InvalidArgumentError, JobArgumentError
from nbsched.limits import shorten
from nbsched.notebooks._common import NotebookTaskBase, _common_kwargs
from nbsched.notebooks._fields import (
    _LOADING,
    NAME_CHARS,
    NAME_VALUE_CHARS,
    NOTEBOOK_SECRETS_VERSION,
    STATE_VERSION,
    _check_bool,
    _check_parameters,
    _check_secret_parameters,
    _check_version,
    _default_folder,
    _mapping,
    _names,
    _optional_path,
)
from nbsched.notebooks.paths import resolve_within

__all__ = ["Notebook"]


@attrs.frozen
class Notebook(NotebookTaskBase):
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
    @property
    def default_executor(self) -> str:
        """``"notebook"``: the executor with warm kernels."""
        return "notebook"

    def summary(self) -> TaskSummary:
        """``("notebook", path)``, its parameters and the secret ones it lists."""
        return TaskSummary(
            kind=self.task_type,
            target=self.path,
            parameters=dict(self.parameters),
            secret_parameters=self.secret_parameters,
        )

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
        return self.run_into(_default_folder())

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

    def _run_options(self, context: RunContext) -> dict[str, Any]:
        """The parameters the job's ``secret:`` tags mark are kept out of the outputs too."""
        from nbsched.masking import SECRET_TAG

        tagged = {tag[len(SECRET_TAG) :] for tag in context.job.tags if tag.startswith(SECRET_TAG)}
        return {"secret_parameters": sorted(tagged & set(self.parameters))}

    def run_into(
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
        """Run into ``folder``, blocking (see :func:`~nbsched.notebooks.execute.run_notebook`;
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
