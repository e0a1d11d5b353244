"""``nbsched runs`` and ``logs`` of a fire whose first attempt was lost and whose retry succeeded: one fire, the
retry's attempt number, and what became of the lost attempt."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from nbsched.jobstores.sqlalchemy import SQLAlchemyJobStore
from nbsched.runs import Run, RunStatus
from tests import tasks
from tests.cli.conftest import Cli
from tests.harness import Harness

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)  # the harness clock's start


def test_runs_show_a_lost_attempt_and_its_retry_as_one_fire(cli: Cli) -> None:
    h = Harness("background", jobstores={"default": SQLAlchemyJobStore()})  # the default store, as the CLI's
    try:
        h.scheduler.add_job(tasks.record, "interval", hours=1, retries=1, retry_backoff=10, id="j")
        h.start()
        dead = Run(job_id="j", scheduled_at=T0, status=RunStatus.RUNNING, started_at=T0, worker="gone-host:4242")
        dead.heartbeat_at = T0 + timedelta(seconds=40)
        h.scheduler._jobstores["default"].add_run(dead)  # another process started it, then died
        h.clock.advance(101)
        h.scheduler._recorder._heartbeat_and_reap()  # the lost-run check: lost, retried in 10 s
        h.advance(10)
    finally:
        h.shutdown()

    lines = cli("runs", "j").out.splitlines()
    assert len(lines) == 2  # the header and the one fire
    assert lines[1].split()[:7] == [dead.id, "j", "2026-01-05", "09:00:00", "UTC", "succeeded", "#2"]
    assert lines[1].endswith("WorkerLost: attempt 1: worker gone-host:4242 stopped answering; last heartbeat …")
    logs = cli("logs", "j").out
    assert f"run       {dead.id}  (job j, attempt 2)" in logs
    assert (
        "error     WorkerLost: attempt 1: worker gone-host:4242 stopped answering; "
        "last heartbeat at 2026-01-05T09:00:40+00:00, noticed 61 s later"
    ) in logs
