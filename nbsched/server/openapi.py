"""``components/schemas`` of ``openapi.yaml``, generated from the shapes of :mod:`nbsched.server.shapes`, and the
:class:`Schema` marks that carry what a shape's Python types cannot say.

The paths, responses and parameters of ``openapi.yaml`` are written by hand and refer to the schemas by name;
everything from the line ``  schemas:`` under ``components`` to the end of the file is generated. Run
``python -m nbsched.server.openapi`` after changing a shape (``--check`` exits 1, writing nothing, when the file
is out of date; a test does the same).
"""

from __future__ import annotations

import argparse
import inspect
import sys
import types
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import attrs
import yaml

from nbsched.server import openapi_path

__all__ = ["MARKER", "Schema", "fields_of", "json_schemas", "main", "render", "schema"]

#: the comment before the generated part of ``openapi.yaml``
MARKER = (
    "  # Generated from nbsched/server/shapes.py by `python -m nbsched.server.openapi`: change the shapes there,\n"
    "  # not here (a test fails when this part is out of date).\n"
)
_SCHEMAS_LINE = "  schemas:\n"


@attrs.frozen(eq=False)  # hashed by identity: ``Annotated`` in a union hashes its metadata, keywords hold lists
class Schema:
    """JSON Schema keywords for a field or a type, in ``Annotated[type, Schema(...)]``; with ``name`` the type is
    a component of its own in ``openapi.yaml``, referred to by ``$ref``."""

    keywords: Mapping[str, Any]
    name: str | None = None


def schema(name: str | None = None, /, **keywords: Any) -> Schema:
    """A :class:`Schema`: ``schema(description="Seconds", minimum=0)``, ``schema("DateTime", description=...)``."""
    return Schema(keywords, name)


def fields_of(shape: type) -> dict[str, bool]:
    """``{field: required}`` of a shape, in order (``__required_keys__`` misses ``NotRequired`` under PEP 563 on
    Python 3.11, so the hints are read)."""
    hints = typing.get_type_hints(shape, include_extras=True)
    total: bool = getattr(shape, "__total__", True)
    out = {}
    for name, hint in hints.items():
        origin = typing.get_origin(hint)
        out[name] = origin is typing.Required or (total and origin is not typing.NotRequired)
    return out


_SIMPLE: dict[Any, str] = {str: "string", int: "integer", float: "number", bool: "boolean", type(None): "null"}


def json_schemas(components: tuple[Any, ...] | None = None) -> dict[str, dict[str, Any]]:
    """The JSON Schema of each shape and named type, by name, with the ones they refer to.

    :param components: the shapes to start from (default :data:`nbsched.server.shapes.COMPONENTS`)
    """
    if components is None:
        from nbsched.server.shapes import COMPONENTS

        components = COMPONENTS
    found: dict[str, dict[str, Any]] = {}
    for component in components:
        _schema_of(component, found)
    return found


def _ref(name: str) -> dict[str, Any]:
    return {"$ref": f"#/components/schemas/{name}"}


def _schema_of(hint: Any, found: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The schema of a type hint; named types and shapes go into ``found`` and are referred to."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin is typing.Annotated:
        marks = [mark for mark in hint.__metadata__ if isinstance(mark, Schema)]
        name = next((mark.name for mark in marks if mark.name), None)
        if name is not None and name in found:
            return _ref(name)
        out = _schema_of(hint.__origin__, found)
        for mark in marks:
            out = {**out, **mark.keywords}
        if name is None:
            return out
        found[name] = out
        return _ref(name)
    if origin in (typing.Required, typing.NotRequired):
        return _schema_of(args[0], found)
    if typing.is_typeddict(hint):
        name = hint.__name__
        if name not in found:
            found[name] = {}  # taken, for shapes that refer to themselves
            found[name] = _object(hint, fields_of(hint), found)
        return _ref(name)
    if hint is Any:
        return {}
    if hint in _SIMPLE:
        return {"type": _SIMPLE[hint]}
    if origin is typing.Literal:
        kinds = sorted({_SIMPLE[type(value)] for value in args})
        if len(args) == 1:
            return {"const": args[0]}
        return {"type": kinds[0] if len(kinds) == 1 else kinds, "enum": list(args)}
    if origin in (typing.Union, types.UnionType):
        members = [_schema_of(arg, found) for arg in args]
        if all(set(member) == {"type"} and isinstance(member["type"], str) for member in members):
            return {"type": [member["type"] for member in members]}
        return {"oneOf": members}
    if origin is list:
        item = _schema_of(args[0], found) if args else {}
        return {"type": "array", "items": item} if item else {"type": "array"}
    if origin is dict:
        value = _schema_of(args[1], found) if args else {}
        return {"type": "object", "additionalProperties": value or True}
    raise TypeError(f"no JSON Schema for {hint!r} (see nbsched.server.openapi)")


def _object(shape: type, required: dict[str, bool], found: dict[str, dict[str, Any]]) -> dict[str, Any]:
    hints = typing.get_type_hints(shape, include_extras=True)
    out: dict[str, Any] = {"type": "object"}
    if shape.__doc__:
        out["description"] = inspect.cleandoc(shape.__doc__)
    out["additionalProperties"] = False
    names = [name for name, needed in required.items() if needed]
    if names:
        out["required"] = names
    out["properties"] = properties = {}
    for name in required:
        try:
            properties[name] = _schema_of(hints[name], found)
        except TypeError as exc:
            raise TypeError(f"{shape.__name__}.{name}: {exc}") from None
    return out


class _Dumper(yaml.SafeDumper):
    """Block style for texts of several lines, so that the generated YAML reads like the hand-written part."""


def _text(dumper: yaml.SafeDumper, value: str) -> yaml.Node:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


def _flat(value: Any) -> bool:
    return not isinstance(value, dict | list) or (
        isinstance(value, list) and all(not isinstance(item, dict | list) for item in value)
    )


def _list(dumper: yaml.SafeDumper, value: list[Any]) -> yaml.Node:
    return dumper.represent_sequence("tag:yaml.org,2002:seq", value, flow_style=_flat(value))


def _dict(dumper: yaml.SafeDumper, value: dict[str, Any]) -> yaml.Node:
    # Leaves on one line (``{type: string, maxLength: 64}``), as the hand-written part has them.
    short = all(_flat(item) for item in value.values()) and len(repr(value)) < 80 and "\n" not in repr(value)
    return dumper.represent_mapping("tag:yaml.org,2002:map", value, flow_style=short)


_Dumper.add_representer(str, _text)
_Dumper.add_representer(list, _list)
_Dumper.add_representer(dict, _dict)


def render(document: str, schemas: dict[str, dict[str, Any]] | None = None) -> str:
    """``document`` (the text of ``openapi.yaml``) with its ``components/schemas`` part generated anew.

    :raises ValueError: when the document has no ``  schemas:`` line under ``components``
    """
    if MARKER in document:
        head = document[: document.index(MARKER)]
    elif _SCHEMAS_LINE in document:
        head = document[: document.index(_SCHEMAS_LINE)]
    else:
        raise ValueError("openapi.yaml: no '  schemas:' line under 'components'")
    dumped = yaml.dump(
        {"schemas": schemas if schemas is not None else json_schemas()},
        Dumper=_Dumper,
        sort_keys=False,
        width=116,
        allow_unicode=True,
        default_flow_style=False,
    )
    return head + MARKER + "".join("  " + line if line.strip() else line for line in dumped.splitlines(True))


def main(argv: list[str] | None = None) -> int:
    """``python -m nbsched.server.openapi [--check] [PATH]``: regenerate the schemas of ``openapi.yaml``."""
    parser = argparse.ArgumentParser(prog="python -m nbsched.server.openapi", description=main.__doc__)
    parser.add_argument("path", nargs="?", type=Path, default=openapi_path(), help="default: %(default)s")
    parser.add_argument("--check", action="store_true", help="exit 1 when the file is out of date; write nothing")
    options = parser.parse_args(argv)
    current = options.path.read_text(encoding="utf-8")
    fresh = render(current)
    if fresh == current:
        return 0
    if options.check:
        print(f"{options.path} is out of date: run python -m nbsched.server.openapi", file=sys.stderr)
        return 1
    options.path.write_text(fresh, encoding="utf-8")
    print(f"wrote {options.path}")
    return 0


if __name__ == "__main__":
    # The shapes mark their fields with nbsched.server.openapi.Schema: run that module's main, not this copy's
    # (run as __main__, this file is a second module whose Schema class no shape uses).
    from nbsched.server.openapi import main as _main

    sys.exit(_main())
