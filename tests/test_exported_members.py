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


def test_every_public_module_declares_all() -> None:
    missing = []
    for info in pkgutil.walk_packages(nbsched.__path__, "nbsched."):
        parts = info.name.split(".")
        if any(part.startswith("_") for part in parts) or ".migrations" in info.name:
            continue
        try:
            module = importlib.import_module(info.name)
        except ImportError:
            continue  # an optional extra (dask) that is not installed
        names = getattr(module, "__all__", None)
        if names is None:
            missing.append(info.name)
            continue
        for name in names:
            assert hasattr(module, name), f"{info.name}.__all__ names {name}, which it lacks"
    assert missing == []
