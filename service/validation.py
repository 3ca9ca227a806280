"""Checks on a customer's message, shared by every way in (the desk's API, the CLI and the server)."""

from __future__ import annotations

import unicodedata
from typing import Any

from service.errors import InvalidRequest
from service.settings import MAX_MESSAGE_CHARS

__all__ = ["check_message", "clean_text", "message_text"]


def clean_text(text: str) -> str:
    """The text without control characters (escape sequences, bells, NULs), keeping newlines and tabs.

    Customers' words reach operators' terminals (handoff lines, `support approvals list`, history),
    where an escape sequence would recolour, move or hide what a manager reads.
    """
    text = text.replace("\r\n", "\n")
    return "".join(c for c in text if c in "\n\t" or unicodedata.category(c) != "Cc")


def check_message(message: str | None) -> str:
    """The message without control characters or surrounding whitespace.

    Raises:
        InvalidRequest: It is empty or longer than MAX_MESSAGE_CHARS.
    """
    text = clean_text(message or "").strip()
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
