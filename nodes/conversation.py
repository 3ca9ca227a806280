"""What a specialist sees of the conversation: a bounded summary, not the raw transcript.

Earlier turns are compacted to the last few customer messages and replies, each trimmed, so a
prompt stays the same size however long the thread grows. Tool exchanges of earlier turns are
dropped: their outcome is already in the replies and in the account summary.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from langchain_core.messages import AIMessage, AnyMessage, HumanMessage

__all__ = [
    "HISTORY_ITEMS",
    "HISTORY_ITEM_CHARS",
    "KEEP_MESSAGES",
    "compact_history",
    "messages_to_archive",
    "step_checkpoint",
    "visible_transcript",
]

HISTORY_ITEMS = 6
HISTORY_ITEM_CHARS = 300
# Messages kept in the checkpoint. Older ones move to the transcript archive, so a checkpoint
# (written several times per turn) stays the same size however long the thread grows.
KEEP_MESSAGES = 40


def _trim(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def visible_transcript(messages: Sequence[AnyMessage], *, with_ids: bool = False) -> list[dict[str, Any]]:
    """The customer's messages and the agents' replies, without tool traffic."""
    out: list[dict[str, Any]] = []
    for m in messages:
        if isinstance(m, HumanMessage):
            entry = {"role": "customer", "agent": None, "text": m.text}
        elif isinstance(m, AIMessage) and not m.tool_calls and m.text:
            entry = {"role": "agent", "agent": m.name, "text": m.text}
        else:
            continue
        out.append({**entry, "message_id": m.id} if with_ids else entry)
    return out


def messages_to_archive(messages: Sequence[AnyMessage], keep: int = KEEP_MESSAGES) -> list[AnyMessage]:
    """The oldest messages beyond `keep`, cut at a customer message so no tool exchange is split."""
    if len(messages) <= keep:
        return []
    cut = len(messages) - keep
    while cut < len(messages) and not isinstance(messages[cut], HumanMessage):
        cut += 1
    return list(messages[:cut])


def step_checkpoint(config: Mapping[str, Any]) -> str:
    """The checkpoint the running step started from ('' outside a checkpointed run).

    Archive rows carry it, so history can tell which branch of a forked thread they belong to.
    """
    configurable = config.get("configurable") or {}
    return str((configurable.get("checkpoint_map") or {}).get("") or configurable.get("checkpoint_id") or "")


def compact_history(messages: Sequence[AnyMessage], turn_start: int) -> list[dict[str, Any]]:
    """The last few exchanges before this turn, trimmed; older ones are counted, not copied."""
    earlier = visible_transcript(messages[:turn_start])
    kept = earlier[-HISTORY_ITEMS:]
    items = [{**item, "text": _trim(item["text"], HISTORY_ITEM_CHARS)} for item in kept]
    if len(earlier) > len(kept):
        omitted = len(earlier) - len(kept)
        items.insert(0, {"role": "note", "agent": None, "text": f"{omitted} earlier messages omitted"})
    return items
