"""The archive of a conversation's earlier messages, so checkpoints stay the same size."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from tools.db import Database

__all__ = ["archive_messages", "archived_messages"]


def archive_messages(db: Database, *, thread_id: str, customer_id: str, entries: Sequence[dict[str, Any]]) -> None:
    """Store visible messages (`message_id`, `role`, `agent`, `text`) in order; a replay stores nothing twice."""
    if not entries:
        return
    with db.transaction() as conn:
        conn.executemany(
            "INSERT OR IGNORE INTO transcript_archive (thread_id, message_id, customer_id, role, agent, text) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            [(thread_id, e["message_id"], customer_id, e["role"], e.get("agent"), e["text"]) for e in entries],
        )


def archived_messages(db: Database, thread_id: str) -> list[dict[str, Any]]:
    """The archived messages of a thread, oldest first, as `{"role", "agent", "text"}`."""
    with db.connect() as conn:
        rows = conn.execute(
            "SELECT role, agent, text FROM transcript_archive WHERE thread_id = ? ORDER BY id", (thread_id,)
        ).fetchall()
    return [{"role": r["role"], "agent": r["agent"], "text": r["text"]} for r in rows]
