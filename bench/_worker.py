"""Runs one case for one library in this (fresh) process and prints its values as the last line of stdout.

``python -m bench._worker core:firing nbsched [--quick] [--profile]``. With ``--profile`` every thread the
case starts (the scheduler loop, the pool's workers) and the main thread run under cProfile, and the busiest
functions are printed to stderr.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import pstats
import sys
import threading
from typing import Any

RESULT_PREFIX = "BENCH-RESULT "


class _AllThreadsProfile:
    """cProfile for the calling thread and for every thread started while it is active."""

    def __init__(self) -> None:
        self._profiles: list[cProfile.Profile] = []
        self._lock = threading.Lock()

    def _hook(self, *_: Any) -> None:
        # threading calls this at the first event of each new thread; it replaces itself with a profiler.
        sys.setprofile(None)
        profile = cProfile.Profile()
        with self._lock:
            self._profiles.append(profile)
        profile.enable()

    def __enter__(self) -> _AllThreadsProfile:
        threading.setprofile(self._hook)
        self._hook()
        return self

    def __exit__(self, *_: Any) -> None:
        threading.setprofile(None)  # type: ignore[arg-type]  # None removes the hook
        self._profiles[0].disable()

    def print(self, lib: str, limit: int = 25) -> None:
        stats = pstats.Stats(*self._profiles, stream=sys.stderr)
        stats.sort_stats("tottime").print_stats(limit)
        stats.sort_stats("tottime").print_stats(lib, limit)
        stats.sort_stats("cumulative").print_stats(lib, limit)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench._worker", description=__doc__)
    parser.add_argument("case", help="module:function, e.g. core:firing")
    parser.add_argument("lib", choices=("nbsched", "apscheduler"))
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--profile", action="store_true", help="print a cProfile of all threads to stderr")
    args = parser.parse_args(argv)

    from bench._cases import find
    from bench._libs import load

    case = find(args.case)
    lib = load(args.lib)
    if args.profile:
        with _AllThreadsProfile() as profile:
            values = case.func(lib, args.quick)
        profile.print(args.lib)
    else:
        values = case.func(lib, args.quick)
    values["_version"] = lib.version
    print(RESULT_PREFIX + json.dumps(values), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
