-- Mirrors join the search index (docs/decisions/007-mirrors.md): each holds
-- a position (`doc`) from the same counter as the node's own records, and
-- the change-log number of its last change (`seq`), which the index catches
-- up from. A removed mirror stays as a tombstone (`deleted = 1`) so that the
-- index learns of the removal.
ALTER TABLE mirrors ADD COLUMN doc INTEGER;
ALTER TABLE mirrors ADD COLUMN seq INTEGER NOT NULL DEFAULT 0;
ALTER TABLE mirrors ADD COLUMN deleted INTEGER NOT NULL DEFAULT 0;
UPDATE node_state SET last_seq = last_seq + 1 WHERE singleton = 1;
UPDATE mirrors SET
    doc = (SELECT last_doc FROM node_state WHERE singleton = 1) + rowid,
    seq = (SELECT last_seq FROM node_state WHERE singleton = 1);
UPDATE node_state SET last_doc = last_doc + COALESCE((SELECT MAX(rowid) FROM mirrors), 0)
    WHERE singleton = 1;
CREATE UNIQUE INDEX mirrors_doc ON mirrors (doc);
CREATE INDEX mirrors_seq ON mirrors (seq, doc);
