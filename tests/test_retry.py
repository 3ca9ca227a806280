"""The rules llm.retry adds to the OpenAI client's own retries (end to end in test_openai_protocol)."""

from __future__ import annotations

import json

import pytest

from llm.retry import is_exhausted_quota


def body(code: str | None, kind: str = "invalid_request_error") -> bytes:
    return json.dumps({"error": {"message": "x", "type": kind, "code": code}}).encode()


@pytest.mark.parametrize(
    ("status", "payload", "exhausted"),
    [
        (429, body("insufficient_quota"), True),
        (429, body(None, kind="insufficient_quota"), True),
        (429, body("rate_limit_exceeded"), False),
        (429, b"not json", False),
        (429, b"", False),
        (503, body("insufficient_quota"), False),
    ],
)
def test_only_an_exhausted_quota_is_marked_not_to_retry(status: int, payload: bytes, exhausted: bool) -> None:
    assert is_exhausted_quota(status, payload) is exhausted
