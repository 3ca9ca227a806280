"""Load a customer's charges with the facts code derives: refunds, age, duplicates, a refund waiting for a manager."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from tools.money import to_dollars
from tools.policy import find_duplicates, natural_key
from tools.records import Charge

if TYPE_CHECKING:
    from tools.db import Connection, Row

__all__ = ["load_charges"]

_CHARGES_SQL = """
SELECT c.order_id, c.amount_cents, c.currency, c.description, c.kind, c.charged_on, c.status,
       c.invoice_id,
       COALESCE((SELECT SUM(r.amount_cents) FROM refunds r WHERE r.order_id = c.order_id), 0)
           AS refunded_cents,
       (SELECT MIN(a.approval_id) FROM approvals a WHERE a.order_id = c.order_id AND a.status = 'pending')
           AS awaiting_approval
FROM charges c
WHERE c.customer_id = ?
"""


def load_charges(conn: Connection, customer_id: str, today: date) -> list[Charge]:
    """All charges of one customer, newest first, with refunded/refundable amounts,
    ``age_days`` counted to ``today`` and ``duplicate_of`` from ``policy.find_duplicates``.

    Returns an empty list for an unknown customer.
    """
    charges = [_charge(row, today) for row in conn.execute(_CHARGES_SQL, (customer_id,))]
    duplicates = find_duplicates(charges)
    charges = [
        c.model_copy(update={"duplicate_of": duplicates[c.order_id]}) if c.order_id in duplicates else c
        for c in charges
    ]
    charges.sort(key=lambda c: (c.charged_on, natural_key(c.order_id)), reverse=True)
    return charges


def _charge(row: Row, today: date) -> Charge:
    amount, refunded = row["amount_cents"], row["refunded_cents"]
    charged_on = date.fromisoformat(row["charged_on"])
    return Charge(
        order_id=row["order_id"],
        amount=to_dollars(amount),
        currency=row["currency"],
        description=row["description"],
        kind=row["kind"],
        charged_on=charged_on,
        status=row["status"],
        invoice_id=row["invoice_id"],
        refunded_amount=to_dollars(refunded),
        refundable_amount=to_dollars(max(0, amount - refunded)) if row["status"] == "paid" else 0.0,
        age_days=(today - charged_on).days,
        awaiting_approval=row["awaiting_approval"],
    )
