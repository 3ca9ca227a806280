"""Read a customer's account (plan, charges, invoices, cards) and change their plan."""

from __future__ import annotations

import json
import re
from datetime import date
from typing import TYPE_CHECKING, Any

from tools import audit
from tools.charges import load_charges
from tools.errors import InvalidPlan, UnknownCustomer
from tools.money import to_cents, to_dollars
from tools.plans import next_renewal, quote_plan_change
from tools.records import AccountSummary, Charge, Invoice, PaymentMethod, Plan

if TYPE_CHECKING:
    from tools.db import Connection, Database, Row

__all__ = [
    "card_expired",
    "change_plan",
    "customer_exists",
    "find_charges",
    "get_account_summary",
    "get_charge",
    "list_customers",
    "list_invoices",
]

_INVOICE_STATUSES = frozenset({"paid", "open", "void"})


def customer_exists(db: Database, customer_id: str) -> bool:
    with db.connect() as conn:
        return conn.execute("SELECT 1 FROM customers WHERE id = ?", (customer_id,)).fetchone() is not None


def list_customers(db: Database) -> list[dict[str, str]]:
    """Every customer as ``{"id", "name", "plan"}`` (plan is the plan id), ordered by id."""
    with db.connect() as conn:
        rows = conn.execute("SELECT id, name, plan_id AS plan FROM customers ORDER BY id").fetchall()
    return [dict(row) for row in rows]


def get_account_summary(db: Database, customer_id: str) -> AccountSummary:
    """The customer's whole account as verified facts.

    Raises:
        UnknownCustomer: No customer has this id.
    """
    today = db.clock.today()
    with db.connect() as conn:
        customer = _customer_row(conn, customer_id)
        plans = _plans(conn)
        summary = AccountSummary(
            customer_id=customer_id,
            name=customer["name"],
            email=customer["email"],
            plan=next(p for p in plans if p.id == customer["plan_id"]),
            member_since=date.fromisoformat(customer["member_since"]),
            today=today,
            charges=load_charges(conn, customer_id, today),
            invoices=_invoices(conn, customer_id, None),
            payment_methods=_payment_methods(conn, customer_id, today),
            available_plans=plans,
        )
    switch = {p.id: quote_plan_change(summary, p.id).prorated_amount for p in plans if p.id != summary.plan.id}
    return summary.model_copy(update={"next_renewal": next_renewal(summary), "switch_today": switch})


def get_charge(db: Database, customer_id: str, order_id: str) -> Charge | None:
    """One of the customer's charges, or None.

    Another customer's order gives the same None as an order that does not exist, so the
    answer never reveals that an id belongs to someone else.
    """
    with db.connect() as conn:
        charges = load_charges(conn, customer_id, db.clock.today())
    return next((c for c in charges if c.order_id == order_id), None)


def find_charges(
    db: Database, customer_id: str, *, amount: float | None = None, on: date | None = None
) -> list[Charge]:
    """The customer's charges (newest first) matching ``amount`` to the cent and/or the day ``on``.

    Raises:
        UnknownCustomer: No customer has this id.
    """
    with db.connect() as conn:
        _customer_row(conn, customer_id)
        charges = load_charges(conn, customer_id, db.clock.today())
    if amount is not None:
        cents = to_cents(amount)
        charges = [c for c in charges if to_cents(c.amount) == cents]
    if on is not None:
        charges = [c for c in charges if c.charged_on == on]
    return charges


def list_invoices(db: Database, customer_id: str, *, status: str | None = None) -> list[Invoice]:
    """The customer's invoices, newest first, optionally only one status ("paid", "open", "void").

    Raises:
        UnknownCustomer: No customer has this id.
        ValueError: ``status`` is not one of the invoice statuses.
    """
    if status is not None and status not in _INVOICE_STATUSES:
        raise ValueError(f"invoice status must be one of {sorted(_INVOICE_STATUSES)}, got {status!r}")
    with db.connect() as conn:
        _customer_row(conn, customer_id)
        return _invoices(conn, customer_id, status)


def change_plan(
    db: Database,
    customer_id: str,
    new_plan_id: str,
    *,
    thread_id: str | None,
    actor: str,
    expected_current: str | None = None,
) -> dict[str, Any]:
    """Move the customer to another plan from today, record it and audit it.

    Replaying the same change from the same thread (a resumed graph) returns the recorded
    change instead of failing with "already on this plan".

    Returns:
        ``{"customer_id", "old_plan", "new_plan", "old_monthly_price", "new_monthly_price",
        "monthly_difference", "effective_date"}``: plan ids, dollars (difference is new
        minus old, negative for a downgrade) and an ISO date.

    Args:
        expected_current: The plan the customer was quoted from; if they are on another one now
            (changed meanwhile), nothing changes: the quote they agreed to no longer holds.

    Raises:
        UnknownCustomer: No customer has this id.
        InvalidPlan: The plan does not exist, the customer is already on it, or they are no
            longer on ``expected_current``.
    """
    now = db.clock.now()
    today = db.clock.today()
    with db.transaction() as conn:
        current = _customer_row(conn, customer_id)["plan_id"]
        prices = {p.id: to_cents(p.monthly_price) for p in _plans(conn)}
        if new_plan_id not in prices:
            raise InvalidPlan(f"unknown plan {new_plan_id!r}; plans are {', '.join(prices)}")
        if current == new_plan_id:
            replayed = _replayed_change(conn, customer_id, new_plan_id, thread_id)
            if replayed is not None:
                return replayed
            raise InvalidPlan(f"customer {customer_id} is already on the {new_plan_id!r} plan")
        if expected_current is not None and current != expected_current:
            raise InvalidPlan(f"the plan changed to {current!r} since the quote, so the quote no longer holds")
        difference = prices[new_plan_id] - prices[current]
        conn.execute(
            "UPDATE customers SET plan_id = ? WHERE id = ?",
            (new_plan_id, customer_id),
        )
        conn.execute(
            "INSERT INTO plan_changes (customer_id, old_plan_id, new_plan_id, monthly_difference_cents,"
            " effective_on, changed_at, thread_id, actor) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                customer_id,
                current,
                new_plan_id,
                difference,
                today.isoformat(),
                now.isoformat(),
                thread_id,
                actor,
            ),
        )
        result = _change_result(customer_id, current, new_plan_id, prices, difference, today)
        audit.record(
            conn,
            actor=actor,
            action="plan.changed",
            entity=f"customer:{customer_id}",
            details={**result, "thread_id": thread_id},
            at=now,
        )
    return result


def _replayed_change(conn: Connection, customer_id: str, plan_id: str, thread_id: str | None) -> dict[str, Any] | None:
    """The last change to ``plan_id`` made from ``thread_id``, if it is the latest change at all."""
    if thread_id is None:
        return None
    row = conn.execute(
        "SELECT * FROM plan_changes WHERE customer_id = ? ORDER BY id DESC LIMIT 1", (customer_id,)
    ).fetchone()
    if row is None or row["thread_id"] != thread_id or row["new_plan_id"] != plan_id:
        return None
    prices = {p.id: to_cents(p.monthly_price) for p in _plans(conn)}
    return _change_result(
        customer_id,
        row["old_plan_id"],
        plan_id,
        prices,
        row["monthly_difference_cents"],
        date.fromisoformat(row["effective_on"]),
    )


def _change_result(
    customer_id: str, old: str, new: str, prices: dict[str, int], difference: int, effective: date
) -> dict[str, Any]:
    return {
        "customer_id": customer_id,
        "old_plan": old,
        "new_plan": new,
        "old_monthly_price": to_dollars(prices[old]),
        "new_monthly_price": to_dollars(prices[new]),
        "monthly_difference": to_dollars(difference),
        "effective_date": effective.isoformat(),
    }


def _customer_row(conn: Connection, customer_id: str) -> Row:
    row: Row | None = conn.execute("SELECT * FROM customers WHERE id = ?", (customer_id,)).fetchone()
    if row is None:
        raise UnknownCustomer(customer_id)
    return row


def _plans(conn: Connection) -> list[Plan]:
    rows = conn.execute("SELECT * FROM plans ORDER BY monthly_price_cents, id").fetchall()
    return [
        Plan(
            id=row["id"],
            name=row["name"],
            monthly_price=to_dollars(row["monthly_price_cents"]),
            features=json.loads(row["features"]),
        )
        for row in rows
    ]


def _invoices(conn: Connection, customer_id: str, status: str | None) -> list[Invoice]:
    sql = "SELECT * FROM invoices WHERE customer_id = ?"
    params: tuple[str, ...] = (customer_id,)
    if status is not None:
        sql += " AND status = ?"
        params += (status,)
    rows = conn.execute(sql + " ORDER BY issued_on DESC, invoice_id DESC", params).fetchall()
    return [
        Invoice(
            invoice_id=row["invoice_id"],
            order_id=row["order_id"],
            amount=to_dollars(row["amount_cents"]),
            issued_on=date.fromisoformat(row["issued_on"]),
            due_on=date.fromisoformat(row["due_on"]),
            status=row["status"],
        )
        for row in rows
    ]


def card_expired(expires: str, today: date) -> bool:
    """Whether a card expiring "MM/YYYY" can no longer be charged on `today` (it works to the end of that month)."""
    match = re.fullmatch(r"\s*(\d{1,2})/(\d{2}|\d{4})\s*", expires)
    if not match:
        return False
    month, year = int(match.group(1)), int(match.group(2))
    year += 2000 if year < 100 else 0
    return (year, month) < (today.year, today.month)


def _payment_methods(conn: Connection, customer_id: str, today: date) -> list[PaymentMethod]:
    rows = conn.execute(
        "SELECT * FROM payment_methods WHERE customer_id = ? ORDER BY is_default DESC, method_id",
        (customer_id,),
    ).fetchall()
    return [
        PaymentMethod(
            method_id=row["method_id"],
            brand=row["brand"],
            last4=row["last4"],
            expires=row["expires"],
            is_default=bool(row["is_default"]),
            expired=card_expired(row["expires"], today),
        )
        for row in rows
    ]
