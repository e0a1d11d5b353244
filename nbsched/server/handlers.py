"""The REST handlers under ``/nbsched/api/`` (described by ``openapi.yaml``).

Every handler method is ``@tornado.web.authenticated`` (no valid token or login: 403) and ``@authorized`` on
the resource ``nbsched``: ``read`` for GET, ``write`` for changes, and ``execute`` for running code on demand
(``POST /jobs/{id}/run``) and for function jobs (creating one, or changing the task of one: a
``package.module:function`` reference is arbitrary code, imported when the job is added). Notebook jobs need
only ``write``: the notebook must be inside the server's root, where the caller's Jupyter could already run it.

Store and scheduler calls run in a worker thread (a PostgreSQL round trip or a busy SQLite file must not stall
the server's event loop). Errors become responses in one place, :mod:`nbsched.server.errors`.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any
from urllib.parse import quote

from jupyter_server.auth.decorator import authorized
from tornado import web

from nbsched.abc import Task
from nbsched.datetimes import timezone_name
from nbsched.exceptions import InvalidArgumentError, JobLookupError
from nbsched.job import is_task
from nbsched.limits import check_fires
from nbsched.masking import MASK, job_parameters, secret_names
from nbsched.runs import ACTIVE, Run, RunFilter
from nbsched.server import responses, schemas
from nbsched.server.app import SERVICE_KEY, NbschedService
from nbsched.server.base import NbschedHandler, authorized_to
from nbsched.server.errors import ApiError

__all__ = ["OUTPUT_KINDS", "default_handlers"]

#: output kind -> (content type, downloaded as a file by default)
OUTPUT_KINDS: dict[str, tuple[str, bool]] = {
    "ipynb": ("application/x-ipynb+json", True),
    "html": ("text/html; charset=utf-8", False),
    "stdout": ("text/plain; charset=utf-8", False),
    "stderr": ("text/plain; charset=utf-8", False),
    "kernel_log": ("text/plain; charset=utf-8", False),
}


class HealthHandler(NbschedHandler):
    openapi_path = "/nbsched/api/health"

    @web.authenticated
    @authorized
    async def get(self) -> None:
        """Version, whether this server runs jobs, the store (password masked) and counts."""
        import nbsched

        service: NbschedService = self.settings[SERVICE_KEY]
        counts: schemas.HealthCountsOut = {"jobs": 0, "paused_jobs": 0, "broken_jobs": 0, "active_runs": 0}
        if service.error is None:
            counts = await self.call(self._counts, service)
        state = "stopped"
        if service.scheduler is not None and service.scheduler.running:
            state = "running" if service.runs_jobs else "paused"
        body: schemas.HealthOut = {
            "ok": service.error is None,
            "version": nbsched.__version__,
            "scheduler": {
                "state": state,
                "runs_jobs": service.runs_jobs and state == "running",
                "timezone": timezone_name(service.scheduler.timezone) if service.scheduler is not None else None,
            },
            "store": {"url": service.store_url},
            "counts": counts,
            "error": service.error,
        }
        self.reply(body)

    @staticmethod
    def _counts(service: NbschedService) -> schemas.HealthCountsOut:
        assert service.scheduler is not None
        assert service.store is not None
        jobs = service.scheduler.get_jobs()
        return {
            "jobs": len(jobs),
            "paused_jobs": sum(1 for job in jobs if job.next_run_time is None and not job.completed),
            "broken_jobs": len(service.scheduler.get_broken_jobs()),
            "active_runs": len(service.store.get_runs(RunFilter(status=ACTIVE))),
        }


class JobsHandler(NbschedHandler):
    openapi_path = "/nbsched/api/jobs"

    @web.authenticated
    @authorized
    async def get(self) -> None:
        """Every job (with its latest run) and the stored jobs that cannot be loaded."""
        self.reply(await self.call(self._list))

    def _list(self) -> schemas.JobListOut:
        jobs = self.scheduler.get_jobs()
        last = self.scheduler.last_runs([job.id for job in jobs])  # one query per store, however many jobs
        return {
            "jobs": [responses.job_out(job, last.get(job.id)) for job in jobs],
            "broken": [{"id": job_id, "reason": reason} for _, job_id, reason in self.scheduler.get_broken_jobs()],
        }

    @web.authenticated
    @authorized
    async def post(self) -> None:
        """Create a job (``JobCreateIn``); 201 with the job."""
        body = self.body("JobCreate")
        service = self.service
        now = self.scheduler.clock.now()
        spec = await self.call(
            schemas.parse_job_spec,
            body,
            root=service.root,
            default_tz=self.scheduler.timezone,
            now=now,
            allow_hidden=service.allow_hidden,
        )
        if isinstance(spec.task, schemas.FunctionTask):
            await self.require_execute("function jobs run arbitrary code")
        job = await self.call(self._add, spec)
        self.set_header("Location", self.request.path.rstrip("/") + "/" + quote(job["id"], safe=""))
        self.reply(job, 201)

    def _add(self, spec: schemas.JobSpec) -> schemas.JobOut:
        task = spec.task
        func, args, kwargs = task, None, None
        if isinstance(task, schemas.FunctionTask):
            func, args, kwargs = task.ref, task.args, task.kwargs
        extra: dict[str, Any] = {"next_run_time": None} if spec.paused else {}
        job = self.scheduler.add_job(
            func, spec.trigger, args=args, kwargs=kwargs, id=spec.id, name=spec.name, **extra, **spec.options
        )
        return self.job_reply(job.id)


class JobHandler(NbschedHandler):
    openapi_path = "/nbsched/api/jobs/{job_id}"

    @web.authenticated
    @authorized
    async def get(self, job_id: str) -> None:
        """One job."""
        self.reply(await self.call(self.job_reply, job_id))

    @web.authenticated
    @authorized
    async def patch(self, job_id: str) -> None:
        """Change a job: any field of ``JobCreateIn`` but ``id``; ``paused`` pauses or resumes it."""
        body = self.body("JobUpdate")
        service = self.service
        job = await self.call(self.scheduler.get_job, job_id)
        if job is None:
            raise JobLookupError(job_id)
        changes = await self.call(
            schemas.parse_job_changes,
            body,
            root=service.root,
            current_tz=getattr(job.trigger, "timezone", None) or self.scheduler.timezone,
            now=self.scheduler.clock.now(),
            allow_hidden=service.allow_hidden,
        )
        if isinstance(changes.task, schemas.FunctionTask):
            await self.require_execute("function jobs run arbitrary code")
        self.reply(await self.call(self._modify, job, changes))

    def _modify(self, job: Any, changes: schemas.JobChanges) -> schemas.JobOut:
        scheduler = self.scheduler
        now = scheduler.clock.now()
        updates: dict[str, Any] = dict(changes.options)
        if changes.name is not None:
            updates["name"] = changes.name
        task = _keep_masked_secrets(job, changes.task, updates.get("tags"))
        if isinstance(task, schemas.FunctionTask):
            updates.update(func=task.ref, args=task.args, kwargs=task.kwargs)
        elif task is not None:
            updates.update(func=task, args=(), kwargs={})
        paused_now = job.next_run_time is None
        paused = paused_now if changes.paused is None else changes.paused
        trigger = changes.trigger
        if trigger is not None:
            updates["trigger"] = trigger
            if not paused:
                check_fires(trigger, now, "JobUpdate")  # as add_job does for a new job: 400 naming the trigger
            updates["next_run_time"] = None if paused else trigger.get_next_fire_time(None, now)
        elif paused != paused_now:
            updates["next_run_time"] = None if paused else _resume_time(job, now)
        scheduler.modify_job(job.id, **updates)
        return self.job_reply(job.id)

    @web.authenticated
    @authorized
    async def delete(self, job_id: str) -> None:
        """Remove a job (its run history stays); 204."""
        await self.call(self.scheduler.remove_job, job_id)
        self.set_status(204)
        self.finish()


class JobPauseHandler(NbschedHandler):
    openapi_path = "/nbsched/api/jobs/{job_id}/pause"

    @web.authenticated
    @authorized
    async def post(self, job_id: str) -> None:
        """Pause a job (no effect on a paused one)."""
        self.reply(await self.call(self._pause, job_id))

    def _pause(self, job_id: str) -> schemas.JobOut:
        self.scheduler.pause_job(job_id)
        return self.job_reply(job_id)


class JobResumeHandler(NbschedHandler):
    openapi_path = "/nbsched/api/jobs/{job_id}/resume"

    @web.authenticated
    @authorized
    async def post(self, job_id: str) -> None:
        """Resume a paused job from its next fire time from now; 409 when its trigger will not fire again."""
        self.reply(await self.call(self._resume, job_id))

    def _resume(self, job_id: str) -> schemas.JobOut:
        job = self.scheduler.get_job(job_id)
        if job is None:
            raise JobLookupError(job_id)
        if job.next_run_time is None:
            # Checked here rather than by resume_job, which would remove the job instead.
            next_run_time = _resume_time(job, self.scheduler.clock.now())
            self.scheduler.modify_job(job_id, next_run_time=next_run_time)
        return self.job_reply(job_id)


class JobRunHandler(NbschedHandler):
    openapi_path = "/nbsched/api/jobs/{job_id}/run"

    @web.authenticated
    @authorized_to("execute")
    async def post(self, job_id: str) -> None:
        """Run a job now (the scheduler's ``run_now``): its next run time becomes now and a scheduler running jobs
        over the store runs it, exactly once. A cron job then goes on with its schedule; an interval job's next run
        is one interval after this one; a one-off (``at``) job runs now instead of later; a paused job runs once
        and stays paused. ``warning`` says so when no scheduler runs jobs over the store.
        """
        self.reply(await self.call(self._run_now, job_id))

    def _run_now(self, job_id: str) -> schemas.JobRunOut:
        marked = self.scheduler.run_now(job_id)
        reply: schemas.JobRunOut = {
            **self.job_reply(job_id),
            "scheduled_at": marked.due.isoformat(),
            "message": marked.message(),
            "warning": marked.warning(),
        }
        return reply


class RunsHandler(NbschedHandler):
    openapi_path = "/nbsched/api/runs"

    @web.authenticated
    @authorized
    async def get(self) -> None:
        """Runs, newest first, filtered by ``job_id``, ``status``, ``since`` and ``until``; paged."""
        arguments = {
            key: [value.decode("utf-8", "replace") for value in values]
            for key, values in self.request.query_arguments.items()
        }
        query = schemas.parse_run_query(arguments, self.scheduler.timezone)
        self.reply(await self.call(self._list, query))

    def _list(self, query: schemas.RunQuery) -> schemas.RunListOut:
        store = self.service.store
        assert store is not None
        run_filter = RunFilter(
            job_id=query.job_id,
            status=query.status,
            since=query.since,
            until=query.until,
            limit=query.offset + query.limit + 1,  # one more: whether there is a next page
        )
        runs = store.get_runs(run_filter)[query.offset :]
        page = runs[: query.limit]
        maskers = self.run_maskers(page)
        return {
            "runs": [responses.run_out(run, maskers.get(run.job_id)) for run in page],
            "offset": query.offset,
            "limit": query.limit,
            "has_more": len(runs) > query.limit,
        }


class RunHandler(NbschedHandler):
    openapi_path = "/nbsched/api/runs/{run_id}"

    @web.authenticated
    @authorized
    async def get(self, run_id: str) -> None:
        """One run."""
        run = await self.call(self.get_run, run_id)
        self.reply(await self.call(self.run_reply, run))

    @web.authenticated
    @authorized
    async def delete(self, run_id: str) -> None:
        """Delete a finished run and its output folder; 409 while it is scheduled or running; 204."""
        await self.call(self._delete, run_id)
        self.set_status(204)
        self.finish()

    def _delete(self, run_id: str) -> None:
        from nbsched.paths import data_dir

        run = self.get_run(run_id)
        if run.status in ACTIVE:
            raise ApiError(409, f"Run {run_id} is {run.status}: cancel it before deleting it", "Conflict")
        store = self.service.store
        assert store is not None
        store.delete_runs([run_id])
        root = (data_dir(create=False) / "runs").resolve()
        folder = (root / run.job_id / run.id).resolve()
        if folder.is_dir() and folder.is_relative_to(root) and folder != root:
            shutil.rmtree(folder, ignore_errors=True)


class RunCancelHandler(NbschedHandler):
    openapi_path = "/nbsched/api/runs/{run_id}/cancel"

    @web.authenticated
    @authorized
    async def post(self, run_id: str) -> None:
        """Cancel a scheduled or running run (:meth:`~nbsched.schedulers.base.BaseScheduler.cancel_run`); 409
        when it has finished.

        The run is recorded ``cancelled`` at once and stays so. A notebook or cell run is stopped where it runs:
        at once when this server's scheduler runs it, else when the scheduler running it (``nbsched serve``,
        another server or kernel) next heartbeats its runs. A function already running in a thread runs to its
        end, without changing the status.
        """
        run = await self.call(self._cancel, run_id)
        self.reply(await self.call(self.run_reply, run))

    def _cancel(self, run_id: str) -> Run:
        self.get_run(run_id)  # 404 for an unknown id, as for every run endpoint
        run: Run = self.scheduler.cancel_run(run_id, reason="cancelled through the REST API")
        return run


class RunOutputHandler(NbschedHandler):
    openapi_path = "/nbsched/api/runs/{run_id}/output/{kind}"

    @web.authenticated
    @authorized
    async def get(self, run_id: str, kind: str) -> None:
        """Stream one output file of a run. Only files inside ``<data dir>/runs/`` are served (else 403); a kind
        that is not one of :data:`OUTPUT_KINDS` is a 404 that lists them.

        HTML is shown inline in a sandbox (its scripts run without the server's origin, so they cannot use the
        caller's session); ``?download=1`` makes any kind an attachment.
        """
        if kind not in OUTPUT_KINDS:
            known = ", ".join(OUTPUT_KINDS)
            raise ApiError(404, f"RunOutput: kind {kind!r} is not an output kind (known: {known})", "OutputLookupError")
        file = await self.call(self._output_file, run_id, kind)
        content_type, attachment = OUTPUT_KINDS[kind]
        if self.get_query_argument("download", "0") not in ("", "0", "false"):
            attachment = True
        self.set_header("Content-Type", content_type)
        self.set_header("X-Content-Type-Options", "nosniff")
        self.set_header("Content-Security-Policy", "sandbox allow-scripts allow-popups; frame-ancestors 'self'")
        if attachment:
            self.set_header("Content-Disposition", f'attachment; filename="{_header_safe(file.name)}"')
        with file.open("rb") as handle:
            while chunk := await self.call(handle.read, _CHUNK):
                self.write(chunk)
                await self.flush()
        self.finish(set_content_type=content_type)

    def _output_file(self, run_id: str, kind: str) -> Path:
        from nbsched.paths import data_dir

        run = self.get_run(run_id)
        path = run.outputs.get(kind)
        if not path:
            raise ApiError(404, f"Run {run_id} has no {kind} output", "OutputLookupError")
        root = (data_dir(create=False) / "runs").resolve()
        file = Path(path).resolve()
        if not file.is_relative_to(root):
            raise ApiError(403, f"The {kind} output of run {run_id} is outside the runs folder; refused", "Forbidden")
        if not file.is_file():
            raise ApiError(404, f"The {kind} output of run {run_id} is not there (yet)", "OutputLookupError")
        return file


class NotebookParametersHandler(NbschedHandler):
    openapi_path = "/nbsched/api/notebooks/parameters"

    @web.authenticated
    @authorized
    async def get(self) -> None:
        """The names and defaults of a notebook's ``parameters`` cell (``?path=`` below the server root)."""
        from nbsched.server.parameters import read_parameters

        service = self.service
        path = self.get_query_argument("path", None)
        relative = schemas.notebook_path(path, service.root, "NotebookParameters", "path", service.allow_hidden)
        file = service.root / relative
        if not await self.call(file.is_file):
            raise ApiError(404, f"NotebookParameters: path {path!r} does not exist", "NotebookLookupError")
        self.reply(await self.call(read_parameters, file, relative))


def _keep_masked_secrets(job: Any, task: Any, tags: Any) -> Any:
    """``task`` with each secret parameter sent back as ``***`` (as responses show it) given the job's value.

    :param job: the job being changed
    :param task: the new task (a ``Notebook``, a :class:`~nbsched.server.schemas.FunctionTask` or ``None``)
    :param tags: the job's new tags, when the request changes them
    :raises InvalidArgumentError: for a masked secret the job has no value for
    """
    import attrs

    if task is None:
        return None
    is_function = isinstance(task, schemas.FunctionTask)
    given: dict[str, Any] = task.kwargs if is_function else task.parameters
    if MASK not in given.values():
        return task
    all_tags = {*job.tags, *(tags if isinstance(tags, list | tuple | set) else ())}
    secret = secret_names(None, given, all_tags) | set(
        task.summary().secret_parameters if isinstance(task, Task) else ()
    )
    # Only a task of the same kind holds values for these names (a notebook's parameters, a function's kwargs).
    stored = job_parameters(job) if is_function == (not is_task(job.func)) else {}
    field = "task.kwargs" if is_function else "task.parameters"
    values = dict(given)
    for name, value in given.items():
        if value != MASK or name not in secret:
            continue
        if name not in stored:
            raise InvalidArgumentError(
                "JobUpdate",
                f"{field}[{name!r}]",
                value,
                "is a masked secret and the job has no value for it: send the value",
            )
        values[name] = stored[name]
    return attrs.evolve(task, **{"kwargs" if is_function else "parameters": values})


def _header_safe(name: str) -> str:
    return "".join(char if char.isprintable() and char not in '"\\' else "_" for char in name)


_ID = r"(?P<{}>[^/]+)"
_JOB = _ID.format("job_id")
_RUN = _ID.format("run_id")
# Any kind reaches the handler, so that an unknown one gets the API's JSON 404 naming the known kinds.
_KIND = _ID.format("kind")
_CHUNK = 64 * 1024

#: (URL pattern without the base URL, handler class)
default_handlers: list[tuple[str, type[NbschedHandler]]] = [
    (r"/nbsched/api/health", HealthHandler),
    (r"/nbsched/api/jobs", JobsHandler),
    (rf"/nbsched/api/jobs/{_JOB}", JobHandler),
    (rf"/nbsched/api/jobs/{_JOB}/pause", JobPauseHandler),
    (rf"/nbsched/api/jobs/{_JOB}/resume", JobResumeHandler),
    (rf"/nbsched/api/jobs/{_JOB}/run", JobRunHandler),
    (r"/nbsched/api/runs", RunsHandler),
    (rf"/nbsched/api/runs/{_RUN}", RunHandler),
    (rf"/nbsched/api/runs/{_RUN}/cancel", RunCancelHandler),
    (rf"/nbsched/api/runs/{_RUN}/output/{_KIND}", RunOutputHandler),
    (r"/nbsched/api/notebooks/parameters", NotebookParametersHandler),
]


def _resume_time(job: Any, now: Any) -> Any:
    """The next run time of a paused job resumed at ``now``; 409 when its trigger will not fire again (checked
    here rather than by ``resume_job``, which would remove the job instead)."""
    next_run_time = job.trigger.skip_to(now)
    if next_run_time is None:
        raise ApiError(409, f"Job {job.id} cannot be resumed: its trigger will not fire again", "Conflict")
    return next_run_time
