-- Migration 3 (PostgreSQL): transcript_archive rows record the checkpoint their archiving step
-- started from ('' for older rows: they belong to every branch), and a message is unique per
-- thread and checkpoint (the same message may be archived on two branches).
ALTER TABLE transcript_archive ADD COLUMN IF NOT EXISTS checkpoint_id TEXT NOT NULL DEFAULT '';
ALTER TABLE transcript_archive DROP CONSTRAINT IF EXISTS transcript_archive_thread_id_message_id_key;
ALTER TABLE transcript_archive DROP CONSTRAINT IF EXISTS transcript_archive_thread_checkpoint_message_key;
ALTER TABLE transcript_archive ADD CONSTRAINT transcript_archive_thread_checkpoint_message_key
    UNIQUE (thread_id, checkpoint_id, message_id);
