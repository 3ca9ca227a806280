"""Where "today" comes from, so every date rule can be tested on any day."""

from __future__ import annotations

import os
import re
from datetime import UTC, date, datetime, time
from typing import Protocol

__all__ = ["Clock", "FixedClock", "SystemClock", "clock_from_env"]

_ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


class Clock(Protocol):
    def today(self) -> date: ...

    def now(self) -> datetime:
        """The current time, timezone-aware in UTC."""
        ...


class SystemClock:
    """Real time; "today" is the UTC date so it agrees with ``now()``."""

    def today(self) -> date:
        return self.now().date()

    def now(self) -> datetime:
        return datetime.now(UTC)


class FixedClock:
    """A clock stuck on one day (at 12:00 UTC), for tests and demos."""

    def __init__(self, day: date) -> None:
        self.day = day

    def today(self) -> date:
        return self.day

    def now(self) -> datetime:
        return datetime.combine(self.day, time(12, 0), tzinfo=UTC)

    def __repr__(self) -> str:
        return f"FixedClock({self.day.isoformat()})"


def clock_from_env() -> Clock:
    """A ``FixedClock`` when ``SUPPORT_TODAY=YYYY-MM-DD`` is set, else the ``SystemClock``.

    Raises:
        ValueError: ``SUPPORT_TODAY`` is set but is not a valid ``YYYY-MM-DD`` date.
    """
    raw = os.environ.get("SUPPORT_TODAY", "").strip()
    if not raw:
        return SystemClock()
    try:
        if not _ISO_DAY.fullmatch(raw):
            raise ValueError(raw)
        day = date.fromisoformat(raw)
    except ValueError:
        raise ValueError(f"SUPPORT_TODAY must be a date like 2026-11-25, got {raw!r}") from None
    return FixedClock(day)
