"""Proposals: the only way money or a plan moves. A model proposes, code quotes, the customer says yes, code acts.

A consequential write (a refund, a request for a manager's approval, a plan change) happens in
three steps, and a model takes part only in the first:

1. An agent's tool call (`propose_refund`, `propose_plan_change`) asks for it. Nothing is written.
2. Code builds a `Proposal` with the exact terms, read from verified data and the pure policy
   (`tools.policy`, `tools.plans`): the charge, the amount (what the customer asked for, capped by
   the policy), the rule that will apply, or the plan, price difference and proration. The
   customer reads those terms in plain words.
3. Only the customer's explicit yes to that proposal, recognised by code (`nodes.confirm`),
   executes it with `execute_proposal`, exactly as proposed. If the facts changed in between (the
   charge was refunded elsewhere, the plan changed), nothing happens and the customer is told.

Execution is idempotent: the proposal id is the refund's idempotency key, an approval request is
unique per conversation and charge, and a plan change replays per conversation, so a resumed or
repeated confirmation never acts twice.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict

from tools import accounts, refunds
from tools.errors import InvalidPlan
from tools.plans import PlanQuote, quote_plan_change
from tools.policy import decide_refund
from tools.records import RefundOutcome

if TYPE_CHECKING:
    from tools.db import Database

__all__ = ["Execution", "Proposal", "execute_proposal", "propose_plan_change", "propose_refund"]

Kind = Literal["refund", "approval_request", "plan_change"]


class Proposal(BaseModel):
    """One consequential action, with every term fixed, waiting for the customer's yes.

    Attributes:
        proposal_id: Unique; the idempotency key of what it executes.
        kind: "refund" (paid at once), "approval_request" (a manager decides) or "plan_change".
        customer_id: Whose account it acts on (from the authenticated request, never a model).
        order_id, amount, rule, explanation, reason: For the two refund kinds.
        quote: For a plan change: plans, prices, difference, proration and dates.
        asked_amount: The amount the customer named, if any (shown when it was capped).
    """

    model_config = ConfigDict(frozen=True)

    proposal_id: str
    kind: Kind
    customer_id: str
    created_at: datetime
    order_id: str | None = None
    amount: float | None = None
    rule: str | None = None
    explanation: str | None = None
    reason: str | None = None
    charge_description: str | None = None
    asked_amount: float | None = None
    quote: PlanQuote | None = None


class Execution(BaseModel):
    """What executing a proposal did.

    Attributes:
        status: "done" (refunded or plan changed), "awaiting_approval" (a manager's request filed),
            or "not_done" (the facts changed since the proposal; nothing was written).
        detail: The refund outcome, the plan change, or why nothing was done.
    """

    status: Literal["done", "awaiting_approval", "not_done"]
    proposal: Proposal
    refund: RefundOutcome | None = None
    plan_change: dict[str, Any] | None = None
    reason: str | None = None


def _new_id() -> str:
    return f"prp_{uuid.uuid4().hex[:12]}"


def propose_refund(
    db: Database, customer_id: str, order_id: str, *, reason: str, requested_amount: float | None
) -> Proposal | RefundOutcome:
    """The refund the policy would give for this charge, as a proposal; a denial needs no yes and comes back as is.

    Nothing is written. Another customer's charge is "not_found", exactly like a missing one.
    """
    charge = accounts.get_charge(db, customer_id, order_id)
    if charge is None:
        return RefundOutcome(
            status="not_found", order_id=order_id, explanation=f"There is no charge {order_id} on this account."
        )
    decision = decide_refund(charge, requested_amount=requested_amount, is_duplicate=charge.duplicate_of is not None)
    if decision.outcome == "deny":
        return RefundOutcome(
            status="denied",
            order_id=order_id,
            amount=decision.amount,
            rule=decision.rule,
            explanation=decision.explanation,
        )
    waiting = refunds.pending_approval_for(db, order_id) if decision.outcome == "needs_approval" else None
    if waiting is not None:  # one request per charge: a yes could never file a second one
        return RefundOutcome(
            status="denied",
            order_id=order_id,
            rule="already_waiting",
            explanation=f"A refund request for {order_id} is already waiting for a manager "
            f"(reference {waiting.approval_id}); the decision will come in the conversation where it was asked.",
            approval=waiting,
        )
    return Proposal(
        proposal_id=_new_id(),
        kind="refund" if decision.outcome == "approve" else "approval_request",
        customer_id=customer_id,
        created_at=db.clock.now(),
        order_id=order_id,
        amount=decision.amount,
        rule=decision.rule,
        explanation=decision.explanation,
        reason=reason,
        charge_description=charge.description,
        asked_amount=requested_amount,
    )


def propose_plan_change(db: Database, customer_id: str, new_plan: str) -> Proposal:
    """A quote for moving the customer to ``new_plan`` from today, as a proposal.

    Raises:
        InvalidPlan: The plan does not exist, or the customer is already on it.
    """
    account = accounts.get_account_summary(db, customer_id)
    quote = quote_plan_change(account, new_plan)
    return Proposal(
        proposal_id=_new_id(),
        kind="plan_change",
        customer_id=customer_id,
        created_at=db.clock.now(),
        quote=quote,
    )


def execute_proposal(db: Database, proposal: Proposal, *, customer_id: str, thread_id: str) -> Execution:
    """Carry out a proposal the customer said yes to, exactly as proposed, or nothing at all.

    Args:
        db: The database.
        proposal: The proposal from the conversation's state.
        customer_id: The authenticated customer of this run; a proposal made for anyone else is refused.
        thread_id: The conversation, recorded with what is written.
    """
    if proposal.customer_id != customer_id:
        return Execution(status="not_done", proposal=proposal, reason="this proposal belongs to another account")
    if proposal.kind == "plan_change":
        return _change_plan(db, proposal, thread_id)
    assert proposal.order_id is not None and proposal.amount is not None  # set for both refund kinds
    outcome = refunds.request_refund(
        db,
        customer_id,
        proposal.order_id,
        reason=proposal.reason or "Customer requested a refund.",
        thread_id=thread_id,
        requested_amount=proposal.amount,
        idempotency_key=f"proposal:{proposal.proposal_id}",
        only_if=("approve" if proposal.kind == "refund" else "needs_approval", proposal.amount),
    )
    if outcome.status == "refunded":
        return Execution(status="done", proposal=proposal, refund=outcome)
    if outcome.status == "needs_approval":
        return Execution(status="awaiting_approval", proposal=proposal, refund=outcome)
    return Execution(status="not_done", proposal=proposal, refund=outcome, reason=outcome.explanation)


def _change_plan(db: Database, proposal: Proposal, thread_id: str) -> Execution:
    quote = proposal.quote
    assert quote is not None  # a plan_change proposal always carries its quote
    try:
        change = accounts.change_plan(
            db,
            proposal.customer_id,
            quote.new_plan,
            thread_id=thread_id,
            actor="customer_confirmed",
            expected_current=quote.old_plan,
        )
    except InvalidPlan as exc:
        return Execution(status="not_done", proposal=proposal, reason=str(exc))
    return Execution(status="done", proposal=proposal, plan_change=change)
