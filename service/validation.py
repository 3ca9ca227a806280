"""Checks on a customer's message, shared by every way in (the desk's API, the CLI and the server)."""

from __future__ import annotations

from typing import Any

from service.errors import InvalidRequest
from service.settings import MAX_MESSAGE_CHARS

__all__ = ["check_message", "message_text"]


def check_message(message: str | None) -> str:
    """The message without surrounding whitespace.

    Raises:
        InvalidRequest: It is empty or longer than MAX_MESSAGE_CHARS.
    """
    text = (message or "").strip()
    if not text:
        raise InvalidRequest("the message is empty")
    if len(text) > MAX_MESSAGE_CHARS:
        raise InvalidRequest(f"the message is {len(text)} characters long; the limit is {MAX_MESSAGE_CHARS}")
    return text


def message_text(message: Any) -> str:
    """The text of one message as an API request sends it: a dict or [role, content], content a string or parts."""
    if isinstance(message, dict):
        content = message.get("content")
    elif isinstance(message, (list, tuple)) and len(message) == 2:
        content = message[1]
    else:
        content = message
    if isinstance(content, list):
        return "".join(p.get("text", "") if isinstance(p, dict) else str(p) for p in content)
    return content if isinstance(content, str) else ""
