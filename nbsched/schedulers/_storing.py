"""Storing jobs: the checks of a job's store and executor aliases, its defaults and first run time, the batch of
jobs added before the scheduler started, and replacing a stored job (keeping its schedule's place).

A piece of :class:`~nbsched.schedulers.base.BaseScheduler` (see :mod:`nbsched.schedulers._core`); the public
``add_job`` that leads here is in :mod:`nbsched.schedulers._jobs`.
"""

from __future__ import annotations

from nbsched.abc import JobStore
from nbsched.events import EVENT_JOB_ADDED, JobEvent
from nbsched.exceptions import ConflictingIdError, PluginLookupError
from nbsched.job import Job, is_task
from nbsched.schedulers._core import JOB_OPTIONS, STATE_RUNNING, SchedulerCore

__all__ = ["JobStoringAPI"]


class JobStoringAPI(SchedulerCore):
    """_real_add_job and _add_pending_jobs, with the checks and bookkeeping they share."""

    def _prepare_executor(self, job: Job) -> None:
        """Let the job's executor get ready for it ahead of its first run (a notebook executor starts a
        kernel, so that a due run does not wait for one)."""
        try:
            executor = self._lookup_executor(job.executor)
        except LookupError:
            return  # reported when the job is due
        prepare = getattr(executor, "prepare_job", None)
        if prepare is not None:
            try:
                prepare(job)
            except Exception:
                self._logger.exception('Could not prepare executor "%s" for job "%s"', job.executor, job)

    def _check_executor(self, alias: str, owner: str) -> None:
        """Refuse an executor alias this scheduler neither has nor creates on first use (notebook, kernel)."""
        if alias not in self._executors and alias not in self._AUTO_EXECUTORS:
            known = sorted({*self._executors, *self._AUTO_EXECUTORS})
            raise PluginLookupError("executor", alias, known, owner, "executor")

    def _check_aliases(self, job: Job, jobstore_alias: str, owner: str, executor_may_follow: bool = False) -> None:
        """Refuse a job whose job store or executor this scheduler does not have (checked before storing: a job
        with an unknown executor would be stored, then skip every fire).

        :param executor_may_follow: on a running scheduler, as in APScheduler, a job may name an executor that is
            added right after it: then a missing executor is a warning, and fires before it comes are skipped
        """
        if jobstore_alias not in self._jobstores:
            raise PluginLookupError("job store", jobstore_alias, list(self._jobstores), owner, "jobstore")
        if executor_may_follow and job.executor not in self._executors and job.executor not in self._AUTO_EXECUTORS:
            self._logger.warning(
                'Job "%s" names executor "%s", which this scheduler does not have yet: its runs are skipped until '
                "add_executor(..., %r)",
                job,
                job.executor,
                job.executor,
            )
            return
        self._check_executor(job.executor, owner)

    def _real_add_job(self, job: Job, jobstore_alias: str, replace_existing: bool, owner: str = "add_job") -> None:
        # A manage-only scheduler never gets an executor later: an alias it does not know is a typo.
        self._check_aliases(job, jobstore_alias, owner, executor_may_follow=not self.manage_only)
        self._complete(job)
        store = self._jobstores[jobstore_alias]
        try:
            store.add_job(job)
        except ConflictingIdError:
            if not replace_existing:
                raise
            self._replace(store, job)
        self._added(job, jobstore_alias)

    def _add_pending_jobs(self) -> None:
        """Store the jobs added before start(): one batch per job store, then the replacements one by one.

        Every pending job's job store and executor are checked first, so a job naming one that does not exist
        stops start() before anything is stored. A job leaves the pending list only once its store has
        committed it: when a store refuses a job (it cannot be stored by reference, its id is taken) or fails,
        every job not stored is still pending, the error names the job, and start() can be called again.

        :raises PluginLookupError: for a job store or executor that does not exist (nothing is stored)
        :raises TransientJobError: for a job a persistent store cannot keep (that store's batch is not stored)
        :raises ConflictingIdError: for a taken id without ``replace_existing`` (the other jobs are stored)
        """
        attempted: set[int] = set()  # ids of the pending entries tried
        done: set[int] = set()  # ... and of those stored (or superseded), which leave the list at the end
        conflict: ConflictingIdError | None = None
        try:
            while True:
                # Listeners of the job-added events may add jobs while this runs: those are stored too.
                batch = [entry for entry in self._pending_jobs if id(entry) not in attempted]
                if not batch:
                    break
                for job, alias, _ in batch:
                    self._check_aliases(job, alias, f"Job {job.id!r}")
                attempted.update(id(entry) for entry in batch)
                by_store: dict[str, list[tuple[Job, str, bool]]] = {}
                for entry in batch:
                    by_store.setdefault(entry[1], []).append(entry)
                for alias, entries in by_store.items():
                    conflict = self._add_batch(alias, entries, done) or conflict
        finally:
            self._pending_jobs[:] = [entry for entry in self._pending_jobs if id(entry) not in done]
        if conflict is not None:
            raise conflict

    def _add_batch(self, alias: str, entries: list[tuple[Job, str, bool]], done: set[int]) -> ConflictingIdError | None:
        """Store one job store's pending jobs, adding the ids of the entries that leave the pending list to
        ``done``; return the conflict of a taken id without ``replace_existing``."""
        store = self._jobstores[alias]
        for job, _, _ in entries:
            self._complete(job)
        # Several jobs may share an id (re-added with replace_existing): the batch takes the first of each.
        first: dict[str, Job] = {}
        for job, _, _ in entries:
            first.setdefault(job.id, job)
        # The position of the last entry of each id added with replace_existing: earlier ones are superseded.
        replaced_at = {job.id: index for index, (job, _, replace_existing) in enumerate(entries) if replace_existing}
        conflicts = set(store.add_jobs(list(first.values())))  # a persistent store: one transaction
        conflict: ConflictingIdError | None = None
        for index, entry in enumerate(entries):
            job, _, replace_existing = entry
            if first.get(job.id) is not job or job.id in conflicts:
                if not replace_existing:
                    if replaced_at.get(job.id, -1) > index:
                        done.add(id(entry))  # re-added later with replace_existing: that one is stored
                        continue
                    conflict = conflict or ConflictingIdError(job.id)
                    continue  # stays pending, so nothing is lost
                self._replace(store, job)
            done.add(id(entry))
            self._added(job, alias)
        return conflict

    def _complete(self, job: Job) -> None:
        """Fill in the job defaults and the first run time of a job about to be stored."""
        explicit = job._explicit
        for key in JOB_OPTIONS:
            if key not in explicit:  # the defaults were checked by configure()
                setattr(job, key, getattr(self._job_defaults, key))
        if "next_run_time" not in explicit:
            job.next_run_time = job.trigger.get_next_fire_time(None, self._clock.now())

    def _replace(self, store: JobStore, job: Job) -> None:
        existing = store.lookup_job(job.id)
        if existing is not None and "next_run_time" not in job._explicit and existing.trigger == job.trigger:
            # Same schedule: keep the stored next run time so fires missed while stopped are caught up.
            job.next_run_time = existing.next_run_time
            job.run_count = existing.run_count
            job.trigger = existing.trigger  # keeps state such as a lazily anchored interval grid
        store.update_job(job)

    def _added(self, job: Job, jobstore_alias: str) -> None:
        job._jobstore_alias = jobstore_alias
        job._pending = False
        if self._listener_mask & EVENT_JOB_ADDED:
            self._dispatch_event(JobEvent(EVENT_JOB_ADDED, job.id, jobstore_alias))
        if is_task(job.func) and not self.manage_only:  # a manage-only scheduler starts no kernel
            self._prepare_executor(job)
        self._logger.info('Added job "%s" to job store "%s"', job.name, jobstore_alias)
        if self.state == STATE_RUNNING:
            self.wakeup()
