-- The change feed (docs/decisions/007-mirrors.md).
--
-- `shared_once`: the record has been shareable at some time, so a peer may
-- hold it; once hidden or deleted it reaches peers as a deletion. Records that
-- never were shareable never appear in a feed, not even as deletions.
ALTER TABLE records ADD COLUMN shared_once INTEGER NOT NULL DEFAULT 0;
UPDATE records SET shared_once = shareable;
CREATE INDEX records_feed ON records (seq) WHERE shared_once = 1;

-- The feed epoch: a random id that changes when the change log cannot be
-- trusted to continue (a database restored from a backup); subscribers that
-- see a new one sync again from the start.
ALTER TABLE node_state ADD COLUMN feed_epoch TEXT NOT NULL DEFAULT '';
UPDATE node_state SET feed_epoch = lower(hex(randomblob(16)));
