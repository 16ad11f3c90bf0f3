-- A record merged into another (`lienthong merge`) stays a tombstone that
-- names the record it was merged into, so lookups of the old id find the
-- kept one.
ALTER TABLE records ADD COLUMN merged_into TEXT;
