"""The triage agent: greets, refuses what is out of scope, and hands every request to the right specialist."""

from __future__ import annotations

from llm.entities import billing_issue_type, extract_amounts, extract_order_ids, is_affirmative
from llm.offline.records import billing_record, escalation_record, faq_record, refund_record
from llm.offline.smalltalk import out_of_scope_reply, small_talk, small_talk_reply
from llm.offline.turn import Reply, ToolCall, Turn
from llm.router import FIRM_SIGNAL

__all__ = ["triage"]


def triage(turn: Turn) -> Reply:
    """The triage agent's reply to this turn: small talk in text, or one transfer."""
    text = turn.text
    decision = turn.decision
    route = decision.route
    small = small_talk(text)
    if small and not any(turn.signals[r] >= FIRM_SIGNAL for r in ("billing", "refund", "human", "faq")):
        return Reply(text=small_talk_reply(small))
    if route == "other":
        follow = _continuation(turn)
        if follow is not None:
            return follow
        return Reply(text=out_of_scope_reply())
    if route == "refund" and turn.has("transfer_to_refund"):
        return Reply(call=ToolCall("transfer_to_refund", refund_record(text)))
    if route == "billing" and turn.has("transfer_to_billing"):
        return Reply(call=ToolCall("transfer_to_billing", billing_record(text)))
    if route == "faq" and turn.has("transfer_to_faq"):
        return Reply(call=ToolCall("transfer_to_faq", faq_record(text)))
    if route == "human" and turn.has("escalate_to_human"):
        return Reply(call=ToolCall("escalate_to_human", escalation_record(text)))
    return Reply(text=out_of_scope_reply())


def _continuation(turn: Turn) -> Reply | None:
    """A short follow-up ("yes", "ord_102", "the $49 one") goes back to the specialist who asked."""
    text = turn.text
    if not (is_affirmative(text) or extract_order_ids(text) or extract_amounts(text)):
        return None
    last = turn.last_agent().lower()
    context = f"{turn.last_agent_text()} {text}"
    if "refund" in last and turn.has("transfer_to_refund"):
        return Reply(call=ToolCall("transfer_to_refund", refund_record(text)))
    if "billing" in last and turn.has("transfer_to_billing"):
        record = billing_record(text, billing_issue_type(context))
        return Reply(call=ToolCall("transfer_to_billing", record))
    return None
