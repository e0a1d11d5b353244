"""Plugin loading: a plugin whose module is broken is reported, naming it, never skipped or left as a bare traceback."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from importlib.metadata import EntryPoint
from pathlib import Path

import pytest

import nbsched.plugins as plugins
from nbsched.clock import ManualClock
from nbsched.exceptions import NbschedError, PluginLoadError
from nbsched.executors.dask import DaskExecutor
from nbsched.jobstores.memory import MemoryJobStore
from nbsched.schedulers.background import BackgroundScheduler
from tests import tasks


@pytest.fixture
def broken_plugins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    # A module that exists but fails inside (it imports something that is not installed), registered as a
    # trigger and as an executor the way a third-party package would register it.
    (tmp_path / "nbsched_broken_plugin.py").write_text("import nbsched_no_such_dependency\n\nclass Thing: ...\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    points = {
        "trigger": {
            "broken": EntryPoint("broken", "nbsched_broken_plugin:Thing", "nbsched.triggers"),
            "renamed": EntryPoint("renamed", "tests.tasks:NoSuchTrigger", "nbsched.triggers"),
        },
        "executor": {"broken": EntryPoint("broken", "nbsched_broken_plugin:Thing", "nbsched.executors")},
    }
    monkeypatch.setattr(plugins, "_entry_points", lambda kind: points.get(kind, {}))
    plugins.load_plugin.cache_clear()
    yield
    plugins.load_plugin.cache_clear()
    sys.modules.pop("nbsched_broken_plugin", None)


@pytest.mark.usefixtures("broken_plugins")
def test_a_broken_trigger_plugin_is_reported_naming_it() -> None:
    scheduler = BackgroundScheduler(timezone="UTC", clock=ManualClock("2026-01-05 09:00"))
    with pytest.raises(PluginLoadError) as caught:
        scheduler.add_job(tasks.record, "broken")
    assert str(caught.value) == (
        "trigger plugin 'broken' (nbsched_broken_plugin:Thing) cannot be loaded: "
        "No module named 'nbsched_no_such_dependency'"
    )
    assert isinstance(caught.value, ImportError) and isinstance(caught.value, NbschedError)
    assert scheduler.get_jobs() == []


@pytest.mark.usefixtures("broken_plugins")
def test_a_broken_executor_plugin_is_reported_by_configure_naming_it() -> None:
    scheduler = BackgroundScheduler(timezone="UTC")
    with pytest.raises(PluginLoadError, match=r"executor plugin 'broken' \(nbsched_broken_plugin:Thing\)"):
        scheduler.configure(executors={"default": {"type": "broken"}})


@pytest.mark.usefixtures("broken_plugins")
def test_a_plugin_naming_a_missing_class_is_reported_naming_it() -> None:
    with pytest.raises(PluginLoadError, match=r"^trigger plugin 'renamed' \(tests.tasks:NoSuchTrigger\) cannot be"):
        plugins.load_plugin("trigger", "renamed")


def test_an_unknown_alias_is_still_a_lookup_error() -> None:
    with pytest.raises(LookupError, match='No trigger by the name "nosuch" was found'):
        plugins.load_plugin("trigger", "nosuch")


def test_the_dask_executor_without_distributed_says_which_extra_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "distributed", None)  # what an environment without the dask extra sees
    scheduler = BackgroundScheduler(
        timezone="UTC", jobstores={"default": MemoryJobStore()}, executors={"dask": DaskExecutor("tcp://nowhere:1")}
    )
    try:
        with pytest.raises(PluginLoadError) as caught:
            scheduler.start()
        message = str(caught.value)
        assert message.startswith("executor plugin 'dask' (nbsched.executors.dask:DaskExecutor) cannot be loaded: ")
        assert "distributed" in message and message.endswith("install the dask extra: pip install 'nbsched[dask]'")
    finally:
        if scheduler.running:
            scheduler.shutdown(wait=False)


def test_the_plugin_table_and_the_entry_points_in_pyproject_are_the_same() -> None:
    # One alias added on one side only (a task kind registered in pyproject.toml but not in the table, or the
    # reverse) makes an installed nbsched and a source checkout resolve it differently.
    import tomllib

    from nbsched.plugins import builtin_entry_points

    with (Path(__file__).resolve().parent.parent / "pyproject.toml").open("rb") as file:
        declared = tomllib.load(file)["project"]["entry-points"]
    ours = {group: aliases for group, aliases in declared.items() if group.startswith("nbsched.")}
    assert ours == builtin_entry_points()
