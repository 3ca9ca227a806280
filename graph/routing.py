"""Where a turn may go next: pure functions of the state and the graph's shape, testable without any model.

Nodes route with LangGraph's own `Command(goto=...)` and declare every place they can send the turn
with `destinations=`, so the graph Studio draws is the one that runs. These functions hold the two
rules every hop obeys: a follow-up goes to the specialist who owns the conversation, and a turn
that runs out of steps ends in the fallback (which answers) instead of failing.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from langgraph.graph import END

from graph.state import State

__all__ = ["STEP_RESERVE", "budgeted", "route_after_intake", "tools_node", "turn_end", "waiting_approvals"]

# Steps kept back so a turn that runs out can still reach the fallback node and answer.
STEP_RESERVE = 2

# Pauses and endings are not loops: a turn that reaches one is never cut short by the step budget.
_NEVER_CUT = frozenset({"fallback", "approval", END})


def route_after_intake(state: State) -> str:
    """A follow-up goes straight to the specialist who owns the conversation."""
    active = state.get("active_agent", "triage")
    return active if active in ("billing", "refund", "faq") else "triage"


def budgeted(state: State, target: str) -> str:
    """``target``, or the fallback when the turn's step budget is spent."""
    if target in _NEVER_CUT:
        return target
    return "fallback" if state.get("remaining_steps", STEP_RESERVE + 1) <= STEP_RESERVE else target


def tools_node(agent: str) -> str:
    """The node that runs one agent's tools: one per agent, so a trace shows who called what."""
    return f"{agent}_tools"


def waiting_approvals(state: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The refunds this thread waits on a manager for, oldest first (the first is the one shown)."""
    queue = list(state.get("waiting_approvals") or [])
    pending = state.get("pending_approval")
    if pending and all(a.get("approval_id") != pending.get("approval_id") for a in queue):
        queue.insert(0, pending)
    return queue


def turn_end(state: Mapping[str, Any]) -> str:
    """Where a finished turn goes: back to waiting for the manager while a refund still waits, else the end.

    The customer may keep talking while a manager decides; each turn then ends paused on the approval
    again, so the manager's decision still reaches this conversation.
    """
    return "approval" if waiting_approvals(state) else END
