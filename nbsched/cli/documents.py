"""JSON and YAML handed to the CLI (``-p`` values, ``apply``'s definitions file), read with limits.

A document is refused, with one error naming the field and the value, when it nests deeper than
:data:`MAX_DEPTH` (JSON's and YAML's parsers recurse: deep enough, they fail with ``RecursionError``, and
nesting they accept can still be too deep for the code that walks it later), or, for YAML, when it uses an
alias (``*name``): aliases let a 1 KB file stand for a billion values (the "billion laughs"), which the loader
builds as shared objects and anything walking them expands. Definitions files have no use for aliases, and
:func:`dump_yaml` never writes them (shared values are written out in full).
"""

from __future__ import annotations

import json
from typing import Any

import yaml

from nbsched.exceptions import InvalidArgumentError

__all__ = ["MAX_DEPTH", "check_depth", "dump_yaml", "load_document", "parse_json"]

#: how deeply lists and mappings may nest in a document
MAX_DEPTH = 100
_TOO_DEEP = f"is nested too deeply (at most {MAX_DEPTH} levels of lists and mappings)"


def check_depth(value: Any, owner: str, field: str, shown: Any) -> None:
    """Refuse ``value`` when its lists and mappings nest deeper than :data:`MAX_DEPTH` (walked without recursion).

    :param shown: the value the error names (the text it was read from, a file name)
    :raises InvalidArgumentError: naming ``owner``, ``field`` and ``shown``
    """
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, list | tuple):
            children = item
        else:
            continue
        if depth >= MAX_DEPTH:
            raise InvalidArgumentError(owner, field, shown, _TOO_DEEP)
        stack.extend((child, depth + 1) for child in children)


def parse_json(text: str, owner: str, field: str, shown: Any) -> Any:
    """``text`` read as JSON, nesting checked.

    :raises ValueError: (``json.JSONDecodeError``) when ``text`` is not JSON
    :raises InvalidArgumentError: when it nests too deeply
    """
    try:
        value = json.loads(text)
    except RecursionError:
        raise InvalidArgumentError(owner, field, shown, _TOO_DEEP) from None
    check_depth(value, owner, field, shown)
    return value


class _AliasUsed(Exception):
    def __init__(self, anchor: str, line: int) -> None:
        super().__init__(anchor, line)
        self.anchor = anchor
        self.line = line


class _NoAliasLoader(yaml.SafeLoader):
    """PyYAML's safe loader, refusing aliases before anything is built from them."""

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()  # type: ignore[no-untyped-call]  # untyped in PyYAML's stubs
            raise _AliasUsed(str(event.anchor), event.start_mark.line + 1)
        return super().compose_node(parent, index)


class _NoAliasDumper(yaml.SafeDumper):
    """PyYAML's safe dumper, writing a value that appears twice in full both times instead of as an alias."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def load_document(text: str, fmt: str, owner: str, field: str, shown: Any) -> Any:
    """A JSON (``fmt="json"``) or YAML document, with its nesting checked and, in YAML, no aliases.

    :param shown: the value errors name (the file's path)
    :raises InvalidArgumentError: when the text is not JSON/YAML, nests too deeply or uses an alias
    """
    if fmt == "json":
        try:
            return parse_json(text, owner, field, shown)
        except InvalidArgumentError:
            raise
        except ValueError as exc:
            raise InvalidArgumentError(owner, field, shown, f"is not JSON: {exc}") from None
    loader = _NoAliasLoader(text)
    try:
        document = loader.get_single_data()
    except _AliasUsed as exc:
        problem = (
            f"uses a YAML alias (*{exc.anchor}) at line {exc.line}: definitions are written out in full, "
            "without anchors and aliases"
        )
        raise InvalidArgumentError(owner, field, shown, problem) from None
    except RecursionError:
        raise InvalidArgumentError(owner, field, shown, _TOO_DEEP) from None
    except yaml.YAMLError as exc:
        problem = " ".join(str(exc).split())
        raise InvalidArgumentError(owner, field, shown, f"is not YAML: {problem}") from None
    finally:
        loader.dispose()
    check_depth(document, owner, field, shown)
    return document


def dump_yaml(document: Any) -> str:
    """``document`` as block-style YAML in the order given, without anchors or aliases."""
    text: str = yaml.dump(document, Dumper=_NoAliasDumper, sort_keys=False, allow_unicode=True, width=120)
    return text
