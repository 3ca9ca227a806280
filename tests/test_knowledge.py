"""The knowledge base (tools/kb/*.md) and its full-text search, on SQLite (FTS5) and PostgreSQL.

Every test taking `kb_db` or `open_db` runs on both engines with the same expectations.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path

import pytest

from tests.conftest import BACKENDS
from tools.clock import FixedClock
from tools.db import Database
from tools.knowledge import (
    KB_DIR,
    build_match_query,
    build_tsquery,
    get_article,
    index_articles,
    load_articles,
    search_articles,
)
from tools.policy import AUTO_APPROVE_LIMIT, REFUND_WINDOW_DAYS

REQUIRED_SLUGS = {
    "cancel-subscription",
    "change-plan",
    "export-data",
    "api-rate-limits",
    "api-keys",
    "sso-enterprise",
    "passwords-2fa",
    "reset-password",
    "invoices-receipts",
    "payment-methods",
    "refund-policy",
    "data-retention",
    "security-compliance",
    "integrations",
    "team-members-seats",
    "roles-permissions",
    "import-data",
    "mobile-apps",
    "notifications",
    "delete-account",
    "status-uptime",
    "browser-support",
    "contact-support",
}


_kb_numbers = itertools.count(1)


@pytest.fixture(scope="module", params=BACKENDS)
def kb_db(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Database]:
    """One indexed database per engine for the whole module (the searches only read it)."""
    path = tmp_path_factory.mktemp("kb") / "support.db"
    url = None
    if request.param == "postgres":
        url = request.getfixturevalue("pg_server").create_database(f"kb_{next(_kb_numbers)}")
    db = Database(path, FixedClock(date(2026, 11, 25)), url=url)
    db.ensure_ready()
    yield db
    db.close()


# --- the articles ------------------------------------------------------------------------------


def test_articles_live_in_the_package() -> None:
    assert Path(__file__).resolve().parent.parent / "tools" / "kb" == KB_DIR.resolve()
    assert {p.stem for p in KB_DIR.glob("*.md")} >= REQUIRED_SLUGS
    assert len(list(KB_DIR.glob("*.md"))) >= 22


@pytest.mark.parametrize("path", sorted(KB_DIR.glob("*.md")), ids=lambda p: p.stem)
def test_article_format(path: Path) -> None:
    first, _, body = path.read_text(encoding="utf-8").partition("\n")
    assert re.fullmatch(r"# \S.*", first), "first line must be '# Title'"
    assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", path.stem)
    assert 80 <= len(body.split()) <= 250


def test_refund_article_matches_the_policy() -> None:
    body = (KB_DIR / "refund-policy.md").read_text(encoding="utf-8")
    assert f"{REFUND_WINDOW_DAYS} days" in body
    assert f"${AUTO_APPROVE_LIMIT:,.2f}" in body
    assert "duplicate" in body.lower()


def test_load_articles() -> None:
    articles = load_articles()
    slugs = [slug for slug, _, _ in articles]
    assert slugs == sorted(slugs) and len(set(slugs)) == len(slugs)
    assert all(title and not title.startswith("#") and body for _, title, body in articles)


def test_load_articles_rejects_missing_title(tmp_path: Path) -> None:
    (tmp_path / "bad.md").write_text("no title here\nbody", encoding="utf-8")
    with pytest.raises(ValueError, match=r"bad\.md"):
        load_articles(tmp_path)


def test_index_articles_is_repeatable(kb_db: Database) -> None:
    # The full-text index: FTS5's own table on SQLite, the stored tsvector column on PostgreSQL.
    indexed = (
        "SELECT COUNT(*) FROM articles WHERE search IS NOT NULL"
        if kb_db.dialect == "postgres"
        else "SELECT COUNT(*) FROM articles_fts"
    )
    with kb_db.transaction() as conn:
        n = index_articles(conn)
        n_again = index_articles(conn)
        rows = conn.execute("SELECT COUNT(*) FROM articles").fetchone()[0]
        fts_rows = conn.execute(indexed).fetchone()[0]
    assert n == n_again == rows == fts_rows == len(load_articles())


# --- search ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "slug"),
    [
        ("export data CSV", "export-data"),
        ("SSO SAML", "sso-enterprise"),
        ("reset my password", "reset-password"),
        ("How do I cancel my subscription?", "cancel-subscription"),
        ("upgrade to enterprise, is it prorated?", "change-plan"),
        ("API rate limit 429", "api-rate-limits"),
        ("create an API key", "api-keys"),
        ("enable two-factor authentication", "passwords-2fa"),
        ("where can I download my invoice", "invoices-receipts"),
        ("update my credit card", "payment-methods"),
        ("refund policy", "refund-policy"),
        ("Is my data deleted after I cancel?", "data-retention"),
        ("SOC 2 encryption", "security-compliance"),
        ("Slack GitHub Zapier", "integrations"),
        ("add seats for team members", "team-members-seats"),
        ("roles and permissions", "roles-permissions"),
        ("import from Trello", "import-data"),
        ("iPhone app", "mobile-apps"),
        ("stop email notifications", "notifications"),
        ("delete my workspace", "delete-account"),
        ("status page uptime", "status-uptime"),
        ("which browsers are supported", "browser-support"),
        ("how to contact support", "contact-support"),
        ("webhook signature", "webhooks"),
        ("exporting reports", "export-data"),  # porter stemming: exporting -> export
    ],
)
def test_search_finds_the_right_article_first(kb_db: Database, query: str, slug: str) -> None:
    results = search_articles(kb_db, query)
    assert results, query
    assert results[0].slug == slug, [a.slug for a in results]


def test_search_results_are_ranked_and_limited(kb_db: Database) -> None:
    results = search_articles(kb_db, "export data CSV", limit=5)
    assert len(results) == 5
    scores = [a.score for a in results]
    assert scores == sorted(scores, reverse=True) and all(s > 0 for s in scores)
    assert results[0].title.startswith("Exporting") and "CSV" in results[0].body
    assert len(search_articles(kb_db, "export data CSV")) == 3  # default limit
    assert search_articles(kb_db, "export", limit=0) == []


def test_title_counts_more_than_body(tmp_path: Path, open_db: Callable[..., Database]) -> None:
    kb = tmp_path / "kb"
    kb.mkdir()
    filler = " ".join(["lorem ipsum dolor"] * 20)
    (kb / "in-title.md").write_text(f"# Sprocket setup\n{filler} widget\n", encoding="utf-8")
    (kb / "in-body.md").write_text(f"# Widget guide\n{filler} sprocket\n", encoding="utf-8")
    db = open_db()
    db.ensure_ready()
    with db.transaction() as conn:
        index_articles(conn, kb)
    assert [a.slug for a in search_articles(db, "sprocket")] == ["in-title", "in-body"]
    assert [a.slug for a in search_articles(db, "widgets")] == ["in-body", "in-title"]


@pytest.mark.parametrize(
    "query",
    [
        '"',
        "AND",
        "OR",
        "NOT",
        "*",
        "🙂🙂",
        "",
        "   ",
        "(((",
        ")",
        "NEAR(",
        "^",
        "-",
        "''",
        "the of and",
        "¿?",
        "\x00",
    ],
)
def test_junk_queries_return_nothing(kb_db: Database, query: str) -> None:
    assert search_articles(kb_db, query) == []


@pytest.mark.parametrize(
    "query",
    [
        'export" OR "',
        "title:sso",
        "sso*",
        "col:body NEAR(a b, 3)",
        "password AND",
        "{title body}: sso",
        "ñandú 🚀 csv",
    ],
)
def test_odd_queries_never_raise(kb_db: Database, query: str) -> None:
    results = search_articles(kb_db, query)
    assert isinstance(results, list)


def test_build_match_query() -> None:
    assert build_match_query("How do I export my data to CSV?") == '"export" OR "data" OR "csv"'
    assert build_match_query('sso" AND saml*') == '"sso" OR "saml"'
    assert build_match_query("csv CSV Csv") == '"csv"'
    assert build_match_query("the and or") is None
    assert build_match_query("") is None


def test_build_tsquery_is_the_same_words() -> None:
    assert build_tsquery("How do I export my data to CSV?") == "export | data | csv"
    assert build_tsquery("sso' & !saml:* <-> (x)") == "sso | saml | x"  # tsquery operators never survive
    assert build_tsquery("the and or") is None


def test_get_article(kb_db: Database) -> None:
    article = get_article(kb_db, "refund-policy")
    assert article is not None and article.title == "Refund policy" and article.score == 0.0
    assert get_article(kb_db, "nope") is None
