"""The customer's charges, as listed in the account block: finding the one meant and describing it."""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping, Sequence
from datetime import date
from typing import Any

from llm.entities import extract_amounts
from llm.offline.wording import as_date, money, nice_date
from llm.text import salient_terms
from tools.amounts import words_to_digits
from tools.mentions import extract_dates, extract_order_ids, mentioned_month, mentioned_period

__all__ = [
    "charge_line",
    "charged_in",
    "criteria",
    "explain_charge",
    "find_charges_args",
    "has_amount",
    "is_refundable",
    "match_charges",
    "match_description",
    "named_orders",
]


_INVOICE_RE = re.compile(r"\binv_\d+\b", re.IGNORECASE)


def named_orders(charges: Sequence[Mapping[str, Any]], text: str) -> list[str]:
    """Order ids the message names, directly ("ord_301") or through the charge's invoice ("inv_301")."""
    by_invoice = {str(c.get("invoice_id", "")).lower(): str(c.get("order_id")) for c in charges if c.get("invoice_id")}
    named = {m.start(): m.group(0).lower() for m in re.finditer(r"\bord_\d+\b", text, re.IGNORECASE)}
    named |= {m.start(): by_invoice[m[0].lower()] for m in _INVOICE_RE.finditer(text) if m[0].lower() in by_invoice}
    return list(dict.fromkeys(order for _, order in sorted(named.items())))


def has_amount(charge: Mapping[str, Any], amounts: Sequence[float]) -> bool:
    """The charge is for one of `amounts` (to the cent)."""
    return any(abs(float(charge.get("amount") or 0) - a) < 0.005 for a in amounts)


def is_refundable(charge: Mapping[str, Any]) -> bool:
    """Something of the charge can still be refunded."""
    return float(charge.get("refundable_amount") or 0) > 0


def charged_in(charge: Mapping[str, Any], days: Collection[date] = (), period: tuple[date, date] | None = None) -> bool:
    """The charge was made on one of `days` or within `period` (its first and last day, inclusive)."""
    on = as_date(charge.get("charged_on"))
    return on is not None and (on in days or (period is not None and period[0] <= on <= period[1]))


def find_charges_args(text: str, today: date) -> dict[str, Any]:
    """`find_charges` arguments: the first amount and the first date the message mentions (None if absent)."""
    amounts = extract_amounts(text)
    dates = extract_dates(text, today)
    return {"amount": amounts[0] if amounts else None, "date": dates[0].isoformat() if dates else None}


def charge_line(charge: Mapping[str, Any]) -> str:
    """`ord_1 on March 1, 2026: $49.99 for Pro plan`, for lists of charges."""
    return (
        f"{charge.get('order_id')} on {nice_date(charge.get('charged_on'))}: {money(charge.get('amount'))} "
        f"for {charge.get('description', 'a charge')}"
    )


def explain_charge(charge: Mapping[str, Any]) -> str:
    """What the charge is for, its status and invoice, what was refunded, and whether it is a duplicate."""
    status = charge.get("status", "paid")
    parts = [
        f"The {money(charge.get('amount'))} charge on {nice_date(charge.get('charged_on'))} "
        f"({charge.get('order_id')}) is for {charge.get('description', 'your subscription')}; it is {status}"
    ]
    if charge.get("invoice_id"):
        parts[0] += f" and appears on invoice {charge['invoice_id']}"
    parts[0] += "."
    if float(charge.get("refunded_amount") or 0) > 0:
        parts.append(f"{money(charge['refunded_amount'])} of it has already been refunded.")
    if charge.get("duplicate_of"):
        parts.append(
            f"It looks like a duplicate of {charge['duplicate_of']} (same amount, charged twice), so you "
            "can ask for a refund of it: just say yes and I'll pass it to our refunds team."
        )
    return " ".join(parts)


_BARE_RE = re.compile(r"(?<![\w./$-])(\d{2,5}(?:\.\d{2})?)(?![\w/-]|\.\d|\s*(?:st|nd|rd|th)\b)")


def match_charges(charges: Sequence[Mapping[str, Any]], text: str, today: date) -> tuple[list[Mapping[str, Any]], bool]:
    """Charges that fit what the customer said (order id, amount, date and period: "last month"), and whether the
    date or period had to be ignored.

    Customers remember amounts better than days, so when the day or period rules out every charge
    that has the right order id or amount, those charges are returned anyway and flagged.
    """
    orders = set(named_orders(charges, text))
    amounts = extract_amounts(text)
    # A bare figure that is exactly a charge's amount names that charge ("I see 899 on my visa").
    bare = [float(n) for n in _BARE_RE.findall(words_to_digits(text))]
    amounts += [a for a in bare if a not in amounts and any(has_amount(c, [a]) for c in charges)]
    dates = set(extract_dates(text, today))
    period = mentioned_period(text, today)
    # "last month" also comes back as a date (its first day); the whole month is what is meant.
    if period and mentioned_month(text):
        dates.discard(period[0])
    if not (orders or amounts or dates or period):
        return [], False

    def fits(charge: Mapping[str, Any], *, when: bool) -> bool:
        if orders and str(charge.get("order_id", "")).lower() not in orders:
            return False
        if amounts and not has_amount(charge, amounts):
            return False
        if when and dates and not charged_in(charge, dates):
            return False
        return not (when and period and not charged_in(charge, period=period))

    matched = [c for c in charges if fits(c, when=True)]
    if not matched and (orders or amounts) and (dates or period):
        loose = [c for c in charges if fits(c, when=False)]
        if loose:
            return loose, True
    return matched, False


def criteria(text: str, today: date) -> str:
    """What the customer said about the charge, as a phrase: `of $20.00 on March 1, 2026 with order id ord_1`."""
    parts = []
    amounts = extract_amounts(text)
    if amounts:
        parts.append(f"of {money(amounts[0])}")
    dates = extract_dates(text, today)
    period = mentioned_period(text, today)
    if period:
        parts.append(f"between {nice_date(period[0])} and {nice_date(period[1])}")
    elif dates:
        parts.append(f"on {nice_date(dates[0])}")
    orders = extract_order_ids(text)
    if orders:
        parts.append(f"with order id {orders[0]}")
    return " ".join(parts)


def match_description(charges: Sequence[Mapping[str, Any]], text: str) -> list[Mapping[str, Any]]:
    """The one charge whose description shares most words with the message ("the seat pack", "October's
    subscription"), as a list; empty when no description shares a word or two charges share as many."""
    words = salient_terms(text)
    scored = sorted(
        ((len(words & salient_terms(str(c.get("description", "")))), c) for c in charges),
        key=lambda pair: -pair[0],
    )
    if not scored or scored[0][0] == 0 or (len(scored) > 1 and scored[1][0] == scored[0][0]):
        return []
    return [scored[0][1]]
