"""The notebook executor under a real scheduler: run records, warm kernels, the concurrency cap, retries,
retention, and the Dask executor against a LocalCluster."""

from __future__ import annotations

import hashlib
import os
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import nbformat
import pytest

from nbsched.events import EVENT_JOB_ERROR, EVENT_JOB_EXECUTED, EVENT_JOB_MISSED
from nbsched.executors.notebook import NotebookExecutor
from nbsched.notebooks import Cell, Notebook
from nbsched.notebooks.kernels import KernelPool
from nbsched.runs import RunStatus
from nbsched.schedulers.background import BackgroundScheduler

pytestmark = pytest.mark.realtime


class Outcomes:
    def __init__(self) -> None:
        self.events: list[Any] = []
        self._cond = threading.Condition()

    def __call__(self, event: Any) -> None:
        with self._cond:
            self.events.append(event)
            self._cond.notify_all()

    def wait(self, count: int, timeout: float = 60.0) -> list[Any]:
        with self._cond:
            assert self._cond.wait_for(lambda: len(self.events) >= count, timeout), self.events
            return list(self.events)


def scheduler(executor: Any, **options: Any) -> tuple[BackgroundScheduler, Outcomes]:
    outcomes = Outcomes()
    s = BackgroundScheduler(timezone="UTC", executors={"notebook": executor}, **options)
    s.add_listener(outcomes, EVENT_JOB_EXECUTED | EVENT_JOB_ERROR | EVENT_JOB_MISSED)
    return s, outcomes


def soon(seconds: float = 0.0) -> datetime:
    return datetime.now(UTC) + timedelta(seconds=seconds)


def test_runs_are_recorded_with_progress_outputs_and_the_failing_cell(root: Path) -> None:
    executor = NotebookExecutor(max_concurrent_runs=2)
    s, outcomes = scheduler(executor)
    s.start()
    try:
        s.add_job(Notebook("fail.ipynb"), "date", run_date=soon(), id="bad")
        s.add_job(Notebook("params.ipynb", parameters={"limit": 1}), "date", run_date=soon(), id="good")
        outcomes.wait(2)
        bad, good = s.runs(job_id="bad")[0], s.runs(job_id="good")[0]
    finally:
        s.shutdown()
    assert good.status is RunStatus.SUCCEEDED and good.progress == "cell 5/5"
    assert bad.status is RunStatus.FAILED
    assert (bad.error_type, bad.error_message, bad.cell_index) == ("ValueError", "boom 0", 2)
    assert bad.traceback is not None and "ValueError: boom 0" in bad.traceback
    assert bad.progress == "cell 3/4"
    # the progress and the message name the failing cell alike; cell_index is papermill's 0-based index of it
    failed = next(event for event in outcomes.events if event.job_id == "bad")
    assert str(failed.exception) == "ValueError in cell 3: boom 0"
    # each run records the content hash of the notebook it ran, failed or not
    for run, name in ((bad, "fail.ipynb"), (good, "params.ipynb")):
        assert run.input_sha256 == hashlib.sha256((root / name).read_bytes()).hexdigest()
    home = Path(executor.kernels.home).parent if executor.kernels else None
    assert home is not None
    for run in (bad, good):
        folder = home / "runs" / run.job_id / run.id
        assert {Path(p).parent for p in run.outputs.values()} == {folder}
        assert Path(run.outputs["html"]).is_file() and Path(run.outputs["ipynb"]).is_file()
    assert "banner" not in good.outputs


def test_warm_kernels_keep_kernel_start_off_the_critical_path_and_are_never_reused(root: Path) -> None:
    executor = NotebookExecutor(max_concurrent_runs=1)
    s, outcomes = scheduler(executor)
    s.start()
    try:
        assert executor.kernels is not None and executor.kernels.wait_ready("python3", 60)
        marks = [root / f"mark{i}.txt" for i in range(2)]
        due = []
        for i, mark in enumerate(marks):
            due.append(soon(0.3 + 1.5 * i))
            s.add_job(Notebook("stamp.ipynb", parameters={"marker": str(mark)}), "date", run_date=due[-1], id=f"s{i}")
            executor.kernels.wait_ready("python3", 60)
            outcomes.wait(i + 1)
    finally:
        s.shutdown()
    results = [e.retval for e in outcomes.events]
    assert all(e.code == EVENT_JOB_EXECUTED for e in outcomes.events), outcomes.events
    assert all(r.warm_kernel for r in results)
    assert len({r.kernel_id for r in results}) == 2  # a fresh kernel for every run
    for mark, when in zip(marks, due, strict=True):
        first_cell = float(mark.read_text().split()[0])
        latency = first_cell - when.timestamp()
        # A kernel start alone takes ~1 s here; with a warm kernel the first cell runs well within it.
        assert latency < 0.6, latency


def test_max_concurrent_runs_is_respected(root: Path) -> None:
    executor = NotebookExecutor(max_concurrent_runs=2, warm_kernels=False)
    s, outcomes = scheduler(executor)
    s.start()
    try:
        marks = [root / f"c{i}.txt" for i in range(3)]
        at = soon(0.2)
        for i, mark in enumerate(marks):
            s.add_job(Notebook("stamp.ipynb", parameters={"marker": str(mark)}), "date", run_date=at, id=f"c{i}")
        outcomes.wait(3, timeout=90)
    finally:
        s.shutdown()
    spans = [tuple(map(float, mark.read_text().split())) for mark in marks]
    starts = sorted(start for start, _ in spans)

    def running_at(t: float) -> int:
        return sum(1 for start, end in spans if start <= t < end)

    assert max(running_at(t) for t in starts) == 2  # two ran together, the third waited for a slot


def test_timed_out_runs_are_retried_only_when_asked(root: Path) -> None:
    s, outcomes = scheduler(NotebookExecutor())
    s.start()
    try:
        slow = "import time\ntime.sleep(30)"
        s.add_job(
            Cell(slow, timeout=0.5, interrupt_grace=2, retry_on_timeout=True),
            "date",
            run_date=soon(),
            id="retried",
            retries=1,
        )
        s.add_job(Cell(slow, timeout=0.5, interrupt_grace=2), "date", run_date=soon(), id="once", retries=1)
        outcomes.wait(3)
        time.sleep(0.5)
        retried, once = s.runs(job_id="retried")[0], s.runs(job_id="once")[0]
    finally:
        s.shutdown()
    assert (retried.status, retried.attempt) == (RunStatus.TIMED_OUT, 2)
    assert (once.status, once.attempt) == (RunStatus.TIMED_OUT, 1)
    assert once.error_type == "CellTimeoutError"


def test_retention_deletes_run_folders_with_their_rows(root: Path, nbsched_home: Path) -> None:
    s, outcomes = scheduler(NotebookExecutor(), keep_runs=1)
    s.start()
    try:
        s.add_job(Cell("print('x')"), "interval", seconds=0.6, id="r", max_runs=2, max_instances=2)
        outcomes.wait(2)
        folders = sorted((nbsched_home / "runs" / "r").iterdir())
        assert len(folders) == 2
        s._last_prune = None
        s._prune_runs(datetime.now(UTC))
        runs = s.runs(job_id="r")
    finally:
        s.shutdown()
    assert len(runs) == 1
    assert sorted((nbsched_home / "runs" / "r").iterdir()) == [nbsched_home / "runs" / "r" / runs[0].id]


def test_retention_also_deletes_the_folder_of_a_run_that_wrote_no_outputs(nbsched_home: Path) -> None:
    from nbsched.paths import runs_dir
    from nbsched.runs import Run
    from nbsched.schedulers._history import _remove_run_folders

    folder = runs_dir("gone", "r1")  # e.g. the notebook was deleted after scheduling: the run failed at once
    run = Run(id="r1", job_id="gone", scheduled_at=datetime.now(UTC), status=RunStatus.FAILED)
    assert run.outputs == {}
    _remove_run_folders([run])
    assert not folder.exists() and not folder.parent.exists()


def test_idle_kernel_names_lose_their_ready_kernel(tmp_path: Path) -> None:
    pool = KernelPool(tmp_path / "k", idle_timeout=0.5)
    try:
        assert pool.wait_ready("python3", 60)
        kernel = pool._ready["python3"]
        deadline = time.monotonic() + 10
        while pool.ready_names() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert pool.ready_names() == []
        while kernel.km.has_kernel and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not kernel.km.has_kernel
    finally:
        pool.shutdown()


def test_a_name_used_again_loses_its_ready_kernel_once_it_is_idle(tmp_path: Path) -> None:
    # prepare() (a job added) refreshes the name's last use after its kernel started: the pool looks again later.
    pool = KernelPool(tmp_path / "k", idle_timeout=1.0)
    try:
        assert pool.wait_ready("python3", 60)
        time.sleep(0.6)
        pool.prepare("python3")
        deadline = time.monotonic() + 15
        while pool.ready_names() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert pool.ready_names() == []
    finally:
        pool.shutdown()


@pytest.mark.filterwarnings("ignore::DeprecationWarning:distributed")
def test_dask_executor_runs_cells_and_functions_on_a_local_cluster(root: Path) -> None:
    import distributed

    from nbsched.executors.dask import DaskExecutor

    with distributed.LocalCluster(
        n_workers=1, threads_per_worker=2, processes=False, dashboard_address=None
    ) as cluster:
        outcomes = Outcomes()
        s = BackgroundScheduler(timezone="UTC", executors={"dask": DaskExecutor(cluster.scheduler_address)})
        s.add_listener(outcomes, EVENT_JOB_EXECUTED | EVENT_JOB_ERROR)
        s.start()
        try:
            s.add_job("tests.tasks:add", "date", run_date=soon(), args=(2, 3), executor="dask", id="f")
            s.add_job(Cell("print(6 * 7)"), "date", run_date=soon(), executor="dask", id="c")
            s.add_job(Cell("1/0"), "date", run_date=soon(), executor="dask", id="e")
            events = {e.job_id: e for e in outcomes.wait(3)}
            runs = {job: s.runs(job_id=job)[0] for job in ("f", "c", "e")}
        finally:
            s.shutdown()
    assert events["f"].retval == 5 and runs["f"].status is RunStatus.SUCCEEDED
    assert Path(events["c"].retval.outputs["stdout"]).read_text() == "42\n"
    assert runs["c"].status is RunStatus.SUCCEEDED and Path(runs["c"].outputs["html"]).is_file()
    assert (runs["e"].status, runs["e"].error_type, runs["e"].cell_index) == (RunStatus.FAILED, "ZeroDivisionError", 0)


@pytest.mark.filterwarnings("ignore::DeprecationWarning:distributed")
def test_dask_executor_runs_notebook_jobs_in_worker_processes(root: Path, nbsched_home: Path) -> None:
    # A worker process of its own: the spec and its errors cross a process boundary (pickled), the worker
    # starts the kernel, and the outputs land in the run folder this process named.
    import distributed

    from nbsched.executors.dask import DaskExecutor

    nb = nbformat.v4.new_notebook(
        cells=[
            nbformat.v4.new_code_cell('label = ""'),
            nbformat.v4.new_code_cell("import os\nprint(label, os.getppid())"),
        ]
    )
    nb.cells[0].metadata["tags"] = ["parameters"]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, root / "parent.ipynb")
    with distributed.LocalCluster(n_workers=1, threads_per_worker=2, processes=True, dashboard_address=None) as cluster:
        with distributed.Client(cluster) as client:
            workers = set(client.run(os.getpid).values())
        outcomes = Outcomes()
        s = BackgroundScheduler(timezone="UTC", executors={"dask": DaskExecutor(cluster.scheduler_address)})
        s.add_listener(outcomes, EVENT_JOB_EXECUTED | EVENT_JOB_ERROR)
        s.start()
        try:
            s.add_job(
                Notebook("parent.ipynb", parameters={"label": "on"}), "date", run_date=soon(), executor="dask", id="nb"
            )
            s.add_job(
                Notebook("fail.ipynb", parameters={"divisor": 3}), "date", run_date=soon(), executor="dask", id="bad"
            )
            events = {e.job_id: e for e in outcomes.wait(2, timeout=120)}
            runs = {job: s.runs(job_id=job)[0] for job in ("nb", "bad")}
        finally:
            s.shutdown()
    good, bad = runs["nb"], runs["bad"]
    assert good.status is RunStatus.SUCCEEDED, good
    label, parent = Path(events["nb"].retval.outputs["stdout"]).read_text().split()
    assert label == "on" and int(parent) in workers and os.getpid() not in workers  # the worker started the kernel
    for run in (good, bad):
        folder = nbsched_home / "runs" / run.job_id / run.id
        assert {Path(path).parent for path in run.outputs.values()} == {folder}, run.outputs
        assert Path(run.outputs["ipynb"]).is_file() and Path(run.outputs["html"]).is_file()
    out = nbformat.read(good.outputs["ipynb"], as_version=4)
    assert out.metadata["nbsched"]["run_id"] == good.id and out.metadata["papermill"]["exception"] is False
    assert (bad.status, bad.error_type, bad.error_message, bad.cell_index) == (
        RunStatus.FAILED,
        "ValueError",
        "boom 3",
        3,
    )
    assert str(events["bad"].exception) == "ValueError in cell 4: boom 3"
    assert Path(bad.outputs["stdout"]).read_text() == "before the error\n"
