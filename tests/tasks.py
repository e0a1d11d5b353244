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
