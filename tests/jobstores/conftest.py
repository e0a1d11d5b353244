"""Fixtures of the job-store tests: one store per backend (memory, SQLite file, real PostgreSQL)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text

from nbsched.abc import JobStore
from nbsched.jobstores.memory import MemoryJobStore
from nbsched.jobstores.sqlalchemy import SQLAlchemyJobStore
from tests.postgres import reset_database  # the postgres_url session fixture comes from tests/conftest.py

__all__ = ["Backend", "StubScheduler"]

BACKENDS = ["memory", "sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "postgres: needs a real PostgreSQL server (tests/postgres.py starts one)")


class StubScheduler:
    """Stands in for a scheduler: stores bind jobs to it, and change listeners call :meth:`wakeup`."""

    def __init__(self) -> None:
        self.woken = threading.Event()
        self.wakeups = 0

    def wakeup(self) -> None:
        self.wakeups += 1
        self.woken.set()


class Backend:
    """One database for one test; makes any number of stores over it and tampers with rows."""

    def __init__(self, name: str, url: str | None) -> None:
        self.name = name
        self.url = url
        self.scheduler = StubScheduler()
        self._stores: list[JobStore] = []
        self._memory: MemoryJobStore | None = None

    @property
    def persistent(self) -> bool:
        return self.name != "memory"

    def store(self, **options: Any) -> JobStore:
        """A started store over this backend's database (the memory backend has one store)."""
        if self.name == "memory":
            if self._memory is None:
                self._memory = MemoryJobStore()
                self._memory.start(self.scheduler, "default")  # type: ignore[arg-type]
                self._stores.append(self._memory)
            return self._memory
        store = SQLAlchemyJobStore(url=self.url, **options)
        store.start(self.scheduler, "default")  # type: ignore[arg-type]
        self._stores.append(store)
        return store

    def execute(self, sql: str, **params: Any) -> list[Any]:
        """Run SQL on the database directly (to corrupt rows as another program would)."""
        assert self.url is not None
        engine = create_engine(self.url)
        try:
            with engine.begin() as conn:
                result = conn.execute(text(sql), params)
                return list(result) if result.returns_rows else []
        finally:
            engine.dispose()

    def close(self) -> None:
        for store in self._stores:
            store.shutdown()


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    name = request.param
    url: str | None = None
    if name == "sqlite":
        url = f"sqlite:///{tmp_path / 'jobs.db'}"
    elif name == "postgresql":
        url = request.getfixturevalue("postgres_url")
        reset_database(url)
    backend = Backend(name, url)
    try:
        yield backend
    finally:
        backend.close()


@pytest.fixture
def store(backend: Backend) -> JobStore:
    return backend.store()


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'nbsched.db'}"


@pytest.fixture
def pg_url(postgres_url: str) -> str:
    reset_database(postgres_url)
    return postgres_url


@pytest.fixture
def open_store() -> Iterator[Callable[..., SQLAlchemyJobStore]]:
    """Open SQLAlchemyJobStores that are shut down after the test."""
    stores: list[SQLAlchemyJobStore] = []

    def opener(*args: Any, **kwargs: Any) -> SQLAlchemyJobStore:
        store = SQLAlchemyJobStore(*args, **kwargs)
        stores.append(store)
        return store

    yield opener
    for store in stores:
        store.shutdown()
