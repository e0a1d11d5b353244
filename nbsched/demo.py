"""``nbsched demo`` (or ``python -m nbsched.demo``): schedule the report notebook and watch it run.

Uses the default store (``<data dir>/nbsched.db``, see :mod:`nbsched.paths`): adds ``notebooks/report.ipynb`` as
an interval job, waits for ``--runs`` runs, prints the run table with each run's HTML report, and removes the job
again (it also stops firing on its own by the time the demo would have given up, should the demo be killed).

A fire that comes while the previous run is still going is skipped (one run at a time, as the job's
``max_instances`` says), so an ``--every`` shorter than a run is fine: the demo waits for ``--runs`` runs that
ran, not for fires.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

__all__ = ["main"]

JOB_ID = "nbsched-demo-report"
DEFAULT_NOTEBOOK = Path(__file__).resolve().parent.parent / "notebooks" / "report.ipynb"


def _table(rows: list[list[str]]) -> str:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip() for row in rows]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Run the demo; returns the exit status (0 when every run succeeded)."""
    parser = argparse.ArgumentParser(prog="nbsched demo", description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--notebook", type=Path, default=DEFAULT_NOTEBOOK, help="the notebook to schedule")
    parser.add_argument("--runs", type=int, default=3, help="how many runs to wait for (default 3)")
    parser.add_argument("--every", type=float, default=3.0, help="seconds between runs (default 3)")
    parser.add_argument("--region", default="EU", help="the report's region parameter (default EU)")
    args = parser.parse_args(argv)

    notebook: Path = args.notebook.resolve()
    if not notebook.is_file():
        print(f"nbsched demo: {notebook} not found; pass --notebook PATH", file=sys.stderr)
        return 2

    import nbsched
    from nbsched.events import EVENT_JOB_ERROR, EVENT_JOB_EXECUTED
    from nbsched.exceptions import JobLookupError
    from nbsched.executors.notebook import NotebookExecutor
    from nbsched.notebooks import Notebook
    from nbsched.paths import data_dir, default_db_url

    print(f"nbsched {nbsched.__version__}: store {default_db_url()}")
    executor = NotebookExecutor()
    scheduler = nbsched.default_scheduler(start=False, executors={"notebook": executor})
    finished: list[object] = []
    done = threading.Condition()

    def on_outcome(event: object) -> None:
        if getattr(event, "job_id", None) == JOB_ID:
            with done:
                finished.append(event)
                done.notify_all()

    scheduler.add_listener(on_outcome, EVENT_JOB_EXECUTED | EVENT_JOB_ERROR)
    began = datetime.now(UTC)
    scheduler.start()
    try:
        kernels = executor.kernels
        if kernels is not None:
            print("starting a kernel ahead of the first run...")
            kernels.wait_ready("python3", 60)
        task = Notebook(str(notebook), root=notebook.parent, parameters={"region": args.region})
        patience = 60 + args.runs * (args.every + 30)
        scheduler.add_job(
            task,
            "interval",
            seconds=args.every,
            id=JOB_ID,
            name="demo: sales report",
            next_run_time=datetime.now(UTC),
            # Not max_runs: fires skipped while a run is still going count towards it. The end date keeps a
            # demo killed half way from leaving a job that fires every few seconds in the store for ever.
            end_date=datetime.now(UTC) + timedelta(seconds=patience),
            replace_existing=True,
        )
        print(f"scheduled {notebook.name} every {args.every:g} s for {args.runs} runs; waiting...")
        deadline = time.monotonic() + patience
        with done:
            while len(finished) < args.runs and time.monotonic() < deadline:
                done.wait(1)
        with contextlib.suppress(JobLookupError):
            scheduler.remove_job(JOB_ID)  # no more fires; the run history stays
        ended = [run for run in scheduler.runs(job_id=JOB_ID, since=began) if run.finished_at is not None]
    finally:
        scheduler.shutdown(wait=True)
    runs = [run for run in ended if run.status != "skipped"]
    skipped = len(ended) - len(runs)

    runs.sort(key=lambda run: run.scheduled_at)
    rows = [["#", "scheduled (UTC)", "status", "duration", "HTML report"]]
    for number, run in enumerate(runs, 1):
        duration = f"{run.duration:.2f} s" if run.duration is not None else "-"
        rows.append(
            [
                str(number),
                run.scheduled_at.strftime("%H:%M:%S"),
                str(run.status),
                duration,
                run.outputs.get("html", "-"),
            ]
        )
    print()
    print(_table(rows))
    if skipped:
        print(f"({skipped} fire(s) skipped: the previous run was still going)")
    failed = [run for run in runs if run.status != "succeeded"]
    for run in failed:
        print(f"\nrun {run.id} {run.status}: {run.error_type}: {run.error_message}", file=sys.stderr)
    print(f"\nrun folders: {data_dir() / 'runs' / JOB_ID}")
    return 0 if runs and not failed and len(runs) >= args.runs else 1


if __name__ == "__main__":
    sys.exit(main())
