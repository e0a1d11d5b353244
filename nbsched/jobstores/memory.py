"""The in-memory job store: APScheduler's default, nothing persists."""

from __future__ import annotations

import math
from bisect import bisect_left, bisect_right
from datetime import datetime

from nbsched.abc import JobStore
from nbsched.exceptions import ConflictingIdError, JobLookupError
from nbsched.job import Job
from nbsched.jobstores.runtable import RunTable
from nbsched.runs import Run

__all__ = ["MemoryJobStore"]

# Sort key of a job: (next run time as a timestamp, or +inf when paused; insertion sequence as tie-breaker).
_Key = tuple[float, int]


class MemoryJobStore(JobStore):
    """Keeps jobs in a list sorted by next run time, plus an index by id.

    Jobs are kept as the objects themselves (callables need no textual reference here), so lambdas and
    ``__main__`` functions work, as in APScheduler.
    """

    _run_table: RunTable

    def __init__(self) -> None:
        self._keys: list[_Key] = []
        self._jobs: list[Job] = []
        self._index: dict[str, tuple[Job, _Key, datetime | None]] = {}
        self._seq = 0
        self._run_table = RunTable()

    def lookup_job(self, job_id: str) -> Job | None:
        entry = self._index.get(job_id)
        return entry[0] if entry else None

    def get_due_jobs(self, now: datetime) -> list[Job]:
        end = bisect_right(self._keys, (now.timestamp(), math.inf))
        return self._jobs[:end]

    def get_next_run_time(self) -> datetime | None:
        if not self._jobs:
            return None
        return self._jobs[0].next_run_time

    def get_all_jobs(self) -> list[Job]:
        return list(self._jobs)

    def add_job(self, job: Job) -> None:
        if job.id in self._index:
            raise ConflictingIdError(job.id)
        self._insert(job)

    def update_job(self, job: Job) -> None:
        entry = self._index.get(job.id)
        if entry is None:
            raise JobLookupError(job.id)
        self._remove_at(entry[1])
        self._insert(job)

    def _insert(self, job: Job) -> None:
        self._seq += 1
        key = (job.next_run_time.timestamp() if job.next_run_time is not None else math.inf, self._seq)
        keys = self._keys
        # Jobs moved to a later run time usually go last: no search, no shifting of the list.
        position = len(keys) if not keys or keys[-1] < key else bisect_left(keys, key)
        keys.insert(position, key)
        self._jobs.insert(position, job)
        self._index[job.id] = (job, key, job.next_run_time)

    def _claimable(self, job: Job, expected_next_run_time: datetime | None) -> _Key | None:
        """The stored key of ``job`` if its fire at ``expected_next_run_time`` is still unclaimed, else ``None``."""
        # The job objects are shared with the caller, so compare with the run time recorded at the last write.
        entry = self._index.get(job.id)
        return entry[1] if entry is not None and entry[2] == expected_next_run_time else None

    def claim_job(self, job: Job, expected_next_run_time: datetime | None) -> bool:
        if self._claimable(job, expected_next_run_time) is None:
            return False
        self.update_job(job)
        return True

    def claim_jobs(self, claims: list[tuple[Job, datetime | None, list[Run]]]) -> list[bool]:
        # One process, one lock for all new runs: the firing path of the default store stays cheap.
        results: list[bool] = []
        new_runs: list[Run] = []
        won: list[Job] = []
        keys: list[_Key] = []
        for job, expected, runs in claims:
            key = self._claimable(job, expected)
            if key is None:
                results.append(False)
                continue
            won.append(job)
            keys.append(key)
            new_runs.extend(runs)
            results.append(True)
        self._remove_keys(keys)
        for job in won:
            self._insert(job)
        self._run_table.add_many(new_runs)
        return results

    def remove_job(self, job_id: str) -> None:
        entry = self._index.pop(job_id, None)
        if entry is None:
            raise JobLookupError(job_id)
        self._remove_at(entry[1])

    def remove_all_jobs(self) -> None:
        self._keys.clear()
        self._jobs.clear()
        self._index.clear()

    def _remove_at(self, key: _Key) -> None:
        position = bisect_left(self._keys, key)
        del self._keys[position]
        del self._jobs[position]

    def _remove_keys(self, keys: list[_Key]) -> None:
        """Remove the jobs stored under ``keys``; the due jobs of a pass, the first ones in order, go at once."""
        if not keys:
            return
        count = len(keys)
        if keys[0] == self._keys[0] and keys == self._keys[:count]:
            del self._keys[:count]
            del self._jobs[:count]
            return
        for key in keys:
            self._remove_at(key)

    def __repr__(self) -> str:
        return f"<{type(self).__name__}>"  # APScheduler's repr
