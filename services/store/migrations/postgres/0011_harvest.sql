-- OAI-PMH harvesting (docs/decisions/008-harvesting.md).
--
-- `public`: the record is public now (visibility public, classification
-- bình thường), the only records an anonymous harvester sees. `public_once`:
-- it has been, so such a harvester may hold it and learns of its withdrawal
-- as a deletion; a record never public never reaches one, not even so.
-- Which shareable records are public is written in their bodies, which SQL
-- cannot read: they are marked -1 here, and the store settles them when it
-- opens the database.
ALTER TABLE records ADD COLUMN public BIGINT NOT NULL DEFAULT 0;
ALTER TABLE records ADD COLUMN public_once BIGINT NOT NULL DEFAULT 0;
UPDATE records SET public = -1 WHERE shareable = 1 AND deleted = 0;
-- `fields`: the record's top-level fields of science as bits (1 << 1 for
-- field 1 … 1 << 6 for field 6), for the field sets; a deleted record keeps
-- the last it had, so field sets carry deletions too. Unknown (-1) until the
-- store settles it from the body, as `public` above.
ALTER TABLE records ADD COLUMN fields BIGINT NOT NULL DEFAULT 0;
UPDATE records SET fields = -1 WHERE shareable = 1 AND deleted = 0;
ALTER TABLE mirrors ADD COLUMN fields BIGINT NOT NULL DEFAULT 0;
UPDATE mirrors SET fields = -1 WHERE deleted = 0;
ALTER TABLE mirrors ADD COLUMN public_once BIGINT NOT NULL DEFAULT 0;
UPDATE mirrors SET public_once = public;

-- When each write transaction committed, by the last change-log number it
-- took: a record's datestamp is the time of the transaction that wrote its
-- latest change, so `from`/`until` become ranges of the change log. Records
-- written before this migration date from it.
CREATE TABLE harvest_clock (
    seq BIGINT  PRIMARY KEY,
    at  TEXT    NOT NULL
);
CREATE INDEX harvest_clock_at ON harvest_clock (at);
INSERT INTO harvest_clock (seq, at)
    SELECT last_seq, to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') FROM node_state;

-- A harvest of every kind reads the records in change order; an anonymous
-- harvest reads only those once public, so that the rows it may not see
-- cost it nothing (in time either).
CREATE INDEX records_harvest ON records (feed_seq) WHERE shared_once = 1;
CREATE INDEX records_harvest_public ON records (feed_seq) WHERE public_once = 1;
CREATE INDEX mirrors_harvest ON mirrors (seq, doc) WHERE public_once = 1;
-- Settling at open finds what is left to settle without a scan.
CREATE INDEX records_unsettled ON records (doc) WHERE public = -1 OR fields = -1;
CREATE INDEX mirrors_unsettled ON mirrors (doc) WHERE fields = -1;
