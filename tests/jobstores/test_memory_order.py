"""The memory store keeps its jobs ordered by next run time through any mix of adds, updates, claims and removals.

Its claim path takes the due jobs of a pass off the front of its sorted lists at once and puts moved jobs at the
end without a search when they belong there; these properties check that against a plain model.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from nbsched.job import Job
from nbsched.jobstores.memory import MemoryJobStore
from nbsched.runs import Run

from .test_contract import make_job

T0 = datetime(2030, 1, 1, tzinfo=UTC)

_times = st.one_of(st.none(), st.integers(min_value=0, max_value=20))
_ops = st.lists(
    st.one_of(
        st.tuples(st.just("add"), st.integers(0, 15), _times),
        st.tuples(st.just("update"), st.integers(0, 15), _times),
        st.tuples(st.just("remove"), st.integers(0, 15), st.none()),
        # claim the due jobs at minute `number` (all, or every other one), moving each `value` + 1 minutes on
        st.tuples(st.sampled_from(["claim_due", "claim_some"]), st.integers(0, 20), st.integers(0, 20)),
    ),
    max_size=60,
)


def _at(minutes: int | None) -> datetime | None:
    return None if minutes is None else T0 + timedelta(minutes=minutes)


def _check(store: MemoryJobStore, model: dict[str, datetime | None]) -> None:
    jobs = store.get_all_jobs()
    assert sorted(job.id for job in jobs) == sorted(model)
    stamps = [math.inf if job.next_run_time is None else job.next_run_time.timestamp() for job in jobs]
    assert stamps == sorted(stamps)
    assert all(job.next_run_time == model[job.id] for job in jobs)
    finite = [t for t in model.values() if t is not None]
    assert store.get_next_run_time() == (min(finite) if finite else None)


@settings(max_examples=300, deadline=None)
@given(_ops)
def test_jobs_stay_in_run_time_order(ops: list[tuple[str, int, int | None]]) -> None:
    store = MemoryJobStore()
    model: dict[str, datetime | None] = {}
    for op, number, value in ops:
        job_id = f"j{number}"
        if op == "add" and job_id not in model:
            store.add_job(make_job(job_id, _at(value)))
            model[job_id] = _at(value)
        elif op == "update" and job_id in model:
            job = store.lookup_job(job_id)
            assert job is not None
            job.next_run_time = _at(value)
            store.update_job(job)
            model[job_id] = _at(value)
        elif op == "remove" and job_id in model:
            store.remove_job(job_id)
            del model[job_id]
        elif op in ("claim_due", "claim_some"):
            now = _at(number)
            assert now is not None
            due = store.get_due_jobs(now)
            assert [job.id for job in due] == [job.id for job in store.get_all_jobs()[: len(due)]]
            assert {job.id for job in due} == {i for i, t in model.items() if t is not None and t <= now}
            chosen: list[Job] = due if op == "claim_due" else due[::2]
            claims = []
            for job in chosen:
                expected = job.next_run_time
                job.next_run_time = now + timedelta(minutes=(value or 0) + 1)  # later than any due time
                claims.append((job, expected, [Run(job_id=job.id, scheduled_at=expected)]))  # type: ignore[arg-type]
            assert store.claim_jobs(claims) == [True] * len(claims)
            for job in chosen:
                model[job.id] = job.next_run_time
            # A second claim with the same expectations loses every fire.
            assert store.claim_jobs([(job, expected, []) for job, expected, _ in claims]) == [False] * len(claims)
        _check(store, model)
