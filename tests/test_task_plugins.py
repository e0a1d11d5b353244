"""A third-party task kind, registered through an ``nbsched.tasks`` entry point of an installed distribution, is
stored in a SQLite store as its own JSON, loaded by a fresh scheduler and run on the executor it asks for."""

from __future__ import annotations

import sys
import textwrap
import threading
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from nbsched import plugins
from nbsched.abc import Task
from nbsched.clock import ManualClock
from nbsched.events import EVENT_JOB_ERROR, EVENT_JOB_EXECUTED, JobExecutionEvent
from nbsched.runs import RunStatus
from nbsched.schedulers.background import BackgroundScheduler

WAIT = 30  # seconds: a bound for the run's thread, never a timing assertion

PLUGIN = '''
    from nbsched.abc import RunContext, Task, TaskSummary
    from nbsched.exceptions import SerializationError
    from nbsched.outcome import RunOutcome


    class Greeting(Task):
        """Writes a greeting into the run's folder."""

        task_type = "greeting"

        def __init__(self, who: str) -> None:
            self.who = who

        def __eq__(self, other: object) -> bool:
            return isinstance(other, Greeting) and other.who == self.who

        @property
        def default_executor(self) -> str:
            return "greeter"

        def to_dict(self):
            return {"type": self.task_type, "version": 1, "who": self.who}

        @classmethod
        def from_dict(cls, state):
            if state.get("version") != 1:
                raise SerializationError("Greeting", "version", state.get("version"), "is not 1")
            return cls(state["who"])

        def describe(self) -> str:
            return f"greet {self.who}"

        def summary(self) -> TaskSummary:
            return TaskSummary(kind=self.task_type, target=self.who)

        def run(self, context: RunContext, **resources) -> RunOutcome:
            context.progress("writing")
            path = context.output_folder() / "greeting.txt"
            path.write_text(f"hello {self.who}")
            return RunOutcome.succeeded(str(path))
'''


@pytest.fixture
def installed_plugin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """A distribution ``greetings`` on sys.path whose entry point registers the task kind ``greeting``."""
    site = tmp_path / "site"
    (site / "greetings").mkdir(parents=True)
    (site / "greetings" / "__init__.py").write_text(textwrap.dedent(PLUGIN))
    dist = site / "greetings-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: greetings\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text("[nbsched.tasks]\ngreeting = greetings:Greeting\n")
    monkeypatch.syspath_prepend(str(site))
    plugins.reload_entry_points()
    try:
        yield
    finally:
        sys.modules.pop("greetings", None)
        plugins.reload_entry_points()  # read again, without it, once monkeypatch has taken it off sys.path


@pytest.fixture
def nbsched_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "home"
    monkeypatch.setenv("NBSCHED_HOME", str(home))
    return home


def _scheduler(db: Path, clock: ManualClock) -> BackgroundScheduler:
    return BackgroundScheduler(
        timezone="UTC",
        clock=clock,
        jobstores={"default": {"type": "sqlalchemy", "url": f"sqlite:///{db}"}},
        executors={"greeter": "threadpool"},
    )


def test_a_third_party_task_kind_is_stored_reloaded_and_run(
    installed_plugin: None, tmp_path: Path, nbsched_home: Path
) -> None:
    Greeting = plugins.load_plugin("task", "greeting")  # the class the fixture's distribution registers
    assert isinstance(Greeting("x"), Task) and "greeting" in plugins.known_aliases("task")
    db = tmp_path / "jobs.db"
    clock = ManualClock("2026-03-02 09:00")
    fire = clock.now() + timedelta(minutes=1)
    first = _scheduler(db, clock)
    first.start(paused=True)
    try:
        first.add_job(Greeting("world"), "date", run_date=fire, id="greet")
    finally:
        first.shutdown()

    arrived = threading.Event()
    events: list[JobExecutionEvent] = []

    def listener(event: JobExecutionEvent) -> None:
        events.append(event)
        arrived.set()

    fresh = _scheduler(db, clock)  # another scheduler: the job comes from the store's JSON
    fresh.add_listener(listener, EVENT_JOB_EXECUTED | EVENT_JOB_ERROR)
    fresh.start()
    try:
        job = fresh.get_job("greet")
        assert job is not None
        assert (job.func, job.executor, job.name, job.task.summary().target) == (
            Greeting("world"),
            "greeter",
            "greet world",
            "world",
        )
        clock.advance(60)
        assert arrived.wait(WAIT)
        [run] = fresh.runs(job_id="greet")
    finally:
        fresh.shutdown()
    [event] = events
    assert event.code == EVENT_JOB_EXECUTED, event.exception
    assert (run.status, run.started_at, run.finished_at, run.progress) == (RunStatus.SUCCEEDED, fire, fire, "writing")
    written = Path(event.retval)
    assert written.read_text() == "hello world"
    assert written.parent == nbsched_home / "runs" / "greet" / run.id
