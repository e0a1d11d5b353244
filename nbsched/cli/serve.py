"""``nbsched serve``: a scheduler process over the store, until SIGTERM or SIGINT.

A :class:`~nbsched.schedulers.blocking.BlockingScheduler` runs the store's jobs (functions on a thread pool,
notebooks and cells on the notebook executor) and logs to stderr. Other schedulers may share the store (other
``serve`` processes, kernels, the Jupyter server, other machines): each fire still runs once.

Stopping: the first SIGTERM/SIGINT stops taking new fires and waits up to ``--grace`` seconds for the runs in
progress; whatever is still running then is recorded ``cancelled`` and its kernels are stopped. A second signal
skips the rest of the wait. The process exits 0 after a clean stop.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import signal
import sys
import threading
import time
from collections.abc import Callable
from types import FrameType
from typing import Any

from nbsched.cli.masking import Masker, MaskingFormatter
from nbsched.cli.session import EXIT_OK, display_url, resolve_url
from nbsched.runs import ACTIVE, worker_id

__all__ = ["cmd_serve"]

logger = logging.getLogger("nbsched.serve")

#: end the process with ``os._exit`` when work threads are still alive after the stop (tests turn it off)
HARD_EXIT = True
#: seconds to wait for work threads once their runs were cancelled and their kernels stopped
THREAD_JOIN_TIMEOUT = 5.0


#: seconds between two reads of the jobs' secret values (log lines are masked with them)
MASK_REFRESH = 2.0


class _Secrets:
    """The secret parameter values of the store's jobs, re-read in a thread of its own.

    The log formatter only reads :attr:`masker`: reading the store from inside a log call could deadlock with
    a thread that logs while holding the scheduler's lock.
    """

    def __init__(self, store: Any) -> None:
        self._store = store
        self.masker = Masker()
        self._stop = threading.Event()
        self.refresh()
        self._thread = threading.Thread(target=self._loop, name="nbsched-secrets", daemon=True)
        self._thread.start()

    def refresh(self) -> None:
        try:
            self.masker = Masker.for_jobs(self._store.get_all_jobs())
        except Exception as exc:  # the store is away for a moment: keep the last known secrets
            logger.debug("cannot read the jobs' secrets: %s", exc)

    def _loop(self) -> None:
        while not self._stop.wait(MASK_REFRESH):
            self.refresh()

    def stop(self) -> None:
        self._stop.set()

    def current(self) -> Masker:
        return self.masker


def _configure_logging(level: str, secrets: Callable[[], Masker]) -> logging.Handler:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(MaskingFormatter("%(asctime)s %(levelname)-7s %(name)s: %(message)s", secrets))
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(level.upper())
    return handler


def _my_active_runs(scheduler: Any) -> int:
    me = worker_id()
    return sum(1 for run in scheduler.runs(status=sorted(ACTIVE), limit=None) if run.worker == me)


def _stop_when_asked(scheduler: Any, stop: threading.Event, force: threading.Event, grace: float) -> None:
    """The stopper thread: on the first signal, stop taking fires, wait for running runs, shut down."""
    stop.wait()
    try:
        scheduler.pause()
    except Exception as exc:  # not started yet, or stopped meanwhile: shutdown below copes
        logger.debug("pause failed: %s", exc)
    deadline = time.monotonic() + grace
    active = _count(scheduler)
    if active:
        logger.info("waiting up to %g s for %d running run(s) to finish (signal again to stop now)", grace, active)
    while active and time.monotonic() < deadline and not force.is_set():
        force.wait(0.2)
        active = _count(scheduler)
    if active:
        logger.warning("%d run(s) still running after the grace period: cancelling them", active)
    with contextlib.suppress(Exception):
        scheduler.shutdown(wait=False)


def _count(scheduler: Any) -> int:
    try:
        return _my_active_runs(scheduler)
    except Exception as exc:  # the store is unavailable: nothing to wait for that could be recorded
        logger.warning("cannot read the runs in progress: %s", exc)
        return 0


def _stop_kernels() -> None:
    """Kill the kernels of cancelled notebook runs, so their threads end (only if notebooks were used)."""
    kernels = sys.modules.get("nbsched.notebooks.kernels")
    kill = getattr(kernels, "kill_all", None) or getattr(kernels, "_kill_all_at_exit", None)
    if kill is not None:
        kill()


def cmd_serve(args: argparse.Namespace) -> int:
    """Run a scheduler over the store until SIGTERM/SIGINT."""
    from nbsched.cli.runs import cancel_unfinished
    from nbsched.jobstores.sqlalchemy import SQLAlchemyJobStore
    from nbsched.schedulers.blocking import BlockingScheduler

    url = resolve_url(args.db)
    options: dict[str, Any] = {"keep_runs": args.keep_runs}
    if args.max_concurrent_runs is not None:
        options["max_concurrent_runs"] = args.max_concurrent_runs
    secrets_store = SQLAlchemyJobStore(url=url)  # a store of its own: read outside the scheduler's lock
    secrets = _Secrets(secrets_store)
    handler = _configure_logging(args.log_level, secrets.current)
    scheduler = BlockingScheduler(
        jobstores={"default": SQLAlchemyJobStore(url=url)},
        executors={"default": {"type": "threadpool", "max_workers": args.threads}},
        **options,
    )
    stop, force = threading.Event(), threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        name = signal.Signals(signum).name
        if stop.is_set():
            logger.info("received %s again: stopping now", name)
            force.set()
        else:
            logger.info("received %s: stopping", name)
            stop.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGTERM, signal.SIGINT)}
    stopper = threading.Thread(
        target=_stop_when_asked, args=(scheduler, stop, force, args.grace), name="nbsched-stopper", daemon=True
    )
    stopper.start()
    try:
        logger.info("nbsched serve: store %s, worker %s", display_url(url), worker_id())
        scheduler.start()  # returns once the stopper has shut it down
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)
        stop.set()
        stopper.join()

    secrets.stop()
    try:
        cancelled = cancel_unfinished(
            secrets_store, f"nbsched serve stopped before the run finished (grace {args.grace:g} s)"
        )
    finally:
        secrets_store.shutdown()
    for run in cancelled:
        logger.warning("run %s of %s was cancelled", run.id, run.job_id)
    if cancelled:
        _stop_kernels()
    logger.info("nbsched serve stopped cleanly (%d run(s) cancelled)", len(cancelled))
    handler.flush()
    logging.getLogger().removeHandler(handler)
    workers = [t for t in threading.enumerate() if t is not threading.current_thread() and not t.daemon]
    for thread in workers:
        thread.join(THREAD_JOIN_TIMEOUT / max(len(workers), 1))
    if HARD_EXIT and any(t.is_alive() for t in workers) and threading.current_thread() is threading.main_thread():
        # Work that ignores its cancellation must not keep the stopped service alive.
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(EXIT_OK)
    return EXIT_OK
