"""The folders nbsched creates for its store and run outputs are private (0700), parents included."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from nbsched.paths import ensure_private_dir


@pytest.fixture
def usual_umask() -> Iterator[None]:
    previous = os.umask(0o022)  # the common default, which would leave folders 0755
    try:
        yield
    finally:
        os.umask(previous)


def _mode(path: Path) -> int:
    return path.stat().st_mode & 0o777


@pytest.mark.usefixtures("usual_umask")
def test_every_folder_created_is_0700_parents_included(tmp_path: Path) -> None:
    target = tmp_path / "home" / "nbsched" / "runs"
    ensure_private_dir(target)
    assert [_mode(folder) for folder in (target.parents[1], target.parent, target)] == [0o700, 0o700, 0o700]


@pytest.mark.usefixtures("usual_umask")
def test_existing_folders_are_left_as_they_are(tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    shared.mkdir(mode=0o755)
    ensure_private_dir(shared / "nbsched")
    assert _mode(shared) == 0o755
    assert _mode(shared / "nbsched") == 0o700
    (shared / "nbsched").chmod(0o750)
    ensure_private_dir(shared / "nbsched")  # exists: not changed
    assert _mode(shared / "nbsched") == 0o750


def test_a_file_in_the_way_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("")
    with pytest.raises(FileExistsError):
        ensure_private_dir(tmp_path / "file" / "sub")
