"""Understanding customers as they write: typos, amounts in words, questions that must not act (own sentences)."""

from __future__ import annotations

import pytest

from llm.entities import asks_about_refund_policy, asks_what_would_happen, extract_amounts, holds_off
from llm.router import classify
from llm.text import correct_typos


def test_typos_in_desk_words_are_corrected_and_other_words_kept() -> None:
    assert correct_typos("cn u refnd my last invoce") == "cn u refund my last invoice"
    assert correct_typos("Cancelled the Subscripton") == "Cancelled the subscription"
    assert correct_typos("the charges were refunded") == "the charges were refunded"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("I'd like seventy five dollars back please", [75.0]),
        ("refund 40 of the export add-on", [40.0]),
        ("and another 25 on the same order", [25.0]),
        ("it was $12.50, not $1,200", [12.5, 1200.0]),
        ("we have 12 seats and 3 admins", []),
        ("could you knock two hundred off the annual plan", [200.0]),
        ("give me fifteen of the forty nine back", [15.0, 49.0]),
        ("we use 3 of our 20 seats", []),
        ("forty nine ninety nine back please", [49.99]),  # dollars and cents said as two numbers
        ("what was that 310 last tuesday", [310.0]),  # pointed at like a charge
        ("the 4 new seats we added", []),
        ("this 2025 invoice", []),
    ],
)
def test_amounts_are_read_by_the_same_code_that_caps_refunds(text: str, expected: list[float]) -> None:
    assert extract_amounts(text) == expected


@pytest.mark.parametrize(
    ("text", "route"),
    [
        ("could I get forty back on the export add-on?", "refund"),
        ("we were billed 2x in october", "refund"),
        ("knock another 15 off that one", "refund"),
        ("can you move us onto enterprise", "billing"),
        ("is there an ipad version?", "faq"),
        ("I need somebody senior on this, not a bot", "human"),
    ],
)
def test_everyday_phrasings_route(text: str, route: str) -> None:
    assert classify(correct_typos(text)).route == route


def test_questions_that_must_not_act() -> None:
    assert asks_about_refund_policy("what is the refund policy on purchases above 200 dollars?")
    assert not asks_about_refund_policy("please refund my 200 dollars")
    assert holds_off("don't move us to enterprise yet, just pricing")
    assert asks_what_would_happen("if we drop two seats do we get anything back?")
    assert asks_what_would_happen("would a refund of the annual charge go to a manager?")


def test_a_short_follow_up_is_recognised() -> None:
    from llm.offline.turn import FOLLOW_UP_RE

    assert FOLLOW_UP_RE.search("ok so how do I sort that out")
    assert FOLLOW_UP_RE.search("fine, go ahead")
    assert not FOLLOW_UP_RE.search("how do I export my projects")
