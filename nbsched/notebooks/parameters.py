"""papermill-compatible notebook parameters.

A notebook declares its parameters in the cell tagged ``parameters``; a run's values go in a new cell tagged
``injected-parameters`` placed right after it (or replacing an injected cell left by an earlier run), rendered as
typed Python literals: ``str``, ``int``, ``float`` (``nan`` and infinities too), ``bool``, ``None``, lists,
tuples, dicts and dates/times. A value for a name the parameters cell does not assign is refused, naming the
known ones: a typo must not silently run the report with its default.
"""

from __future__ import annotations

import ast
import json
import math
import re
from collections.abc import Mapping
from datetime import date, datetime, time, timedelta
from keyword import iskeyword
from typing import Any

from nbsched.exceptions import JobArgumentError, ParameterTypeError
from nbsched.jsonstate import zone_key

__all__ = [
    "INJECTED_TAG",
    "PARAMETERS_TAG",
    "check_parameters",
    "inject_parameters",
    "parameter_names",
    "render_parameters",
    "render_value",
]

PARAMETERS_TAG = "parameters"
INJECTED_TAG = "injected-parameters"
#: first line of the injected cell (papermill writes the same comment)
COMMENT = "# Parameters"

# One assignment per line (the fallback for cells that do not parse as Python, e.g. with magics).
_ASSIGNMENT = re.compile(r"^(?P<name>[A-Za-z_]\w*)\s*(?::[^=]*)?=(?!=)")


def _tags(cell: Mapping[str, Any]) -> list[str]:
    tags = cell.get("metadata", {}).get("tags", [])
    return list(tags) if isinstance(tags, list) else []


def tagged_cell_index(nb: Mapping[str, Any], tag: str) -> int:
    """Index of the first cell carrying ``tag`` (``-1`` when none does)."""
    for index, cell in enumerate(nb.get("cells", [])):
        if tag in _tags(cell):
            return index
    return -1


def _source(cell: Mapping[str, Any]) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else str(source)


def parameter_names(nb: Mapping[str, Any]) -> list[str] | None:
    """Names assigned at the top level of the ``parameters`` cell, in order (``None``: there is no such cell)."""
    index = tagged_cell_index(nb, PARAMETERS_TAG)
    if index < 0:
        return None
    source = _source(nb["cells"][index])
    names: list[str] = []
    try:
        tree = ast.parse(source)
    except SyntaxError:
        for line in source.splitlines():
            match = _ASSIGNMENT.match(line)
            if match and match["name"] not in names:
                names.append(match["name"])
        return names
    for node in tree.body:
        targets: list[ast.expr] = []
        if isinstance(node, ast.Assign):
            targets = list(node.targets)
        elif isinstance(node, ast.AnnAssign):
            targets = [node.target]
        while targets:
            target = targets.pop(0)
            if isinstance(target, ast.Name) and target.id not in names:
                names.append(target.id)
            elif isinstance(target, ast.Tuple | ast.List):
                targets[:0] = list(target.elts)
    return names


def check_parameters(nb: Mapping[str, Any], parameters: Mapping[str, Any], where: str, owner: str = "Notebook") -> None:
    """Refuse a parameter the notebook does not declare.

    :param where: the notebook's name, for the message
    :raises JobArgumentError: ``Notebook: parameter 'regoin' is not assigned in the parameters cell of
        report.ipynb (known: limit, region)``
    """
    for name in parameters:
        if not isinstance(name, str) or not name.isidentifier() or iskeyword(name):
            raise JobArgumentError(owner, "parameter", name, "is not a valid Python name")
    if not parameters:
        return
    known = parameter_names(nb)
    if known is None:
        name = next(iter(parameters))
        raise JobArgumentError(
            owner, "parameter", name, f"cannot be set: {where} has no cell tagged '{PARAMETERS_TAG}'"
        )
    for name in parameters:
        if name not in known:
            listing = ", ".join(sorted(known)) or "none"
            raise JobArgumentError(
                owner, "parameter", name, f"is not assigned in the parameters cell of {where} (known: {listing})"
            )


def render_value(value: Any) -> str:
    """A Python literal for ``value``.

    :raises TypeError: for a type outside str, int, float, bool, None, list, tuple, dict and dates/times
    """
    if value is None or isinstance(value, bool):
        return repr(value)
    if isinstance(value, str):
        # JSON string escapes are valid Python ones, and give papermill's double-quoted look.
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, int):
        return repr(int(value))
    if isinstance(value, float):
        if math.isfinite(value):
            return repr(value)
        return "float('nan')" if math.isnan(value) else ("float('-inf')" if value < 0 else "float('inf')")
    if isinstance(value, list):
        return "[" + ", ".join(render_value(item) for item in value) + "]"
    if isinstance(value, tuple):
        items = [render_value(item) for item in value]
        return "(" + items[0] + ",)" if len(items) == 1 else "(" + ", ".join(items) + ")"
    if isinstance(value, Mapping):
        for key in value:
            if not isinstance(key, str | int | float | bool) and key is not None:
                raise ParameterTypeError(key, f"dict key {key!r} is a {type(key).__name__}")
        return "{" + ", ".join(f"{render_value(k)}: {render_value(v)}" for k, v in value.items()) + "}"
    # Dates are built with an inline import so that the injected cell never rebinds a name of the notebook.
    if isinstance(value, datetime):
        text = f'__import__("datetime").datetime.fromisoformat("{value.isoformat()}")'
        zone = zone_key(value.tzinfo)
        if zone is not None:
            # In its named zone, as it was given (an offset alone is wrong on the far side of a DST change).
            text += f'.astimezone(__import__("zoneinfo").ZoneInfo("{zone}"))'
        return text
    if isinstance(value, date):
        return f'__import__("datetime").date({value.year}, {value.month}, {value.day})'
    if isinstance(value, time):
        return f'__import__("datetime").time.fromisoformat("{value.isoformat()}")'
    if isinstance(value, timedelta):
        return f'__import__("datetime").timedelta(seconds={value.total_seconds()!r})'
    raise ParameterTypeError(value, f"{type(value).__name__} values cannot be passed as notebook parameters")


def render_parameters(parameters: Mapping[str, Any]) -> str:
    """The source of the injected cell: papermill's comment line, then one assignment per parameter."""
    lines = [COMMENT]
    lines.extend(f"{name} = {render_value(value)}" for name, value in parameters.items())
    return "\n".join(lines) + "\n"


def json_parameters(parameters: Mapping[str, Any]) -> dict[str, Any]:
    """The parameters as plain JSON for ``metadata.papermill.parameters`` (dates as ISO text, tuples as lists)."""

    def plain(value: Any) -> Any:
        if isinstance(value, date | time):
            return value.isoformat()
        if isinstance(value, timedelta):
            return value.total_seconds()
        if isinstance(value, float) and not math.isfinite(value):
            return repr(value)
        if isinstance(value, list | tuple):
            return [plain(item) for item in value]
        if isinstance(value, Mapping):
            return {str(key): plain(item) for key, item in value.items()}
        return value

    return {name: plain(value) for name, value in parameters.items()}


def inject_parameters(nb: Any, parameters: Mapping[str, Any], new_cell: Any) -> int:
    """Put an ``injected-parameters`` cell holding ``parameters`` into ``nb`` (in place), papermill's way.

    It replaces a cell injected by an earlier run, else goes right after the ``parameters`` cell, else first.

    :param new_cell: ``nbformat.v4.new_code_cell``
    :return: the index of the injected cell
    """
    cell = new_cell(source=render_parameters(parameters))
    cell.metadata["tags"] = [INJECTED_TAG]
    injected = tagged_cell_index(nb, INJECTED_TAG)
    if injected >= 0:
        nb.cells[injected] = cell
        return injected
    index = tagged_cell_index(nb, PARAMETERS_TAG) + 1  # 0 when there is no parameters cell
    nb.cells.insert(index, cell)
    return index
