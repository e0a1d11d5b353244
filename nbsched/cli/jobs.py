"""``nbsched list``, ``add``, ``pause``, ``resume``, ``remove``: the jobs in the store.

``add`` takes a notebook (``report.ipynb``), a cell file (``refresh.py``, run headless as one cell), inline code
(``--code``) or a ``module:function`` reference, and one trigger: ``--cron`` (crontab meaning, ``@daily``
macros), ``--every`` (``30s``, ``5m``, ``2h``, ``1d``, ``1h30m``) or ``--at`` (a date and time).
``-p key=value`` gives notebook parameters (function keyword arguments), papermill-style: the value is JSON when
it parses as JSON, else a string.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from nbsched.abc import Trigger
from nbsched.cli.masking import SECRET_TAG, Masker, job_parameters, mask_parameters, secret_names
from nbsched.cli.output import Column, emit_json, format_relative, format_time, one_line, table
from nbsched.cli.session import EXIT_OK, EXIT_USAGE, CliError, Session
from nbsched.exceptions import InvalidArgumentError, JobLookupError
from nbsched.job import Job, is_task
from nbsched.runs import Run

__all__ = [
    "add_trigger_arguments",
    "build_trigger",
    "cmd_add",
    "cmd_list",
    "cmd_pause",
    "cmd_remove",
    "cmd_resume",
    "job_summary",
    "parse_every",
    "parse_parameters",
]

_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_EVERY_PART = re.compile(r"(\d+(?:\.\d+)?)\s*([smhdw])", re.IGNORECASE)
_REFERENCE = re.compile(r"[A-Za-z_][\w.]*:[A-Za-z_][\w.]*")


# ----------------------------------------------------------------------------------------------- parsing
def parse_every(text: str, owner: str = "add", field: str = "--every") -> float:
    """Seconds of an interval written ``30s``, ``5m``, ``2h``, ``1d``, ``1w``, ``1h30m`` or plain seconds."""
    value = text.strip()
    try:
        seconds = float(value)
    except ValueError:
        parts = _EVERY_PART.findall(value)
        if not parts or _EVERY_PART.sub("", value).strip():
            raise InvalidArgumentError(
                owner, field, text, "is not an interval such as 30s, 5m, 2h, 1d or 1h30m"
            ) from None
        seconds = sum(float(number) * _UNIT_SECONDS[unit.lower()] for number, unit in parts)
    if not seconds > 0:
        raise InvalidArgumentError(owner, field, text, "must be a positive interval")
    return seconds


def parse_parameters(items: list[str] | None, owner: str = "add") -> dict[str, Any]:
    """``-p key=value`` items as a dict: each value is JSON when it parses as JSON, else the string itself."""
    params: dict[str, Any] = {}
    for item in items or []:
        name, sep, text = item.partition("=")
        name = name.strip()
        if not sep or not name.isidentifier():
            raise InvalidArgumentError(owner, "-p", item, "must be key=value with a Python name as key")
        try:
            params[name] = json.loads(text)
        except ValueError:
            params[name] = text
    return params


def add_trigger_arguments(parser: argparse.ArgumentParser, required: bool) -> None:
    """``--cron``/``--every``/``--at`` (one of them) and ``--tz``."""
    group = parser.add_mutually_exclusive_group(required=required)
    group.add_argument("--cron", metavar="EXPR", help='crontab expression, e.g. "0 9 * * 1-5" or @daily')
    group.add_argument("--every", metavar="INTERVAL", help="fixed interval: 30s, 5m, 2h, 1d, 1h30m")
    group.add_argument("--at", metavar="WHEN", help='once, at this date and time: "2026-12-01 08:00"')
    parser.add_argument("--tz", metavar="ZONE", help="time zone of the schedule, e.g. Europe/Paris (default: local)")


def build_trigger(args: argparse.Namespace, owner: str = "add") -> Trigger | None:
    """The trigger the ``--cron``/``--every``/``--at`` options describe (``None`` when none was given)."""
    tz = args.tz
    if args.cron is not None:
        from nbsched.triggers.cron import CronTrigger

        return CronTrigger.from_posix(args.cron, timezone=tz)
    if args.every is not None:
        from nbsched.triggers.interval import IntervalTrigger

        return IntervalTrigger(seconds=parse_every(args.every, owner), timezone=tz)
    if args.at is not None:
        from nbsched.triggers.date import DateTrigger

        return DateTrigger(args.at, timezone=tz)
    if tz is not None:
        raise InvalidArgumentError(owner, "--tz", tz, "needs --cron, --every or --at")
    return None


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
    task_fields: dict[str, Any] = {}
    if secrets and _supports_secret_parameters():
        task_fields["secret_parameters"] = tuple(secrets)

    if args.code is not None or (target is not None and target.endswith(".py")):
        from nbsched.notebooks import Cell

        if args.code is not None:
            source, default_id = args.code, "cell"
        else:
            assert target is not None
            file = Path(target).expanduser()
            if not file.is_file():
                raise InvalidArgumentError(owner, "target", target, "does not exist")
            source, default_id = file.read_text(encoding="utf-8"), _slug(file.stem)
        if params:
            raise InvalidArgumentError(owner, "-p", next(iter(params)), "only applies to notebooks and functions")
        cell_root = str(Path(args.root).expanduser().resolve()) if args.root else str(Path.cwd())
        return Cell(source, root=cell_root, **task_options), {}, default_id

    assert target is not None
    if target.endswith(".ipynb"):
        from nbsched.notebooks import Notebook

        file = Path(target).expanduser().resolve()
        if args.root:
            root = Path(args.root).expanduser().resolve()
        else:
            # The current folder when the notebook is inside it (so it may name files next to it), else its own.
            root = Path.cwd().resolve() if file.is_relative_to(Path.cwd().resolve()) else file.parent
        path = str(file.relative_to(root)) if file.is_relative_to(root) else str(file)
        task = Notebook(path, parameters=params, root=str(root), snapshot=args.snapshot, **task_options, **task_fields)
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


def _supports_secret_parameters() -> bool:
    """Whether :class:`~nbsched.notebooks.Notebook` has a ``secret_parameters`` field (proposed)."""
    import attrs

    from nbsched.notebooks import Notebook

    return any(field.name == "secret_parameters" for field in attrs.fields(Notebook))


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
    trigger = build_trigger(args, owner)
    assert trigger is not None  # argparse requires one of --cron/--every/--at
    tags = set(args.tag or [])
    if secrets and not _supports_secret_parameters():
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
    summary = job_summary(job, None)
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
    if is_task(task):
        kind = str(getattr(task, "task_type", "task"))
        if kind == "notebook":
            return kind, str(getattr(task, "path", ""))
        return kind, str(task.describe()) if hasattr(task, "describe") else kind  # type: ignore[union-attr]
    return "function", job.func_ref or job.name


def job_summary(job: Job, last: Run | None, masker: Masker | None = None) -> dict[str, Any]:
    """A job as the CLI shows it (``list --json``, ``add --json``); secret parameters masked."""
    kind, target = _kind_and_target(job)
    masker = masker or Masker()
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
    scheduler = session.scheduler
    jobs = scheduler.get_jobs()
    broken = scheduler.get_broken_jobs()
    masker = Masker.for_jobs(jobs)
    last_runs: dict[str, Run | None] = {}
    for job in jobs:
        runs = scheduler.runs(job_id=job.id, limit=1)
        last_runs[job.id] = runs[0] if runs else None
    if args.json:
        emit_json(
            {
                "jobs": [job_summary(job, last_runs[job.id], masker) for job in jobs],
                "broken": [{"id": job_id, "reason": reason} for _, job_id, reason in broken],
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
    for _, job_id, reason in broken:
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
def _check_ids(session: Session, ids: list[str]) -> None:
    """Every id names a job (checked first, so nothing changes when one does not; exit code 3)."""
    for job_id in ids:
        session.job(job_id)


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
    """Remove jobs (their run history stays)."""
    _check_ids(session, args.job)
    for job_id in args.job:
        with contextlib.suppress(JobLookupError):  # removed meanwhile by another process: the same outcome
            session.scheduler.remove_job(job_id)
    if args.json:
        emit_json({"removed": args.job})
    else:
        for job_id in args.job:
            print(f"removed {job_id}")
    return EXIT_OK
