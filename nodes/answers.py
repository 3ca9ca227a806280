"""Is a message an explicit yes or no to the pending proposal? Decided by code, the same for every model.

Strict on purpose. A yes executes a refund or a plan change, so only a message made of agreeing
words counts ("yes", "yes please, go ahead", "ok do it", "confirm"), optionally naming the very
thing proposed (its order id, amount or plan). Anything else, including a yes with a condition
("yes but only $20"), a question or a hedge ("wait", "actually"), is an ordinary message: the
proposal lapses and the agent reads the message. A no is a message that starts by declining.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Literal

__all__ = ["Answer", "read_answer"]

Answer = Literal["yes", "no"]

# At least one of these makes a message agree.
_YES_CORE = frozenset(
    [
        "yes",
        "yeah",
        "yea",
        "yep",
        "yup",
        "ya",
        "yass",
        "sure",
        "ok",
        "okay",
        "k",
        "kk",
        "confirm",
        "confirmed",
        "confirming",
        "agree",
        "agreed",
        "absolutely",
        "definitely",
        "certainly",
        "proceed",
        "alright",
        "affirmative",
        "correct",
    ]
)
# Words that may stand beside a yes without changing what it agrees to.
_YES_FILLER = frozenset(
    [
        "please",
        "pls",
        "plz",
        "thanks",
        "thank",
        "thx",
        "ty",
        "you",
        "go",
        "ahead",
        "do",
        "it",
        "that",
        "thats",
        "that's",
        "is",
        "sounds",
        "good",
        "great",
        "fine",
        "perfect",
        "right",
        "all",
        "lets",
        "let's",
        "let",
        "us",
        "i",
        "we",
        "sure",
        "the",
        "this",
        "one",
        "refund",
        "change",
        "switch",
        "plan",
        "with",
        "and",
        "so",
        "just",
        "make",
        "happen",
        "send",
        "request",
        "to",
        "a",
        "manager",
        "approval",
        "oh",
        "well",
        "yes",
        "indeed",
        "of",
        "course",
        "course",
        "wonderful",
        "cool",
        "awesome",
        "lovely",
        "brilliant",
        "excellent",
        "super",
        "nice",
        "much",
        "thing",
        "appreciated",
    ]
)
_YES_PHRASES = (
    "go ahead",
    "do it",
    "sounds good",
    "of course",
    "that's fine",
    "thats fine",
    "please do",
    "that's right",
)

_NO_START = re.compile(
    r"^(?:no\b|nope\b|nah\b|never\s*mind|nevermind|cancel\b|don'?t\b|do not\b|stop\b|not now\b|not yet\b"
    r"|hold on\b|wait\b|forget it\b|changed my mind\b|i changed my mind\b|no thanks\b|no thank you\b)"
)
_HEDGE = frozenset(
    [
        "but",
        "not",
        "don't",
        "dont",
        "wait",
        "actually",
        "hold",
        "no",
        "never",
        "if",
        "only",
        "instead",
        "except",
        "unless",
    ]
)
_WORD = re.compile(r"[a-z0-9_$.']+")


def _words(text: str) -> list[str]:
    lowered = text.lower().replace("\u2019", "'")
    return [w.strip(".'") for w in _WORD.findall(lowered) if w.strip(".'")]


def read_answer(text: str, *, naming: Iterable[str] = ()) -> Answer | None:
    """ "yes", "no", or None (an ordinary message).

    Args:
        text: The customer's message.
        naming: Words that name the thing proposed (``ord_102``, ``49.99``, ``enterprise``): a yes may
            repeat them ("yes, refund ord_102").
    """
    stripped = text.strip().lower().replace("\u2019", "'")
    if not stripped or "?" in stripped:
        return None
    if _NO_START.match(re.sub(r"^[^a-z]+", "", stripped)):
        return "no"
    words = _words(stripped)
    if not words or len(words) > 12:
        return None
    allowed = _YES_CORE | _YES_FILLER | {n.lower().lstrip("$") for n in naming}
    if any(w in _HEDGE for w in words):
        return None
    if not all(w.lstrip("$") in allowed for w in words):
        return None
    joined = " ".join(words)
    if any(w in _YES_CORE for w in words) or any(p in joined for p in _YES_PHRASES):
        return "yes"
    return None
