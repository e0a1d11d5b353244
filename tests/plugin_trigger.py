"""A third-party trigger, registered in a test through a fake entry point."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from nbsched.abc import Trigger


class EveryTenSeconds(Trigger):
    alias = "every10"

    def __init__(self, timezone: Any = None) -> None:
        self.timezone = timezone

    def get_next_fire_time(self, previous_fire_time: datetime | None, now: datetime) -> datetime | None:
        return (previous_fire_time or now) + timedelta(seconds=10)

    def to_dict(self) -> dict[str, Any]:
        return {"type": self.alias, "version": 1}

    @classmethod
    def from_dict(cls, state: dict[str, Any]) -> EveryTenSeconds:
        return cls()
