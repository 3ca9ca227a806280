"""Refund: picks the charge and proposes a refund; code states the terms, or why there is nothing to refund."""

from __future__ import annotations

from nodes import replies
from nodes.agent import AgentSpec, Conclusion
from tools.agent_tools import ToolResult


def conclude_refund(results: list[ToolResult]) -> Conclusion | None:
    """Turn a policy question (`check_refund`) or a `propose_refund` with nothing to propose into the reply.

    A proposal is stated by the tools node itself; lookups and bad arguments go back to the model.
    """
    checked = next((r.data for r in results if r.name == "check_refund" and r.ok), None)
    if checked is not None:
        return Conclusion(reply=replies.refund_policy_answer(checked))
    outcome = next((r.data for r in results if r.name == "propose_refund" and r.ok), None)
    if outcome is not None and outcome.get("status") == "unclear_amount":
        return Conclusion(reply=replies.unclear_amount(outcome["figures"]))
    if outcome is None or outcome.get("status") not in ("denied", "not_found"):
        return None
    return Conclusion(reply=replies.refund_outcome(outcome))


REFUND = AgentSpec(
    key="refund",
    data_tools=("propose_refund", "check_refund", "lookup_charge"),
    handoffs=("transfer_to_triage", "escalate_to_human"),
    conclude=conclude_refund,
)
