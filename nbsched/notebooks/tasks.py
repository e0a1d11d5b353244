"""Task specs: a notebook or a cell as a job, stored as JSON like any job.

::

    s.add_job(Notebook("reports/daily.ipynb", parameters={"region": "EU"}, timeout=600), "cron", hour=9)
    s.add_job(Cell("refresh_cache()"), "interval", minutes=5)             # headless: a fresh kernel each run
    s.add_job(Cell("df = load()", mode="kernel"), "interval", minutes=5)  # in the kernel that scheduled it

A spec is checked when it is created (the notebook exists inside its root, the parameters are ones its
``parameters`` cell assigns), and read again at every run: a notebook is run as it is on disk at that moment
unless ``snapshot=True`` kept a copy when it was scheduled. Every run records the SHA-256 of what it ran.
Both are :class:`~nbsched.abc.Task` kinds: the notebook executor runs them with ``task.run(context, pool=...)``
(warm kernels, progress, cancellation); calling a spec runs it synchronously.

The classes live in :mod:`nbsched.notebooks.notebook` and :mod:`nbsched.notebooks.cell` (shared options in
:mod:`nbsched.notebooks._common`, field checks in :mod:`nbsched.notebooks._fields`); this module is their
public home.
"""

from __future__ import annotations

from nbsched.notebooks._fields import (
    NAME_CHARS,
    NAME_VALUE_CHARS,
    NOTEBOOK_SECRETS_VERSION,
    OUTPUT_FORMATS,
    STATE_VERSION,
)
from nbsched.notebooks.cell import Cell
from nbsched.notebooks.notebook import Notebook

__all__ = [
    "NAME_CHARS",
    "NAME_VALUE_CHARS",
    "NOTEBOOK_SECRETS_VERSION",
    "OUTPUT_FORMATS",
    "STATE_VERSION",
    "Cell",
    "Notebook",
]
