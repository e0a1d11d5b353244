"""The Jupyter server extension: a scheduler over the shared store, and the REST API under ``/nbsched/api/``.

Installed, it is enabled by ``etc/jupyter/jupyter_server_config.d/nbsched.json``. Configure it like any Jupyter
application (``jupyter_server_config.py`` or the command line)::

    c.NbschedServer.run_scheduler = False          # serve the API only; another process runs the jobs
    c.NbschedServer.db_url = "postgresql+psycopg://scheduler@db/nbsched"
    c.NbschedServer.shutdown_grace = 30            # seconds running runs get when the server stops (default 10)

With ``run_scheduler`` the server runs due jobs like any other scheduler over the store (``nbsched serve``, a
kernel's ``default_scheduler()``): each fire still runs exactly once. Without it the scheduler is started paused:
the API reads and changes jobs and runs, and whatever else runs schedulers over the store executes them.

When the server stops, the runs its scheduler started get ``shutdown_grace`` seconds to finish; those still going
then are recorded ``cancelled`` and their kernels are stopped, as ``nbsched serve --grace`` does
(:func:`nbsched.shutdown.stop_with_grace`).
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

from jupyter_server.extension.application import ExtensionApp
from traitlets import Bool, Float, Unicode

if TYPE_CHECKING:
    from nbsched.jobstores.sqlalchemy import SQLAlchemyJobStore
    from nbsched.runs import Run
    from nbsched.schedulers.background import BackgroundScheduler

__all__ = ["NbschedServer", "NbschedService"]

#: the tornado settings key holding the :class:`NbschedService`
SERVICE_KEY = "nbsched_service"
#: default of :attr:`NbschedServer.shutdown_grace`, seconds
DEFAULT_SHUTDOWN_GRACE = 10.0

logger = logging.getLogger("nbsched.server")


class NbschedService:
    """What the handlers use: the scheduler, its store and the server's root folder.

    :ivar scheduler: a background scheduler over the store (started; paused when it does not run jobs)
    :ivar store: its only job store, the default one unless ``db_url`` names another database
    :ivar root: the resolved contents root: notebook paths must stay inside it
    :ivar allow_hidden: whether paths may name hidden files and folders (``ContentsManager.allow_hidden``)
    :ivar runs_jobs: whether this server runs due jobs
    :ivar shutdown_grace: seconds the runs in progress get to finish when the service stops
    :ivar error: why the store or the scheduler could not be started (the API then answers 503)
    """

    def __init__(
        self, root: Path, allow_hidden: bool, runs_jobs: bool, shutdown_grace: float = DEFAULT_SHUTDOWN_GRACE
    ) -> None:
        self.root = root
        self.allow_hidden = allow_hidden
        self.runs_jobs = runs_jobs
        self.shutdown_grace = shutdown_grace
        self.scheduler: BackgroundScheduler | None = None
        self.store: SQLAlchemyJobStore | None = None
        self.error: str | None = None

    def start(self, db_url: str | None) -> None:
        """Open the store and start the scheduler (manage-only unless it runs jobs)."""
        from nbsched.jobstores.sqlalchemy import SQLAlchemyJobStore
        from nbsched.schedulers.background import BackgroundScheduler

        self.store = SQLAlchemyJobStore(url=db_url or None)
        options: dict[str, Any] = {"jobstores": {"default": self.store}}
        # Without run_scheduler the server only manages jobs: no executor, kernel or run thread is started, and it
        # is no scheduler running jobs over the store for the others (see nbsched.liveness).
        self.scheduler = BackgroundScheduler(**options, manage_only=not self.runs_jobs)
        self.scheduler.start()

    def stop(self) -> list[Run]:
        """Shut the scheduler down: the runs it started get :attr:`shutdown_grace` seconds to finish, then those
        still going are recorded ``cancelled`` and their kernels are stopped.

        :return: the runs cancelled
        """
        from nbsched.shutdown import stop_with_grace

        if self.scheduler is None or self.store is None or not self.scheduler.running:
            return []
        url = self.store.engine.url.render_as_string(hide_password=False)
        reason = f"the Jupyter server stopped before the run finished (shutdown_grace {self.shutdown_grace:g} s)"
        return stop_with_grace(self.scheduler, url, self.shutdown_grace, reason, log=logger)

    @property
    def store_url(self) -> str | None:
        """The store's database URL with its password masked."""
        if self.store is None:
            return None
        return self.store.engine.url.render_as_string(hide_password=True)


class NbschedServer(ExtensionApp):
    """nbsched's Jupyter server extension (configuration class ``NbschedServer``)."""

    name = "nbsched"
    description = "Schedule notebooks and functions: a scheduler over the nbsched store and its REST API"
    load_other_extensions = True

    run_scheduler = Bool(
        True,
        help=(
            "Run due jobs in this server. Several servers and `nbsched serve` processes may run schedulers over "
            "the same store: each fire still runs exactly once. When False, the scheduler is started paused: the "
            "REST API still lists, creates and changes jobs and runs, and another process runs them."
        ),
    ).tag(config=True)

    db_url = Unicode(
        "",
        help=(
            "SQLAlchemy URL of the job store. Empty (the default): the default store, $NBSCHED_DB_URL or else "
            "sqlite:///<data dir>/nbsched.db, where <data dir> is $NBSCHED_HOME or <jupyter data dir>/nbsched. "
            "The kernels' magics and the nbsched CLI use the default store too."
        ),
    ).tag(config=True)

    shutdown_grace = Float(
        DEFAULT_SHUTDOWN_GRACE,
        min=0.0,
        help=(
            "Seconds the runs this server is running get to finish when the server stops (as `nbsched serve "
            "--grace`). Runs still going then are recorded as cancelled and their notebook kernels are stopped, so "
            "that a long run does not hold up the server's exit; a function already running in a thread cannot be "
            "stopped and ends with the process. 0: cancel them at once."
        ),
    ).tag(config=True)

    service: NbschedService | None = None

    def initialize_settings(self) -> None:
        """Open the store and start the scheduler; a failure is logged and reported by the API as 503."""
        assert self.serverapp is not None
        contents = getattr(self.serverapp, "contents_manager", None)
        root = Path(getattr(contents, "root_dir", None) or self.serverapp.root_dir).expanduser().resolve()
        allow_hidden = bool(getattr(contents, "allow_hidden", False))
        service = NbschedService(root, allow_hidden, bool(self.run_scheduler), float(self.shutdown_grace))
        try:
            service.start(self.db_url or None)
        except Exception as exc:  # the server must come up anyway; the API says what is wrong
            self.log.exception("nbsched: the job store or the scheduler could not be started")
            service.error = f"the job store or the scheduler could not be started: {exc}"
        else:
            self.log.info(
                "nbsched: %s over %s (REST API under /nbsched/api/)",
                "running jobs" if service.runs_jobs else "scheduler paused (run_scheduler=False)",
                service.store_url,
            )
        self.service = service
        self.settings[SERVICE_KEY] = service

    def initialize_handlers(self) -> None:
        """Add the REST handlers (the server prefixes its base URL)."""
        from nbsched.server.handlers import default_handlers

        self.handlers.extend(default_handlers)

    async def stop_extension(self) -> None:
        """Shut the scheduler down with the server (never raising: that would stop the server's shutdown)."""
        service = self.service
        if service is None:
            return
        try:
            await asyncio.get_running_loop().run_in_executor(None, service.stop)
        except Exception:
            self.log.exception("nbsched: the scheduler did not shut down cleanly")
