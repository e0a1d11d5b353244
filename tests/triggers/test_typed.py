"""Schedules typed by people (nbsched.triggers.typed): the edge cases of the one interval parser."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest

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


def test_long_input_is_refused_at_once() -> None:
    # Before the length check, this took seconds: the pattern backtracked over the spaces.
    started = time.perf_counter()
    with pytest.raises(InvalidArgumentError):
        parse_every("1m" + " " * 16000 + "!", "JobCreate", "trigger.every")
    assert time.perf_counter() - started < 1.0


def test_dashed_values_are_joined_to_their_option() -> None:
    options = {"--every", "--at", "--name"}
    assert join_dashed_values(["--every", "-5m", "--name", "x"], options) == ["--every=-5m", "--name", "x"]
    assert join_dashed_values(["--every", "--name", "x"], options) == ["--every", "--name", "x"]
