"""Small text utilities shared by the router and the offline model: tokens, stems, content words."""

from __future__ import annotations

import re

__all__ = ["GENERIC_WORDS", "article_sentences", "content_words", "normalise", "sentences", "stem"]

_AMOUNT_RE = re.compile(
    r"(?:[$€£]\s?\d[\d,]*(?:\.\d+)?|\b\d[\d,]*(?:\.\d+)?\s?(?:dollars?|bucks|usd|eur|euros?|pounds?|gbp)\b"
    r"|\b(?:usd|eur|gbp)\s?\d[\d,]*(?:\.\d+)?)",
    re.IGNORECASE,
)
_ORDER_RE = re.compile(r"\bord_\d+\b", re.IGNORECASE)
_TOKEN_RE = re.compile(r"[a-z0-9]+")
_APOSTROPHE_RE = re.compile(r"['’`]")

# Words too generic to say what a message is about.
_GENERIC_TEXT = (
    "a an the i me my we our us you your it its is are was were be been am do does did can could would "
    "should will shall to of in on at for from with by about as and or but if so not no this that these "
    "those there here what whats which who whom how when where why please want need like get tell know "
    "help make have has had just also any some one im ive id dont cant all much many more very really "
    "good best new time today day last hi hello hey thanks thank there their them they then than into "
    "out up set use using way ok okay support enable turn find work configure change add go see able possible"
)
GENERIC_WORDS = frozenset(_GENERIC_TEXT.split())


_KEEP_S = frozenset({"does", "goes", "this", "thus", "plus", "news", "yes", "was", "has", "its"})


def stem(word: str) -> str:
    """Strip a few English suffixes so that 'refunds', 'refunded' and 'refunding' share a stem."""
    if len(word) == 4 and word.endswith("s") and word[-2] != "s" and word not in _KEEP_S:
        return word[:-1]  # "keys" -> "key", "logs" -> "log"
    if len(word) <= 4 or word.isdigit():
        return word
    for suffix in ("ing", "ed", "es", "s"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3 and not word.endswith("ss"):
            return word[: -len(suffix)]
    return word


def normalise(text: str) -> list[str]:
    """Lowercase, replace amounts and order ids by placeholders and split into stemmed tokens.

    Args:
        text: Raw text.

    Returns:
        The stemmed tokens; amounts become "zamount", order ids "zorderid" and numbers "znum".
    """
    lowered = _APOSTROPHE_RE.sub("", text.lower())  # "don't" -> "dont" so contractions stay one token
    lowered = _AMOUNT_RE.sub(" zamount ", lowered)
    lowered = _ORDER_RE.sub(" zorderid ", lowered)
    return [stem("znum" if tok.isdigit() else tok) for tok in _TOKEN_RE.findall(lowered)]


# A few everyday synonyms customers use for words the help center spells differently.
_SYNONYMS = {
    "teammate": "member",
    "colleague": "member",
    "coworker": "member",
    "2fa": "factor",
    "mfa": "factor",
}


def content_words(text: str) -> list[str]:
    """The stemmed words that carry meaning: no generic words, placeholders or very short tokens."""
    words = (_SYNONYMS.get(tok, tok) for tok in normalise(text))
    return [tok for tok in words if tok not in GENERIC_WORDS and len(tok) > 2 and not tok.startswith("z")]


_SENTENCE_END_RE = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9*\"'(])")
_HEADING_RE = re.compile(r"^\s*(?:#+\s.*|\*\*[^*]+\*\*:?|__[^_]+__:?)\s*$")
_STEP_RE = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s+")
_MARKUP_RE = re.compile(r"\*\*|__|`")
MIN_SENTENCE_WORDS = 3  # shorter pieces are labels such as "Encryption." left over from bold text


def article_sentences(body: str) -> list[tuple[str, bool]]:
    """Split a markdown article body into plain sentences, each with whether it is a list item.

    Headings (markdown `#` lines and lines that are only bold text) and fragments of prose under three
    words are dropped, markup is removed, and each list item counts as one sentence.

    Args:
        body: The article body in markdown.

    Returns:
        (sentence, is_list_item) pairs in reading order.
    """
    out: list[tuple[str, bool]] = []
    for line in body.splitlines():
        if not line.strip() or _HEADING_RE.match(line):
            continue
        step = bool(_STEP_RE.match(line))
        plain = _MARKUP_RE.sub("", _STEP_RE.sub("", line)).strip()
        parts = [plain] if step else [part.strip() for part in _SENTENCE_END_RE.split(plain)]
        out.extend((part, step) for part in parts if step or len(part.split()) >= MIN_SENTENCE_WORDS)
    return out


def sentences(body: str) -> list[str]:
    """The plain sentences of a markdown article body (see `article_sentences`)."""
    return [sentence for sentence, _ in article_sentences(body)]
