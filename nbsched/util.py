"""APScheduler 3's ``util`` names that programs import (``undefined``, ``obj_to_ref``, ``ref_to_obj``...).

Kept only so that ``from apscheduler.util import ...`` keeps working after the import is renamed; new code
imports from :mod:`nbsched.refs` and :mod:`nbsched.datetimes`.
"""

from __future__ import annotations

from typing import Any

from nbsched.datetimes import as_timezone, convert_to_datetime, datetime_repr
from nbsched.refs import callable_name as get_callable_name
from nbsched.refs import maybe_ref, obj_to_ref, ref_to_obj
from nbsched.schedulers._config import parse_bool
from nbsched.schedulers.base import undefined

__all__ = [
    "asbool",
    "asint",
    "astimezone",
    "convert_to_datetime",
    "datetime_repr",
    "get_callable_name",
    "maybe_ref",
    "obj_to_ref",
    "ref_to_obj",
    "undefined",
]


def asint(text: Any) -> int | None:
    """``int(text)``, ``None`` staying ``None``."""
    return int(text) if text is not None else None


def asbool(obj: Any) -> bool:
    """Booleans and their text forms (``"true"``, ``"off"``)."""
    return parse_bool("asbool", "obj", obj)


astimezone = as_timezone
