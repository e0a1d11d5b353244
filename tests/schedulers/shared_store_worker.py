"""Entry points of the scheduler processes that the shared-store tests start (spawned, so importable)."""

from __future__ import annotations

import time
from typing import Any


def run_scheduler(url: str, seconds: float, options: dict[str, Any] | None = None) -> None:
    """Run a background scheduler over the store at ``url`` for ``seconds``, then shut down cleanly."""
    from nbsched.jobstores.sqlalchemy import SQLAlchemyJobStore
    from nbsched.schedulers.background import BackgroundScheduler

    scheduler = BackgroundScheduler(
        timezone="UTC",
        jobstores={"default": SQLAlchemyJobStore(url=url)},
        executors={"default": {"type": "threadpool", "max_workers": 20}},
        **(options or {}),
    )
    scheduler.start()
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        time.sleep(0.05)
    scheduler.shutdown(wait=True)
