"""Routing accuracy of the triage step, measured through the real graph.

Each labelled message starts a fresh thread of the compiled support graph (intake, then the
triage node with its model, exactly as in a conversation). The run stops once triage has
decided, so no specialist is called and nothing is refunded or ticketed: the first handoff is
the route (`escalate_to_human` is `human`), and triage answering by itself is `other`.
"""

from __future__ import annotations

import csv
import random
import tempfile
import time
import uuid
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import HumanMessage
from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.memory import InMemorySaver

from evals.harness import DEFAULT_TODAY
from evals.progress import Progress
from evals.router_eval import metrics
from graph.builder import build_graph
from graph.context import Context
from graph.state import InputState
from llm.router import DEV_CSV, ROUTES
from nodes.deps import Deps
from service.errors import InvalidRequest
from tools.clock import FixedClock
from tools.db import Database

__all__ = ["DEFAULT_CSV", "Example", "load_examples", "route_of", "run_routing_eval", "sample_examples"]

DEFAULT_CSV = DEV_CSV

# Who triage handed the customer to, by the receiving node's display name.
_ROUTE_OF_AGENT = {"BillingAgent": "billing", "RefundAgent": "refund", "FAQAgent": "faq", "EscalationAgent": "human"}

# Triage may retry an invalid transfer once; a bound keeps a misbehaving model from looping.
_MAX_TRIAGE_RUNS = 3


@dataclass(frozen=True)
class Example:
    text: str
    route: str
    source: str | None = None


def load_examples(path: Path, *, limit: int | None = None, seed: int = 0) -> list[Example]:
    """Read a CSV with `text` and `route` columns (others ignored; `source` kept when present).

    With `limit`, a sample of that many rows, stratified by source and route (see `sample_examples`).

    Raises:
        InvalidRequest: the file is missing, lacks a column, or has a route we do not know.
    """
    try:
        handle = open(path, newline="", encoding="utf-8")  # noqa: SIM115 - closed below
    except OSError as exc:
        raise InvalidRequest(f"cannot read {path}: {exc.strerror}") from exc
    with handle:
        reader = csv.DictReader(handle)
        missing = {"text", "route"} - set(reader.fieldnames or [])
        if missing:
            raise InvalidRequest(f"{path} has no {' or '.join(sorted(missing))} column")
        examples: list[Example] = []
        for line, row in enumerate(reader, start=2):
            text = (row.get("text") or "").strip()
            route = (row.get("route") or "").strip()
            if not text:
                continue
            if route not in ROUTES:
                raise InvalidRequest(f"{path}:{line}: route {route!r} is not one of {', '.join(ROUTES)}")
            examples.append(Example(text, route, (row.get("source") or "").strip() or None))
    if not examples:
        raise InvalidRequest(f"{path} has no labelled messages")
    return examples if limit is None else sample_examples(examples, limit, seed=seed)


def sample_examples(examples: list[Example], limit: int, *, seed: int = 0) -> list[Example]:
    """`limit` examples drawn with a seeded generator, each (source, route) group in proportion to its size.

    The first N rows of a file are usually one source and a few routes, which says little about the
    rest; a proportional sample keeps the mix, and the seed makes a run repeatable. Rows keep file order.
    """
    if limit >= len(examples):
        return list(examples)
    groups: dict[tuple[str, str], list[int]] = {}
    for index, example in enumerate(examples):
        groups.setdefault((example.source or "", example.route), []).append(index)
    shares = {key: limit * len(members) / len(examples) for key, members in groups.items()}
    quotas = {key: int(share) for key, share in shares.items()}
    # Largest remainders get the rows left over, ties broken by group name so the result is stable.
    for key in sorted(shares, key=lambda k: (quotas[k] - shares[k], k))[: limit - sum(quotas.values())]:
        quotas[key] += 1
    rng = random.Random(seed)
    picked = [i for key, members in sorted(groups.items()) for i in rng.sample(members, quotas[key])]
    return [examples[i] for i in sorted(picked)]


def route_of(values: dict[str, Any], next_nodes: tuple[str, ...] = ()) -> str:
    """The route triage chose, read from the graph state after the triage step (and where it goes next)."""
    for entry in values.get("routing_metadata") or []:
        if entry.get("from") == "TriageAgent":
            return _ROUTE_OF_AGENT.get(entry.get("to", ""), "other")
    if "fallback" in next_nodes:
        return "error"  # the model failed or broke the handoff rules twice: scored as wrong
    return "other"


class _TriageRunner:
    """The compiled support graph over a scratch database, stopped right after triage."""

    def __init__(self, model: BaseChatModel, data_dir: Path, customer_id: str) -> None:
        self.db = Database(data_dir / "support.db", FixedClock(DEFAULT_TODAY))
        self.db.ensure_ready()
        self.saver = InMemorySaver()
        self.graph = build_graph(Deps(db=self.db, model_for=lambda _agent: model), checkpointer=self.saver)
        self.customer_id = customer_id

    def route(self, text: str) -> tuple[str, str | None]:
        thread_id = f"eval_{uuid.uuid4().hex[:12]}"
        config: RunnableConfig = {"configurable": {"thread_id": thread_id}, "recursion_limit": 25}
        context = Context(customer_id=self.customer_id)
        payload: InputState | None = {"messages": [HumanMessage(content=text)]}
        try:
            for _ in range(_MAX_TRIAGE_RUNS):
                self.graph.invoke(payload, config, context=context, interrupt_after=["triage"])
                snapshot = self.graph.get_state(config)
                values = snapshot.values
                if snapshot.next != ("triage",):  # not a retry of an invalid transfer
                    break
                payload = None  # resume: triage runs again, as it would in a conversation
            route = route_of(values, snapshot.next)
            messages = values.get("messages") or []
            reply = messages[-1].text if route == "other" and messages else None
            return route, reply
        finally:
            self.saver.delete_thread(thread_id)  # fresh thread per message; keep memory flat


def run_routing_eval(
    examples: Sequence[Example],
    model: BaseChatModel,
    *,
    customer_id: str = "cust_001",
    workers: int = 1,
    show_examples: int = 10,
    on_progress: Callable[[], None] | None = None,
) -> dict[str, Any]:
    """Route every example through triage and score it.

    Returns:
        `evals.router_eval.metrics` (`n`, `accuracy`, `macro_f1`, `per_route`, `confusion`) plus
        `by_source`, `latency_ms` (median, p95, mean), `seconds`, `slowest` and `misrouted`.
    """
    with tempfile.TemporaryDirectory(prefix="support-eval-routing-") as tmp:
        runner = _TriageRunner(model, Path(tmp), customer_id)
        runner.route("Hello")  # warm-up: the offline model trains its router on first use

        def one(example: Example) -> dict[str, Any]:
            started = time.perf_counter()
            predicted, reply = runner.route(example.text)
            elapsed = time.perf_counter() - started
            if on_progress is not None:
                on_progress()
            return {
                "text": example.text,
                "route": example.route,
                "predicted": predicted,
                "source": example.source,
                "ms": round(elapsed * 1000, 2),
                "reply": reply,
            }

        started = time.perf_counter()
        if workers > 1:
            with ThreadPoolExecutor(max_workers=workers) as pool:
                rows = list(pool.map(one, examples))
        else:
            rows = [one(example) for example in examples]
        seconds = time.perf_counter() - started

    result = metrics([r["route"] for r in rows], [r["predicted"] for r in rows])
    sources = sorted({r["source"] for r in rows if r["source"]})
    result["by_source"] = {
        source: metrics(
            [r["route"] for r in rows if r["source"] == source], [r["predicted"] for r in rows if r["source"] == source]
        )
        for source in sources
    }
    latencies = sorted(r["ms"] for r in rows)
    result["latency_ms"] = {
        "median": percentile(latencies, 50),
        "p95": percentile(latencies, 95),
        "mean": round(sum(latencies) / len(latencies), 2) if latencies else 0.0,
    }
    result["seconds"] = round(seconds, 2)
    result["slowest"] = sorted(rows, key=lambda r: r["ms"], reverse=True)[:show_examples]
    misrouted = [r for r in rows if r["route"] != r["predicted"]]
    result["misrouted_total"] = len(misrouted)
    result["misrouted"] = misrouted[:show_examples]
    return result


def percentile(sorted_values: Sequence[float], pct: float) -> float:
    """Nearest-rank percentile of already sorted values (0.0 when empty)."""
    if not sorted_values:
        return 0.0
    rank = max(1, min(len(sorted_values), round(pct / 100 * len(sorted_values) + 0.5)))
    return round(float(sorted_values[rank - 1]), 2)


def evaluate_file(
    path: Path,
    model: BaseChatModel,
    *,
    limit: int | None = None,
    seed: int = 0,
    workers: int = 1,
    customer_id: str = "cust_001",
    progress: bool = True,
) -> dict[str, Any]:
    """Load `path` and run the evaluation with a progress bar (drawn only on a terminal)."""
    examples = load_examples(path, limit=limit, seed=seed)
    bar = Progress(len(examples), "routing", stream=None) if progress else None
    try:
        result = run_routing_eval(
            examples, model, customer_id=customer_id, workers=workers, on_progress=bar.advance if bar else None
        )
    finally:
        if bar is not None:
            bar.close()
    result["data"] = str(path)
    return result
