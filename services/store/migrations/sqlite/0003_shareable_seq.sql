-- The newest change a federation peer can see, per kind, without a scan.
CREATE INDEX records_shareable_seq ON records (kind, shareable, deleted, seq);
