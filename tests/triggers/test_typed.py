"""Schedules typed by people (nbsched.triggers.typed): the edge cases of the one interval parser."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest

import nbsched.triggers.typed as typed
from nbsched.exceptions import InvalidArgumentError
from nbsched.triggers.typed import join_dashed_values, parse_every


@pytest.mark.parametrize(
    ("text", "interval"),
    [
        ("5m", timedelta(minutes=5)),
        ("1h30m", timedelta(hours=1, minutes=30)),
        ("1h 30m", timedelta(hours=1, minutes=30)),
        ("1 hour, 30 minutes", timedelta(hours=1, minutes=30)),
        ("2 days", timedelta(days=2)),
        ("90", timedelta(seconds=90)),
        ("1.5h", timedelta(hours=1.5)),
    ],
)
def test_intervals_people_type(text: str, interval: timedelta) -> None:
    assert parse_every(text, "add", "--every") == interval


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("0.0000001s", "add: --every '0.0000001s' must be longer than zero"),  # below a timedelta's microsecond
        ("-5m", "add: --every '-5m' must be longer than zero"),
        ("5x", "add: --every '5x' has an unknown unit 'x' (e.g. '5m', '1h30m', '90s')"),
        ("1" * 400, f"add: --every '{'1' * 40}...' is too long to be a duration (400 characters)"),
    ],
)
def test_bad_intervals_are_named(text: str, message: str) -> None:
    with pytest.raises(InvalidArgumentError) as info:
        parse_every(text, "add", "--every")
    assert str(info.value) == message


def test_long_input_is_refused_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    # Before the length check, this took seconds: the pattern backtracked over the spaces. Refused before any
    # pattern sees it.
    used: list[str] = []

    class Spy:
        def __init__(self, name: str, pattern: re.Pattern[str]) -> None:
            self.name, self.pattern = name, pattern

        def __getattr__(self, attribute: str) -> Any:
            used.append(f"{self.name}.{attribute}")
            return getattr(self.pattern, attribute)

    for name in ("_DURATION", "_SECONDS", "_PART"):
        monkeypatch.setattr(typed, name, Spy(name, getattr(typed, name)))
    assert parse_every("1h 30m", "JobCreate", "trigger.every") == timedelta(minutes=90)
    assert used  # the spies see the patterns used
    used.clear()
    with pytest.raises(InvalidArgumentError, match="is too long to be a duration"):
        parse_every("1m" + " " * 16000 + "!", "JobCreate", "trigger.every")
    assert used == []


def test_dashed_values_are_joined_to_their_option() -> None:
    options = {"--every", "--at", "--name"}
    assert join_dashed_values(["--every", "-5m", "--name", "x"], options) == ["--every=-5m", "--name", "x"]
    assert join_dashed_values(["--every", "--name", "x"], options) == ["--every", "--name", "x"]
