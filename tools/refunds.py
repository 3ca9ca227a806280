"""Refund requests, manager approvals and the refunds ledger.

Every write runs in one ``BEGIN IMMEDIATE`` transaction and is keyed so that a retry, a
resumed graph or a second process never pays the same refund twice.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from tools import audit
from tools.charges import load_charges
from tools.errors import ApprovalAlreadyDecided, ApprovalNotFound, NothingToRefund, UnknownCustomer
from tools.ids import next_id
from tools.money import format_usd, to_cents, to_dollars
from tools.policy import decide_refund
from tools.records import Approval, Charge, PolicyDecision, RefundOutcome

if TYPE_CHECKING:
    from tools.db import Connection, Database, Row

__all__ = [
    "decide_approval",
    "get_approval",
    "list_approvals",
    "list_refunds",
    "pending_approval_for",
    "request_refund",
]

_AGENT = "refund_agent"
_APPROVAL_STATUSES = frozenset({"pending", "approved", "rejected"})
_APPROVAL_SQL = """
SELECT a.*, cu.name AS customer_name, ch.description AS charge_description, ch.charged_on
FROM approvals a
JOIN customers cu ON cu.id = a.customer_id
JOIN charges ch ON ch.order_id = a.order_id
"""


def request_refund(
    db: Database,
    customer_id: str,
    order_id: str,
    *,
    reason: str,
    thread_id: str,
    requested_amount: float | None = None,
    idempotency_key: str | None = None,
    only_if: tuple[str, float] | None = None,
) -> RefundOutcome:
    """Apply the refund policy to one of the customer's charges and act on the decision.

    approve: a refund row is written (status "refunded"); needs_approval: a pending manager
    approval is filed (status "needs_approval"); deny: nothing is written but the audit row.
    Asking again in the same thread returns the first outcome (same refund or approval)
    instead of acting twice; a manager's earlier rejection in this thread is returned as
    "denied" with rule "rejected_by_manager" to a request that would need a manager again.

    Args:
        db: The database.
        customer_id: The authenticated customer; only their charges are considered.
        order_id: The charge to refund.
        reason: The customer's reason, stored with the refund or approval.
        thread_id: The conversation id; part of the idempotency key.
        requested_amount: Dollars asked for; ``None`` means all that is still refundable.
        idempotency_key: The refund's key; default ``<thread>:<order>``. A confirmed proposal
            passes its own id, so a repeated confirmation replays instead of paying again.
        only_if: ``(policy outcome, amount)`` the caller showed the customer ("approve", 49.99).
            If the policy now decides otherwise (the charge was refunded elsewhere meanwhile),
            nothing is written and the outcome is "denied" with rule ``changed``: the customer
            agreed to those exact terms and no others.

    Raises:
        UnknownCustomer: No customer has this id.
    """
    now = db.clock.now()
    with db.transaction() as conn:
        if conn.execute("SELECT 1 FROM customers WHERE id = ?", (customer_id,)).fetchone() is None:
            raise UnknownCustomer(customer_id)
        charge = next((c for c in load_charges(conn, customer_id, db.clock.today()) if c.order_id == order_id), None)
        key = idempotency_key or f"{thread_id}:{order_id}"
        replay = None
        if charge is None:
            # Same words whether the order is someone else's or does not exist at all.
            outcome = RefundOutcome(
                status="not_found",
                order_id=order_id,
                explanation=f"There is no charge {order_id} on this account.",
            )
        else:
            decision = decide_refund(
                charge, requested_amount=requested_amount, is_duplicate=charge.duplicate_of is not None
            )
            replay = _earlier_outcome(conn, charge, thread_id, key, decision)
            if replay is not None:
                outcome = replay.model_copy(update={"replay": True})
            else:
                outcome = _act(conn, charge, decision, customer_id, reason, thread_id, now, key, only_if)
        audit.record(
            conn,
            actor=_AGENT,
            action=f"refund.{outcome.status}",
            entity=f"order:{order_id}",
            details={
                "customer_id": customer_id,
                "thread_id": thread_id,
                "requested_amount": requested_amount,
                "amount": outcome.amount,
                "rule": outcome.rule,
                "refund_id": outcome.refund_id,
                "approval_id": outcome.approval.approval_id if outcome.approval else None,
                "replay": replay is not None,
                "reason": reason,
            },
            at=now,
        )
    return outcome


def get_approval(db: Database, approval_id: str) -> Approval | None:
    with db.connect() as conn:
        return _load_approval(conn, approval_id)


def list_approvals(db: Database, *, status: str | None = None) -> list[Approval]:
    """Approvals, oldest first, optionally only one status ("pending", "approved", "rejected").

    Raises:
        ValueError: ``status`` is not an approval status.
    """
    if status is not None and status not in _APPROVAL_STATUSES:
        raise ValueError(f"approval status must be one of {sorted(_APPROVAL_STATUSES)}, got {status!r}")
    sql = _APPROVAL_SQL
    params: tuple[str, ...] = ()
    if status is not None:
        sql, params = sql + " WHERE a.status = ?", (status,)
    with db.connect() as conn:
        rows = conn.execute(sql + " ORDER BY a.requested_at, a.approval_id", params).fetchall()
    return [_approval(row) for row in rows]


def decide_approval(db: Database, approval_id: str, *, approve: bool, by: str, note: str | None = None) -> Approval:
    """Approve (and pay) or reject a pending refund approval.

    Approving writes the refund, capped at what the charge still has refundable. Repeating
    the same decision by the same person returns the approval unchanged, so a crashed or
    resumed caller can simply retry. Of two concurrent deciders exactly one wins.

    Args:
        db: The database.
        approval_id: The approval, e.g. "apr_0001".
        approve: True to approve and refund, False to reject.
        by: Who decides (a manager's name); stored and used as the audit actor.
        note: A comment; for a rejection, the reason given to the customer.

    Raises:
        ApprovalNotFound: No approval has this id.
        ApprovalAlreadyDecided: It was decided differently or by someone else.
        NothingToRefund: Approving, but the charge has nothing left to refund (stays pending).
    """
    now = db.clock.now()
    with db.transaction() as conn:
        approval = _load_approval(conn, approval_id)
        if approval is None:
            raise ApprovalNotFound(approval_id)
        if approval.status != "pending":
            if approval.status == ("approved" if approve else "rejected") and approval.decided_by == by:
                return approval
            raise ApprovalAlreadyDecided(approval)
        refund_id: str | None = None
        cents = to_cents(approval.amount)
        if approve:
            charges = load_charges(conn, approval.customer_id, db.clock.today())
            charge = next((c for c in charges if c.order_id == approval.order_id), None)
            # Re-check: the charge may have been refunded elsewhere while the request waited.
            cents = min(cents, to_cents(charge.refundable_amount) if charge else 0)
            if cents <= 0:
                raise NothingToRefund(approval)
            refund_id = _insert_refund(
                conn,
                order_id=approval.order_id,
                customer_id=approval.customer_id,
                cents=cents,
                reason=approval.reason,
                key=f"approval:{approval_id}",
                approval_id=approval_id,
                rule="manager_approved",
                thread_id=approval.thread_id,
                at=now,
            )
        conn.execute(
            "UPDATE approvals SET status = ?, decided_at = ?, decided_by = ?, note = ?, refund_id = ?,"
            " amount_cents = ? WHERE approval_id = ? AND status = 'pending'",
            ("approved" if approve else "rejected", now.isoformat(), by, note, refund_id, cents, approval_id),
        )
        audit.record(
            conn,
            actor=by,
            action="approval.approved" if approve else "approval.rejected",
            entity=f"approval:{approval_id}",
            details={
                "order_id": approval.order_id,
                "customer_id": approval.customer_id,
                "amount": to_dollars(cents),
                "refund_id": refund_id,
                "note": note,
            },
            at=now,
        )
        decided = _load_approval(conn, approval_id)
    assert decided is not None  # we just updated it inside this transaction
    return decided


def list_refunds(db: Database, *, customer_id: str | None = None, order_id: str | None = None) -> list[dict[str, Any]]:
    """Refunds, oldest first, optionally filtered.

    Each is ``{"refund_id", "order_id", "customer_id", "amount" (dollars), "reason",
    "idempotency_key", "approval_id", "rule", "created_at" (ISO string), "thread_id"}``.
    """
    clauses, params = [], []
    for column, value in (("customer_id", customer_id), ("order_id", order_id)):
        if value is not None:
            clauses.append(f"{column} = ?")
            params.append(value)
    where = f" WHERE {' AND '.join(clauses)}" if clauses else ""
    with db.connect() as conn:
        rows = conn.execute(f"SELECT * FROM refunds{where} ORDER BY created_at, refund_id", params).fetchall()
    refunds = [dict(row) for row in rows]
    for refund in refunds:
        refund["amount"] = to_dollars(refund.pop("amount_cents"))
    return refunds


def _act(
    conn: Connection,
    charge: Charge,
    decision: PolicyDecision,
    customer_id: str,
    reason: str,
    thread_id: str,
    now: datetime,
    key: str,
    only_if: tuple[str, float] | None,
) -> RefundOutcome:
    """Write the refund or the approval request the policy's decision calls for."""
    common: dict[str, Any] = {
        "order_id": charge.order_id,
        "amount": decision.amount,
        "rule": decision.rule,
        "explanation": decision.explanation,
    }
    if only_if is not None and (decision.outcome, to_cents(decision.amount)) != (only_if[0], to_cents(only_if[1])):
        return RefundOutcome(
            status="denied",
            order_id=charge.order_id,
            rule="changed",
            explanation=f"Order {charge.order_id} changed since I proposed this refund ({decision.explanation})",
        )
    if decision.outcome == "deny":
        return RefundOutcome(status="denied", **common)
    if decision.outcome == "approve":
        refund_id = _insert_refund(
            conn,
            order_id=charge.order_id,
            customer_id=customer_id,
            cents=to_cents(decision.amount),
            reason=reason,
            key=key,
            approval_id=None,
            rule=decision.rule,
            thread_id=thread_id,
            at=now,
        )
        return RefundOutcome(status="refunded", refund_id=refund_id, **common)
    waiting = _pending_approval_for(conn, charge.order_id)
    if waiting is not None:
        # At most one pending approval per charge: once one is paid, any other could never be
        # approved. The caller's transaction is IMMEDIATE, so two threads cannot both get here first.
        return RefundOutcome(
            status="denied",
            order_id=charge.order_id,
            rule="already_waiting",
            explanation=(
                f"A refund request for {charge.order_id} is already waiting for a manager "
                f"(reference {waiting.approval_id}); the decision will be given in the conversation where it was "
                "asked, so there is no need to ask again."
            ),
            approval=waiting,
        )
    approval_id = next_id(conn, "approval")
    conn.execute(
        "INSERT INTO approvals (approval_id, customer_id, thread_id, order_id, amount_cents, rule,"
        " explanation, reason, status, requested_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'pending', ?)",
        (
            approval_id,
            customer_id,
            thread_id,
            charge.order_id,
            to_cents(decision.amount),
            decision.rule,
            decision.explanation,
            reason,
            now.isoformat(),
        ),
    )
    return RefundOutcome(status="needs_approval", approval=_load_approval(conn, approval_id), **common)


def pending_approval_for(db: Database, order_id: str) -> Approval | None:
    """The approval already waiting for a manager on this charge, if any (read-only)."""
    with db.connect() as conn:
        return _pending_approval_for(conn, order_id)


def _pending_approval_for(conn: Connection, order_id: str) -> Approval | None:
    """The approval already waiting for a manager on this charge, from any conversation."""
    row = conn.execute(
        _APPROVAL_SQL + " WHERE a.order_id = ? AND a.status = 'pending' ORDER BY a.requested_at, a.approval_id",
        (order_id,),
    ).fetchone()
    return None if row is None else _approval(row)


def _earlier_outcome(
    conn: Connection, charge: Charge, thread_id: str, key: str, decision: PolicyDecision
) -> RefundOutcome | None:
    """What an earlier request with this key, or for this order in this thread, already produced, if anything.

    A refund the policy pays at once is a new request even after a manager's decision on this charge (after
    "no" to $899, "$300 then?" is paid), so only a request that would need a manager again replays that decision.
    """
    order_id = charge.order_id
    refund = conn.execute(
        "SELECT refund_id, amount_cents, rule FROM refunds WHERE idempotency_key = ?", (key,)
    ).fetchone()
    if refund is not None:
        amount, refund_id = refund["amount_cents"], refund["refund_id"]
        return RefundOutcome(
            status="refunded",
            order_id=order_id,
            amount=to_dollars(amount),
            rule=refund["rule"],
            refund_id=refund_id,
            explanation=f"Order {order_id} was already refunded {format_usd(amount)} (refund {refund_id}).",
        )
    if decision.outcome == "approve":
        return None
    row = conn.execute(
        _APPROVAL_SQL + " WHERE a.thread_id = ? AND a.order_id = ? ORDER BY a.requested_at DESC, a.approval_id DESC",
        (thread_id, order_id),
    ).fetchone()
    if row is None:
        return None
    approval = _approval(row)
    amount = format_usd(to_cents(approval.amount))
    common: dict[str, Any] = {"order_id": order_id, "amount": approval.amount, "approval": approval}
    if approval.status == "pending":
        return RefundOutcome(status="needs_approval", rule=approval.rule, explanation=approval.explanation, **common)
    if approval.status == "approved":
        return RefundOutcome(
            status="refunded",
            rule="manager_approved",
            refund_id=approval.refund_id,
            explanation=f"A manager approved the refund of {amount} for order {order_id}.",
            **common,
        )
    why = f": {approval.note}" if approval.note else "."
    return RefundOutcome(
        status="denied",
        rule="rejected_by_manager",
        explanation=f"A manager declined the refund of {amount} for order {order_id}{why}",
        **{**common, "amount": 0.0},
    )


def _insert_refund(
    conn: Connection,
    *,
    order_id: str,
    customer_id: str,
    cents: int,
    reason: str,
    key: str,
    approval_id: str | None,
    rule: str,
    thread_id: str | None,
    at: datetime,
) -> str:
    refund_id = next_id(conn, "refund")
    conn.execute(
        "INSERT INTO refunds (refund_id, order_id, customer_id, amount_cents, reason, idempotency_key,"
        " approval_id, rule, created_at, thread_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (refund_id, order_id, customer_id, cents, reason, key, approval_id, rule, at.isoformat(), thread_id),
    )
    return refund_id


def _load_approval(conn: Connection, approval_id: str) -> Approval | None:
    row = conn.execute(_APPROVAL_SQL + " WHERE a.approval_id = ?", (approval_id,)).fetchone()
    return None if row is None else _approval(row)


def _approval(row: Row) -> Approval:
    return Approval(
        approval_id=row["approval_id"],
        customer_id=row["customer_id"],
        customer_name=row["customer_name"],
        thread_id=row["thread_id"],
        order_id=row["order_id"],
        amount=to_dollars(row["amount_cents"]),
        charge_description=row["charge_description"],
        charged_on=row["charged_on"],
        rule=row["rule"],
        explanation=row["explanation"],
        reason=row["reason"],
        status=row["status"],
        requested_at=row["requested_at"],
        decided_at=row["decided_at"],
        decided_by=row["decided_by"],
        note=row["note"],
        refund_id=row["refund_id"],
    )
