"""The help-centre articles (tools/kb/*.md) and full-text search over them.

SQLite searches its FTS5 index (BM25); PostgreSQL its own full-text search (a stored tsvector with
a GIN index, ranked by ``ts_rank``); see migration 0002. Both stem English words and weigh a hit
in the title 5x one in the body; the free text becomes the same OR of words on both.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

from tools.records import Article

if TYPE_CHECKING:
    from tools.db import Connection, Database

__all__ = [
    "KB_DIR",
    "build_match_query",
    "build_tsquery",
    "get_article",
    "index_articles",
    "load_articles",
    "search_articles",
    "search_terms",
]

KB_DIR = Path(__file__).parent / "kb"
# bm25() weights per FTS column (slug, title, body): a hit in the title counts 5x.
_WEIGHTS = (0.0, 5.0, 1.0)
# ts_rank() weights per label {D, C, B, A}; the body is labelled B and the title A: the same 5x.
_PG_WEIGHTS = "{0, 0, 0.2, 1.0}"
# ts_rank normalisation 1: divide by 1 + log(document length), as BM25 favours the shorter article.
_PG_NORMALISATION = 1
_MAX_TERMS = 24
# Letters and digits only: punctuation, quotes, "*", emoji and FTS syntax all fall away.
_WORD = re.compile(r"[^\W_]+")
_STOPWORD_TEXT = """
    a about above after again against all am an and any are as at be because been before being
    below between both but by can could did do does doing down during each few for from further
    get got had has have having he her here hers herself him himself his how i if in into is it
    its itself just let me more most my myself near no nor not now of off on once only or other
    our ours ourselves out over own please same she should so some such than that the their
    theirs them themselves then there these they this those through to too under until up very
    want was we were what when where which while who whom why will with would you your yours
    yourself yourselves hi hello thanks thank
"""
_STOPWORDS = frozenset(_STOPWORD_TEXT.split())


def load_articles(kb_dir: Path = KB_DIR) -> list[tuple[str, str, str]]:
    """Read ``(slug, title, body)`` from every ``*.md`` file; the first line is ``# Title``.

    Raises:
        ValueError: A file does not start with a ``# Title`` line.
    """
    articles = []
    for path in sorted(kb_dir.glob("*.md")):
        first, _, body = path.read_text(encoding="utf-8").partition("\n")
        if not first.startswith("# "):
            raise ValueError(f"{path.name}: the first line must be '# Title'")
        articles.append((path.stem, first[2:].strip(), body.strip()))
    return articles


def index_articles(conn: Connection, kb_dir: Path = KB_DIR) -> int:
    """Replace the articles and their full-text index with the files in ``kb_dir``.

    Returns:
        How many articles were indexed.
    """
    articles = load_articles(kb_dir)
    conn.execute("DELETE FROM articles")
    conn.executemany("INSERT INTO articles (slug, title, body) VALUES (?, ?, ?)", articles)
    if conn.dialect == "sqlite":  # PostgreSQL's index is a generated column: it follows the rows itself
        conn.execute("DELETE FROM articles_fts")
        conn.executemany("INSERT INTO articles_fts (slug, title, body) VALUES (?, ?, ?)", articles)
    return len(articles)


def search_terms(query: str) -> list[str]:
    """The distinct words of ``query`` worth searching: letters and digits only, no English stopwords."""
    terms: list[str] = []
    for word in _WORD.findall(query.lower()):
        if word not in _STOPWORDS and word not in terms:
            terms.append(word)
    return terms[:_MAX_TERMS]


def build_match_query(query: str) -> str | None:
    """Turn free text into a safe FTS5 MATCH expression, or None when nothing is left.

    Keeps letters and digits, drops English stopwords and ORs the quoted terms, so FTS
    operators typed by a user ("AND", "NEAR", "*", quotes) are searched as plain words.
    """
    terms = search_terms(query)
    return " OR ".join(f'"{term}"' for term in terms) if terms else None


def build_tsquery(query: str) -> str | None:
    """The same OR of words as `build_match_query`, as PostgreSQL ``to_tsquery`` text (``a | b``).

    The words hold only letters and digits, so no tsquery operator a user types survives.
    """
    terms = search_terms(query)
    return " | ".join(terms) if terms else None


def search_articles(db: Database, query: str, *, limit: int = 3) -> list[Article]:
    """The best-matching articles, best first; ``score`` is higher for a better match
    (``-bm25`` on SQLite, ``ts_rank`` on PostgreSQL: comparable within one search only).

    Never raises on odd input: a query with no searchable words returns ``[]``.
    """
    if limit <= 0 or not search_terms(query):
        return []
    with db.connect() as conn:
        if conn.dialect == "postgres":
            rows = conn.execute(
                "SELECT slug, title, body, ts_rank(?::float4[], search, q, ?) AS score"
                " FROM articles, to_tsquery('english', ?) AS q"
                " WHERE search @@ q ORDER BY score DESC, slug LIMIT ?",
                (_PG_WEIGHTS, _PG_NORMALISATION, build_tsquery(query), limit),
            ).fetchall()
        else:
            rows = conn.execute(
                "SELECT slug, title, body, -bm25(articles_fts, ?, ?, ?) AS score FROM articles_fts"
                " WHERE articles_fts MATCH ? ORDER BY score DESC, slug LIMIT ?",
                (*_WEIGHTS, build_match_query(query), limit),
            ).fetchall()
    return [Article(slug=r["slug"], title=r["title"], body=r["body"], score=r["score"]) for r in rows]


def get_article(db: Database, slug: str) -> Article | None:
    """One article by slug (its file name without ``.md``); ``score`` is 0."""
    with db.connect() as conn:
        row = conn.execute("SELECT slug, title, body FROM articles WHERE slug = ?", (slug,)).fetchone()
    return None if row is None else Article(slug=row["slug"], title=row["title"], body=row["body"], score=0.0)
