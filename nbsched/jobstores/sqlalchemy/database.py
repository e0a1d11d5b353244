"""The job store's connection to its database: engine set-up, transactions, retries and clear errors.

SQLite: WAL mode (readers never block the writer), ``synchronous=NORMAL`` (a commit is durable once the WAL is
checkpointed; a power cut can lose the last commits but never corrupts the file), a busy timeout, and every
write in ``BEGIN IMMEDIATE``: the write lock is taken when the transaction starts, so concurrent processes queue
on the busy timeout instead of failing with "database is locked" when a read transaction upgrades to a write.
pysqlite's own transaction handling is switched off (``isolation_level = None``) and the ``begin`` event emits
the ``BEGIN`` SQLAlchemy asks for, as SQLAlchemy's documentation recommends for pysqlite.

PostgreSQL: READ COMMITTED; a write that deadlocks or fails to serialise is retried (at most five times).

Every retry, of a locked SQLite write as of a PostgreSQL one, first backs off: an exponentially growing, capped
delay with jitter (:mod:`~nbsched.jobstores.sqlalchemy.retry`), so the transactions that collided do not collide
again at once.
"""

from __future__ import annotations

import contextlib
import logging
import re
import sqlite3
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError, OperationalError
from sqlalchemy.pool import StaticPool

from nbsched.exceptions import ConfigurationError
from nbsched.jobstores.sqlalchemy.errors import (
    DatabaseFullError,
    DatabaseLockedError,
    DatabaseReadOnlyError,
    JobStoreError,
)
from nbsched.jobstores.sqlalchemy.retry import Backoff
from nbsched.paths import ensure_private_file

__all__ = ["Database", "PreparedStatement", "check_settings", "sqlite_file"]

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
#: how many times such a transaction is tried again before its error is raised
_PG_RETRIES = 5


def sqlite_file(url: URL) -> Path | None:
    """The file of a SQLite URL, or ``None`` (another database, in-memory SQLite, or a ``file:`` URI)."""
    if url.get_backend_name() != "sqlite" or url.query.get("uri") or not url.database:
        return None
    if url.database == ":memory:" or url.database.startswith("file:"):
        return None
    return Path(url.database).expanduser().absolute()


def check_settings(owner: str, url: Any, engine: Any, engine_options: Any) -> None:
    """Refuse arguments of the wrong type before SQLAlchemy sees them (it would fail later, and obscurely).

    :param owner: the class the arguments were given to, for the message
    :raises ConfigurationError: naming ``owner``, the argument and its value
    """
    if url is not None and not isinstance(url, str | URL):
        raise ConfigurationError(owner, "url", url, "must be a database URL (a string or a sqlalchemy URL)")
    if engine is not None and not isinstance(engine, Engine):
        raise ConfigurationError(owner, "engine", engine, "must be a sqlalchemy Engine (or a reference to one)")
    if engine is None and url is None:
        raise ConfigurationError(owner, "url", url, "must be given when there is no engine")
    if engine_options is not None:
        if not isinstance(engine_options, Mapping) or not all(isinstance(key, str) for key in engine_options):
            raise ConfigurationError(
                owner, "engine_options", engine_options, "must be a dict of sqlalchemy.create_engine() arguments"
            )
        connect_args = engine_options.get("connect_args")
        if connect_args is not None and not isinstance(connect_args, Mapping):
            raise ConfigurationError(
                owner, "engine_options", engine_options, "must hold connect_args as a dict of driver arguments"
            )


def _create_engine(owner: str, url: str | URL, options: dict[str, Any]) -> Engine:
    """The store's own engine for ``url`` (SQLite: its file made private first, the busy timeout, in-memory
    databases on one shared connection).

    :raises JobStoreError: when the URL cannot be read, names no installed dialect or driver, or its SQLite
        file cannot be created
    :raises ConfigurationError: when ``create_engine`` refuses one of the ``options``
    """
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError) as exc:
        raise JobStoreError(
            _hide_password(str(url)),
            f"is not a database URL ({exc}); give dialect://..., such as sqlite:////path/to/jobs.db or "
            "postgresql+psycopg://user@host/dbname",
        ) from None
    display = parsed.render_as_string(hide_password=True)
    path = sqlite_file(parsed)
    if path is not None:
        try:
            ensure_private_file(path)
        except OSError as exc:
            reason = exc.strerror or str(exc)
            problem = f"cannot be created ({reason}); check the path and its permissions"
            raise JobStoreError(str(path), problem) from None
    passed = dict(options)
    if parsed.get_backend_name() == "sqlite":
        connect_args = dict(options.pop("connect_args", None) or {})
        connect_args.setdefault("timeout", DEFAULT_BUSY_TIMEOUT)
        connect_args.setdefault("check_same_thread", False)
        options["connect_args"] = connect_args
        if path is None and not parsed.query.get("uri"):
            options.setdefault("poolclass", StaticPool)  # in-memory: one shared connection
    try:
        return create_engine(parsed, **options)
    except NoSuchModuleError:
        raise JobStoreError(
            display, f"cannot be opened: SQLAlchemy has no dialect {parsed.drivername!r} (use sqlite or postgresql)"
        ) from None
    except ImportError as exc:
        raise JobStoreError(display, f"cannot be opened: its driver is not installed ({exc})") from None
    except (ArgumentError, TypeError) as exc:
        if passed:
            problem = f"are refused by create_engine(): {exc}"
            raise ConfigurationError(owner, "engine_options", passed, problem) from None
        raise JobStoreError(display, f"cannot be opened ({exc})") from None


def _hide_password(text: str) -> str:
    """``text`` with the password of a ``scheme://user:password@host`` URL replaced by ``***``."""
    return re.sub(r"(://[^:/@]*:)[^@/]*@", r"\1***@", text)


class PreparedStatement:
    """A DML statement compiled once for a dialect and run with :meth:`~sqlalchemy.engine.Connection.exec_driver_sql`.

    ``Connection.execute`` spends about 30 µs per statement finding the compiled form and processing its
    parameters, as much as SQLite's own work for the single-row statements of the store's hot paths (adding a job,
    claiming a due fire, recording a run). Here the SQL text, the order of its parameters and their bind processors
    (the store's :class:`~nbsched.jobstores.sqlalchemy.models.UTCMicroseconds` columns, booleans) are worked out
    once, by SQLAlchemy, so the statement is the same as ``execute`` would run.

    :param statement: an ``INSERT``/``UPDATE``/``DELETE`` whose bind parameters all have names
    :param dialect: the engine's dialect
    :param column_keys: for an ``INSERT``/``UPDATE`` without ``.values()``: the columns it sets (each
        parameter named after its column)
    """

    def __init__(self, statement: Any, dialect: Any, column_keys: Sequence[str] | None = None) -> None:
        compiled = statement.compile(dialect=dialect, column_keys=list(column_keys) if column_keys else None)
        self.sql = str(compiled)
        names: list[str] = list(compiled.positiontup) if compiled.positional else list(compiled.binds)
        self._positional = bool(compiled.positional)
        self._names = names
        self._processors = [(name, compiled.binds[name].type.bind_processor(dialect)) for name in names]

    def parameters(self, values: Mapping[str, Any]) -> tuple[Any, ...] | dict[str, Any]:
        """The driver's parameters for ``values`` (Python values keyed by bind name)."""
        converted = [values[name] if process is None else process(values[name]) for name, process in self._processors]
        return tuple(converted) if self._positional else dict(zip(self._names, converted, strict=True))

    def execute(self, conn: Connection | Any, values: Mapping[str, Any]) -> Any:
        """Run it once in the transaction of ``conn`` (a SQLAlchemy connection, or the driver connection that
        :meth:`Database.write_prepared` hands over); the result has ``rowcount``."""
        if isinstance(conn, Connection):
            return conn.exec_driver_sql(self.sql, self.parameters(values))
        return conn.execute(self.sql, self.parameters(values))

    def execute_many(self, conn: Connection | Any, rows: Iterable[Mapping[str, Any]]) -> None:
        """Run it for every row of values (one ``executemany``)."""
        params = [self.parameters(values) for values in rows]
        if not params:
            return
        if isinstance(conn, Connection):
            conn.exec_driver_sql(self.sql, params)
        else:
            conn.executemany(self.sql, params)


class Database:
    """An engine plus the transaction discipline of the job store.

    :param url: database URL (used when ``engine`` is ``None``)
    :param engine: an engine to use as it is (the caller keeps ownership; SQLite pragmas are still applied to
        the connections it opens from now on)
    :param engine_options: keyword arguments to :func:`sqlalchemy.create_engine`
    :param lock_retries: how many times a write that found the SQLite database locked beyond its busy
        timeout is tried again (each with a warning) before :class:`DatabaseLockedError`
    :param owner: the class whose arguments these are, named by the errors about them
    :param backoff: the waits before retries (default: :class:`~nbsched.jobstores.sqlalchemy.retry.Backoff`)
    :raises ConfigurationError: for an argument of the wrong type, or options ``create_engine`` refuses
    :raises JobStoreError: when the URL cannot be read or opened, or its SQLite file cannot be created
    """

    def __init__(
        self,
        url: str | URL | None,
        engine: Engine | None,
        engine_options: dict[str, Any] | None = None,
        lock_retries: int = 2,
        owner: str = "Database",
        backoff: Backoff | None = None,
    ) -> None:
        check_settings(owner, url, engine, engine_options)
        if isinstance(lock_retries, bool) or not isinstance(lock_retries, int) or lock_retries < 0:
            raise ConfigurationError(owner, "lock_retries", lock_retries, "must be a whole number of at least 0")
        options = dict(engine_options or {})
        self.owns_engine = engine is None
        if engine is None:
            assert url is not None
            engine = _create_engine(owner, url, options)
        self.engine = engine
        self.url = engine.url
        self.dialect = engine.dialect.name
        self.file = sqlite_file(engine.url)
        #: the file or the URL without its password, for messages
        self.display = str(self.file) if self.file else engine.url.render_as_string(hide_password=True)
        if self.dialect not in ("sqlite", "postgresql"):
            if self.owns_engine:
                engine.dispose()
            raise JobStoreError(self.display, f"is a {self.dialect} database; nbsched stores use SQLite or PostgreSQL")
        self.lock_retries = lock_retries
        #: the waits before retries
        self.backoff = backoff if backoff is not None else Backoff()
        # A StaticPool hands its one connection (in-memory SQLite) to every thread at once, and a sqlite3
        # connection holds one transaction: the scheduler's and the run recorder's would start inside each other
        # ("cannot start a transaction within a transaction"). Their reads and writes take turns on this lock.
        # (Only there: pooled connections need no lock, and the hot paths take none.)
        self._serial: threading.RLock | None = threading.RLock() if isinstance(engine.pool, StaticPool) else None
        #: writes of prepared statements go straight to the driver (see :meth:`write_prepared`)
        # (Not for in-memory SQLite, whose one connection the StaticPool hands to every reader as well.)
        self._driver_writes = (
            self.dialect == "sqlite"
            and self.owns_engine
            and not engine.echo
            and not isinstance(engine.pool, StaticPool)
        )
        self._writer: Any = None  # the pooled connection those writes share (opened on first use)
        self._writer_lock = threading.Lock()
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
        if self._serial is not None:
            with self._serial:
                return self._read(work)
        return self._read(work)

    def _read(self, work: Callable[[Connection], T]) -> T:
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

        def attempt() -> T:
            with self.engine.connect() as conn, conn.execution_options(**{_BEGIN_OPTION: "IMMEDIATE"}).begin():
                return work(conn)

        if self._serial is not None:
            with self._serial:
                return self._retrying(attempt)
        return self._retrying(attempt)

    def write_prepared(self, work: Callable[[Any], T]) -> T:
        """:meth:`write` for ``work`` that runs :class:`PreparedStatement` objects only.

        On a SQLite engine of the store's own, ``work`` gets the driver's connection and the transaction runs on
        it directly (``BEGIN IMMEDIATE`` ... ``COMMIT``): SQLAlchemy's ``Connection`` and its events cost about as
        much as SQLite's own work for the one-row writes of the hot paths. SQLite lets one connection write at a
        time, so these writes share one connection, held for the store's life, behind a lock. An engine the
        caller passed in keeps its events (and ``echo``): ``work`` gets a SQLAlchemy connection there, as on
        PostgreSQL.
        """
        if not self._driver_writes:
            return self.write(work)

        def attempt() -> T:
            with self._writer_lock:
                if self._writer is None:
                    self._writer = self.engine.raw_connection()
                dbapi = self._writer.driver_connection
                assert dbapi is not None
                try:
                    dbapi.execute("BEGIN IMMEDIATE")
                    try:
                        result = work(dbapi)
                        dbapi.execute("COMMIT")
                    except BaseException:
                        with contextlib.suppress(sqlite3.Error):
                            dbapi.execute("ROLLBACK")
                        raise
                except sqlite3.Error as exc:
                    if not self._is_locked(exc):
                        self._close_writer()  # a fresh connection next time, whatever state this one is in
                    raise
                return result

        return self._retrying(attempt)

    def _close_writer(self) -> None:
        writer, self._writer = self._writer, None
        if writer is not None:
            with contextlib.suppress(Exception):
                writer.close()

    def _retrying(self, attempt_once: Callable[[], T]) -> T:
        attempt = 0
        while True:
            attempt += 1
            try:
                return attempt_once()
            except (DBAPIError, sqlite3.Error) as exc:
                if self._is_locked(exc) and attempt <= self.lock_retries:
                    logger.warning(
                        "database %s is locked by another process; trying again (%d of %d)",
                        self.display,
                        attempt,
                        self.lock_retries,
                    )
                    self.backoff.wait(attempt)
                    continue
                if self._is_retryable(exc) and attempt <= _PG_RETRIES:
                    logger.debug("retrying a transaction on %s after %s", self.display, _driver_error(exc))
                    self.backoff.wait(attempt)
                    continue
                raise self._translate(exc, "write") from exc

    def dispose(self) -> None:
        """Close the connections of an engine this object created."""
        with self._writer_lock:
            self._close_writer()
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
