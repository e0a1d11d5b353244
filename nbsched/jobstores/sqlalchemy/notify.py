"""Noticing changes other processes make to the stored jobs, so a sleeping scheduler wakes for them.

- SQLite: ``PRAGMA data_version`` on one long-lived connection changes whenever another connection committed
  to the file. Asking costs microseconds and touches no table; the scheduler asks about once a second while
  idle. (The store's own pooled connections count as "other" too, so a scheduler's own write wakes it once
  more; that pass finds nothing to do.)
- PostgreSQL: writes to the jobs table ``NOTIFY`` a channel in their transaction; a daemon thread ``LISTEN``s
  on its own psycopg connection and wakes the scheduler on each notification, so nothing polls.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from sqlalchemy import Engine

__all__ = ["DataVersionWatcher", "PostgresListener"]

logger = logging.getLogger("nbsched.jobstores.sqlalchemy")


class DataVersionWatcher:
    """Watches a SQLite file through ``PRAGMA data_version`` on a dedicated connection."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._lock = threading.Lock()
        self._conn: Any = None
        self._last: int | None = None

    def _read(self) -> int:
        if self._conn is None:
            # A raw pooled connection in autocommit (isolation_level None): the pragma opens no transaction,
            # so it never pins an old WAL snapshot.
            self._conn = self._engine.raw_connection()
        cursor = self._conn.cursor()
        try:
            cursor.execute("PRAGMA data_version")
            return int(cursor.fetchone()[0])
        finally:
            cursor.close()

    def reset(self) -> None:
        """Take the current version as the baseline."""
        with self._lock:
            self._last = self._read()

    def changed(self) -> bool:
        """Whether another connection committed since the last call (or :meth:`reset`)."""
        with self._lock:
            version = self._read()
            changed = self._last is not None and version != self._last
            self._last = version
            return changed

    def close(self) -> None:
        """Give the connection back to the pool."""
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None


class PostgresListener:
    """A daemon thread that ``LISTEN``s on ``channel`` and calls ``callback`` for each notification.

    It reconnects (waking the scheduler, which may have missed notifications meanwhile) when its connection
    breaks, and ends within ``poll`` seconds of :meth:`stop`.
    """

    def __init__(self, engine: Engine, channel: str, callback: Callable[[], Any], poll: float = 0.5) -> None:
        self._engine = engine
        self._channel = channel
        self._callback = callback
        self._poll = poll
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"nbsched-listen-{channel}", daemon=True)
        #: set once the thread listens (tests wait for it)
        self.listening = threading.Event()

    def start(self) -> None:
        """Start listening in the background."""
        self._thread.start()

    def stop(self) -> None:
        """Stop listening and wait for the thread to end."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=10 * self._poll + 5)

    def _connect(self) -> Any:
        import psycopg

        cargs, cparams = self._engine.dialect.create_connect_args(self._engine.url)
        conn = psycopg.connect(*cargs, **cparams, autocommit=True)
        conn.execute(f'LISTEN "{self._channel}"')
        return conn

    def _run(self) -> None:
        delay = self._poll
        while not self._stop.is_set():
            try:
                conn = self._connect()
            except Exception as exc:  # the database may be down for a while: retry with back-off
                logger.warning("cannot LISTEN for job changes (%s); retrying in %.0f s", exc, delay)
                self._stop.wait(delay)
                delay = min(delay * 2, 30.0)
                continue
            delay = self._poll
            self.listening.set()
            self._callback()  # changes made while we were not listening
            try:
                with conn:
                    while not self._stop.is_set():
                        for _ in conn.notifies(timeout=self._poll):
                            self._callback()
            except Exception as exc:  # a broken connection: reconnect
                if not self._stop.is_set():
                    logger.warning("lost the LISTEN connection for job changes (%s); reconnecting", exc)
            finally:
                self.listening.clear()
