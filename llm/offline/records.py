"""The handoff records the agents fill from the customer's own words (see `graph.handoffs` for their schemas)."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from graph.handoffs import Priority, Sentiment
from llm.entities import (
    billing_issue_type,
    detect_priority,
    detect_sentiment,
    extract_amounts,
    extract_plan,
)
from llm.offline.wording import money, trim
from llm.router import rule_signals
from llm.text import content_words
from tools.mentions import extract_order_ids

__all__ = [
    "REASON_CHARS",
    "TRANSFERS",
    "billing_record",
    "escalation_record",
    "faq_record",
    "handback_record",
    "refund_record",
]

REASON_CHARS = 300

_ISSUE_PHRASES = {
    "charge_dispute": "wants a charge explained",
    "invoice_question": "has a question about invoices",
    "payment_method": "wants help with the payment method on file",
    "plan_change": "wants to change plan",
}


def _feelings(text: str) -> tuple[Sentiment, Priority]:
    sentiment = detect_sentiment(text)
    return sentiment, detect_priority(text, sentiment)


def refund_record(text: str) -> dict[str, Any]:
    """`transfer_to_refund` arguments: the reason, the order id and amount mentioned, priority, sentiment."""
    sentiment, priority = _feelings(text)
    amounts = extract_amounts(text)
    orders = extract_order_ids(text)
    return {
        "reason": trim(text, REASON_CHARS) or "The customer asked for a refund.",
        "order_id": orders[0] if orders else None,
        "original_charge_amount": amounts[0] if amounts else None,
        "priority": priority.value,
        "sentiment": sentiment.value,
    }


def billing_record(text: str, issue: str | None = None) -> dict[str, Any]:
    """`transfer_to_billing` arguments; the issue type is read from `text` unless given."""
    sentiment, priority = _feelings(text)
    issue_type = issue or billing_issue_type(text)
    amounts = extract_amounts(text)
    details = []
    plan = extract_plan(text)
    if issue_type == "plan_change" and plan:
        details.append(f"target plan: {plan}")
    if amounts:
        details.append(f"amount mentioned: {money(amounts[0])}")
    orders = extract_order_ids(text)
    if orders:
        details.append(f"order: {orders[0]}")
    summary = f"The customer {_ISSUE_PHRASES[issue_type]}"
    summary += f" ({'; '.join(details)})." if details else "."
    summary += f' They wrote: "{trim(text, 240)}"'
    return {
        "issue_type": issue_type,
        "amount_mentioned": amounts[0] if amounts else None,
        "priority": priority.value,
        "sentiment": sentiment.value,
        "summary": trim(summary, 1000),
    }


def _topic(text: str) -> str:
    """The first four distinct content words, as a short topic line."""
    words = dict.fromkeys(word.lower() for word in re.findall(r"[A-Za-z0-9][\w-]*", text) if content_words(word))
    return " ".join(list(words)[:4]) or "general question"


def faq_record(text: str) -> dict[str, Any]:
    """`transfer_to_faq` arguments: a short topic and the question itself."""
    return {
        "topic": trim(_topic(text), 200),
        "specific_question": trim(text, 1000) or "General product question.",
    }


def escalation_record(text: str) -> dict[str, Any]:
    """`escalate_to_human` arguments: why a person is needed, and how urgently."""
    sentiment, priority = _feelings(text)
    # Someone who asks for a person is already waiting on us; never file it as low priority.
    if priority == Priority.LOW:
        priority = Priority.MEDIUM
    reason = "Customer asked for a person" if rule_signals(text)["human"] else "Needs a human agent"
    if sentiment in (Sentiment.ANGRY, Sentiment.FRUSTRATED):
        reason += f" ({sentiment.value})"
    return {"reason": trim(f'{reason}: "{text}"', 1000), "priority": priority.value}


def handback_record(text: str, route: str) -> dict[str, Any]:
    """`transfer_to_triage` arguments: what the customer now asks about, by the router's `route`."""
    about = {"billing": "a billing matter", "refund": "a refund", "faq": "a product question"}.get(
        route, "something outside this specialist's area"
    )
    return {"reason": trim(f'The customer now asks about {about}: "{text}"', 1000)}


# The tool that hands the customer to each route's specialist, and the record it carries.
TRANSFERS: dict[str, tuple[str, Callable[[str], dict[str, Any]]]] = {
    "billing": ("transfer_to_billing", billing_record),
    "refund": ("transfer_to_refund", refund_record),
    "faq": ("transfer_to_faq", faq_record),
    "human": ("escalate_to_human", escalation_record),
}
