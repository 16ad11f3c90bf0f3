-- The change feed (docs/decisions/007-mirrors.md).
--
-- `shared_once`: the record has been shareable at some time, so a peer may
-- hold it; once hidden or deleted it reaches peers as a deletion. Records that
-- never were shareable never appear in a feed, not even as deletions.
ALTER TABLE records ADD COLUMN shared_once INTEGER NOT NULL DEFAULT 0;
-- The record's place, version and time in the feed: they move only with
-- changes peers may see (a write that leaves it shareable, or one that
-- withdraws it), so edits to a withdrawn record leave no trace in any feed.
ALTER TABLE records ADD COLUMN feed_seq INTEGER NOT NULL DEFAULT 0;
ALTER TABLE records ADD COLUMN feed_version INTEGER NOT NULL DEFAULT 0;
ALTER TABLE records ADD COLUMN feed_changed_at TEXT NOT NULL DEFAULT '';
UPDATE records SET shared_once = shareable, feed_seq = seq, feed_version = version,
    feed_changed_at = updated_at;
CREATE INDEX records_feed ON records (feed_seq) WHERE shared_once = 1;

-- The feed epoch: a random id that changes when the change log cannot be
-- trusted to continue (a database restored from a backup); subscribers that
-- see a new one sync again from the start.
ALTER TABLE node_state ADD COLUMN feed_epoch TEXT NOT NULL DEFAULT '';
UPDATE node_state SET feed_epoch = lower(hex(randomblob(16)));
