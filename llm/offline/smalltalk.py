"""Greetings, thanks, goodbyes and the out-of-scope answer: what any agent says to a message with no request."""

from __future__ import annotations

import re
from typing import Literal

from llm.router import has_domain_signal

__all__ = ["out_of_scope_reply", "small_talk", "small_talk_reply"]

SmallTalk = Literal["hello", "thanks", "bye", "assistant"]

# "ok", "great" and the like often come first: "ok thanks, bye".
_LEAD = r"^\W*(?:(?:ok|okay|great|cool|perfect|alright|all right|awesome|got it)\b[\s,.!]*)?"
_THANKS = re.compile(_LEAD + r"(?:thanks?|thank you|thx|thnx|tnx|ty|cheers|much appreciated|appreciate it)\b", re.I)
_ABOUT_YOU = re.compile(
    r"^\W*(?:what can you (?:do|help (?:me )?with)|how can you help|what do you do)\b"
    r"|^\W*(?:help|help me|i need (?:some )?help|can you help(?: me)?|(?:hi|hello|hey),? (?:i need )?help)\W*$",
    re.I,
)
_ARE_YOU_A_BOT = re.compile(
    r"\bare you (?:a |an )?(?:bot|robot|ai|machine|computer|human|real(?: person)?|person)\b|\bwho am i talking to\b"
    r"|\bam i (?:talking|speaking|chatting) (?:to|with) (?:a |an )?(?:bot|robot|ai|machine|human|real|person)\b",
    re.I,
)
_HELLO = re.compile(
    r"^\W*(?:hi|hello|hey|hiya|howdy|yo|good (?:morning|afternoon|evening|day))\b[\s!.,]*(?:there)?[\s!.,]*$",
    re.I,
)
_BYE = re.compile(_LEAD + r"(?:bye|goodbye|see you|that'?s all|nothing else|no thanks?)\b", re.I)

_ASKS_RE = re.compile(
    r"\?|\b(?:can|could|would|will|please|pls|how|what|when|where|why|which|want|need|i'?d like|also)\b", re.I
)

_SCOPE = "billing (plans, invoices, charges and payment methods), refunds, and questions about using Acme"


def small_talk(text: str) -> SmallTalk | None:
    """Greetings, thanks and goodbyes that carry no request of their own."""
    if _ARE_YOU_A_BOT.search(text) and not re.search(r"\b(?:want|need|let me|can i|could i)\b", text, re.I):
        return "assistant"
    if has_domain_signal(text) and len(text.split()) > 4:
        return None
    if _HELLO.match(text.strip()) or _ABOUT_YOU.match(text):
        return "hello"
    kinds: tuple[tuple[SmallTalk, re.Pattern[str]], ...] = (("thanks", _THANKS), ("bye", _BYE))
    for kind, pattern in kinds:
        if found := pattern.match(text):
            # "Thanks! Could you do the same for October?" carries a request after the thanks.
            rest = text[found.end() :]
            return None if len(rest.split()) >= 3 and _ASKS_RE.search(rest) else kind
    return None


def small_talk_reply(kind: SmallTalk) -> str:
    """The answer to a greeting, a thank-you or a goodbye."""
    if kind == "hello":
        return f"Hi there! I'm the Acme support assistant. I can help with {_SCOPE}. What can I do for you today?"
    if kind == "assistant":
        return (
            f"I'm Acme's automated support assistant, not a person. I can help with {_SCOPE}; "
            "if you'd rather talk to someone from our team, just say so."
        )
    if kind == "thanks":
        return "You're welcome! If anything else comes up about billing, refunds or the product, just ask."
    return "Thanks for contacting Acme support. Have a great day!"


def out_of_scope_reply() -> str:
    """The polite refusal for requests the support desk does not handle."""
    return (
        "I'm sorry, that's outside what I can help with here. I'm Acme's support assistant, so I can help "
        f"with {_SCOPE}. Is there anything like that I can do for you?"
    )
