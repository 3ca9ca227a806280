"""Routers: pure functions from state to the next node, testable without any model.

Every node records where it wants to go in `state["next"]`; a router checks that the target is
one this node may reach and that the per-message step budget still covers it. Each agent's
router is made from the agent's own transfers, so the drawn graph shows only real edges.
"""

from __future__ import annotations

from collections.abc import Iterable

from langgraph.graph import END

from graph.state import State

__all__ = ["STEP_RESERVE", "Router", "make_router", "route_after_intake"]

# Steps kept back so a turn that runs out can still reach the fallback node and answer.
STEP_RESERVE = 2

# Pauses are not loops: a turn that reaches one is never cut short by the step budget.
_NEVER_CUT = frozenset({"fallback", "approval"})


def _out_of_steps(state: State) -> bool:
    return state.get("remaining_steps", STEP_RESERVE + 1) <= STEP_RESERVE


def route_after_intake(state: State) -> str:
    """A follow-up goes straight to the specialist who owns the conversation (read by the confirm node)."""
    active = state.get("active_agent", "triage")
    return active if active in ("billing", "refund", "faq") else "triage"


class Router:
    """Follows `state["next"]` within `targets` (plus fallback and the end); a pure function of state."""

    def __init__(self, targets: Iterable[str]) -> None:
        self.allowed = frozenset(targets) | {"fallback"}
        self.targets = [*sorted(self.allowed), END]  # the edges drawn for this node

    def __call__(self, state: State) -> str:
        nxt = state.get("next", "end")
        if nxt == "end":
            return END
        if nxt not in self.allowed:
            return "fallback"
        if nxt not in _NEVER_CUT and _out_of_steps(state):
            return "fallback"
        return nxt


def make_router(targets: Iterable[str]) -> Router:
    return Router(targets)
