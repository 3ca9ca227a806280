"""Model-call retries are the OpenAI client's own (`ChatOpenAI(max_retries=…)`); this adds two rules.

The client retries a request that failed before its answer began: timeouts, connection errors,
408/409/429 and 5xx, with exponential backoff (0.5 s doubling up to 8 s, with jitter) and a
server's Retry-After. A stream that breaks after tokens were shown is never retried, so the
customer never reads the same words twice: the agent's turn ends in the polite fallback answer.

Through httpx event hooks on the client's own HTTP connection, this module adds:

- **No retry on an exhausted quota.** A 429 whose error code is `insufficient_quota` will not go
  away by waiting, so the response is marked `x-should-retry: false`, a header the client obeys.
- **A log line per retry** (`model_retry`, with the attempt, the failed status and the measured
  wait), read from the retry count the client sends on every request (`x-stainless-retry-count`).
"""

from __future__ import annotations

import json
import logging
import time
from contextvars import ContextVar
from typing import Any

__all__ = ["QUOTA_CODE", "async_http_client", "http_client", "is_exhausted_quota"]

logger = logging.getLogger("support.model")

QUOTA_CODE = "insufficient_quota"

# The outcome of the previous attempt of the call running in this context (thread or task):
# (monotonic time it ended, HTTP status). Each model call runs in its own context.
_last_attempt: ContextVar[tuple[float, int] | None] = ContextVar("support_last_attempt", default=None)


def is_exhausted_quota(status: int, body: bytes) -> bool:
    """Whether an error response says the account is out of quota (not a passing rate limit)."""
    if status != 429:
        return False
    try:
        error = json.loads(body or b"{}").get("error") or {}
    except (ValueError, AttributeError):
        return False
    return isinstance(error, dict) and QUOTA_CODE in (error.get("code"), error.get("type"))


def _on_request(request: Any) -> None:
    retry = int(request.headers.get("x-stainless-retry-count") or 0)
    last = _last_attempt.get()
    _last_attempt.set(None)
    if retry == 0:
        return
    wait = round(time.monotonic() - last[0], 3) if last else None
    status = last[1] if last else None
    logger.warning(
        "model request failed (%s), retry %d",
        status or "timeout or connection error",
        retry,
        extra={"event": "model_retry", "attempt": retry, "status": status, "wait_s": wait},
    )


def _on_response(response: Any, body: bytes | None) -> None:
    if response.status_code < 400:
        return
    _last_attempt.set((time.monotonic(), response.status_code))
    if body is not None and is_exhausted_quota(response.status_code, body):
        response.headers["x-should-retry"] = "false"


def _sync_response(response: Any) -> None:
    # Only a 429's body is read here (a few hundred bytes); the client reads it again from memory.
    _on_response(response, response.read() if response.status_code == 429 else None)


async def _async_request(request: Any) -> None:
    _on_request(request)


async def _async_response(response: Any) -> None:
    _on_response(response, await response.aread() if response.status_code == 429 else None)


def http_client() -> Any:
    """The OpenAI client's default HTTP client, with the hooks above."""
    import openai

    return openai.DefaultHttpxClient(event_hooks={"request": [_on_request], "response": [_sync_response]})


def async_http_client() -> Any:
    """The same for the async client (LangGraph's async runs)."""
    import openai

    return openai.DefaultAsyncHttpxClient(event_hooks={"request": [_async_request], "response": [_async_response]})
