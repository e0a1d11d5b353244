"""Importable callables for job-store tests (stored by ``module:qualname``), and the multi-process claim worker."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any


def noop() -> None:
    """Do nothing."""


def add(a: Any, b: Any) -> Any:
    """Return ``a + b``."""
    return a + b


def claim_worker(url: str, seconds: float, start_barrier: Any) -> tuple[int, int]:
    """Claim due fires from the store at ``url`` for ``seconds``, as a scheduler pass would.

    Each pass asks for the due jobs, moves each to its next fire time and claims them all with one run row
    per fire in one ``claim_jobs`` call.

    :return: (claims won, passes made)
    """
    from nbsched.jobstores.sqlalchemy import SQLAlchemyJobStore
    from nbsched.runs import Run

    store = SQLAlchemyJobStore(url=url)
    won = passes = 0
    try:
        start_barrier.wait()
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            now = datetime.now(UTC)
            claims = []
            for job in store.get_due_jobs(now):
                due = job.next_run_time
                assert due is not None
                job.next_run_time = job.trigger.get_next_fire_time(due, now)
                claims.append((job, due, [Run(job_id=job.id, scheduled_at=due)]))
            passes += 1
            if claims:
                won += sum(store.claim_jobs(claims))
    finally:
        store.shutdown()
    return won, passes


def claim_process(url: str, seconds: float, start_barrier: Any, results: Any) -> None:
    """Process entry point: :func:`claim_worker`, its result put on ``results``."""
    results.put(claim_worker(url, seconds, start_barrier))
