"""Records the data layer returns: plain pydantic models, serialised into prompts as JSON.

Everything here is derived from the database by code (for example which charge is a
duplicate), so an agent reads verified facts instead of repeating the customer's claims.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, Field

__all__ = [
    "AccountSummary",
    "Approval",
    "Article",
    "Charge",
    "Invoice",
    "PaymentMethod",
    "Plan",
    "PolicyDecision",
    "RefundOutcome",
    "Ticket",
]


class Plan(BaseModel):
    id: str  # "free", "pro", "enterprise"
    name: str  # "Pro"
    monthly_price: float
    features: list[str] = Field(default_factory=list)


class Charge(BaseModel):
    """One charge (order) on the customer's account, with facts computed by code."""

    order_id: str  # "ord_101"
    amount: float
    currency: str = "USD"
    description: str  # "Pro plan, monthly subscription (November 2026)"
    kind: Literal["subscription", "add_on", "one_time", "seat"]
    charged_on: date
    status: Literal["paid", "unpaid", "failed"]
    invoice_id: str | None = None
    refunded_amount: float = 0.0
    refundable_amount: float = 0.0  # paid minus already refunded; 0 for unpaid
    age_days: int = 0  # days between charged_on and today
    duplicate_of: str | None = None  # order id of the earlier charge this one duplicates (verified)
    awaiting_approval: str | None = None  # id of a refund request on this charge waiting for a manager


class Invoice(BaseModel):
    invoice_id: str
    order_id: str | None
    amount: float
    issued_on: date
    due_on: date
    status: Literal["paid", "open", "void"]


class PaymentMethod(BaseModel):
    method_id: str
    brand: str  # "visa"
    last4: str
    expires: str  # "08/2028"
    is_default: bool
    expired: bool = False  # computed from the account's today: the card can no longer be charged


class AccountSummary(BaseModel):
    """The customer's own account, loaded into the graph state once per thread."""

    customer_id: str
    name: str
    email: str
    plan: Plan
    member_since: date
    today: date
    charges: list[Charge]  # newest first
    invoices: list[Invoice]  # newest first
    payment_methods: list[PaymentMethod]
    available_plans: list[Plan]
    next_renewal: date | None = None  # when the next monthly subscription charge is due (tools.plans)
    # Per other plan: what switching today adds to (positive) or credits on (negative) the next invoice (tools.plans).
    switch_today: dict[str, float] = Field(default_factory=dict)


class PolicyDecision(BaseModel):
    """What the refund policy decided, and which rule fired."""

    outcome: Literal["approve", "needs_approval", "deny"]
    # machine id: "within_policy", "duplicate", "over_500", "older_than_30_days", "unpaid",
    # "already_refunded", "invalid_amount" (see tools/policy.py)
    rule: str
    explanation: str  # one sentence a customer or manager can read
    amount: float  # what would be refunded (0 when denied)


class Approval(BaseModel):
    approval_id: str  # "apr_0001"
    customer_id: str
    customer_name: str
    thread_id: str
    order_id: str
    amount: float
    charge_description: str
    charged_on: date
    rule: str
    explanation: str
    reason: str  # the customer's reason
    status: Literal["pending", "approved", "rejected"]
    requested_at: datetime
    decided_at: datetime | None = None
    decided_by: str | None = None
    note: str | None = None  # approve note or reject reason
    refund_id: str | None = None


class RefundOutcome(BaseModel):
    """The result of asking for a refund of one charge."""

    status: Literal["refunded", "needs_approval", "denied", "not_found"]
    order_id: str
    amount: float = 0.0
    rule: str | None = None
    explanation: str
    refund_id: str | None = None
    approval: Approval | None = None
    replay: bool = False  # an earlier request in this conversation already produced this outcome


class Ticket(BaseModel):
    ticket_id: str  # "TCK-0001"
    customer_id: str
    thread_id: str | None
    reason: str
    priority: str
    status: Literal["open", "closed"]
    created_at: datetime


class Article(BaseModel):
    slug: str
    title: str
    body: str
    score: float  # BM25 relevance, higher is better
