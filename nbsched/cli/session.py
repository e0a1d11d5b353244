"""The store a command works on, the scheduler API over it, and the CLI's exit codes.

Every command opens the store named by ``--db`` (default: the default store, see :mod:`nbsched.paths`) behind a
:class:`~nbsched.schedulers.background.BackgroundScheduler` started *paused*: the scheduler's API (``add_job``,
``modify_job``, ``runs``...) works on the stored jobs, and nothing is run by the command itself. Run retention is
off in this scheduler (``keep_runs=None``): pruning is the business of the schedulers that run jobs.
"""

from __future__ import annotations

import logging
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING

from nbsched.exceptions import JobLookupError
from nbsched.executors.base import BaseExecutor
from nbsched.job import Job

if TYPE_CHECKING:
    from nbsched.jobstores.sqlalchemy import SQLAlchemyJobStore
    from nbsched.schedulers.background import BackgroundScheduler

__all__ = [
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
#: interrupted (Ctrl-C)
EXIT_INTERRUPTED = 130


class CliError(Exception):
    """An error the CLI reports as one line on stderr with an exit code.

    :param message: the line, without the ``nbsched: error:`` prefix
    :param code: the exit code
    """

    def __init__(self, message: str, code: int = EXIT_USAGE) -> None:
        super().__init__(message)
        self.code = code


def resolve_url(db: str | None) -> str:
    """The database URL of ``--db``: a URL as given, a file path as a SQLite URL, nothing as the default store."""
    if not db:
        from nbsched.paths import default_db_url

        return default_db_url()
    if "://" in db:
        return db
    return f"sqlite:///{Path(db).expanduser().absolute()}"


def display_url(url: str) -> str:
    """``url`` with its password hidden, for messages and logs."""
    try:
        from sqlalchemy.engine import make_url

        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # not a URL SQLAlchemy parses: the store will say so when it is opened
        return url


class Session:
    """The scheduler API over one store, for the length of a command.

    :param db: ``--db`` (a URL or a SQLite file path; ``None``: the default store)
    """

    def __init__(self, db: str | None) -> None:
        from nbsched.jobstores.sqlalchemy import SQLAlchemyJobStore
        from nbsched.schedulers.background import BackgroundScheduler

        self.url = resolve_url(db)
        #: the URL with its password hidden
        self.url_display = display_url(self.url)
        self.store: SQLAlchemyJobStore = SQLAlchemyJobStore(url=self.url)
        self.scheduler: BackgroundScheduler = BackgroundScheduler(
            jobstores={"default": self.store},
            # Executors that never run anything: adding a notebook job must not start a kernel for it here.
            executors={alias: _NoRunExecutor() for alias in ("default", "notebook", "kernel")},
            keep_runs=None,
            logger=logging.getLogger("nbsched.cli.session"),
        )
        try:
            self.scheduler.start(paused=True)
        except BaseException:
            self.store.shutdown()
            raise

    def job(self, job_id: str) -> Job:
        """The stored job with this id.

        :raises JobLookupError: when there is none (exit code 3)
        """
        job = self.scheduler.get_job(job_id)
        if job is None:
            raise JobLookupError(job_id)
        return job

    def close(self) -> None:
        """Stop the scheduler and close the store."""
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)

    def __enter__(self) -> Session:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


class _NoRunExecutor(BaseExecutor):
    """The executors of a command's paused scheduler: it never submits a job, and there is nothing to prepare."""

    def _do_submit_job(self, job: Job, run_times: list[datetime]) -> None:
        raise RuntimeError("a command's scheduler does not run jobs")
