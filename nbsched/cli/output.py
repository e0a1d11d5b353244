"""How the CLI prints: aligned tables for a terminal, one JSON document for scripts, times in the local zone.

Output stays plain text (no colours, no box drawing); when stdout is a terminal, tables are fitted to its width
by shortening the columns marked shrinkable, and when it is not (a pipe, a file) nothing is cut.
"""

from __future__ import annotations

import json
import shutil
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import IO, Any

from nbsched.datetimes import local_timezone

__all__ = ["Column", "emit_json", "format_duration", "format_relative", "format_time", "table"]

#: shown for a missing value
NONE = "-"


class Column:
    """A table column.

    :param title: the header
    :param shrink: whether the column may be shortened (with ``…``) to fit the terminal
    :param right: align right (numbers)
    """

    def __init__(self, title: str, *, shrink: bool = False, right: bool = False) -> None:
        self.title = title
        self.shrink = shrink
        self.right = right


def _is_tty(out: IO[str]) -> bool:
    isatty = getattr(out, "isatty", None)
    return bool(isatty and isatty())


def table(columns: Sequence[Column], rows: Sequence[Sequence[str]], out: IO[str] | None = None) -> None:
    """Print ``rows`` under ``columns``, aligned; shrinkable columns are cut to fit a terminal's width."""
    out = out or sys.stdout
    cells = [[c.title for c in columns], *[[str(cell) for cell in row] for row in rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(columns))]
    if _is_tty(out):
        available = shutil.get_terminal_size((120, 24)).columns
        excess = sum(widths) + 2 * (len(widths) - 1) - available
        # Take the excess from the widest shrinkable column first, never below its title or 8 characters.
        while excess > 0:
            candidates = [i for i, c in enumerate(columns) if c.shrink and widths[i] > max(8, len(c.title))]
            if not candidates:
                break
            widest = max(candidates, key=lambda i: widths[i])
            widths[widest] -= 1
            excess -= 1
    for row in cells:
        parts = []
        for cell, width, column in zip(row, widths, columns, strict=True):
            text = cell if len(cell) <= width else cell[: max(width - 1, 0)] + "…"
            parts.append(text.rjust(width) if column.right else text.ljust(width))
        print("  ".join(parts).rstrip(), file=out)


def emit_json(document: Any, out: IO[str] | None = None) -> None:
    """Print one JSON document (datetimes as ISO 8601)."""
    print(json.dumps(document, indent=2, default=_json_default, ensure_ascii=False), file=out or sys.stdout)


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, set | frozenset | tuple):
        return sorted(value) if isinstance(value, set | frozenset) else list(value)
    return str(value)


def format_time(value: datetime | None) -> str:
    """``2026-05-04 09:00:00 CEST``: in this machine's time zone, with the zone's abbreviation."""
    if value is None:
        return NONE
    local = value.astimezone(local_timezone())
    return local.strftime("%Y-%m-%d %H:%M:%S %Z").strip()


def format_relative(value: datetime | None, now: datetime | None = None) -> str:
    """``in 3m 20s`` / ``2h 5m ago``."""
    if value is None:
        return ""
    now = now or datetime.now(UTC)
    seconds = (value - now).total_seconds()
    text = format_duration(abs(seconds), coarse=True)
    return f"in {text}" if seconds >= 0 else f"{text} ago"


def format_duration(seconds: float | None, *, coarse: bool = False) -> str:
    """``0.42 s``, ``12.3 s``, ``3m 20s``, ``2h 5m``, ``3d 4h``; ``coarse`` drops fractions of seconds."""
    if seconds is None:
        return NONE
    if seconds < 60:
        if coarse:
            return f"{seconds:.0f}s"
        return f"{seconds:.2f} s" if seconds < 10 else f"{seconds:.1f} s"
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    days, hours = divmod(hours, 24)
    if days:
        return f"{days}d {hours}h"
    if hours:
        return f"{hours}h {minutes}m"
    return f"{minutes}m {secs}s"


def one_line(text: str | None, limit: int = 100) -> str:
    """The first line of ``text``, shortened to ``limit`` characters."""
    if not text:
        return ""
    first = text.strip().splitlines()[0] if text.strip() else ""
    return first if len(first) <= limit else first[: limit - 1] + "…"
