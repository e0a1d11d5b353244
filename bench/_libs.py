"""The two libraries under comparison, behind one small adapter so every case runs the same code for both.

``load("nbsched")`` and ``load("apscheduler")`` return a :class:`Lib` holding the scheduler class, the
triggers and the event codes of that library. Only the import paths differ: nbsched mirrors APScheduler 3's
module layout, so the adapter is a table of names, not a translation layer.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any

__all__ = ["LIBRARIES", "Lib", "load"]

#: the libraries compared, in the order their columns appear
LIBRARIES = ("nbsched", "apscheduler")


@dataclass(frozen=True)
class Lib:
    """What a benchmark case needs from one library."""

    name: str
    version: str
    BackgroundScheduler: Any
    IntervalTrigger: Any
    CronTrigger: Any
    EVENT_JOB_EXECUTED: int
    EVENT_JOB_ERROR: int
    EVENT_JOB_MISSED: int

    def scheduler(self, **options: Any) -> Any:
        """A background scheduler over the memory store and a default (10-thread) pool, in UTC.

        ``misfire_grace_time=None`` on both: APScheduler's default of 1 s would drop runs that the firing
        and lateness cases are there to measure. ``coalesce`` keeps its default (``True`` on both).
        """
        options.setdefault("timezone", "UTC")
        options.setdefault("job_defaults", {"misfire_grace_time": None})
        return self.BackgroundScheduler(**options)

    def sql_store(self, url: str) -> Any:
        """This library's ``SQLAlchemyJobStore(url=url)`` (imported on first use: SQLAlchemy stays out of the
        other cases' processes)."""
        return importlib.import_module(f"{self.name}.jobstores.sqlalchemy").SQLAlchemyJobStore(url=url)

    def sql_scheduler(self, url: str, **options: Any) -> Any:
        """:meth:`scheduler` whose default job store is :meth:`sql_store` on ``url``."""
        return self.scheduler(jobstores={"default": self.sql_store(url)}, **options)


def load(name: str) -> Lib:
    """Import one library's scheduler, triggers and events.

    :param name: ``"nbsched"`` or ``"apscheduler"``
    """
    if name not in LIBRARIES:
        raise ValueError(f"unknown library {name!r} (known: {', '.join(LIBRARIES)})")
    package = importlib.import_module(name)
    events = importlib.import_module(f"{name}.events")
    return Lib(
        name=name,
        version=_version(name, package),
        BackgroundScheduler=importlib.import_module(f"{name}.schedulers.background").BackgroundScheduler,
        IntervalTrigger=importlib.import_module(f"{name}.triggers.interval").IntervalTrigger,
        CronTrigger=_cron(name),
        EVENT_JOB_EXECUTED=events.EVENT_JOB_EXECUTED,
        EVENT_JOB_ERROR=events.EVENT_JOB_ERROR,
        EVENT_JOB_MISSED=events.EVENT_JOB_MISSED,
    )


def _cron(name: str) -> Any:
    # nbsched's cron trigger may still be missing while it is being written: cases that need it say so.
    try:
        return importlib.import_module(f"{name}.triggers.cron").CronTrigger
    except (ImportError, AttributeError):
        return None


def _version(name: str, package: Any) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(name)
    except PackageNotFoundError:
        return str(getattr(package, "__version__", "?"))
