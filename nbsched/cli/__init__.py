"""The ``nbsched`` command: jobs, runs and a scheduler process over the store.

``main(argv)`` parses the command line, runs one command and returns its exit code (see :mod:`nbsched.cli.session`
for the codes). Commands live one group per module: :mod:`~nbsched.cli.jobs` (list, add, pause, resume,
remove), :mod:`~nbsched.cli.runs` (run, runs/history, logs), :mod:`~nbsched.cli.serve`,
:mod:`~nbsched.cli.definitions` (export, apply); ``demo`` hands its arguments to :func:`nbsched.demo.main`.
Errors are one line on stderr, ``nbsched: error: <message>``, never a traceback: bad input is an
:class:`~nbsched.exceptions.NbschedError` (raised where the input is read, naming the option and the value) and
exits 2. Any other exception is unexpected (a bug): it is one line too, ``unexpected <type>: <message>`` with a
hint, and exits 70 (``EX_SOFTWARE``); ``--debug`` (or ``NBSCHED_DEBUG=1``) prints its traceback instead.
Messages are one line, a huge one shortened in the middle.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Callable, Sequence
from typing import NoReturn

from nbsched.cli.session import (
    EXIT_BUG,
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    EXIT_NOT_FOUND,
    EXIT_STORE,
    EXIT_USAGE,
    CliError,
    Session,
    resolve_url,
)
from nbsched.cli.values import count, seconds, shorten
from nbsched.exceptions import JobLookupError, JobStoreError, NbschedError
from nbsched.triggers.typed import DASHED_OPTIONS, join_dashed_values

__all__ = ["build_parser", "main"]

EXIT_CODES = """\
exit codes:
  0  done (run --wait: the run succeeded)
  1  run --wait: the run failed, timed out, was cancelled, lost or skipped
  2  bad input: unknown option, bad value, conflicting id, bad definitions file
  3  no job (or run) by that id
  4  gave up waiting (run --wait --timeout; a paused job no scheduler took)
  5  the store cannot be used (locked, read-only, full, newer schema)
  70 unexpected error, a bug (--debug or NBSCHED_DEBUG=1 prints its traceback)
  130 interrupted

store: --db URL (postgresql+psycopg://..., sqlite:///path) or a SQLite file path; default $NBSCHED_DB_URL,
else <data dir>/nbsched.db with <data dir> = $NBSCHED_HOME or <jupyter data dir>/nbsched.
"""


class _UsageError(Exception):
    """Raised by the parsers instead of printing usage and exiting (one line, exit code 2)."""


#: options whose value may start with "-" (argparse would read ``--every -5m`` as two options)


class _Parser(argparse.ArgumentParser):
    def parse_known_args(  # type: ignore[override]  # the same call, with the words prepared
        self, args: Sequence[str] | None = None, namespace: argparse.Namespace | None = None
    ) -> tuple[argparse.Namespace, list[str]]:
        return super().parse_known_args(self._join_dashed(args), namespace)

    def _join_dashed(self, args: Sequence[str] | None) -> Sequence[str] | None:
        """``--every -5m`` as ``--every=-5m`` (:func:`~nbsched.triggers.typed.join_dashed_values`)."""
        if args is None or not any(option in self._option_string_actions for option in DASHED_OPTIONS):
            return args
        return join_dashed_values(args, self._option_string_actions)

    def error(self, message: str) -> NoReturn:
        command = self.prog.removeprefix("nbsched").strip()
        raise _UsageError(f"{command + ': ' if command else ''}{message} (see '{self.prog} --help')")


def _common(json_output: bool = True) -> _Parser:
    """Options every command takes."""
    parent = _Parser(add_help=False)
    parent.add_argument(
        "--db",
        metavar="URL",
        default=argparse.SUPPRESS,
        help="the store: a database URL or a SQLite file path (default: the default store)",
    )
    if json_output:
        parent.add_argument("--json", action="store_true", help="print one JSON document instead of text")
    parent.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help=argparse.SUPPRESS)
    return parent


def build_parser() -> argparse.ArgumentParser:
    """The ``nbsched`` argument parser and its subcommands."""
    from nbsched.cli.jobs import add_trigger_arguments
    from nbsched.runs import RunStatus

    parser = _Parser(
        prog="nbsched",
        description="Schedule notebooks, cells and functions; inspect and run jobs over the nbsched store.",
        epilog=EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--db", metavar="URL", default=None, help="the store (also accepted after the command)")
    parser.add_argument("--version", action="store_true", help="print nbsched's version")
    parser.add_argument(
        "--debug", action="store_true", help="show the traceback of an unexpected error (also: NBSCHED_DEBUG=1)"
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    common = _common()

    def command(name: str, help_text: str, aliases: Sequence[str] = (), json_output: bool = True) -> _Parser:
        p: _Parser = sub.add_parser(
            name,
            aliases=list(aliases),
            help=help_text,
            description=help_text,
            parents=[common if json_output else _common(json_output=False)],
            epilog=EXIT_CODES,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        return p

    command("list", "List jobs: id, name, trigger, next run (local time), last status, runs; paused and broken too.")

    add = command(
        "add",
        "Add a job: a notebook (.ipynb), a cell file (.py, run headless), --code, or module:function.",
    )
    add.add_argument("target", nargs="?", help="report.ipynb, refresh.py or package.module:function")
    add.add_argument("--code", metavar="CODE", help="run this code as a headless cell instead of a file")
    add_trigger_arguments(add, required=True)
    add.add_argument(
        "-p",
        "--param",
        metavar="KEY=VALUE",
        action="append",
        help="notebook parameter / function keyword argument (JSON if it parses, else a string); repeatable",
    )
    add.add_argument(
        "--secret-param",
        metavar="KEY",
        action="append",
        help="mark a -p parameter secret: shown as *** by every command; repeatable",
    )
    add.add_argument("--id", help="job id (default: from the notebook, file or function name)")
    add.add_argument("--name", help="job name (default: from the target and its parameters)")
    add.add_argument("--replace", action="store_true", help="replace a job with the same id")
    add.add_argument("--paused", action="store_true", help="add the job paused")
    add.add_argument("--tag", action="append", help="a label; repeatable")
    add.add_argument("--retries", type=count, metavar="N", help="retry a failed run up to N times")
    add.add_argument("--max-runs", type=count, metavar="N", help="remove the job after N runs")
    add.add_argument("--max-instances", type=count, metavar="N", help="runs of this job at once (default 1)")
    nb = add.add_argument_group("notebook and cell options")
    nb.add_argument("--kernel", metavar="NAME", help="kernel name (default: the notebook's own, python3 for cells)")
    nb.add_argument("--timeout", type=seconds, metavar="SECONDS", help="time limit of the whole run")
    nb.add_argument("--cell-timeout", type=seconds, metavar="SECONDS", help="time limit of each cell")
    nb.add_argument("--cwd", metavar="DIR", help="working folder, relative to the root")
    nb.add_argument(
        "--root",
        metavar="DIR",
        help="folder the notebook and its working folder must stay in "
        "(default: the current folder if it holds the notebook, else the notebook's folder)",
    )
    nb.add_argument("--formats", metavar="LIST", help="outputs besides the notebook: html (default) or ''")
    nb.add_argument("--snapshot", action="store_true", help="keep a copy of the notebook now and run that copy")

    run = command(
        "run",
        "Run a job once now: mark it due so a running scheduler starts it; a paused job stays paused "
        "(--wait: follow it; run it here if no scheduler does).",
    )
    run.add_argument("job", help="job id")
    run.add_argument("--wait", action="store_true", help="follow the run to its end; exit 0 if it succeeded, else 1")
    run.add_argument("--timeout", type=seconds, metavar="SECONDS", help="with --wait: give up after this long (exit 4)")
    run.add_argument(
        "--claim-timeout",
        type=seconds,
        default=3.0,
        metavar="SECONDS",
        help="how long a running scheduler has to take the run before --wait runs it here (default 3)",
    )
    run.add_argument("-q", "--quiet", action="store_true", help="no progress on stderr")

    runs = command("runs", "Show the run history, newest first.", aliases=["history"])
    runs.add_argument("job", nargs="?", help="only this job's runs")
    runs.add_argument(
        "--status", action="append", choices=[str(s) for s in RunStatus], help="only runs with this status; repeatable"
    )
    runs.add_argument("--since", metavar="WHEN", help='runs scheduled since: an age (2h, 7d) or "2026-05-01 00:00"')
    runs.add_argument("--limit", type=count, default=20, metavar="N", help="at most N runs (default 20)")

    logs = command("logs", "Show a run: status, timings, error and traceback, outputs, and its captured stdout/stderr.")
    logs.add_argument("job", help="job id")
    logs.add_argument("--run", metavar="RUN", help="run id, or a unique start or end of it (default: the latest run)")
    logs.add_argument("--lines", type=count, default=20, metavar="N", help="last N lines of stdout/stderr (default 20)")

    for name, text in (
        ("pause", "Pause jobs: they do not run until resumed."),
        ("resume", "Resume paused jobs from now on."),
        ("remove", "Remove jobs (their run history stays)."),
    ):
        p = command(name, text)
        p.add_argument("job", nargs="+", help="job id(s)")

    serve = command(
        "serve",
        "Run a scheduler process over the store until SIGTERM/SIGINT (running runs get --grace seconds to finish).",
        json_output=False,
    )
    serve.add_argument("--grace", type=seconds, default=30.0, metavar="SECONDS", help="on stop, wait this long (30)")
    serve.add_argument("--threads", type=count, default=10, metavar="N", help="function jobs at once (default 10)")
    serve.add_argument("--max-concurrent-runs", type=count, metavar="N", help="notebook runs at once (default: CPUs)")
    serve.add_argument("--keep-runs", type=count, default=100, metavar="N", help="runs kept per job (default 100)")
    serve.add_argument(
        "--log-level", default="INFO", choices=["DEBUG", "INFO", "WARNING", "ERROR"], help="(default INFO)"
    )

    export = command("export", "Write job definitions as YAML (default) or JSON; secrets masked as ***.")
    export.add_argument("job", nargs="*", help="only these jobs (default: all)")
    export.add_argument("-o", "--output", metavar="FILE", help="write to FILE (default: stdout)")
    export.add_argument("--format", choices=["yaml", "json"], help="default: from FILE's extension, else yaml")

    apply = command(
        "apply", "Create or update jobs from a definitions file, keyed by id; unchanged jobs are left as they are."
    )
    apply.add_argument("file", help="YAML or JSON definitions file (- for stdin)")
    apply.add_argument("--format", choices=["yaml", "json"], help="default: from the extension, else yaml")
    apply.add_argument("--prune", action="store_true", help="remove the store's jobs the file does not name")
    apply.add_argument("--dry-run", action="store_true", help="show what would change, change nothing")

    demo = sub.add_parser(
        "demo",
        help="Schedule the demo report notebook and watch it run (nbsched demo --help for its options).",
        add_help=False,
        parents=[_common(json_output=False)],
    )
    demo.add_argument("demo_args", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)
    return parser


# ------------------------------------------------------------------------------------------------ running
def _with_session(
    func: Callable[[argparse.Namespace, Session], int], read_only: bool = False
) -> Callable[[argparse.Namespace], int]:
    def run(args: argparse.Namespace) -> int:
        with Session(args.db, read_only=read_only) as session:
            return func(args, session)

    return run


def _commands() -> dict[str, Callable[[argparse.Namespace], int]]:
    from nbsched.cli import definitions, jobs, runs, serve

    return {
        "list": _with_session(jobs.cmd_list, read_only=True),
        "add": _with_session(jobs.cmd_add),
        "pause": _with_session(jobs.cmd_pause),
        "resume": _with_session(jobs.cmd_resume),
        "remove": _with_session(jobs.cmd_remove),
        "run": _with_session(runs.cmd_run),
        "runs": _with_session(runs.cmd_runs, read_only=True),
        "history": _with_session(runs.cmd_runs, read_only=True),
        "logs": _with_session(runs.cmd_logs, read_only=True),
        "export": _with_session(definitions.cmd_export, read_only=True),
        "apply": _with_session(definitions.cmd_apply),
        "serve": serve.cmd_serve,
        "demo": _demo,
    }


def _demo(args: argparse.Namespace) -> int:
    import nbsched.demo

    demo_args = args.demo_args[1:] if args.demo_args[:1] == ["--"] else args.demo_args

    def demo_main() -> int:
        try:
            return nbsched.demo.main(demo_args)
        except SystemExit as exc:  # its --help, its usage errors
            return exc.code if isinstance(exc.code, int) else EXIT_USAGE

    if not args.db:
        return demo_main()
    previous = os.environ.get("NBSCHED_DB_URL")
    os.environ["NBSCHED_DB_URL"] = resolve_url(args.db)
    try:
        return demo_main()
    finally:
        if previous is None:
            os.environ.pop("NBSCHED_DB_URL", None)
        else:
            os.environ["NBSCHED_DB_URL"] = previous


def _demo_words(words: list[str]) -> list[str]:
    """``demo`` hands everything after it to the demo (argparse would claim its options): kept as one word."""
    index = 0
    while index < len(words) and words[index].startswith("--db"):
        index += 1 if "=" in words[index] else 2
    if index >= len(words) or words[index] != "demo":
        return words
    rest, db = words[index + 1 :], []
    for position, word in enumerate(rest):
        if word == "--db" and position + 1 < len(rest):
            db = rest[position : position + 2]
            rest = rest[:position] + rest[position + 2 :]
            break
        if word.startswith("--db="):
            db = [word]
            rest = rest[:position] + rest[position + 1 :]
            break
    return [*words[: index + 1], *db, "--", *rest] if rest else [*words[: index + 1], *db]


def _fail(message: str, code: int) -> int:
    # One line, whatever the message held; a huge value quoted whole (a path, a choice list) shortened.
    text = " ".join(shorten(word, _LONGEST_WORD) for word in message.split())
    if len(text) > _LONGEST_MESSAGE:
        text = text[:350] + " ... " + text[-(_LONGEST_MESSAGE - 355) :]
    print(f"nbsched: error: {text}", file=sys.stderr)
    return code


#: characters of the longest error message printed whole, and of the longest word in it
_LONGEST_MESSAGE, _LONGEST_WORD = 500, 120


def _unexpected(exc: Exception, debug: bool) -> int:
    """An exception no command expects (a bug, or an input check missing): one masked line, or with ``--debug``
    (or ``NBSCHED_DEBUG`` set to anything but ``0``/``false``/``no``) its masked traceback."""
    from nbsched.cli.masking import log_masker

    if debug or os.environ.get("NBSCHED_DEBUG", "").strip().lower() not in ("", "0", "false", "no"):
        import traceback

        text = "".join(traceback.format_exception(exc))
        print(log_masker().text(text), end="", file=sys.stderr)
        return EXIT_BUG
    hint = "a bug in nbsched? run again with --debug or NBSCHED_DEBUG=1 to see its traceback"
    return _fail(log_masker().text(f"unexpected {type(exc).__name__}: {exc} ({hint})") or "", EXIT_BUG)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``nbsched`` command with ``argv`` (default ``sys.argv[1:]``); returns the exit code."""
    parser = build_parser()
    words = list(sys.argv[1:] if argv is None else argv)
    try:
        args = parser.parse_args(_demo_words(words))
    except _UsageError as exc:
        return _fail(str(exc), EXIT_USAGE)
    except SystemExit as exc:  # --help
        return exc.code if isinstance(exc.code, int) else 0
    except Exception as exc:
        return _unexpected(exc, "--debug" in words)
    if args.version:
        import nbsched

        print(f"nbsched {nbsched.__version__}")
        return 0
    if args.command is None:
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    handler = None if args.command == "serve" else _brief_logging()
    try:
        return _commands()[args.command](args)
    except CliError as exc:
        return _fail(str(exc), exc.code)
    except JobLookupError as exc:
        return _fail(exc.message, EXIT_NOT_FOUND)
    except JobStoreError as exc:
        return _fail(f"{type(exc).__name__}: {exc}", EXIT_STORE)
    except NbschedError as exc:
        return _fail(exc.message, EXIT_USAGE)
    except KeyboardInterrupt:
        print("nbsched: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # The reader went away (nbsched list | head): not an error; keep Python from complaining at exit.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_FAILED
    except Exception as exc:
        return _unexpected(exc, getattr(args, "debug", False))
    finally:
        if handler is not None:
            logging.getLogger("nbsched").removeHandler(handler)


def _brief_logging() -> logging.Handler:
    """Warnings of the library as one masked line each on stderr (commands report outcomes themselves)."""
    from nbsched.cli.masking import MaskingFormatter, log_masker

    handler = logging.StreamHandler(sys.stderr)
    handler.setLevel(logging.WARNING)
    handler.setFormatter(MaskingFormatter(None, log_masker, brief=True))
    logging.getLogger("nbsched").addHandler(handler)
    return handler
