"""Money helpers: the database stores integer cents, records show dollars."""

from __future__ import annotations

import math

__all__ = ["format_usd", "to_cents", "to_dollars"]


def to_cents(dollars: float) -> int:
    """Dollars to whole cents, rounding to the nearest cent.

    Raises:
        ValueError: ``dollars`` is NaN or infinite.
    """
    if not math.isfinite(dollars):
        raise ValueError(f"not a finite amount: {dollars!r}")
    return round(dollars * 100)


def to_dollars(cents: int) -> float:
    return round(cents / 100, 2)


def format_usd(cents: int) -> str:
    """``4999`` -> ``"$49.99"``."""
    return f"${cents / 100:,.2f}"
