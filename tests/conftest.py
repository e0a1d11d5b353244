from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests import tasks
from tests.harness import FLAVOURS, Harness
from tests.postgres import postgres_url  # noqa: F401  # the session fixture, for every test folder


@pytest.fixture(autouse=True)
def _clear_calls() -> Iterator[None]:
    tasks.CALLS.clear()
    yield
    tasks.CALLS.clear()


@pytest.fixture(params=FLAVOURS)
def harness(request: pytest.FixtureRequest) -> Iterator[Harness]:
    h = Harness(request.param)
    yield h
    h.shutdown()
