"""Replies written by code, for outcomes that code decided (refunds, approvals, tickets, failures).

A model never paraphrases a policy outcome: the customer reads exactly what happened.
"""

from __future__ import annotations

from typing import Any

from tools.policy import REFUND_ARRIVAL_TIME

__all__ = [
    "approval_outcome",
    "awaiting_approval",
    "escalated",
    "fallback",
    "one_proposal_at_a_time",
    "plan_changed",
    "proposal",
    "proposal_cancelled",
    "proposal_not_done",
    "refund_outcome",
    "refund_policy_answer",
    "request_waiting",
    "unclear_amount",
]

CONFIRM = 'Reply "yes" to go ahead, or "no" to cancel.'


def _date(value: Any) -> str:
    """``2026-12-01`` -> ``December 1, 2026``."""
    from datetime import date

    day = value if isinstance(value, date) else date.fromisoformat(str(value))
    return f"{day:%B} {day.day}, {day.year}"


def proposal(terms: dict[str, Any]) -> str:
    """A proposal's exact terms in plain words, ending with how to confirm. Nothing has happened yet."""
    kind = terms["kind"]
    if kind == "plan_change":
        q = terms["quote"]
        change = "more" if q["monthly_difference"] >= 0 else "less"
        text = (
            f"I can switch you from the {q['old_plan_name']} plan ({_money(q['old_monthly_price'])}/month) to the "
            f"{q['new_plan_name']} plan at {_money(q['new_monthly_price'])}/month, "
            f"{_money(abs(q['monthly_difference']))} {change} per month, starting today."
        )
        prorated = float(q["prorated_amount"])
        if prorated > 0:
            text += f" For the rest of this billing period, {_money(prorated)} is added to your next invoice."
        elif prorated < 0:
            text += f" For the rest of this billing period, {_money(-prorated)} is credited on your next invoice."
        if q.get("next_renewal"):
            text += f" Your next renewal is on {_date(q['next_renewal'])}."
        if q.get("gained"):
            text += f" You'd gain {', '.join(q['gained'][:4])}."
        if q.get("lost"):
            text += f" You'd lose {', '.join(q['lost'])}."  # all of it: the customer's yes is to this loss
        return f"{text} {CONFIRM}"
    order = terms["order_id"]
    what = f"{order} ({terms['charge_description']})" if terms.get("charge_description") else order
    if kind == "refund":
        return (
            f"I can refund {_money(terms['amount'])} for {what}. {terms['explanation']} "
            f"Nothing has been refunded yet. {CONFIRM}"
        )
    return (
        f"A refund of {_money(terms['amount'])} for {what} needs a manager's approval: {terms['explanation']}"
        " I can send the request to a manager now, and you'll get the decision in this conversation. "
        f"{CONFIRM}"
    )


def refund_policy_answer(checked: dict[str, Any]) -> str:
    """What the policy would decide for a charge the customer asked about; nothing was requested."""
    status, order = checked["status"], checked["order_id"]
    if status == "would_refund":
        head = f"If you ask for it, {_money(checked['amount'])} for {order} can be refunded straight away."
    elif status == "would_need_approval":
        head = (
            f"If you ask for it, a refund of {_money(checked['amount'])} for {order} would need a manager's approval."
        )
    elif status == "not_found":
        return f"I couldn't find an order {order} on your account. Could you check the id on your invoice?"
    else:
        return f"A refund of {order} isn't possible: {checked['explanation']}"
    return f"{head} {checked['explanation']} Nothing has been requested; just tell me if you'd like me to ask for it."


def request_waiting(request: str) -> str:
    """Said after a proposal when the customer's message asked for something else too."""
    quoted = request if len(request) <= 160 else request[:157].rstrip() + "..."
    return f"Once you've answered, I'll take up the other thing you asked: \"{quoted}\""


def unclear_amount(figures: list[str]) -> str:
    """A figure code could not read for sure: ask, never guess."""
    shown = ", ".join(f'"{f}"' for f in figures)
    return (
        f"I want to get the amount exactly right and I can't read {shown} for sure. "
        "How much would you like back, in dollars?"
    )


def proposal_cancelled(terms: dict[str, Any]) -> str:
    if terms["kind"] == "plan_change":
        return f"OK, I won't change your plan: you stay on {terms['quote']['old_plan_name']}. Anything else?"
    order = terms["order_id"]
    return f"OK, I won't do anything with {order}: nothing was refunded or sent for approval. Anything else?"


def proposal_not_done(terms: dict[str, Any], why: str) -> str:
    """The customer said yes, but the facts changed since the proposal: nothing was done."""
    return f"I couldn't do that after all, so nothing was changed: {why} Tell me if you'd like me to look again."


def plan_changed(change: dict[str, Any], terms: dict[str, Any]) -> str:
    q = terms["quote"]
    return (
        f"Done: you're now on the {q['new_plan_name']} plan at {_money(change['new_monthly_price'])}/month "
        f"(previously {q['old_plan_name']}), from {_date(change['effective_date'])}. "
        "You'll get a confirmation email."
    )


def one_proposal_at_a_time(what: list[str]) -> str:
    """Said after a proposal when the model proposed more in the same breath: those were not proposed."""
    return f"One thing at a time: once this is settled, ask me again about {', '.join(what)}."


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
            f"{REFUND_ARRIVAL_TIME}."
        )
    if status == "not_found":
        return (
            f"I couldn't find an order {order} on your account. Could you check the id on your invoice, "
            "or tell me the date and amount of the charge?"
        )
    return f"I'm sorry, I can't refund {order}. {outcome['explanation']}"


def awaiting_approval(approval: dict[str, Any]) -> str:
    return (
        f"Your refund request for {_money(approval['amount'])} ({approval['order_id']}) needs a quick review by "
        f"a manager: {approval['explanation']} I've sent it over with reference {approval['approval_id']}, "
        "and you'll get the decision right here in this conversation."
    )


def approval_outcome(approval: dict[str, Any]) -> str:
    if approval["status"] == "approved":
        return (
            f"Good news: a manager approved your refund of {_money(approval['amount'])} for "
            f"{approval['order_id']}. Your refund reference is {approval['refund_id']}; it usually reaches "
            f"your card within {REFUND_ARRIVAL_TIME}."
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
