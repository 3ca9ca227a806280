"""Entity extraction: amounts, plans, sentiment, priority, issue type, yes/no (dates and order ids: test_mentions)."""

from __future__ import annotations

import pytest

from graph.handoffs import Priority, Sentiment
from llm.entities import (
    billing_issue_type,
    detect_priority,
    detect_sentiment,
    extract_amounts,
    extract_plan,
    is_affirmative,
    is_negative,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("I was charged $49.99 yesterday", [49.99]),
        ("it was 49.99 dollars", [49.99]),
        ("a $1,200 annual charge", [1200.0]),
        ("USD 20 and then 35 usd", [20.0, 35.0]),
        ("twenty bucks? no, 20 bucks", [20.0]),
        ("the 12.50 one", [12.5]),
        ("€15 extra", [15.0]),
        ("$5 then $7.25", [5.0, 7.25]),
    ],
)
def test_extract_amounts(text: str, expected: list[float]) -> None:
    assert extract_amounts(text) == expected


@pytest.mark.parametrize(
    "text",
    ["we have 5 seats", "order ord_1234 please", "on 2026-03-01", "on 03/01", "version 2.1 of the API"],
)
def test_numbers_that_are_not_money(text: str) -> None:
    assert extract_amounts(text) == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("upgrade from Pro to Enterprise", "enterprise"),
        ("please move us onto the pro plan", "pro"),
        ("I'm on Enterprise and want Pro instead", "pro"),
        ("downgrade me to free", "free"),
        ("what does the Enterprise plan include?", "enterprise"),
        ("I'm on the pro plan", None),
        ("feel free to call, free of charge", None),
        ("is proration applied?", None),
        ("nothing about plans", None),
    ],
)
def test_extract_plan(text: str, expected: str | None) -> None:
    assert extract_plan(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("How do I add a teammate?", Sentiment.NEUTRAL),
        ("Thanks, that was really helpful!", Sentiment.POSITIVE),
        ("I'm still waiting and honestly disappointed", Sentiment.FRUSTRATED),
        ("This is a scam, absolutely unacceptable", Sentiment.ANGRY),
        ("WHY IS THIS NOT WORKING", Sentiment.FRUSTRATED),
        ("STILL BROKEN AGAIN!! fix it", Sentiment.ANGRY),
        ("My SSO and API keys question", Sentiment.NEUTRAL),
    ],
)
def test_detect_sentiment(text: str, expected: Sentiment) -> None:
    assert detect_sentiment(text) == expected


def test_detect_priority() -> None:
    assert detect_priority("no rush, just curious how exports work") == Priority.LOW
    assert detect_priority("How do I add a teammate?") == Priority.MEDIUM
    assert detect_priority("I need this fixed immediately") == Priority.HIGH
    assert detect_priority("urgent: charged twice and nobody answers") == Priority.HIGH
    assert detect_priority("Refund me now or I'm calling my lawyer!!") == Priority.CRITICAL
    assert detect_priority("I will open a chargeback with my bank, this is outrageous") == Priority.CRITICAL
    # An explicit sentiment is used as given.
    assert detect_priority("please look at my invoice", Sentiment.ANGRY) == Priority.HIGH
    assert detect_priority("please look at my invoice", "positive") == Priority.LOW


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Why did you charge me $39 on the 2nd?", "charge_dispute"),
        ("I don't recognise a payment to you on my statement", "charge_dispute"),
        ("Can I get a PDF of my latest invoice?", "invoice_question"),
        ("the receipt is missing our VAT number", "invoice_question"),
        ("my visa expired, how do I swap in another card", "payment_method"),
        ("the renewal payment was declined", "payment_method"),
        ("switch us to Enterprise please", "plan_change"),
        ("how much would two more seats cost", "plan_change"),
        ("cancel my subscription", "plan_change"),
        ("something about money", "charge_dispute"),
    ],
)
def test_billing_issue_type(text: str, expected: str) -> None:
    assert billing_issue_type(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "yes",
        "Yes please!",
        "go ahead",
        "confirm",
        "do it",
        "sure",
        "yep, sounds good",
        "ok, go ahead",
        "I confirm",
    ],
)
def test_is_affirmative(text: str) -> None:
    assert is_affirmative(text)


@pytest.mark.parametrize(
    "text",
    [
        "no",
        "no thanks",
        "yes but wait a second",
        "don't do it",
        "ok",
        "what would that cost?",
        "",
        "Great, thanks",
    ],
)
def test_is_not_affirmative(text: str) -> None:
    assert not is_affirmative(text)


def test_is_negative() -> None:
    assert is_negative("nope, hold on")
    assert not is_negative("yes please")
