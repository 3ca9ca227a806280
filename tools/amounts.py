"""Money amounts in a customer's own words, read strictly: what is clear is read, what is ambiguous is flagged.

Used by code, not by a model, to hold a refund proposal to what the customer asked for. Numbers
written in words ("sixty dollars", "eight hundred ninety-nine") are turned into digits by
text2num first. An amount counts when it is marked as money ("$60", "60 dollars", "60 bucks",
"USD 60", "49.99") or stands where an amount is asked for ("60 back", "refund 60", "60 of it").
A negative amount, an exponent ("$8.99e2"), a range ("$50-60") or a malformed figure ("$1,00")
is ambiguous: the caller asks the customer instead of guessing.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache, lru_cache

__all__ = ["AmountReading", "asked_amounts", "asks_for_half", "counter_offer", "read_amounts", "words_to_digits"]

_NUMBER = r"\d{1,3}(?:,\d{3})+(?:\.\d{1,2})?|\d+(?:\.\d{1,2})?"
_COUNTED = r"seats?|users?|members?|people|licen[cs]es?|days?|weeks?|months?|years?|projects?|invoices?|charges?"
_MONEY = re.compile(
    rf"(?:[$€£]|usd\s*)\s*(?P<a>{_NUMBER})(?![\d.,]*\d)"
    rf"|(?<![\w.$])(?P<b>{_NUMBER})\s*(?:(?:dollars?|bucks?|usd)\b|\$)"
    rf"|(?<![\w.$-])(?P<c>\d+\.\d{{2}})(?![\d.])"
    rf"|(?<![\w.$-])(?P<d>{_NUMBER})(?=\s+(?:more\s+)?(?:back|off|of it|of that|refunded)\b"
    rf"|\s+more\b(?!\s*(?:{_COUNTED})\b)(?!\s+\d))"
    # "10 of the 29" (but not "2 of my 5 seats")
    rf"|(?<![\w.$-])(?P<f>{_NUMBER})(?=\s+of (?:the|my|that|this|our) (?:\$\s*)?(?:{_NUMBER})\b(?!\s*(?:{_COUNTED})\b))"
    rf"|\b(?:refund|return|reverse|another|more|back)\s+(?:me\s+|us\s+)?(?:exactly\s+|only\s+|just\s+)?(?P<e>{_NUMBER})"
    rf"(?![\w.%])(?!\s*(?:{_COUNTED})\b)",
    re.IGNORECASE,
)
_AMBIGUOUS = re.compile(
    r"-\s*\$\s*\d[\d.,]*|\$\s*-\s*\d[\d.,]*|minus\s+\$?\d[\d.,]*"  # negative
    r"|\$\s*\d[\d.,]*e[+-]?\d+"  # exponent
    r"|\$\s*\d[\d.,]*\s*(?:-|to)\s*\$?\s*\d[\d.,]*"  # a range
    r"|\$\s*\d+,\d{1,2}(?!\d)",  # a decimal comma, or a misplaced thousands separator
    re.IGNORECASE,
)


@dataclass(frozen=True)
class AmountReading:
    """The amounts a message names, in dollars, and the figures too ambiguous to read."""

    amounts: list[float] = field(default_factory=list)
    ambiguous: list[str] = field(default_factory=list)


@cache
def _alpha2digit() -> Callable[..., str]:
    # Imported on first use: the CLI's start-up does not pay for it.
    from text_to_num import alpha2digit

    converter: Callable[..., str] = alpha2digit
    return converter


@lru_cache(maxsize=4096)  # the router, the entity readers and the amount cap read the same message in one turn
def words_to_digits(text: str) -> str:
    """`text` with numbers written in words as digits ("sixty dollars" -> "60 dollars").

    Dollars and cents said as two numbers ("forty-nine ninety-nine") become one amount ("49.99"), but only in
    a message written without digits, where the two numbers can only have come from words.
    """
    try:
        converted = str(_alpha2digit()(text, "en"))
    except Exception:  # a library hiccup must not lose the message: read it as written
        return text

    def spoken(template: str) -> Callable[[re.Match[str]], str]:
        # Only numbers that were words: "ord 123 45" typed as digits is left as it is.
        return lambda m: m.group(0) if any(part in text for part in m.groups()) else m.expand(template)

    converted = _SPOKEN_HUNDREDS.sub(spoken(r"\1\2.\3"), converted)  # "one ninety-nine ninety-nine": 199.99
    return _SPOKEN_CENTS.sub(spoken(r"\1.\2"), converted)  # "forty-nine ninety-nine": 49.99


_SPOKEN_HUNDREDS = re.compile(r"\b(\d) (\d{2}) (\d{2})\b(?! ?\d)")
_SPOKEN_CENTS = re.compile(r"\b(\d{2,4}) (\d{2})\b(?! ?\d)")
# "Eight ninety-nine" is $899 or $8.99: asked about, never guessed.
_SPOKEN_UNCLEAR = re.compile(r"\b\d \d{2}\b(?! ?\d)")


def read_amounts(text: str) -> AmountReading:
    """The money amounts in ``text``, in order of appearance, and any ambiguous figures."""
    converted = words_to_digits(text)
    unclear = list(_AMBIGUOUS.finditer(converted))
    if not any(ch.isdigit() for ch in text):
        unclear += list(_SPOKEN_UNCLEAR.finditer(converted))
    ambiguous = [m.group(0).strip() for m in unclear]
    amounts: list[float] = []
    for match in _MONEY.finditer(converted):
        if any(u.start() <= match.start() < u.end() or match.start() <= u.start() < match.end() for u in unclear):
            continue  # part of an ambiguous figure: never read half of it
        raw = next(g for g in match.groups() if g)
        value = float(raw.replace(",", ""))
        if math.isfinite(value) and value > 0 and value not in amounts:
            amounts.append(round(value, 2))
    return AmountReading(amounts=amounts, ambiguous=ambiguous)


# A clause about money that already came back ("you already refunded $20", "you gave me 20 back") names no
# amount being asked for now.
_ALREADY_RE = re.compile(
    r"\balready\b|\b(?:you|u|they|acme)\s+(?:\w+\s+)?(?:gave|refunded|sent|returned|paid)\b|\bgot\b[^.?!;]*\bback\b",
    re.I,
)
_CLAUSE_RE = re.compile(r"[.?!;]+(?!\d)|,(?!\d)")


def asked_amounts(text: str) -> AmountReading:
    """`read_amounts` of the clauses that ask for something, leaving out those about money already refunded."""
    asking = [c for c in _CLAUSE_RE.split(text) if c.strip() and not _ALREADY_RE.search(c)]
    return read_amounts(". ".join(asking)) if asking else AmountReading()


# A bare figure: not part of a word, an id, a price ("$60"), a percentage or a date ("11/15").
_BARE_RE = re.compile(r"(?<![\w.$/-])(\d{1,5}(?:\.\d{1,2})?)(?![\w%/-]|\.\d)")


# What a figure counts when it is not money: "2 weeks", "3 of our 5 seats".
_COUNTS_AFTER_RE = re.compile(rf"\s*(?:of\s+(?:the|our|my|your|them)\s+(?:\d+\s+)?)?(?:{_COUNTED})\b", re.I)


def counter_offer(text: str, offered: float) -> float | None:
    """A figure below the refund just offered, in the answer to that offer ("that's generous, but sixty feels fair").

    A bare number counts here though it would not elsewhere, because the offer says what it is an amount of; a
    number that counts something else ("we used it 2 weeks") does not.
    """
    digits = words_to_digits(text)
    for match in _BARE_RE.finditer(digits):
        value = float(match.group(1))
        if 0 < value < offered and not _COUNTS_AFTER_RE.match(digits, match.end()):
            return value
    return None


# Half of the money ("refund half of the seat pack"), not half of something else ("a month and a half ago").
_HALF_RE = re.compile(
    r"\b(?:refund|back|return|give me|get)\s+half\b|\bhalf\s+of\s+(?:it|that|this|the|my|what|ord_\d+)\b", re.I
)
_WHOLE_RE = re.compile(r"\b(?:full|whole|entire|all of it)\b", re.I)


def asks_for_half(text: str) -> bool:
    """Whether the customer asks for half of a charge back ("refund half of it"), and not for all of it."""
    return bool(_HALF_RE.search(text)) and not _WHOLE_RE.search(text)
