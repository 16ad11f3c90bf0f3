-- The search index holds records that may leave the node, and nothing else:
-- a search's cost, how far one page reaches and what its page token encodes
-- then depend on shareable records alone. Drop the postings of the others
-- and count document frequencies again.
DELETE FROM postings WHERE doc IN (SELECT doc FROM records WHERE shareable = 0 OR deleted = 1);
DELETE FROM term_stats;
INSERT INTO term_stats (kind, scope, term, df)
SELECT kind, scope, term, COUNT(*) FROM postings GROUP BY kind, scope, term;
-- Browsing by filters walks shareable records only.
CREATE INDEX records_visible ON records (kind, shareable, doc);
