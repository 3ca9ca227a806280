"""Replies written by code, for outcomes that code decided (refunds, approvals, tickets, failures).

A model never paraphrases a policy outcome: the customer reads exactly what happened.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "approval_outcome",
    "awaiting_approval",
    "escalated",
    "fallback",
    "one_refund_at_a_time",
    "refund_outcome",
    "still_waiting",
]


def _money(amount: float) -> str:
    return f"${amount:,.2f}"


def refund_outcome(outcome: dict[str, Any]) -> str:
    """The reply to a `RefundOutcome` that needs no manager (refunded, denied, not found)."""
    status = outcome["status"]
    order = outcome["order_id"]
    if status == "refunded" and outcome.get("replay"):
        return (
            f"That refund has already been made, so nothing more was charged back: {outcome['explanation']} "
            f"Your refund reference is {outcome['refund_id']}."
        )
    if status == "refunded":
        return (
            f"Done: I've refunded {_money(outcome['amount'])} for {order}. {outcome['explanation']} "
            f"Your refund reference is {outcome['refund_id']}; it usually reaches your card within "
            "5–10 business days."
        )
    if status == "not_found":
        return (
            f"I couldn't find an order {order} on your account. Could you check the id on your invoice, "
            "or tell me the date and amount of the charge?"
        )
    return f"I'm sorry, I can't refund {order}. {outcome['explanation']}"


def one_refund_at_a_time(order_ids: list[str]) -> str:
    """Said after a refund when the model asked for more in the same breath: those were not run."""
    listed = ", ".join(order_ids)
    return f"I handle one refund at a time, so nothing was done yet for {listed}: just ask me again for it."


def awaiting_approval(approval: dict[str, Any]) -> str:
    return (
        f"Your refund request for {_money(approval['amount'])} ({approval['order_id']}) needs a quick review by "
        f"a manager: {approval['explanation']} I've sent it over with reference {approval['approval_id']}, "
        "and you'll get the decision right here in this conversation."
    )


def still_waiting(approval: dict[str, Any]) -> str:
    return (
        f"Your refund request {approval['approval_id']} for {_money(approval['amount'])} is still waiting for a "
        "manager's decision. You'll see the outcome here as soon as it is made; I can help with anything "
        "else once it's settled."
    )


def approval_outcome(approval: dict[str, Any]) -> str:
    if approval["status"] == "approved":
        return (
            f"Good news: a manager approved your refund of {_money(approval['amount'])} for "
            f"{approval['order_id']}. Your refund reference is {approval['refund_id']}; it usually reaches "
            "your card within 5–10 business days."
        )
    reason = (approval.get("note") or "it falls outside our refund policy").rstrip(". ")
    return (
        f"I'm sorry: a manager reviewed your refund request for {approval['order_id']} and couldn't approve "
        f"it. Reason: {reason}. If you'd like to discuss it, just reply and I'll connect you with a person."
    )


def escalated(ticket: dict[str, Any]) -> str:
    return (
        f"I've passed this to a member of our support team: your ticket is {ticket['ticket_id']} "
        f"(priority {ticket['priority']}). They'll reply by email, usually within one business day."
    )


def fallback(ticket: dict[str, Any] | None) -> str:
    base = (
        "I'm sorry, something went wrong on our side and I couldn't finish handling your request. "
        "Nothing was charged or refunded twice."
    )
    if ticket is not None:
        return f"{base} I've opened ticket {ticket['ticket_id']} so a person follows up with you."
    return f"{base} Please try again in a moment, or ask for a person and I'll open a ticket."
