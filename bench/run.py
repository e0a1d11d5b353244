"""Run the benchmark suite: nbsched against APScheduler 3.11, measured in the same run.

``python -m bench.run`` (or ``python bench/run.py``) from the repository root. ``--quick`` is a smoke run
(smaller counts, one run each, under a minute); ``--only NAME`` (repeatable) keeps the cases or figures whose
name or id contains NAME. Every measurement runs in a fresh subprocess per library and run, the libraries
alternating, so garbage, threads and warm caches never carry over. Prints one table and writes
``bench/results/latest.json`` (``quick.json`` with ``--quick``). The notebook-job figures (``bench/notebooks.py``)
compare nbsched with papermill instead, in a second table; ``--only notebook`` runs just those, ``--no-notebooks``
leaves them out.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make the `bench` package importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._cases import CASES
from bench._libs import LIBRARIES
from bench._measure import Case, Figure, ratio, summarise
from bench._worker import RESULT_PREFIX
from bench.notebooks import rows as notebook_rows

__all__ = ["main"]

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
HEADERS = {"nbsched": "nbsched", "apscheduler": "APScheduler"}


def _run_worker(case: Case, lib: str, quick: bool) -> dict[str, Any]:
    command = [sys.executable, "-m", "bench._worker", case.name, lib, *(["--quick"] if quick else [])]
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    completed = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=900, check=False)
    for line in reversed(completed.stdout.splitlines()):
        if line.startswith(RESULT_PREFIX):
            return dict(json.loads(line[len(RESULT_PREFIX) :]))
    tail = "\n".join((completed.stderr or completed.stdout).strip().splitlines()[-15:])
    return {"_error": f"exit {completed.returncode}: {tail}"}


def _select(only: list[str]) -> list[tuple[Case, list[Figure]]]:
    selected = []
    for case in CASES:
        if not only or any(name in case.name for name in only):
            selected.append((case, list(case.figures)))
            continue
        figures = [figure for figure in case.figures if any(name in figure.id for name in only)]
        if figures:
            selected.append((case, figures))
    return selected


def _format(value: float | None) -> str:
    if value is None:
        return "—"  # no value: the notes under the table say why
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    if abs(value) >= 100:
        return f"{value:.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def _ratio_text(row: dict[str, Any]) -> str:
    if row["ratio"] is not None:
        # An informational row's ratio is shown in brackets: it is not a target (the note under the table says why).
        return f"({row['ratio']:.2f}x)" if row["informational"] else f"{row['ratio']:.2f}x"
    if row["nbsched"] is not None and row["apscheduler"] is not None:
        return "≈0 both" if max(row["nbsched"], row["apscheduler"]) <= row["noise"] else "n/a"
    return "n/a"


def _table(rows: list[dict[str, Any]]) -> str:
    header = ["figure", "unit", HEADERS["nbsched"], HEADERS["apscheduler"], "ratio", "stat"]
    lines = [
        [
            row["title"],
            row["unit"],
            _format(row["nbsched"]),
            _format(row["apscheduler"]),
            _ratio_text(row),
            f"{row['stat']} of {row['runs']}",
        ]
        for row in rows
    ]
    widths = [max(len(str(cell)) for cell in column) for column in zip(header, *lines, strict=True)]
    right = {2, 3, 4}

    def render(cells: list[str]) -> str:
        return "  ".join(
            cell.rjust(width) if index in right else cell.ljust(width)
            for index, (cell, width) in enumerate(zip(cells, widths, strict=True))
        ).rstrip()

    rule = "  ".join("-" * width for width in widths)
    return "\n".join([render(header), rule, *(render(line) for line in lines)])


def _papermill_table(rows: list[dict[str, Any]]) -> str:
    """The notebook rows: nbsched beside papermill, ratio > 1 when nbsched is better."""
    header = ["figure (notebook jobs)", "unit", "nbsched", "papermill", "ratio"]
    lines = []
    for row in rows:
        ours, theirs = row["nbsched"], row["reference"]
        value = theirs / ours if row["better"] == "lower" else ours / theirs
        lines.append([row["name"], row["unit"], _format(ours), _format(theirs), f"{value:.2f}x"])
    widths = [max(len(str(cell)) for cell in column) for column in zip(header, *lines, strict=True)]

    def render(cells: list[str]) -> str:
        return "  ".join(
            cell.rjust(width) if index >= 2 else cell.ljust(width)
            for index, (cell, width) in enumerate(zip(cells, widths, strict=True))
        ).rstrip()

    rule = "  ".join("-" * width for width in widths)
    return "\n".join([render(header), rule, *(render(line) for line in lines)])


def _fire_time_checks(samples: dict[str, list[dict[str, Any]]], figures: list[Figure]) -> list[str]:
    """Compare the fire-time fingerprints both libraries reported for the trigger walks of ``figures``."""
    notes, same = [], []
    first = {lib: next((run for run in samples[lib] if "_error" not in run), {}) for lib in LIBRARIES}
    for key in (f"_fires_{figure.id}" for figure in figures):
        if key not in first["nbsched"]:
            continue
        ours, theirs = first["nbsched"][key], first["apscheduler"].get(key)
        if theirs is None:
            continue
        name = key.removeprefix("_fires_")
        if ours["sha1"] == theirs["sha1"]:
            same.append(f"{name} ({ours['count']})")
            continue
        differing = [i for i in ours["samples"] if ours["samples"][i] != theirs["samples"].get(i)]
        where = f"first sampled difference at fire #{differing[0]}" if differing else "between samples"
        notes.append(
            f"{name}: FIRE TIMES DIFFER ({ours['count']} vs {theirs['count']} fires, {where}) -- "
            "its timing compares different work"
        )
    if same:
        notes.insert(0, f"same fire times in both libraries (fires walked): {', '.join(same)}")
    return notes


def _timer_floor_note(samples: dict[str, list[dict[str, Any]]]) -> list[str]:
    """The machine's timer floor measured in the lateness case's processes (bench/lateness.py timer_floor)."""
    runs = [run for lib in LIBRARIES for run in samples[lib] if "_timer_p99" in run]
    if not runs:
        return []
    parts = []
    for key in ("p50", "p99", "max"):
        values = sorted(run[f"_timer_{key}"] for run in runs)
        parts.append(f"{key} {statistics.median(values):.2f} ms (runs {values[0]:.2f}-{values[-1]:.2f})")
    return [
        f"timer floor of this machine, a bare Event.wait of 0.2-3 ms with no scheduler, in the same {len(runs)} "
        f"processes: overrun {', '.join(parts)}; lateness figures within it are the machine's, not a library's"
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="smoke run: smaller counts, one run each (< 60 s)")
    parser.add_argument("--only", action="append", default=[], metavar="NAME", help="case or figure id substring")
    parser.add_argument("--runs", type=int, help="override the runs per case and library")
    parser.add_argument(
        "--output",
        type=Path,
        help="where to write the JSON (default bench/results/latest.json, quick.json with --quick)",
    )
    parser.add_argument("--no-notebooks", action="store_true", help="leave out the notebook rows (vs papermill)")
    args = parser.parse_args(argv)

    output = args.output or RESULTS / ("quick.json" if args.quick else "latest.json")
    selected = _select(args.only)
    with_notebooks = not args.no_notebooks and (not args.only or any(name in "notebook" for name in args.only))
    if not selected and not with_notebooks:
        parser.error(f"--only {args.only} matches nothing; cases: {', '.join(case.name for case in CASES)}, notebook")

    load_before = _load()
    started = time.perf_counter()
    rows: list[dict[str, Any]] = []
    notes: list[str] = []
    versions: dict[str, str] = {}
    for case, figures in selected:
        runs = args.runs or (case.quick_runs if args.quick else case.runs)
        samples: dict[str, list[dict[str, Any]]] = {lib: [] for lib in LIBRARIES}
        for run in range(runs):
            # Alternate which library goes first, so slow drift of the machine hits both alike.
            for lib in LIBRARIES if run % 2 == 0 else reversed(LIBRARIES):
                print(f"  {case.name} [{lib}] run {run + 1}/{runs}", file=sys.stderr, flush=True)
                result = _run_worker(case, lib, args.quick)
                samples[lib].append(result)
                if "_error" in result:
                    # The note keeps the last line (the exception); the JSON keeps the traceback's tail.
                    last = result["_error"].strip().splitlines()[-1]
                    notes.append(f"{case.name} [{lib}] run {run + 1} failed: {last}")
                versions.setdefault(lib, result.get("_version", "?"))
                for key, value in result.items():
                    if key.startswith("_missing_"):
                        note = f"{key.removeprefix('_missing_')} [{lib}]: {value}"
                        if note not in notes:  # once, not once per run
                            notes.append(note)
        notes.extend(_fire_time_checks(samples, figures))
        notes.extend(_timer_floor_note(samples))
        notes.extend(
            f"{figure.title}: informational, not a target, hence its ratio in brackets: {figure.informational}"
            for figure in figures
            if figure.informational
        )
        for figure in figures:
            values = {lib: [run.get(figure.id) for run in samples[lib]] for lib in LIBRARIES}
            summary = {lib: summarise([v for v in values[lib] if v is not None], figure) for lib in LIBRARIES}
            rows.append(
                {
                    "id": figure.id,
                    "title": figure.title,
                    "unit": figure.unit,
                    "better": figure.better,
                    "stat": figure.stat,
                    "runs": runs,
                    "noise": figure.noise,
                    "informational": figure.informational,
                    "nbsched": summary["nbsched"],
                    "apscheduler": summary["apscheduler"],
                    "ratio": ratio(summary["nbsched"], summary["apscheduler"], figure),
                    "samples": values,
                    "extras": {
                        lib: [
                            {k: v for k, v in run.items() if k.startswith("_") and not k.startswith("_fires_")}
                            for run in samples[lib]
                        ]
                        for lib in LIBRARIES
                    },
                }
            )
    papermill: list[dict[str, Any]] = []
    if with_notebooks:
        print("  notebook rows [nbsched, papermill]", file=sys.stderr, flush=True)
        try:
            papermill = notebook_rows(args.quick)
        except RuntimeError as exc:
            notes.append(f"notebook rows failed: {str(exc).strip().splitlines()[-1]}")
    elapsed = time.perf_counter() - started

    meta = {
        "date": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "quick": args.quick,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "versions": versions,
        "seconds": round(elapsed, 1),
        "load_average": {"before": load_before, "after": _load()},
        "commit": _git_commit(),
    }
    print()
    print(
        f"nbsched {versions.get('nbsched', '?')} vs APScheduler {versions.get('apscheduler', '?')} -- "
        f"Python {meta['python']}, {meta['cpus']} CPUs, {'quick' if args.quick else 'default'} run, "
        f"{elapsed:.0f} s"
    )
    print("ratio > 1 means nbsched is better: nbsched/APScheduler for rates, APScheduler/nbsched for costs.")
    loads = [load for load in (load_before, meta["load_average"]["after"]) if load is not None]
    if loads and max(loads) > 0.5:
        # Other work on the machine shows in every figure that involves threads: say so next to the numbers.
        print(f"note: 1-min load average was {' -> '.join(f'{load:.1f}' for load in loads)} -- the machine was busy.")
    if args.quick:
        print("--quick: smaller counts than the titles say and one run each; a smoke test, not a result.")
    if rows:
        print()
        print(_table(rows))
    if papermill:
        print()
        print(_papermill_table(papermill))
    if notes:
        print()
        for note in notes:
            print(f"* {note}")

    output.parent.mkdir(parents=True, exist_ok=True)
    document = {"meta": meta, "rows": rows, "papermill_rows": papermill, "notes": notes}
    output.write_text(json.dumps(document, indent=2) + "\n")
    print(f"\nwrote {output.relative_to(ROOT) if output.is_relative_to(ROOT) else output}")
    return 1 if any("failed" in note for note in notes) else 0


def _load() -> float | None:
    """The 1-minute load average (``None`` where the OS has none)."""
    try:
        return round(os.getloadavg()[0], 2)
    except (AttributeError, OSError):
        return None


def _git_commit() -> str | None:
    try:
        completed = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=False
        )
    except OSError:
        return None
    return completed.stdout.strip() or None


if __name__ == "__main__":
    sys.exit(main())
