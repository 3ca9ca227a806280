"""Refund: picks the charge and asks the policy; code states the outcome."""

from __future__ import annotations

from nodes import replies
from nodes.agent import AgentSpec, Conclusion
from tools.agent_tools import ToolResult


def conclude_refund(results: list[ToolResult]) -> Conclusion | None:
    """Turn a `process_refund` result into the customer's reply, or a pause for a manager."""
    outcome = next((r.data for r in results if r.name == "process_refund" and r.ok), None)
    if outcome is None:
        return None  # only lookups ran, or the arguments were bad: the model reads the result
    skipped = [
        str(r.data.get("args", {}).get("order_id", "another charge"))
        for r in results
        if r.name == "process_refund" and r.data.get("skipped")
    ]
    later = f" {replies.one_refund_at_a_time(skipped)}" if skipped else ""
    if outcome["status"] == "needs_approval" and outcome.get("approval"):
        approval = outcome["approval"]
        return Conclusion(
            reply=replies.awaiting_approval(approval) + later,
            next="approval",
            updates={"pending_approval": approval},
        )
    return Conclusion(reply=replies.refund_outcome(outcome) + later)


REFUND = AgentSpec(
    key="refund",
    data_tools=("process_refund", "lookup_charge"),
    handoffs=("transfer_to_triage", "escalate_to_human"),
    conclude=conclude_refund,
)
