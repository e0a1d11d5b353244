"""The limits a job is held to when it is added or changed, whichever door it comes through (Python, the REST
API, the CLI, the magics, ``apply``): a value beyond them would make the job fail later, where nobody sees it,
so it is refused at once with an error naming the field.

- :data:`MAX_ID_LENGTH`: a job id is at most 128 characters, with no control characters and no lone surrogates
  (it is stored, and names the run folder ``runs/<job id>/`` of notebook and cell jobs);
- :data:`MAX_SECONDS`: ``jitter``, ``misfire_grace_time`` and ``retry_backoff`` are finite and at most 100
  years, so that adding them to a time stays within ``datetime``'s range;
- :data:`MAX_RETRIES`: at most 100 retries; the wait before a retry doubles each time but never passes
  :data:`MAX_SECONDS` (:func:`retry_delay`);
- a trigger must fire at least once from now on (a job added with ``next_run_time=None``, paused, may have one
  that does not, as in APScheduler);
- text that is stored (ids, names, tags) holds no NUL character (PostgreSQL refuses it) and no lone surrogate
  (UTF-8 has no form for it).
"""

from __future__ import annotations

import math
import unicodedata
from datetime import datetime
from typing import Any

from nbsched.exceptions import InvalidArgumentError, JobArgumentError

__all__ = [
    "MAX_ID_LENGTH",
    "MAX_RETRIES",
    "MAX_SECONDS",
    "check_fires",
    "check_seconds",
    "id_problem",
    "retry_delay",
    "shorten",
    "text_problem",
]

#: the longest job id, in characters
MAX_ID_LENGTH = 128
#: the longest ``jitter``, ``misfire_grace_time``, ``retry_backoff`` and wait before a retry: 100 years
MAX_SECONDS = 100 * 365.25 * 86400
#: the most retries a job may ask for
MAX_RETRIES = 100


def text_problem(value: str) -> str | None:
    """Why ``value`` cannot be stored as text (a NUL character, a lone surrogate), or ``None``."""
    if "\0" in value:
        return "contains a NUL character"
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return "contains a lone surrogate (a character UTF-8 cannot encode)"
    return None


def id_problem(value: str) -> str | None:
    """Why ``value`` cannot be a job id (too long, control characters, not storable), or ``None``."""
    if len(value) > MAX_ID_LENGTH:
        return f"is longer than {MAX_ID_LENGTH} characters"
    problem = text_problem(value)
    if problem is not None:
        return problem
    if any(unicodedata.category(char) == "Cc" for char in value):
        return "contains a control character"
    return None


def check_seconds(owner: str, field: str, value: Any, error: type[InvalidArgumentError]) -> None:
    """Refuse a number of seconds that is not finite or is larger than :data:`MAX_SECONDS`.

    :param error: the class to raise (``JobArgumentError``, ``TriggerArgumentError``)
    """
    if not math.isfinite(value) or value > MAX_SECONDS:
        raise error(owner, field, value, f"is larger than the limit of {MAX_SECONDS:.0f} seconds (100 years)")


def check_fires(trigger: Any, now: datetime, owner: str) -> None:
    """Refuse a trigger with no fire time from ``now`` on (``0 0 30 2 *``, an ``end_date`` in the past): its job
    would be stored and never run.

    :raises JobArgumentError: naming ``trigger``
    """
    if trigger.get_next_fire_time(None, now) is None:
        raise JobArgumentError(owner, "trigger", trigger, f"will never fire (no fire time after {now})")


def retry_delay(backoff: float, attempt: int) -> float:
    """Seconds to wait before retrying a run that failed at ``attempt`` (1 = the first run): ``backoff``
    doubled for each attempt after the first, at most :data:`MAX_SECONDS`."""
    # The exponent is capped before the power is taken: 2 ** 1024 is too large for a float.
    return min(backoff * 2.0 ** min(max(attempt - 1, 0), 128), MAX_SECONDS)


def shorten(text: str, limit: int) -> str:
    """``text``, cut to ``limit`` characters with an ellipsis when it is longer."""
    return text if len(text) <= limit else text[: limit - 1] + "…"
