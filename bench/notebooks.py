"""Notebook-job benchmarks (issue 5): nbsched's notebook executor against papermill, measured in the same run.

``rows(quick)`` returns the table rows; each library is measured in a fresh subprocess of its own
(``python -m bench.notebooks <lib> [--quick]`` prints one JSON line), so imports, kernels and caches never carry
over. A tiny parameterised notebook (a ``parameters`` cell, a cell that stamps the time, a print) is run:

- **latency due → first cell**: nbsched: a date job on a started scheduler with a warm kernel, from its due time
  to the moment its first cell runs; papermill (no scheduler): from the call of ``execute_notebook`` at the due
  time to the same moment;
- **end to end**: from the due time until both the output ``.ipynb`` and the ``.html`` are written (papermill then
  nbconvert's ``HTMLExporter``, already imported and warmed, as a papermill user would do it);
- **sustained runs per minute on 2 workers**: many runs due at once, two at a time (nbsched
  ``max_concurrent_runs=2``; papermill in two threads);
- **memory per running job**: RSS of the process and its kernels while two runs are in a cell, less the process's
  RSS before (with nbclient and a warmed nbconvert loaded on both sides), per run (nbsched's warm spare kernel
  counts against it).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

__all__ = ["rows"]

ROOT = Path(__file__).resolve().parent.parent
PREFIX = "NBSCHED-BENCH-NOTEBOOKS "


def _tiny_notebook(folder: Path, sleep: float = 0.0) -> Path:
    import nbformat

    params = nbformat.v4.new_code_cell('n = 1\nmarker = ""')
    params.metadata["tags"] = ["parameters"]
    cells = [
        params,
        nbformat.v4.new_code_cell("import time\nopen(marker, 'w').write(repr(time.time()))"),
        nbformat.v4.new_code_cell(f"time.sleep({sleep})\nprint(n * 2)"),
    ]
    nb = nbformat.v4.new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    path = folder / ("tiny.ipynb" if not sleep else "sleepy.ipynb")
    nbformat.write(nb, path)
    return path


# ------------------------------------------------------------------------------------------------- nbsched
def _measure_nbsched(quick: bool, work: Path) -> dict[str, float]:
    from datetime import UTC, datetime, timedelta

    import psutil

    from nbsched.events import EVENT_JOB_ERROR, EVENT_JOB_EXECUTED
    from nbsched.executors.notebook import NotebookExecutor
    from nbsched.notebooks import Notebook
    from nbsched.schedulers.background import BackgroundScheduler

    os.environ["NBSCHED_HOME"] = str(work / "home")
    tiny = _tiny_notebook(work)
    sleepy = _tiny_notebook(work, sleep=3.0)
    finished: dict[str, float] = {}
    cond = threading.Condition()

    def listener(event: Any) -> None:
        with cond:
            finished[event.job_id] = time.time()
            cond.notify_all()

    def wait_for(ids: list[str]) -> None:
        with cond:
            assert cond.wait_for(lambda: all(i in finished for i in ids), 300), ids

    # What papermill's side has loaded before its base line too: nbclient, and nbconvert with a warmed exporter.
    import nbclient  # noqa: F401

    from nbsched.notebooks.outputs import warm_up

    warm_up()
    process = psutil.Process()
    base_rss = process.memory_info().rss
    executor = NotebookExecutor(max_concurrent_runs=2)
    scheduler = BackgroundScheduler(timezone="UTC", executors={"notebook": executor})
    scheduler.add_listener(listener, EVENT_JOB_EXECUTED | EVENT_JOB_ERROR)
    scheduler.start()
    pool = executor.kernels
    assert pool is not None
    out: dict[str, float] = {}
    try:
        latencies, ends = [], []
        for i in range(2 if quick else 5):
            pool.wait_ready("python3", 60)
            time.sleep(0.5)  # the HTML exporter and the spare kernel settle
            marker = work / f"m{i}"
            due = datetime.now(UTC) + timedelta(seconds=0.3)
            scheduler.add_job(
                Notebook(str(tiny), root=work, parameters={"marker": str(marker)}), "date", run_date=due, id=f"l{i}"
            )
            wait_for([f"l{i}"])
            latencies.append(float(marker.read_text()) - due.timestamp())
            ends.append(finished[f"l{i}"] - due.timestamp())
        out["latency"] = statistics.median(latencies)
        out["end_to_end"] = statistics.median(ends)

        count = 6 if quick else 20
        pool.wait_ready("python3", 60)
        due = datetime.now(UTC) + timedelta(seconds=0.3)
        ids = [f"t{i}" for i in range(count)]
        for job_id in ids:
            scheduler.add_job(
                Notebook(str(tiny), root=work, parameters={"marker": str(work / job_id)}),
                "date",
                run_date=due,
                id=job_id,
            )
        wait_for(ids)
        out["throughput"] = count / (max(finished[i] for i in ids) - due.timestamp()) * 60

        pool.wait_ready("python3", 60)
        due = datetime.now(UTC) + timedelta(seconds=0.2)
        for job_id in ("r0", "r1"):
            scheduler.add_job(
                Notebook(str(sleepy), root=work, parameters={"marker": str(work / job_id)}),
                "date",
                run_date=due,
                id=job_id,
            )
        deadline = time.time() + 60
        while not all((work / j).exists() for j in ("r0", "r1")) and time.time() < deadline:
            time.sleep(0.05)
        time.sleep(1.0)
        total = process.memory_info().rss + sum(c.memory_info().rss for c in process.children(recursive=True))
        out["memory"] = (total - base_rss) / 2 / 2**20
        wait_for(["r0", "r1"])
    finally:
        scheduler.shutdown()
    return out


# ------------------------------------------------------------------------------------------------ papermill
def _measure_papermill(quick: bool, work: Path) -> dict[str, float]:
    import nbformat
    import papermill
    import psutil
    from nbconvert import HTMLExporter

    tiny = _tiny_notebook(work)
    sleepy = _tiny_notebook(work, sleep=3.0)
    exporter = HTMLExporter()
    exporter.from_notebook_node(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("1")]))  # warmed
    lock = threading.Lock()

    def run(source: Path, name: str) -> None:
        output = work / f"{name}.ipynb"
        papermill.execute_notebook(
            str(source), str(output), parameters={"marker": str(work / name)}, progress_bar=False, cwd=str(work)
        )
        nb = nbformat.read(output, as_version=4)
        with lock:
            body, _ = exporter.from_notebook_node(nb)
        (work / f"{name}.html").write_text(body)

    process = psutil.Process()
    base_rss = process.memory_info().rss
    out: dict[str, float] = {}
    latencies, ends = [], []
    for i in range(2 if quick else 5):
        due = time.time()
        run(tiny, f"l{i}")
        ends.append(time.time() - due)
        latencies.append(float((work / f"l{i}").read_text()) - due)
    out["latency"] = statistics.median(latencies)
    out["end_to_end"] = statistics.median(ends)

    count = 6 if quick else 20
    queue = [f"t{i}" for i in range(count)]
    start = time.time()

    def worker() -> None:
        while True:
            with lock:
                if not queue:
                    return
                name = queue.pop()
            run(tiny, name)

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    out["throughput"] = count / (time.time() - start) * 60

    threads = [threading.Thread(target=run, args=(sleepy, name)) for name in ("r0", "r1")]
    for thread in threads:
        thread.start()
    deadline = time.time() + 60
    while not all((work / j).exists() for j in ("r0", "r1")) and time.time() < deadline:
        time.sleep(0.05)
    time.sleep(1.0)
    total = process.memory_info().rss + sum(c.memory_info().rss for c in process.children(recursive=True))
    out["memory"] = (total - base_rss) / 2 / 2**20
    for thread in threads:
        thread.join()
    return out


# -------------------------------------------------------------------------------------------------- driver
FIGURES = [
    ("latency", "notebook: latency due -> first cell", "s", "lower"),
    ("end_to_end", "notebook: tiny parameterised run, due -> ipynb+html written", "s", "lower"),
    ("throughput", "notebook: sustained runs per minute, 2 workers", "runs/min", "higher"),
    ("memory", "notebook: memory per running notebook job", "MiB", "lower"),
]


def _in_subprocess(lib: str, quick: bool) -> dict[str, float]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    command = [sys.executable, "-m", "bench.notebooks", lib, *(["--quick"] if quick else [])]
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=900, check=False)
    for line in reversed(done.stdout.splitlines()):
        if line.startswith(PREFIX):
            return dict(json.loads(line[len(PREFIX) :]))
    raise RuntimeError(f"bench.notebooks {lib} failed (exit {done.returncode}):\n{done.stderr[-3000:]}")


def rows(quick: bool) -> list[dict[str, Any]]:
    """The issue-5 rows: nbsched's value, papermill's (``reference``), the unit and which way is better."""
    results = {lib: _in_subprocess(lib, quick) for lib in ("nbsched", "papermill")}
    return [
        {
            "name": title,
            "unit": unit,
            "nbsched": results["nbsched"][key],
            "reference": results["papermill"][key],
            "reference_name": "papermill",
            "better": better,
        }
        for key, title, unit, better in FIGURES
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description="notebook-job benchmarks: nbsched vs papermill")
    parser.add_argument("lib", nargs="?", choices=["nbsched", "papermill"])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    if args.lib is None:
        for row in rows(args.quick):
            ratio = row["reference"] / row["nbsched"] if row["better"] == "lower" else row["nbsched"] / row["reference"]
            print(f"{row['name']:<62} {row['nbsched']:>9.3f} {row['reference']:>9.3f} {row['unit']:<9} {ratio:5.1f}x")
        return
    with tempfile.TemporaryDirectory() as tmp:
        measure = _measure_nbsched if args.lib == "nbsched" else _measure_papermill
        result = measure(args.quick, Path(tmp))
    print(PREFIX + json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
