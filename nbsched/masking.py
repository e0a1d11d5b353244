"""Which parameters of a job are secret, and how their values are kept out of everything nbsched shows.

A parameter (a notebook's parameter or a function job's keyword argument) is secret when

- the task lists it in ``secret_parameters`` (``Notebook("report.ipynb", parameters={...},
  secret_parameters=["api_token"])``),
- the job carries the tag ``secret:<name>`` (a function job's keyword arguments have no task spec to list them
  in: ``nbsched add module:func -p key=... --secret-param key`` records the tag), or
- its name says so (``password``, ``token``, ``api_key``, ``secret``, ``credential``, ... see
  :data:`SECRET_WORDS`).

This module is the one place that decides it; every front end (the CLI, the REST API and so the JupyterLab
panel, the magics through the default job names) asks it. Secret values are shown as :data:`MASK` wherever a
parameter is shown, and a :class:`Masker` replaces their text by :data:`MASK` in free text (job names written
before names were masked, error messages, tracebacks, captured output, log lines). The values themselves are
stored and passed to the job as they are: masking is about what is shown, not about how it is kept.

What a job leaves behind is masked as it is written (the job itself still gets the real values): a notebook
run's output notebook (the injected parameters, ``metadata.papermill.parameters``, every output), its HTML, its
captured stdout, stderr and kernel log (:mod:`nbsched.notebooks.scrub`); run records' error messages and
tracebacks; the executors' log lines about failed runs; and what jobs print in ``nbsched serve``
(:class:`MaskedStream`).
"""

from __future__ import annotations

import html
import io
import itertools
import json
import re
import threading
import traceback
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any, TextIO

if TYPE_CHECKING:
    from nbsched.job import Job

__all__ = [
    "MASK",
    "MIN_SCRUB_LENGTH",
    "SECRET_PAIRS",
    "SECRET_TAG",
    "SECRET_WORDS",
    "MaskedStream",
    "Masker",
    "format_exception",
    "is_secret_name",
    "job_parameters",
    "mask_parameters",
    "secret_names",
    "secret_parameter_names",
]

#: what a secret value is shown as
MASK = "***"
#: tag prefix that marks a parameter secret (``secret:password``)
SECRET_TAG = "secret:"
#: words that make a parameter name secret by convention, at the end of one of its words (``db_password``,
#: ``authToken``, ``adminpassword``); words split at ``_``, ``-``, digits and camelCase humps
SECRET_WORDS = ("password", "passwd", "pwd", "passphrase", "secret", "token", "credential", "credentials", "apikey")
#: two words in a row that make a name secret (``api_key``, ``accessKey``)
SECRET_PAIRS = frozenset({("api", "key"), ("access", "key"), ("private", "key"), ("secret", "key")})
_WORD = re.compile(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])")
#: free text is scrubbed of secret values at least this long (shorter ones would garble unrelated text)
MIN_SCRUB_LENGTH = 3


def is_secret_name(name: str) -> bool:
    """Whether a parameter called ``name`` is secret by its name alone (``api_token``, ``db_password``,
    ``apiKey``), judged word by word: ``max_tokens`` and ``tokenizer`` are not."""
    words = [word.lower() for word in _WORD.findall(name)]
    if any(word.endswith(SECRET_WORDS) for word in words):
        return True
    return any(pair in SECRET_PAIRS for pair in itertools.pairwise(words))


def secret_parameter_names(names: Iterable[str], declared: Iterable[str] = ()) -> set[str]:
    """The secret ones among parameter ``names``: those ``declared`` secret and those secret by name.

    :param names: the parameters' names
    :param declared: names listed as secret (a task's ``secret_parameters``); kept even when not in ``names``
    """
    return set(declared) | {name for name in names if is_secret_name(name)}


def job_parameters(job: Job) -> dict[str, Any]:
    """A job's named inputs: a task's parameters (a notebook's; see :meth:`nbsched.abc.Task.summary`) or a
    function's keyword arguments."""
    from nbsched.abc import Task

    task = job.func
    if isinstance(task, Task):
        return dict(task.summary().parameters)
    return dict(job.kwargs)


def _declared_secrets(job: Job) -> tuple[str, ...]:
    """The parameter names ``job``'s task declares secret (a notebook's ``secret_parameters``; none for a
    function)."""
    from nbsched.abc import Task

    task = job.func
    return task.summary().secret_parameters if isinstance(task, Task) else ()


def secret_names(job: Job | None, names: Iterable[str] = (), tags: Iterable[str] = ()) -> set[str]:
    """The names of ``job``'s secret parameters, plus the secret ones among ``names`` and ``tags``.

    :param job: the job (``None``: only ``names`` and ``tags`` count, e.g. for a job not created yet)
    :param names: more parameter names (secret when their name says so)
    :param tags: more tags (``secret:<name>`` marks ``name``)
    """
    all_names = set(names)
    all_tags = set(tags)
    declared: set[str] = set()
    if job is not None:
        # Any task kind may declare secrets in its summary; a function job's come from its tags and names.
        declared.update(_declared_secrets(job))
        all_names.update(job_parameters(job))
        all_tags.update(job.tags)
    declared.update(tag[len(SECRET_TAG) :] for tag in all_tags if tag.startswith(SECRET_TAG))
    return secret_parameter_names(all_names, declared)


def mask_parameters(params: Mapping[str, Any], secrets: Iterable[str]) -> dict[str, Any]:
    """``params`` with the values of the secret ones replaced by :data:`MASK`."""
    hidden = set(secrets)
    return {name: MASK if name in hidden else value for name, value in params.items()}


def _forms(value: str) -> set[str]:
    """``value`` as it is and as it reads escaped in a ``repr``, in JSON and in HTML (a secret in a printed dict,
    a JSON document, a rendered table)."""
    return {value, repr(value)[1:-1], json.dumps(value)[1:-1], json.dumps(value, ensure_ascii=False)[1:-1]} | {
        html.escape(value),
        html.escape(value, quote=False),
    }


class Masker:
    """Replaces secret values in text.

    :param values: the secret values (strings are replaced as they are and in their ``repr``, JSON and HTML
        escaped forms, other values as their JSON and ``str``)
    """

    def __init__(self, values: Iterable[Any] = ()) -> None:
        texts: set[str] = set()
        for value in values:
            if value is None or isinstance(value, bool):
                continue
            if isinstance(value, str):
                texts.update(_forms(value))
            else:
                texts.update({str(value), json.dumps(value, default=str)})
        self._set(texts)

    def _set(self, texts: Iterable[str]) -> None:
        # Longest first, so a secret that contains another is replaced whole.
        self._texts = sorted({t for t in texts if len(t) >= MIN_SCRUB_LENGTH}, key=len, reverse=True)

    def union(self, other: Masker) -> Masker:
        """A masker for the secrets of both."""
        if not other._texts or set(other._texts) <= set(self._texts):
            return self
        merged = Masker()
        merged._set([*self._texts, *other._texts])
        return merged

    def pending(self, text: str) -> int:
        """The length of the longest end of ``text`` that begins a secret (it may go on in the next piece of a
        stream): what a stream holds back until it knows."""
        longest = 0
        for secret in self._texts:
            first = secret[0]
            start = max(len(text) - len(secret) + 1, 0)
            at = text.find(first, start)
            while at >= 0 and len(text) - at > longest:
                if secret.startswith(text[at:]):
                    longest = len(text) - at
                    break
                at = text.find(first, at + 1)
        return longest

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


def format_exception(exc: BaseException, masker: Masker, message: str = "") -> str:
    """``message`` and ``exc``'s traceback (with its chained exceptions), as logging formats them, scrubbed."""
    text = "".join(traceback.format_exception(exc)).rstrip("\n")
    return masker.text(f"{message}\n{text}" if message else text) or ""


class MaskedStream(io.TextIOBase):
    """A text stream that writes to ``target`` with every secret replaced by :data:`MASK` (``nbsched serve``
    puts it in place of ``sys.stdout`` and ``sys.stderr``, so that what jobs print is masked).

    What is written goes out at once, except an end that may be the start of a secret: that waits for the next
    write (or :meth:`drain`), so a secret written in pieces is still masked whole. Safe to use from several
    threads.

    :param target: the real stream
    :param masker: called at each write: the current :class:`Masker`
    """

    def __init__(self, target: TextIO, masker: Callable[[], Masker]) -> None:
        super().__init__()
        self._target = target
        self._masker = masker
        self._held = ""
        self._lock = threading.Lock()

    @property
    def encoding(self) -> str:  # type: ignore[override]  # read-only here, as on the stream it stands for
        return getattr(self._target, "encoding", None) or "utf-8"

    def writable(self) -> bool:
        return True

    def fileno(self) -> int:
        return self._target.fileno()

    def isatty(self) -> bool:
        return self._target.isatty()

    def write(self, text: str) -> int:
        masker = self._masker()
        with self._lock:
            if not masker and not self._held:
                self._target.write(text)
                return len(text)
            pending = (masker.text(self._held + text) or "") if masker else self._held + text
            keep = masker.pending(pending) if masker else 0
            self._held = pending[len(pending) - keep :] if keep else ""
            out = pending[: len(pending) - keep]
            if out:
                self._target.write(out)
        return len(text)

    def flush(self) -> None:
        with self._lock:
            self._target.flush()

    def drain(self) -> None:
        """Write what was held back (at the end: no more pieces will come) and flush."""
        with self._lock:
            held, self._held = self._held, ""
            if held:
                self._target.write(held)
            self._target.flush()
