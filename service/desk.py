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
from nodes import replies
from nodes.approval import decision_message
from nodes.deps import Deps
from nodes.next_request import EARLIER_PART
from service.checkpointer import open_saver
from service.errors import InvalidRequest
from service.live_branch import waiting_approval_ids
from service.privacy import install_trace_masking, remember_names
from service.settings import Settings
from service.thread_lock import thread_lock
from service.transcript import live_transcript
from service.validation import check_message
from tools.accounts import customer_exists, list_customers
from tools.errors import ApprovalAlreadyDecided, NothingToRefund
from tools.records import Approval
from tools.refunds import decide_approval, get_approval, list_approvals

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

# The state `_result` reads, asked of the run itself (`SupportDesk._run`).
_RESULT_KEYS = ("messages", "turn_start", "routed_to", "routing_metadata", "proposal", "model_calls")


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
        # Customers' names are masked in logs and traces (service.privacy); tracing, if on, is masked.
        remember_names(c["name"] for c in list_customers(self.db))
        install_trace_masking()
        self._models: dict[str, BaseChatModel] = dict(models or {})
        self._models_lock = threading.Lock()
        self.checkpointer = open_saver(self.settings.data_dir)
        self._conn = self.checkpointer.conn
        self.graph: CompiledStateGraph[State, Context, InputState, OutputState] = build_graph(
            Deps(db=self.db, model_for=self._model_for), checkpointer=self.checkpointer
        )

    def close(self) -> None:
        self._conn.close()
        self.db.close()  # PostgreSQL's pool, SQLite's connection per thread

    def __enter__(self) -> SupportDesk:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _model_for(self, agent: str) -> BaseChatModel:
        with self._models_lock:
            if agent not in self._models:
                self._models[agent] = self.settings.chat_model(agent)
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
            raise InvalidRequest(unknown_customer(customer_id))
        if thread_id is None:
            # A new conversation: its id is made here and no one else can know it before this call returns it, so no
            # other turn can run on it meanwhile and there is nothing to lock. Its lock file would be a new file (and
            # on a new data directory a new folder), about 0.4 ms each on ext4; it is made by the second message.
            return self._ask_locked(text, customer_id, f"thr_{uuid.uuid4().hex[:12]}", on_text)
        # One message at a time per thread, across processes: read, run and save under the lock,
        # or two concurrent turns would both report success and one would vanish from the thread.
        with thread_lock(self.settings.data_dir, thread_id):
            return self._ask_locked(text, customer_id, thread_id, on_text)

    def _ask_locked(self, text: str, customer_id: str, thread_id: str, on_text: TextSink | None) -> dict[str, Any]:
        config = self._config(thread_id)
        snapshot = self.graph.get_state(config)
        owner = (snapshot.values.get("account") or {}).get("customer_id")
        if owner is not None and owner != customer_id:
            # Same answer as for a thread that does not exist: no hint that it belongs to someone.
            raise InvalidRequest(f"unknown thread {thread_id!r}")
        try:
            values = self._run(
                {"messages": [HumanMessage(content=text)]}, config, Context(customer_id=customer_id), on_text
            )
        except Exception:  # the graph already answers its own failures; this is the last net
            logger.exception("turn failed on thread %s", thread_id, extra={"event": "incident"})
            return self._result(thread_id, reply=replies.fallback(None), agent=AGENT_NAMES["fallback"])
        return self._result(thread_id, values)

    def _run(
        self, payload: Any, config: RunnableConfig, context: Context, on_text: TextSink | None
    ) -> dict[str, Any] | None:
        """Run a turn; the state it ended with (what `_result` reads), or None when the checkpoint must say.

        The run's own final values are the state its checkpoint stores, so reading that checkpoint back (about
        0.3 ms: a query, decoding every message, rebuilding the snapshot) is left to the cases that need more:
        a pause for a manager (the snapshot's interrupts and pending approval) and the streamed turn.
        """
        if on_text is None:
            out = self.graph.invoke(
                payload, config, context=context, durability=DURABILITY, output_keys=_RESULT_KEYS, version="v2"
            )
            return None if out.interrupts else dict(out.value)
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
        return None

    def _result(
        self,
        thread_id: str,
        values: dict[str, Any] | None = None,
        *,
        reply: str | None = None,
        agent: str | None = None,
    ) -> dict[str, Any]:
        """What `ask` returns, from the turn's final `values` (a run that did not pause) or its checkpoint."""
        interrupted = False
        if values is None:
            snapshot = self.graph.get_state(self._config(thread_id))
            values, interrupted = snapshot.values, bool(snapshot.interrupts)
        messages: list[AnyMessage] = values.get("messages", [])
        turn = messages[values.get("turn_start", 0) :]
        said = [m for m in turn if isinstance(m, AIMessage) and not m.tool_calls and m.text]
        last = said[-1] if said else None
        # A message that held two requests was answered in two parts (`nodes.next_request`): both are the reply.
        earlier = [m.text for m in said[:-1] if m.response_metadata.get(EARLIER_PART)]
        pending = values.get("pending_approval") if interrupted else None
        proposal = values.get("proposal")  # one may wait for a yes while a manager decides
        return {
            "response": reply if reply is not None else "\n\n".join([*earlier, last.text] if last else earlier),
            "final_agent": agent or (last.name if last and last.name else AGENT_NAMES["triage"]),
            "routed_to": list(values.get("routed_to", [])),
            "metadata": list(values.get("routing_metadata", [])),
            "pending_approval": pending,
            "pending_proposal": proposal,
            "thread_id": thread_id,
            "model_calls": 0 if reply is not None else int(values.get("model_calls", 0)),
            "usage": _usage(turn if reply is None else []),
        }

    def history(self, thread_id: str) -> list[dict[str, Any]]:
        """The thread's visible conversation; raises InvalidRequest if there is no such thread."""
        snapshot = self.graph.get_state(self._config(thread_id))
        values = snapshot.values
        if not values.get("messages"):
            raise InvalidRequest(f"unknown thread {thread_id!r}")
        # The live branch only: after a fork, archived turns of the abandoned branch are left out.
        head = str(snapshot.config["configurable"]["checkpoint_id"])
        return live_transcript(self.db, self._conn, thread_id, head, values["messages"])

    def threads(self, customer_id: str) -> list[dict[str, Any]]:
        """The customer's conversations, most recently active first.

        Each is `{"thread_id", "updated_at", "messages", "waiting_for_manager", "last_message"}`. A thread
        belongs to the customer whose account it loaded, the same rule `ask` uses to refuse others.

        Raises:
            InvalidRequest: No such customer.
        """
        if not customer_exists(self.db, customer_id):
            raise InvalidRequest(unknown_customer(customer_id))
        ids = [r[0] for r in self._conn.execute("SELECT DISTINCT thread_id FROM checkpoints WHERE checkpoint_ns = ''")]
        found = []
        for thread_id in ids:
            latest = self.checkpointer.get_tuple(self._config(thread_id))
            if latest is None:
                continue
            values = latest.checkpoint["channel_values"]
            if (values.get("account") or {}).get("customer_id") != customer_id:
                continue
            head = str(latest.config["configurable"]["checkpoint_id"])
            transcript = live_transcript(self.db, self._conn, thread_id, head, values.get("messages") or [])
            said = [m for m in transcript if m["role"] == "customer"]
            found.append(
                {
                    "thread_id": thread_id,
                    "updated_at": latest.checkpoint["ts"],
                    "messages": len(transcript),
                    "waiting_for_manager": bool(values.get("pending_approval")),
                    "last_message": said[-1]["text"] if said else "",
                }
            )
        return sorted(found, key=lambda t: t["updated_at"], reverse=True)

    # --- managers --------------------------------------------------------------------------

    def approvals(self, *, status: str | None = None) -> list[Approval]:
        return list_approvals(self.db, status=status)

    def is_live(self, approval: Approval) -> bool:
        """Is the approval's conversation waiting for it on its live branch? See `service.live_branch`."""
        return approval.approval_id in waiting_approval_ids(self.checkpointer, approval.thread_id)

    def decide(self, approval_id: str, *, approve: bool, by: str, note: str | None = None) -> dict[str, Any]:
        """Approve or reject a pending refund and resume the customer's thread.

        The decision is committed atomically first (so of two managers exactly one wins), then
        the thread resumes; the approval node replays the same decision idempotently. If a
        previous attempt committed but crashed before resuming, deciding again the same way
        completes the resume instead of failing.

        An approval its thread no longer waits for (forked, edited or lost: see
        `service.live_branch`) cannot be approved; rejecting it resolves it. The result's
        `delivered` says whether the customer's conversation received the decision.
        """
        by = (by or "").strip()
        if not by:
            raise InvalidRequest("say who decides with --by NAME")
        if not approve and not (note or "").strip():
            raise InvalidRequest("a rejection needs a reason")
        approval = get_approval(self.db, approval_id)
        if approval is None:
            raise InvalidRequest(f"unknown approval {approval_id!r}")
        with thread_lock(self.settings.data_dir, approval.thread_id):
            return self._decide_locked(approval, approve=approve, by=by, note=note)

    def _decide_locked(self, approval: Approval, *, approve: bool, by: str, note: str | None) -> dict[str, Any]:
        approval_id = approval.approval_id
        # Resume only if the thread waits for *this* approval on its live branch: a later one in the
        # same thread, or a branch that moved on, must never be decided by a command meant for it.
        waiting = self.is_live(approval)
        if approve and approval.status == "pending" and not waiting:
            raise InvalidRequest(
                f"approval {approval_id} is no longer on its conversation's live branch (the thread was forked, "
                "edited or lost), so approving it would pay a refund the customer is never told about; "
                "reject it with a reason to resolve it"
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
        config = self._config(approval.thread_id)
        if waiting:
            resume = {
                "decision": "approve" if approve else "reject",
                "by": by,
                "note": note,
                "approval_id": approval_id,
            }
            self.graph.invoke(
                Command(resume=resume),
                config,
                context=Context(customer_id=approval.customer_id),
                durability=DURABILITY,
            )
            reply: str | None = self._result(approval.thread_id)["response"]
        else:
            reply = self._deliver(config, decided)
        return {"approval": decided.model_dump(mode="json"), "customer_reply": reply, "delivered": reply is not None}

    def _deliver(self, config: RunnableConfig, decided: Approval) -> str | None:
        """Append the outcome of a decision its thread no longer waited for; None if it cannot be delivered.

        Only onto an idle conversation: a lost thread has nowhere to put it, and one paused on
        another approval or mid-turn must not have its pause disturbed.
        """
        snapshot = self.graph.get_state(config)
        if not snapshot.values.get("messages") or snapshot.next or snapshot.interrupts:
            return None
        message = decision_message(decided.model_dump(mode="json"))
        # As the approval node, with no route written: the thread stays idle.
        self.graph.update_state(config, {"messages": [message]}, as_node="approval")
        return message.text


def unknown_customer(customer_id: str) -> str:
    return f"unknown customer {customer_id!r}; `support customers` lists them"


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
        approval waiting for a manager), `pending_proposal` (None or the exact refund, approval
        request or plan change waiting for the customer's "yes"), `thread_id` (pass it back to continue), `model_calls`
        and `usage` (token counts reported by the provider: `input_tokens`, `output_tokens` and
        `total_tokens` for the turn, `by_agent` with the same per agent, and `calls` with one
        entry per model call: agent, model and counts).

    Raises:
        InvalidRequest: empty or over-long message, unknown customer, or someone else's thread.
    """
    return default_desk().ask(message, customer_id=customer_id, thread_id=thread_id)
