-- Changes a federation peer can see, counted per record kind: a write that
-- leaves a record shareable, and a write or deletion that withdraws a record
-- that was. `Info.last_change_seq` sums them over the kinds a peer is
-- granted, so it neither moves with nor counts changes to hidden records.
CREATE TABLE shared_changes (
    kind INTEGER PRIMARY KEY,
    last INTEGER NOT NULL
);
-- Earlier changes: one per shareable record (a tombstone keeps its flag).
INSERT INTO shared_changes (kind, last)
SELECT kind, COUNT(*) FROM records WHERE shareable = 1 GROUP BY kind;
