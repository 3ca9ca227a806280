"""Runs the data tools an agent asked for, for the authenticated customer only."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

from langchain_core.messages import AIMessage, AnyMessage, ToolMessage
from langchain_core.runnables import RunnableConfig
from langgraph.runtime import Runtime

from graph.context import Context
from graph.state import State
from nodes.agent import AgentSpec
from nodes.deps import Deps
from tools.accounts import get_account_summary
from tools.agent_tools import AGENT_TOOLS, ToolContext, ToolResult, run_tool

__all__ = ["make_tools_node"]

logger = logging.getLogger("support.tools")

# Tools that change money or the plan run once per model message. A model that asks for two
# refunds in parallel gets the first, and the second is answered "not run" (and the customer told
# so) instead of being paid where the reply, which states one outcome, would not mention it.
ONE_PER_MESSAGE = frozenset({"process_refund", "change_plan"})


def make_tools_node(deps: Deps, agents: Mapping[str, AgentSpec]) -> Callable[..., dict[str, Any]]:
    def tools(state: State, runtime: Runtime[Context], config: RunnableConfig) -> dict[str, Any]:
        spec = agents[state.get("active_agent", "triage")]
        last = state["messages"][-1]
        calls = last.tool_calls if isinstance(last, AIMessage) else []
        ctx = ToolContext(
            db=deps.db,
            customer_id=runtime.context.customer_id,
            thread_id=str(config.get("configurable", {}).get("thread_id", "")),
        )
        results: list[ToolResult] = []
        messages: list[AnyMessage] = []
        ran: set[str] = set()
        try:
            for call in calls:
                if call["name"] in ONE_PER_MESSAGE and call["name"] in ran:
                    result = ToolResult(
                        call["name"],
                        False,
                        {"error": "not run: one per message", "skipped": True, "args": call["args"]},
                    )
                elif call["name"] in spec.data_tools:
                    ran.add(call["name"])
                    result = run_tool(call["name"], call["args"], ctx)
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
            return {"next": "fallback", "error": f"tool failed: {exc}"}

        update: dict[str, Any] = {"messages": messages, "next": spec.key}
        if any(r.ok and AGENT_TOOLS[r.name].changes_account for r in results):
            update["account"] = get_account_summary(deps.db, ctx.customer_id).model_dump(mode="json")
        conclusion = spec.conclude(results) if spec.conclude else None
        if conclusion is not None:
            reply = AIMessage(content=conclusion.reply, name=spec.name)
            update.update(conclusion.updates)
            update["messages"] = [*messages, reply]
            update["next"] = conclusion.next
        return update

    return tools
