"""Billing: invoices, charges, payment methods and plan changes; refunds go to Refund."""

from nodes.agent import AgentSpec

BILLING = AgentSpec(
    key="billing",
    data_tools=("lookup_charge", "find_charges", "list_invoices", "propose_plan_change", "search_faq"),
    handoffs=("transfer_to_refund", "transfer_to_triage", "escalate_to_human"),
)
