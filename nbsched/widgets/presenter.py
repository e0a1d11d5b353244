"""What the jobs panel (and ``%jobs``/``%runs``) shows, computed as plain data without any widget.

:func:`build_state` is a pure function from jobs and runs to a :class:`PanelState`; :class:`Presenter` reads
them from a scheduler, remembers the selected job and carries out the panel's actions (run now, pause,
resume, remove). The widget in :mod:`nbsched.widgets.view` only renders a state and forwards clicks; tests
exercise everything here without a browser.
"""

from __future__ import annotations

import html
import os
import threading
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, tzinfo
from typing import TYPE_CHECKING, Any

import attrs

from nbsched.abc import Task
from nbsched.exceptions import JobLookupError
from nbsched.runs import Run, RunStatus

if TYPE_CHECKING:
    from nbsched.job import Job
    from nbsched.schedulers.base import BaseScheduler

__all__ = [
    "STATUS_KIND",
    "JobRow",
    "OutputLink",
    "PanelState",
    "Presenter",
    "RunRow",
    "build_state",
    "default_url_base",
    "format_duration",
    "format_jobs",
    "format_relative",
    "format_runs",
    "output_url",
    "status_html",
]

#: status -> colour family used by views (``ok``, ``error``, ``active``, ``muted``, ``warning``)
STATUS_KIND = {
    RunStatus.SUCCEEDED: "ok",
    RunStatus.FAILED: "error",
    RunStatus.TIMED_OUT: "error",
    RunStatus.LOST: "error",
    RunStatus.RUNNING: "active",
    RunStatus.SCHEDULED: "muted",
    RunStatus.SKIPPED: "warning",
    RunStatus.CANCELLED: "warning",
}


@attrs.frozen(kw_only=True)
class JobRow:
    """One job as the panel lists it."""

    id: str
    name: str
    #: ``"cell"``, ``"notebook"`` or ``"function"``
    kind: str
    #: ``"kernel"`` (this kernel's memory store) or ``"shared"`` (the shared store)
    where: str
    #: the trigger in words: ``"every 5 minutes"``
    trigger: str
    #: ``"2026-01-05 09:00 (in 5 min)"``, ``"paused"`` or ``"-"``
    next_run: str
    paused: bool
    #: status of the newest run, or ``None`` when it never ran
    last_status: str | None
    run_count: int


@attrs.frozen(kw_only=True)
class OutputLink:
    """A file a run wrote (``kind`` is ``"ipynb"``, ``"html"``, ``"stdout"``...)."""

    kind: str
    path: str
    #: where the Jupyter server serves it (the nbsched server extension's output route)
    url: str


@attrs.frozen(kw_only=True)
class RunRow:
    """One run of the selected job."""

    id: str
    status: str
    scheduled: str
    started: str
    duration: str
    progress: str
    error: str
    attempt: int
    outputs: tuple[OutputLink, ...] = ()
    #: notes that are not the error (fire times coalesced into the run, an output not written)
    warnings: tuple[str, ...] = ()


@attrs.frozen(kw_only=True)
class PanelState:
    """Everything the panel shows at one moment."""

    jobs: tuple[JobRow, ...]
    #: id of the selected job (``None``: no jobs)
    selected: str | None
    #: runs of the selected job, newest first
    runs: tuple[RunRow, ...]
    #: ``"<id>: <reason>"`` for stored jobs that cannot be loaded
    broken: tuple[str, ...] = ()
    #: result of the last action (``"paused refresh-prices"``) or an error
    message: str = ""

    @property
    def selected_job(self) -> JobRow | None:
        """The selected job's row."""
        return next((job for job in self.jobs if job.id == self.selected), None)

    @property
    def actions(self) -> dict[str, bool]:
        """Which actions apply to the selected job: ``run_now``, ``pause``, ``resume``, ``remove``."""
        job = self.selected_job
        return {
            "run_now": job is not None,  # a paused job runs once and stays paused
            "pause": job is not None and not job.paused,
            "resume": job is not None and job.paused,
            "remove": job is not None,
        }


# --------------------------------------------------------------------------------------------- formatting
def format_relative(when: datetime, now: datetime) -> str:
    """``in 5 min``, ``3 s ago``, ``now``."""
    seconds = (when - now).total_seconds()
    if abs(seconds) < 1:
        return "now"
    text = _span(abs(seconds))
    return f"in {text}" if seconds > 0 else f"{text} ago"


def _span(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.0f} s"
    if seconds < 3600:
        return f"{seconds / 60:.0f} min"
    if seconds < 86400:
        return f"{seconds / 3600:.1f} h".replace(".0 h", " h")
    return f"{seconds / 86400:.1f} d".replace(".0 d", " d")


def format_duration(seconds: float | None) -> str:
    """``0.42 s``, ``12 s``, ``3 min 05 s``, ``1 h 02 min``; ``-`` when unknown."""
    if seconds is None:
        return "-"
    if seconds < 10:
        return f"{seconds:.2f} s"
    if seconds < 60:
        return f"{seconds:.0f} s"
    minutes, secs = divmod(round(seconds), 60)
    if minutes < 60:
        return f"{minutes} min {secs:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


def _time(value: datetime | None, tz: tzinfo) -> str:
    return value.astimezone(tz).strftime("%Y-%m-%d %H:%M:%S") if value is not None else "-"


def _kind(job: Job) -> str:
    return job.func.summary().kind if isinstance(job.func, Task) else "function"


def _trigger_text(job: Job) -> str:
    describe = getattr(job.trigger, "describe", None)
    try:
        return str(describe()) if describe is not None else str(job.trigger)
    except Exception:  # a third-party trigger's describe() must not break the panel
        return str(job.trigger)


def output_url(run: Run, kind: str, base: str = "/") -> str:
    """The server extension's route for one output of ``run``."""
    return f"{base.rstrip('/')}/nbsched/api/runs/{run.id}/output/{kind}"


def default_url_base() -> str:
    """The Jupyter server's base URL as a kernel can tell it (JupyterHub's prefix, else ``/``)."""
    return os.environ.get("JUPYTERHUB_SERVICE_PREFIX") or "/"


def build_state(
    jobs: Sequence[tuple[Job, str]],
    last_runs: Mapping[str, Run | None],
    runs: Sequence[Run],
    selected: str | None,
    now: datetime,
    tz: tzinfo,
    *,
    broken: Sequence[str] = (),
    message: str = "",
    url_base: str = "/",
) -> PanelState:
    """The panel's state (pure).

    :param jobs: ``(job, store alias)`` pairs; the ``"kernel"`` store is this kernel's, any other is shared
    :param last_runs: job id -> its newest run
    :param runs: runs of the selected job, newest first
    :param selected: the job the user selected (the first job when it is ``None`` or gone)
    :param now: the current time (for "in 5 min")
    :param tz: the zone times are shown in
    """
    rows = []
    for job, alias in sorted(jobs, key=lambda pair: (pair[0].name or pair[0].id).lower()):
        paused = job.next_run_time is None
        if paused:
            next_run = "paused"
        else:
            assert job.next_run_time is not None
            next_run = f"{_time(job.next_run_time, tz)} ({format_relative(job.next_run_time, now)})"
        last = last_runs.get(job.id)
        rows.append(
            JobRow(
                id=job.id,
                name=job.name or job.id,
                kind=_kind(job),
                where="kernel" if alias == "kernel" else "shared",
                trigger=_trigger_text(job),
                next_run=next_run,
                paused=paused,
                last_status=str(last.status) if last is not None else None,
                run_count=job.run_count,
            )
        )
    ids = [row.id for row in rows]
    chosen = selected if selected in ids else (ids[0] if ids else None)
    run_rows = tuple(_run_row(run, now, tz, url_base) for run in runs) if chosen is not None else ()
    return PanelState(jobs=tuple(rows), selected=chosen, runs=run_rows, broken=tuple(broken), message=message)


def _run_row(run: Run, now: datetime, tz: tzinfo, url_base: str) -> RunRow:
    duration = run.duration
    if duration is None and run.status is RunStatus.RUNNING and run.started_at is not None:
        duration = (now - run.started_at).total_seconds()
    error = ""
    if run.error_type or run.error_message:
        error = ": ".join(part for part in (run.error_type, run.error_message) if part)
    links = tuple(
        OutputLink(kind=kind, path=path, url=output_url(run, kind, url_base))
        for kind, path in sorted(run.outputs.items())
    )
    return RunRow(
        id=run.id,
        status=str(run.status),
        scheduled=_time(run.scheduled_at, tz),
        started=_time(run.started_at, tz),
        duration=format_duration(duration),
        progress=run.progress or "",
        error=error,
        attempt=run.attempt,
        outputs=links,
        warnings=tuple(run.warnings),
    )


# ------------------------------------------------------------------------------------------ text tables
def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    widths = [max(len(str(cell)) for cell in column) for column in zip(header, *rows, strict=False)]
    lines = [
        "  ".join(str(cell).ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in (header, *rows)
    ]
    return "\n".join(lines)


def format_jobs(state: PanelState) -> str:
    """The jobs as a text table (``%jobs``)."""
    if not state.jobs:
        text = "no jobs"
    else:
        rows = [
            (job.name, job.where, job.trigger, job.next_run, job.last_status or "-", str(job.run_count))
            for job in state.jobs
        ]
        text = _table(("job", "where", "schedule", "next run", "last", "runs"), rows)
    if state.broken:
        text += "\n\ncannot be loaded (kept in the store):\n" + "\n".join(f"  {line}" for line in state.broken)
    return text


def format_runs(runs: Sequence[tuple[str, RunRow]]) -> str:
    """``(job name, run)`` pairs as a text table (``%runs``)."""
    if not runs:
        return "no runs"
    rows = []
    for name, run in runs:
        output = next((link.path for link in run.outputs if link.kind == "html"), "")
        output = output or next((link.path for link in run.outputs), "")
        detail = run.error or run.progress or "; ".join(f"warning: {warning}" for warning in run.warnings)
        rows.append((name, run.status, run.scheduled, run.duration, detail[:60], output))
    return _table(("job", "status", "scheduled", "duration", "error / progress", "output"), rows)


def status_html(status: str | None) -> str:
    """A status as a coloured HTML badge (shared by the widget views)."""
    if status is None:
        return '<span class="nbsched-status nbsched-muted">-</span>'
    kind = STATUS_KIND.get(RunStatus(status), "muted") if status in RunStatus.__members__.values() else "muted"
    return f'<span class="nbsched-status nbsched-{kind}">{html.escape(status)}</span>'


# -------------------------------------------------------------------------------------------- presenter
class Presenter:
    """Reads a scheduler's jobs and runs into a :class:`PanelState` and carries out the panel's actions.

    :param scheduler: the scheduler whose stores are shown (every store it has)
    :param runs_limit: how many runs of the selected job are shown
    :param url_base: base URL of the Jupyter server (for output links)
    """

    def __init__(self, scheduler: BaseScheduler, runs_limit: int = 20, url_base: str | None = None) -> None:
        self.scheduler = scheduler
        self.runs_limit = runs_limit
        self.url_base = url_base if url_base is not None else default_url_base()
        self.selected: str | None = None
        self.message = ""
        self._lock = threading.RLock()

    def state(self) -> PanelState:
        """The state now (reads the stores)."""
        with self._lock:
            scheduler = self.scheduler
            pairs: list[tuple[Job, str]] = []
            last_runs: dict[str, Run | None] = {}
            for alias in scheduler.jobstore_aliases():
                try:
                    jobs = scheduler.get_jobs(jobstore=alias)
                    found = scheduler.last_runs([job.id for job in jobs], jobstore=alias)  # one query per store
                except LookupError:
                    continue  # the store was removed meanwhile
                pairs.extend((job, alias) for job in jobs)
                last_runs.update((job.id, found.get(job.id)) for job in jobs)
            ids = {job.id for job, _ in pairs}
            selected = self.selected if self.selected in ids else None
            if selected is None and pairs:
                selected = min(pairs, key=lambda pair: (pair[0].name or pair[0].id).lower())[0].id
            runs = scheduler.runs(job_id=selected, limit=self.runs_limit) if selected is not None else []
            broken = [f"{job_id}: {reason}" for job_id, reason, *_ in scheduler.get_broken_jobs()]
            return build_state(
                pairs,
                last_runs,
                runs,
                selected,
                scheduler.clock.now(),
                scheduler.timezone,
                broken=broken,
                message=self.message,
                url_base=self.url_base,
            )

    def select(self, job_id: str | None) -> None:
        """Show ``job_id``'s runs."""
        with self._lock:
            self.selected = job_id
            self.message = ""

    def _act(self, verb: str, action: Callable[[str], Any], report: Callable[[Any], str] | None = None) -> None:
        """Do ``action(job id)`` on the job shown; the message is ``report(its result)`` or "<verb>d <job>"."""
        with self._lock:
            job_id = self.selected if self.selected is not None else self.state().selected  # the one shown
            if job_id is None:
                self.message = f"nothing selected to {verb}"
                return
            try:
                result = action(job_id)
            except JobLookupError:
                self.message = f"{job_id} no longer exists"
            except Exception as exc:
                self.message = f"could not {verb} {job_id}: {exc}"
            else:
                self.message = report(result) if report is not None else f"{verb}d {job_id}"

    def run_now(self) -> None:
        """Run the selected job once now (the scheduler's ``run_now``: a paused job stays paused); the message is
        the sentence every face shows, saying so when no scheduler runs jobs over the job's store."""
        self._act("run now", self.scheduler.run_now, lambda marked: str(marked.message()))

    def pause(self) -> None:
        """Pause the selected job."""
        self._act("pause", self.scheduler.pause_job)

    def resume(self) -> None:
        """Resume the selected job."""
        self._act("resume", self.scheduler.resume_job)

    def remove(self) -> None:
        """Remove the selected job (its runs stay in the history until retention prunes them)."""
        self._act("remove", self.scheduler.remove_job)
