"""Importable job functions for the server tests (function jobs travel by reference)."""

from __future__ import annotations

from pathlib import Path


def write_marker(path: str, text: str = "ran") -> str:
    """Write ``text`` to ``path``: the proof that the server's scheduler ran the job."""
    Path(path).write_text(text, encoding="utf-8")
    return text


def login(password: str) -> None:
    """Fail with a message holding ``password`` (a parameter secret by its name)."""
    raise RuntimeError(f"login with {password} refused")
