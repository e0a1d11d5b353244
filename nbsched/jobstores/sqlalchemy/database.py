"""The job store's connection to its database: engine set-up, transactions, retries and clear errors.

SQLite: WAL mode (readers never block the writer), ``synchronous=NORMAL`` (a commit is durable once the WAL is
checkpointed; a power cut can lose the last commits but never corrupts the file), a busy timeout, and every
write in ``BEGIN IMMEDIATE``: the write lock is taken when the transaction starts, so concurrent processes queue
on the busy timeout instead of failing with "database is locked" when a read transaction upgrades to a write.
pysqlite's own transaction handling is switched off (``isolation_level = None``) and the ``begin`` event emits
the ``BEGIN`` SQLAlchemy asks for, as SQLAlchemy's documentation recommends for pysqlite.

PostgreSQL: READ COMMITTED; a write that deadlocks or fails to serialise is retried.
"""

from __future__ import annotations

import contextlib
import logging
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.pool import StaticPool

from nbsched.jobstores.sqlalchemy.errors import (
    DatabaseFullError,
    DatabaseLockedError,
    DatabaseReadOnlyError,
    JobStoreError,
)
from nbsched.paths import ensure_private_file

__all__ = ["Database", "sqlite_file"]

logger = logging.getLogger("nbsched.jobstores.sqlalchemy")

T = TypeVar("T")

#: seconds a SQLite connection waits for another one's write lock before failing (per attempt)
DEFAULT_BUSY_TIMEOUT = 30.0
#: execution option: how the ``begin`` event starts a SQLite transaction
_BEGIN_OPTION = "nbsched_sqlite_begin"

# sqlite3 primary result codes (extended codes carry them in their low byte)
_SQLITE_BUSY, _SQLITE_LOCKED, _SQLITE_READONLY, _SQLITE_FULL, _SQLITE_CANTOPEN = 5, 6, 8, 13, 14
# PostgreSQL SQLSTATEs of a transaction that may simply be tried again
_PG_RETRYABLE = {"40001", "40P01"}


def sqlite_file(url: URL) -> Path | None:
    """The file of a SQLite URL, or ``None`` (another database, in-memory SQLite, or a ``file:`` URI)."""
    if url.get_backend_name() != "sqlite" or url.query.get("uri") or not url.database:
        return None
    if url.database == ":memory:" or url.database.startswith("file:"):
        return None
    return Path(url.database).expanduser().absolute()


class Database:
    """An engine plus the transaction discipline of the job store.

    :param url: database URL (used when ``engine`` is ``None``)
    :param engine: an engine to use as it is (the caller keeps ownership; SQLite pragmas are still applied to
        the connections it opens from now on)
    :param engine_options: keyword arguments to :func:`sqlalchemy.create_engine`
    :param lock_retries: how many times a write that found the SQLite database locked beyond its busy
        timeout is tried again (each with a warning) before :class:`DatabaseLockedError`
    """

    def __init__(
        self,
        url: str | URL | None,
        engine: Engine | None,
        engine_options: dict[str, Any] | None = None,
        lock_retries: int = 2,
    ) -> None:
        options = dict(engine_options or {})
        self.owns_engine = engine is None
        if engine is None:
            assert url is not None
            parsed = make_url(url)
            path = sqlite_file(parsed)
            if path is not None:
                ensure_private_file(path)
            if parsed.get_backend_name() == "sqlite":
                connect_args = dict(options.pop("connect_args", {}))
                connect_args.setdefault("timeout", DEFAULT_BUSY_TIMEOUT)
                connect_args.setdefault("check_same_thread", False)
                options["connect_args"] = connect_args
                if path is None and not parsed.query.get("uri"):
                    options.setdefault("poolclass", StaticPool)  # in-memory: one shared connection
            engine = create_engine(parsed, **options)
        self.engine = engine
        self.url = engine.url
        self.dialect = engine.dialect.name
        self.file = sqlite_file(engine.url)
        #: the file or the URL without its password, for messages
        self.display = str(self.file) if self.file else engine.url.render_as_string(hide_password=True)
        self.lock_retries = lock_retries
        if self.dialect == "sqlite":
            if not self.owns_engine:
                # Connections pooled before now lack the connect hook; let the pool open new ones. The hooks
                # stay after shutdown: they keep the caller's transactions working the same way.
                engine.dispose()
            if not event.contains(engine, "connect", _sqlite_on_connect):
                event.listen(engine, "connect", _sqlite_on_connect)
                event.listen(engine, "begin", _sqlite_on_begin)

    # ------------------------------------------------------------------------------------------ transactions
    def read(self, work: Callable[[Connection], T]) -> T:
        """Run ``work`` in one read transaction (a consistent snapshot) and return its result."""
        try:
            with self.engine.connect() as conn:
                return work(conn)
        except (DBAPIError, sqlite3.Error) as exc:
            raise self._translate(exc, "read") from exc

    def write(self, work: Callable[[Connection], T]) -> T:
        """Run ``work`` in one write transaction, committed when it returns, rolled back when it raises.

        ``work`` may run more than once (each attempt from scratch) when the database was busy.

        :raises JobStoreError: (a subclass naming the problem) when the database cannot be written
        """
        attempt = 0
        while True:
            attempt += 1
            try:
                with self.engine.connect() as conn, conn.execution_options(**{_BEGIN_OPTION: "IMMEDIATE"}).begin():
                    return work(conn)
            except (DBAPIError, sqlite3.Error) as exc:
                if self._is_locked(exc) and attempt <= self.lock_retries:
                    logger.warning(
                        "database %s is locked by another process; trying again (%d of %d)",
                        self.display,
                        attempt,
                        self.lock_retries,
                    )
                    continue
                if self._is_retryable(exc) and attempt <= 5:
                    logger.debug("retrying a transaction on %s after %s", self.display, _driver_error(exc))
                    continue
                raise self._translate(exc, "write") from exc

    def dispose(self) -> None:
        """Close the pooled connections of an engine this object created."""
        if self.owns_engine:
            self.engine.dispose()

    # ------------------------------------------------------------------------------------------------ errors
    def _is_locked(self, exc: Exception) -> bool:
        return _sqlite_code(exc) in (_SQLITE_BUSY, _SQLITE_LOCKED)

    def _is_retryable(self, exc: Exception) -> bool:
        return getattr(_driver_error(exc), "sqlstate", None) in _PG_RETRYABLE

    def _translate(self, exc: Exception, action: str) -> JobStoreError:
        code = _sqlite_code(exc)
        orig = _driver_error(exc)
        detail = str(orig)
        if code in (_SQLITE_BUSY, _SQLITE_LOCKED):
            return DatabaseLockedError(
                self.display,
                f"is locked by another process (gave up after {self.lock_retries + 1} attempts: {detail})",
            )
        if code == _SQLITE_READONLY:
            return DatabaseReadOnlyError(
                self.display, f"is read-only: nbsched cannot {action} it ({detail}); check the file's permissions"
            )
        if code == _SQLITE_FULL:
            return DatabaseFullError(
                self.display, f"is full ({detail}): the change was rolled back and nothing stored was lost"
            )
        if code == _SQLITE_CANTOPEN:
            return JobStoreError(self.display, f"cannot be opened ({detail}); check the path and its permissions")
        if isinstance(exc, OperationalError | sqlite3.OperationalError):
            return JobStoreError(self.display, f"cannot be used ({detail})")
        return JobStoreError(self.display, f"failed to {action} ({type(orig).__name__}: {detail})")


def _driver_error(exc: Exception) -> BaseException:
    return exc.orig if isinstance(exc, DBAPIError) and exc.orig is not None else exc


def _sqlite_code(exc: Exception) -> int | None:
    orig = _driver_error(exc)
    if isinstance(orig, sqlite3.Error):
        code = getattr(orig, "sqlite_errorcode", None)
        if isinstance(code, int):
            return code & 0xFF
        text = str(orig)  # errors raised before a statement ran carry no code
        if "locked" in text:
            return _SQLITE_BUSY
        if "readonly" in text or "read-only" in text:
            return _SQLITE_READONLY
        if "full" in text:
            return _SQLITE_FULL
    return None


def _sqlite_on_connect(dbapi_connection: Any, connection_record: Any) -> None:
    dbapi_connection.isolation_level = None  # we emit BEGIN ourselves (see the module docstring)
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA journal_mode")
        if str(cursor.fetchone()[0]).lower() not in ("wal", "memory"):
            # A read-only file keeps its mode; the first write reports it clearly.
            with contextlib.suppress(sqlite3.OperationalError):
                cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
    finally:
        cursor.close()


def _sqlite_on_begin(conn: Connection) -> None:
    mode = conn.get_execution_options().get(_BEGIN_OPTION, "DEFERRED")
    # Straight to the driver: a full SQLAlchemy execute would cost as much as the INSERT it guards. Its errors
    # (a lock held beyond the busy timeout) come out as plain sqlite3 errors, which Database handles too.
    conn.connection.driver_connection.execute(f"BEGIN {mode}")  # type: ignore[union-attr]
