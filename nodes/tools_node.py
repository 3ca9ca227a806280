"""Runs the data tools an agent asked for, for the authenticated customer only.

A tool that proposes (a refund, a plan change) leaves a `Proposal` here; this node stores it in
the state and ends the turn with its terms in code-written words. Only the customer's yes, in
`nodes.confirm`, executes it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from langchain_core.messages import AIMessage, AnyMessage, ToolMessage
from langchain_core.runnables import Runnable, RunnableConfig, RunnableLambda
from langgraph.graph import END
from langgraph.runtime import Runtime
from langgraph.types import Command

from graph.context import Context
from graph.routing import budgeted
from graph.state import State
from nodes import replies
from nodes.agent import AgentSpec, turn_messages
from nodes.deps import Deps
from nodes.next_request import NEXT_REQUEST, WAIT_AGAIN, end_turn
from tools.agent_tools import AGENT_TOOLS, ToolContext, ToolResult, run_tool

__all__ = ["make_tools_node", "tools_destinations"]

logger = logging.getLogger("support.tools")

# One proposal at a time: the customer says yes to one set of terms. A model that proposes two
# things in one message gets the first, and the rest are answered "not run" (and the customer is
# told so) instead of being silently dropped.
PROPOSING = frozenset(name for name, tool in AGENT_TOOLS.items() if tool.proposes)


def tools_destinations(spec: AgentSpec) -> dict[str, str]:
    """Back to the agent that called the tools, the end (a proposal or an outcome stated by code), or the fallback."""
    return {
        spec.key: "results",
        END: "reply by code",
        "approval": WAIT_AGAIN,
        "triage": NEXT_REQUEST,
        "fallback": "failed",
    }


def _traced(name: str) -> Runnable[tuple[dict[str, Any], ToolContext], ToolResult]:
    # One span per tool call in LangSmith (and in LangGraph's debug stream), named after the tool.
    return RunnableLambda(lambda item: run_tool(name, item[0], item[1]), name=name)


def _offer(proposal: dict[str, Any] | None) -> tuple[str, float] | None:
    """The (order id, amount) of a refund proposal this turn's message answered, if it was one."""
    if not proposal or proposal.get("order_id") is None or proposal.get("amount") is None:
        return None
    return str(proposal["order_id"]).lower(), float(proposal["amount"])


def make_tools_node(deps: Deps, spec: AgentSpec) -> Callable[..., Command[Any]]:
    """The node that runs ``spec``'s tools (one such node per agent), for the authenticated customer only."""

    def tools(state: State, runtime: Runtime[Context], config: RunnableConfig) -> Command[Any]:
        last = state["messages"][-1]
        calls = last.tool_calls if isinstance(last, AIMessage) else []
        ctx = ToolContext(
            db=deps.db,
            customer_id=runtime.context.customer_id,
            thread_id=str(config.get("configurable", {}).get("thread_id", "")),
            customer_text=turn_messages(state)[0].text,
            answered_offer=_offer(state.get("answered")),
        )
        results: list[ToolResult] = []
        messages: list[AnyMessage] = []
        proposed = False
        try:
            for call in calls:
                if call["name"] in PROPOSING and proposed:
                    result = ToolResult(
                        call["name"],
                        False,
                        {"error": "not run: one proposal at a time", "skipped": True, "args": call["args"]},
                    )
                elif call["name"] in spec.data_tools:
                    result = _traced(call["name"]).invoke((call["args"], ctx), config)
                    proposed = proposed or result.data.get("status") == "proposed"
                else:  # offered to another agent, or invented: refuse, but still answer the call
                    result = ToolResult(call["name"], False, {"error": f"{call['name']} is not available here"})
                results.append(result)
                messages.append(
                    ToolMessage(
                        content=result.content,
                        tool_call_id=call["id"],
                        name=call["name"],
                        status="success" if result.ok else "error",
                    )
                )
        except Exception as exc:
            logger.exception("tool failed for %s", spec.name)
            return Command(goto="fallback", update={"error": f"tool failed: {exc}"})

        update: dict[str, Any] = {"messages": messages}
        proposal = next((r.data["proposal"] for r in results if r.data.get("status") == "proposed"), None)
        if proposal is not None:
            skipped = [str(r.data["args"].get("order_id") or r.name) for r in results if r.data.get("skipped")]
            text = replies.proposal(proposal) + (f" {replies.one_proposal_at_a_time(skipped)}" if skipped else "")
            update["messages"] = [*messages, AIMessage(content=text, name=spec.name)]
            update["proposal"] = proposal
            return end_turn(state, update)
        conclusion = spec.conclude(results) if spec.conclude else None
        if conclusion is not None:
            reply = AIMessage(content=conclusion.reply, name=spec.name)
            update.update(conclusion.updates)
            update["messages"] = [*messages, reply]
            return end_turn(state, update)
        return Command(goto=budgeted(state, spec.key), update=update)

    tools.__name__ = f"{spec.key}_tools"
    return tools
