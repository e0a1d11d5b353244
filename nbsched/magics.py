"""IPython magics: ``%%schedule``, ``%schedule``, ``%jobs``, ``%runs``, ``%unschedule``.

::

    %load_ext nbsched
    %%schedule --every 5m --name refresh-prices          # this cell, headless (a fresh kernel) every 5 minutes
    %%schedule --cron "0 9 * * 1-5" --tz Europe/Paris      # crontab meaning
    %%schedule --at "2026-12-01 08:00" --mode kernel       # once, in this kernel's namespace
    %schedule notebooks/report.ipynb --cron "@daily" -p region=EU -p limit=10
    %schedule mypkg.tasks:refresh --every 1h               # a function (module:function, or an imported name)
    %jobs   %jobs --panel   %runs [job]   %unschedule NAME
    %schedule --pause NAME   %schedule --resume NAME   %schedule --run-now NAME

A thin layer: arguments become a task spec and a trigger for the kernel's scheduler
(:mod:`nbsched.kernel_session`). Kernel-mode jobs go to the kernel's memory store, the rest to the shared
store. Re-running a ``%%schedule`` cell updates its job: the job id is ``--name``, else derived from the
front end's cell id (JupyterLab sends one), else from the cell's text. Bad input raises IPython's
``UsageError``: one line naming the option and the value, no traceback.
"""

from __future__ import annotations

import ast
import difflib
import hashlib
import re
import shlex
from datetime import datetime
from pathlib import Path
from typing import Any

from IPython.core.error import UsageError
from IPython.core.magic import Magics, line_cell_magic, line_magic, magics_class
from IPython.core.magic_arguments import argument, magic_arguments

from nbsched.abc import Task
from nbsched.exceptions import InvalidArgumentError, NbschedError
from nbsched.kernel_session import KERNEL_STORE, SHARED_STORE, KernelSession
from nbsched.triggers.typed import join_dashed_values

__all__ = [
    "SchedulerMagics",
    "load_ipython_extension",
    "parse_every",
    "parse_parameter",
    "unload_ipython_extension",
]

_REFERENCE = re.compile(r"[A-Za-z_][\w.]*:[A-Za-z_][\w.]*")


def _fail(magic: str, option: str, value: Any, problem: str) -> UsageError:
    """``%%schedule: --every '5x' is not an interval ...``: the magic, the option, the value, the problem."""
    return UsageError(f"{magic}: {option} {_short(value)} {problem}")


def parse_every(text: str, magic: str = "%%schedule") -> float:
    """Seconds of an interval written ``30s``, ``5m``, ``1h30m``, ``2 days``, ``1w`` or as seconds, read as the CLI
    and the REST API read it (:func:`nbsched.triggers.typed.parse_every`).

    :raises UsageError: for anything else, as ``%%schedule: --every '5x' has an unknown unit 'x' ...``
    """
    from nbsched.triggers.typed import parse_every as parse_interval

    try:
        return parse_interval(text, magic, "--every").total_seconds()
    except InvalidArgumentError as exc:
        raise UsageError(str(exc)) from None


def parse_parameter(item: str, magic: str = "%schedule") -> tuple[str, Any]:
    """``-p name=value``: the value as a Python literal when it is one (``10``, ``True``, ``[1, 2]``), else text.

    :raises UsageError: when it is not ``name=value`` with a Python name
    """
    name, sep, text = item.partition("=")
    name = name.strip()
    if not sep or not name.isidentifier():
        raise _fail(magic, "-p", item, "must be name=value with a Python name")
    try:
        return name, ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return name, text


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", text).strip("-.") or "job"


def _strip_comment(line: str) -> str:
    """``line`` without its trailing ``# comment``, read the way a shell reads one.

    A ``#`` starts a comment only at the start of a word outside quotes: ``--name "a # b"`` and
    ``-p colour=#ff0000`` keep theirs (``shlex``'s own ``comments=True`` would cut the latter at the ``#``).
    """
    quote: str | None = None
    escaped = False
    word_start = True
    for position, char in enumerate(line):
        separator = False
        if escaped:
            escaped = False
        elif quote is not None:
            if char == quote:
                quote = None
            elif char == "\\" and quote == '"':
                escaped = True
        elif char == "\\":
            escaped = True
        elif char in "'\"":
            quote = char
        elif char == "#" and word_start:
            return line[:position]
        else:
            separator = char.isspace()
        word_start = separator
    return line


def _parse(magic_func: Any, line: str, magic: str) -> Any:
    """Parse ``line`` with the magic's argparse parser; every error is one ``UsageError`` line."""
    parser = magic_func.parser
    parser.allow_abbrev = False  # `--ev` is a typo, not `--every`
    try:
        argv = shlex.split(_strip_comment(line))
    except ValueError as exc:
        raise UsageError(f"{magic}: cannot read the arguments ({exc})") from None
    try:
        args, extra = parser.parse_known_args(join_dashed_values(argv, parser._option_string_actions))
    except UsageError as exc:
        text = str(exc)
        missing = re.fullmatch(r"argument ([^:]+): expected one argument", text)
        if missing:
            raise UsageError(f"{magic}: {missing.group(1).split('/')[-1]} needs a value") from None
        raise UsageError(f"{magic}: {text.removeprefix('argument ')}") from None
    if extra:
        unknown = extra[0]
        if unknown.startswith("-"):
            options = [opt for action in parser._actions for opt in action.option_strings]
            close = difflib.get_close_matches(unknown.split("=")[0], options, n=1)
            hint = f"did you mean {close[0]}?" if close else f"options: {', '.join(sorted(options))}"
            raise UsageError(f"{magic}: {unknown} is not an option ({hint})")
        raise UsageError(f"{magic}: unexpected argument {_short(unknown)}")
    if getattr(args, "mode", "headless") not in ("headless", "kernel"):
        raise _fail(magic, "--mode", args.mode, "must be headless or kernel")
    return args


def _trigger(args: Any, magic: str, now: datetime) -> Any:
    """The trigger of ``--every``/``--cron``/``--at`` (exactly one) with ``--tz``, read as the CLI and the REST
    API read them (:mod:`nbsched.triggers.typed`); ``now``: the scheduler's time (``--at`` must be after it)."""
    from nbsched.triggers.interval import IntervalTrigger
    from nbsched.triggers.typed import parse_timezone, typed_trigger

    given = [flag for flag, value in (("--every", args.every), ("--cron", args.cron), ("--at", args.at)) if value]
    if not given:
        raise UsageError(f"{magic}: say when with one of --every, --cron or --at (see %schedule?)")
    if len(given) > 1:
        raise UsageError(f"{magic}: {given[1]} cannot be combined with {given[0]}; give one of --every, --cron, --at")
    flag = given[0]
    value = {"--every": args.every, "--cron": args.cron, "--at": args.at}[flag]
    try:
        tz = parse_timezone(args.tz, magic, "--tz")
        if flag == "--every":
            return IntervalTrigger(seconds=parse_every(args.every, magic), timezone=tz)
        return typed_trigger(flag.removeprefix("--"), value, owner=magic, field=flag, now=now, timezone=tz)
    except InvalidArgumentError as exc:
        if exc.owner == magic:  # the schedule parser's own message, already "%%schedule: --at ..."
            raise UsageError(str(exc)) from None
        # A crontab line the trigger refused: its message names the cron field, under the magic's option.
        raise _fail(magic, flag, value, f"is not valid: {exc.field} {_short(exc.value)} {exc.problem}") from None


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


@magics_class
class SchedulerMagics(Magics):
    """The nbsched magics, bound to a :class:`~nbsched.kernel_session.KernelSession`."""

    def __init__(self, shell: Any, session: KernelSession) -> None:
        super().__init__(shell)
        self.session = session

    @property
    def scheduler(self) -> Any:
        return self.session.scheduler

    # ----------------------------------------------------------------------------------------- %schedule
    @magic_arguments()
    @argument("target", nargs="?", help="%%schedule only: a notebook (.ipynb), module:function, or a function name")
    @argument("--every", metavar="INTERVAL", help="run at a fixed interval: 30s, 5m, 1h30m, '2 days', 1w")
    @argument("--cron", metavar="EXPR", help='crontab expression as cron reads it: "0 9 * * 1-5", "@daily"')
    @argument("--at", metavar="WHEN", help='run once at this date and time: "2026-12-01 08:00"')
    @argument("--tz", metavar="ZONE", help="time zone of the schedule, e.g. Europe/Paris (default: the local one)")
    @argument("--name", metavar="NAME", help="job name and id (re-running with the same name updates the job)")
    @argument(
        "--mode",
        default="headless",
        help="headless (default): a fresh kernel per run, survives this kernel's restart; "
        "kernel: in this kernel's namespace, between your cells, output in the scheduling cell, "
        "ends with this kernel",
    )
    @argument("-p", "--param", action="append", metavar="NAME=VALUE", help="notebook parameter or function argument")
    @argument("--timeout", type=float, metavar="SECONDS", help="headless runs: stop a run after this many seconds")
    @argument("--pause", metavar="NAME", help="pause the job NAME")
    @argument("--resume", metavar="NAME", help="resume the job NAME")
    @argument("--run-now", metavar="NAME", help="run the job NAME once now (a paused job stays paused)")
    @line_cell_magic
    def schedule(self, line: str, cell: str | None = None) -> None:
        """Schedule this cell (``%%schedule``), or a notebook or a function (``%schedule TARGET``).

        Examples::

            %%schedule --every 5m --name refresh-prices
            %%schedule --cron "0 9 * * 1-5" --tz Europe/Paris
            %%schedule --at "2026-12-01 08:00" --mode kernel
            %schedule notebooks/report.ipynb --cron "@daily" -p region=EU -p limit=10
            %schedule mypkg.tasks:refresh --every 1h
            %schedule --pause refresh-prices    %schedule --resume refresh-prices    %schedule --run-now refresh-prices

        Re-running the same ``%%schedule`` cell updates its job rather than adding another. The job is found by
        ``--name``, else by the cell's id, which JupyterLab and Notebook 7 send with every execution. Where the
        front end sends no cell id (IPython in a terminal, some editors), the cell is known by its code: editing
        the code and running it again then schedules a second job beside the first (remove that one with
        ``%unschedule``); give such cells a ``--name``.

        A ``# comment`` at the end of the magic line is ignored, as in a shell. ``--timeout`` applies to headless
        runs only (not ``--mode kernel``); an ``--at`` in the past is refused.
        """
        magic = "%%schedule" if cell is not None else "%schedule"
        args = _parse(self.schedule, line, magic)
        actions = [
            (flag, name)
            for flag, name in (("--pause", args.pause), ("--resume", args.resume), ("--run-now", args.run_now))
            if name
        ]
        if actions:
            if len(actions) > 1 or cell is not None or args.target:
                raise UsageError(f"{magic}: {actions[0][0]} goes alone, as %schedule {actions[0][0]} NAME")
            self._act(magic, *actions[0])
            return
        trigger = _trigger(args, magic, self.scheduler.clock.now())
        if cell is not None:
            if args.target:
                raise _fail(magic, "target", args.target, "is for %schedule; %%schedule schedules the cell itself")
            task, job_id, name = self._cell_task(cell, args, magic)
            kwargs: dict[str, Any] = {}
        else:
            if not args.target:
                raise UsageError(f"{magic}: give a notebook, module:function or function name (or use %%schedule)")
            task, job_id, name, kwargs = self._target_task(args, magic)
        self._add(magic, task, trigger, job_id, name, kwargs, args)

    def _cell_task(self, source: str, args: Any, magic: str) -> tuple[Any, str, str]:
        from nbsched.notebooks import Cell

        if not source.strip():
            raise UsageError(f"{magic}: the cell is empty; write the code to schedule below the magic line")
        if args.param:
            raise _fail(magic, "-p", args.param[0], "is for notebooks and functions; a cell reads its own variables")
        if args.mode == "kernel" and args.timeout is not None:
            # A kernel-mode cell runs between the user's own cells, where nothing can stop it half way.
            raise _fail(magic, "--timeout", args.timeout, "applies to headless runs; --mode kernel has no timeout")
        if args.mode == "kernel":
            shell = self.shell
            assert shell is not None
            transformed = shell.transform_cell(source)
            if shell.should_run_async(source, transformed_cell=transformed, preprocessing_exc_tuple=None):
                raise _fail(magic, "--mode", "kernel", "cannot run a cell with top-level await; use --mode headless")
        options: dict[str, Any] = {"mode": args.mode, "root": str(Path.cwd())}
        if args.timeout is not None:
            options["timeout"] = args.timeout
        try:
            task = Cell(source, **options)
        except InvalidArgumentError as exc:
            raise _fail(magic, f"--{exc.field}", exc.value, exc.problem) from None
        if args.name:
            return task, args.name, args.name
        key = self.session.cell_id() or source.strip()
        return task, "cell-" + hashlib.sha1(key.encode()).hexdigest()[:8], task.describe()

    def _target_task(self, args: Any, magic: str) -> tuple[Any, str, str, dict[str, Any]]:
        target: str = args.target
        params = dict(parse_parameter(item, magic) for item in args.param or [])
        if target.endswith(".ipynb"):
            from nbsched.notebooks import Notebook

            if args.mode == "kernel":
                raise _fail(magic, "--mode", "kernel", "is for cells and functions; notebooks run headless")
            options: dict[str, Any] = {"parameters": params}
            if args.timeout is not None:
                options["timeout"] = args.timeout
            try:
                task = Notebook(target, **options)
            except InvalidArgumentError as exc:
                field = "-p" if exc.field.startswith("parameter") else exc.field
                raise _fail(magic, field, exc.value, exc.problem) from None
            job_id = args.name or _slug(Path(target).stem)
            return task, job_id, args.name or task.describe(), {}
        if args.timeout is not None:
            raise _fail(magic, "--timeout", args.timeout, "applies to notebooks and cells only")
        function_name = target.rpartition(":")[2].rpartition(".")[2]
        if args.mode == "kernel":
            # A function of this kernel (or an importable one) called in the kernel's namespace.
            from nbsched.notebooks import Cell

            call = ", ".join(f"{key}={value!r}" for key, value in params.items())
            if _REFERENCE.fullmatch(target):
                module, _, qualname = target.partition(":")
                source = f"__import__({module!r}, fromlist=['_']).{qualname}({call})"
            elif target.isidentifier() and self.shell is not None and callable(self.shell.user_ns.get(target)):
                source = f"{target}({call})"
            else:
                raise _fail(magic, "target", target, "is not a function of this kernel or a module:function reference")
            job_id = args.name or _slug(function_name)
            return Cell(source, mode="kernel", root=str(Path.cwd())), job_id, args.name or f"{target}()", {}
        if _REFERENCE.fullmatch(target):
            func: Any = target
        else:
            shell = self.shell
            candidate = shell.user_ns.get(target) if shell is not None and target.isidentifier() else None
            if not callable(candidate):
                raise _fail(
                    magic, "target", target, "is not a notebook (.ipynb), a module:function reference or a function"
                )
            func = candidate
        return func, args.name or _slug(function_name), args.name or target, params

    def _add(
        self, magic: str, task: Any, trigger: Any, job_id: str, name: str, kwargs: dict[str, Any], args: Any
    ) -> None:
        scheduler = self.scheduler
        kernel_mode = isinstance(task, Task) and task.default_executor == "kernel"  # a Cell(mode="kernel")
        store, other = (KERNEL_STORE, SHARED_STORE) if kernel_mode else (SHARED_STORE, KERNEL_STORE)
        existed = scheduler.get_job(job_id) is not None
        if kernel_mode:
            self.session.executor.set_home(job_id, self.session.parent_header())
        try:
            job = scheduler.add_job(
                task, trigger, kwargs=kwargs, id=job_id, name=name, jobstore=store, replace_existing=True
            )
        except InvalidArgumentError as exc:
            raise _fail(magic, exc.field, exc.value, exc.problem) from None
        except NbschedError as exc:
            raise UsageError(f"{magic}: {exc.message}") from None
        if scheduler.get_job(job_id, other) is not None:
            scheduler.remove_job(job_id, other)  # switched between kernel and headless mode
        job = scheduler.get_job(job_id, store) or job
        when = (
            "paused"
            if job.next_run_time is None
            else f"next run {job.next_run_time.astimezone(scheduler.timezone):%Y-%m-%d %H:%M:%S %Z}"
        )
        where = "in this kernel" if kernel_mode else "shared store"
        verb = "updated" if existed else "scheduled"
        print(f"{verb} {job.id} ({where}): {job.trigger.describe()}; {when}")

    def _act(self, magic: str, flag: str, name: str) -> None:
        from nbsched.widgets.presenter import Presenter

        job = self._find(magic, flag, name)
        presenter = Presenter(self.scheduler)
        presenter.select(job.id)
        {"--pause": presenter.pause, "--resume": presenter.resume, "--run-now": presenter.run_now}[flag]()
        if presenter.message.startswith("could not"):
            raise UsageError(f"{magic}: {flag} {_short(name)} {presenter.message}")
        print(presenter.message)

    def _find(self, magic: str, flag: str, name: str) -> Any:
        """The job with this id, else the one job with this name."""
        scheduler = self.scheduler
        job = scheduler.get_job(name)
        if job is not None:
            return job
        jobs = scheduler.get_jobs()
        named = [job for job in jobs if job.name == name]
        if len(named) == 1:
            return named[0]
        if named:
            raise _fail(magic, flag, name, f"names several jobs; use an id ({', '.join(job.id for job in named)})")
        known = ", ".join(sorted(job.id for job in jobs)) or "none"
        raise _fail(magic, flag, name, f"is not a job (jobs: {known})")

    # -------------------------------------------------------------------------------------------- %jobs
    @magic_arguments()
    @argument("--panel", action="store_true", help="show the interactive panel (ipywidgets) instead of a table")
    @line_magic
    def jobs(self, line: str) -> Any:
        """List the jobs of this kernel and of the shared store: schedule, next run, last status, run count."""
        args = _parse(self.jobs, line, "%jobs")
        if args.panel:
            from nbsched.widgets import panel

            return panel(self.scheduler)
        from nbsched.widgets.presenter import Presenter, format_jobs

        print(format_jobs(Presenter(self.scheduler).state()))
        return None

    # -------------------------------------------------------------------------------------------- %runs
    @magic_arguments()
    @argument("job", nargs="?", help="only this job's runs (id or name)")
    @argument("-n", "--limit", type=int, default=20, help="how many runs (newest first; default 20)")
    @line_magic
    def runs(self, line: str) -> None:
        """Show the run history, newest first: status, times, duration, error or progress, output file."""
        from nbsched.widgets.presenter import _run_row, format_runs

        args = _parse(self.runs, line, "%runs")
        if args.limit <= 0:
            raise _fail("%runs", "--limit", args.limit, "must be a positive number")
        scheduler = self.scheduler
        job_id = self._find("%runs", "job", args.job).id if args.job else None
        names = {job.id: job.name or job.id for job in scheduler.get_jobs()}
        now = scheduler.clock.now()
        found = scheduler.runs(job_id=job_id, limit=args.limit)
        rows = [(names.get(run.job_id, run.job_id), _run_row(run, now, scheduler.timezone, "/")) for run in found]
        print(format_runs(rows))

    # -------------------------------------------------------------------------------------- %unschedule
    @magic_arguments()
    @argument("name", help="the job's id or name")
    @line_magic
    def unschedule(self, line: str) -> None:
        """Remove a job (its run history stays until retention prunes it)."""
        args = _parse(self.unschedule, line, "%unschedule")
        job = self._find("%unschedule", "name", args.name)
        self.scheduler.remove_job(job.id)
        self.session.executor.set_home(job.id, None)
        print(f"removed {job.id}")


def load_ipython_extension(shell: Any) -> None:
    """``%load_ext nbsched``: start (once per kernel) the scheduler and register the magics."""
    from nbsched.kernel_session import open_session

    session = open_session(shell)
    shell.register_magics(SchedulerMagics(shell, session))


def unload_ipython_extension(shell: Any) -> None:
    """``%unload_ext nbsched``: kernel-mode jobs end; the shared scheduler stops when the kernel exits."""
    from nbsched.kernel_session import close_session

    close_session()
