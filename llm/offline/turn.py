"""One model call as the offline model sees it: the customer's message, the context blocks, this turn's tool
results and the tools it may call; and what it answers, text or one tool call."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage, ToolMessage

from llm.offline.wording import as_date
from llm.protocol import ACCOUNT_TAG, HANDOFF_TAG, HISTORY_TAG, KNOWLEDGE_TAG, parse_blocks
from llm.router import RouteDecision, classify, rule_signals
from llm.text import correct_typos

__all__ = ["TOPIC_CHANGE_CONFIDENCE", "Reply", "ToolCall", "ToolResult", "Turn", "parse_turn"]

# The router must be at least this sure before a specialist decides the customer changed topic.
TOPIC_CHANGE_CONFIDENCE = 0.6

# A short reply about what was just said: "ok how do we fix that", "fine, do it", "submit it".
FOLLOW_UP_RE = re.compile(
    r"^\W*(?:ok(?:ay)?|fine|alright|yeah|yes|sure|so|and|then)\b.{0,60}\b(?:that|it|this|them|do it|submit|go ahead)\b"
    r"|^\W*(?:do it|go ahead|submit it|fix (?:it|that))\b",
    re.I,
)


# "Different topic, ...", "one more thing": the customer says themselves that this is something else.
NEW_TOPIC_RE = re.compile(
    r"\b(?:different|another|separate|unrelated|new|other) (?:topic|question|thing|matter)\b|\bone more thing\b", re.I
)


@dataclass(frozen=True)
class ToolCall:
    """A tool call the model decided to make."""

    name: str
    args: dict[str, Any]


@dataclass(frozen=True)
class Reply:
    """What the model says: text, or one tool call."""

    text: str = ""
    call: ToolCall | None = None


@dataclass
class ToolResult:
    """A tool's answer earlier in this turn, with the call that asked for it."""

    name: str
    args: dict[str, Any]
    data: Any  # parsed JSON, or the raw text if it was not JSON
    error: bool


@dataclass
class Turn:
    """Everything one model call can see, parsed once."""

    text: str
    blocks: dict[str, Any]
    tools: dict[str, dict[str, Any]]  # name -> OpenAI "function" schema
    results: list[ToolResult]  # tool results of this turn, oldest first
    last_is_tool: bool
    decision: RouteDecision = field(init=False)  # the router's view of the customer's message
    signals: dict[str, float] = field(init=False)  # keyword evidence per route

    def __post_init__(self) -> None:
        self.decision = classify(self.text)
        self.signals = rule_signals(self.text)

    def is_follow_up(self) -> bool:
        """A short reply about what was just said ("ok, how do we fix that"), not a new topic."""
        return bool(FOLLOW_UP_RE.search(self.text)) and not NEW_TOPIC_RE.search(self.text)

    def has(self, tool: str) -> bool:
        return tool in self.tools

    def asks_for_person(self) -> bool:
        """The router says "human" and the message itself asks for one."""
        return self.decision.route == "human" and bool(self.signals["human"])

    @property
    def account(self) -> dict[str, Any] | None:
        account = self.blocks.get(ACCOUNT_TAG)
        return account if isinstance(account, dict) else None

    @property
    def handoff(self) -> dict[str, Any]:
        handoff = self.blocks.get(HANDOFF_TAG)
        return handoff if isinstance(handoff, dict) else {}

    @property
    def record(self) -> dict[str, Any]:
        record = self.handoff.get("record")
        return record if isinstance(record, dict) else {}

    @property
    def history(self) -> list[dict[str, Any]]:
        history = self.blocks.get(HISTORY_TAG)
        return [h for h in history if isinstance(h, dict)] if isinstance(history, list) else []

    @property
    def knowledge(self) -> list[dict[str, Any]] | None:
        knowledge = self.blocks.get(KNOWLEDGE_TAG)
        return [k for k in knowledge if isinstance(k, dict)] if isinstance(knowledge, list) else None

    @property
    def today(self) -> date:
        account = self.account or {}
        return as_date(account.get("today")) or date.today()

    @property
    def charges(self) -> list[dict[str, Any]]:
        charges = (self.account or {}).get("charges")
        return [c for c in charges if isinstance(c, dict)] if isinstance(charges, list) else []

    def _last_agent_item(self) -> dict[str, Any]:
        return next((item for item in reversed(self.history) if item.get("role") == "agent"), {})

    def last_agent_text(self) -> str:
        return str(self._last_agent_item().get("text") or "")

    def last_agent(self) -> str:
        return str(self._last_agent_item().get("agent") or "")


def _json_or_text(raw: str) -> Any:
    try:
        return json.loads(raw)
    except (json.JSONDecodeError, TypeError):
        return raw


def parse_turn(messages: Sequence[BaseMessage], tools: Sequence[Mapping[str, Any]]) -> Turn:
    """Read a model call: the last customer message, the system prompt's blocks and the tool calls since; `tools`
    are the bound tools as OpenAI tool schemas."""
    system = "\n\n".join(m.text for m in messages if isinstance(m, SystemMessage))
    human_index = max((i for i, m in enumerate(messages) if isinstance(m, HumanMessage)), default=-1)
    text = messages[human_index].text if human_index >= 0 else ""
    calls: dict[str, tuple[str, dict[str, Any]]] = {}
    results: list[ToolResult] = []
    for message in messages[human_index + 1 :]:
        if isinstance(message, AIMessage):
            for call in message.tool_calls:
                calls[str(call.get("id"))] = (call["name"], dict(call.get("args") or {}))
        elif isinstance(message, ToolMessage):
            name, args = calls.get(message.tool_call_id, (message.name or "", {}))
            data = _json_or_text(message.text)
            results.append(
                ToolResult(name=name or message.name or "", args=args, data=data, error=message.status == "error")
            )
    functions = [tool.get("function", tool) for tool in tools]
    return Turn(
        text=correct_typos(text.strip()),
        blocks=parse_blocks(system),
        tools={str(f["name"]): dict(f) for f in functions if isinstance(f, Mapping) and f.get("name")},
        results=results,
        last_is_tool=bool(messages) and isinstance(messages[-1], ToolMessage),
    )
