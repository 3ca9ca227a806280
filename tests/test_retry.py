"""Retry policy: exponential, jittered, capped, bounded; only transient errors are retried."""

from __future__ import annotations

from typing import Any

import httpx
import openai
import pytest

from llm.retry import RetryPolicy, call_with_retry, is_transient, retry_after


def status_error(status: int, code: str | None = None, headers: dict[str, str] | None = None) -> openai.APIStatusError:
    request = httpx.Request("POST", "http://127.0.0.1/v1/chat/completions")
    response = httpx.Response(status, headers=headers or {}, request=request)
    body = {"code": code} if code else None
    cls = {429: openai.RateLimitError, 500: openai.InternalServerError, 401: openai.AuthenticationError}.get(
        status, openai.APIStatusError
    )
    return cls("boom", response=response, body=body)


def test_backoff_doubles_with_jitter_and_is_capped() -> None:
    policy = RetryPolicy(max_retries=6, delay=1.0, max_delay=5.0)
    low = [policy.backoff(n, rng=lambda: 0.0) for n in range(1, 6)]
    high = [policy.backoff(n, rng=lambda: 1.0) for n in range(1, 6)]
    assert low == [0.5, 1.0, 2.0, 2.5, 2.5]  # half of each step is fixed...
    assert high == [1.0, 2.0, 4.0, 5.0, 5.0]  # ...the other half is jitter, and 5 s is the cap
    assert policy.backoff(1, rng=lambda: 0.0, hint=60.0) == 5.0  # a server's Retry-After is capped too


@pytest.mark.parametrize(
    ("exc", "transient"),
    [
        (status_error(500), True),
        (status_error(503), True),
        (status_error(429), True),
        (status_error(429, code="insufficient_quota"), False),
        (status_error(401), False),
        (status_error(400), False),
        (openai.APITimeoutError(request=httpx.Request("POST", "http://127.0.0.1")), True),
        (openai.APIConnectionError(request=httpx.Request("POST", "http://127.0.0.1")), True),
        (RuntimeError("a bug"), False),
    ],
)
def test_only_transient_errors_are_retried(exc: Exception, transient: bool) -> None:
    assert is_transient(exc) is transient


def test_retry_after_headers_are_read() -> None:
    assert retry_after(status_error(429, headers={"retry-after-ms": "250"})) == pytest.approx(0.25)
    assert retry_after(status_error(429, headers={"retry-after": "2"})) == 2.0
    assert retry_after(status_error(429)) is None


def test_call_with_retry_is_bounded_and_sleeps_between_attempts() -> None:
    attempts: list[int] = []
    sleeps: list[float] = []

    def always_down() -> Any:
        attempts.append(1)
        raise status_error(503)

    policy = RetryPolicy(max_retries=3, delay=0.1, max_delay=1.0)
    with pytest.raises(openai.APIStatusError):
        call_with_retry(always_down, policy, sleep=sleeps.append, rng=lambda: 0.5)
    assert len(attempts) == 4
    assert sleeps == pytest.approx([0.075, 0.15, 0.3])


def test_call_with_retry_returns_the_attempts_it_took() -> None:
    results = iter([status_error(500), status_error(429), "ok"])

    def flaky() -> str:
        item = next(results)
        if isinstance(item, Exception):
            raise item
        return item

    assert call_with_retry(flaky, RetryPolicy(max_retries=2), sleep=lambda s: None) == ("ok", 3)


def test_a_permanent_error_is_raised_at_once() -> None:
    sleeps: list[float] = []
    with pytest.raises(openai.AuthenticationError):
        call_with_retry(lambda: (_ for _ in ()).throw(status_error(401)), RetryPolicy(), sleep=sleeps.append)
    assert sleeps == []
