"""Noticing changes other processes make to the store, so a sleeping scheduler wakes for them and its store
listeners (the widget panel) hear of them.

- SQLite: ``PRAGMA data_version`` on one long-lived connection changes whenever another connection committed
  to the file. Asking costs microseconds and touches no table; the scheduler asks about once a second while
  idle. (The store's own pooled connections count as "other" too, so a scheduler's own write wakes it once
  more; that pass finds nothing to do.)
- PostgreSQL: writes ``NOTIFY`` a channel in their transaction (:class:`Notifier`), with the payload ``jobs``
  (a job was added, changed or removed) or ``runs`` (a run was recorded or changed status); a daemon thread
  ``LISTEN``s on its own psycopg connection (:class:`PostgresListener`), records that a change arrived
  (:meth:`PostgresListener.take_change`) and wakes the scheduler, so nothing polls. A job change wakes it at
  once (its next due time may be earlier now). Run changes come in bursts while jobs run, and only store
  listeners care about them: they wake it at most once per ``runs_wake_interval`` seconds, about as often as a
  SQLite scheduler looks.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from sqlalchemy import Engine, text

__all__ = ["JOBS", "RUNS", "DataVersionWatcher", "Notifier", "PostgresListener"]

logger = logging.getLogger("nbsched.jobstores.sqlalchemy")

#: ``NOTIFY`` payload of a write to the jobs table
JOBS = "jobs"
#: ``NOTIFY`` payload of a write to the runs table
RUNS = "runs"


class Notifier:
    """Sends the ``NOTIFY`` of a store's writes, in the write's transaction, on PostgreSQL; nothing elsewhere.

    :param dialect: the database's dialect name
    :param channel: the store's channel (``nbsched_<tablename>``)
    """

    def __init__(self, dialect: str, channel: str) -> None:
        #: whether writes notify (PostgreSQL)
        self.enabled = dialect == "postgresql"
        self._channel = channel
        self._statement = text("SELECT pg_notify(:channel, :payload)")

    def jobs(self, conn: Any) -> None:
        """Tell the listeners that the jobs table changed (delivered when ``conn``'s transaction commits)."""
        if self.enabled:
            conn.execute(self._statement, {"channel": self._channel, "payload": JOBS})

    def runs(self, conn: Any) -> None:
        """Tell the listeners that the runs table changed (delivered when ``conn``'s transaction commits)."""
        if self.enabled:
            conn.execute(self._statement, {"channel": self._channel, "payload": RUNS})


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
    """A daemon thread that ``LISTEN``s on ``channel``, records each notification (:meth:`take_change`) and
    calls ``callback`` (the scheduler's ``wakeup``): at once for a job change, at most once per
    ``runs_wake_interval`` seconds for run changes (the last of a burst is not lost: it wakes it when the
    interval is over).

    It reconnects (recording a change and waking the scheduler, which may have missed notifications meanwhile)
    when its connection breaks, and ends within ``poll`` seconds of :meth:`stop`.
    """

    def __init__(
        self,
        engine: Engine,
        channel: str,
        callback: Callable[[], Any],
        poll: float = 0.5,
        runs_wake_interval: float = 1.0,
    ) -> None:
        self._engine = engine
        self._channel = channel
        self._callback = callback
        self._poll = poll
        self._runs_wake_interval = runs_wake_interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"nbsched-listen-{channel}", daemon=True)
        self._changed = False
        self._changed_lock = threading.Lock()
        self._woken_at = float("-inf")  # time.monotonic() of the last callback (only the listener thread uses it)
        self._runs_pending = False  # a run change heard but not yet woken for
        #: set once the thread listens (tests wait for it)
        self.listening = threading.Event()

    def take_change(self) -> bool:
        """Whether a notification (or a reconnection) arrived since the last call."""
        with self._changed_lock:
            changed, self._changed = self._changed, False
            return changed

    def _heard(self, payload: str | None) -> None:
        """Record a change; wake the scheduler for it now, or (run changes) once the interval is over."""
        with self._changed_lock:
            self._changed = True
        if payload == RUNS and time.monotonic() - self._woken_at < self._runs_wake_interval:
            self._runs_pending = True
            return
        self._wake()

    def _wake(self) -> None:
        self._runs_pending = False
        self._woken_at = time.monotonic()
        try:
            self._callback()
        except Exception:  # a failing callback must not end the listener
            logger.exception("error waking the scheduler for a store change")

    def _wake_if_due(self) -> None:
        if self._runs_pending and time.monotonic() - self._woken_at >= self._runs_wake_interval:
            self._wake()

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
        quoted = self._channel.replace('"', '""')  # a quoted identifier: any table name works
        conn.execute(f'LISTEN "{quoted}"')
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
            self._heard(None)  # changes made while we were not listening
            try:
                with conn:
                    while not self._stop.is_set():
                        for notification in conn.notifies(timeout=self._poll):
                            self._heard(notification.payload)
                        self._wake_if_due()
            except Exception as exc:  # a broken connection: reconnect
                if not self._stop.is_set():
                    logger.warning("lost the LISTEN connection for job changes (%s); reconnecting", exc)
            finally:
                self.listening.clear()
