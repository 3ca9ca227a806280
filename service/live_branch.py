"""Which approvals a conversation is really waiting for: the interrupts on its live branch.

A thread's live branch is its latest checkpoint, the one the next message or resume continues
from. An approval is filed in the database and the thread pauses on it with `interrupt()`, but
the two can part: a manager forks the thread or edits an earlier checkpoint (Studio's time
travel), a queued message starts a new turn past the pause, or the thread is deleted. Then the
approval is still pending while nothing waits for it; approving it would pay a refund the
customer never hears about. Every decision therefore checks this first.

Read straight from the checkpoint file (the CLI, the Python API and the server share it), so
the answer is the same whichever process asks, and the server's thread registry (which does not
know the CLI's threads) is not needed.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.checkpoint.sqlite import SqliteSaver

__all__ = ["CHECKPOINTS_FILE", "approval_ids", "waiting_approval_ids", "waiting_approval_ids_in"]

CHECKPOINTS_FILE = "checkpoints.db"
# The channel LangGraph stores a pending interrupt under (the private constant langgraph.constants.INTERRUPT).
INTERRUPT = "__interrupt__"


def approval_ids(value: Any) -> set[str]:
    """The approvals an interrupt waits for: the one it shows and those waiting behind it."""
    payload = getattr(value, "value", value)
    if not isinstance(payload, dict):
        return set()
    shown = payload.get("approval")
    listed = [shown, *(payload.get("also_waiting") or [])]
    return {str(a["approval_id"]) for a in listed if isinstance(a, dict) and a.get("approval_id")}


def waiting_approval_ids(saver: BaseCheckpointSaver[Any], thread_id: str) -> set[str]:
    """The approvals the thread's latest checkpoint is paused on (empty for a lost or idle thread)."""
    found = saver.get_tuple({"configurable": {"thread_id": thread_id, "checkpoint_ns": ""}})
    if found is None:
        return set()
    ids = set()
    for _task, channel, value in found.pending_writes or []:
        if channel != INTERRUPT:
            continue
        for item in value if isinstance(value, (list, tuple)) else [value]:
            ids |= approval_ids(item)
    return ids


def waiting_approval_ids_in(data_dir: Path, thread_id: str) -> set[str]:
    """`waiting_approval_ids` on ``<data dir>/checkpoints.db``, opened for this one read."""
    path = data_dir / CHECKPOINTS_FILE
    if not path.exists():
        return set()
    conn = sqlite3.connect(path, timeout=30)
    try:
        return waiting_approval_ids(SqliteSaver(conn), thread_id)
    finally:
        conn.close()
