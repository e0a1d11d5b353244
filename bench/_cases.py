"""The registry of every benchmark case, in the order its rows appear in the table."""

from __future__ import annotations

from bench import core, idle, lateness, store, triggers
from bench._measure import Case

__all__ = ["CASES", "find"]

CASES: list[Case] = [*core.CASES, *triggers.CASES, *lateness.CASES, *idle.CASES, *store.CASES]


def find(name: str) -> Case:
    """The case called ``name`` (``module:function``).

    :raises KeyError: naming the known cases
    """
    for case in CASES:
        if case.name == name:
            return case
    raise KeyError(f"no benchmark case {name!r} (known: {', '.join(case.name for case in CASES)})")
