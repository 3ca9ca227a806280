"""Checks on a customer's message, shared by every way in (the desk's API, the CLI and the server).

The server accepts a run's ``input.messages`` in many JSON shapes (a string, one message object,
a list of them, ``[role, content]`` pairs, content as a string or as a list of parts). Every shape
goes through `new_messages`, which reduces it to plain texts and applies `check_message` to each,
so no shape skips the empty/over-long check.
"""

from __future__ import annotations

import unicodedata
from typing import Any

from service.errors import InvalidRequest
from service.settings import MAX_MESSAGE_CHARS

__all__ = ["check_message", "clean_text", "customer_input", "message_text", "new_messages"]

_USER_ROLES = frozenset({"user", "human"})


def clean_text(text: str) -> str:
    """The text without control characters (escape sequences, bells, NULs), keeping newlines and tabs.

    Customers' words reach operators' terminals (handoff lines, `support approvals list`, history),
    where an escape sequence would recolour, move or hide what a manager reads.
    """
    text = text.replace("\r\n", "\n")
    return "".join(c for c in text if c in "\n\t" or unicodedata.category(c) != "Cc")


def check_message(message: Any) -> str:
    """The message without control characters or surrounding whitespace.

    Raises:
        InvalidRequest: It is not text, is empty, or is longer than MAX_MESSAGE_CHARS.
    """
    if message is not None and not isinstance(message, str):
        raise InvalidRequest("the message must be text")
    text = clean_text(message or "").strip()
    if not text:
        raise InvalidRequest("the message is empty")
    if len(text) > MAX_MESSAGE_CHARS:
        raise InvalidRequest(f"the message is {len(text)} characters long; the limit is {MAX_MESSAGE_CHARS}")
    return text


def _content_text(content: Any) -> str:
    """A message's content as text: a string, or a list of parts (strings or ``{"text": ...}`` objects)."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        pieces = []
        for part in content:
            if isinstance(part, str):
                pieces.append(part)
            elif isinstance(part, dict) and isinstance(part.get("text", ""), str):
                pieces.append(part.get("text", ""))
            else:
                raise InvalidRequest("a message part must be text")
        return "".join(pieces)
    if content is None:
        return ""
    raise InvalidRequest("a message's content must be text or a list of text parts")


def message_text(message: Any) -> str:
    """The text of one message as an API request sends it: a string, a dict or [role, content].

    Raises:
        InvalidRequest: The message or its content is not in one of these shapes.
    """
    if isinstance(message, str):
        return message
    if isinstance(message, dict):
        return _content_text(message.get("content"))
    if isinstance(message, (list, tuple)) and len(message) == 2 and isinstance(message[0], str):
        return _content_text(message[1])
    raise InvalidRequest("a message must be text, an object with content, or a [role, content] pair")


def _role(message: Any) -> str:
    if isinstance(message, dict):
        return str(message.get("role") or message.get("type") or "user").lower()
    if isinstance(message, (list, tuple)) and message:
        return str(message[0]).lower()
    return "user"


def new_messages(messages: Any) -> list[tuple[str, str]]:
    """Every new message of a run's ``input.messages`` as (role, checked text), whatever the JSON shape.

    Raises:
        InvalidRequest: A message is in an unknown shape, empty, or over-long.
    """
    if messages is None:
        return []
    items = messages if isinstance(messages, list) else [messages]
    found = []
    for message in items:
        text = check_message(message_text(message))  # first: it refuses every shape _role cannot read
        found.append((_role(message), text))
    return found


def customer_input(payload: Any) -> dict[str, Any]:
    """A customer's run input reduced to its one checked message: ``{"messages": [{"role": "user", ...}]}``.

    Only the text survives: no message id (which could overwrite an earlier message in the
    thread), no other role (a customer cannot write the agent's or a tool's part), no other key.

    Raises:
        InvalidRequest: Not exactly one user message, or the message fails `check_message`.
    """
    if not isinstance(payload, dict) or "messages" not in payload:
        raise InvalidRequest('send your message as input={"messages": [{"role": "user", "content": "..."}]}')
    found = new_messages(payload["messages"])
    if len(found) != 1:
        raise InvalidRequest("send exactly one message per run")
    role, text = found[0]
    if role not in _USER_ROLES:
        raise InvalidRequest("a customer's message must have the role 'user'")
    return {"messages": [{"role": "user", "content": text}]}
