"""The store a command works on, the scheduler API over it, and the CLI's exit codes.

Every command opens the store named by ``--db`` (default: the default store, see :mod:`nbsched.paths`). A command
that changes jobs works behind a :class:`~nbsched.schedulers.background.BackgroundScheduler` started with
``manage_only=True``: the scheduler's API (``add_job``, ``modify_job``, ``run_now``...) works on the stored jobs,
and the command itself runs nothing and starts no executor, kernel or thread (nor run retention: pruning is
the business of the schedulers that run jobs).

A command that only reads (``list``, ``runs``, ``logs``, ``export``) opens a *read-only* session: it reads through the
store's public API in read transactions and starts no scheduler, so no heartbeat, lost-run detection or executor
is set going, it writes nothing (not even the best-effort marks of rows that cannot be loaded) and, SQLite being
in WAL mode, it answers while another process holds the write lock.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from datetime import datetime
from types import TracebackType
from typing import TYPE_CHECKING

from nbsched.exceptions import CliError, InvalidArgumentError, JobLookupError  # CliError re-exported: its old home
from nbsched.job import Job
from nbsched.runs import Run, RunFilter, RunStatus

if TYPE_CHECKING:
    from nbsched.jobstores.sqlalchemy import SQLAlchemyJobStore
    from nbsched.schedulers.background import BackgroundScheduler

__all__ = [
    "EXIT_BUG",
    "EXIT_FAILED",
    "EXIT_NOT_FOUND",
    "EXIT_OK",
    "EXIT_STORE",
    "EXIT_TIMEOUT",
    "EXIT_USAGE",
    "CliError",
    "Session",
    "display_url",
    "resolve_url",
]

#: the command did what was asked
EXIT_OK = 0
#: a run failed (``run --wait``: failed, timed out, cancelled, lost or skipped), or the command could not finish
EXIT_FAILED = 1
#: bad input: an unknown option, a bad value, a conflicting id
EXIT_USAGE = 2
#: no job (or run) by that id
EXIT_NOT_FOUND = 3
#: gave up waiting (``run --wait --timeout``; a paused job no scheduler picked up)
EXIT_TIMEOUT = 4
#: the store cannot be used (locked, read-only, full, newer schema, cannot be opened)
EXIT_STORE = 5
#: an unexpected error: a bug (sysexits' ``EX_SOFTWARE``); ``--debug`` prints its traceback
EXIT_BUG = 70
#: interrupted (Ctrl-C)
EXIT_INTERRUPTED = 130


def resolve_url(db: str | None) -> str:
    """The database URL of ``--db``: a URL as given, a file path as a SQLite URL, nothing as the default store.

    :raises CliError: when ``--db`` names a SQLite file in a folder that does not exist (exit code 2)
    """
    if not db:
        from nbsched.paths import default_db_url

        return default_db_url()
    from nbsched.cli.values import shorten, user_path

    try:
        url = db if "://" in db else f"sqlite:///{user_path(db, 'nbsched', '--db').absolute()}"
    except InvalidArgumentError as exc:
        raise CliError(f"--db {shorten(db)!r} {exc.problem}") from None
    _check_folder(db, url)
    return url


def _check_folder(db: str, url: str) -> None:
    """A SQLite file named by ``--db`` must be in a folder that exists: a typo must not make a new empty store
    (only the default store's folder is created)."""
    from sqlalchemy.engine import make_url

    from nbsched.cli.values import shorten
    from nbsched.jobstores.sqlalchemy.database import sqlite_file

    try:
        file = sqlite_file(make_url(url))
    except Exception:  # not a URL SQLAlchemy reads: the store says so when it is opened
        return
    if file is not None and not os.path.isdir(file.parent):  # (os.path: False for a name too long, no error)
        folder = shorten(str(file.parent), 300)
        if os.path.lexists(file.parent):
            raise CliError(f"--db {shorten(db)!r}: {folder} is not a folder")
        raise CliError(f"--db {shorten(db)!r}: the folder {folder} does not exist (create it first)")


def display_url(url: str) -> str:
    """``url`` with its password hidden, for messages and logs."""
    try:
        from sqlalchemy.engine import make_url

        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # not a URL SQLAlchemy parses: the store will say so when it is opened
        return url


class Session:
    """The store of one command, and the scheduler API over it (for commands that change jobs).

    :param db: ``--db`` (a URL or a SQLite file path; ``None``: the default store)
    :param read_only: only read: no scheduler is started (see the module docstring); :attr:`scheduler` is
        not available
    """

    def __init__(self, db: str | None, *, read_only: bool = False) -> None:
        from nbsched.jobstores.sqlalchemy import SQLAlchemyJobStore
        from nbsched.schedulers.background import BackgroundScheduler

        self.url = resolve_url(db)
        #: the URL with its password hidden
        self.url_display = display_url(self.url)
        #: whether this session only reads
        self.read_only = read_only
        self.store: SQLAlchemyJobStore = SQLAlchemyJobStore(url=self.url)
        self._scheduler: BackgroundScheduler | None = None
        if read_only:
            self.store.record_load_errors = False  # a write: it would wait on another process's write lock
            return
        self._scheduler = BackgroundScheduler(
            jobstores={"default": self.store},
            # Only manage jobs: no executor, kernel, thread, retention or liveness row is started; executor
            # aliases are checked by name (default, notebook, kernel).
            manage_only=True,
            keep_runs=None,
            logger=logging.getLogger("nbsched.cli.session"),
        )
        try:
            self._scheduler.start()
        except BaseException:
            self.store.shutdown()
            raise

    @property
    def scheduler(self) -> BackgroundScheduler:
        """The manage-only scheduler over the store (not in a read-only session)."""
        if self._scheduler is None:
            raise RuntimeError("a read-only session has no scheduler")
        return self._scheduler

    # ----------------------------------------------------------------------------------------- reading
    def find_job(self, job_id: str) -> Job | None:
        """The stored job with this id, or ``None`` (also for a row that cannot be loaded)."""
        return self.store.lookup_job(job_id)

    def job(self, job_id: str) -> Job:
        """The stored job with this id.

        :raises JobLookupError: when there is none (exit code 3)
        """
        job = self.find_job(job_id)
        if job is None:
            raise JobLookupError(job_id)
        return job

    def jobs(self) -> list[Job]:
        """Every job that can be loaded, earliest next run first, paused ones last."""
        return self.store.get_all_jobs()

    def broken_jobs(self) -> list[tuple[str, str]]:
        """``(job id, reason)`` of each stored job that cannot be loaded."""
        return self.store.get_broken_jobs()

    def runs(
        self,
        job_id: str | None = None,
        status: Sequence[str] | None = None,
        since: datetime | str | None = None,
        limit: int | None = None,
    ) -> list[Run]:
        """The run history, newest first (as the scheduler's ``runs()``: ``since`` as a date and time is read in
        the local time zone, and named in the error when it cannot be)."""
        from nbsched.datetimes import convert_to_datetime, local_timezone

        run_filter = RunFilter(
            job_id=job_id,
            status=None if status is None else [RunStatus(item) for item in status],
            since=convert_to_datetime(since, local_timezone(), "runs", "since"),
            limit=limit,
        )
        return self.store.get_runs(run_filter)

    def run(self, run_id: str) -> Run | None:
        """The run with this id, or ``None``."""
        return self.store.get_run(run_id)

    # -------------------------------------------------------------------------------------------- life
    def close(self) -> None:
        """Stop the scheduler (if any) and close the store."""
        if self._scheduler is None:
            self.store.shutdown()
        elif self._scheduler.running:
            self._scheduler.shutdown(wait=False)

    def __enter__(self) -> Session:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
