"""Where a notebook run may read and write: every path is resolved and checked against its root folder.

A notebook, its working folder and its output files must stay inside their root after ``..`` and symbolic
links are resolved; anything else is refused with a :class:`~nbsched.exceptions.JobArgumentError` that names the
path, what it resolved to and the root.
"""

from __future__ import annotations

import os
from pathlib import Path

from nbsched.exceptions import JobArgumentError

__all__ = ["resolve_root", "resolve_within"]


def resolve_root(root: str | os.PathLike[str] | None, owner: str = "Notebook") -> Path:
    """The absolute, resolved root folder (the current folder when ``root`` is ``None``).

    :raises JobArgumentError: when ``root`` is not an existing folder
    """
    path = Path.cwd() if root is None else Path(root).expanduser()
    resolved = path.resolve()
    if not resolved.is_dir():
        raise JobArgumentError(owner, "root", str(root), "is not an existing folder")
    return resolved


def resolve_within(root: Path, path: str | os.PathLike[str], owner: str = "Notebook", field: str = "path") -> Path:
    """``path`` (relative to ``root`` unless absolute) resolved, refusing anything outside ``root``.

    :param root: an absolute, resolved folder (see :func:`resolve_root`)
    :raises JobArgumentError: ``Notebook: path '../x.ipynb' is outside the root folder '/srv/nb' (resolves to
        '/srv/x.ipynb')``
    """
    text = os.fspath(path)
    if "\0" in text:
        raise JobArgumentError(owner, field, text, "contains a NUL character")
    resolved = (root / Path(text).expanduser()).resolve()
    if not resolved.is_relative_to(root):
        raise JobArgumentError(
            owner,
            field,
            text,
            f"is outside the root folder '{root}' (resolves to '{resolved}'); pass root= to allow it",
        )
    return resolved
