"""README's "Moving from APScheduler" table, row by row: each test shows APScheduler 3.11's behaviour and
nbsched's side by side, doing the same thing to both (issue 16, point 6).

Each row of the table names its test in an HTML comment (``<!-- test: path::name -->``), and
:func:`test_every_row_of_the_migration_table_names_a_side_by_side_test` checks that every row does and that the
test exists. Rows whose tests live elsewhere (cron and DST, next to the cron engine's other differentials) name
those.
"""

from __future__ import annotations

import re
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import apscheduler.events
import pytest
from apscheduler.executors.pool import ProcessPoolExecutor as TheirProcessPool
from apscheduler.job import Job as TheirJob
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore as TheirSQLStore
from apscheduler.schedulers.background import BackgroundScheduler as TheirScheduler
from apscheduler.triggers.cron import CronTrigger as TheirCron
from apscheduler.triggers.date import DateTrigger as TheirDateTrigger
from apscheduler.triggers.interval import IntervalTrigger as TheirInterval

from nbsched.clock import ManualClock
from nbsched.exceptions import ConfigurationError, JobArgumentError, PluginLookupError, TriggerArgumentError
from nbsched.executors.pool import ProcessPoolExecutor as OurProcessPool
from nbsched.jobstores.sqlalchemy import SQLAlchemyJobStore as OurSQLStore
from nbsched.runs import RunStatus
from nbsched.schedulers._catchup import WALK_LIMIT, plan_fires
from nbsched.schedulers.background import BackgroundScheduler as OurScheduler
from nbsched.triggers.cron import CronTrigger as OurCron
from nbsched.triggers.date import DateTrigger as OurDateTrigger
from nbsched.triggers.interval import IntervalTrigger as OurInterval
from tests import tasks
from tests.harness import Harness

ROOT = Path(__file__).resolve().parents[1]
BERLIN = ZoneInfo("Europe/Berlin")
T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def migration_rows() -> list[str]:
    """The body rows of README's migration table, as written."""
    text = (ROOT / "README.md").read_text()
    section = text.split("## Moving from APScheduler", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| ")]
    return rows[1:]  # the header row; the |---| line does not start with "| "


def test_every_row_of_the_migration_table_names_a_side_by_side_test() -> None:
    rows = migration_rows()
    assert len(rows) >= 15
    for row in rows:
        found = re.search(r"<!-- test: (\S+?)::(\w+) -->", row)
        assert found, f"README migration row names no test (<!-- test: path::name -->): {row[:60]}"
        path, name = found.groups()
        assert re.search(rf"^def {name}\(", (ROOT / path).read_text(), re.M), f"{path} has no test {name}"


# --------------------------------------------------------------------------------------- scheduler rows
def test_row_misfire_grace_time_default() -> None:
    found = {}
    for name, cls in (("apscheduler", TheirScheduler), ("nbsched", OurScheduler)):
        scheduler = cls(timezone="UTC")
        scheduler.add_job(tasks.record, "interval", hours=1, id="j")
        scheduler.start(paused=True)
        found[name] = scheduler.get_job("j").misfire_grace_time
        scheduler.shutdown()
    assert found == {"apscheduler": 1, "nbsched": None}


def _per_second_job_stopped_for(seconds: int) -> tuple[Any, Any, datetime, datetime]:
    """APScheduler's and nbsched's job on one per-second trigger, due since ``T0``, looked at ``seconds`` later."""
    their = TheirJob(
        TheirScheduler(timezone="UTC"),
        id="j",
        func=tasks.record,
        args=(),
        kwargs={},
        trigger=TheirInterval(seconds=1, start_date=T0),
        executor="default",
        name="j",
        misfire_grace_time=None,
        coalesce=False,
        max_instances=1,
        next_run_time=T0,
    )
    return their, OurInterval(seconds=1, start_date=T0), T0, T0 + timedelta(seconds=seconds)


class _Counting:
    """Counts a trigger's get_next_fire_time calls."""

    def __init__(self, trigger: Any) -> None:
        self.trigger = trigger
        self.calls = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self.trigger, name)

    def get_next_fire_time(self, previous: datetime | None, now: datetime) -> datetime | None:
        self.calls += 1
        return self.trigger.get_next_fire_time(previous, now)  # type: ignore[no-any-return]


def test_row_catch_up_after_a_long_stop() -> None:
    their, ours, due, now = _per_second_job_stopped_for(20_000)
    assert len(their._get_run_times(now)) == 20_001  # every missed fire time, in one list
    counting = _Counting(ours)
    plan = plan_fires(counting, due, now, coalesce=False, misfire_grace_time=None)  # type: ignore[arg-type]
    assert len(plan.run_times) <= WALK_LIMIT + 1 and plan.skipped
    assert counting.calls < 2 * WALK_LIMIT + 64  # the span passed over costs O(log n) calls, not 20 000


def test_row_catch_up_without_coalesce() -> None:
    their, ours, due, now = _per_second_job_stopped_for(1_000)
    assert len(their._get_run_times(now)) == 1_001  # APScheduler submits every one of them
    plan = plan_fires(ours, due, now, coalesce=False, misfire_grace_time=None)
    assert len(plan.run_times) == WALK_LIMIT + 1 and plan.run_times[-1] == now  # 100 one by one, plus the latest
    [(first, end)] = plan.skipped  # one span stands for the fires passed over (a `skipped` run)
    assert first == due + timedelta(seconds=WALK_LIMIT) and end == now
    # Older than the grace time: reported missed (recorded `skipped`), not run.
    late = plan_fires(ours, due, now, coalesce=False, misfire_grace_time=10)
    assert late.run_times == [now - timedelta(seconds=s) for s in range(10, -1, -1)]
    assert len(late.missed) == WALK_LIMIT and late.skipped


def test_row_add_job_replace_existing(tmp_path: Path) -> None:
    # A job stored with a fire still due (missed while nothing ran), then added again unchanged on start-up.
    past = datetime.now(UTC) - timedelta(hours=3)
    found = {}
    for name, cls, store in (
        ("apscheduler", TheirScheduler, TheirSQLStore(f"sqlite:///{tmp_path}/theirs.db")),
        ("nbsched", OurScheduler, OurSQLStore(f"sqlite:///{tmp_path}/ours.db")),
    ):
        scheduler = cls(timezone="UTC", jobstores={"default": store})
        scheduler.start(paused=True)
        trigger = (TheirInterval if name == "apscheduler" else OurInterval)(hours=1, start_date=past)
        scheduler.add_job(tasks.record, trigger, id="j", next_run_time=past)
        scheduler.add_job(tasks.record, trigger, id="j", replace_existing=True)
        found[name] = scheduler.get_job("j").next_run_time
        scheduler.shutdown()
    assert found["apscheduler"] > datetime.now(UTC)  # recomputed: the missed fire is forgotten
    assert found["nbsched"] == past  # kept: caught up when the scheduler resumes


def test_row_unknown_configure_option() -> None:
    TheirScheduler(timezone="UTC", job_defualts={"coalesce": False})  # silently ignored
    with pytest.raises(ConfigurationError, match="did you mean 'job_defaults'"):
        OurScheduler(timezone="UTC", job_defualts={"coalesce": False})


def test_row_bad_arguments() -> None:
    their = TheirScheduler(timezone="UTC").add_job(tasks.record, "interval", seconds=-5)
    assert their.trigger.interval == timedelta(seconds=-5)  # accepted; fails later, somewhere deep
    with pytest.raises(TriggerArgumentError) as info:
        OurScheduler(timezone="UTC").add_job(tasks.record, "interval", seconds=-5)
    assert str(info.value) == "IntervalTrigger: seconds -5 must not be negative"
    assert isinstance(info.value, ValueError) and isinstance(info.value, TypeError)


def test_row_export_and_import_jobs(tmp_path: Path) -> None:
    texts = {}
    for name, cls in (("apscheduler", TheirScheduler), ("nbsched", OurScheduler)):
        scheduler = cls(timezone="UTC")
        scheduler.start(paused=True)
        scheduler.add_job(tasks.add, "interval", minutes=5, args=[1, 2], id="j")
        scheduler.export_jobs(str(tmp_path / f"{name}.json"))
        scheduler.shutdown()
        texts[name] = (tmp_path / f"{name}.json").read_text()
    # APScheduler's JSON carries pickles (base64 of protocol 5 pickles start with "gAW").
    assert "gAW" in texts["apscheduler"]
    assert "gAW" not in texts["nbsched"] and '"version": 1' in texts["nbsched"]
    assert '"func": "tests.tasks:add"' in texts["nbsched"] and '"args": [\n' in texts["nbsched"]


def test_row_process_pool_executor() -> None:
    theirs, ours = TheirProcessPool(max_workers=1), OurProcessPool(max_workers=1)
    try:
        # Both spawn (APScheduler 3.11's default mp_context; 3.10 and earlier forked on Linux).
        assert theirs._pool._mp_context.get_start_method() == "spawn"
        assert ours._pool._mp_context.get_start_method() == "spawn"
    finally:
        theirs.shutdown()
        ours.shutdown()


def test_row_date_trigger_without_run_date() -> None:
    before = datetime.now(UTC)
    theirs = TheirDateTrigger(timezone="UTC")
    assert theirs.run_date >= before  # read from the clock when created
    later = T0 + timedelta(days=1)
    assert OurDateTrigger(timezone="UTC").get_next_fire_time(None, later) == later  # the first time it is asked


def test_row_sqlalchemy_job_store_without_arguments(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ValueError, match='Need either "engine" or "url" defined'):
        TheirSQLStore()
    monkeypatch.setenv("NBSCHED_HOME", str(tmp_path))
    monkeypatch.delenv("NBSCHED_DB_URL", raising=False)
    store = OurSQLStore()  # the default store: the same one the magics, the CLI and `nbsched serve` use
    try:
        assert repr(store) == f"<SQLAlchemyJobStore (url=sqlite:///{tmp_path}/nbsched.db)>"
    finally:
        store.shutdown()


def test_row_executor_missing_when_a_job_is_due() -> None:
    # APScheduler: the job is removed at its fire.
    removed = threading.Event()
    theirs = TheirScheduler(timezone="UTC")
    theirs.add_listener(lambda event: removed.set(), apscheduler.events.EVENT_JOB_REMOVED)
    theirs.start(paused=True)
    try:
        theirs.add_job(tasks.record, "interval", hours=1, id="j", executor="later", next_run_time=datetime.now(UTC))
        theirs.resume()
        assert removed.wait(10)
        assert theirs.get_job("j") is None
    finally:
        theirs.shutdown()
    # Added before start(): APScheduler stores it; nbsched's start() refuses it (a misspelt alias), keeping it pending.
    pending = TheirScheduler(timezone="UTC")
    pending.add_job(tasks.record, "interval", hours=1, id="typo", executor="nope")
    pending.start(paused=True)
    assert pending.get_job("typo") is not None
    pending.shutdown()
    refusing = OurScheduler(timezone="UTC")
    refusing.add_job(tasks.record, "interval", hours=1, id="typo", executor="nope")
    with pytest.raises(PluginLookupError, match="executor 'nope' is not an executor of this scheduler"):
        refusing.start(paused=True)
    assert [job.id for job in refusing.get_jobs() if job.pending] == ["typo"]
    # nbsched, running: the fire is a skipped run that names the executor; the job is kept for when it is added.
    clock = ManualClock(T0)
    ours = OurScheduler(timezone="UTC", clock=clock, executors={"default": {"type": "debug"}})
    ours.start()
    try:
        ours.add_job(tasks.record, "interval", hours=1, id="j", executor="later")
        clock.advance(3600)
        assert ours.get_job("j") is not None
        [run] = ours.runs(job_id="j")
        assert (run.status, run.error_message) == (
            "skipped",
            'No executor by the name "later" was found (known: default)',
        )
    finally:
        ours.shutdown()


# -------------------------------------------------------------------------------------------- cron rows
def test_row_cron_strings_typed_by_people() -> None:
    after = datetime(2026, 1, 5, 12, tzinfo=UTC)  # a Monday
    their_zero = TheirCron.from_crontab("0 9 * * 0", timezone="UTC").get_next_fire_time(None, after)
    our_zero = OurCron.from_posix("0 9 * * 0", timezone="UTC").get_next_fire_time(None, after)
    assert their_zero is not None and their_zero.weekday() == 0  # 0 = Monday
    assert our_zero is not None and our_zero.weekday() == 6  # 0 = Sunday, as cron
    # day-of-month and day-of-week both restricted: ANDed by APScheduler, ORed by cron
    their_both = TheirCron.from_crontab("0 9 13 * 4", timezone="UTC").get_next_fire_time(None, after)
    our_both = OurCron.from_posix("0 9 13 * 4", timezone="UTC").get_next_fire_time(None, after)
    assert their_both == datetime(2026, 2, 13, 9, tzinfo=UTC)  # a Friday (4) that is the 13th
    assert our_both == datetime(2026, 1, 8, 9, tzinfo=UTC)  # Thursday the 8th (either may match)
    # and APScheduler's own constructors keep APScheduler's meaning
    mine = OurCron.from_crontab("0 9 * * 0", timezone="UTC").get_next_fire_time(None, after)
    assert mine == their_zero


def test_row_cron_in_a_dst_gap() -> None:
    after = datetime(2024, 3, 30, 12, tzinfo=BERLIN)  # 31 March 2024: 02:00 -> 03:00 in Berlin
    theirs = TheirCron(hour=2, minute=30, timezone=BERLIN).get_next_fire_time(None, after)
    ours = OurCron(hour=2, minute=30, timezone=BERLIN).get_next_fire_time(None, after)
    assert theirs is not None and theirs.replace(tzinfo=None) == datetime(2024, 3, 31, 2, 30)  # no such time
    assert ours == datetime(2024, 3, 31, 3, 0, tzinfo=BERLIN)  # the first instant after the gap


def _fires(trigger: Any, start: datetime, end: datetime) -> list[datetime]:
    out: list[datetime] = []
    previous, now = None, start
    while True:
        fire = trigger.get_next_fire_time(previous, now)
        if fire is None or fire.astimezone(UTC) >= end.astimezone(UTC) or len(out) > 20:
            return out
        out.append(fire.astimezone(UTC))
        previous, now = fire, fire + timedelta(microseconds=1)


def test_row_cron_in_the_repeated_autumn_hour() -> None:
    start, end = datetime(2024, 10, 26, 12, tzinfo=UTC), datetime(2024, 10, 27, 12, tzinfo=UTC)
    # 27 October 2024: Berlin goes through 02:00-03:00 twice
    theirs = _fires(TheirCron(hour=2, minute=30, timezone=BERLIN), start, end)
    ours = _fires(OurCron(hour=2, minute=30, timezone=BERLIN), start, end)
    assert len(set(theirs)) == 2 and len(ours) == 1  # (APScheduler also repeats its second one when asked again)
    our_stepped = _fires(OurCron(hour="*/1", minute=30, timezone=BERLIN), start, end)
    assert [fire for fire in our_stepped if fire.hour in (0, 1)] == [
        datetime(2024, 10, 27, 0, 30, tzinfo=UTC),
        datetime(2024, 10, 27, 1, 30, tzinfo=UTC),
    ]  # a stepped hour fires in both passes


def test_row_cron_search_across_a_dst_change() -> None:
    after = datetime(2015, 3, 2, tzinfo=BERLIN)
    theirs = _fires(TheirCron(day=1, timezone=BERLIN), after, datetime(2015, 5, 2, tzinfo=BERLIN))
    ours = _fires(OurCron(day=1, timezone=BERLIN), after, datetime(2015, 5, 2, tzinfo=BERLIN))
    april_first = datetime(2015, 4, 1, tzinfo=BERLIN).astimezone(UTC)
    assert april_first not in theirs and april_first in ours


def test_row_cron_expressions() -> None:
    after = datetime(2026, 1, 5, tzinfo=UTC)
    their_months = {f.month for f in _fires(TheirCron(month="jan-dec/3", timezone="UTC"), after, after.replace(2027))}
    our_months = {f.month for f in _fires(OurCron(month="jan-dec/3", timezone="UTC"), after, after.replace(2027))}
    assert their_months == set(range(1, 13)) and our_months == {1, 4, 7, 10}
    TheirCron(day="last fri xyz", timezone="UTC")  # accepted
    with pytest.raises(TriggerArgumentError, match="day"):
        OurCron(day="last fri xyz", timezone="UTC")


def test_row_catch_up_with_coalesce() -> None:
    # A job every 10 s whose last nine fire times passed while nothing ran it.
    now = datetime.now(UTC)
    missed_since = now - timedelta(seconds=85)
    submitted: list[list[datetime]] = []
    done = threading.Event()

    def listen(event: Any) -> None:
        if event.code == apscheduler.events.EVENT_JOB_SUBMITTED:
            submitted.append(list(event.scheduled_run_times))
        else:
            done.set()

    their = TheirScheduler(timezone="UTC")
    their.add_listener(listen, apscheduler.events.EVENT_JOB_SUBMITTED | apscheduler.events.EVENT_JOB_EXECUTED)
    their.start(paused=True)
    trigger = TheirInterval(seconds=10, start_date=missed_since)
    their.add_job(tasks.record, trigger, id="c", coalesce=True, misfire_grace_time=None, next_run_time=missed_since)
    their.resume()
    assert done.wait(10)
    their.shutdown()
    assert [len(times) for times in submitted] == [1]  # one run; the eight fire times folded into it leave no trace

    harness = Harness("background")
    try:
        harness.scheduler.add_job(tasks.record, "interval", seconds=10, coalesce=True, id="c")
        harness.start(paused=True)
        harness.advance(85)  # eight fire times pass while paused
        harness.scheduler.resume()
        harness.settle()
        (run,) = harness.scheduler.runs(job_id="c")
        assert run.status is RunStatus.SUCCEEDED
        assert run.warnings[0].startswith("coalesced 8 fire times from 2026-01-05T09:00:10+00:00 to ")
    finally:
        harness.shutdown()


def test_row_unrunnable_values() -> None:
    their = TheirScheduler(timezone="UTC")
    ours = OurScheduler(timezone="UTC", clock=ManualClock("2026-01-05 09:00"))
    their.add_job(tasks.record, TheirCron.from_crontab("0 0 30 2 *"), id="feb30")  # accepted: never fires
    their.add_job(tasks.record, "interval", hours=1, id="x" * 1_000)  # accepted: any length
    assert len(their.get_jobs()) == 2
    with pytest.raises(JobArgumentError, match="will never fire"):
        ours.add_job(tasks.record, OurCron.from_posix("0 0 30 2 *"), id="feb30")
    with pytest.raises(JobArgumentError, match=r"^add_job: id 'x+"):
        ours.add_job(tasks.record, "interval", hours=1, id="x" * 1_000)
    with pytest.raises(JobArgumentError, match="retries"):
        ours.add_job(tasks.record, "interval", hours=1, retries=2_000)
    assert ours.get_jobs() == []
