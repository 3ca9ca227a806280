"""Speed and cost of the desk, in process, on the offline model with the SQLite checkpointer.

Measured: per-turn latency of the four seed scenarios; model calls and prompt tokens per
scenario; a long conversation (latency, prompt tokens and checkpoint bytes per turn); and
throughput with several conversations running at once. Timings are wall-clock on this machine.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from langchain_core.language_models import BaseChatModel

from evals.harness import DEFAULT_TODAY, fresh_desk
from evals.routing import percentile
from service.desk import SupportDesk
from service.settings import Settings

__all__ = ["LONG_CONVERSATION", "SEED_SCENARIOS", "latency_summary", "run_bench"]

# The original design's four acceptance messages, for Alice (cust_001).
SEED_SCENARIOS: tuple[tuple[str, str], ...] = (
    ("duplicate charge", "I was charged twice this month and want my money back"),
    ("product question", "How do I export my data to CSV?"),
    ("explain a charge", "Can you explain what the $49.99 charge on March 1st was for?"),
    ("plan change", "I want to upgrade from Pro to Enterprise"),
)

# A long conversation cycles through these: questions for every specialist, topic changes,
# follow-ups and small talk, and nothing that ends the thread or waits for a manager.
LONG_CONVERSATION: tuple[str, ...] = (
    "How do I export my data to CSV?",
    "And can I export to PDF as well?",
    "What was the $49.99 charge at the start of this month?",
    "Which card do you have on file for me?",
    "How much would Enterprise cost me per month?",
    "Never mind. How do I invite a teammate?",
    "Do you have any open invoices for me?",
    "Thanks, that's helpful!",
    "How do I reset my password?",
    "What's the weather like in Paris?",
)


class _CountingSerde:
    """The saver's serializer, counting the bytes of every checkpoint and pending write it encodes."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.bytes = 0

    def dumps_typed(self, obj: Any) -> tuple[str, bytes]:
        kind, data = self.inner.dumps_typed(obj)
        self.bytes += len(data)
        return kind, data

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def _storage(desk: SupportDesk, thread_id: str) -> dict[str, int]:
    """The thread's newest checkpoint, how many it keeps, and the size of the checkpoint file with its log."""
    conn = desk.checkpointer.conn
    with desk.checkpointer.lock:
        latest = conn.execute(
            "SELECT length(checkpoint) + length(metadata) FROM checkpoints WHERE thread_id = ? "
            "ORDER BY checkpoint_id DESC LIMIT 1",
            (thread_id,),
        ).fetchone()
        kept = conn.execute("SELECT COUNT(*) FROM checkpoints WHERE thread_id = ?", (thread_id,)).fetchone()[0]
    folder = desk.settings.data_dir
    file_bytes = sum(p.stat().st_size for p in (folder / "checkpoints.db", folder / "checkpoints.db-wal") if p.exists())
    return {
        "checkpoint_bytes": int(latest[0]) if latest else 0,
        "checkpoints_kept": int(kept),
        "file_bytes": file_bytes,
    }


def latency_summary(values: Sequence[float]) -> dict[str, float]:
    ordered = sorted(values)
    return {
        "median": round(statistics.median(ordered), 2) if ordered else 0.0,
        "p95": percentile(ordered, 95),
        "min": round(ordered[0], 2) if ordered else 0.0,
        "max": round(ordered[-1], 2) if ordered else 0.0,
    }


def bench_seed_scenarios(
    settings: Settings, models: dict[str, BaseChatModel], *, reps: int, tick: Callable[[], None]
) -> list[dict[str, Any]]:
    """Each seed message `reps` times, every time in a fresh data directory and thread."""
    rows = []
    for title, message in SEED_SCENARIOS:
        latencies: list[float] = []
        calls: list[int] = []
        tokens: list[int] = []
        agent = ""
        for _ in range(reps):
            with fresh_desk(settings, models=models, today=DEFAULT_TODAY) as desk:
                started = time.perf_counter()
                result = desk.ask(message, customer_id="cust_001")
                latencies.append((time.perf_counter() - started) * 1000)
            calls.append(result["model_calls"])
            tokens.append(result["usage"]["input_tokens"])
            agent = result["final_agent"]
            tick()
        rows.append(
            {
                "scenario": title,
                "message": message,
                "final_agent": agent,
                "latency_ms": latency_summary(latencies),
                "model_calls": round(statistics.mean(calls), 2),
                "prompt_tokens": round(statistics.mean(tokens), 1),
            }
        )
    return rows


def bench_long_conversation(
    settings: Settings, models: dict[str, BaseChatModel], *, turns: int, tick: Callable[[], None]
) -> dict[str, Any]:
    """One thread of `turns` messages; per-turn latency, prompt tokens, model calls and storage.

    Storage per turn: the bytes the saver encoded (checkpoints and pending writes), the newest checkpoint, how
    many checkpoints the thread keeps, and the size of `checkpoints.db` with its write-ahead log.
    """
    per_turn: list[dict[str, Any]] = []
    with fresh_desk(settings, models=models, today=DEFAULT_TODAY) as desk:
        counter = _CountingSerde(desk.checkpointer.serde)
        desk.checkpointer.serde = counter
        thread_id: str | None = None
        for turn in range(1, turns + 1):
            message = LONG_CONVERSATION[(turn - 1) % len(LONG_CONVERSATION)]
            written_before = counter.bytes
            started = time.perf_counter()
            result = desk.ask(message, customer_id="cust_001", thread_id=thread_id)
            elapsed = (time.perf_counter() - started) * 1000
            written = counter.bytes - written_before
            thread_id = result["thread_id"]
            per_turn.append(
                {
                    "turn": turn,
                    "latency_ms": round(elapsed, 2),
                    "prompt_tokens": result["usage"]["input_tokens"],
                    "model_calls": result["model_calls"],
                    "final_agent": result["final_agent"],
                    **_storage(desk, thread_id),
                    "written_bytes": written,
                    "messages_in_state": len(desk.graph.get_state(desk._config(thread_id)).values["messages"]),
                }
            )
            tick()
    marks = sorted({t for t in (1, 50, 100, 200, 500, 1000, turns) if t <= turns})
    return {"turns": turns, "at": {str(t): per_turn[t - 1] for t in marks}, "per_turn": per_turn}


def bench_throughput(
    settings: Settings,
    models: dict[str, BaseChatModel],
    *,
    concurrency: Sequence[int],
    turns_each: int,
    tick: Callable[[], None],
) -> list[dict[str, Any]]:
    """`n` conversations at once on one desk (threads), each `turns_each` messages long."""
    rows = []
    for n in concurrency:
        with fresh_desk(settings, models=models, today=DEFAULT_TODAY) as desk:
            started = time.perf_counter()
            with ThreadPoolExecutor(max_workers=n) as pool:
                outcomes = list(pool.map(lambda i, d=desk: _conversation(d, i, turns_each, tick), range(n)))
            seconds = time.perf_counter() - started
        latencies = [ms for latencies_of, _ in outcomes for ms in latencies_of]
        rows.append(
            {
                "threads": n,
                "turns": n * turns_each,
                "seconds": round(seconds, 2),
                "turns_per_second": round(n * turns_each / seconds, 1),
                "latency_ms": latency_summary(latencies),
                "errors": sum(errors for _, errors in outcomes),
            }
        )
    return rows


def _conversation(desk: SupportDesk, index: int, turns: int, tick: Callable[[], None]) -> tuple[list[float], int]:
    """One thread of `turns` messages; returns each turn's latency and how many failed."""
    thread_id: str | None = None
    latencies: list[float] = []
    errors = 0
    for turn in range(turns):
        message = LONG_CONVERSATION[(index + turn) % len(LONG_CONVERSATION)]
        started = time.perf_counter()
        try:
            result = desk.ask(message, customer_id="cust_001", thread_id=thread_id)
            thread_id = result["thread_id"]
            failed = result["final_agent"] == "FallbackAgent"
        except Exception:  # counted, not raised: a benchmark reports errors
            failed = True
        latencies.append((time.perf_counter() - started) * 1000)
        errors += failed
        tick()
    return latencies, errors


def run_bench(
    settings: Settings,
    models: dict[str, BaseChatModel],
    *,
    turns: int = 200,
    reps: int = 20,
    threads: int = 4,
    turns_each: int = 20,
    on_progress: Callable[[], None] | None = None,
) -> dict[str, Any]:
    """All the in-process figures, as one JSON-ready dict."""
    tick = on_progress or (lambda: None)
    concurrency = sorted({1, threads})
    # Warm-up outside the timings: the offline model trains its router on first use.
    with fresh_desk(settings, models=models, today=DEFAULT_TODAY) as desk:
        desk.ask("Hello", customer_id="cust_001")
    started = time.perf_counter()
    seed = bench_seed_scenarios(settings, models, reps=reps, tick=tick)
    long = bench_long_conversation(settings, models, turns=turns, tick=tick)
    throughput = bench_throughput(settings, models, concurrency=concurrency, turns_each=turns_each, tick=tick)
    seed_calls = [row["model_calls"] for row in seed]
    return {
        "seed_scenarios": seed,
        "seed_model_calls_per_message": round(sum(seed_calls) / len(seed_calls), 2),
        "long_conversation": long,
        "throughput": throughput,
        "parameters": {"turns": turns, "reps": reps, "threads": threads, "turns_each": turns_each},
        "seconds": round(time.perf_counter() - started, 1),
    }


def total_ticks(*, turns: int, reps: int, threads: int, turns_each: int) -> int:
    """How many progress steps `run_bench` reports, for the progress bar."""
    return reps * len(SEED_SCENARIOS) + turns + sum(sorted({1, threads})) * turns_each
