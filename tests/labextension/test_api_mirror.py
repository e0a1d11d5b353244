"""``labextension/src/api.ts`` mirrors the REST shapes of ``nbsched/server/schemas.py`` (and ``parameters.py``).

Each TypedDict has an ``export interface`` of the same name in ``api.ts`` with the same fields, optional
(``?``) exactly where the Python one is ``NotRequired`` or ``total=False``. Types are not compared: the
TypeScript compiler checks those against the fixtures the unit tests use.
"""

from __future__ import annotations

import re
import typing
from pathlib import Path

import pytest

from nbsched.server import parameters, schemas

API_TS = Path(__file__).resolve().parents[2] / "labextension" / "src" / "api.ts"

#: every request and response shape of the API
SHAPES: list[type] = [
    schemas.ErrorOut,
    schemas.LastRunOut,
    schemas.JobOut,
    schemas.BrokenJobOut,
    schemas.JobListOut,
    schemas.RunOut,
    schemas.RunListOut,
    schemas.HealthOut,
    schemas.TriggerIn,
    schemas.JobCreateIn,
    schemas.JobUpdateIn,
    parameters.ParameterOut,
    parameters.NotebookParametersOut,
]

_INTERFACE = re.compile(r"^export interface (\w+) \{\n(.*?)^\}", re.MULTILINE | re.DOTALL)
_FIELD = re.compile(r"^  (\w+)(\??):", re.MULTILINE)


def typescript_interfaces(source: str) -> dict[str, dict[str, bool]]:
    """``{interface: {field: optional}}`` for the top-level fields of each exported interface."""
    return {
        name: {field: mark == "?" for field, mark in _FIELD.findall(body)} for name, body in _INTERFACE.findall(source)
    }


def python_fields(shape: type) -> dict[str, bool]:
    """``{field: optional}`` of a TypedDict (``__optional_keys__`` misses ``NotRequired`` under PEP 563 on 3.11)."""
    hints = typing.get_type_hints(shape, include_extras=True)
    total = getattr(shape, "__total__", True)
    fields = {}
    for name, hint in hints.items():
        origin = typing.get_origin(hint)
        fields[name] = origin is typing.NotRequired or (not total and origin is not typing.Required)
    return fields


def test_every_shape_is_listed() -> None:
    listed = {shape.__name__ for shape in SHAPES}
    typed_dicts = {
        name
        for module in (schemas, parameters)
        for name, value in vars(module).items()
        if typing.is_typeddict(value) and value.__module__ == module.__name__
    }
    # TaskIn only says that a task has a "type": api.ts spells out NotebookTaskIn and FunctionTaskIn instead.
    assert typed_dicts - {"TaskIn"} == listed


@pytest.mark.parametrize("shape", SHAPES, ids=lambda shape: shape.__name__)
def test_api_ts_mirrors(shape: type) -> None:
    interfaces = typescript_interfaces(API_TS.read_text(encoding="utf-8"))
    assert shape.__name__ in interfaces, f"api.ts has no `export interface {shape.__name__}`"
    assert interfaces[shape.__name__] == python_fields(shape)


def test_the_parser_reads_nested_objects_as_one_field() -> None:
    source = "export interface A {\n  a: string;\n  /** doc */\n  b?: {\n    c: number;\n  };\n}\n"
    assert typescript_interfaces(source) == {"A": {"a": False, "b": True}}
