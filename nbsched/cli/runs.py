"""``nbsched run``, ``runs``/``history`` and ``logs``: running a job now and reading what its runs left.

``run JOB`` is the scheduler's ``run_now``: the job is marked due now in the store; any scheduler running jobs
over the store (``nbsched serve``, a kernel, the Jupyter server) claims that fire within about a second, exactly
once. A paused job runs once and stays paused. When no scheduler runs jobs over the store, ``run`` says so
instead of promising a start. ``run --wait`` then follows the run to its end (progress on stderr) and exits 0
when it succeeded, 1 otherwise; when no scheduler runs jobs over the store, or none claims the fire within
``--claim-timeout`` seconds, it runs it in this process, with a scheduler that claims only that one fire.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from nbsched.cli.masking import set_log_masker
from nbsched.cli.output import Column, emit_json, format_duration, format_time, one_line, table
from nbsched.cli.session import EXIT_FAILED, EXIT_NOT_FOUND, EXIT_OK, EXIT_TIMEOUT, CliError, Session
from nbsched.exceptions import InvalidArgumentError, JobLookupError
from nbsched.job import Job
from nbsched.jobstores.sqlalchemy import SQLAlchemyJobStore
from nbsched.liveness import NO_SCHEDULER, SchedulerInfo
from nbsched.masking import Masker
from nbsched.runs import ACTIVE, FINISHED, Run, RunFilter, RunStatus
from nbsched.shutdown import cancel_unfinished

__all__ = ["cmd_logs", "cmd_run", "cmd_runs", "short_id"]

#: what ``run`` tells to do when no scheduler runs jobs over the store (see :meth:`nbsched.liveness.RunNow.message`)
RUN_REMEDY = "start `nbsched serve` or use --wait"
#: seconds between two looks at a followed run
POLL_INTERVAL = 0.2


def short_id(run_id: str) -> str:
    """A run id as messages show it: whole (ids share their first half within a process, so no prefix will do)."""
    return run_id


def _run_dict(run: Run, masker: Masker) -> dict[str, Any]:
    data: dict[str, Any] = masker.data(run.to_dict())
    return data


def _masker(session: Session, job_ids: set[str]) -> Masker:
    jobs = [job for job in (session.find_job(job_id) for job_id in job_ids) if job is not None]
    return Masker.for_jobs(jobs)


def _detail(run: Run, masker: Masker) -> str:
    if run.status in ACTIVE:
        return run.progress or ""
    if run.error_type or run.error_message:
        text = f"{run.error_type}: {run.error_message}" if run.error_type else str(run.error_message)
        if run.cell_index is not None:
            text += f" (cell {run.cell_index + 1})"  # counted from 1, as the run's messages do
        return one_line(masker.text(text), 80)
    if run.warnings:
        more = f" (+{len(run.warnings) - 1} more)" if len(run.warnings) > 1 else ""
        return one_line(masker.text(f"warning: {run.warnings[0]}{more}"), 80)
    return ""


def _elapsed(run: Run, now: datetime) -> float | None:
    if run.duration is not None:
        return run.duration
    if run.started_at is not None and run.status in ACTIVE:
        return (now - run.started_at).total_seconds()
    return None


# ------------------------------------------------------------------------------------------------- runs
def _since(text: str | None) -> datetime | str | None:
    """``--since``: an age (``2h``, ``2 days``: runs of the last two hours, days) or a date and time."""
    if text is None:
        return None
    from nbsched.triggers.typed import parse_every

    try:
        age = parse_every(text, "runs", "--since")
    except InvalidArgumentError:
        return text  # a date and time: Session.runs parses it (and names it when it cannot)
    try:
        return datetime.now(UTC) - age
    except OverflowError:
        raise InvalidArgumentError("runs", "--since", text, "reaches back before the year 1") from None


def cmd_runs(args: argparse.Namespace, session: Session) -> int:
    """Show the run history, newest first."""
    runs = session.runs(job_id=args.job, status=args.status or None, since=_since(args.since), limit=args.limit)
    if args.job is not None and not runs and session.find_job(args.job) is None:
        raise JobLookupError(args.job)
    masker = _masker(session, {run.job_id for run in runs})
    if args.json:
        emit_json({"runs": [_run_dict(run, masker) for run in runs]})
        return EXIT_OK
    if not runs:
        print("no runs" + (f" of {args.job}" if args.job else ""))
        return EXIT_OK
    now = datetime.now(UTC)
    rows = [
        [
            short_id(run.id),
            run.job_id,
            format_time(run.scheduled_at),
            str(run.status) + (f" #{run.attempt}" if run.attempt > 1 else ""),
            format_duration(_elapsed(run, now)),
            _detail(run, masker),
        ]
        for run in runs
    ]
    columns = [
        Column("RUN"),
        Column("JOB", shrink=True),
        Column("SCHEDULED"),
        Column("STATUS"),
        Column("DURATION", right=True),
        Column("DETAIL", shrink=True),
    ]
    table(columns, rows)
    return EXIT_OK


# ------------------------------------------------------------------------------------------------- logs
def find_run(session: Session, job_id: str, prefix: str | None) -> Run:
    """The run of ``job_id`` whose id starts with ``prefix`` (the latest one when ``prefix`` is ``None``).

    :raises CliError: when there is none (exit code 3) or the prefix is ambiguous (exit code 2)
    """
    if prefix is None:
        runs = session.runs(job_id=job_id, limit=1)
        if not runs:
            if session.find_job(job_id) is None:
                raise JobLookupError(job_id)
            raise CliError(f"job {job_id} has no runs yet", EXIT_NOT_FOUND)
        return runs[0]
    found = session.run(prefix)
    if found is not None and found.job_id == job_id:
        return found
    matches = [run for run in session.runs(job_id=job_id) if run.id.startswith(prefix) or run.id.endswith(prefix)]
    if len(matches) > 1:
        raise InvalidArgumentError("logs", "--run", prefix, f"matches {len(matches)} runs; give more characters")
    if not matches:
        if session.find_job(job_id) is None and not session.runs(job_id=job_id, limit=1):
            raise JobLookupError(job_id)
        raise CliError(f"no run of job {job_id} has an id starting or ending with {prefix!r}", EXIT_NOT_FOUND)
    return matches[0]


def _tail(path: str | None, lines: int) -> str | None:
    if not path or lines <= 0:
        return None
    try:
        text = Path(path).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    return "".join(text.splitlines(keepends=True)[-lines:])


def cmd_logs(args: argparse.Namespace, session: Session) -> int:
    """Show one run: status, timings, error and traceback, its outputs and the tail of its captured streams."""
    run = find_run(session, args.job, args.run)
    masker = _masker(session, {run.job_id})
    streams = {name: masker.text(_tail(run.outputs.get(name), args.lines)) for name in ("stdout", "stderr")}
    if args.json:
        emit_json({"run": _run_dict(run, masker), **streams})
        return EXIT_OK
    now = datetime.now(UTC)
    print(f"run       {run.id}  (job {run.job_id}, attempt {run.attempt})")
    print(f"status    {run.status}" + (f"  {run.progress}" if run.progress else ""))
    print(f"scheduled {format_time(run.scheduled_at)}")
    print(f"started   {format_time(run.started_at)}")
    print(f"finished  {format_time(run.finished_at)}  ({format_duration(_elapsed(run, now))})")
    if run.worker:
        print(f"worker    {run.worker}")
    if run.input_sha256:
        print(f"input     sha256 {run.input_sha256}")
    if run.error_type or run.error_message:
        where = f" (cell {run.cell_index + 1})" if run.cell_index is not None else ""
        error = f"{run.error_type or 'Error'}: {run.error_message or ''}"
        print(f"error     {masker.text(error)}{where}")
    for warning in run.warnings:
        print(f"warning   {masker.text(warning)}")
    if run.traceback:
        print("\ntraceback:")
        print((masker.text(run.traceback) or "").rstrip())
    if run.outputs:
        print("\noutputs:")
        width = max(len(kind) for kind in run.outputs)
        for kind, path in sorted(run.outputs.items()):
            print(f"  {kind.ljust(width)}  {path}")
    for name, text in streams.items():
        if text:
            print(f"\n--- {name} (last {args.lines} lines) ---")
            print(text.rstrip())
    return EXIT_OK


# -------------------------------------------------------------------------------------------------- run
class OneFireStore(SQLAlchemyJobStore):
    """The store as seen by ``run --wait`` running a job here: only the one fire that was marked is due."""

    def __init__(self, url: str, job_id: str, due: datetime) -> None:
        super().__init__(url=url)
        self._job_id = job_id
        self._due = due

    def _marked(self) -> Job | None:
        job = self.lookup_job(self._job_id)
        return job if job is not None and job.next_run_time == self._due else None

    def get_due_jobs(self, now: datetime) -> list[Job]:
        job = self._marked()
        return [job] if job is not None and self._due <= now else []

    def get_next_run_time(self) -> datetime | None:
        return self._due if self._marked() is not None else None

    def record_scheduler(self, info: SchedulerInfo) -> None:
        """Nothing: a scheduler that runs one fire is no scheduler running jobs over the store for others."""


class InProcessRunner:
    """A scheduler in this process that claims and runs the one marked fire of a job."""

    def __init__(self, url: str, job_id: str, due: datetime) -> None:
        from nbsched.schedulers.background import BackgroundScheduler

        self.scheduler = BackgroundScheduler(
            jobstores={"default": OneFireStore(url, job_id, due)},
            keep_runs=None,
            logger=logging.getLogger("nbsched.cli.run"),
        )
        self.scheduler.start()

    def stop(self, finished: bool) -> None:
        """Shut the scheduler down, waiting for the run when it ``finished`` (else not)."""
        if self.scheduler.running:
            self.scheduler.shutdown(wait=finished)


def _claimed_run(session: Session, job_id: str, due: datetime) -> Run | None:
    for run in session.store.get_runs(RunFilter(job_id=job_id, since=due, limit=10)):
        if run.scheduled_at == due:
            return run
    return None


def _wait_for_claim(session: Session, job_id: str, due: datetime, timeout: float) -> Run | None:
    deadline = time.monotonic() + timeout
    while True:
        run = _claimed_run(session, job_id, due)
        if run is not None or time.monotonic() >= deadline:
            return run
        time.sleep(POLL_INTERVAL / 2)


class _Progress:
    """Progress of a followed run on stderr: one rewritten line on a terminal, a line per change elsewhere."""

    def __init__(self, quiet: bool) -> None:
        self._tty = sys.stderr.isatty()
        self._quiet = quiet
        self._last = ""
        self._width = 0

    def show(self, run: Run, now: datetime) -> None:
        if self._quiet:
            return
        text = f"{run.job_id}: {run.status}" + (f", {run.progress}" if run.progress else "")
        if self._tty:
            line = f"{text} ({format_duration(_elapsed(run, now), coarse=True)})"
            sys.stderr.write("\r" + line.ljust(self._width))
            self._width = max(self._width, len(line))
            sys.stderr.flush()
        elif text != self._last:
            print(text, file=sys.stderr, flush=True)
        self._last = text

    def done(self) -> None:
        if self._tty and self._width and not self._quiet:
            sys.stderr.write("\r" + " " * self._width + "\r")
            sys.stderr.flush()


def _follow(session: Session, run_id: str, timeout: float | None, quiet: bool) -> Run:
    deadline = time.monotonic() + timeout if timeout else None
    progress = _Progress(quiet)
    try:
        while True:
            run = session.store.get_run(run_id)
            if run is None:
                raise CliError(f"run {run_id} disappeared from the store", EXIT_FAILED)
            if run.status in FINISHED:
                return run
            progress.show(run, datetime.now(UTC))
            if deadline is not None and time.monotonic() >= deadline:
                raise CliError(
                    f"run {short_id(run_id)} of {run.job_id} is still {run.status} after {timeout:g} s "
                    f"(see: nbsched runs {run.job_id})",
                    EXIT_TIMEOUT,
                )
            time.sleep(POLL_INTERVAL)
    finally:
        progress.done()


def cmd_run(args: argparse.Namespace, session: Session) -> int:
    """Run a job now (see the module docstring)."""
    scheduler = session.scheduler
    job = session.job(args.job)
    set_log_masker(Masker.for_jobs([job]))
    marked = scheduler.run_now(job.id)
    due = marked.due
    if not args.wait:
        if args.json:
            emit_json(
                {
                    "job_id": job.id,
                    "scheduled_at": due.isoformat(),
                    "run": None,
                    "paused": marked.was_paused,
                    "warning": marked.warning(RUN_REMEDY),
                }
            )
        else:
            print(marked.message(RUN_REMEDY))
        return EXIT_OK

    runner: InProcessRunner | None = None
    finished = False
    try:
        # Nobody runs jobs over the store: no use waiting for one to take the run.
        run = _wait_for_claim(session, job.id, due, args.claim_timeout) if marked.will_start else None
        if run is None:
            if not args.quiet and not args.json:
                why = NO_SCHEDULER if not marked.will_start else f"no scheduler took it within {args.claim_timeout:g} s"
                print(f"{why}: running it in this process", file=sys.stderr)
            runner = InProcessRunner(session.url, job.id, due)
            run = _wait_for_claim(session, job.id, due, 30.0)
            if run is None:
                raise CliError(f"{job.id} could not be started in this process", EXIT_FAILED)
        final = _follow(session, run.id, args.timeout, args.quiet or args.json)
        finished = True
    finally:
        if runner is not None:
            runner.stop(finished)
            if not finished:
                cancel_unfinished(session.store, "nbsched run stopped before the run finished")
    masker = _masker(session, {final.job_id})
    if args.json:
        emit_json({"run": _run_dict(final, masker)})
    else:
        took = format_duration(final.duration)
        if final.status is RunStatus.SUCCEEDED:
            print(f"run {short_id(final.id)} of {final.job_id} succeeded in {took}")
            for kind, path in sorted(final.outputs.items()):
                if kind in ("ipynb", "html"):
                    print(f"  {kind}: {path}")
            for warning in final.warnings:
                print(f"  warning: {masker.text(warning)}", file=sys.stderr)
        else:
            print(
                f"run {short_id(final.id)} of {final.job_id} {final.status} after {took}: {_detail(final, masker)}",
                file=sys.stderr,
            )
            print(f"  see: nbsched logs {final.job_id} --run {short_id(final.id)}", file=sys.stderr)
    return EXIT_OK if final.status is RunStatus.SUCCEEDED else EXIT_FAILED
