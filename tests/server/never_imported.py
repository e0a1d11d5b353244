"""Imported only if a function reference is resolved: the security tests check that it never is."""

from __future__ import annotations


def func() -> None:
    raise AssertionError("tests.server.never_imported:func must never run")
