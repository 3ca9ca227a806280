"""Demo data, with every date relative to "today" so each policy branch shows on any day.

Customers and what they demonstrate:

- cust_001 Alice (Pro): 12 monthly charges on the 1st; this month's ``ord_101`` was taken
  twice (``ord_102``), a verified duplicate.
- cust_002 Bob (Enterprise): this month's ``ord_201`` is unpaid with an open invoice.
- cust_003 Carol (Pro): ``ord_301``, an $899.00 seat pack 10 days ago (over $500).
- cust_004 Dan (Pro): ``ord_401`` 45 days ago (outside 30 days); ``ord_402`` $29.00 5 days ago.
- cust_005 Erin (Pro): ``ord_501`` already fully refunded; ``ord_502`` $120.00 with $20.00 refunded.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tools.db import Connection

__all__ = ["seed"]

_MONTHS = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)  # fmt: skip
_INVOICE_TERMS = timedelta(days=14)

_PLANS = (
    ("free", "Free", 0, ["Up to 3 projects", "2 team members", "Community support"]),
    (
        "pro",
        "Pro",
        4999,
        ["Unlimited projects", "Up to 25 team members", "Dashboards and reports", "CSV/JSON/PDF export",
         "API access", "Email support"],
    ),
    (
        "enterprise",
        "Enterprise",
        19999,
        ["Everything in Pro", "Unlimited team members", "SSO (SAML and OIDC)", "Audit log",
         "Priority support", "99.9% uptime SLA"],
    ),
)  # fmt: skip


def seed(conn: Connection, today: date) -> None:
    """Insert plans, the five demo customers and their billing history.

    Expects an empty database with the schema in place; run it inside a transaction.
    """
    conn.executemany(
        "INSERT INTO plans (id, name, monthly_price_cents, features) VALUES (?, ?, ?, ?)",
        [(pid, name, cents, json.dumps(features)) for pid, name, cents, features in _PLANS],
    )
    _alice(conn, today)
    _bob(conn, today)
    _carol(conn, today)
    _dan(conn, today)
    _erin(conn, today)


def _alice(conn: Connection, today: date) -> None:
    _customer(conn, "cust_001", "Alice Johnson", "alice@example.com", "pro", _month_start(today, 11))
    this_month = _month_start(today, 0)
    _charge(conn, "cust_001", "ord_101", 4999, _monthly("Pro", this_month), "subscription", this_month)
    # The double charge: identical to ord_101 in every way but its id.
    _charge(conn, "cust_001", "ord_102", 4999, _monthly("Pro", this_month), "subscription", this_month)
    for back in range(1, 12):
        day = _month_start(today, back)
        _charge(conn, "cust_001", f"ord_{102 + back}", 4999, _monthly("Pro", day), "subscription", day)
    _card(conn, "cust_001", "pm_0011", "visa", "4242", _expiry(today, years=2), default=True)
    _card(conn, "cust_001", "pm_0012", "mastercard", "5454", _expiry(today, years=1), default=False)


def _bob(conn: Connection, today: date) -> None:
    _customer(conn, "cust_002", "Bob Smith", "bob@example.com", "enterprise", _month_start(today, 3))
    this_month = _month_start(today, 0)
    desc = _monthly("Enterprise", this_month)
    _charge(conn, "cust_002", "ord_201", 19999, desc, "subscription", this_month, status="unpaid")
    for back in range(1, 4):
        day = _month_start(today, back)
        _charge(conn, "cust_002", f"ord_{201 + back}", 19999, _monthly("Enterprise", day), "subscription", day)
    # An expired default card is why this month's invoice is still open.
    _card(conn, "cust_002", "pm_0021", "amex", "0005", _expiry(today, years=0, months_back=1), default=True)


def _carol(conn: Connection, today: date) -> None:
    _customer(conn, "cust_003", "Carol Diaz", "carol@example.com", "pro", today - timedelta(days=200))
    seats = "Annual seat pack (10 additional seats)"
    _charge(conn, "cust_003", "ord_301", 89900, seats, "seat", today - timedelta(days=10))
    this_month = _month_start(today, 0)
    _charge(conn, "cust_003", "ord_302", 4999, _monthly("Pro", this_month), "subscription", this_month)
    _card(conn, "cust_003", "pm_0031", "visa", "1881", _expiry(today, years=3), default=True)


def _dan(conn: Connection, today: date) -> None:
    _customer(conn, "cust_004", "Dan Okafor", "dan@example.com", "pro", today - timedelta(days=400))
    old = today - timedelta(days=45)
    _charge(conn, "cust_004", "ord_401", 4999, _monthly("Pro", old), "subscription", old)
    addon = "Advanced reporting add-on (one month)"
    _charge(conn, "cust_004", "ord_402", 2900, addon, "add_on", today - timedelta(days=5))
    _card(conn, "cust_004", "pm_0041", "mastercard", "4444", _expiry(today, years=1), default=True)


def _erin(conn: Connection, today: date) -> None:
    _customer(conn, "cust_005", "Erin Walsh", "erin@example.com", "pro", today - timedelta(days=90))
    monthly_on = today - timedelta(days=12)
    _charge(conn, "cust_005", "ord_501", 4999, _monthly("Pro", monthly_on), "subscription", monthly_on)
    onboarding_on = today - timedelta(days=3)
    _charge(conn, "cust_005", "ord_502", 12000, "Priority onboarding session", "one_time", onboarding_on)
    _refund(conn, "rf_0001", "cust_005", "ord_501", 4999, "Charged after cancelling", today - timedelta(days=10))
    _refund(conn, "rf_0002", "cust_005", "ord_502", 2000, "Session was shortened", today - timedelta(days=2))
    _card(conn, "cust_005", "pm_0051", "visa", "0077", _expiry(today, years=2), default=True)


def _customer(conn: Connection, customer_id: str, name: str, email: str, plan_id: str, since: date) -> None:
    conn.execute(
        "INSERT INTO customers (id, name, email, plan_id, member_since) VALUES (?, ?, ?, ?, ?)",
        (customer_id, name, email, plan_id, since.isoformat()),
    )


def _charge(
    conn: Connection,
    customer_id: str,
    order_id: str,
    cents: int,
    description: str,
    kind: str,
    on: date,
    *,
    status: str = "paid",
) -> None:
    """Insert a charge and its invoice (``inv_<number>``), paid or open like the charge."""
    invoice_id = "inv_" + order_id.removeprefix("ord_")
    conn.execute(
        "INSERT INTO charges (order_id, customer_id, amount_cents, description, kind, charged_on, status,"
        " invoice_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (order_id, customer_id, cents, description, kind, on.isoformat(), status, invoice_id),
    )
    conn.execute(
        "INSERT INTO invoices (invoice_id, customer_id, order_id, amount_cents, issued_on, due_on, status)"
        " VALUES (?, ?, ?, ?, ?, ?, ?)",
        (
            invoice_id,
            customer_id,
            order_id,
            cents,
            on.isoformat(),
            (on + _INVOICE_TERMS).isoformat(),
            "paid" if status == "paid" else "open",
        ),
    )


def _refund(
    conn: Connection,
    refund_id: str,
    customer_id: str,
    order_id: str,
    cents: int,
    reason: str,
    on: date,
) -> None:
    conn.execute(
        "INSERT INTO refunds (refund_id, order_id, customer_id, amount_cents, reason, idempotency_key,"
        " rule, created_at, thread_id) VALUES (?, ?, ?, ?, ?, ?, 'seed', ?, NULL)",
        (
            refund_id,
            order_id,
            customer_id,
            cents,
            reason,
            f"seed:{order_id}",
            datetime.combine(on, time(10, 0), tzinfo=UTC).isoformat(),
        ),
    )


def _card(
    conn: Connection,
    customer_id: str,
    method_id: str,
    brand: str,
    last4: str,
    expires: str,
    *,
    default: bool,
) -> None:
    conn.execute(
        "INSERT INTO payment_methods (method_id, customer_id, brand, last4, expires, is_default)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        (method_id, customer_id, brand, last4, expires, int(default)),
    )


def _month_start(today: date, back: int) -> date:
    """The 1st of the month ``back`` months before today's month."""
    year, month0 = divmod(today.year * 12 + today.month - 1 - back, 12)
    return date(year, month0 + 1, 1)


def _monthly(plan_name: str, day: date) -> str:
    return f"{plan_name} plan, monthly subscription ({_MONTHS[day.month - 1]} {day.year})"


def _expiry(today: date, *, years: int, months_back: int = 0) -> str:
    """A card expiry "MM/YYYY" relative to today, so cards stay valid (or expired) on any day."""
    year, month0 = divmod((today.year + years) * 12 + today.month - 1 - months_back, 12)
    return f"{month0 + 1:02d}/{year}"
