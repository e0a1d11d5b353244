"""The base of the REST handlers: authorization resource, JSON replies, the error mapping, worker threads."""

from __future__ import annotations

import asyncio
import functools
import json
from collections.abc import Awaitable, Callable
from typing import Any, ClassVar, TypeVar, cast

from jupyter_core.utils import ensure_async
from jupyter_server.auth.decorator import authorized
from jupyter_server.base.handlers import APIHandler
from tornado.web import HTTPError

from nbsched.exceptions import JobLookupError
from nbsched.limits import text_problem
from nbsched.masking import Masker
from nbsched.runs import Run
from nbsched.server import responses, schemas
from nbsched.server.app import SERVICE_KEY, NbschedService
from nbsched.server.errors import ApiError, error_body, status_for

__all__ = ["AUTH_RESOURCE", "NbschedHandler", "authorized_to"]

#: the authorization resource of every nbsched endpoint
AUTH_RESOURCE = "nbsched"
T = TypeVar("T")
F = TypeVar("F", bound=Callable[..., Awaitable[None]])


def authorized_to(action: str) -> Callable[[F], F]:
    """``@authorized(action)``, typed (jupyter_server's decorator factory loses the method's type)."""
    return cast("Callable[[F], F]", authorized(action))


class NbschedHandler(APIHandler):
    """Base of the nbsched handlers: JSON replies, the error mapping, worker-thread calls."""

    auth_resource = AUTH_RESOURCE
    #: the path template of this handler in ``openapi.yaml``
    openapi_path: ClassVar[str]

    # ------------------------------------------------------------------------------------- errors (tornado)
    def send_error(self, status_code: int = 500, **kwargs: Any) -> None:
        exc_info = kwargs.get("exc_info")
        if exc_info is not None and not isinstance(exc_info[1], HTTPError):
            status_code = status_for(exc_info[1]) or 500
        super().send_error(status_code, **kwargs)

    def log_exception(self, typ: Any, value: BaseException | None, tb: Any) -> None:
        status = status_for(value) if value is not None else None
        if status is not None and status < 500 and not isinstance(value, HTTPError):
            self.log.warning("%s %s: %d %s", self.request.method, self.request.path, status, value)
            return
        super().log_exception(typ, value, tb)

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        exc_info = kwargs.get("exc_info")
        self.set_status(status_code)
        self.finish(json.dumps(error_body(status_code, exc_info[1] if exc_info else None)))

    def decode_argument(self, value: bytes, name: str | None = None) -> str:
        """A URL path argument; a job or run id no store can hold (a NUL character) is a 404 at once.

        Checked here, before any handler method: PostgreSQL refuses such text in a query (an error, not "no
        row"), and tornado has refused URLs that are not UTF-8 here already (400).
        """
        text: str = super().decode_argument(value, name)
        if name in ("job_id", "run_id") and text_problem(text) is not None:
            if name == "job_id":
                raise JobLookupError(text)
            raise ApiError(404, f"No run by the id of {text!r} was found", "RunLookupError")
        return text

    # -------------------------------------------------------------------------------------------- helpers
    @property
    def service(self) -> NbschedService:
        """The extension's service; 503 when the store or the scheduler could not be started."""
        service: NbschedService = self.settings[SERVICE_KEY]
        if service.error is not None:
            raise ApiError(503, f"nbsched is not available: {service.error}", "ServiceUnavailable")
        return service

    @property
    def scheduler(self) -> Any:
        return self.service.scheduler

    async def call(self, func: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """``func(*args, **kwargs)`` in a worker thread."""
        return await asyncio.get_running_loop().run_in_executor(None, functools.partial(func, *args, **kwargs))

    def reply(self, body: Any, status: int = 200) -> None:
        self.set_status(status)
        self.finish(json.dumps(body))

    def body(self, owner: str) -> dict[str, Any]:
        return schemas.parse_body(self.request.body, owner)

    async def require_execute(self, why: str) -> None:
        """Refuse (403) unless the caller may ``execute`` on ``nbsched``."""
        allowed = await ensure_async(self.authorizer.is_authorized(self, self.current_user, "execute", AUTH_RESOURCE))
        if not allowed:
            raise ApiError(403, f"User is not authorized to execute on resource: {AUTH_RESOURCE} ({why}).", "Forbidden")

    def job_reply(self, job_id: str) -> schemas.JobOut:
        """A job response (runs in a worker thread)."""
        job = self.scheduler.get_job(job_id)
        if job is None:
            raise JobLookupError(job_id)
        return responses.job_out(job, self.scheduler.last_runs([job_id]).get(job_id))

    def run_maskers(self, runs: list[Run]) -> dict[str, Masker]:
        """For each job of ``runs``, the masker of its secret values (runs in a worker thread)."""
        jobs = (self.scheduler.get_job(job_id) for job_id in {run.job_id for run in runs})
        return {job.id: Masker.for_jobs([job]) for job in jobs if job is not None}

    def run_reply(self, run: Run) -> schemas.RunOut:
        """A run response, its job's secrets masked (runs in a worker thread)."""
        return responses.run_out(run, self.run_maskers([run]).get(run.job_id))

    def get_run(self, run_id: str) -> Run:
        store = self.service.store
        assert store is not None
        run = store.get_run(run_id)
        if run is None:
            raise ApiError(404, f"No run by the id of {run_id} was found", "RunLookupError")
        return run
