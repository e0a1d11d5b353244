"""The limits of a REST request body, checked once before any field is read.

A body is refused as a whole (413) when it is larger than :data:`MAX_BODY_BYTES`, and with a 400 naming the
field (``task.parameters.region``) when a value could not be stored or run:

- nested deeper than :data:`MAX_JSON_DEPTH` (Python's ``json`` would fail far deeper, with a ``RecursionError``);
- ``NaN``, ``Infinity`` and ``-Infinity`` (which JSON does not have) and numbers too large for a float;
- integers outside 64 bits (what the databases hold);
- strings with a NUL character (PostgreSQL's text cannot hold it) or a lone surrogate such as ``"\\ud800"``
  (it has no UTF-8 form, so SQLite cannot store it nor a notebook hold it), object keys included;
- strings longer than their field's limit in :data:`MAX_LENGTHS` (a file path, a time zone, a schedule).
"""

from __future__ import annotations

import json
import math
from typing import Any

from nbsched.exceptions import InvalidArgumentError
from nbsched.limits import text_problem
from nbsched.server.errors import ApiError

__all__ = ["MAX_BODY_BYTES", "MAX_JSON_DEPTH", "MAX_LENGTHS", "check_text", "parse_body"]

#: the largest request body, in bytes (1 MiB); larger ones are refused with a 413
MAX_BODY_BYTES = 1024 * 1024
#: the deepest nesting of arrays and objects in a request body
MAX_JSON_DEPTH = 32
#: the longest string, in characters, a field takes (fields not listed: any length within the body's size)
MAX_LENGTHS: dict[str, int] = {
    "path": 4096,
    "task.path": 4096,
    "task.cwd": 4096,
    "task.kernel_name": 255,
    "task.ref": 1024,
    "timezone": 64,
    "trigger.cron": 256,
    "trigger.every": 256,
    "trigger.at": 256,
    "trigger.start_date": 256,
    "trigger.end_date": 256,
}
_INT64 = range(-(2**63), 2**63)


class _Constant:
    """``NaN``, ``Infinity`` or ``-Infinity`` as read from the body, to be refused naming its field."""

    def __init__(self, text: str) -> None:
        self.text = text

    def __repr__(self) -> str:
        return self.text


def parse_body(raw: bytes, owner: str) -> dict[str, Any]:
    """The JSON object of a request body, within the limits of this module.

    :param owner: the request shape, for messages (``JobCreate``)
    :raises ApiError: 413 for a body over :data:`MAX_BODY_BYTES`
    :raises InvalidArgumentError: for a body that is not a JSON object or breaks a limit, naming the field
    """
    if len(raw) > MAX_BODY_BYTES:
        raise ApiError(
            413, f"{owner}: the request body is larger than the limit of {MAX_BODY_BYTES} bytes", "PayloadTooLarge"
        )
    try:
        body = json.loads(raw or b"null", parse_constant=_Constant)
    except RecursionError:
        raise InvalidArgumentError(
            owner, "body", _shorten(raw), f"is nested too deeply (at most {MAX_JSON_DEPTH} levels)"
        ) from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidArgumentError(owner, "body", _shorten(raw), f"is not valid JSON ({exc})") from None
    if not isinstance(body, dict):
        raise InvalidArgumentError(owner, "body", body, "must be a JSON object")
    _check(owner, body)
    return body


def check_text(owner: str, field: str, value: str) -> None:
    """Refuse a string with a NUL character or a lone surrogate, or longer than ``field``'s limit."""
    limit = MAX_LENGTHS.get(field)
    if limit is not None and len(value) > limit:
        raise InvalidArgumentError(owner, field, value, f"is longer than {limit} characters")
    problem = text_problem(value)
    if problem is not None:
        raise InvalidArgumentError(owner, field, value, problem)


def _check(owner: str, body: dict[str, Any]) -> None:
    # Iterative, so that checking cannot itself run out of stack.
    pending: list[tuple[str, Any, int]] = [("", body, 0)]
    while pending:
        path, value, depth = pending.pop()
        field = path or "body"
        if isinstance(value, dict | list):
            if depth >= MAX_JSON_DEPTH:
                raise InvalidArgumentError(
                    owner, field, "...", f"is nested too deeply (at most {MAX_JSON_DEPTH} levels)"
                )
            if isinstance(value, list):
                pending.extend((f"{field}[{index}]", item, depth + 1) for index, item in enumerate(value))
                continue
            for key, item in value.items():
                key_field = f"{path}.{key}" if path else key
                check_text(owner, f"{field} key" if path else "field", key)
                pending.append((key_field, item, depth + 1))
        elif isinstance(value, str):
            check_text(owner, field, value)
        elif isinstance(value, _Constant):
            raise InvalidArgumentError(owner, field, value, "is not a number JSON has (NaN and Infinity are refused)")
        elif isinstance(value, float) and not math.isfinite(value):
            raise InvalidArgumentError(owner, field, value, "is too large for a number")
        elif isinstance(value, int) and not isinstance(value, bool) and value not in _INT64:
            raise InvalidArgumentError(owner, field, value, "is outside the 64-bit integer range")


def _shorten(raw: bytes) -> str:
    text = raw[:200].decode("utf-8", "replace")
    return text + "..." if len(raw) > 200 else text
