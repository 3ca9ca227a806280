"""Routers are pure functions of the state: tested without any model."""

from __future__ import annotations

from typing import Any

import pytest
from langgraph.graph import END

from graph.builder import AGENTS, agent_targets, tools_targets
from graph.routing import STEP_RESERVE, make_router, route_after_intake


def state(**fields: Any) -> Any:
    return {"messages": [], "remaining_steps": 20, **fields}


@pytest.mark.parametrize(
    ("active", "expected"),
    [(None, "triage"), ("triage", "triage"), ("billing", "billing"), ("refund", "refund"), ("faq", "faq")],
)
def test_a_follow_up_goes_to_the_owner_of_the_conversation(active: str | None, expected: str) -> None:
    fields = {"active_agent": active} if active else {}
    assert route_after_intake(state(**fields)) == expected


def test_a_router_follows_next_within_its_targets() -> None:
    route = make_router(["billing", "tools"])
    assert route(state(next="billing")) == "billing"
    assert route(state(next="tools")) == "tools"
    assert route(state(next="end")) == END
    assert route(state(next="fallback")) == "fallback"


def test_a_router_refuses_targets_it_does_not_have() -> None:
    route = make_router(["billing"])
    assert route(state(next="approval")) == "fallback"
    assert route(state(next="nowhere")) == "fallback"


def test_running_out_of_steps_ends_in_fallback() -> None:
    route = make_router(["tools", "approval"])
    assert route(state(next="tools", remaining_steps=STEP_RESERVE)) == "fallback"
    assert route(state(next="tools", remaining_steps=STEP_RESERVE + 1)) == "tools"
    # A pause for a manager is not a loop, so it is reached even on the last steps.
    assert route(state(next="approval", remaining_steps=1)) == "approval"


def test_edges_follow_each_agents_transfers() -> None:
    assert set(agent_targets(AGENTS["triage"])) == {"billing", "refund", "faq", "escalation", "triage"}
    assert set(agent_targets(AGENTS["billing"])) == {"refund", "triage", "escalation", "billing", "tools"}
    assert set(agent_targets(AGENTS["refund"])) == {"triage", "escalation", "refund", "tools"}
    assert set(agent_targets(AGENTS["faq"])) == {"triage", "escalation", "faq", "tools"}
    # Only the tools node can pause for a manager: a model cannot skip the refund policy.
    assert "approval" in tools_targets()
    assert all("approval" not in agent_targets(spec) for spec in AGENTS.values())
