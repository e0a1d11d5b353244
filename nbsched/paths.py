"""Where nbsched keeps its data: the default database and the run output folders.

``<data dir>`` is ``$NBSCHED_HOME`` when set, else ``<jupyter data dir>/nbsched``. The default store is
``sqlite:///<data dir>/nbsched.db`` unless ``$NBSCHED_DB_URL`` names another database; run outputs go to
``<data dir>/runs/<job id>/<run id>/``. Folders are created mode 0700 and the SQLite file 0600: a job store holds
job arguments and run tracebacks, which are nobody else's business.
"""

from __future__ import annotations

import os
from pathlib import Path

from nbsched.exceptions import InvalidArgumentError

__all__ = ["data_dir", "default_db_url", "ensure_private_dir", "ensure_private_file", "runs_dir"]

#: environment variable naming the data directory
HOME_ENV = "NBSCHED_HOME"
#: environment variable naming the database URL of the default store
DB_URL_ENV = "NBSCHED_DB_URL"


def data_dir(create: bool = True) -> Path:
    """The data directory: ``$NBSCHED_HOME``, else ``<jupyter data dir>/nbsched``.

    :param create: create it (mode 0700) when missing
    """
    home = os.environ.get(HOME_ENV)
    if home:
        path = Path(home).expanduser()
    else:
        from jupyter_core.paths import jupyter_data_dir

        path = Path(jupyter_data_dir()) / "nbsched"
    if create:
        ensure_private_dir(path)
    return path


def default_db_url() -> str:
    """The database URL of the default store: ``$NBSCHED_DB_URL``, else the SQLite file in :func:`data_dir`."""
    url = os.environ.get(DB_URL_ENV)
    if url:
        return url
    return f"sqlite:///{data_dir() / 'nbsched.db'}"


def runs_dir(job_id: str, run_id: str) -> Path:
    """The output folder of one run, ``<data dir>/runs/<job id>/<run id>/``, created mode 0700.

    :raises InvalidArgumentError: (a ``ValueError``) when an id would leave the runs folder (``..``, a path
        separator, empty)
    """
    for name, value in (("job_id", job_id), ("run_id", run_id)):
        if folder_name_problem(value):
            raise InvalidArgumentError("runs_dir", name, value, "cannot be used as a folder name")
    base = data_dir() / "runs"
    ensure_private_dir(base)
    ensure_private_dir(base / job_id)
    path = base / job_id / run_id
    ensure_private_dir(path)
    return path


def folder_name_problem(name: str) -> str | None:
    """Why ``name`` cannot name a folder of its own (empty, ``.``/``..``, a path separator (``/`` or ``\\``),
    NUL, longer than a file system takes: 255 bytes in UTF-8), or ``None``."""
    if not name or name in {".", ".."}:
        return "is not a folder name"
    if "/" in name or "\\" in name or os.sep in name or "\0" in name:
        return "contains a path separator or NUL"
    if len(name.encode("utf-8", "surrogatepass")) > 255:
        return "is longer than a folder name can be (255 bytes in UTF-8)"
    return None


def ensure_private_dir(path: Path) -> None:
    """Create ``path`` and each missing parent mode 0700; folders that exist are left as they are.

    :raises FileExistsError: when ``path`` or a parent exists and is not a folder
    """
    if path.is_dir():
        return
    missing: list[Path] = []
    folder = path
    while not folder.is_dir() and folder.parent != folder:
        missing.append(folder)
        folder = folder.parent
    # One by one: mkdir(parents=True) gives the parents it creates the default mode (0777 minus the umask).
    for folder in reversed(missing):
        try:
            folder.mkdir(mode=0o700)
        except FileExistsError:
            if not folder.is_dir():
                raise
            continue  # made meanwhile by someone else (another process starting up): theirs to set
        os.chmod(folder, 0o700)  # mkdir's mode is narrowed by the umask; 0700 is what the owner needs


def ensure_private_file(path: Path) -> None:
    """Create an empty file at ``path`` mode 0600 (its folder 0700) unless it exists already.

    Done before SQLite opens a database file so that it is never readable by others, not even briefly.
    """
    ensure_private_dir(path.parent)
    try:
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    except FileExistsError:
        return
    os.close(fd)
