"""The jobs panel for notebooks: ``nbsched.panel()`` or ``%jobs --panel``.

The view (:mod:`nbsched.widgets.view`, needs ``ipywidgets``) renders the state a plain presenter computes
(:mod:`nbsched.widgets.presenter`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from nbsched.schedulers.base import BaseScheduler
    from nbsched.widgets.view import JobsPanel

__all__ = ["panel"]

_panels: list[JobsPanel] = []


def panel(scheduler: BaseScheduler | None = None, **options: Any) -> JobsPanel:
    """The jobs panel of ``scheduler`` (default: this kernel's, as ``%load_ext nbsched`` set it up, else
    :func:`nbsched.default_scheduler`). Display it by leaving it as a cell's last expression.

    One panel follows a scheduler at a time: showing a new one closes the previous one.

    :param options: for :class:`~nbsched.widgets.view.JobsPanel` (``delay``)
    :raises ImportError: when ipywidgets is not installed
    """
    from nbsched.widgets.view import JobsPanel

    if scheduler is None:
        from nbsched.kernel_session import current_session

        session = current_session()
        if session is not None:
            scheduler = session.scheduler
        else:
            from nbsched.default import default_scheduler

            scheduler = default_scheduler()
    for old in [p for p in _panels if p.scheduler is scheduler]:
        old.close()
        _panels.remove(old)
    view = JobsPanel(scheduler, **options)
    _panels.append(view)
    return view
