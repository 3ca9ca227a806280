"""Load on a running `langgraph dev`: N concurrent customers × M turns each, over real HTTP on 127.0.0.1.

Each client is one seed customer (demo token ``demo-cust_00X``, spread round-robin) speaking through
`langgraph_sdk`'s async client: it creates its thread, then sends its messages one after another with
``runs.wait``, or with ``stream=True`` streams each run (``runs.stream``, values) to its end, as a chat page
does. The messages are the long conversation's (questions for every specialist, a topic change, small
talk): none of them waits for a manager, so no thread blocks. Every failure is counted and a few are kept:
an exception or HTTP error, a run that ended in error, or a run that paused (a thread waiting for a manager
would refuse the next message). The load is bounded: exactly ``clients × turns_each`` requests and one global
timeout, after which the unfinished turns count as errors.
"""

from __future__ import annotations

import asyncio
import re
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from evals.bench import LONG_CONVERSATION, latency_summary
from evals.harness import DEFAULT_TODAY
from service.errors import InvalidRequest

__all__ = ["SEED_CUSTOMERS", "check_loopback", "run_server_bench", "run_with_own_server"]

ASSISTANT = "support"
SEED_CUSTOMERS: tuple[str, ...] = ("cust_001", "cust_002", "cust_003", "cust_004", "cust_005")
_LOOPBACK = ("127.0.0.1", "localhost", "::1")
_KEEP_ERRORS = 5
# The throwaway server measures the offline model on a fixed day, like the in-process figures.
_OWN_SERVER_ENV = {
    "SUPPORT_MODEL": "offline",
    "SUPPORT_TODAY": DEFAULT_TODAY.isoformat(),
    "SUPPORT_DEMO_TOKENS": "1",
    "LOG_COLOR": "false",
    "LOG_LEVEL": "INFO",  # the worker then logs each run's queue wait and execution time, read back below
}
_RUN_TIMES = re.compile(r"Background run \w+.*?run_exec_ms=(\d+).*?run_wait_time_ms=(\d+)")
_DROP_ENV = ("OPENAI_API_KEY", "OPENAI_BASE_URL", "SUPPORT_TOKENS_FILE", "SUPPORT_CUSTOMER_TOKENS")


def check_loopback(url: str) -> str:
    """The URL without a trailing slash.

    Raises:
        InvalidRequest: It is not http(s) on 127.0.0.1, localhost or ::1 (the benchmark loads only this machine).
    """
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or parts.hostname not in _LOOPBACK:
        raise InvalidRequest(f"--url must be a server on this machine (http://127.0.0.1:PORT), not {url!r}")
    return url.rstrip("/")


@dataclass
class _Tally:
    """What the clients measured so far (kept when the global timeout cancels them)."""

    latencies_ms: list[float] = field(default_factory=list)
    finished: int = 0  # turns answered or failed; the rest were cut off by the timeout
    errors: int = 0
    samples: list[str] = field(default_factory=list)
    # Streams that ended with the run's end but without its values (seen on Aegra about once in 250 turns
    # under load); the turn's reply was then read from the thread's state, as a client should.
    stream_gaps: int = 0

    def failed(self, what: str) -> None:
        self.errors += 1
        if len(self.samples) < _KEEP_ERRORS:
            self.samples.append(what[:300])


def _client(url: str, token: str, request_timeout: float) -> Any:
    from langgraph_sdk import get_client

    # api_key=None: never pick up a LangSmith key from the environment and send it to the server.
    return get_client(url=url, api_key=None, headers={"Authorization": f"Bearer {token}"}, timeout=request_timeout)


async def _turn(client: Any, thread_id: str, message: str, *, stream: bool) -> Any:
    """One turn's final values: ``runs.wait``, or the last values event of ``runs.stream``.

    Streaming ends as soon as the run does on both engines; Aegra's ``runs.wait`` polls for the end
    every 2 s (its Redis executor's ``wait_for_completion``).
    """
    payload = {"messages": [{"role": "user", "content": message}]}
    if not stream:
        return await client.runs.wait(thread_id, ASSISTANT, input=payload)
    values: Any = None
    async for part in client.runs.stream(thread_id, ASSISTANT, input=payload, stream_mode="values"):
        if part.event == "error":
            raise RuntimeError(f"the run ended in error: {part.data}")
        if part.event == "values":
            values = part.data
    return values


async def _one_customer(
    url: str,
    token: str,
    index: int,
    turns: int,
    tally: _Tally,
    tick: Callable[[], None],
    request_timeout: float,
    stream: bool = False,
) -> None:
    client = _client(url, token, request_timeout)
    try:
        try:
            thread = await client.threads.create()
        except Exception as exc:  # counted, not raised: a benchmark reports errors
            for _ in range(turns):
                tally.failed(f"client {index}: creating the thread: {type(exc).__name__}: {exc}")
                tally.finished += 1
                tick()
            return
        for turn in range(turns):
            message = LONG_CONVERSATION[(index + turn) % len(LONG_CONVERSATION)]
            started = time.perf_counter()
            try:
                values = await _turn(client, thread["thread_id"], message, stream=stream)
                if values is None and stream:
                    tally.stream_gaps += 1
                    values = (await client.threads.get_state(thread["thread_id"])).get("values")
                    humans = [m for m in (values or {}).get("messages", []) if m.get("type") == "human"]
                    answered = bool(values) and values["messages"][-1].get("type") == "ai"
                    if not answered or not humans or humans[-1].get("content") != message:
                        values = None  # the thread does not hold this turn either: a lost turn
                if values is None:
                    tally.failed(f"client {index} turn {turn + 1}: the stream ended without the thread's values")
                elif isinstance(values, dict) and values.get("__interrupt__"):
                    tally.failed(f"client {index} turn {turn + 1}: the run paused (waiting for a manager)")
            except Exception as exc:  # an HTTP error, a timeout, or a run that ended in error (raise_error)
                tally.failed(f"client {index} turn {turn + 1}: {type(exc).__name__}: {exc}")
            tally.latencies_ms.append((time.perf_counter() - started) * 1000)
            tally.finished += 1
            tick()
    finally:
        await client.aclose()


async def _warm_up(url: str, token: str, request_timeout: float) -> None:
    """One turn outside the timings: the offline model trains its router on first use."""
    client = _client(url, token, request_timeout)
    try:
        thread = await client.threads.create()
        await client.runs.wait(thread["thread_id"], ASSISTANT, input={"messages": [{"role": "user", "content": "Hi"}]})
    finally:
        await client.aclose()


async def _load(
    urls: Sequence[str],
    tokens: Sequence[str],
    *,
    clients: int,
    turns_each: int,
    timeout: float,
    request_timeout: float,
    tick: Callable[[], None],
    stream: bool = False,
) -> dict[str, Any]:
    for url in urls:
        try:
            await _warm_up(url, tokens[0], request_timeout)
        except Exception as exc:
            raise InvalidRequest(
                f"the server at {url} did not answer a first message: {type(exc).__name__}: {exc}"
            ) from exc
    tally = _Tally()
    started = time.perf_counter()
    tasks = [
        asyncio.create_task(
            # Spread over the instances: client i talks to instance i mod n.
            _one_customer(
                urls[i % len(urls)], tokens[i % len(tokens)], i, turns_each, tally, tick, request_timeout, stream
            )
        )
        for i in range(clients)
    ]
    _, pending = await asyncio.wait(tasks, timeout=timeout)
    for task in pending:
        task.cancel()
    await asyncio.gather(*pending, return_exceptions=True)
    seconds = time.perf_counter() - started
    turns = clients * turns_each
    succeeded = tally.finished - tally.errors
    for _ in range(turns - tally.finished):
        tally.failed(f"the global timeout ({timeout:g} s) ended the run before this turn finished")
    return {
        "url": " ".join(urls),
        "clients": clients,
        "turns_each": turns_each,
        "customers": sorted({tokens[i % len(tokens)].removeprefix("demo-") for i in range(clients)}),
        "turns": turns,
        "completed": tally.finished,
        "succeeded": succeeded,
        "seconds": round(seconds, 2),
        # Only answered turns count: a failure is often fast, and must not look like throughput.
        "turns_per_second": round(succeeded / seconds, 2) if seconds else 0.0,
        "latency_ms": latency_summary(tally.latencies_ms),
        "errors": tally.errors,
        "error_samples": tally.samples,
        "timed_out": bool(pending),
        "timeout_seconds": timeout,
        "turns_by": "runs.stream" if stream else "runs.wait",
        "stream_gaps": tally.stream_gaps,
    }


def run_server_bench(
    url: str | Sequence[str],
    *,
    clients: int,
    turns_each: int,
    tokens: Sequence[str] | None = None,
    timeout: float = 600.0,
    request_timeout: float = 120.0,
    on_progress: Callable[[], None] | None = None,
    stream: bool = False,
) -> dict[str, Any]:
    """Load an already running server; returns turns/s, latency (median = p50, p95) and errors.

    Args:
        url: The server, on this machine; or several instances of one, the clients spread over them.
        clients: Concurrent customers.
        turns_each: Messages each customer sends, one after another.
        tokens: Customer tokens to spread the clients over (default: the demo tokens of the seed customers).
        timeout: Seconds for the whole load; turns not finished by then count as errors.
        request_timeout: Seconds for one HTTP request.
        stream: Stream each turn to its end instead of ``runs.wait``.

    Raises:
        InvalidRequest: The URL is not on this machine, or the server does not answer a first message.
    """
    urls = [check_loopback(u) for u in ([url] if isinstance(url, str) else url)]
    chosen = list(tokens) if tokens else [f"demo-{c}" for c in SEED_CUSTOMERS]
    result = asyncio.run(
        _load(
            urls,
            chosen,
            clients=clients,
            turns_each=turns_each,
            timeout=timeout,
            request_timeout=request_timeout,
            tick=on_progress or (lambda: None),
            stream=stream,
        )
    )
    result["own_server"] = None
    return result


def server_side_times(log: str) -> dict[str, dict[str, float]] | None:
    """Each run's time queued and executing, from the server's own log; None when it logged none.

    The first run is the warm-up and is left out.
    """
    found = [(int(exec_ms), int(wait_ms)) for exec_ms, wait_ms in _RUN_TIMES.findall(log)][1:]
    if not found:
        return None
    return {
        "queued_ms": latency_summary([wait for _, wait in found]),
        "executing_ms": latency_summary([run for run, _ in found]),
    }


def run_with_own_server(
    *,
    clients: int,
    turns_each: int,
    jobs: int | None = None,
    timeout: float = 600.0,
    on_progress: Callable[[], None] | None = None,
) -> dict[str, Any]:
    """Start `langgraph dev` as `support serve` does (free 127.0.0.1 port, throwaway data), load it, stop it."""
    from service.server import DEFAULT_JOBS, ManagedServer

    with tempfile.TemporaryDirectory(prefix="support-bench-server-") as tmp:
        server = ManagedServer(Path(tmp), jobs=jobs or DEFAULT_JOBS, env=_OWN_SERVER_ENV, drop_env=_DROP_ENV)
        started = time.perf_counter()
        try:
            server.start()
        except RuntimeError as exc:
            raise InvalidRequest(str(exc).splitlines()[0] + " (run `support serve` to see why)") from exc
        startup = time.perf_counter() - started
        try:
            result = run_server_bench(
                server.url, clients=clients, turns_each=turns_each, timeout=timeout, on_progress=on_progress
            )
        finally:
            server.stop()
        log = server.log()
    result["own_server"] = {
        "startup_seconds": round(startup, 1),
        "jobs": server.jobs,
        "model": "offline",
        "runs": server_side_times(log),
    }
    return result
