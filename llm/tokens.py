"""Token counts with OpenAI's o200k_base encoding (GPT-4o, GPT-4.1, o-series), offline.

`quicktok` (PyPI `quicktok-v1`) ships the encoding inside its wheel and returns the same ids as tiktoken,
which would download the encoding at run time. The encoding is loaded on the first count (about a third
of a second) and kept for the process.

A chat request is counted the way OpenAI bills it: each message's text, plus 3 tokens of framing per
message and 3 that prime the reply; an assistant message's tool calls and the bound tool schemas as their
JSON (the provider renders schemas in its own format, close to the JSON in size).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from functools import cache, lru_cache
from typing import Any

from langchain_core.messages import AIMessage, BaseMessage

__all__ = ["ENCODING", "completion_tokens", "count_tokens", "prompt_tokens"]

ENCODING = "o200k_base"
_PER_MESSAGE = 3
_REPLY_PRIMING = 3


@cache
def _encoding() -> Any:
    import quicktok

    return quicktok.get_encoding(ENCODING)


@lru_cache(maxsize=1024)  # system prompts and tool schemas recur in every call: each is encoded once
def count_tokens(text: str) -> int:
    """o200k tokens in `text` (special-token strings count as plain text)."""
    return len(_encoding().encode_ordinary(text)) if text else 0


def prompt_tokens(messages: Sequence[BaseMessage], tools: Iterable[Mapping[str, Any]] = ()) -> int:
    """Input tokens of one chat request: the messages with their framing, tool calls, and the tool schemas."""
    total = _REPLY_PRIMING
    for message in messages:
        total += _PER_MESSAGE + count_tokens(message.text)
        if isinstance(message, AIMessage) and message.tool_calls:
            total += count_tokens(json.dumps([{"name": c["name"], "args": c["args"]} for c in message.tool_calls]))
    schemas = list(tools)
    if schemas:
        total += count_tokens(json.dumps(schemas, default=str))
    return total


def completion_tokens(text: str, tool_calls: Iterable[Mapping[str, Any]] = ()) -> int:
    """Output tokens of one reply: its text, and each tool call's name and JSON arguments."""
    return count_tokens(text) + sum(
        count_tokens(str(c["name"])) + count_tokens(json.dumps(c.get("args") or {})) for c in tool_calls
    )
