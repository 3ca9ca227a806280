"""Answering from help-center articles: which article is relevant enough, and which of its sentences to quote."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from itertools import groupby
from typing import Any

from llm.text import article_sentences, salient_terms

__all__ = ["MAX_ANSWER_SENTENCES", "MIN_ARTICLE_SCORE", "answer_from", "best_article"]

# A help-center article is used only with at least this retrieval score and words shared with the question.
MIN_ARTICLE_SCORE = 0.5
MAX_ANSWER_SENTENCES = 4

# "How long", "how much" and "how many" ask for a fact, not for steps.
_HOW_TO_RE = re.compile(
    r"^\W*(?:how(?! long| much| many| soon| often)|where|what steps)\b|\bhow (?:do|can|to|would|should|does)\b"
    r"|\bset ?up\b",
    re.I,
)
_NOT_HOW_TO_RE = re.compile(r"^\W*how (?:long|much|many|soon|often)\b", re.I)


def _overlaps(words: frozenset[str], units: Sequence[tuple[str, bool]]) -> list[int]:
    return [len(words & salient_terms(text)) for text, _ in units]


def best_article(articles: Sequence[Mapping[str, Any]], question: str) -> Mapping[str, Any] | None:
    """The most relevant article, or None when none is relevant enough to answer from.

    Relevant means the retrieval score reaches `MIN_ARTICLE_SCORE` and the article covers most of the
    question's salient terms (stemmed content words without filler such as "soon", so that "update"
    matches "updating" and filler cannot sink an article that covers the question). Among relevant
    articles, the one whose best sentence plus title share most terms with the question wins (words that
    occur together answer better than words scattered around, and a title says what the article is for).
    """
    words = salient_terms(question)
    if not words:
        return None
    ranked: list[tuple[tuple[int, int, float, int], Mapping[str, Any]]] = []
    for index, article in enumerate(articles):
        score = float(article.get("score") or 0)
        title, body = str(article.get("title", "")), str(article.get("body", ""))
        hits = len(words & salient_terms(f"{title} {body}"))
        # A short question must be covered almost entirely; a long one may leave more words out.
        if score < MIN_ARTICLE_SCORE or hits < _needed_hits(len(words)):
            continue
        closest = max(_overlaps(words, article_sentences(body)), default=0)
        ranked.append(((closest + len(words & salient_terms(title)), hits, score, -index), article))
    return max(ranked, key=lambda pair: pair[0])[1] if ranked else None


def _needed_hits(words: int) -> int:
    """How many of a question's content words an article must contain to count as relevant."""
    if words <= 4:
        return max(1, math.ceil(0.6 * words))
    return min(math.ceil(0.5 * words), 3)


def answer_from(article: Mapping[str, Any], question: str) -> str:
    """Two to four sentences of the article that best answer the question, in reading order.

    How-to questions get the most relevant list of steps (with one introductory sentence when
    there is room); other questions get the closest sentences, plus the list a sentence introduces
    ("limits are:").
    """
    title = article.get("title") or article.get("slug") or "our help center"
    words = salient_terms(question)
    units = article_sentences(str(article.get("body", "")))
    if not units:
        return f'Our help-center article "{title}" covers this.'
    overlap = _overlaps(words, units)
    chosen: set[int] = set()
    blocks = _step_blocks(units)
    if _HOW_TO_RE.search(question) and not _NOT_HOW_TO_RE.search(question) and blocks:
        block = max(blocks, key=lambda b: (sum(overlap[i] for i in b), -b[0]))
        if sum(overlap[i] for i in block) > 0:
            intro = [i for i in range(len(units)) if not units[i][1] and overlap[i] > 0]
            before = [i for i in intro if i < block[0]]
            steps = block[: MAX_ANSWER_SENTENCES - (1 if intro else 0)]
            chosen.update(steps)
            if intro:
                chosen.add(max(before or intro, key=lambda i: (overlap[i], -i)))
    if not chosen:
        best = max(range(len(units)), key=lambda i: (overlap[i], -i))
        chosen.add(best)
        enough = max(2, (overlap[best] + 1) // 2)
        for index in sorted(range(len(units)), key=lambda i: (-overlap[i], i)):
            if len(chosen) >= MAX_ANSWER_SENTENCES or overlap[index] < enough:
                break
            chosen.add(index)
        if len(chosen) < 2:
            chosen.add(best + 1 if best + 1 < len(units) else max(best - 1, 0))
    answer = " ".join(_finish(units[i][0]) for i in _complete_lists(sorted(chosen), units))
    return f'{answer} (Source: help-center article "{title}".)'


def _complete_lists(chosen: list[int], units: Sequence[tuple[str, bool]]) -> list[int]:
    """A sentence ending in ":" introduces a list: add the list, or drop the sentence if there is no room."""
    result = list(chosen)
    for index in chosen:
        if not units[index][0].endswith(":"):
            continue
        follow = index + 1
        # List items are short, so a list may take the answer a little past the sentence budget.
        while follow < len(units) and units[follow][1] and len(result) < MAX_ANSWER_SENTENCES + 2:
            if follow not in result:
                result.append(follow)
            follow += 1
        if index + 1 not in result and len(result) > 1:
            result.remove(index)
    return sorted(result)


def _step_blocks(units: Sequence[tuple[str, bool]]) -> list[list[int]]:
    """Runs of consecutive list items (numbered steps or bullets), as lists of unit indices."""
    runs = groupby(range(len(units)), key=lambda index: units[index][1])
    return [list(indices) for step, indices in runs if step]


def _finish(sentence: str) -> str:
    sentence = sentence.strip()
    return sentence if sentence[-1:] in ".!?:" else sentence + "."
