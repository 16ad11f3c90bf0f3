-- The change feed reads each kind in change order (`kind = K AND feed_seq >
-- N ORDER BY feed_seq LIMIT M`): one ordered range of this index per kind,
-- whatever the planner's statistics say of a table just loaded. The same
-- range counts a feed's backlog and finds its newest change time.
CREATE INDEX records_feed_by_kind ON records (kind, feed_seq, feed_changed_at)
    WHERE shared_once = 1;
DROP INDEX records_feed;
