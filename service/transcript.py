"""A thread's whole conversation on its live branch: the archived turns, then those in the checkpoint.

After time travel (a fork from an older checkpoint, in Studio or through the API), the archive
holds rows from the abandoned branch too. The live branch is the chain of checkpoints from the
thread's latest one back to its first, following each checkpoint's parent; only archive rows
written from a checkpoint on that chain belong to it.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from langchain_core.messages import AnyMessage
from langgraph.checkpoint.sqlite import SqliteSaver

from nodes.conversation import visible_transcript
from tools.db import Database
from tools.transcripts import archived_messages

__all__ = ["live_branch", "live_transcript", "thread_transcript"]


def _parents(conn: sqlite3.Connection, thread_id: str) -> dict[str, str | None]:
    """Every recorded checkpoint of the thread's root namespace, with its parent.

    Read from `checkpoint_lineage` (`service.checkpointer`), which keeps every checkpoint's parent
    after old checkpoints are pruned, plus the saver's own table for files written before it existed:
    walking the parents through the saver would load every checkpoint's state.
    """
    parents: dict[str, str | None] = {}
    for table in ("checkpoints", "checkpoint_lineage"):
        try:
            rows = conn.execute(
                f"SELECT checkpoint_id, parent_checkpoint_id FROM {table} WHERE thread_id = ? AND checkpoint_ns = ''",
                (thread_id,),
            ).fetchall()
        except sqlite3.OperationalError:  # no lineage table yet in a file no bounded saver has opened
            continue
        parents.update((row[0], row[1]) for row in rows)
    return parents


def live_branch(conn: sqlite3.Connection, thread_id: str, head: str) -> set[str]:
    """The ids of `head` and all its ancestors in the thread's root namespace."""
    parents = _parents(conn, thread_id)
    branch: set[str] = set()
    node: str | None = head
    while node is not None and node not in branch:
        branch.add(node)
        node = parents.get(node)
    return branch


def live_transcript(
    db: Database, conn: sqlite3.Connection, thread_id: str, head: str, messages: Sequence[AnyMessage]
) -> list[dict[str, Any]]:
    """The visible conversation of the branch ending at checkpoint `head`, whose messages are `messages`."""
    in_checkpoint = {m.id for m in messages if m.id}
    known = set(_parents(conn, thread_id))
    branch = live_branch(conn, thread_id, head)
    archived = archived_messages(db, thread_id, branch=branch, known=known, skip=in_checkpoint)
    return archived + visible_transcript(messages)


def thread_transcript(db: Database, checkpoints: Path, thread_id: str) -> dict[str, Any] | None:
    """The live conversation of a thread read from a checkpoints file, or None if it has none.

    Returns:
        `{"thread_id", "checkpoint_id", "messages": [{"role", "agent", "text"}, ...]}`.
    """
    if not checkpoints.exists():
        return None
    with sqlite3.connect(checkpoints) as conn:
        saver = SqliteSaver(conn)
        found = saver.get_tuple({"configurable": {"thread_id": thread_id, "checkpoint_ns": ""}})
        if found is None:
            return None
        messages = found.checkpoint["channel_values"].get("messages") or []
        head = str(found.config["configurable"]["checkpoint_id"])
        return {
            "thread_id": thread_id,
            "checkpoint_id": head,
            "messages": live_transcript(db, conn, thread_id, head, messages),
        }
