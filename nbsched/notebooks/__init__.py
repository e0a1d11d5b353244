"""Notebook and cell jobs: task specs, papermill-style parameters, headless runs, warm kernels, outputs.

``Notebook`` and ``Cell`` are the public task specs; the rest is used by the ``notebook`` and ``dask``
executors.
"""

from __future__ import annotations

from nbsched.notebooks.tasks import Cell, Notebook

__all__ = ["Cell", "Notebook"]
