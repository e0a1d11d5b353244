"""Values typed on the command line (numbers, paths) read with limits, and huge values shortened for messages.

``count`` and ``seconds`` are argparse types: a value out of range is refused while the command line is parsed,
as one line naming the option and the value (exit code 2), never later as an overflow deep in the store (a
database integer holds at most 2**63 - 1) or a wait that never ends (``--timeout nan``). :func:`user_path`
expands ``~`` and names the value when it cannot.
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path

from nbsched.exceptions import InvalidArgumentError

__all__ = ["MAX_COUNT", "count", "seconds", "shorten", "user_path"]

#: the largest whole number an option takes: the largest integer SQLite and PostgreSQL store
MAX_COUNT = 2**63 - 1


def shorten(text: str, limit: int = 100) -> str:
    """``text`` as messages show it: whole when short, else its start and end around ``...``."""
    if len(text) <= limit:
        return text
    head = (limit - 3) * 2 // 3
    return text[:head] + "..." + text[len(text) - (limit - 3 - head) :]


def count(text: str) -> int:
    """A whole number from 0 to :data:`MAX_COUNT` (argparse type).

    :raises argparse.ArgumentTypeError: naming the value (argparse adds the option)
    """
    try:
        value = int(text)
    except ValueError:  # (also for a number of more than 4300 digits, which int() refuses to read)
        raise argparse.ArgumentTypeError(f"{shorten(text)!r} is not a whole number") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"{shorten(text)!r} must not be negative")
    if value > MAX_COUNT:
        raise argparse.ArgumentTypeError(f"{shorten(text)!r} is too large (at most {MAX_COUNT})")
    return value


def seconds(text: str) -> float:
    """A finite, non-negative number of seconds (argparse type).

    :raises argparse.ArgumentTypeError: naming the value (argparse adds the option)
    """
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{shorten(text)!r} is not a number of seconds") from None
    if not math.isfinite(value) or value < 0:
        raise argparse.ArgumentTypeError(f"{shorten(text)!r} must be a finite number of seconds, at least 0")
    return value


def user_path(text: str, owner: str, field: str) -> Path:
    """``text`` as a path, ``~`` and ``~user`` expanded.

    :raises InvalidArgumentError: when it names a user without a home folder
    """
    try:
        return Path(text).expanduser()
    except RuntimeError:
        raise InvalidArgumentError(owner, field, text, "names a home folder that cannot be found") from None
