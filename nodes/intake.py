"""The first node of every turn: reset per-turn fields, load the account once per thread, and send the turn on.

With a proposal waiting for the customer's answer the turn goes to `confirm`, which reads that answer; otherwise
straight to the agent who owns the conversation. Going through `confirm` only to be passed on cost a whole
LangGraph step (about 0.4 ms) on every message that answers no proposal, which is most of them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from langchain_core.messages import RemoveMessage
from langchain_core.runnables import RunnableConfig
from langgraph.runtime import Runtime
from langgraph.types import Command

from graph.context import Context, require_customer
from graph.routing import route_after_intake
from graph.state import AGENT_NAMES, State
from nodes.conversation import messages_to_archive, step_checkpoint, visible_transcript
from nodes.deps import Deps
from tools.accounts import get_account_summary
from tools.transcripts import archive_messages

__all__ = ["INTAKE_DESTINATIONS", "make_intake_node"]

# Where a new message goes, named for the drawn edge.
INTAKE_DESTINATIONS = {
    "confirm": "a proposal waits",
    "triage": "no proposal",
    "billing": "no proposal, follow-up",
    "refund": "no proposal, follow-up",
    "faq": "no proposal, follow-up",
}


def make_intake_node(deps: Deps) -> Callable[..., Command[Any]]:
    def intake(state: State, runtime: Runtime[Context], config: RunnableConfig) -> Command[Any]:
        # Before anything is read or archived: a run that names no customer acts for nobody.
        customer_id = require_customer(runtime.context)
        messages = state["messages"]
        old = messages_to_archive(messages)
        if old:
            # Archived first and idempotently: if this node runs again, nothing is stored twice.
            archive_messages(
                deps.db,
                thread_id=str(config.get("configurable", {}).get("thread_id", "")),
                customer_id=customer_id,
                entries=visible_transcript(old, with_ids=True),
                checkpoint_id=step_checkpoint(config),  # the branch they belong to, for time travel
            )
        turn_start = len(messages) - 1 - len(old)
        active = state.get("active_agent") or "triage"
        update: dict[str, Any] = {
            "messages": [RemoveMessage(id=m.id) for m in old if m.id],
            "turn_start": turn_start,
            "focus": None,
            "answered": None,
            "focus_start": 0,
            "scratch_start": turn_start + 1,
            "active_agent": active,
            "routed_to": [AGENT_NAMES[active]],
            "routing_metadata": [],
            "model_calls": 0,
            "error": None,
        }
        account = state.get("account")
        # Loaded once per thread with no model call; a different customer on the same thread
        # (which the service refuses anyway) would get their own account, never the first one's.
        if not account or account.get("customer_id") != customer_id:
            summary = get_account_summary(deps.db, customer_id)
            update["account"] = summary.model_dump(mode="json")
        # This update leaves the proposal and the owner of the conversation as they were, so they are read here.
        return Command(goto="confirm" if state.get("proposal") else route_after_intake(state), update=update)

    return intake
