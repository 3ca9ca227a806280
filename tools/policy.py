"""The refund policy as pure functions: no database, no clock, every input is an argument.

Rules for one refund request, checked in this order:

1. The charge is not paid (unpaid or failed): deny, rule ``unpaid``.
2. Nothing is left to refund: deny, rule ``already_refunded``.
3. A requested amount of zero or less (or not a number): deny, rule ``invalid_amount``.
   Otherwise the amount is the requested one (default: all that is left), capped at what
   is still refundable (paid minus already refunded).
4. The charge is a verified duplicate: approve, rule ``duplicate``, whatever its age or size.
5. Older than ``REFUND_WINDOW_DAYS`` days: needs a manager, rule ``older_than_30_days``.
6. This refund plus what was already refunded for the charge is more than ``AUTO_APPROVE_LIMIT``
   dollars: needs a manager, rule ``over_500`` (so a large refund split into small ones still does).
7. Otherwise: approve, rule ``within_policy``.

Both limits are inclusive: exactly $500.00 charged exactly 30 days ago is approved.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from datetime import date
from typing import Literal

from tools.money import format_usd, to_cents, to_dollars
from tools.records import Charge, PolicyDecision

__all__ = [
    "AUTO_APPROVE_LIMIT",
    "DUPLICATE_WINDOW_DAYS",
    "MANAGER_REVIEW_TIME",
    "REFUND_ARRIVAL_TIME",
    "REFUND_WINDOW_DAYS",
    "decide_refund",
    "find_duplicates",
    "natural_key",
]

REFUND_WINDOW_DAYS = 30
AUTO_APPROVE_LIMIT = 500.00
# Two paid charges with the same amount, description and kind, at most this many days
# apart, are one charge taken twice (a retry of a payment, a double click). A full day
# of slack covers a retry that crosses midnight; monthly renewals are ~30 days apart.
DUPLICATE_WINDOW_DAYS = 1
# What the help center's refund policy promises; every reply that states them reads them from here.
REFUND_ARRIVAL_TIME = "5–10 business days"  # from an approved refund to the customer's card
MANAGER_REVIEW_TIME = "one business day"  # a manager's review of a refund request, normally

Outcome = Literal["approve", "needs_approval", "deny"]


def find_duplicates(charges: Sequence[Charge]) -> dict[str, str]:
    """Find charges that repeat an earlier charge of the same customer.

    Pass the charges of ONE customer. Two charges match when both are paid and have the
    same amount (to the cent), description and kind, and were charged at most
    ``DUPLICATE_WINDOW_DAYS`` apart. The later one (by date, then order id) is the
    duplicate; it points at the earliest charge it matches.

    Returns:
        A map from each duplicate's order id to the order id of the original.
    """
    paid = sorted((c for c in charges if c.status == "paid"), key=_chronological)
    duplicates: dict[str, str] = {}
    # Only charges with the same amount, description and kind can match: compare within those groups, in order.
    groups: dict[tuple[int, str, str], list[Charge]] = {}
    for later in paid:
        group = groups.setdefault((to_cents(later.amount), later.description, later.kind), [])
        earlier = next((c for c in group if _same_charge(c, later)), None)
        if earlier is not None:
            duplicates[later.order_id] = earlier.order_id
        group.append(later)
    return duplicates


def decide_refund(charge: Charge, *, requested_amount: float | None = None, is_duplicate: bool) -> PolicyDecision:
    """Decide a refund of ``charge`` (see the module docstring for the rules).

    Args:
        charge: The charge with ``refunded_amount``, ``refundable_amount`` and ``age_days``
            already computed.
        requested_amount: Dollars the customer asked for; ``None`` means all that is left.
        is_duplicate: Whether code (``find_duplicates``) verified the charge is a duplicate.
    """
    order = charge.order_id
    if charge.status != "paid":
        why = f"Order {order} was never paid (it is {charge.status}), so there is nothing to refund."
        return _deny("unpaid", why)

    # Trust neither field alone: never refund more than paid minus already refunded.
    paid_left = to_cents(charge.amount) - to_cents(charge.refunded_amount)
    remaining = max(0, min(to_cents(charge.refundable_amount), paid_left))
    if remaining <= 0:
        paid = format_usd(to_cents(charge.amount))
        return _deny("already_refunded", f"Order {order} ({paid}) has already been fully refunded.")

    if requested_amount is None:
        cents = remaining
    elif not math.isfinite(requested_amount) or to_cents(requested_amount) <= 0:
        return _deny("invalid_amount", f"A refund for order {order} must be for more than $0.00.")
    else:
        cents = min(to_cents(requested_amount), remaining)
    capped = requested_amount is not None and to_cents(requested_amount) > remaining
    amount = format_usd(cents) + (" (all that is still refundable)" if capped else "")

    if is_duplicate:
        why = f"Order {order} is a verified duplicate charge, so {amount} will be refunded."
        return _decide("approve", "duplicate", cents, why)
    if charge.age_days > REFUND_WINDOW_DAYS:
        return _decide(
            "needs_approval",
            "older_than_30_days",
            cents,
            f"Order {order} was charged {charge.age_days} days ago, outside the {REFUND_WINDOW_DAYS}-day "
            f"refund window, so a refund of {amount} needs a manager's approval.",
        )
    # The limit counts everything refunded for the charge, so splitting a large refund into
    # small requests still reaches a manager.
    already = to_cents(charge.refunded_amount)
    if already + cents > to_cents(AUTO_APPROVE_LIMIT):
        limit = format_usd(to_cents(AUTO_APPROVE_LIMIT))
        earlier = f" on top of {format_usd(already)} already refunded" if already else ""
        return _decide(
            "needs_approval",
            "over_500",
            cents,
            f"A refund of {amount} for order {order}{earlier} is over the {limit} automatic limit, "
            "so it needs a manager's approval.",
        )
    return _decide(
        "approve",
        "within_policy",
        cents,
        f"Order {order} was charged {charge.age_days} days ago and is within the refund policy, "
        f"so {amount} will be refunded.",
    )


def _decide(outcome: Outcome, rule: str, cents: int, explanation: str) -> PolicyDecision:
    return PolicyDecision(outcome=outcome, rule=rule, explanation=explanation, amount=to_dollars(cents))


def _deny(rule: str, explanation: str) -> PolicyDecision:
    return PolicyDecision(outcome="deny", rule=rule, explanation=explanation, amount=0.0)


def _same_charge(a: Charge, b: Charge) -> bool:
    return (
        to_cents(a.amount) == to_cents(b.amount)
        and a.description == b.description
        and a.kind == b.kind
        and abs((b.charged_on - a.charged_on).days) <= DUPLICATE_WINDOW_DAYS
    )


def _chronological(charge: Charge) -> tuple[date, tuple[tuple[int, str], ...]]:
    return charge.charged_on, natural_key(charge.order_id)


def natural_key(text: str) -> tuple[tuple[int, str], ...]:
    """Sort key that orders "ord_99" before "ord_100"."""
    parts = (part for part in re.split(r"(\d+)", text) if part)
    return tuple((int(part), "") if part.isdigit() else (-1, part) for part in parts)
