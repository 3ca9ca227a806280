"""Fallback: a polite answer when a model, a tool or the step limit fails the turn."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from typing import Any

from langchain_core.messages import AIMessage, HumanMessage
from langchain_core.runnables import RunnableConfig
from langgraph.runtime import Runtime
from langgraph.types import Command

from graph.context import Context
from graph.routing import turn_end
from graph.state import AGENT_NAMES, State
from nodes import replies
from nodes.deps import Deps
from tools.tickets import create_ticket

__all__ = ["is_money_matter", "make_fallback_node"]

logger = logging.getLogger("support.incident")

_MONEY_AGENTS = frozenset({AGENT_NAMES["billing"], AGENT_NAMES["refund"]})
_MONEY_CALLS = frozenset({"transfer_to_billing", "transfer_to_refund", "propose_refund", "propose_plan_change"})
# Words that put a message about money in front of a person. A plain list, not the offline router: this runs when
# the model provider is down, and the production path must not depend on the offline model.
_MONEY_WORDS = re.compile(
    r"[$€£]|\b(?:refund\w*|money|charg\w*|bill\w*|invoice\w*|paid|pay\w*|card|plan|subscri\w*|price\w*"
    r"|cost\w*|dollars?|bucks|ord_\d+|inv_\d+|reimburs\w*|revers\w*|back)\b",
    re.IGNORECASE,
)


def is_money_matter(state: State) -> bool:
    """Whether the failed turn was about money, so a person must follow up.

    True when the turn reached Billing or Refund, when a model asked for a money transfer or tool
    (even a malformed one), or when the customer's own words speak of money (`_MONEY_WORDS`).
    """
    if _MONEY_AGENTS.intersection(state.get("routed_to", [])):
        return True
    messages = state.get("messages", [])
    turn = messages[state.get("turn_start", max(len(messages) - 1, 0)) :]
    for m in turn:
        if isinstance(m, AIMessage):
            names = [c["name"] for c in m.tool_calls] + [c.get("name") for c in m.invalid_tool_calls]
            if _MONEY_CALLS.intersection(n for n in names if n):
                return True
    human = next((m for m in turn if isinstance(m, HumanMessage)), None)
    return human is not None and bool(_MONEY_WORDS.search(human.text))


def make_fallback_node(deps: Deps) -> Callable[..., Command[Any]]:
    def fallback(state: State, runtime: Runtime[Context], config: RunnableConfig) -> Command[Any]:
        error = state.get("error") or "step limit reached"
        thread_id = str(config.get("configurable", {}).get("thread_id", "")) or None
        logger.error("turn failed on thread %s: %s", thread_id, error, extra={"event": "incident"})
        ticket = None
        # Money matters get a person even when the machinery failed.
        if is_money_matter(state):
            try:
                ticket = create_ticket(
                    deps.db,
                    runtime.context.customer_id,
                    thread_id=thread_id,
                    reason=f"Automatic follow-up after a failed turn: {error}"[:1000],
                    priority="high",
                ).model_dump(mode="json")
            except Exception:  # the database may be what failed; the apology still goes out
                logger.exception("could not open a follow-up ticket")
        reply = AIMessage(content=replies.fallback(ticket), name=AGENT_NAMES["fallback"])
        update = {"messages": [reply], "active_agent": "triage", "handoff": None}
        return Command(goto=turn_end(state), update=update)

    return fallback
