"""How the CLI keeps secret parameter values out of the log lines it prints.

Which parameters are secret, and the :class:`~nbsched.masking.Masker` that scrubs their values from text, live in
:mod:`nbsched.masking` (the REST API uses them too). Here: the log formatter that masks every record, and the
masker the brief warning handler of the one-shot commands uses. Secret values are shown as ``***`` wherever a
parameter is shown (``list``, ``add``, ``export``), and their text is replaced by ``***`` in free text the CLI
prints (job names, error messages, tracebacks, captured output in ``logs``, log lines).
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from nbsched.masking import Masker

__all__ = ["MaskingFormatter", "log_masker", "set_log_masker"]


class MaskingFormatter(logging.Formatter):
    """Formats log records with every secret value replaced by :data:`~nbsched.masking.MASK`.

    :param masker: called for each record: the current :class:`~nbsched.masking.Masker` (secrets change as jobs
        are added)
    :param brief: one line per record, ``nbsched: warning: <first line>``, without the traceback (for commands
        other than ``serve``, whose own output already reports what happened)
    """

    def __init__(self, fmt: str | None, masker: Callable[[], Masker], *, brief: bool = False) -> None:
        super().__init__(fmt)
        self._masker = masker
        self._brief = brief

    def format(self, record: logging.LogRecord) -> str:
        if self._brief:
            lines = record.getMessage().strip().splitlines()
            text = f"nbsched: {record.levelname.lower()}: {lines[0] if lines else ''}"
        else:
            text = super().format(record)
        return self._masker().text(text) or ""


_log_masker = Masker()


def set_log_masker(masker: Masker) -> None:
    """The masker :func:`log_masker` returns (the CLI's brief log handler uses it)."""
    global _log_masker
    _log_masker = masker


def log_masker() -> Masker:
    """The masker set by :func:`set_log_masker` (none at first)."""
    return _log_masker
