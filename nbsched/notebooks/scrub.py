"""A run's secret parameter values kept out of what it writes, while its kernel gets them.

The notebook in memory is what runs: its ``injected-parameters`` cell holds the real values, and its outputs
hold whatever the kernel printed. Everything written from it goes through a :class:`RunScrubber` first: the
output notebook and its HTML are written from a scrubbed copy (the injected cell re-rendered with ``"***"``,
``metadata.papermill.parameters`` masked by name, every other string with the values replaced, see
:class:`~nbsched.masking.Masker`), the stream files get scrubbed text, the run's error its scrubbed message and
traceback, nbclient's log lines (which quote the messages exchanged with the kernel) scrubbed text, and the
kernel's own log is scrubbed once the run ends. A run without secret parameters costs nothing more: every
method hands back what it was given.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from nbsched.masking import Masker, format_exception, mask_parameters, secret_parameter_names
from nbsched.notebooks.parameters import INJECTED_TAG, json_parameters, render_parameters

__all__ = ["RunScrubber"]


class RunScrubber:
    """Scrubs the secret values among a run's ``parameters`` from what the run writes.

    :param parameters: the run's parameters (name -> value)
    :param secret_parameters: names declared secret (those secret by their name are too)
    """

    def __init__(self, parameters: Mapping[str, Any], secret_parameters: Iterable[str] = ()) -> None:
        self.parameters = dict(parameters)
        #: the secret ones among ``parameters``
        self.names = secret_parameter_names(self.parameters, secret_parameters) & set(self.parameters)
        #: replaces their values in free text
        self.masker = Masker(self.parameters[name] for name in self.names)
        masked = mask_parameters(self.parameters, self.names)
        self._injected_source = render_parameters(masked)
        self._metadata = json_parameters(masked)

    def __bool__(self) -> bool:
        return bool(self.names)

    def parameters_metadata(self) -> dict[str, Any]:
        """``metadata.papermill.parameters``: the parameters as JSON, secret ones as ``"***"``."""
        return self._metadata if self else json_parameters(self.parameters)

    def notebook(self, nb: Any) -> Any:
        """``nb`` as it may be written: itself without secrets, else a scrubbed copy (``nb`` is unchanged).

        What a cell holds is scrubbed (source, outputs' text and data, errors), and the widget state nbclient
        keeps; structure (ids, types, stream names, the rest of the metadata) is left as it is, so a secret that
        happens to be part of a cell id cannot break the notebook.
        """
        if not self:
            return nb
        import nbformat

        copy = dict(nb)
        copy["cells"] = [self._cell(cell) for cell in nb.cells]
        widgets = nb.metadata.get("widgets")
        if widgets:
            copy["metadata"] = {**nb.metadata, "widgets": self.masker.data(widgets)}
        return nbformat.from_dict(copy)

    def cell(self, cell: Any) -> Any:
        """``cell`` as it may be written (its stream outputs go to the stream files)."""
        return self._cell(cell) if self else cell

    def _cell(self, cell: Mapping[str, Any]) -> dict[str, Any]:
        text = self.masker.text
        copy = dict(cell)
        if INJECTED_TAG in cell.get("metadata", {}).get("tags", []):
            copy["source"] = self._injected_source
        elif isinstance(cell.get("source"), str):
            copy["source"] = text(cell["source"])
        if "outputs" in cell:
            copy["outputs"] = [self._output(output) for output in cell["outputs"]]
        return copy

    def _output(self, output: Mapping[str, Any]) -> dict[str, Any]:
        copy = dict(output)
        for key in ("text", "ename", "evalue", "traceback", "data"):
            if key in output:
                copy[key] = self.masker.data(output[key])
        return copy

    def text(self, text: str) -> str:
        """``text`` scrubbed."""
        return (self.masker.text(text) or "") if self else text

    def file(self, path: Path) -> None:
        """Scrub a file the run wrote (the kernel's log) in place; one that is gone is left so."""
        if not self.masker:
            return
        try:
            with path.open("rb+") as handle:
                data = handle.read()
                text = data.decode("utf-8", "surrogateescape")
                scrubbed = self.masker.text(text) or ""
                if scrubbed != text:
                    handle.seek(0)
                    handle.write(scrubbed.encode("utf-8", "surrogateescape"))
                    handle.truncate()
        except FileNotFoundError:
            return
        os.chmod(path, 0o600)

    def logger(self, logger: Any) -> Any:
        """``logger``, or one that scrubs what is logged through it (given to nbclient, whose debug lines quote
        the cells' code and outputs)."""
        return _ScrubbingAdapter(logger, self.masker) if self.masker else logger


class _ScrubbingAdapter(logging.LoggerAdapter[logging.Logger]):
    def __init__(self, logger: logging.Logger, masker: Masker) -> None:
        super().__init__(logger, {})
        self._masker = masker

    def log(self, level: int, msg: object, *args: object, **kwargs: Any) -> None:
        if not self.isEnabledFor(level):
            return
        text = str(msg) % args if args else str(msg)
        # A traceback would go out unscrubbed: it becomes part of the message instead.
        exc_info = kwargs.pop("exc_info", None)
        if exc_info is True:
            exc_info = sys.exc_info()
        error = exc_info[1] if isinstance(exc_info, tuple) else exc_info
        if isinstance(error, BaseException):
            text = format_exception(error, self._masker, text)
        kwargs.setdefault("stacklevel", 2)
        self.logger.log(level, "%s", self._masker.text(text), **kwargs)
