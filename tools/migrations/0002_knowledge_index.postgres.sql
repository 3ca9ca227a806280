-- Migration 2 (PostgreSQL): full-text index over the articles. A stored tsvector with the English
-- (Snowball) stemmer, so "exporting" finds "export"; the title weighs as 'A', the body as 'B'
-- (tools.knowledge ranks with ts_rank). Being a generated column, it is filled for rows already
-- there and kept up to date by PostgreSQL itself.
ALTER TABLE articles ADD COLUMN IF NOT EXISTS search tsvector GENERATED ALWAYS AS (
    setweight(to_tsvector('english', title), 'A') || setweight(to_tsvector('english', body), 'B')
) STORED;
CREATE INDEX IF NOT EXISTS articles_search ON articles USING GIN (search);
