"""Bounded retries with exponential backoff and jitter for provider calls.

Only transient failures are retried: timeouts, connection errors, 408/409/429 and 5xx. A
bad request, a bad key or a programming error fails at once, and so does a 429 that says the
account is out of quota (waiting does not fix that).
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

__all__ = ["RetryPolicy", "call_with_retry", "is_transient", "retry_after"]

logger = logging.getLogger("support.model")

T = TypeVar("T")

_RETRY_STATUS = frozenset({408, 409, 429})


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how patiently to retry one model call.

    Attributes:
        max_retries: Retries after the first attempt; 0 means try once.
        delay: The first backoff in seconds; it doubles on every retry.
        max_delay: No single backoff is longer than this, whatever the server asks for.
    """

    max_retries: int = 3
    delay: float = 0.5
    max_delay: float = 8.0

    def backoff(self, retry: int, *, rng: Callable[[], float] = random.random, hint: float | None = None) -> float:
        """Seconds to wait before retry number `retry` (1-based).

        Exponential with "equal jitter": half the step is fixed, half is random, so retries from
        many conversations spread out but never shrink to nothing. A server's Retry-After is
        honoured up to `max_delay`.
        """
        step = min(self.max_delay, self.delay * 2 ** (retry - 1))
        wait = step / 2 + rng() * step / 2
        if hint is not None and hint > 0:
            wait = max(wait, hint)
        return min(wait, self.max_delay)


def _status(exc: BaseException) -> int | None:
    status = getattr(exc, "status_code", None)
    return status if isinstance(status, int) else None


def is_transient(exc: BaseException) -> bool:
    """Whether waiting and trying again can help."""
    try:
        import openai
    except ImportError:  # pragma: no cover - openai comes with langchain-openai
        openai = None  # type: ignore[assignment]
    if openai is not None and isinstance(exc, openai.APIConnectionError):  # includes APITimeoutError
        return True
    status = _status(exc)
    if status is not None:
        body = getattr(exc, "body", None)
        code = body.get("code") if isinstance(body, dict) else None
        if status == 429 and code == "insufficient_quota":
            return False
        return status in _RETRY_STATUS or status >= 500
    return isinstance(exc, TimeoutError | ConnectionError)


def retry_after(exc: BaseException) -> float | None:
    """The server's Retry-After (seconds), if it sent one."""
    response = getattr(exc, "response", None)
    headers = getattr(response, "headers", None)
    if headers is None:
        return None
    for name, scale in (("retry-after-ms", 0.001), ("retry-after", 1.0)):
        value = headers.get(name)
        if value is None:
            continue
        try:
            return float(value) * scale
        except ValueError:
            return None  # an HTTP date: our own backoff is good enough
    return None


def call_with_retry(
    fn: Callable[[], T],
    policy: RetryPolicy,
    *,
    what: str = "model call",
    sleep: Callable[[float], None] = time.sleep,
    rng: Callable[[], float] = random.random,
) -> tuple[T, int]:
    """Call `fn`, retrying transient failures under `policy`.

    Returns:
        The result and the number of attempts it took.

    Raises:
        The last exception when it is not transient or the retries are used up.
    """
    attempt = 0
    while True:
        attempt += 1
        try:
            return fn(), attempt
        except Exception as exc:
            if attempt > policy.max_retries or not is_transient(exc):
                raise
            wait = policy.backoff(attempt, rng=rng, hint=retry_after(exc))
            logger.warning(
                "%s failed (%s), retry %d of %d in %.2fs",
                what,
                type(exc).__name__,
                attempt,
                policy.max_retries,
                wait,
                extra={"event": "model_retry", "attempt": attempt, "status": _status(exc), "wait_s": round(wait, 3)},
            )
            sleep(wait)
