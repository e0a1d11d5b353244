"""JobStore.existing_run_ids and store_id: what a scheduler asks to find output folders of runs that are gone."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from nbsched.jobstores.sqlalchemy.history import ID_BATCH
from nbsched.runs import Run, RunStatus
from tests.jobstores.conftest import Backend

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def test_existing_run_ids_answers_for_any_number_of_ids(backend: Backend) -> None:
    store = backend.store()
    runs = [
        Run(job_id="j", scheduled_at=T0 + timedelta(minutes=n), status=RunStatus.SUCCEEDED, finished_at=T0)
        for n in range(3)
    ]
    for run in runs:
        assert store.add_run(run)
    running = Run(job_id="k", scheduled_at=T0, status=RunStatus.RUNNING)
    assert store.add_run(running)
    # more ids than one query takes, the known ones spread over the batches
    asked = [f"gone-{n}" for n in range(2 * ID_BATCH + 10)]
    for position, run in zip((0, ID_BATCH + 3, 2 * ID_BATCH + 9), runs, strict=True):
        asked.insert(position, run.id)
    assert store.existing_run_ids([*asked, running.id, runs[0].id]) == {run.id for run in [*runs, running]}
    assert store.existing_run_ids([]) == set()
    store.delete_runs([runs[1].id])
    assert store.existing_run_ids(asked) == {runs[0].id, runs[2].id}


def test_store_id_names_the_database_the_same_in_every_process(backend: Backend) -> None:
    first, second = backend.store(), backend.store()
    if not backend.persistent:
        assert first.store_id is None  # this process's memory: nothing to share, no folder is marked
        return
    assert first.store_id is not None and first.store_id == second.store_id
    assert backend.store(tablename="other_jobs").store_id != first.store_id  # another store in the same database
    assert re.fullmatch(r"[0-9a-f]{32}", first.store_id)  # a hash: the URL (and any password in it) stays out of files
