"""Triage: the first contact. It routes; it answers only greetings and out-of-scope requests."""

from nodes.agent import AgentSpec

TRIAGE = AgentSpec(
    key="triage",
    data_tools=(),
    handoffs=("transfer_to_billing", "transfer_to_refund", "transfer_to_faq", "escalate_to_human"),
)
