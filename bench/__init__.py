"""nbsched's benchmark suite: scheduler-core figures measured against APScheduler 3.11 in the same run.

Run ``python -m bench.run`` from the repository root (see ``bench/README.md``).
"""
