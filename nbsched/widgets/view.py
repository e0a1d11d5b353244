"""The jobs panel: an ipywidgets view of a :class:`~nbsched.widgets.presenter.PanelState`.

It redraws when the scheduler reports something (job added, changed or removed, a run submitted or finished)
and when a processing pass finds the shared store written by anyone (other kernels, ``nbsched serve``, the
Jupyter server, runs progressing): :meth:`~nbsched.schedulers.base.BaseScheduler.add_store_listener`. Bursts of
events are merged into one redraw a moment later; nothing polls. Widgets are updated from the thread that
noticed the change, which ipywidgets 8 supports.
"""

from __future__ import annotations

import html
import threading
from typing import TYPE_CHECKING, Any

import ipywidgets as widgets

from nbsched.events import (
    EVENT_ALL_JOBS_REMOVED,
    EVENT_JOB_ADDED,
    EVENT_JOB_ERROR,
    EVENT_JOB_EXECUTED,
    EVENT_JOB_MAX_INSTANCES,
    EVENT_JOB_MISSED,
    EVENT_JOB_MODIFIED,
    EVENT_JOB_REMOVED,
    EVENT_JOB_SUBMITTED,
    EVENT_JOBSTORE_ADDED,
    EVENT_JOBSTORE_REMOVED,
)
from nbsched.widgets.presenter import PanelState, Presenter, status_html

if TYPE_CHECKING:
    from nbsched.schedulers.base import BaseScheduler

__all__ = ["REFRESH_EVENTS", "JobsPanel"]

#: scheduler events that redraw the panel
REFRESH_EVENTS = (
    EVENT_JOB_ADDED
    | EVENT_JOB_MODIFIED
    | EVENT_JOB_REMOVED
    | EVENT_ALL_JOBS_REMOVED
    | EVENT_JOB_SUBMITTED
    | EVENT_JOB_EXECUTED
    | EVENT_JOB_ERROR
    | EVENT_JOB_MISSED
    | EVENT_JOB_MAX_INSTANCES
    | EVENT_JOBSTORE_ADDED
    | EVENT_JOBSTORE_REMOVED
)

_CSS = """<style>
.nbsched-panel { font-size: var(--jp-ui-font-size1, 13px); }
.nbsched-panel table { border-collapse: collapse; width: 100%; }
.nbsched-panel th, .nbsched-panel td { text-align: left; padding: 2px 8px; border-bottom: 1px solid #ddd; }
.nbsched-status { padding: 1px 6px; border-radius: 8px; color: white; font-size: 90%; }
.nbsched-ok { background: #2e7d32; } .nbsched-error { background: #c62828; }
.nbsched-active { background: #1565c0; } .nbsched-warning { background: #ef6c00; }
.nbsched-muted { background: #757575; }
.nbsched-message { color: #555; font-style: italic; }
.nbsched-run-warning { color: #8a6d00; }
</style>"""

_COLUMNS = ("job", "where", "schedule", "next run", "last", "runs")
_GRID = "minmax(140px, 1.4fr) 70px minmax(160px, 2fr) minmax(180px, 2fr) 90px 50px"


class JobsPanel:
    """The panel: a jobs table with a selectable name per job, action buttons and the selected job's runs.

    :param scheduler: the scheduler to show and act on
    :param delay: seconds to gather events before a redraw
    :ivar widget: the ipywidgets box to display
    """

    def __init__(self, scheduler: BaseScheduler, delay: float = 0.15, presenter: Presenter | None = None) -> None:
        self.scheduler = scheduler
        self.presenter = presenter or Presenter(scheduler)
        self.delay = delay
        # Held while reading the state and redrawing (it takes the presenter's lock inside).
        self._lock = threading.RLock()
        # Guards only the redraw timer and ``_closed``, and is never held while calling out: scheduler events
        # arrive from whatever thread acts on the scheduler, which may hold the presenter's lock (a button
        # click pausing a job), so asking for a redraw must never wait for ``_lock`` (that order deadlocked
        # against a redraw holding ``_lock`` and waiting for the presenter's lock).
        self._timer_lock = threading.Lock()
        self._timer: threading.Timer | None = None
        self._closed = False
        #: the state shown now (tests read it)
        self.state: PanelState | None = None
        self.refreshes = 0

        self.title = widgets.HTML()
        self.jobs = widgets.GridBox(layout=widgets.Layout(grid_template_columns=_GRID, width="100%"))
        self.buttons = {
            "run_now": widgets.Button(
                description="Run now", icon="play", tooltip="run the selected job once now (a paused one stays paused)"
            ),
            "pause": widgets.Button(description="Pause", icon="pause", tooltip="pause the selected job"),
            "resume": widgets.Button(description="Resume", icon="redo", tooltip="resume the selected job"),
            "remove": widgets.Button(
                description="Remove", icon="trash", button_style="danger", tooltip="remove the selected job"
            ),
        }
        actions = {
            "run_now": self.presenter.run_now,
            "pause": self.presenter.pause,
            "resume": self.presenter.resume,
            "remove": self.presenter.remove,
        }
        for key, button in self.buttons.items():
            button.on_click(self._clicked(actions[key]))
        self.message = widgets.HTML()
        self.runs_title = widgets.HTML()
        self.runs = widgets.HTML()
        self.widget = widgets.VBox(
            [
                widgets.HTML(_CSS),
                self.title,
                self.jobs,
                widgets.HBox(list(self.buttons.values())),
                self.message,
                self.runs_title,
                self.runs,
            ],
            layout=widgets.Layout(width="100%"),
        )
        self.widget.add_class("nbsched-panel")
        scheduler.add_listener(self._on_event, REFRESH_EVENTS)
        scheduler.add_store_listener(self._on_store_changed)
        self.refresh()

    # ---------------------------------------------------------------------------------------- display
    def _ipython_display_(self) -> None:
        from IPython.display import display

        display(self.widget)

    def close(self) -> None:
        """Stop following the scheduler and close the widgets."""
        with self._timer_lock:
            self._closed = True
            if self._timer is not None:
                self._timer.cancel()
        self.scheduler.remove_listener(self._on_event)
        self.scheduler.remove_store_listener(self._on_store_changed)
        for widget in (*self.jobs.children, *self.buttons.values(), *self.widget.children, self.widget):
            widget.close()

    # -------------------------------------------------------------------------------------- refreshing
    def _on_event(self, event: Any) -> None:
        self.refresh_soon()

    def _on_store_changed(self, alias: str) -> None:
        self.refresh_soon()

    def refresh_soon(self) -> None:
        """Redraw after ``delay`` seconds, once for however many changes arrive meanwhile."""
        with self._timer_lock:
            if self._closed or self._timer is not None:
                return
            self._timer = threading.Timer(self.delay, self._timer_fired)
            self._timer.daemon = True
            self._timer.start()

    def _timer_fired(self) -> None:
        with self._timer_lock:
            self._timer = None
        self.refresh()

    def refresh(self) -> None:
        """Read the state and redraw now."""
        with self._lock:
            if self._closed:
                return
            try:
                state = self.presenter.state()
            except Exception as exc:  # a store that is briefly unavailable: say so, keep the last view
                self.message.value = (
                    f'<span class="nbsched-message">cannot read the store: {html.escape(str(exc))}</span>'
                )
                return
            self.render(state)

    def _clicked(self, action: Any) -> Any:
        def handler(_button: Any) -> None:
            action()
            self.refresh()

        return handler

    def _select(self, job_id: str) -> Any:
        def handler(_button: Any) -> None:
            self.presenter.select(job_id)
            self.refresh()

        return handler

    # ------------------------------------------------------------------------------------------ render
    def render(self, state: PanelState) -> None:
        """Show ``state`` (the jobs grid is rebuilt only when the jobs or the selection changed)."""
        self.refreshes += 1
        count = len(state.jobs)
        self.title.value = f"<b>nbsched</b> &middot; {count} job{'s' if count != 1 else ''}"
        previous = self.state
        if previous is None or previous.jobs != state.jobs or previous.selected != state.selected:
            self._render_jobs(state)
        for key, enabled in state.actions.items():
            self.buttons[key].disabled = not enabled
        message = state.message or ("" if state.jobs else "no jobs yet: schedule one with %%schedule")
        self.message.value = f'<span class="nbsched-message">{html.escape(message)}</span>' if message else ""
        selected = state.selected_job
        self.runs_title.value = f"<b>Runs of {html.escape(selected.name)}</b>" if selected is not None else ""
        self.runs.value = _runs_table(state) if selected is not None else ""
        self.state = state

    def _render_jobs(self, state: PanelState) -> None:
        old = self.jobs.children
        cells: list[widgets.Widget] = [widgets.HTML(f"<b>{name}</b>") for name in _COLUMNS]
        for job in state.jobs:
            name = widgets.Button(
                description=job.name,
                tooltip=f"{job.id} ({job.kind}): show its runs",
                button_style="info" if job.id == state.selected else "",
                layout=widgets.Layout(width="auto"),
            )
            name.add_class("nbsched-job")
            name.on_click(self._select(job.id))
            cells.extend(
                [
                    name,
                    widgets.Label(job.where),
                    widgets.Label(job.trigger),
                    widgets.Label(job.next_run),
                    widgets.HTML(status_html(job.last_status)),
                    widgets.Label(str(job.run_count)),
                ]
            )
        self.jobs.children = cells
        for widget in old:
            widget.close()


def _runs_table(state: PanelState) -> str:
    if not state.runs:
        return '<span class="nbsched-message">no runs yet</span>'
    rows = []
    for run in state.runs:
        links = " ".join(
            f'<a href="{html.escape(link.url)}" target="_blank" title="{html.escape(link.path)}">'
            f"{html.escape(link.kind)}</a>"
            for link in run.outputs
        )
        cells = (
            status_html(run.status),
            html.escape(run.scheduled),
            html.escape(run.started),
            html.escape(run.duration),
            html.escape(run.progress),
            html.escape(run.error)
            + "".join(f'<div class="nbsched-run-warning">warning: {html.escape(text)}</div>' for text in run.warnings),
            links,
        )
        rows.append("<tr>" + "".join(f"<td>{cell}</td>" for cell in cells) + "</tr>")
    header = "".join(
        f"<th>{name}</th>" for name in ("status", "scheduled", "started", "duration", "progress", "error", "output")
    )
    return f"<table><thead><tr>{header}</tr></thead><tbody>{''.join(rows)}</tbody></table>"
