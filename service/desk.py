"""The support desk as a Python object: the graph compiled with SQLite memory, plus its API.

This is the edge where the checkpointer is attached (the graph modules never open one), where
requests are validated, and where any failure becomes a polite answer instead of a traceback.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable
from functools import cache
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, AnyMessage, HumanMessage
from langchain_core.runnables import RunnableConfig
from langgraph.graph.state import CompiledStateGraph
from langgraph.types import Command, Durability

from graph.builder import build_graph
from graph.context import Context
from graph.state import AGENT_NAMES, InputState, OutputState, State
from llm.factory import make_chat_model
from nodes import replies
from nodes.conversation import visible_transcript
from nodes.deps import Deps
from service.checkpointer import open_saver
from service.errors import InvalidRequest
from service.settings import Settings
from service.validation import check_message
from tools.accounts import customer_exists
from tools.errors import ApprovalAlreadyDecided, NothingToRefund
from tools.records import Approval
from tools.refunds import decide_approval, get_approval, list_approvals
from tools.transcripts import archived_messages

__all__ = ["SupportDesk", "TextSink", "default_desk", "handle_customer_message"]

# Receives the reply as it is written: (speaking agent's name, message id, text piece).
TextSink = Callable[[str, str, str], None]

# Nodes whose model calls stream token by token; every other node writes whole messages.
_AGENT_NODES = frozenset({"triage", "billing", "refund", "faq"})

logger = logging.getLogger("support.desk")

# A turn's checkpoint is written once, when the run ends (or pauses for a manager), not after every step:
# a fifth of the bytes and no commit between steps. A crash mid-turn loses that turn's checkpoint, so the
# thread continues from the turn before; everything with money in it (refunds, approvals, plan changes) is
# committed in the domain database with an idempotency key, so asking again replays it instead of acting
# twice. tests/test_crash.py kills real processes at those points to prove it.
DURABILITY: Durability = "exit"


def _zero() -> dict[str, int]:
    return {"input_tokens": 0, "output_tokens": 0, "total_tokens": 0}


def _usage(messages: list[AnyMessage]) -> dict[str, Any]:
    """Token counts of this turn's model calls: the total, per agent, and call by call."""
    totals: dict[str, Any] = _zero()
    by_agent: dict[str, dict[str, int]] = {}
    calls: list[dict[str, Any]] = []
    for m in messages:
        if not (isinstance(m, AIMessage) and m.usage_metadata):
            continue
        agent = m.name or "unknown"
        u = m.usage_metadata
        counts = {
            "input_tokens": u["input_tokens"],
            "output_tokens": u["output_tokens"],
            "total_tokens": u["total_tokens"],
        }
        per_agent = by_agent.setdefault(agent, _zero())
        for key, value in counts.items():
            totals[key] += value
            per_agent[key] += value
        model = m.response_metadata.get("support_model") or m.response_metadata.get("model_name")
        calls.append({"agent": agent, "model": model, **counts})
    return {**totals, "by_agent": by_agent, "calls": calls}


class SupportDesk:
    """One data directory's desk: domain database, checkpoints and the compiled graph."""

    def __init__(self, settings: Settings | None = None, *, models: dict[str, BaseChatModel] | None = None) -> None:
        self.settings = settings or Settings.from_env()
        self.settings.data_dir.mkdir(parents=True, exist_ok=True)
        self.db = self.settings.database()
        self.db.ensure_ready()
        self._models: dict[str, BaseChatModel] = dict(models or {})
        self._models_lock = threading.Lock()
        self.checkpointer = open_saver(self.settings.data_dir)
        self._conn = self.checkpointer.conn
        retry = self.settings.retry_policy()
        self.graph: CompiledStateGraph[State, Context, InputState, OutputState] = build_graph(
            Deps(db=self.db, model_for=self._model_for, retry=retry), checkpointer=self.checkpointer
        )

    def close(self) -> None:
        self._conn.close()

    def __enter__(self) -> SupportDesk:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _model_for(self, agent: str) -> BaseChatModel:
        with self._models_lock:
            if agent not in self._models:
                spec = self.settings.models.get(agent, "offline")
                self._models[agent] = make_chat_model(spec, timeout=self.settings.model_timeout)
            return self._models[agent]

    def _config(self, thread_id: str) -> RunnableConfig:
        return {"configurable": {"thread_id": thread_id}, "recursion_limit": self.settings.step_limit}

    # --- customers -------------------------------------------------------------------------

    def ask(
        self, message: str, *, customer_id: str, thread_id: str | None = None, on_text: TextSink | None = None
    ) -> dict[str, Any]:
        """Handle one customer message; see `handle_customer_message` for the result.

        Args:
            message: The customer's message.
            customer_id: The authenticated customer.
            thread_id: Continue this thread; None starts a new one.
            on_text: Called with each piece of the reply as it is written: model tokens as they
                arrive from the provider, and replies written by code as whole messages.
        """
        text = check_message(message)
        if not customer_exists(self.db, customer_id):
            raise InvalidRequest(f"unknown customer {customer_id!r}")
        thread_id = thread_id or f"thr_{uuid.uuid4().hex[:12]}"
        config = self._config(thread_id)
        snapshot = self.graph.get_state(config)
        owner = (snapshot.values.get("account") or {}).get("customer_id")
        if owner is not None and owner != customer_id:
            # Same answer as for a thread that does not exist: no hint that it belongs to someone.
            raise InvalidRequest(f"unknown thread {thread_id!r}")
        if snapshot.interrupts:
            pending = snapshot.values.get("pending_approval") or {}
            return self._result(thread_id, reply=replies.still_waiting(pending), agent=AGENT_NAMES["refund"])

        try:
            self._run({"messages": [HumanMessage(content=text)]}, config, Context(customer_id=customer_id), on_text)
        except Exception:  # the graph already answers its own failures; this is the last net
            logger.exception("turn failed on thread %s", thread_id, extra={"event": "incident"})
            return self._result(thread_id, reply=replies.fallback(None), agent=AGENT_NAMES["fallback"])
        return self._result(thread_id)

    def _run(self, payload: Any, config: RunnableConfig, context: Context, on_text: TextSink | None) -> None:
        if on_text is None:
            self.graph.invoke(payload, config, context=context, durability=DURABILITY)
            return
        # "messages" mode yields model tokens as they arrive and, once, every whole message a node
        # returns that was not streamed: the code-written replies of tools, approval, fallback...
        for item in self.graph.stream(payload, config, context=context, stream_mode="messages", durability=DURABILITY):
            chunk, meta = item if isinstance(item, tuple) else (item, {})
            node = meta.get("langgraph_node") if isinstance(meta, dict) else None
            if isinstance(chunk, AIMessageChunk):
                if node not in _AGENT_NODES or not chunk.text:
                    continue
                on_text(_agent_name(node), chunk.id or str(node), chunk.text)
            elif isinstance(chunk, AIMessage) and chunk.text and not chunk.tool_calls:
                on_text(chunk.name or _agent_name(node), chunk.id or str(node), chunk.text)

    def _result(self, thread_id: str, *, reply: str | None = None, agent: str | None = None) -> dict[str, Any]:
        snapshot = self.graph.get_state(self._config(thread_id))
        values = snapshot.values
        messages: list[AnyMessage] = values.get("messages", [])
        turn = messages[values.get("turn_start", 0) :]
        last = next((m for m in reversed(turn) if isinstance(m, AIMessage) and not m.tool_calls and m.text), None)
        pending = values.get("pending_approval") if snapshot.interrupts else None
        return {
            "response": reply if reply is not None else (last.text if last else ""),
            "final_agent": agent or (last.name if last and last.name else AGENT_NAMES["triage"]),
            "routed_to": list(values.get("routed_to", [])),
            "metadata": list(values.get("routing_metadata", [])),
            "pending_approval": pending,
            "thread_id": thread_id,
            "model_calls": 0 if reply is not None else int(values.get("model_calls", 0)),
            "usage": _usage(turn if reply is None else []),
        }

    def history(self, thread_id: str) -> list[dict[str, Any]]:
        """The thread's visible conversation; raises InvalidRequest if there is no such thread."""
        values = self.graph.get_state(self._config(thread_id)).values
        if not values.get("messages"):
            raise InvalidRequest(f"unknown thread {thread_id!r}")
        return archived_messages(self.db, thread_id) + visible_transcript(values["messages"])

    # --- managers --------------------------------------------------------------------------

    def approvals(self, *, status: str | None = None) -> list[Approval]:
        return list_approvals(self.db, status=status)

    def decide(self, approval_id: str, *, approve: bool, by: str, note: str | None = None) -> dict[str, Any]:
        """Approve or reject a pending refund and resume the customer's thread.

        The decision is committed atomically first (so of two managers exactly one wins), then
        the thread resumes; the approval node replays the same decision idempotently. If a
        previous attempt committed but crashed before resuming, deciding again the same way
        completes the resume instead of failing.
        """
        by = (by or "").strip()
        if not by:
            raise InvalidRequest("say who decides with --by NAME")
        if not approve and not (note or "").strip():
            raise InvalidRequest("a rejection needs a reason")
        approval = get_approval(self.db, approval_id)
        if approval is None:
            raise InvalidRequest(f"unknown approval {approval_id!r}")
        config = self._config(approval.thread_id)
        # Resume only if the thread waits for *this* approval: a later one in the same thread must
        # never be decided by a command meant for an earlier one.
        waiting = any(
            (i.value or {}).get("approval", {}).get("approval_id") == approval_id
            for i in self.graph.get_state(config).interrupts
            if isinstance(i.value, dict)
        )
        try:
            decided = decide_approval(self.db, approval_id, approve=approve, by=by, note=note)
        except ApprovalAlreadyDecided as exc:
            raise InvalidRequest(
                f"approval {approval_id} was already {exc.approval.status} by {exc.approval.decided_by}"
            ) from exc
        except NothingToRefund as exc:  # e.g. a second request for a charge another approval already refunded
            raise InvalidRequest(f"{exc}; reject it with a reason instead") from exc
        if approval.status != "pending" and not waiting:
            raise InvalidRequest(f"approval {approval_id} was already {approval.status} by {approval.decided_by}")
        reply = None
        if waiting:
            resume = {"decision": "approve" if approve else "reject", "by": by, "note": note}
            self.graph.invoke(
                Command(resume=resume),
                config,
                context=Context(customer_id=approval.customer_id),
                durability=DURABILITY,
            )
            reply = self._result(approval.thread_id)["response"]
        return {"approval": decided.model_dump(mode="json"), "customer_reply": reply}


def _agent_name(node: str | None) -> str:
    return AGENT_NAMES.get(node or "", AGENT_NAMES["triage"])


@cache
def default_desk() -> SupportDesk:
    """The desk for the environment's settings, created on first use and kept for the process."""
    return SupportDesk()


def handle_customer_message(message: str, *, customer_id: str, thread_id: str | None = None) -> dict[str, Any]:
    """Handle one customer message and return what happened.

    Returns:
        A dict with `response` (the reply), `final_agent` (TriageAgent, BillingAgent, RefundAgent,
        FAQAgent, EscalationAgent or FallbackAgent), `routed_to` (the agents this message passed
        through), `metadata` (the validated handoff records), `pending_approval` (None or the
        approval waiting for a manager), `thread_id` (pass it back to continue), `model_calls`
        and `usage` (token counts reported by the provider: `input_tokens`, `output_tokens` and
        `total_tokens` for the turn, `by_agent` with the same per agent, and `calls` with one
        entry per model call: agent, model and counts).

    Raises:
        InvalidRequest: empty or over-long message, unknown customer, or someone else's thread.
    """
    return default_desk().ask(message, customer_id=customer_id, thread_id=thread_id)
