"""What a notebook's ``parameters`` cell declares: names and default values, for the JupyterLab schedule form.

The cell is parsed, never run: a default is reported as a value only when it is a Python literal
(``ast.literal_eval``); anything else (``date.today()``, a name) is reported as its source text with
``literal: false``.
"""

from __future__ import annotations

import ast
import json
import math
from pathlib import Path
from typing import Any

from nbsched.exceptions import InvalidArgumentError
from nbsched.server.shapes import NotebookParametersOut, ParameterOut

__all__ = ["NotebookParametersOut", "ParameterOut", "read_parameters"]

_NO_VALUE = object()


def read_parameters(file: Path, path: str) -> NotebookParametersOut:
    """The parameters declared by the notebook at ``file`` (shown as ``path``).

    :raises InvalidArgumentError: when the file is not a notebook
    """
    from nbsched.notebooks.parameters import PARAMETERS_TAG, tagged_cell_index

    owner = "NotebookParameters"
    try:
        nb = json.loads(file.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InvalidArgumentError(owner, "path", path, f"is not a readable notebook ({exc})") from None
    if not isinstance(nb, dict) or not isinstance(nb.get("cells", []), list):
        raise InvalidArgumentError(owner, "path", path, "is not a notebook (no list of cells)")
    kernelspec = nb.get("metadata", {}).get("kernelspec", {}) if isinstance(nb.get("metadata"), dict) else {}
    kernel_name = kernelspec.get("name") if isinstance(kernelspec, dict) else None
    index = tagged_cell_index(nb, PARAMETERS_TAG)
    out: NotebookParametersOut = {
        "path": path,
        "has_parameters_cell": index >= 0,
        "parameters": [],
        "kernel_name": kernel_name if isinstance(kernel_name, str) else None,
    }
    if index >= 0:
        source = nb["cells"][index].get("source", "")
        out["parameters"] = parameters_of("".join(source) if isinstance(source, list) else str(source))
    return out


def parameters_of(source: str) -> list[ParameterOut]:
    """The top-level assignments of a ``parameters`` cell's source, in order (the last one of a name wins)."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return []  # magics or broken code: the form shows no fields rather than guessed ones
    found: dict[str, ParameterOut] = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            found[node.targets[0].id] = _parameter(node.targets[0].id, node.value, None, source)
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.value is not None:
            annotation = ast.get_source_segment(source, node.annotation)
            found[node.target.id] = _parameter(node.target.id, node.value, annotation, source)
    return list(found.values())


def _parameter(name: str, value: ast.expr, annotation: str | None, source: str) -> ParameterOut:
    expression = ast.get_source_segment(source, value) or ""
    try:
        default: Any = ast.literal_eval(value)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        default = _NO_VALUE
    type_name = type(default).__name__ if default is not _NO_VALUE else None
    json_value = _json(default) if default is not _NO_VALUE else _NO_VALUE
    literal = json_value is not _NO_VALUE
    return {
        "name": name,
        "default": json_value if literal else None,
        "expression": expression,
        "literal": literal,
        "type": type_name if literal else None,
        "annotation": annotation,
    }


def _json(value: Any) -> Any:
    """``value`` as JSON data, or ``_NO_VALUE`` when JSON cannot hold it (bytes, sets, complex, nan)."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else _NO_VALUE
    if isinstance(value, list | tuple):
        items = [_json(item) for item in value]
        return _NO_VALUE if any(item is _NO_VALUE for item in items) else items
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            converted = _json(item)
            if not isinstance(key, str) or converted is _NO_VALUE:
                return _NO_VALUE
            out[key] = converted
        return out
    return _NO_VALUE
