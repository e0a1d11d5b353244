"""Importable job functions for tests (jobs that travel by reference must live in a module)."""

from __future__ import annotations

import os
import time
from typing import Any

CALLS: list[Any] = []


def record(value: Any = None) -> Any:
    CALLS.append(value)
    return value


def add(a: int, b: int) -> int:
    return a + b


def fail(message: str = "boom") -> None:
    raise RuntimeError(message)


def pid() -> int:
    return os.getpid()


def sleep(seconds: float) -> float:
    time.sleep(seconds)
    return seconds


async def async_add(a: int, b: int) -> int:
    return a + b


async def async_fail() -> None:
    raise ValueError("async boom")


def log_execution(job_id: str, folder: str) -> None:
    """Append the job id to this process's execution log (O_APPEND: one line per call, never torn)."""
    path = os.path.join(folder, f"{os.getpid()}.log")
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    try:
        os.write(fd, f"{job_id}\n".encode())
    finally:
        os.close(fd)


def touch_then_sleep(path: str, seconds: float) -> None:
    """Create ``path`` (so a test sees the run started), then keep running."""
    with open(path, "w") as handle:
        handle.write(str(os.getpid()))
    time.sleep(seconds)
