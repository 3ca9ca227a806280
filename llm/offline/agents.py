"""Which agent the model plays, read from the bound tools, and its reply to one model call."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, Literal

from langchain_core.messages import BaseMessage

from llm.offline.billing import billing
from llm.offline.faq import faq
from llm.offline.refund import refund
from llm.offline.smalltalk import out_of_scope_reply, small_talk, small_talk_reply
from llm.offline.triage import triage
from llm.offline.turn import Reply, Turn, parse_turn

__all__ = ["Role", "decide", "role"]

Role = Literal["triage", "billing", "refund", "faq", "generic"]


def role(tools: Mapping[str, Any]) -> Role:
    """The agent whose tools these are; "generic" when there is none (plain chat)."""
    if "propose_plan_change" in tools:
        return "billing"
    if "propose_refund" in tools:
        return "refund"
    if "search_faq" in tools:
        return "faq"
    if "transfer_to_billing" in tools:
        return "triage"
    return "generic"


def _generic(turn: Turn) -> Reply:
    small = small_talk(turn.text)
    return Reply(text=small_talk_reply(small) if small else out_of_scope_reply())


_AGENTS: dict[Role, Callable[[Turn], Reply]] = {
    "triage": triage,
    "billing": billing,
    "refund": refund,
    "faq": faq,
    "generic": _generic,
}


def decide(messages: Sequence[BaseMessage], tools: Sequence[Mapping[str, Any]]) -> Reply:
    """The reply to one model call: the agent's own, within the bound tools."""
    turn = parse_turn(messages, tools)
    reply = _AGENTS[role(turn.tools)](turn)
    if reply.call is not None and reply.call.name not in turn.tools:
        reply = Reply(text=out_of_scope_reply())  # defensive: only bound tools are ever called
    return reply
