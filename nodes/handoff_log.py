"""One structured log line per handoff, readable by people and parseable by machines."""

from __future__ import annotations

import logging
from typing import Any

__all__ = ["describe_handoff", "log_handoff"]

logger = logging.getLogger("support.handoff")


def _short(agent: str) -> str:
    return agent.removesuffix("Agent").upper()


def describe_handoff(entry: dict[str, Any]) -> str:
    """`[TRIAGE → BILLING] charge_dispute | Priority: high | ...` for one handoff entry."""
    record: dict[str, Any] = entry["record"]
    head = f"[{_short(entry['from'])} → {_short(entry['to'])}]"
    fields: list[str] = []
    if "issue_type" in record:
        fields.append(record["issue_type"])
    if "topic" in record:
        fields.append(record["topic"])
    if record.get("amount_mentioned") is not None:
        fields.append(f"Amount: ${record['amount_mentioned']:.2f}")
    if record.get("original_charge_amount") is not None:
        fields.append(f"Amount: ${record['original_charge_amount']:.2f}")
    if record.get("order_id"):
        fields.append(f"Order: {record['order_id']}")
    if "priority" in record:
        fields.append(f"Priority: {record['priority']}")
    if "sentiment" in record:
        fields.append(f"Sentiment: {record['sentiment']}")
    for key, label in (("summary", "Summary"), ("reason", "Reason"), ("specific_question", "Question")):
        if record.get(key):
            fields.append(f"{label}: {record[key]}")
    return " | ".join([head + " " + fields[0], *fields[1:]]) if fields else head


def log_handoff(entry: dict[str, Any]) -> None:
    # The readable line is the message; the full record rides along for JSON log handlers.
    logger.info(describe_handoff(entry), extra={"event": "handoff", "handoff": entry})
