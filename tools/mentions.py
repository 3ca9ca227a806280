"""What a customer's words name besides amounts: order ids, days and periods ("March 1st", "last month").

Read by code, for every model: the prompt shows a model an older charge when the customer's words name it
(`nodes.prompts`). The offline model reads the same words with the same functions. Amounts are read by
`tools.amounts`.
"""

from __future__ import annotations

import calendar
import re
from datetime import date, timedelta
from typing import Literal

__all__ = [
    "MONTH_ALONE_RE",
    "MONTH_NAMES",
    "extract_dates",
    "extract_order_ids",
    "mentioned_month",
    "mentioned_period",
    "month_range",
    "named_months",
]

_ORDER_RE = re.compile(r"\bord_\d+\b", re.IGNORECASE)


def extract_order_ids(text: str) -> list[str]:
    """Order ids such as "ord_101", lowercased, unique, in order of appearance."""
    return list(dict.fromkeys(order.lower() for order in _ORDER_RE.findall(text)))


# --------------------------------------------------------------------------- dates

_MONTHS = {name.lower(): number for number, name in enumerate(calendar.month_name) if name}
_MONTHS |= {name[:3]: number for name, number in _MONTHS.items()} | {"sept": 9}
MONTH_NAMES = "|".join(sorted(_MONTHS, key=len, reverse=True))
_DAY = r"(?P<day>[0-3]?\d)(?:st|nd|rd|th)?"
_YEAR = r"(?:,?\s+(?P<year>\d{4}))?"

_ISO_RE = re.compile(r"\b(?P<year>\d{4})-(?P<month>\d{1,2})-(?P<day>\d{1,2})\b")
_MONTH_DAY_RE = re.compile(rf"\b(?P<mon>{MONTH_NAMES})\.?\s+(?:the\s+)?{_DAY}\b{_YEAR}", re.IGNORECASE)
_DAY_MONTH_RE = re.compile(rf"\b(?:the\s+)?{_DAY}\s+(?:of\s+)?(?P<mon>{MONTH_NAMES})\b\.?{_YEAR}", re.IGNORECASE)
_SLASH_RE = re.compile(r"(?<![\d/])(?P<month>\d{1,2})/(?P<day>\d{1,2})(?:/(?P<year>\d{2}|\d{4}))?(?![\d/])")
_WEEKDAYS = [name.lower() for name in calendar.day_name]
_RELATIVE_RE = re.compile(
    r"\b(?P<word>today|yesterday|day before yesterday|last month|this month"
    rf"|(?:last|this|on)\s+(?:{'|'.join(_WEEKDAYS)}))\b",
    re.IGNORECASE,
)


def _safe_date(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _with_year(month: int, day: int, year: str | None, today: date) -> date | None:
    """A day without a year means its latest occurrence not after today (customers talk about the past)."""
    if year is not None:
        full = int(year)
        return _safe_date(full + 2000 if full < 100 else full, month, day)
    this_year = _safe_date(today.year, month, day)
    if this_year is not None and this_year <= today:
        return this_year
    return _safe_date(today.year - 1, month, day)


def _first_of_previous_month(today: date) -> date:
    return (today.replace(day=1) - timedelta(days=1)).replace(day=1)


_DAYS_BACK = {"today": 0, "yesterday": 1, "day before yesterday": 2}


def _relative(word: str, today: date) -> date | None:
    word = " ".join(word.lower().split())
    if word in _DAYS_BACK:
        return today - timedelta(days=_DAYS_BACK[word])
    if word == "last month":
        return _first_of_previous_month(today)
    if word == "this month":
        return today.replace(day=1)
    qualifier, weekday = word.split()
    target = _WEEKDAYS.index(weekday)
    back = (today.weekday() - target) % 7
    if qualifier == "last" and back == 0:
        back = 7  # "last Monday" said on a Monday means a week ago
    return today - timedelta(days=back)


def extract_dates(text: str, today: date) -> list[date]:
    """Calendar dates mentioned in a message, in order of appearance, without duplicates.

    Understood forms: ISO "2026-03-01"; "March 1st", "Mar 1", "March 1, 2026"; "1 March", "the 1st of
    March"; US-style "03/01" and "03/01/2026" (month first); "today", "yesterday", "last Monday"/"on
    Monday" (the latest such day, a week ago if today is Monday for "last"). "this month" and "last
    month" are returned as the *first day* of that month; use `mentioned_period` when the whole
    period matters ("last week" is only a period, so it is not returned here). A date without a year
    is the latest such date not after `today` (the account's "today"), because customers ask about
    charges that already happened.
    """
    found: list[tuple[int, int, date]] = []  # (start, end, date), no two spans overlapping

    def add(match: re.Match[str], value: date | None) -> None:
        start, end = match.span()
        if value is not None and not any(start < e and s < end for s, e, _ in found):
            found.append((start, end, value))

    for match in _ISO_RE.finditer(text):
        add(match, _safe_date(int(match["year"]), int(match["month"]), int(match["day"])))
    for pattern in (_MONTH_DAY_RE, _DAY_MONTH_RE):
        for match in pattern.finditer(text):
            add(match, _with_year(_MONTHS[match["mon"].lower()], int(match["day"]), match["year"], today))
    for match in _SLASH_RE.finditer(text):
        add(match, _with_year(int(match["month"]), int(match["day"]), match["year"], today))
    for match in _RELATIVE_RE.finditer(text):
        add(match, _relative(match["word"], today))
    return list(dict.fromkeys(value for _, _, value in sorted(found)))


def mentioned_month(text: str) -> Literal["this_month", "last_month"] | None:
    """Whether the message talks about "this month" or "last month" (also "previous month")."""
    lowered = text.lower()
    if re.search(r"\b(?:last|previous|past)\s+month\b|\blast month'?s\b", lowered):
        return "last_month"
    if re.search(r"\b(?:this|current)\s+month\b|\bthis month'?s\b", lowered):
        return "this_month"
    return None


def month_range(which: Literal["this_month", "last_month"], today: date) -> tuple[date, date]:
    """First and last day (inclusive) of this month or last month relative to `today`."""
    first = today.replace(day=1) if which == "this_month" else _first_of_previous_month(today)
    return first, first.replace(day=calendar.monthrange(first.year, first.month)[1])


_COUNTS = {"a": 1, "an": 1, "one": 1, "two": 2, "couple of": 2, "a couple of": 2, "three": 3, "few": 3, "a few": 3}
_COUNTS |= {"four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12}
_AGO_RE = re.compile(
    rf"\b(?P<n>\d{{1,2}}|{'|'.join(sorted(_COUNTS, key=len, reverse=True))})\s+"
    r"(?P<unit>months?|weeks?|days?)\s+(?:ago|back)\b"
)


# A month named on its own ("the october one", "in sept"), not as part of a date ("oct 5", "5th of october").
MONTH_ALONE_RE = re.compile(
    rf"(?<!\d )(?<!\d(?:st|nd|rd|th) )(?<!of )\b(?P<mon>{MONTH_NAMES})\b(?!\.?\s+(?:the\s+)?\d)", re.IGNORECASE
)

_MONTH_WORD_RE = re.compile(rf"\b({MONTH_NAMES})\b", re.IGNORECASE)
_MAY_MONTH_RE = re.compile(r"\b(?:in|from|the|since|for|during|of) may\b")  # the month, not the verb


def mentioned_period(text: str, today: date) -> tuple[date, date] | None:
    """The span of days (first, last) a message refers to with "this/last month" or "this/last week", or None.

    Months are calendar months. "This week" runs from Monday to today. "Last week" is read loosely
    as the 14 days before today, because customers say it of anything from a few days to two weeks
    ago. A month named alone ("the October charge") is that whole month, the latest one not after today.
    """
    month = mentioned_month(text)
    if month:
        return month_range(month, today)
    lowered = text.lower()
    ago = _AGO_RE.search(lowered)
    if ago:
        count = int(ago["n"]) if ago["n"].isdigit() else _COUNTS[ago["n"]]
        if ago["unit"].startswith("month"):  # "two months ago": that calendar month
            year, index = divmod(today.year * 12 + today.month - 1 - count, 12)
            return month_range("this_month", date(year, index + 1, 1))
        # A unit of slack either side: people round weeks loosely, days hardly.
        unit = 7 if ago["unit"].startswith("week") else 1
        return today - timedelta(days=(count + 1) * unit), min(today, today - timedelta(days=(count - 1) * unit))
    if re.search(r"\b(?:last|past|previous)\s+week\b", lowered):
        return today - timedelta(days=14), today - timedelta(days=1)
    if re.search(r"\bthis\s+week\b", lowered):
        return today - timedelta(days=today.weekday()), today
    named = MONTH_ALONE_RE.search(lowered)
    if named and named["mon"] == "may" and not _MAY_MONTH_RE.search(lowered):
        named = None  # "may I ask": the verb, not the month
    if named:  # "the october subscription": that month's latest occurrence, unless a day is given with it
        number = _MONTHS[named["mon"].rstrip(".")]
        return month_range("this_month", date(today.year if number <= today.month else today.year - 1, number, 1))
    return None


def named_months(text: str) -> frozenset[int]:
    """The months a message names, alone or in a date ("the october one", "Oct 5"): whole words only, so
    "declined" is not December, and "may" only as a month ("in May", not "maybe" or "may I ask")."""
    lowered = text.lower()
    names = {match.group(1) for match in _MONTH_WORD_RE.finditer(lowered)}
    if "may" in names and not _MAY_MONTH_RE.search(lowered):
        names.discard("may")
    return frozenset(_MONTHS[name] for name in names)
