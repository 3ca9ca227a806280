"""Escalation: open a ticket for a person and tell the customer its id."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from langchain_core.messages import AIMessage
from langchain_core.runnables import RunnableConfig
from langgraph.runtime import Runtime
from langgraph.types import Command

from graph.context import Context
from graph.routing import turn_end
from graph.state import AGENT_NAMES, State
from nodes import replies
from nodes.deps import Deps
from tools.tickets import create_ticket, open_ticket

__all__ = ["make_escalation_node"]


def make_escalation_node(deps: Deps) -> Callable[..., Command[Any]]:
    def escalation(state: State, runtime: Runtime[Context], config: RunnableConfig) -> Command[Any]:
        record = (state.get("handoff") or {}).get("record", {})
        thread_id = str(config.get("configurable", {}).get("thread_id", "")) or None
        # One conversation, one ticket: asking for a person again is answered with the ticket already open.
        ticket = (open_ticket(deps.db, thread_id) if thread_id else None) or create_ticket(
            deps.db,
            runtime.context.customer_id,
            thread_id=thread_id,
            reason=record.get("reason") or "The customer asked for a person.",
            priority=record.get("priority") or "medium",
        )
        reply = AIMessage(content=replies.escalated(ticket.model_dump(mode="json")), name=AGENT_NAMES["escalation"])
        # The next message starts fresh with triage: the ticket now owns this matter.
        update = {"messages": [reply], "active_agent": "triage", "handoff": None}
        return Command(goto=turn_end(state), update=update)

    return escalation
