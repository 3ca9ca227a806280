"""The machinery every agent shares: build its input, call its model, act on the answer.

An agent node makes exactly one model call. Text ends the turn; a transfer tool call is
validated against its pydantic record and routes to the next agent; data tool calls go to the
agent's own tools node, which runs them for the authenticated customer and comes back. Every
hop is a `Command(goto=...)` to a node the agent declares (`agent_destinations`), so the graph
LangGraph draws is the graph that runs.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, AnyMessage, HumanMessage, SystemMessage, ToolMessage
from langchain_core.runnables import RunnableConfig
from langgraph.graph import END
from langgraph.runtime import Runtime
from langgraph.types import Command
from pydantic import ValidationError

from graph.context import Context
from graph.handoffs import HANDOFF_TOOLS
from graph.routing import budgeted, tools_node
from graph.state import AGENT_NAMES, State
from nodes.conversation import compact_history
from nodes.deps import Deps
from nodes.handoff_log import log_handoff
from nodes.next_request import NEXT_REQUEST, WAIT_AGAIN, end_turn, queue_request
from nodes.prompts import build_system_prompt, compact_tool_schema
from tools.agent_tools import ToolResult, tool_schemas

__all__ = [
    "AgentSpec",
    "Conclusion",
    "agent_destinations",
    "make_agent_node",
    "model_label",
    "turn_messages",
]

logger = logging.getLogger("support.agent")
usage_logger = logging.getLogger("support.model")


@dataclass(frozen=True)
class Conclusion:
    """A reply composed by code from tool results, ending the agent's turn without a model call."""

    reply: str
    updates: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class AgentSpec:
    """One agent: its prompt, tools and transfers.

    Attributes:
        key: Node name and prompt key ("billing").
        data_tools: Names of the data tools it may call (see `tools.agent_tools`).
        handoffs: Names of the transfers it may make (see `graph.handoffs.HANDOFF_TOOLS`).
        knowledge: Optional retrieval run before the model call; returns articles as JSON.
        conclude: Optional hook over the results of its tool calls; a `Conclusion` ends the turn
            with a reply written by code (policy outcomes are stated by code, not paraphrased).
    """

    key: str
    data_tools: tuple[str, ...]
    handoffs: tuple[str, ...]
    knowledge: Callable[[Deps, str], list[dict[str, Any]]] | None = None
    conclude: Callable[[list[ToolResult]], Conclusion | None] | None = None

    @property
    def name(self) -> str:
        return AGENT_NAMES[self.key]

    def tool_schemas(self) -> list[dict[str, Any]]:
        # A copy, so a client that edits what it is given cannot change the next call's tools; decoding the
        # cached JSON costs a fifth of a deepcopy.
        schemas: list[dict[str, Any]] = json.loads(_schemas_json(self.data_tools, self.handoffs))
        return schemas


@cache
def _schemas_json(data_tools: tuple[str, ...], handoffs: tuple[str, ...]) -> str:
    return json.dumps(_schemas(data_tools, handoffs))


@cache
def _schemas(data_tools: tuple[str, ...], handoffs: tuple[str, ...]) -> list[dict[str, Any]]:
    # Generating pydantic JSON schemas took most of an agent call's own time; they never change.
    return [compact_tool_schema(s) for s in tool_schemas(data_tools) + [_handoff_schema(n) for n in handoffs]]


def _handoff_schema(name: str) -> dict[str, Any]:
    from langchain_core.utils.function_calling import convert_to_openai_tool

    tool = HANDOFF_TOOLS[name]
    return convert_to_openai_tool(
        {**tool.args_model.model_json_schema(), "title": tool.name, "description": tool.description}
    )


def turn_messages(state: State) -> tuple[HumanMessage, list[AnyMessage]]:
    """This turn's customer message and the active agent's own exchange since it took over."""
    messages = state["messages"]
    human = messages[state.get("turn_start", len(messages) - 1)]
    if not isinstance(human, HumanMessage):  # defensive: a malformed thread still gets an answer
        human = HumanMessage(content=str(human.content))
    focus = state.get("focus")
    if focus:  # the second request of a message that held two (`nodes.next_request`): the customer's own words
        human = HumanMessage(content=focus, id=human.id)
    return human, list(messages[state.get("scratch_start", len(messages)) :])


def _model_input(spec: AgentSpec, deps: Deps, state: State) -> list[AnyMessage]:
    human, scratch = turn_messages(state)
    knowledge = None
    if spec.knowledge is not None:
        query: str = human.text
        handoff = state.get("handoff") or {}
        question = handoff.get("record", {}).get("specific_question")
        if question and question not in query:
            query = f"{question} {query}"
        knowledge = spec.knowledge(deps, query)
    system = build_system_prompt(
        spec.key,
        spec.handoffs,
        account=state.get("account"),
        handoff=state.get("handoff"),
        history=compact_history(state["messages"], state.get("turn_start", len(state["messages"]) - 1)),
        knowledge=knowledge,
        message=human.text,
    )
    return [SystemMessage(content=system), human, *scratch]


_INVALID = "Invalid arguments"


def _had_invalid_handoff(scratch: list[AnyMessage]) -> bool:
    """Whether this agent already had a malformed transfer sent back this turn (data tool errors don't count)."""
    return any(isinstance(m, ToolMessage) and m.status == "error" and m.text.startswith(_INVALID) for m in scratch)


def model_label(model: BaseChatModel) -> str:
    """The model's name for logs and usage records (`gpt-4o`, `offline`)."""
    name = getattr(model, "model_name", None) or getattr(model, "model", None)
    return str(name) if name else model._llm_type


def _log_model_call(spec: AgentSpec, model: str, reply: AIMessage, seconds: float) -> None:
    usage = reply.usage_metadata or {"input_tokens": 0, "output_tokens": 0, "total_tokens": 0}
    usage_logger.info(
        "%s called %s: %d in, %d out tokens",
        spec.name,
        model,
        usage["input_tokens"],
        usage["output_tokens"],
        extra={
            "event": "model_call",
            "agent": spec.name,
            "model": model,
            "input_tokens": usage["input_tokens"],
            "output_tokens": usage["output_tokens"],
            "total_tokens": usage["total_tokens"],
            "seconds": round(seconds, 3),
        },
    )


def agent_destinations(spec: AgentSpec) -> dict[str, str]:
    """Every node an agent can send the turn to, named for the drawn edge: transfers, its tools, a retry, the end."""
    targets = {"triage": NEXT_REQUEST, **{HANDOFF_TOOLS[name].target: name for name in spec.handoffs}}
    if spec.data_tools:
        targets[tools_node(spec.key)] = "tool calls"
    retry = "retry" if spec.key != "triage" else f"retry, {NEXT_REQUEST}"
    return {**targets, spec.key: retry, "fallback": "failed", END: "reply", "approval": WAIT_AGAIN}


def _go(state: State, target: str, update: dict[str, Any]) -> Command[Any]:
    """Send the turn to ``target`` (within the step budget) with ``update``."""
    return Command(goto=budgeted(state, target), update=update)


def make_agent_node(spec: AgentSpec, deps: Deps) -> Callable[..., Command[Any]]:
    """Build the node function for one agent."""

    def agent_node(state: State, runtime: Runtime[Context], config: RunnableConfig) -> Command[Any]:
        calls = state.get("model_calls", 0) + 1
        started = time.monotonic()
        try:
            base = deps.model_for(spec.key)
            label = model_label(base)
            model = base.bind_tools(spec.tool_schemas())
            messages = _model_input(spec, deps, state)
            # The client retries a failed request itself, never a stream already shown (llm.retry).
            reply = model.invoke(messages, config)
        except Exception as exc:  # a provider or programming error must not reach the customer
            logger.exception("model call failed for %s", spec.name, extra={"event": "model_error"})
            error = f"{spec.name} model call failed: {type(exc).__name__}: {exc}"[:1000]
            return _go(state, "fallback", {"error": error, "model_calls": calls})
        if not isinstance(reply, AIMessage):
            reply = AIMessage(content=str(getattr(reply, "content", reply)))
        # The model's name rides along so per-model usage can be summed from the thread later.
        metadata = {**reply.response_metadata, "support_model": label}
        ai = reply.model_copy(update={"name": spec.name, "response_metadata": metadata})
        _log_model_call(spec, label, ai, time.monotonic() - started)
        if ai.invalid_tool_calls:
            return _malformed(spec, state, ai, calls, f"unreadable arguments for {ai.invalid_tool_calls[0]['name']}")
        if not ai.tool_calls:
            return end_turn(state, {"messages": [ai], "model_calls": calls})

        transfers = [tc for tc in ai.tool_calls if tc["name"] in spec.handoffs]
        if transfers:
            return _handoff(spec, state, ai, transfers[0], calls)
        if not spec.data_tools:  # a tool this agent was never offered: told once, then the fallback
            answers = [
                _tool_message(tc, f"{_INVALID}: {tc['name']} is not available here.", error=True)
                for tc in ai.tool_calls
            ]
            _, scratch = turn_messages(state)
            return _retry_once(
                spec, state, scratch, [ai, *answers], calls, f"{spec.name} called tools it does not have"
            )
        return _go(state, tools_node(spec.key), {"messages": [ai], "model_calls": calls})

    agent_node.__name__ = f"{spec.key}_agent"
    return agent_node


def _malformed(spec: AgentSpec, state: State, ai: AIMessage, calls: int, problem: str) -> Command[Any]:
    """Answer every call of a message with a malformed tool call; retry once, then fall back.

    The bad call gets the validation error; the others are answered without running, so the
    provider sees a tool message for every call id (it rejects the next request otherwise).
    """
    _, scratch = turn_messages(state)
    answers: list[AnyMessage] = []
    for bad in ai.invalid_tool_calls:
        detail = f"{_INVALID} (not valid JSON): {bad.get('error') or bad.get('args')}"
        answers.append(_tool_message({"id": bad.get("id") or "", "name": bad.get("name")}, detail, error=True))
    for tc in ai.tool_calls:
        answers.append(_tool_message(tc, f"Not run: {problem}; fix it and call again.", error=True))
    return _retry_once(
        spec, state, scratch, [ai, *answers], calls, f"{spec.name} made a malformed tool call twice ({problem})"
    )


def _retry_once(
    spec: AgentSpec, state: State, scratch: list[AnyMessage], messages: list[AnyMessage], calls: int, error: str
) -> Command[Any]:
    """Send the agent its own error once; a second failure in the same turn ends in the fallback."""
    if _had_invalid_handoff(scratch):
        return _go(state, "fallback", {"messages": messages, "error": error, "model_calls": calls})
    return _go(state, spec.key, {"messages": messages, "model_calls": calls})


def _handoff(spec: AgentSpec, state: State, ai: AIMessage, call: Any, calls: int) -> Command[Any]:
    tool = HANDOFF_TOOLS[call["name"]]
    _, scratch = turn_messages(state)
    # No ping-pong: a specialist that already had this message (or triage twice) does not get it again.
    # The model is told once to answer itself; a second attempt ends in the fallback.
    seen = state.get("routed_to", [])[state.get("focus_start", 0) :].count(AGENT_NAMES.get(tool.target, ""))
    if seen >= (2 if tool.target == "triage" else 1):
        refused = f"{_INVALID}: {AGENT_NAMES[tool.target]} already handled this message; answer the customer yourself."
        answers = [
            _tool_message(tc, refused if tc is call else "Not run: the transfer was refused.", error=True)
            for tc in ai.tool_calls
        ]
        return _retry_once(spec, state, scratch, [ai, *answers], calls, f"{spec.name} kept handing the message back")
    try:
        record = tool.args_model.model_validate(call["args"])
    except ValidationError as exc:
        # Every tool call gets its tool message; the model sees the error once and may retry.
        answers = [
            _tool_message(tc, f"{_INVALID}: {exc.errors()}", error=True)
            if tc is call
            else _tool_message(tc, f"Not run: the call to {tool.name} had invalid arguments.", error=True)
            for tc in ai.tool_calls
        ]
        return _retry_once(
            spec, state, scratch, [ai, *answers], calls, f"{spec.name} made an invalid {tool.name} twice"
        )

    target_name = AGENT_NAMES[tool.target]
    entry = {
        "from": spec.name,
        "to": target_name,
        "tool": tool.name,
        "record": record.model_dump(mode="json"),
    }
    log_handoff(entry)
    answers = [
        _tool_message(tc, f"Transferred to {target_name}." if tc is call else "Not run: the customer was transferred.")
        for tc in ai.tool_calls
    ]
    new_messages: list[AnyMessage] = [ai, *answers]
    update: dict[str, Any] = {
        "messages": new_messages,
        "handoff": entry,
        "routed_to": [*state.get("routed_to", []), target_name],
        "routing_metadata": [*state.get("routing_metadata", []), entry],
        "scratch_start": len(state["messages"]) + len(new_messages),
        "model_calls": calls,
    }
    if tool.target in ("triage", "billing", "refund", "faq"):
        update["active_agent"] = tool.target
    if spec.key == "triage":
        update |= queue_request(state, record.model_dump(mode="json"), turn_messages(state)[0].text)
    return _go(state, tool.target, update)


def _tool_message(call: Any, content: str, *, error: bool = False) -> ToolMessage:
    return ToolMessage(
        content=content, tool_call_id=call["id"], name=call["name"], status="error" if error else "success"
    )
