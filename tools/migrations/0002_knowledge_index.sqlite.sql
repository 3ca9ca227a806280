-- Migration 2 (SQLite): full-text index over the articles, FTS5 with porter stemming so
-- "exporting" finds "export". Filled from the articles already stored (none on a new database).
CREATE VIRTUAL TABLE IF NOT EXISTS articles_fts USING fts5 (
    slug UNINDEXED,
    title,
    body,
    tokenize = 'porter unicode61'
);
DELETE FROM articles_fts;
INSERT INTO articles_fts (slug, title, body) SELECT slug, title, body FROM articles;
