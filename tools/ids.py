"""Readable sequential ids ("rf_0001", "apr_0001", "TCK-0001")."""

from __future__ import annotations

import sqlite3
from typing import Literal

__all__ = ["IdKind", "next_id"]

IdKind = Literal["refund", "approval", "ticket"]

# kind -> (table, id column, prefix); fixed strings, so interpolating them into SQL is safe.
_SEQUENCES: dict[str, tuple[str, str, str]] = {
    "refund": ("refunds", "refund_id", "rf_"),
    "approval": ("approvals", "approval_id", "apr_"),
    "ticket": ("tickets", "ticket_id", "TCK-"),
}
_WIDTH = 4


def next_id(conn: sqlite3.Connection, kind: IdKind) -> str:
    """The next free id of ``kind``.

    Call it inside ``Database.transaction()``: the write lock taken by ``BEGIN IMMEDIATE``
    is what stops two processes from picking the same number.
    """
    table, column, prefix = _SEQUENCES[kind]
    row = conn.execute(
        f"SELECT MAX(CAST(substr({column}, ?) AS INTEGER)) FROM {table} WHERE substr({column}, 1, ?) = ?",
        (len(prefix) + 1, len(prefix), prefix),
    ).fetchone()
    return f"{prefix}{(row[0] or 0) + 1:0{_WIDTH}d}"
