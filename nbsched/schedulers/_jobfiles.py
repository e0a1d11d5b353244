"""Jobs to and from files: ``print_jobs`` (APScheduler 3's layout), ``export_jobs`` and ``import_jobs`` (JSON, no
pickle).

A piece of :class:`~nbsched.schedulers.base.BaseScheduler` (see :mod:`nbsched.schedulers._core`).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO

from nbsched.exceptions import SchedulerNotStartedError, SerializationError
from nbsched.job import Job
from nbsched.schedulers._core import JOB_OPTIONS, STATE_STOPPED, SchedulerCore

__all__ = ["JobFilesAPI"]


class JobFilesAPI(SchedulerCore):
    """print_jobs, export_jobs, import_jobs."""

    def print_jobs(self, jobstore: str | None = None, out: IO[str] | None = None) -> None:
        """Print the jobs, in APScheduler 3's layout, to ``out`` (default ``sys.stdout``)."""
        out = out or sys.stdout
        with self._jobstores_lock:
            if self.state == STATE_STOPPED:
                print("Pending jobs:", file=out)
                pending = [job for job, alias, _ in self._pending_jobs if jobstore in (None, alias)]
                for job in pending:
                    print(f"    {job}", file=out)
                if not pending:
                    print("    No pending jobs", file=out)
            else:
                for alias, store in sorted(self._jobstores.items()):
                    if jobstore in (None, alias):
                        print(f"Jobstore {alias}:", file=out)
                        jobs = store.get_all_jobs()
                        for job in jobs:
                            print(f"    {job}", file=out)
                        broken = store.get_broken_jobs()
                        for job_id, reason in broken:
                            print(f"    {job_id} (cannot be loaded, kept in the store: {reason})", file=out)
                        if not jobs and not broken:
                            print("    No scheduled jobs", file=out)

    def export_jobs(self, outfile: str | IO[str], jobstore: str | None = None) -> None:
        """Write the jobs as JSON (``{"version": 1, "jobs": [...]}``; no pickle) to a path or text file.

        :raises SchedulerNotStartedError: (a ``RuntimeError``) before :meth:`start`, as APScheduler
        :raises TransientJobError: for a job whose callable has no textual reference
        :raises SerializationError: for a job whose arguments are not JSON-serialisable
        """
        if self.state == STATE_STOPPED:
            raise SchedulerNotStartedError("job export")
        document = {"version": 1, "jobs": [job.to_dict() for job in self.get_jobs(jobstore)]}
        with _open(outfile, "w") as handle:
            json.dump(document, handle, indent=2)

    def import_jobs(self, infile: str | IO[str], jobstore: str = "default") -> None:
        """Add the jobs of an :meth:`export_jobs` document (replacing jobs with the same ids)."""
        with _open(infile, "r") as handle:
            try:
                document = json.load(handle)
            except json.JSONDecodeError as exc:
                raise SerializationError("import_jobs", "infile", str(infile), f"is not JSON: {exc}") from None
        if not isinstance(document, dict) or not isinstance(document.get("jobs"), list):
            raise SerializationError("import_jobs", "infile", str(infile), 'has no "jobs" list')
        jobs = [Job.from_dict(state, self) for state in document["jobs"]]
        with self._jobstores_lock:
            for job in jobs:
                job._explicit = frozenset((*JOB_OPTIONS, "next_run_time"))
                if self.state == STATE_STOPPED:
                    self._pending_jobs.append((job, jobstore, True))
                else:
                    self._real_add_job(job, jobstore, True, "import_jobs")


@contextmanager
def _open(target: str | IO[str], mode: str) -> Iterator[IO[str]]:
    if isinstance(target, str):
        with open(target, mode, encoding="utf-8") as handle:
            yield handle
    else:
        yield target
