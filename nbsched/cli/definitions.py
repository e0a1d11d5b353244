"""``nbsched export`` and ``nbsched apply``: job definitions as YAML or JSON, for git and for dev-to-prod.

A definitions file holds what a job *is*, not where it stands (no next run time, no run count)::

    version: 1
    jobs:
    - id: daily-report
      name: report.ipynb(region='EU')
      schedule: every weekday at 09:00 (Europe/Berlin)     # for readers; apply ignores it
      trigger: {type: cron, version: 1, posix: 0 9 * * 1-5, timezone: Europe/Berlin, ...}
      task: {type: notebook, version: 1, path: report.ipynb, parameters: {region: EU}, ...}
      paused: false
      ...

A function job has ``func: module:function`` with ``args``/``kwargs`` instead of ``task``. A hand-written file
may give ``cron:``, ``every:`` or ``at:`` (with ``timezone:``) instead of ``trigger:``, read as ``add`` reads
them (:mod:`nbsched.triggers.typed`).

A file is meant to move between machines (dev to prod), so ``export`` leaves out what ``apply`` derives there:
a task's ``root`` when it is the one ``add`` would choose (the current folder when it holds the notebook, else
the notebook's own folder; a notebook outside the current folder is then named by a relative ``path``), and an
interval trigger's ``anchor`` (the phase it took when it was created: like the next run time, it is where the job
stands, not what it is; a job applied on another machine starts its interval when it is created there, and one
that should keep a phase says so with ``start_date``). ``apply`` reads such a file from the folder it runs in.

``export`` masks secret parameters as ``***`` (and their values wherever else they appear, such as in a name).
``apply`` creates or updates the jobs of a file, keyed by id, and leaves a job that already matches its
definition untouched (so applying twice changes nothing, and an unchanged schedule keeps its next run time); a
``***`` secret keeps the value already stored. ``--prune`` removes the store's jobs the file does not name.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from nbsched import jsonstate
from nbsched.cli.documents import dump_yaml
from nbsched.cli.entries import FORMAT_VERSION, OPTIONS, read_entries
from nbsched.cli.output import Column, emit_json, table
from nbsched.cli.session import EXIT_OK, Session
from nbsched.cli.values import user_path
from nbsched.exceptions import InvalidArgumentError
from nbsched.job import Job, is_task, task_from_dict
from nbsched.masking import MASK, Masker, secret_names

__all__ = ["FORMAT_VERSION", "cmd_apply", "cmd_export", "definition_of"]


#: trigger types whose ``anchor`` is set lazily, when they are first asked for a fire time
_ANCHORED = frozenset({"interval", "calendarinterval"})


def definition_of(job: Job, *, masked: bool = True) -> dict[str, Any]:
    """A job's definition, without what ``apply`` derives on any machine (see the module docstring).

    :param masked: secret parameters as ``***``, and their values scrubbed from the name
    """
    secrets = secret_names(job) if masked else set()
    masker = Masker.for_jobs([job]) if masked else Masker()
    definition: dict[str, Any] = {
        "id": job.id,
        "name": masker.text(job.name),
        "schedule": job.trigger.describe(),
        "trigger": _portable_trigger(job.trigger.to_dict()),
    }
    task = job.func
    if is_task(task):
        state = _portable_task(dict(task.to_dict()))  # type: ignore[union-attr]  # is_task: specs have to_dict
        if isinstance(state.get("parameters"), Mapping):
            state["parameters"] = {k: MASK if k in secrets else v for k, v in state["parameters"].items()}
        definition["task"] = state
    else:
        definition["func"] = job.func_ref
        definition["args"] = jsonstate.encode(list(job.args), "export", "args")
        kwargs = jsonstate.encode(job.kwargs, "export", "kwargs")
        definition["kwargs"] = {k: MASK if k in secrets else v for k, v in kwargs.items()}
    for option in OPTIONS:
        definition[option] = getattr(job, option)
    definition["tags"] = sorted(job.tags)
    definition["paused"] = job.next_run_time is None
    return definition


def _portable_trigger(state: dict[str, Any]) -> dict[str, Any]:
    """``state`` without the lazily set anchors of interval triggers (in combined triggers too)."""
    out = {key: value for key, value in state.items() if not (key == "anchor" and state.get("type") in _ANCHORED)}
    if isinstance(out.get("triggers"), list):
        out["triggers"] = [_portable_trigger(child) if isinstance(child, dict) else child for child in out["triggers"]]
    return out


def _portable_task(state: dict[str, Any]) -> dict[str, Any]:
    """A task's state without its ``root`` when that is the root ``apply`` derives (:func:`_with_root`)."""
    from nbsched.cli.jobs import default_root

    root, path = state.get("root"), state.get("path")
    if not isinstance(root, str):
        return state
    here = Path.cwd().resolve()
    folder = Path(root).resolve()
    if state.get("type") == "notebook" and isinstance(path, str):
        file = (folder / path).resolve()
        if default_root(file) != folder:
            return state
        out = {key: value for key, value in state.items() if key != "root"}
        if folder != here:  # the notebook's own folder, outside this one: named from here
            out["path"] = os.path.relpath(file, here)
        return out
    if state.get("type") == "cell" and folder == here:
        return {key: value for key, value in state.items() if key != "root"}
    return state


def _with_root(state: dict[str, Any]) -> dict[str, Any]:
    """A task's state with the root ``add`` would choose when it names none: for a notebook outside the current
    folder, the notebook's own folder (its ``path`` becomes the file's name); else nothing is added and the task
    takes its default root, the current folder (a notebook's ``path`` kept as written)."""
    from nbsched.cli.jobs import default_root

    path = state.get("path")
    if "root" in state or state.get("type") != "notebook" or not isinstance(path, str):
        return state
    file = (Path.cwd() / user_path(path, "apply", "task.path")).resolve()
    root = default_root(file)
    if root == Path.cwd().resolve():
        return state
    return {**state, "root": str(root), "path": file.name}


# ----------------------------------------------------------------------------------------------- export
def _dump(document: Any, fmt: str) -> str:
    if fmt == "json":
        return json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    return dump_yaml(document)  # without aliases, which apply refuses


def _format(path: str | None, given: str | None, as_json: bool) -> str:
    if as_json:
        return "json"
    if given:
        return given
    if path and path.lower().endswith(".json"):
        return "json"
    return "yaml"


def cmd_export(args: argparse.Namespace, session: Session) -> int:
    """Write job definitions (all jobs, or the ones named) as YAML (default) or JSON."""
    if args.job:
        jobs = [session.job(job_id) for job_id in args.job]
    else:
        jobs = session.jobs()
        for job_id, reason in session.broken_jobs():
            print(f"nbsched: warning: job {job_id} cannot be loaded and is not exported: {reason}", file=sys.stderr)
    document = {"version": FORMAT_VERSION, "jobs": [definition_of(job) for job in jobs]}
    text = _dump(document, _format(args.output, args.format, args.json))
    if args.output and args.output != "-":
        try:
            Path(args.output).write_text(text, encoding="utf-8")
        except OSError as exc:
            problem = f"cannot be written: {exc.strerror or exc}"
            raise InvalidArgumentError("export", "--output", args.output, problem) from None
        print(f"exported {len(jobs)} job(s) to {args.output}", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return EXIT_OK


# ------------------------------------------------------------------------------------------------ apply
def _trigger(entry: Mapping[str, Any], where: str, now: datetime) -> Any:
    """The trigger of a definition: its ``trigger`` state, or the ``cron``/``every``/``at`` it was typed with."""
    from nbsched.triggers.base import trigger_from_dict
    from nbsched.triggers.typed import parse_timezone, typed_trigger

    shortcuts = [key for key in ("cron", "every", "at") if entry.get(key) is not None]
    if entry.get("trigger") is not None:
        if shortcuts:
            raise InvalidArgumentError(
                "apply", f"{where}.{shortcuts[0]}", entry[shortcuts[0]], "conflicts with trigger"
            )
        if not isinstance(entry["trigger"], dict):
            raise InvalidArgumentError("apply", f"{where}.trigger", entry["trigger"], "must be a mapping")
        return trigger_from_dict(entry["trigger"])
    if len(shortcuts) != 1:
        raise InvalidArgumentError("apply", f"{where}", entry["id"], "needs exactly one of trigger, cron, every, at")
    kind = shortcuts[0]
    tz = parse_timezone(entry.get("timezone"), "apply", f"{where}.timezone")
    # YAML reads `every: 90` as a number and a date with seconds as a datetime: both are read as typed.
    return typed_trigger(kind, str(entry[kind]), owner="apply", field=f"{where}.{kind}", now=now, timezone=tz)


def _unmask(values: Any, stored: Mapping[str, Any] | None, secrets: set[str], where: str, field: str) -> dict[str, Any]:
    """``values`` with each ``***`` secret replaced by the value stored already."""
    if values is None:
        return {}
    if not isinstance(values, Mapping):
        raise InvalidArgumentError("apply", f"{where}.{field}", values, "must be a mapping")
    out = dict(values)
    for name, value in values.items():
        if value == MASK and name in secrets:
            if stored is None or name not in stored:
                raise InvalidArgumentError(
                    "apply",
                    f"{where}.{field}[{name!r}]",
                    value,
                    "is a masked secret and the store has no value for it: write the value into the file",
                )
            out[name] = stored[name]
    return out


def _candidate(session: Session, entry: dict[str, Any], index: int, existing: Job | None) -> tuple[Job, bool]:
    """The job a definition describes (not stored), and whether it is paused."""
    where = f"jobs[{index}]"
    owner = "apply"
    names = list((entry.get("task") or {}).get("parameters") or {}) + list(entry.get("kwargs") or {})
    tags = entry.get("tags") or []
    task_secrets = (entry.get("task") or {}).get("secret_parameters") or ()
    secrets = secret_names(None, names, tags if isinstance(tags, list) else []) | set(task_secrets)
    stored = definition_of(existing, masked=False) if existing is not None else None
    if (entry.get("task") is None) == (entry.get("func") is None):
        raise InvalidArgumentError(owner, where, entry["id"], "needs exactly one of task, func")
    func: Any
    kwargs: dict[str, Any] = {}
    args: list[Any] = []
    if entry.get("task") is not None:
        state = entry["task"]
        if not isinstance(state, dict):
            raise InvalidArgumentError(owner, f"{where}.task", state, "must be a mapping")
        stored_params = (stored or {}).get("task", {}).get("parameters") if stored else None
        state = {
            **_with_root(state),
            "parameters": _unmask(state.get("parameters"), stored_params, secrets, where, "task.parameters"),
        }
        func = task_from_dict(state)
    else:
        func = entry["func"]
        kwargs = jsonstate.decode(_unmask(entry.get("kwargs"), (stored or {}).get("kwargs"), secrets, where, "kwargs"))
        raw_args = entry.get("args") or []
        if not isinstance(raw_args, list):
            raise InvalidArgumentError(owner, f"{where}.args", raw_args, "must be a list")
        args = jsonstate.decode(raw_args)
    options = {option: entry[option] for option in OPTIONS if entry.get(option) is not None}
    if "executor" not in options and is_task(func):
        options["executor"] = func.default_executor  # as add_job chooses it
    paused = entry.get("paused", False)
    if not isinstance(paused, bool):
        raise InvalidArgumentError(owner, f"{where}.paused", paused, "must be true or false")
    from nbsched.triggers.base import trigger_from_dict

    # Through its stored form, so that it compares equal to a stored trigger (a zone such as Etc/UTC comes back
    # from the store as UTC, and triggers in the two zones compare unequal).
    trigger = trigger_from_dict(_trigger(entry, where, session.scheduler.clock.now()).to_dict())
    job = Job.create(
        session.scheduler,
        func,
        trigger,
        args=args,
        kwargs=kwargs,
        id=entry["id"],
        name=entry.get("name"),
        owner=owner,
        tags=tags,
        **options,
    )
    return job, paused


def _same(existing: Job, candidate: Job, paused: bool) -> bool:
    # Triggers compare with ==, which leaves out state such as an interval's lazily set anchor: a definition
    # written by hand (every: 5m) matches the job it created.
    mine = definition_of(existing, masked=False)
    theirs = definition_of(candidate, masked=False)
    theirs["paused"] = paused
    for definition in (mine, theirs):
        del definition["trigger"], definition["schedule"]
    return mine == theirs and existing.trigger == candidate.trigger


def cmd_apply(args: argparse.Namespace, session: Session) -> int:
    """Create or update the jobs of a definitions file (idempotent); ``--prune`` removes the others."""
    scheduler = session.scheduler
    entries = read_entries(args.file, args.format)
    plan: list[tuple[str, Job | None, bool, str]] = []  # (id, candidate, paused, action)
    for index, entry in enumerate(entries):
        existing = scheduler.get_job(entry["id"])
        candidate, paused = _candidate(session, entry, index, existing)
        if existing is None:
            action = "created"
        elif _same(existing, candidate, paused):
            action = "unchanged"
        else:
            action = "updated"
        plan.append((candidate.id, candidate, paused, action))
    if args.prune:
        named = {entry["id"] for entry in entries}
        stored = [job.id for job in scheduler.get_jobs()] + [job_id for _, job_id, _ in scheduler.get_broken_jobs()]
        plan.extend((job_id, None, False, "removed") for job_id in stored if job_id not in named)

    if not args.dry_run:
        for job_id, planned, paused, action in plan:
            if action == "removed":
                scheduler.remove_job(job_id)
            elif planned is not None and action in ("created", "updated"):
                _store(session, planned, paused)

    if args.json:
        document: dict[str, Any] = {"dry_run": args.dry_run}
        for action in ("created", "updated", "unchanged", "removed"):
            document[action] = [job_id for job_id, _, _, done in plan if done == action]
        emit_json(document)
    else:
        prefix = "would be " if args.dry_run else ""
        table(
            [Column("ID", shrink=True), Column("ACTION")], [[job_id, prefix + action] for job_id, _, _, action in plan]
        )
    return EXIT_OK


def _store(session: Session, job: Job, paused: bool) -> None:
    options: dict[str, Any] = {option: getattr(job, option) for option in OPTIONS if option != "executor"}
    if paused:
        options["next_run_time"] = None
    stored = session.scheduler.add_job(
        job.func if job.func_ref is None else job.func_ref,
        job.trigger,
        args=job.args,
        kwargs=job.kwargs,
        id=job.id,
        name=job.name,
        executor=job.executor,
        replace_existing=True,
        tags=sorted(job.tags),
        **options,
    )
    if not paused:
        current = session.scheduler.get_job(stored.id)
        if current is not None and current.next_run_time is None:
            session.scheduler.resume_job(stored.id)  # it was paused before: the file says it runs
