-- Migration 3 (SQLite): transcript_archive rows record the checkpoint their archiving step started
-- from: a row belongs to the branches that pass through it, so after time travel history follows
-- the live branch ('' for rows archived before this was recorded: they belong to every branch).
-- SQLite cannot change a table's constraints in place, so the table is copied.
ALTER TABLE transcript_archive RENAME TO transcript_archive_v2;
CREATE TABLE transcript_archive (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    thread_id     TEXT NOT NULL,
    checkpoint_id TEXT NOT NULL DEFAULT '',
    message_id    TEXT NOT NULL,
    customer_id   TEXT NOT NULL REFERENCES customers (id),
    role          TEXT NOT NULL CHECK (role IN ('customer', 'agent')),
    agent         TEXT,
    text          TEXT NOT NULL,
    UNIQUE (thread_id, checkpoint_id, message_id)
);
INSERT INTO transcript_archive (id, thread_id, message_id, customer_id, role, agent, text)
    SELECT id, thread_id, message_id, customer_id, role, agent, text FROM transcript_archive_v2;
DROP TABLE transcript_archive_v2;
