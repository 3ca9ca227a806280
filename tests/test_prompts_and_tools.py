"""Prompts are generated from the graph, and no tool lets a model choose the customer."""

from __future__ import annotations

import json
import re

import pytest

from graph.builder import AGENTS
from graph.handoffs import HANDOFF_TOOLS
from nodes.prompts import SHARED_PREFIX, build_system_prompt, handoff_instructions
from tools.agent_tools import AGENT_TOOLS


def _all_property_names(schema: dict) -> set[str]:
    names: set[str] = set()

    def walk(node: object) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "properties" and isinstance(value, dict):
                    names.update(value)
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(schema)
    return names


@pytest.mark.parametrize("agent", sorted(AGENTS))
def test_no_tool_offered_to_any_agent_has_a_customer_argument(agent: str) -> None:
    for schema in AGENTS[agent].tool_schemas():
        names = _all_property_names(schema)
        assert not any(re.search("customer|user|account", n) for n in names), (
            schema["function"]["name"],
            names,
        )


def test_every_data_tool_and_transfer_is_offered_to_some_agent() -> None:
    offered = {name for spec in AGENTS.values() for name in (*spec.data_tools, *spec.handoffs)}
    assert set(AGENT_TOOLS) <= offered
    assert set(HANDOFF_TOOLS) <= offered


@pytest.mark.parametrize("agent", sorted(AGENTS))
def test_prompt_lists_exactly_the_transfers_the_agent_has(agent: str) -> None:
    spec = AGENTS[agent]
    prompt = build_system_prompt(agent, spec.handoffs, account=None, handoff=None, history=[])
    assert prompt.startswith(SHARED_PREFIX)
    for name in HANDOFF_TOOLS:
        assert (f"- {name}:" in prompt) == (name in spec.handoffs), name


def test_handoff_instructions_follow_the_tool_registry() -> None:
    text = handoff_instructions(["transfer_to_faq"])
    assert HANDOFF_TOOLS["transfer_to_faq"].description in text
    assert "transfer_to_billing" not in text


def test_context_blocks_are_json_the_model_can_read() -> None:
    prompt = build_system_prompt(
        "billing",
        AGENTS["billing"].handoffs,
        account={"customer_id": "cust_001"},
        handoff={"from": "TriageAgent"},
        history=[{"role": "customer", "agent": None, "text": "hi"}],
    )
    account = prompt.split("<account>\n", 1)[1].split("\n</account>", 1)[0]
    assert json.loads(account) == {"customer_id": "cust_001"}
    assert "<knowledge>\n" not in prompt  # no block when nothing was retrieved


@pytest.mark.parametrize("agent", sorted(AGENTS))
def test_tools_are_offered_under_their_own_names(agent: str) -> None:
    spec = AGENTS[agent]
    names = [schema["function"]["name"] for schema in spec.tool_schemas()]
    assert names == [*spec.data_tools, *spec.handoffs]
