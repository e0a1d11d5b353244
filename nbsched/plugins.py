"""Plugin aliases: ``"interval"`` -> ``IntervalTrigger`` and the like.

Built-in aliases resolve without package metadata (a source checkout works); other aliases come from the
``nbsched.triggers``, ``nbsched.executors``, ``nbsched.jobstores`` and ``nbsched.tasks`` entry-point groups.
A plugin whose module fails to import is never skipped: loading it raises :class:`PluginLoadError` naming it.
"""

from __future__ import annotations

from functools import cache
from importlib import import_module
from importlib.metadata import entry_points
from typing import Any

from nbsched.exceptions import PluginLoadError, PluginLookupError

__all__ = ["builtin_entry_points", "known_aliases", "load_plugin", "reload_entry_points"]

_BUILTIN: dict[str, dict[str, str]] = {
    "trigger": {
        "date": "nbsched.triggers.date:DateTrigger",
        "interval": "nbsched.triggers.interval:IntervalTrigger",
        "cron": "nbsched.triggers.cron:CronTrigger",
        "calendarinterval": "nbsched.triggers.calendarinterval:CalendarIntervalTrigger",
        "and": "nbsched.triggers.combining:AndTrigger",
        "or": "nbsched.triggers.combining:OrTrigger",
    },
    "executor": {
        "debug": "nbsched.executors.debug:DebugExecutor",
        "threadpool": "nbsched.executors.pool:ThreadPoolExecutor",
        "processpool": "nbsched.executors.pool:ProcessPoolExecutor",
        "asyncio": "nbsched.executors.asyncio:AsyncIOExecutor",
        "notebook": "nbsched.executors.notebook:NotebookExecutor",
        "kernel": "nbsched.executors.kernel:KernelExecutor",
        "dask": "nbsched.executors.dask:DaskExecutor",
    },
    "task": {
        "notebook": "nbsched.notebooks.tasks:Notebook",
        "cell": "nbsched.notebooks.tasks:Cell",
        "function": "nbsched.tasks:FunctionTask",
    },
    "jobstore": {
        "memory": "nbsched.jobstores.memory:MemoryJobStore",
        "sqlalchemy": "nbsched.jobstores.sqlalchemy:SQLAlchemyJobStore",
    },
}

_GROUPS = {
    "trigger": "nbsched.triggers",
    "executor": "nbsched.executors",
    "jobstore": "nbsched.jobstores",
    "task": "nbsched.tasks",
}
_KIND_NAMES = {"trigger": "trigger", "executor": "executor", "jobstore": "job store", "task": "task"}


def builtin_entry_points() -> dict[str, dict[str, str]]:
    """The built-in plugins as entry points: group (``nbsched.triggers``, ...) -> alias -> ``module:attr``.

    ``pyproject.toml`` declares exactly these (a test compares them), so an installed nbsched and a source
    checkout resolve every alias alike.
    """
    return {_GROUPS[kind]: dict(aliases) for kind, aliases in _BUILTIN.items()}


@cache
def _entry_points(kind: str) -> dict[str, Any]:
    return {ep.name: ep for ep in entry_points(group=_GROUPS[kind])}


def reload_entry_points() -> None:
    """Forget the entry points and plugins read so far, so that plugins installed since are found (they are
    read once per process otherwise)."""
    _entry_points.cache_clear()
    load_plugin.cache_clear()


def known_aliases(kind: str) -> list[str]:
    """Every alias of this kind (``"trigger"``, ``"executor"`` or ``"jobstore"``)."""
    return sorted(set(_BUILTIN[kind]) | set(_entry_points(kind)))


@cache
def load_plugin(kind: str, alias: str) -> type[Any]:
    """The class registered under ``alias``.

    :raises PluginLookupError: when no plugin of that kind has that alias
    :raises PluginLoadError: when one has, but its module cannot be imported or lacks the class
    """
    target = _BUILTIN[kind].get(alias)
    ep = _entry_points(kind).get(alias) if target is None else None
    if target is None and ep is None:
        raise PluginLookupError(_KIND_NAMES[kind], alias, known_aliases(kind))
    try:
        if ep is not None:
            return ep.load()  # type: ignore[no-any-return]
        assert target is not None
        module_name, _, qualname = target.partition(":")
        obj: Any = import_module(module_name)
        for part in qualname.split("."):
            obj = getattr(obj, part)
        return obj  # type: ignore[no-any-return]
    except (ImportError, AttributeError) as exc:  # a broken plugin is reported, naming it, never skipped
        raise PluginLoadError(_KIND_NAMES[kind], alias, ep.value if ep is not None else str(target), str(exc)) from exc
