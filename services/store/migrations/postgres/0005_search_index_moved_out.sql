-- Search moved to a tantivy index per node process, derived from the
-- database and rebuilt from it (docs/decisions/006-search-engine.md): the
-- inverted index tables go, with the folded text columns that fed them.
DROP TABLE postings;
DROP TABLE term_stats;
DROP INDEX records_exact;
DROP INDEX records_visible;
ALTER TABLE records DROP COLUMN primary_text;
ALTER TABLE records DROP COLUMN search_text;
ALTER TABLE node_state DROP COLUMN index_version;
-- The index catches up by reading the records changed after its last commit.
CREATE INDEX records_seq ON records (seq);
