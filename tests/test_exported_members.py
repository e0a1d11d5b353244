"""The public surface: nbsched.__all__ is complete and every public module declares its own __all__."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import nbsched


def test_all_is_complete_and_resolves() -> None:
    public = {
        name
        for name, value in vars(nbsched).items()
        if not name.startswith("_") and not inspect.ismodule(value) and name not in {"annotations"}
    }
    assert public | {"__version__"} == set(nbsched.__all__)
    for name in nbsched.__all__:
        assert hasattr(nbsched, name), name


def _raise(name: str) -> None:
    raise ImportError(f"cannot import the package {name}")


def test_every_public_module_declares_all() -> None:
    # Every public module must import: one that cannot (a broken import, or an optional extra imported at module
    # level) fails here, naming it, instead of being skipped. Optional extras are imported where they are used.
    missing = []
    for info in pkgutil.walk_packages(nbsched.__path__, "nbsched.", onerror=_raise):
        parts = info.name.split(".")
        if any(part.startswith("_") for part in parts) or ".migrations" in info.name:
            continue
        module = importlib.import_module(info.name)
        names = getattr(module, "__all__", None)
        if names is None:
            missing.append(info.name)
            continue
        for name in names:
            assert hasattr(module, name), f"{info.name}.__all__ names {name}, which it lacks"
    assert missing == []
