"""Which parameters of a job are secret, and how the CLI keeps their values out of everything it prints.

A parameter (a notebook parameter or a function job's keyword argument) is secret when

- the task lists it in ``secret_parameters`` (a field proposed for :class:`~nbsched.notebooks.Notebook`; read
  with ``getattr`` so the CLI works before and after it exists),
- the job carries the tag ``secret:<name>`` (what ``nbsched add --secret-param NAME`` records meanwhile), or
- its name says so (``password``, ``token``, ``api_key``, ``secret``, ``credential``, ... see :data:`SECRET_NAME`).

Secret values are shown as ``***`` wherever a parameter is shown (``list``, ``add``, ``export``), and their text
is replaced by ``***`` in free text the CLI prints (error messages, tracebacks, captured output in ``logs``).
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from nbsched.job import Job, is_task

__all__ = [
    "MASK",
    "SECRET_NAME",
    "SECRET_TAG",
    "Masker",
    "MaskingFormatter",
    "log_masker",
    "mask_parameters",
    "secret_names",
    "set_log_masker",
]

#: what a secret value is shown as
MASK = "***"
#: tag prefix that marks a parameter secret (``secret:password``)
SECRET_TAG = "secret:"
#: parameter names that are secret by convention
SECRET_NAME = re.compile(
    r"passw(or)?d|passphrase|secret|token|api[_-]?key|access[_-]?key|private[_-]?key|credential|pwd",
    re.IGNORECASE,
)
#: free text is scrubbed of secret values at least this long (shorter ones would garble unrelated text)
MIN_SCRUB_LENGTH = 3


def job_parameters(job: Job) -> dict[str, Any]:
    """A job's named inputs: a notebook's ``parameters`` or a function's keyword arguments."""
    task = job.func
    if is_task(task):
        params = getattr(task, "parameters", None)
        return dict(params) if isinstance(params, Mapping) else {}
    return dict(job.kwargs)


def secret_names(job: Job | None, names: Iterable[str] = (), tags: Iterable[str] = ()) -> set[str]:
    """The names of ``job``'s secret parameters (plus those among ``names``/``tags`` given explicitly)."""
    found: set[str] = set()
    all_names = set(names)
    all_tags = set(tags)
    if job is not None:
        found.update(getattr(job.func, "secret_parameters", None) or ())
        all_names.update(job_parameters(job))
        all_tags.update(job.tags)
    found.update(tag[len(SECRET_TAG) :] for tag in all_tags if tag.startswith(SECRET_TAG))
    found.update(name for name in all_names if SECRET_NAME.search(name))
    return found


def mask_parameters(params: Mapping[str, Any], secrets: Iterable[str]) -> dict[str, Any]:
    """``params`` with the values of the secret ones replaced by :data:`MASK`."""
    hidden = set(secrets)
    return {name: MASK if name in hidden else value for name, value in params.items()}


class Masker:
    """Replaces secret values in text.

    :param values: the secret values (strings are replaced as they are, other values as their JSON and ``str``)
    """

    def __init__(self, values: Iterable[Any] = ()) -> None:
        texts: set[str] = set()
        for value in values:
            if value is None or isinstance(value, bool):
                continue
            if isinstance(value, str):
                texts.add(value)
            else:
                texts.update({str(value), json.dumps(value, default=str)})
        # Longest first, so a secret that contains another is replaced whole.
        self._texts = sorted((t for t in texts if len(t) >= MIN_SCRUB_LENGTH), key=len, reverse=True)

    @classmethod
    def for_jobs(cls, jobs: Iterable[Job]) -> Masker:
        """A masker for the secret parameter values of these jobs."""
        values: list[Any] = []
        for job in jobs:
            params = job_parameters(job)
            values.extend(params[name] for name in secret_names(job) if name in params)
        return cls(values)

    def __bool__(self) -> bool:
        return bool(self._texts)

    def text(self, value: str | None) -> str | None:
        """``value`` with every secret replaced by :data:`MASK`."""
        if not value or not self._texts:
            return value
        for secret in self._texts:
            value = value.replace(secret, MASK)
        return value

    def data(self, value: Any) -> Any:
        """Every string inside ``value`` (dicts, lists) scrubbed by :meth:`text`."""
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, Mapping):
            return {key: self.data(item) for key, item in value.items()}
        if isinstance(value, list | tuple):
            return [self.data(item) for item in value]
        return value


class MaskingFormatter(logging.Formatter):
    """Formats log records with every secret value replaced by :data:`MASK`.

    :param masker: called for each record: the current :class:`Masker` (secrets change as jobs are added)
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
