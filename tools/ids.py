"""Readable sequential ids ("rf_0001", "apr_0001", "TCK-0001")."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from tools.db import Connection

__all__ = ["IdKind", "next_id"]

IdKind = Literal["refund", "approval", "ticket"]

# kind -> (table, id column, prefix); fixed strings, so interpolating them into SQL is safe.
_SEQUENCES: dict[str, tuple[str, str, str]] = {
    "refund": ("refunds", "refund_id", "rf_"),
    "approval": ("approvals", "approval_id", "apr_"),
    "ticket": ("tickets", "ticket_id", "TCK-"),
}
_WIDTH = 4


def next_id(conn: Connection, kind: IdKind) -> str:
    """The next free id of ``kind``.

    Call it inside ``Database.transaction()``: the write lock taken by ``BEGIN IMMEDIATE``
    is what stops two processes from picking the same number.
    """
    table, column, prefix = _SEQUENCES[kind]
    # Only ids whose number part is all digits count ("rf_manual1" from an operator does not):
    # SQLite's CAST would read it as 0, PostgreSQL's refuses it, so both filter first.
    digits = (
        f"substr({column}, ?) ~ '^[0-9]+$'"
        if conn.dialect == "postgres"
        else f"substr({column}, ?) <> '' AND substr({column}, ?) NOT GLOB '*[^0-9]*'"
    )
    start = len(prefix) + 1
    row = conn.execute(
        f"SELECT MAX(CAST(substr({column}, ?) AS INTEGER)) FROM {table} WHERE substr({column}, 1, ?) = ? AND {digits}",
        (start, len(prefix), prefix, *([start] * digits.count("?"))),
    ).fetchone()
    return f"{prefix}{(row[0] or 0) + 1:0{_WIDTH}d}"
