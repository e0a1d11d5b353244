"""Persistent-store figures (issue #4): each library's ``SQLAlchemyJobStore`` on a SQLite file.

Every case makes a fresh temporary folder (``tempfile``: the same file system for both libraries) holding one
SQLite file, ``sqlite:///<folder>/jobs.sqlite``, and uses the library's store with its own defaults: nbsched's
in WAL mode with ``synchronous=NORMAL``, APScheduler's as SQLAlchemy and SQLite set it up (rollback journal,
``synchronous=FULL``). Otherwise the set-up is the core cases': a ``BackgroundScheduler`` with the default
10-thread pool, real time, ``timezone="UTC"``, ``misfire_grace_time=None``.

Jobs that set-up needs in bulk (not timed) are written into the store in batches of one transaction each, in
the store's own table and row format: copies of one job built by that library's ``add_job`` (on a scheduler
that is never started), with fresh ids and next run times (:func:`_store_jobs`). Storing 100,000 jobs one
transaction at a time would take minutes.

Job functions are module-level functions of this module: persistent stores keep a ``module:function``
reference, and nbsched refuses what it cannot import again (lambdas, ``__main__``).
"""

from __future__ import annotations

import importlib
import itertools
import multiprocessing
import os
import statistics
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from time import perf_counter
from typing import Any

from bench._measure import Case, Figure
from bench.lateness import measure_lateness

__all__ = ["CASES", "add_bulk", "add_single", "fire", "late", "process_pass", "shared"]

#: jobs per transaction when set-up writes jobs in bulk
_BATCH = 5_000
#: processes sharing one store in the ``shared`` case
_PROCESSES = 4
SHARED_UNSUPPORTED = (
    "APScheduler 3 cannot share a job store between schedulers: it has no claim step, so every scheduler "
    "would run every due job; no figure"
)


def noop() -> None:
    """A job that does nothing (never runs where it is used)."""


# Runs are counted here. Each case runs in its own subprocess (and the shared case's schedulers in their own
# processes), so module state is never shared between measurements.
_target = 0
_counter = itertools.count(1)
_done = threading.Event()


def tick() -> None:
    """Count one run; the run that reaches the target sets the event the measurement waits on."""
    # next() on itertools.count is atomic under the GIL: counting costs both libraries ~nothing.
    if next(_counter) == _target:
        _done.set()


def _arm(target: int) -> None:
    global _target, _counter, _done
    _target, _counter, _done = target, itertools.count(1), threading.Event()


def _ran() -> int:
    """Runs counted since :func:`_arm` (consumes one count: call it once, at the end)."""
    return next(_counter) - 1


@contextmanager
def _sqlite_url() -> Iterator[str]:
    """A SQLite URL in a fresh temporary folder, removed afterwards."""
    with tempfile.TemporaryDirectory(prefix="nbsched-bench-") as folder:
        yield f"sqlite:///{os.path.join(folder, 'jobs.sqlite')}"


def _template_job(lib: Any, func: Any, next_run_time: datetime) -> Any:
    """A job with an hour-long interval trigger and every option explicit, built by a scheduler that is never
    started (so nothing is stored, and nothing depends on the defaults a store would fill in)."""
    factory = lib.scheduler()
    job = factory.add_job(
        func, "interval", hours=1, next_run_time=next_run_time, misfire_grace_time=None, coalesce=True, max_instances=1
    )
    del factory._pending_jobs[:]
    return job


def _rows(lib: Any, store: Any, template: Any, next_run_times: Sequence[datetime]) -> list[dict[str, Any]]:
    """Rows of copies of ``template`` with fresh ids and these next run times, in the store's own format."""
    if lib.name == "nbsched":
        from nbsched.jobstores.sqlalchemy.rows import job_values

        values = job_values(template)
        options, stamp = values["options"], template.next_run_time.isoformat()
        return [
            {
                **values,
                "id": uuid.uuid4().hex,
                "next_run_time": when,
                "options": options.replace(stamp, when.isoformat()),  # a copy; the column is what counts
            }
            for when in next_run_times
        ]
    import pickle

    from apscheduler.util import datetime_to_utc_timestamp

    state = template.__getstate__()
    return [
        {
            "id": (job_id := uuid.uuid4().hex),
            "next_run_time": datetime_to_utc_timestamp(when),
            "job_state": pickle.dumps({**state, "id": job_id, "next_run_time": when}, store.pickle_protocol),
        }
        for when in next_run_times
    ]


def _store_jobs(lib: Any, scheduler: Any, func: Any, next_run_times: Sequence[datetime]) -> None:
    """Store jobs calling ``func`` with an hour-long interval in the started scheduler's default store (not
    timed): rows in the store's own format (what its ``add_job`` writes, copies of one job with fresh ids and
    the given next run times), ``_BATCH`` per transaction instead of one transaction per job."""
    store = scheduler._jobstores["default"]
    template = _template_job(lib, func, next_run_times[0])
    last: dict[str, Any] = {}
    for start in range(0, len(next_run_times), _BATCH):
        rows = _rows(lib, store, template, next_run_times[start : start + _BATCH])
        if lib.name == "nbsched":
            store._db.write(lambda conn, rows=rows: store._insert_job.execute_many(conn, rows))
        else:
            with store.engine.begin() as conn:
                conn.execute(store.jobs_t.insert(), rows)
        last = rows[-1]
    stored = store.lookup_job(last["id"])  # the store reads its rows back as the jobs they stand for
    if stored is None or stored.next_run_time != next_run_times[-1] or stored.func is not func:
        raise RuntimeError(f"{lib.name}: a job written in bulk does not read back as written")


# -------------------------------------------------------------------------------------------------- add_job
def add_single(lib: Any, quick: bool) -> dict[str, Any]:
    """add_job calls per second on a scheduler started paused over the SQL store: one transaction each."""
    count = 200 if quick else 1_000
    with _sqlite_url() as url:
        scheduler = lib.sql_scheduler(url)
        scheduler.start(paused=True)
        try:
            start = perf_counter()
            for _ in range(count):
                scheduler.add_job(noop, "interval", hours=1)
            elapsed = perf_counter() - start
        finally:
            scheduler.shutdown(wait=False)
    return {"store_add_single": count / elapsed, "_jobs": count, "_seconds": elapsed}


def add_bulk(lib: Any, quick: bool) -> dict[str, Any]:
    """Jobs per second from the first of N add_job calls on a stopped scheduler (pending jobs) until
    ``start(paused=True)`` has stored them all and returned: each library stores pending jobs its own way."""
    count = 200 if quick else 1_000
    with _sqlite_url() as url:
        scheduler = lib.sql_scheduler(url)
        try:
            start = perf_counter()
            for _ in range(count):
                scheduler.add_job(noop, "interval", hours=1)
            scheduler.start(paused=True)
            elapsed = perf_counter() - start
            stored = len(scheduler.get_jobs())
        finally:
            if scheduler.running:
                scheduler.shutdown(wait=False)
    if stored != count:
        raise RuntimeError(f"{lib.name}: {stored} of {count} jobs stored")
    return {"store_add_bulk": count / elapsed, "_jobs": count, "_seconds": elapsed}


# --------------------------------------------------------------------------------------------------- firing
def fire(lib: Any, quick: bool) -> dict[str, Any]:
    """Runs per second of N jobs due at once in the SQL store, from ``resume()`` until the N-th has run.

    The jobs (an hour-long interval, ``next_run_time=now``) are written to the store of a scheduler started
    paused; each runs exactly once. Covers reading the due jobs from the database, claiming/updating them
    there (and, for nbsched, recording their runs), submitting to the pool and running them.
    """
    count = 200 if quick else 1_000
    _arm(count)
    with _sqlite_url() as url:
        scheduler = lib.sql_scheduler(url)
        scheduler.start(paused=True)
        try:
            _store_jobs(lib, scheduler, tick, [datetime.now(UTC)] * count)
            start = perf_counter()
            scheduler.resume()
            finished = _done.wait(timeout=300)
            elapsed = perf_counter() - start
        finally:
            scheduler.shutdown(wait=True)
    if not finished:
        raise RuntimeError(f"{lib.name}: only {_ran()} of {count} due jobs ran within 300 s")
    return {"store_fire": count / elapsed, "_jobs": count, "_seconds": elapsed}


# ------------------------------------------------------------------------------------------ scheduler pass
def process_pass(lib: Any, quick: bool) -> dict[str, Any]:
    """Milliseconds of one ``scheduler._process_jobs()`` call over a store holding many jobs.

    Set-up (not timed) stores the jobs an hour ahead, plus ``due`` jobs whose next run time is 1.5 s after the
    set-up ends. The scheduler is started paused (its thread sleeps: nothing wakes it) and then marked running
    without a wake-up, so the main thread can call ``_process_jobs()`` itself: five passes before the due time
    (nothing due; the median is the figure), then one pass just after it, which reads the due jobs, updates
    them in the store and submits them to the pool (the figure stops when the pass returns; the benchmark
    then checks that all of them ran).
    """
    stored, due = (10_000, 100) if quick else (100_000, 100)
    _arm(due)
    state_running = importlib.import_module(f"{lib.name}.schedulers.base").STATE_RUNNING
    with _sqlite_url() as url:
        scheduler = lib.sql_scheduler(url)
        scheduler.start(paused=True)
        try:
            setup = perf_counter()
            later = datetime.now(UTC) + timedelta(hours=1)
            # Spread over a minute, as real schedules are, rather than all at one instant.
            _store_jobs(lib, scheduler, noop, [later + timedelta(milliseconds=i % 60_000) for i in range(stored - due)])
            due_at = datetime.now(UTC) + timedelta(seconds=1.5)
            _store_jobs(lib, scheduler, tick, [due_at] * due)
            setup = perf_counter() - setup
            scheduler.state = state_running  # no wakeup(): the scheduler's own thread keeps sleeping
            idle_passes = []
            for _ in range(5):
                start = perf_counter()
                scheduler._process_jobs()
                idle_passes.append(perf_counter() - start)
            if datetime.now(UTC) >= due_at:
                raise RuntimeError(f"{lib.name}: the passes with nothing due ran into the due time")
            time.sleep(max(0.0, (due_at - datetime.now(UTC)).total_seconds()) + 0.01)
            start = perf_counter()
            scheduler._process_jobs()
            due_pass = perf_counter() - start
            finished = _done.wait(timeout=60)
        finally:
            scheduler.shutdown(wait=True)
    if not finished:
        raise RuntimeError(f"{lib.name}: only {_ran()} of {due} due jobs ran after the pass")
    return {
        "store_pass_idle": statistics.median(idle_passes) * 1000,
        "store_pass_due": due_pass * 1000,
        "_stored": stored,
        "_due": due,
        "_idle_passes_ms": [round(p * 1000, 3) for p in idle_passes],
        "_setup_seconds": round(setup, 1),
    }


# ------------------------------------------------------------------------------------------------ lateness
def late(lib: Any, quick: bool) -> dict[str, Any]:
    """Fire lateness (ms) with the SQL store, measured as ``bench/lateness.py`` does it: 100 interval jobs,
    0.5-1 s apart, for 5 s (quick: 2 s), first fires spread over 0.5 s; jobs added on the running scheduler
    within a 2 s lead."""
    seconds = 2.0 if quick else 5.0
    with _sqlite_url() as url:
        result = measure_lateness(
            lib, lib.sql_scheduler(url), jobs=100, seconds=seconds, shortest=0.5, longest=1.0, spread=0.5, lead=2.0
        )
    return {
        "store_late_p99": result["lateness_p99"],
        "_p50_ms": result["lateness_p50"],
        "_max_ms": result["lateness_max"],
        **{key: value for key, value in result.items() if key.startswith("_")},
    }


# ----------------------------------------------------------------------------------- several processes
_shared_runs = itertools.count()


def shared_tick() -> None:
    """The shared case's job: count a run in this process."""
    next(_shared_runs)


def _shared_worker(url: str, ready: Any, go: Any, stop: Any, results: Any) -> None:
    """One of the processes sharing the store: a scheduler started paused, resumed on ``go``."""
    from bench._libs import load

    lib = load("nbsched")
    scheduler = lib.sql_scheduler(url)
    scheduler.start(paused=True)
    ready.set()
    go.wait()
    scheduler.resume()
    stop.wait()
    scheduler.shutdown(wait=True)
    results.put((os.getpid(), next(_shared_runs)))


def shared(lib: Any, quick: bool) -> dict[str, Any]:
    """Runs per second of M jobs due at once in one SQLite file shared by 4 processes, each running a
    ``BackgroundScheduler`` over it, from the moment they are told to resume until the runs table holds a
    ``succeeded`` run for each of the M jobs; then checks that every job ran exactly once."""
    if lib.name != "nbsched":
        return {"_missing_shared": SHARED_UNSUPPORTED}
    from nbsched.runs import RunFilter

    count = 200 if quick else 1_000
    context = multiprocessing.get_context("spawn")
    with _sqlite_url() as url:
        seeder = lib.sql_scheduler(url)
        seeder.start(paused=True)
        try:
            _store_jobs(lib, seeder, shared_tick, [datetime.now(UTC)] * count)
        finally:
            seeder.shutdown(wait=False)
        ready = [context.Event() for _ in range(_PROCESSES)]
        go, stop, results = context.Event(), context.Event(), context.Queue()
        processes = [
            context.Process(target=_shared_worker, args=(url, event, go, stop, results), daemon=True) for event in ready
        ]
        for process in processes:
            process.start()
        store = lib.sql_store(url)
        try:
            for event in ready:
                if not event.wait(timeout=120):
                    raise RuntimeError("a scheduler process did not start within 120 s")
            succeeded = RunFilter(status="succeeded")
            start = perf_counter()
            go.set()
            while len(store.get_runs(succeeded)) < count:
                if perf_counter() - start > 300:
                    raise RuntimeError(f"only {len(store.get_runs(succeeded))} of {count} runs within 300 s")
                time.sleep(0.02)
            elapsed = perf_counter() - start
            stop.set()
            per_process = dict(results.get(timeout=120) for _ in processes)
            runs = store.get_runs(RunFilter())
        finally:
            stop.set()
            for process in processes:
                process.join(timeout=60)
                if process.is_alive():
                    process.kill()
            store.shutdown()
    executed = sum(per_process.values())
    per_job = Counter(run.job_id for run in runs)
    if executed != count or len(per_job) != count or max(per_job.values()) != 1 or len(runs) != count:
        raise RuntimeError(
            f"not exactly once: {executed} executions and {len(runs)} runs recorded for {len(per_job)} of {count} jobs"
        )
    return {
        "store_shared": count / elapsed,
        "_jobs": count,
        "_seconds": elapsed,
        "_processes": _PROCESSES,
        # How the runs were split between the processes (the claimer of a pass takes every fire it finds due).
        "_runs_per_process": sorted(per_process.values(), reverse=True),
    }


CASES = [
    Case(
        "store:add_single",
        add_single,
        [Figure("store_add_single", "SQL store: add_job, paused (1k, a transaction each)", "jobs/s", "higher", "best")],
        runs=3,
    ),
    Case(
        "store:add_bulk",
        add_bulk,
        [Figure("store_add_bulk", "SQL store: 1k add_job before start(), until stored", "jobs/s", "higher", "best")],
        runs=3,
    ),
    Case(
        "store:fire",
        fire,
        [Figure("store_fire", "SQL store: due-job firing (1k due at once, 10 threads)", "runs/s", "higher", "median")],
        runs=7,
    ),
    Case(
        "store:pass",
        process_pass,
        [
            Figure("store_pass_idle", "SQL store: scheduler pass, 100k stored, none due", "ms", "lower", "median"),
            Figure("store_pass_due", "SQL store: scheduler pass, 100k stored, 100 due", "ms", "lower", "median"),
        ],
        runs=3,
    ),
    Case(
        "store:late",
        late,
        [Figure("store_late_p99", "SQL store: fire lateness p99 (100 jobs, 0.5-1 s, 5 s)", "ms", "lower", "median")],
        runs=3,
    ),
    Case(
        "store:shared",
        shared,
        [Figure("store_shared", "SQL store: firing, 4 processes share it (1k due)", "runs/s", "higher", "median")],
        runs=2,
    ),
]
