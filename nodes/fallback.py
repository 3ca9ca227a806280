"""Fallback: a polite answer when a model, a tool or the step limit fails the turn."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from langchain_core.messages import AIMessage
from langchain_core.runnables import RunnableConfig
from langgraph.runtime import Runtime

from graph.context import Context
from graph.state import AGENT_NAMES, State
from nodes import replies
from nodes.deps import Deps
from tools.tickets import create_ticket

__all__ = ["make_fallback_node"]

logger = logging.getLogger("support.incident")


def make_fallback_node(deps: Deps) -> Callable[..., dict[str, Any]]:
    def fallback(state: State, runtime: Runtime[Context], config: RunnableConfig) -> dict[str, Any]:
        error = state.get("error") or "step limit reached"
        thread_id = str(config.get("configurable", {}).get("thread_id", "")) or None
        logger.error("turn failed on thread %s: %s", thread_id, error, extra={"event": "incident"})
        ticket = None
        # Money matters get a person even when the machinery failed.
        if any(name in ("RefundAgent", "BillingAgent") for name in state.get("routed_to", [])):
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
        return {"messages": [reply], "active_agent": "triage", "handoff": None, "next": "end"}

    return fallback
