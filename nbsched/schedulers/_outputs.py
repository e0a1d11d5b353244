"""Run-output folders: marked with their store, and deleted by the process that can reach them.

A run's outputs are written to ``<data dir>/runs/<job id>/<run id>/`` on the machine that ran it. The scheduler
that prunes or deletes a run removes its folder where it can reach it, but with several machines on one store
the folder is often on another machine's disk. So every scheduler sweeps its own data dir now and then
(:class:`FolderSweeper`): a folder marked with the ``store_id`` of one of its stores whose run that store no
longer holds is deleted, once it has been seen gone at two sweeps in a row (a run's row may still be on its way
at the first). The store is asked in batches, never for its whole run table. Folders without a mark (written by
an older nbsched, or by direct calls under ``_calls/``) or marked by another store are left alone: several
stores may write to one data dir, and a folder is only known to be an orphan by the store that made it.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import threading
from collections.abc import Iterator, Mapping
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pathlib import Path

    from nbsched.abc import JobStore

__all__ = ["BATCH", "MARKER", "SWEEP_INTERVAL", "FolderSweeper", "delete_run_folder", "mark_run_folder"]

#: the file in a run folder naming the store (its ``store_id``) the run is recorded in
MARKER = ".nbsched-store"
#: run ids per question to a store
BATCH = 500
#: how often a scheduler looks for folders of runs that are gone (the first time at its first pruning pass)
SWEEP_INTERVAL = timedelta(minutes=10)


def mark_run_folder(folder: Path, store_id: str | None) -> None:
    """Record in ``folder`` which store its run belongs to (nothing for a store only this process sees)."""
    if store_id is None:
        return
    marker = folder / MARKER
    if marker.exists():
        return  # a retry of the run uses its folder again
    fd = os.open(marker, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as stream:
        stream.write(store_id)


def delete_run_folder(root: Path, folder: Path) -> None:
    """Delete a run folder under ``root`` (never anything outside it), and its job's folder once empty."""
    if folder.is_dir() and folder.resolve().is_relative_to(root.resolve()) and folder.resolve() != root.resolve():
        shutil.rmtree(folder, ignore_errors=True)
        with contextlib.suppress(OSError):
            folder.parent.rmdir()  # the job's folder, once its last run folder is gone


def _marked_folders(root: Path) -> Iterator[tuple[Path, str]]:
    """Each ``<root>/<job id>/<run id>/`` folder with a mark, and the store id it names (a directory walk)."""
    with os.scandir(root) as jobs:
        for job in jobs:
            if not job.is_dir(follow_symlinks=False):
                continue
            with os.scandir(job.path) as runs:
                for run in runs:
                    if not run.is_dir(follow_symlinks=False):
                        continue
                    try:
                        with open(os.path.join(run.path, MARKER)) as stream:
                            store_id = stream.read(200).strip()
                    except OSError:
                        continue  # not marked: not known to be a run of any store here
                    yield root / job.name / run.name, store_id


class FolderSweeper:
    """Finds and deletes the run folders under a data dir whose runs their store no longer holds."""

    def __init__(self) -> None:
        self._suspects: set[Path] = set()  # seen gone at the last sweep
        self._last: datetime | None = None
        self._lock = threading.Lock()  # one sweep at a time (a caller that finds one under way skips its own)

    def due(self, now: datetime) -> bool:
        """Whether a sweep is due at ``now`` (at most one per :data:`SWEEP_INTERVAL`); if so, it counts as done."""
        if self._last is not None and now - self._last < SWEEP_INTERVAL:
            return False
        self._last = now
        return True

    def sweep(self, root: Path, stores: Mapping[str, JobStore]) -> list[Path]:
        """Delete the folders under ``root`` of runs gone from their store at this sweep and the one before.

        :param root: ``<data dir>/runs``
        :param stores: the scheduler's stores; only folders marked with one of their ``store_id`` are looked at
        :return: the folders deleted
        """
        if not self._lock.acquire(blocking=False):
            return []
        try:
            return self._sweep(root, stores)
        finally:
            self._lock.release()

    def _sweep(self, root: Path, stores: Mapping[str, JobStore]) -> list[Path]:
        by_id = {store.store_id: store for store in stores.values() if store.store_id is not None}
        if not by_id or not root.is_dir():
            self._suspects.clear()
            return []
        gone: set[Path] = set()
        pending: dict[str, list[Path]] = {store_id: [] for store_id in by_id}
        for folder, store_id in _marked_folders(root):
            batch = pending.get(store_id)
            if batch is None:
                continue  # another store's run: only a scheduler over that store can tell
            batch.append(folder)
            if len(batch) >= BATCH:
                gone |= _gone(by_id[store_id], batch)
                batch.clear()
        for store_id, batch in pending.items():
            if batch:
                gone |= _gone(by_id[store_id], batch)
        doomed = sorted(gone & self._suspects)
        self._suspects = gone - set(doomed)
        for folder in doomed:
            delete_run_folder(root, folder)
        return doomed


def _gone(store: JobStore, folders: list[Path]) -> set[Path]:
    existing = store.existing_run_ids([folder.name for folder in folders])
    return {folder for folder in folders if folder.name not in existing}
