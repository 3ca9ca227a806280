"""Small text utilities shared by the router and the offline model: tokens, stems, content words."""

from __future__ import annotations

import re
from difflib import get_close_matches
from functools import cache, lru_cache

__all__ = [
    "FILLER_WORDS",
    "GENERIC_WORDS",
    "article_sentences",
    "content_words",
    "correct_typos",
    "normalise",
    "root",
    "salient_terms",
    "stem",
    "with_synonyms",
]

_AMOUNT_RE = re.compile(
    r"(?:[$€£]\s?\d[\d,]*(?:\.\d+)?|\b\d[\d,]*(?:\.\d+)?\s?(?:dollars?|bucks|usd|eur|euros?|pounds?|gbp)\b"
    r"|\b(?:usd|eur|gbp)\s?\d[\d,]*(?:\.\d+)?)",
    re.IGNORECASE,
)
_ORDER_RE = re.compile(r"\bord_\d+\b", re.IGNORECASE)
_TOKEN_RE = re.compile(r"[a-z0-9]+")
# "add-on", "addons", "the add on" (but not the verb: "add on a seat"): one word, as products name it.
_ADD_ON_RE = re.compile(r"\b(?:(?P<det>the|that|this|an) add ons?|add-?ons?)\b")
_APOSTROPHE_RE = re.compile(r"['’`]")

# Words too generic to say what a message is about.
_GENERIC_TEXT = (
    "a an the i me my we our us you your it its is are was were be been am do does did can could would "
    "should will shall to of in on at for from with by about as and or but if so not no this that these "
    "those there here what whats which who whom how when where why please want need like get tell know "
    "help make have has had just also any some one im ive id dont cant all much many more very really "
    "good best new time today day last hi hello hey thanks thank there their them they then than into "
    "out up set use using way ok okay support enable turn find work configure change add go see able possible "
    "account"  # every customer writes about their account: it never says which article answers
)
GENERIC_WORDS = frozenset(_GENERIC_TEXT.split())


_KEEP_S = frozenset({"does", "goes", "this", "thus", "plus", "news", "yes", "was", "has", "its"})


@lru_cache(maxsize=16384)
def stem(word: str) -> str:
    """Strip a few English suffixes so that 'refunds', 'refunded' and 'refunding' share a stem."""
    if len(word) == 4 and word.endswith("s") and word[-2] != "s" and word not in _KEEP_S:
        return word[:-1]  # "keys" -> "key", "logs" -> "log"
    if len(word) <= 4 or word.isdigit() or word.endswith("ss"):
        return word
    return _cut_suffix(word, ("ing", "ed", "es", "s"), keep=3)


def _cut_suffix(word: str, suffixes: tuple[str, ...], keep: int) -> str:
    """`word` without the first of `suffixes` it ends with, if at least `keep` letters remain."""
    suffix = next((s for s in suffixes if word.endswith(s) and len(word) - len(s) >= keep), "")
    return word[: len(word) - len(suffix)]


def normalise(text: str) -> list[str]:
    """Lowercase, replace amounts, order ids and numbers by placeholders ("zamount", "zorderid", "znum") and
    split into stemmed tokens."""
    lowered = _APOSTROPHE_RE.sub("", text.lower())  # "don't" -> "dont" so contractions stay one token
    lowered = _AMOUNT_RE.sub(" zamount ", lowered)
    lowered = _ORDER_RE.sub(" zorderid ", lowered)
    lowered = _ADD_ON_RE.sub(lambda m: f"{m['det'] or ''} addon", lowered)
    return [stem("znum" if tok.isdigit() else tok) for tok in _TOKEN_RE.findall(lowered)]


# A few everyday synonyms customers use for words the help center spells differently.
_SYNONYMS = dict.fromkeys(("teammate", "colleague", "coworker"), "member") | dict.fromkeys(("2fa", "mfa"), "factor")
_SYNONYMS |= dict.fromkeys(("login", "logon"), "sign")  # the help center says "sign in"
_SYNONYMS |= dict.fromkeys(("membership", "memberships"), "subscription")


def with_synonyms(text: str) -> str:
    """`text` plus the help center's word for any everyday synonym in it, for a keyword search.

    "add a colleague" also searches for "member", the word the articles use.
    """
    extra = sorted({_SYNONYMS[tok] for tok in normalise(text) if tok in _SYNONYMS})
    return f"{text} {' '.join(extra)}" if extra else text


def content_words(text: str) -> list[str]:
    """The stemmed words that carry meaning: no generic words, placeholders or very short tokens."""
    words = (_SYNONYMS.get(tok, tok) for tok in normalise(text))
    return [tok for tok in words if tok not in GENERIC_WORDS and len(tok) > 2 and not tok.startswith("z")]


# Everyday words that say when, how much or how politely, never what a question is about: a help-center
# article need not contain them to answer the question ("my card expires *soon*").
_FILLER_TEXT = (
    "soon now later yet already still ago recently currently lately again ever never always often sometimes "
    "anymore right quick quickly asap urgent urgently maybe actually basically probably possibly perhaps "
    "thing things stuff lot lots many few bit little someone somebody something anything everything nothing "
    "everyone anyone anybody other another else each every own same sure fine guy guys folks okay kind sort "
    "wondering wonder trying try tried question questions issue problem problems stop keep getting got gets "
    "give let lets next first week weeks month months year years minute minutes hour hours morning tonight "
    "tomorrow yesterday ours mine yours instead anyway though although because since long take takes taking "
    "until usually usual come comes coming through before after say yes "
    "acme"  # every article is about Acme, so the name says nothing about which one answers
)
FILLER_WORDS = frozenset(_FILLER_TEXT.split())

# Suffixes that mark the same idea in another part of speech ("integrate", "integration", "integrations").
_ROOT_SUFFIXES = ("ications", "ication", "ations", "ation", "ions", "ion", "ments", "ment", "ies", "ied", "ing")


def root(word: str) -> str:
    """A coarser stem than `stem`, for matching a question against articles.

    "update", "updating" and "updated" share a root, and so do "integrate" and "integrations",
    "cancel" and "cancellation", "expire" and "expiry". Roots are only compared with each other.
    """
    word = _cut_suffix(_cut_suffix(stem(word.lower()), _ROOT_SUFFIXES, keep=4), ("ate", "at", "e", "y"), keep=4)
    if len(word) >= 4 and word[-1] == word[-2] and word[-1] not in "aeiou":
        word = word[:-1]  # "cancell" -> "cancel"
    return word


# Roots customers use for what articles say with another word ("when will it show up" / "appear").
_ROOT_SYNONYMS = {"show": "appear", "arriv": "appear", "land": "appear"}


@lru_cache(maxsize=8192)  # article texts and charge descriptions recur every turn: terms computed once
def salient_terms(text: str) -> frozenset[str]:
    """The roots of the words that say what a text is about: content words without filler."""
    out: set[str] = set()
    for word in content_words(text):
        if word in FILLER_WORDS:
            continue
        base = root(word)
        base = _ROOT_SYNONYMS.get(base, base)
        if base not in FILLER_WORDS and base not in GENERIC_WORDS:
            out.add(base)
    return frozenset(out)


_SENTENCE_END_RE = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9*\"'(])")
_HEADING_RE = re.compile(r"^\s*(?:#+\s.*|\*\*[^*]+\*\*:?|__[^_]+__:?)\s*$")
_STEP_RE = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s+")
_MARKUP_RE = re.compile(r"\*\*|__|`")
MIN_SENTENCE_WORDS = 3  # shorter pieces are labels such as "Encryption." left over from bold text


def article_sentences(body: str) -> list[tuple[str, bool]]:
    """Split a markdown article body into plain sentences in reading order, each with whether it is a list item.

    Headings (markdown `#` lines and lines that are only bold text) and fragments of prose under three
    words are dropped, markup is removed, and each list item counts as one sentence.
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


# The desk's own vocabulary, with the inflections that are themselves correct: a word a letter or two away from
# one of these ("refnd", "invoce", "reportng") is read as it.
_LEXICON_TEXT = """refund refunds refunded refunding charge charges charged charging invoice invoices receipt receipts
    payment payments subscription subscriptions cancel cancelled cancelling cancellation upgrade upgraded downgrade
    downgraded billing billed account accounts password passwords reporting report reports workspace workspaces
    duplicate double twice dollars refundable onboarding session seats annual monthly enterprise manager
    approval policy export import integration integrations mastercard amex visa credit debit expired expire
    delete deleted restore recover member members admin please never months month money addon second seat
    january february march april june july august september october november december"""
# Short misspellings too close to other words for a fuzzy match, read as what customers mean by them.
_SHORT_TYPOS = {"bak": "back", "wen": "when", "mony": "money", "pls": "please", "plz": "please"}
_LEXICON = frozenset(_LEXICON_TEXT.split())


@cache
def _corrected(word: str) -> str:
    if word in _SHORT_TYPOS:
        return _SHORT_TYPOS[word]
    if len(word) < 4 or word in _LEXICON or not word.isalpha():
        return word
    match = get_close_matches(word, _LEXICON, n=1, cutoff=0.85)
    return match[0] if match and match[0][0] == word[0] else word


def correct_typos(text: str) -> str:
    """`text` with misspelt desk words corrected ("refnd the reportng addon" -> "refund the reporting addon")."""

    def fix(match: re.Match[str]) -> str:
        word = match.group(0)
        corrected = _corrected(word.lower())
        return word if corrected == word.lower() else corrected

    return re.sub(r"[A-Za-z]+", fix, text)
