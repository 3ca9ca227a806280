"""Support tickets for a human agent, one per conversation and reason."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tools import audit
from tools.errors import UnknownCustomer
from tools.ids import next_id
from tools.records import Ticket

if TYPE_CHECKING:
    from tools.db import Database, Row

__all__ = ["PRIORITIES", "create_ticket", "list_tickets", "open_ticket"]

PRIORITIES = ("low", "medium", "high", "critical")


def create_ticket(
    db: Database,
    customer_id: str,
    *,
    thread_id: str | None,
    reason: str,
    priority: str,
    actor: str = "escalation_agent",
) -> Ticket:
    """Open a ticket, or return the one this thread already opened for the same reason.

    The lookup by (thread_id, reason) means a resumed graph node does not open a second
    ticket. Without a thread id every call opens a new ticket. ``actor`` is written to the
    audit log.

    Raises:
        UnknownCustomer: No customer has this id.
        ValueError: ``priority`` is not one of ``PRIORITIES``.
    """
    if priority not in PRIORITIES:
        raise ValueError(f"priority must be one of {PRIORITIES}, got {priority!r}")
    now = db.clock.now()
    with db.transaction() as conn:
        if conn.execute("SELECT 1 FROM customers WHERE id = ?", (customer_id,)).fetchone() is None:
            raise UnknownCustomer(customer_id)
        if thread_id is not None:
            existing = conn.execute(
                "SELECT * FROM tickets WHERE thread_id = ? AND reason = ?", (thread_id, reason)
            ).fetchone()
            if existing is not None:
                return _ticket(existing)
        ticket_id = next_id(conn, "ticket")
        conn.execute(
            "INSERT INTO tickets (ticket_id, customer_id, thread_id, reason, priority, status, created_at)"
            " VALUES (?, ?, ?, ?, ?, 'open', ?)",
            (ticket_id, customer_id, thread_id, reason, priority, now.isoformat()),
        )
        audit.record(
            conn,
            actor=actor,
            action="ticket.created",
            entity=f"ticket:{ticket_id}",
            details={
                "customer_id": customer_id,
                "thread_id": thread_id,
                "priority": priority,
                "reason": reason,
            },
            at=now,
        )
        row = conn.execute("SELECT * FROM tickets WHERE ticket_id = ?", (ticket_id,)).fetchone()
    return _ticket(row)


def open_ticket(db: Database, thread_id: str) -> Ticket | None:
    """The ticket this conversation already has open, if any (the oldest)."""
    with db.connect() as conn:
        row = conn.execute(
            "SELECT * FROM tickets WHERE thread_id = ? AND status = 'open' ORDER BY created_at, ticket_id", (thread_id,)
        ).fetchone()
    return None if row is None else _ticket(row)


def list_tickets(db: Database, *, customer_id: str | None = None) -> list[Ticket]:
    """Tickets, oldest first, optionally only one customer's."""
    sql = "SELECT * FROM tickets"
    params: tuple[str, ...] = ()
    if customer_id is not None:
        sql, params = sql + " WHERE customer_id = ?", (customer_id,)
    with db.connect() as conn:
        rows = conn.execute(sql + " ORDER BY created_at, ticket_id", params).fetchall()
    return [_ticket(row) for row in rows]


def _ticket(row: Row) -> Ticket:
    return Ticket(
        ticket_id=row["ticket_id"],
        customer_id=row["customer_id"],
        thread_id=row["thread_id"],
        reason=row["reason"],
        priority=row["priority"],
        status=row["status"],
        created_at=row["created_at"],
    )
