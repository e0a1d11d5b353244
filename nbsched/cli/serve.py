"""``nbsched serve``: a scheduler process over the store, until SIGTERM or SIGINT.

A :class:`~nbsched.schedulers.blocking.BlockingScheduler` runs the store's jobs (functions on a thread pool,
notebooks and cells on the notebook executor) and logs to stderr. Other schedulers may share the store (other
``serve`` processes, kernels, the Jupyter server, other machines): each fire still runs once.

Stopping: the first SIGTERM/SIGINT stops taking new fires and waits up to ``--grace`` seconds for the runs in
progress; whatever is still running then is recorded ``cancelled`` and its kernels are stopped
(:func:`nbsched.shutdown.stop_with_grace`, as the Jupyter server extension stops). A second signal skips the rest
of the wait. The process exits 0 after a clean stop.

Log lines are masked (secret parameter values as ``***``) until the process ends: the masking handler is never
taken off, because the threads of cancelled runs report how they ended after the stop. What jobs print to
``sys.stdout`` and ``sys.stderr`` is masked too (:class:`~nbsched.masking.MaskedStream`); a job's secrets are
known from its submission on, also when it was added a moment ago by another process.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading
import time
from collections.abc import Callable
from types import FrameType
from typing import Any

from nbsched.cli.masking import MaskingFormatter
from nbsched.cli.session import EXIT_OK, display_url, resolve_url
from nbsched.executors.pool import ThreadPoolExecutor
from nbsched.masking import MaskedStream, Masker
from nbsched.runs import Run, worker_id
from nbsched.shutdown import stop_with_grace

__all__ = ["cmd_serve"]

logger = logging.getLogger("nbsched.serve")

#: end the process with ``os._exit`` when work threads are still alive after the stop (tests turn it off)
HARD_EXIT = True
#: seconds to wait for work threads once their runs were cancelled and their kernels stopped
THREAD_JOIN_TIMEOUT = 15.0


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
        # The secrets of jobs seen as they were submitted: kept across reads (one may not see a new job yet).
        self._noted = Masker()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self.refresh()
        self._thread = threading.Thread(target=self._loop, name="nbsched-secrets", daemon=True)
        self._thread.start()

    def refresh(self) -> None:
        try:
            fresh = Masker.for_jobs(self._store.get_all_jobs())
        except Exception as exc:  # the store is away for a moment: keep the last known secrets
            logger.debug("cannot read the jobs' secrets: %s", exc)
            return
        with self._lock:
            self.masker = fresh.union(self._noted)

    def note(self, job: Any) -> None:
        """Add the secrets of ``job``, about to run (it may be newer than the last read)."""
        masker = Masker.for_jobs([job])
        if masker:
            with self._lock:
                self._noted = self._noted.union(masker)
                self.masker = self.masker.union(masker)

    def _loop(self) -> None:
        while not self._stop.wait(MASK_REFRESH):
            self.refresh()

    def stop(self) -> None:
        self._stop.set()

    def current(self) -> Masker:
        return self.masker


class _NotingThreadPool(ThreadPoolExecutor):
    """The thread pool of ``serve``: tells :class:`_Secrets` of each job it is given, before the job runs."""

    def __init__(self, secrets: _Secrets, max_workers: int) -> None:
        super().__init__(max_workers)
        self._secrets = secrets

    def submit_job(self, job: Any, run_times: list[Any]) -> None:
        self._secrets.note(job)
        super().submit_job(job, run_times)


def _configure_logging(level: str, secrets: Callable[[], Masker]) -> logging.Handler:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(MaskingFormatter("%(asctime)s %(levelname)-7s %(name)s: %(message)s", secrets))
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(level.upper())
    return handler


def _stop_when_asked(
    scheduler: Any, url: str, stop: threading.Event, force: threading.Event, grace: float, cancelled: list[Run]
) -> None:
    """The stopper thread: on the first signal, stop as :func:`~nbsched.shutdown.stop_with_grace` does."""
    stop.wait()
    reason = f"nbsched serve stopped before the run finished (grace {grace:g} s)"
    try:
        cancelled.extend(stop_with_grace(scheduler, url, grace, reason, force=force, log=logger))
    except Exception as exc:  # the store went away: the runs stay as they are, and are found lost later
        logger.warning("cannot record the runs that did not finish: %s", exc)


def cmd_serve(args: argparse.Namespace) -> int:
    """Run a scheduler over the store until SIGTERM/SIGINT."""
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
        executors={"default": _NotingThreadPool(secrets, args.threads)},
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
    # Kept until the process ends, like the log handler (which writes to the real stderr: its lines are masked
    # already): function jobs in threads run to their end, and may print after the stop.
    sys.stdout, sys.stderr = MaskedStream(sys.stdout, secrets.current), MaskedStream(sys.stderr, secrets.current)
    cancelled: list[Run] = []
    stopper = threading.Thread(
        target=_stop_when_asked,
        args=(scheduler, url, stop, force, args.grace, cancelled),
        name="nbsched-stopper",
        daemon=True,
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
    secrets_store.shutdown()
    # The threads of cancelled runs end now that their kernels are stopped: they log how their runs ended before
    # the last line (and, like every record until the process ends, through the masking handler).
    workers = [t for t in threading.enumerate() if t is not threading.current_thread() and not t.daemon]
    deadline = time.monotonic() + THREAD_JOIN_TIMEOUT
    for thread in workers:
        thread.join(max(deadline - time.monotonic(), 0.0))
    for stream in (sys.stdout, sys.stderr):
        if isinstance(stream, MaskedStream):
            stream.drain()  # what was held back as the possible start of a secret
    logger.info("nbsched serve stopped cleanly (%d run(s) cancelled)", len(cancelled))
    handler.flush()
    if HARD_EXIT and any(t.is_alive() for t in workers) and threading.current_thread() is threading.main_thread():
        # Work that ignores its cancellation must not keep the stopped service alive.
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(EXIT_OK)
    return EXIT_OK
