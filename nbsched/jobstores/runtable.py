"""The in-memory run history: :class:`RunTable`, the default run history of any job store (and the memory store's).

A storage engine, so it lives with the stores; :mod:`nbsched.runs` holds the run records it keeps. Finished runs
are kept packed by :class:`_Packer` (see :class:`RunTable` for what that buys).
"""

from __future__ import annotations

import marshal
import threading
import time
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta, tzinfo

import attrs

from nbsched.runs import ACTIVE, FINISHED, Run, RunFilter, RunStatus, mark_run_lost

__all__ = ["PRUNE_JOBS_AT_ONCE", "RunTable"]

#: jobs whose runs :meth:`RunTable.prune` looks at under one hold of its lock
PRUNE_JOBS_AT_ONCE = 20


class RunTable:
    """Run records kept in this process's memory: the default run history of any job store.

    Thread-safe. Persistent stores replace it with their ``runs`` table. Runs are indexed by job, so that
    retention and a job's history look at that job's runs only, and the lost-run check looks only at runs that
    were scheduled or running: with a thousand jobs keeping a hundred runs each, neither walks 100,000 runs
    under the lock that the firing path takes to record new runs.

    A finished run is kept packed (:class:`_Packer`): bytes, which Python's cyclic garbage collector does not
    track. A history of Run objects grows the collector's young generation by one object per fire, so the
    collector runs every few hundred fires and walks the history in its older generations; packed, a steady
    stream of fires adds nothing for it to walk (reads unpack a copy, as they copied before).
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        # run id -> the run: the object itself while it may change, packed bytes once finished
        self._runs: dict[str, Run | bytes] = {}
        # job id -> {scheduled_at: run id}: the unique (job_id, scheduled_at) key, and each job's runs
        self._by_job: dict[str, dict[datetime, str]] = {}
        # runs scheduled or running when last seen here (some may have finished since): the lost-run candidates
        self._maybe_active: dict[str, Run] = {}
        self._packer = _Packer()

    def _insert(self, run: Run) -> bool:
        times = self._by_job.setdefault(run.job_id, {})
        if run.scheduled_at in times:
            return False
        times[run.scheduled_at] = run.id
        if run.status in ACTIVE:
            self._runs[run.id] = run  # this process's own object: reads hand out copies
            self._maybe_active[run.id] = run
        else:
            self._keep_finished(run)
        return True

    def _keep_finished(self, run: Run) -> None:
        self._runs[run.id] = self._packer.pack(run) or run  # a run holding values bytes cannot hold stays as is

    def _run(self, stored: Run | bytes) -> Run:
        """The stored run: the object itself, or the unpacked copy of a finished one."""
        return self._packer.unpack(stored) if isinstance(stored, bytes) else stored

    def _copy(self, stored: Run | bytes) -> Run:
        return self._packer.unpack(stored) if isinstance(stored, bytes) else attrs.evolve(stored)

    def _remove(self, run: Run) -> None:
        self._runs.pop(run.id, None)
        self._maybe_active.pop(run.id, None)
        times = self._by_job.get(run.job_id)
        if times is not None and times.get(run.scheduled_at) == run.id:
            del times[run.scheduled_at]
            if not times:
                del self._by_job[run.job_id]

    def add(self, run: Run) -> bool:
        with self._lock:
            return self._insert(run)

    def add_many(self, runs: list[Run]) -> None:
        """Record runs known to be new (their fires were just claimed), under one lock."""
        with self._lock:
            for run in runs:
                self._insert(run)

    def update(self, run: Run) -> None:
        with self._lock:
            self._update(run)

    def update_many(self, runs: Iterable[Run]) -> None:
        """:meth:`update` each of ``runs``, under one hold of the lock (the run writer's batches)."""
        with self._lock:
            for run in runs:
                self._update(run)

    def _update(self, run: Run) -> None:
        found = self._runs.get(run.id)
        if found is None:
            return
        stored = self._run(found)
        if run is not stored:
            if stored.status is not RunStatus.CANCELLED:
                stored = run
            else:  # a cancelled run stays cancelled; what it left behind is still recorded
                stored.outputs, stored.cell_index = run.outputs, run.cell_index
                stored.input_sha256, stored.traceback = run.input_sha256, run.traceback
                stored.warnings = run.warnings
        # The scheduler changes its own run objects in place (a retry makes a failed run scheduled again).
        if stored.status in ACTIVE:
            self._runs[run.id] = self._maybe_active[run.id] = stored
        else:
            self._maybe_active.pop(run.id, None)
            self._keep_finished(stored)

    def cancel(self, run_id: str, at: datetime, reason: str) -> Run | None:
        with self._lock:
            run = self._runs.get(run_id)
            if run is None or isinstance(run, bytes) or run.status not in ACTIVE:
                return None
            run.status = RunStatus.CANCELLED  # in place: the scheduler tracking this object sees it cancelled
            run.finished_at = at
            run.error_type, run.error_message = "Cancelled", reason
            self._maybe_active.pop(run_id, None)
            self._keep_finished(run)
            return attrs.evolve(run)

    def get(self, run_id: str) -> Run | None:
        with self._lock:
            run = self._runs.get(run_id)
            return self._copy(run) if run is not None else None

    def query(self, run_filter: RunFilter) -> list[Run]:
        # Packed runs are finished: a filter for active statuses leaves them packed.
        finished_too = run_filter.status is None or not run_filter.status.isdisjoint(FINISHED)
        limit = run_filter.limit
        with self._lock:
            if run_filter.job_id is None:
                found = []
                for stored in self._runs.values():
                    run = self._matching(stored, finished_too, run_filter)
                    if run is not None:
                        found.append(run)
                found.sort(key=lambda run: run.scheduled_at, reverse=True)
                return found[:limit] if limit is not None else found
            # One job's runs: newest first by their key, unpacking only until the limit is reached.
            times = self._by_job.get(run_filter.job_id, {})
            found = []
            for scheduled_at in sorted(times, reverse=True):
                if limit is not None and len(found) >= limit:
                    break
                run = self._matching(self._runs[times[scheduled_at]], finished_too, run_filter)
                if run is not None:
                    found.append(run)
            return found

    def _matching(self, stored: Run | bytes, finished_too: bool, run_filter: RunFilter) -> Run | None:
        """A copy of the stored run if it passes the filter."""
        if isinstance(stored, bytes):
            if not finished_too:
                return None
            run = self._packer.unpack(stored)
            return run if run_filter.matches(run) else None
        return attrs.evolve(stored) if run_filter.matches(stored) else None

    def heartbeat(self, run_ids: list[str], at: datetime) -> list[str]:
        gone = []
        with self._lock:
            for run_id in run_ids:
                run = self._runs.get(run_id)
                if isinstance(run, Run) and run.status in ACTIVE:  # packed runs are finished
                    run.heartbeat_at = at
                else:
                    gone.append(run_id)
        return gone

    def mark_lost(self, stale_before: datetime, now: datetime) -> list[Run]:
        with self._lock:
            lost = []
            for run in list(self._maybe_active.values()):
                if run.status not in ACTIVE:
                    del self._maybe_active[run.id]  # finished since it was recorded
                    continue
                beat = run.heartbeat_at
                if beat is not None and beat < stale_before:
                    mark_run_lost(run, now)
                    del self._maybe_active[run.id]
                    self._keep_finished(run)
                    lost.append(attrs.evolve(run))
            return lost

    def delete(self, run_ids: list[str]) -> None:
        with self._lock:
            for run_id in run_ids:
                run = self._runs.get(run_id)
                if run is not None:
                    self._remove(self._run(run))

    def prune(self, keep_last: int | None, older_than: datetime | None) -> list[Run]:
        """Delete finished runs beyond the newest ``keep_last`` of each job, and those scheduled before
        ``older_than``; return them.

        Works through the jobs a few at a time, letting go of the lock (and of the GIL) in between, so that
        recording new runs never waits for more than a few jobs' worth of pruning.
        """
        if keep_last is None and older_than is None:
            return []
        with self._lock:
            job_ids = list(self._by_job)
        doomed: list[Run] = []
        for start in range(0, len(job_ids), PRUNE_JOBS_AT_ONCE):
            with self._lock:
                pruned = [
                    self._prune_job(job_id, keep_last, older_than)
                    for job_id in job_ids[start : start + PRUNE_JOBS_AT_ONCE]
                ]
            looked = [runs for runs in pruned if runs is not None]
            for runs in looked:
                doomed.extend(runs)
            if looked:
                time.sleep(0)  # let a waiting thread (the scheduler's, about to fire) run
        return doomed

    def _prune_job(self, job_id: str, keep_last: int | None, older_than: datetime | None) -> list[Run] | None:
        """The job's pruned runs (``None``: it has too few runs to look at them)."""
        times = self._by_job.get(job_id)
        if not times or (older_than is None and keep_last is not None and len(times) <= keep_last):
            return None
        runs = self._runs
        # Packed runs are finished; the key gives each one's scheduled time without unpacking it.
        finished = [
            (scheduled_at, run_id)
            for scheduled_at, run_id in times.items()
            if isinstance(stored := runs[run_id], bytes) or stored.status in FINISHED
        ]
        finished.sort(reverse=True)
        doomed = [
            self._run(runs[run_id])
            for index, (scheduled_at, run_id) in enumerate(finished)
            if (keep_last is not None and index >= keep_last) or (older_than is not None and scheduled_at < older_than)
        ]
        for run in doomed:
            self._remove(run)
        return doomed


class _Packer:
    """Packs a finished :class:`Run` into bytes of plain values (``marshal``, in this process only: nothing
    packed is ever read from outside it) and back, exactly: datetimes keep their zone object and ``fold``.

    Time zones are numbered as they are met (a history holds a handful); only the table's lock calls it.
    """

    def __init__(self) -> None:
        self._zones: list[tzinfo | None] = [None]
        self._zone_numbers: dict[tzinfo | None, int] = {None: 0}

    def pack(self, run: Run) -> bytes | None:
        """``run`` packed, or ``None`` when it holds something bytes cannot (a value of another type)."""
        instant = self._instant
        try:
            return marshal.dumps(
                (
                    run.id,
                    run.job_id,
                    instant(run.scheduled_at),
                    run.status._value_,
                    run.attempt,
                    instant(run.started_at),
                    instant(run.finished_at),
                    run.worker,
                    instant(run.heartbeat_at),
                    run.error_type,
                    run.error_message,
                    run.traceback,
                    run.progress,
                    run.cell_index,
                    run.outputs or None,
                    run.input_sha256,
                    tuple(run.warnings) or None,  # a tuple: marshal keeps a list's type, a tuple costs less
                ),
                2,  # no references between values to track: the quickest format
            )
        except (ValueError, TypeError, AttributeError):  # marshal refuses subclasses and objects; or no datetime
            return None

    def unpack(self, data: bytes) -> Run:
        (id_, job_id, scheduled_at, status, attempt, started_at, finished_at, worker, heartbeat_at, error_type,
         error_message, traceback, progress, cell_index, outputs, input_sha256,
         warnings) = marshal.loads(data)  # fmt: skip
        instant = self._datetime
        return Run(
            id=id_,
            job_id=job_id,
            scheduled_at=instant(scheduled_at),
            status=_STATUSES[status],
            attempt=attempt,
            started_at=instant(started_at) if started_at is not None else None,
            finished_at=instant(finished_at) if finished_at is not None else None,
            worker=worker,
            heartbeat_at=instant(heartbeat_at) if heartbeat_at is not None else None,
            error_type=error_type,
            error_message=error_message,
            traceback=traceback,
            progress=progress,
            cell_index=cell_index,
            outputs=outputs or {},
            input_sha256=input_sha256,
            warnings=list(warnings) if warnings else [],
        )

    def _instant(self, value: datetime | None) -> int | tuple[int, int] | None:
        """A UTC datetime as microseconds since the epoch; any other as wall-clock microseconds since year 1
        and zone number * 2 + fold."""
        if value is None:
            return None
        if type(value) is not datetime:
            raise TypeError("not a plain datetime")
        zone = value.tzinfo
        if zone is UTC:  # the clock's own times, and most scheduled times
            return (value - _EPOCH) // _MICROSECOND
        number = self._zone_numbers.get(zone)
        if number is None:
            number = self._zone_numbers[zone] = len(self._zones)
            self._zones.append(zone)
        return (value.replace(tzinfo=None, fold=0) - _YEAR_ONE) // _MICROSECOND, number * 2 + value.fold

    def _datetime(self, value: int | tuple[int, int]) -> datetime:
        if type(value) is int:
            return _EPOCH + timedelta(microseconds=value)
        wall, code = value  # type: ignore[misc]
        return (_YEAR_ONE + timedelta(microseconds=wall)).replace(tzinfo=self._zones[code >> 1], fold=code & 1)


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_STATUSES = {status.value: status for status in RunStatus}
_YEAR_ONE = datetime(1, 1, 1)
_MICROSECOND = timedelta(microseconds=1)
