"""What a customer's words name: order ids, days and periods (`tools.mentions`)."""

from __future__ import annotations

from datetime import date

import pytest

from tools.mentions import (
    extract_dates,
    extract_order_ids,
    mentioned_month,
    mentioned_period,
    month_range,
    named_months,
)

TODAY = date(2026, 3, 18)  # a Wednesday


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("charged on March 1st", [date(2026, 3, 1)]),
        ("the Mar 1 payment", [date(2026, 3, 1)]),
        ("on 1 March", [date(2026, 3, 1)]),
        ("on the 3rd of February", [date(2026, 2, 3)]),
        ("2026-03-01", [date(2026, 3, 1)]),
        ("03/01", [date(2026, 3, 1)]),
        ("12/24/2025", [date(2025, 12, 24)]),
        ("yesterday", [date(2026, 3, 17)]),
        ("today", [TODAY]),
        ("last month", [date(2026, 2, 1)]),
        ("last Monday", [date(2026, 3, 16)]),
        ("last Wednesday", [date(2026, 3, 11)]),
        # No year and later than today: the customer means last year.
        ("the December 20 charge", [date(2025, 12, 20)]),
        ("March 1, 2025", [date(2025, 3, 1)]),
        ("Mar 1 and again on 2026-03-01", [date(2026, 3, 1)]),
        ("Feb 10 and March 2", [date(2026, 2, 10), date(2026, 3, 2)]),
        ("no dates here, just 5 seats", []),
        ("February 30", []),
    ],
)
def test_extract_dates(text: str, expected: list[date]) -> None:
    assert extract_dates(text, TODAY) == expected


def test_month_helpers() -> None:
    assert mentioned_month("refund last month's charge") == "last_month"
    assert mentioned_month("something this month") == "this_month"
    assert mentioned_month("in March") is None
    assert month_range("last_month", TODAY) == (date(2026, 2, 1), date(2026, 2, 28))
    assert month_range("this_month", TODAY) == (date(2026, 3, 1), date(2026, 3, 31))
    assert month_range("last_month", date(2026, 1, 5)) == (date(2025, 12, 1), date(2025, 12, 31))


def test_mentioned_period() -> None:
    assert mentioned_period("the charge from last month", TODAY) == (date(2026, 2, 1), date(2026, 2, 28))
    assert mentioned_period("sometime last week", TODAY) == (date(2026, 3, 4), date(2026, 3, 17))
    assert mentioned_period("earlier this week", TODAY) == (date(2026, 3, 16), TODAY)
    assert mentioned_period("on March 3rd", TODAY) is None


def test_extract_order_ids() -> None:
    assert extract_order_ids("refund ORD_101 and ord_7, not ord_101 again") == ["ord_101", "ord_7"]
    assert extract_order_ids("order 101") == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("the october one and Oct 5", {10}),
        ("sept and the 3rd of December", {9, 12}),
        ("charged in May, may I ask why?", {5}),
        ("maybe the marketing add-on? my card was declined, bill me separately", set()),
        ("may I ask about the janitor fee", set()),
    ],
)
def test_named_months(text: str, expected: set[int]) -> None:
    assert named_months(text) == expected
