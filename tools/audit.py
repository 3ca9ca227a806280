"""Append-only audit log of every change the agents and managers make."""

from __future__ import annotations

import json
from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tools.db import Connection, Database

__all__ = ["list_audit", "record"]


def record(conn: Connection, *, actor: str, action: str, entity: str, details: dict[str, Any], at: datetime) -> None:
    """Append one audit row using ``conn``, so it commits or rolls back with the change itself.

    Args:
        actor: Who acted, e.g. "refund_agent" or a manager's name.
        action: What happened, e.g. "refund.refunded".
        entity: What it happened to, as "kind:id", e.g. "order:ord_101".
        details: JSON-serialisable facts; dates and other objects are stored as strings.
        at: When, timezone-aware.
    """
    conn.execute(
        "INSERT INTO audit_log (at, actor, action, entity, details) VALUES (?, ?, ?, ?, ?)",
        (at.isoformat(), actor, action, entity, json.dumps(details, default=str, sort_keys=True)),
    )


def list_audit(db: Database, *, entity: str | None = None) -> list[dict[str, Any]]:
    """Audit rows, oldest first, optionally only those about ``entity`` ("order:ord_101").

    Each row is ``{"id", "at" (ISO string), "actor", "action", "entity", "details" (dict)}``.
    """
    sql = "SELECT id, at, actor, action, entity, details FROM audit_log"
    params: tuple[str, ...] = ()
    if entity is not None:
        sql += " WHERE entity = ?"
        params = (entity,)
    with db.connect() as conn:
        rows = conn.execute(sql + " ORDER BY id", params).fetchall()
    return [{**dict(row), "details": json.loads(row["details"])} for row in rows]
