"""The archive of a conversation's earlier messages, so checkpoints stay the same size.

Each row records the checkpoint its archiving step started from. LangGraph's time travel forks
a thread at an older checkpoint, so a row belongs only to the branches that pass through that
checkpoint; `archived_messages(..., branch=...)` keeps those and drops the abandoned ones.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any

from tools.db import Database

__all__ = ["archive_messages", "archived_messages", "thread_owner"]


def archive_messages(
    db: Database, *, thread_id: str, customer_id: str, entries: Sequence[dict[str, Any]], checkpoint_id: str = ""
) -> None:
    """Store visible messages (`message_id`, `role`, `agent`, `text`) in order; a replay stores nothing twice.

    Args:
        checkpoint_id: The checkpoint the archiving step started from ('' if unknown).
    """
    if not entries:
        return
    with db.transaction() as conn:
        conn.executemany(
            "INSERT INTO transcript_archive (thread_id, checkpoint_id, message_id, customer_id, role, agent, text)"
            " VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
            [
                (thread_id, checkpoint_id, e["message_id"], customer_id, e["role"], e.get("agent"), e["text"])
                for e in entries
            ],
        )


def thread_owner(db: Database, thread_id: str) -> str | None:
    """The customer a thread belongs to, as the domain data records it (its approvals, then its archive)."""
    with db.connect() as conn:
        for table in ("approvals", "transcript_archive"):
            row = conn.execute(f"SELECT customer_id FROM {table} WHERE thread_id = ? LIMIT 1", (thread_id,)).fetchone()
            if row is not None:
                return str(row[0])
    return None


def archived_messages(
    db: Database,
    thread_id: str,
    *,
    branch: Collection[str] | None = None,
    known: Collection[str] | None = None,
    skip: Collection[str] = (),
) -> list[dict[str, Any]]:
    """The archived messages of a thread, oldest first, as `{"role", "agent", "text"}`.

    Args:
        branch: The checkpoint ids of the live branch (see `service.transcript`); None keeps every row.
        known: Every checkpoint id the thread's lineage records. A row from a checkpoint that was never
            stored (a run that saves only its last step) cannot belong to an abandoned branch, so it is kept.
        skip: Message ids to leave out (those still in the checkpoint, after a fork from before the
            archive point).
    """
    with db.connect() as conn:
        rows = conn.execute(
            "SELECT checkpoint_id, message_id, role, agent, text FROM transcript_archive "
            "WHERE thread_id = ? ORDER BY id",
            (thread_id,),
        ).fetchall()
    seen = set(skip)
    out = []
    for r in rows:
        cid = r["checkpoint_id"]
        on_branch = branch is None or not cid or cid in branch or (known is not None and cid not in known)
        if not on_branch or r["message_id"] in seen:  # one message archived on two branches shows once
            continue
        seen.add(r["message_id"])
        out.append({"role": r["role"], "agent": r["agent"], "text": r["text"]})
    return out
