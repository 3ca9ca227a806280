"""Prompts are generated from the graph, and no tool lets a model choose the customer."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from graph.builder import AGENTS
from graph.handoffs import HANDOFF_TOOLS
from nodes.prompts import SHARED_PREFIX, account_view, build_system_prompt, handoff_instructions
from service.settings import Settings
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
    assert HANDOFF_TOOLS["transfer_to_faq"].when in text  # the what is the tool's own description
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
    assert json.loads(account) == account_view("billing", {"customer_id": "cust_001"})
    assert "<knowledge>\n" not in prompt  # no block when nothing was retrieved


@pytest.mark.parametrize("agent", sorted(AGENTS))
def test_tools_are_offered_under_their_own_names(agent: str) -> None:
    spec = AGENTS[agent]
    names = [schema["function"]["name"] for schema in spec.tool_schemas()]
    assert names == [*spec.data_tools, *spec.handoffs]


# --- What each agent is sent of the account, and the tool schemas -------------------------------


def _alice(desk: Any) -> dict[str, Any]:
    from tools.accounts import get_account_summary

    return get_account_summary(desk.db, "cust_001").model_dump(mode="json")


def test_each_agent_gets_only_the_slice_of_the_account_it_reads(desk: Any) -> None:
    account = _alice(desk)
    assert account_view("triage", account) == {"name": "Alice Johnson", "plan": "Pro"}
    assert account_view("faq", account) == {"name": "Alice Johnson", "plan": account["plan"]}
    refund = account_view("refund", account)
    assert set(refund) == {"name", "today", "charges", "older_charges"}
    assert [c["order_id"] for c in refund["charges"]] == ["ord_102", "ord_101", "ord_103"]  # the last 62 days
    assert refund["older_charges"] == len(account["charges"]) - 3
    assert refund["charges"][0]["duplicate_of"] == "ord_101" and "duplicate_of" not in refund["charges"][1]
    billing = account_view("billing", account)
    assert billing["charges"] == refund["charges"]
    assert [i["order_id"] for i in billing["invoices"]] == ["ord_102", "ord_101", "ord_103"]
    assert billing["available_plans"] == account["available_plans"]
    assert [m["last4"] for m in billing["payment_methods"]] == [m["last4"] for m in account["payment_methods"]]
    assert account_view("approval", account) == account  # an agent not listed sees everything


def test_an_older_charge_the_customer_names_is_shown(desk: Any) -> None:
    account = _alice(desk)
    for words in ("the $49.99 charge on March 1st", "explain ord_110", "what was the march one?"):
        shown = [c["order_id"] for c in account_view("billing", account, words)["charges"]]
        assert "ord_110" in shown and len(shown) == 4, words


@pytest.mark.parametrize(
    "words", ["what does the marketing add-on cost?", "maybe later", "my card was declined, bill me separately"]
)
def test_a_word_that_starts_like_a_month_names_no_charge(desk: Any, words: str) -> None:
    # "marketing" is not March, "maybe" not May, "declined" not December: the older March charge stays out.
    shown = [c["order_id"] for c in account_view("billing", _alice(desk), words)["charges"]]
    assert shown == ["ord_102", "ord_101", "ord_103"]


def test_billing_looks_further_back_with_its_tools(desk: Any) -> None:
    result = desk.ask("Can you explain the $12.34 charge?", customer_id="cust_001")
    assert result["final_agent"] == "BillingAgent"
    messages = desk.graph.get_state(desk._config(result["thread_id"])).values["messages"]
    assert any(getattr(m, "name", None) == "find_charges" for m in messages)
    assert "couldn't find a charge" in result["response"]  # looked it up: none, and says so


@pytest.mark.parametrize("agent", sorted(AGENTS))
def test_tool_schemas_are_compact_and_keep_every_field(agent: str) -> None:
    spec = AGENTS[agent]
    for schema in spec.tool_schemas():
        text = json.dumps(schema)
        assert '"title"' not in text and "$defs" not in text and "$ref" not in text, text
        name = schema["function"]["name"]
        model = HANDOFF_TOOLS[name].args_model if name in HANDOFF_TOOLS else None
        if model is not None:
            assert set(schema["function"]["parameters"]["properties"]) == set(model.model_fields)


def test_the_four_classic_messages_cost_at_most_14000_prompt_tokens(settings: Settings) -> None:
    """The seed design sent 11,239 tokens for them (o200k); the goal is at most 14,000, two model calls each."""
    from evals.bench import SEED_SCENARIOS
    from evals.harness import DEFAULT_TODAY, fresh_desk

    total = 0
    for _, message in SEED_SCENARIOS:
        with fresh_desk(settings, models={}, today=DEFAULT_TODAY) as fresh:
            result = fresh.ask(message, customer_id="cust_001")
        assert result["model_calls"] == 2, result
        total += result["usage"]["input_tokens"]
    assert total <= 14_000, total
