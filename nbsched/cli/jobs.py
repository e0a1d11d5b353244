"""``nbsched list``, ``add``, ``pause``, ``resume``, ``remove``: the jobs in the store.

``add`` takes a notebook (``report.ipynb``), a cell file (``refresh.py``, run headless as one cell), inline code
(``--code``) or a ``module:function`` reference, and one trigger: ``--cron`` (crontab meaning, ``@daily``
macros), ``--every`` (``30s``, ``5m``, ``1h30m``, ``2 days``, or seconds) or ``--at`` (a future date and time),
read by :mod:`nbsched.triggers.typed` as the magics and the REST API read them.
``-p key=value`` gives notebook parameters (function keyword arguments), papermill-style: the value is JSON when
it parses as JSON, else a string. Secret parameters (``--secret-param``, or secret by name, see
:mod:`nbsched.masking`) are shown as ``***``.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from nbsched.abc import Task, Trigger
from nbsched.cli.documents import parse_json
from nbsched.cli.output import Column, emit_json, format_relative, format_time, one_line, table
from nbsched.cli.session import EXIT_OK, EXIT_USAGE, CliError, Session
from nbsched.cli.values import user_path
from nbsched.exceptions import InvalidArgumentError, JobLookupError
from nbsched.job import Job, is_task
from nbsched.masking import SECRET_TAG, Masker, job_parameters, mask_parameters, secret_names
from nbsched.runs import Run

__all__ = [
    "add_trigger_arguments",
    "build_trigger",
    "cmd_add",
    "cmd_list",
    "cmd_pause",
    "cmd_remove",
    "cmd_resume",
    "default_root",
    "job_summary",
    "parse_parameters",
]

_REFERENCE = re.compile(r"[A-Za-z_][\w.]*:[A-Za-z_][\w.]*")


# ----------------------------------------------------------------------------------------------- parsing
def parse_parameters(items: list[str] | None, owner: str = "add") -> dict[str, Any]:
    """``-p key=value`` items as a dict: each value is JSON when it parses as JSON, else the string itself."""
    params: dict[str, Any] = {}
    for item in items or []:
        name, sep, text = item.partition("=")
        name = name.strip()
        if not sep or not name.isidentifier():
            raise InvalidArgumentError(owner, "-p", item, "must be key=value with a Python name as key")
        try:
            params[name] = parse_json(text, owner, "-p", name)  # (names the parameter: its value may be secret)
        except InvalidArgumentError:
            raise
        except ValueError:
            params[name] = text
    return params


def add_trigger_arguments(parser: argparse.ArgumentParser, required: bool) -> None:
    """``--cron``/``--every``/``--at`` (one of them) and ``--tz``."""
    group = parser.add_mutually_exclusive_group(required=required)
    group.add_argument("--cron", metavar="EXPR", help='crontab expression, e.g. "0 9 * * 1-5" or @daily')
    group.add_argument(
        "--every", metavar="INTERVAL", help='fixed interval: 30s, 5m, 1h30m, "2 days", 1w, or seconds (90)'
    )
    group.add_argument("--at", metavar="WHEN", help='once, at this future date and time: "2026-12-01 08:00"')
    parser.add_argument("--tz", metavar="ZONE", help="time zone of the schedule, e.g. Europe/Paris (default: local)")


def build_trigger(args: argparse.Namespace, now: datetime, owner: str = "add") -> Trigger | None:
    """The trigger the ``--cron``/``--every``/``--at`` options describe (``None`` when none was given).

    :param now: the current time (``--at`` must be after it)
    """
    from nbsched.triggers.typed import parse_timezone, typed_trigger

    tz = parse_timezone(args.tz, owner, "--tz")
    for kind in ("cron", "every", "at"):
        value = getattr(args, kind)
        if value is not None:
            return typed_trigger(kind, value, owner=owner, field=f"--{kind}", now=now, timezone=tz)
    if tz is not None:
        raise InvalidArgumentError(owner, "--tz", args.tz, "needs --cron, --every or --at")
    return None


def default_root(file: Path) -> Path:
    """The root of a notebook job when none is given: the current folder if it holds ``file``, else the
    notebook's own folder (so a notebook in the project may name the files next to it).

    :param file: the notebook, resolved
    """
    here = Path.cwd().resolve()
    return here if file.is_relative_to(here) else file.parent


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", text).strip("-.") or "job"


# -------------------------------------------------------------------------------------------------- add
def _task_options(args: argparse.Namespace, owner: str) -> dict[str, Any]:
    options: dict[str, Any] = {}
    if args.kernel is not None:
        options["kernel_name"] = args.kernel
    if args.timeout is not None:
        options["timeout"] = args.timeout
    if args.cell_timeout is not None:
        options["cell_timeout"] = args.cell_timeout
    if args.cwd is not None:
        options["cwd"] = args.cwd
    if args.formats is not None:
        options["output_formats"] = tuple(part.strip() for part in args.formats.split(",") if part.strip())
    return options


def _build_func(
    args: argparse.Namespace, params: dict[str, Any], secrets: list[str]
) -> tuple[Any, dict[str, Any], str]:
    """The job's callable (a task spec or a reference), its keyword arguments and a default id."""
    owner = "add"
    target: str | None = args.target
    if args.code is not None and target is not None:
        raise InvalidArgumentError(owner, "target", target, "cannot be given together with --code")
    if args.code is None and target is None:
        raise InvalidArgumentError(
            owner, "target", None, "is missing: give a notebook, a .py cell file, module:function or --code"
        )
    task_options = _task_options(args, owner)

    if args.code is not None or (target is not None and target.endswith(".py")):
        from nbsched.notebooks import Cell

        if args.code is not None:
            source, default_id = args.code, "cell"
        else:
            assert target is not None
            file = user_path(target, owner, "target")
            if not os.path.isfile(file):  # (False for a name the system refuses, where Path.is_file raises)
                raise InvalidArgumentError(owner, "target", target, "does not exist")
            try:
                source, default_id = file.read_text(encoding="utf-8"), _slug(file.stem)
            except (OSError, ValueError) as exc:  # unreadable, or not UTF-8
                raise InvalidArgumentError(owner, "target", target, f"cannot be read ({exc})") from None
        if params:
            raise InvalidArgumentError(owner, "-p", next(iter(params)), "only applies to notebooks and functions")
        cell_root = str(user_path(args.root, owner, "--root").resolve()) if args.root else str(Path.cwd())
        return Cell(source, root=cell_root, **task_options), {}, default_id

    assert target is not None
    if target.endswith(".ipynb"):
        from nbsched.notebooks import Notebook

        file = user_path(target, owner, "target").resolve()
        if not os.path.isfile(file):
            raise InvalidArgumentError(owner, "target", target, f"does not exist (looked for {file})")
        root = user_path(args.root, owner, "--root").resolve() if args.root else default_root(file)
        path = str(file.relative_to(root)) if file.is_relative_to(root) else str(file)
        task = Notebook(
            path,
            parameters=params,
            secret_parameters=secrets,
            root=str(root),
            snapshot=args.snapshot,
            **task_options,
        )
        return task, {}, _slug(file.stem)

    if _REFERENCE.fullmatch(target):
        if task_options or args.snapshot:
            raise InvalidArgumentError(
                owner, "target", target, "is a function: --kernel/--timeout/--cwd/--formats/--snapshot do not apply"
            )
        return target, params, _slug(target.rpartition(":")[2].rpartition(".")[2])
    raise InvalidArgumentError(
        owner, "target", target, "is not a notebook (.ipynb), a cell file (.py) or a module:function reference"
    )


def cmd_add(args: argparse.Namespace, session: Session) -> int:
    """Add a job (or replace one with ``--replace``)."""
    owner = "add"
    params = parse_parameters(args.param, owner)
    secrets: list[str] = list(dict.fromkeys(args.secret_param or []))
    for name in secrets:
        if name not in params:
            raise InvalidArgumentError(owner, "--secret-param", name, "is not a parameter given with -p")
    secret_values = [params[name] for name in secret_names(None, params, [SECRET_TAG + n for n in secrets])]
    try:
        return _add(args, session, params, secrets)
    except InvalidArgumentError as exc:  # its message may quote a secret parameter's value
        masker = Masker(secret_values)
        if not masker:
            raise
        raise CliError(masker.text(str(exc)) or "", EXIT_USAGE) from None


def _add(args: argparse.Namespace, session: Session, params: dict[str, Any], secrets: list[str]) -> int:
    owner = "add"
    func, kwargs, default_id = _build_func(args, params, secrets)
    trigger = build_trigger(args, session.scheduler.clock.now(), owner)
    assert trigger is not None  # argparse requires one of --cron/--every/--at
    tags = set(args.tag or [])
    if secrets and not is_task(func):
        # A function's keyword arguments have no task spec to list them in: the job's tags say which are secret.
        tags.update(SECRET_TAG + name for name in secrets)
    options: dict[str, Any] = {"tags": sorted(tags)}
    if args.paused:
        options["next_run_time"] = None
    for name in ("retries", "max_runs", "max_instances"):
        value = getattr(args, name)
        if value is not None:
            options[name] = value
    job = session.scheduler.add_job(
        func,
        trigger,
        kwargs=kwargs,
        id=args.id or default_id,
        name=args.name,
        replace_existing=args.replace,
        **options,
    )
    job = session.job(job.id)
    summary = job_summary(job, None, Masker.for_jobs([job]))
    if args.json:
        emit_json({"job": summary})
    else:
        when = "paused" if job.next_run_time is None else _next_run_text(job.next_run_time)
        print(f"added job {job.id}: {summary['target']}, {job.trigger.describe()}; next run {when}")
    return EXIT_OK


# ------------------------------------------------------------------------------------------------- list
def _next_run_text(value: datetime) -> str:
    return f"{format_time(value)} ({format_relative(value, datetime.now(UTC))})"


def _kind_and_target(job: Job) -> tuple[str, str]:
    task = job.func
    if isinstance(task, Task):
        summary = task.summary()
        return summary.kind, summary.target
    return "function", job.func_ref or job.name


def job_summary(job: Job, last: Run | None, masker: Masker | None = None) -> dict[str, Any]:
    """A job as the CLI shows it (``list --json``, ``add --json``); secret parameters masked.

    :param masker: scrubs the name and the target (default: one for this job's secrets)
    """
    kind, target = _kind_and_target(job)
    masker = masker if masker is not None else Masker.for_jobs([job])
    params = mask_parameters(job_parameters(job), secret_names(job))
    return {
        "id": job.id,
        "name": masker.text(job.name),
        "kind": kind,
        "target": masker.text(target),
        "trigger": job.trigger.describe(),
        "trigger_state": job.trigger.to_dict(),
        "next_run_time": job.next_run_time.isoformat() if job.next_run_time else None,
        "paused": job.next_run_time is None,
        "parameters": params,
        "run_count": job.run_count,
        "last_status": str(last.status) if last else None,
        "last_run_at": last.scheduled_at.isoformat() if last else None,
        "executor": job.executor,
        "max_instances": job.max_instances,
        "retries": job.retries,
        "max_runs": job.max_runs,
        "tags": sorted(job.tags),
    }


def cmd_list(args: argparse.Namespace, session: Session) -> int:
    """Show every job: id, name, trigger in words, next run, last status, runs; paused and broken ones too."""
    jobs = session.jobs()
    broken = session.broken_jobs()
    masker = Masker.for_jobs(jobs)
    found = session.store.last_runs([job.id for job in jobs])  # one query, however many jobs
    last_runs: dict[str, Run | None] = {job.id: found.get(job.id) for job in jobs}
    if args.json:
        emit_json(
            {
                "jobs": [job_summary(job, last_runs[job.id], masker) for job in jobs],
                "broken": [{"id": job_id, "reason": reason} for job_id, reason in broken],
            }
        )
        return EXIT_OK
    if not jobs and not broken:
        print(f"no jobs in {session.url_display}")
        return EXIT_OK
    now = datetime.now(UTC)
    rows = []
    for job in jobs:
        last = last_runs[job.id]
        if job.next_run_time is None:
            next_run = "completed (retrying)" if job.completed else "paused"
        else:
            next_run = f"{format_time(job.next_run_time)} ({format_relative(job.next_run_time, now)})"
        rows.append(
            [
                job.id,
                masker.text(job.name) or "",
                job.trigger.describe(),
                next_run,
                str(last.status) if last else "-",
                str(job.run_count),
            ]
        )
    for job_id, reason in broken:
        rows.append([job_id, "(cannot be loaded)", one_line(reason, 80), "-", "broken", "-"])
    columns = [
        Column("ID", shrink=True),
        Column("NAME", shrink=True),
        Column("TRIGGER", shrink=True),
        Column("NEXT RUN"),
        Column("LAST"),
        Column("RUNS", right=True),
    ]
    table(columns, rows)
    return EXIT_OK


# ------------------------------------------------------------------------------------ pause/resume/remove
def _check_ids(session: Session, ids: list[str], broken_too: bool = False) -> None:
    """Every id names a job (checked first, so nothing changes when one does not; exit code 3).

    :param broken_too: a stored row that cannot be loaded counts as a job (``remove`` deletes it by its id)
    """
    missing = [job_id for job_id in ids if session.find_job(job_id) is None]
    if broken_too and missing:
        broken = {job_id for job_id, _ in session.broken_jobs()}  # find_job has just tried to load these rows
        missing = [job_id for job_id in missing if job_id not in broken]
    if missing:
        raise JobLookupError(missing[0])


def cmd_pause(args: argparse.Namespace, session: Session) -> int:
    """Pause jobs: they keep their schedule but do not run until resumed."""
    _check_ids(session, args.job)
    for job_id in args.job:
        session.scheduler.pause_job(job_id)
    if args.json:
        emit_json({"paused": args.job})
    else:
        for job_id in args.job:
            print(f"paused {job_id}")
    return EXIT_OK


def cmd_resume(args: argparse.Namespace, session: Session) -> int:
    """Resume paused jobs from now on (a job whose trigger will not fire again is removed)."""
    _check_ids(session, args.job)
    resumed: dict[str, str | None] = {}
    removed: list[str] = []
    for job_id in args.job:
        job = session.scheduler.resume_job(job_id)
        if job is None:
            removed.append(job_id)
        else:
            resumed[job_id] = job.next_run_time.isoformat() if job.next_run_time else None
    if args.json:
        emit_json({"resumed": resumed, "removed": removed})
    else:
        for job_id, when in resumed.items():
            text = _next_run_text(datetime.fromisoformat(when)) if when else "-"
            print(f"resumed {job_id}: next run {text}")
        for job_id in removed:
            print(f"removed {job_id}: its trigger will not fire again")
    return EXIT_OK


def cmd_remove(args: argparse.Namespace, session: Session) -> int:
    """Remove jobs (their run history stays), broken ones too (rows that cannot be loaded)."""
    _check_ids(session, args.job, broken_too=True)
    for job_id in args.job:
        with contextlib.suppress(JobLookupError):  # removed meanwhile by another process: the same outcome
            session.scheduler.remove_job(job_id)
    if args.json:
        emit_json({"removed": args.job})
    else:
        for job_id in args.job:
            print(f"removed {job_id}")
    return EXIT_OK
