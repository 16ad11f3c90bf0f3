-- Idempotency keys of the ingest API (docs/ingest.md): the answer a
-- department's system got for each key, so a retried call is answered the
-- same and writes nothing again. Written in the transaction of the writes
-- they answer for; kept for a day (the store prunes older ones as it writes).
CREATE TABLE ingest_keys (
    caller     TEXT NOT NULL,
    key        TEXT NOT NULL,
    -- Hex SHA-256 of the request: the same key with another request is refused.
    digest     TEXT NOT NULL,
    answer     TEXT NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (caller, key)
);
CREATE INDEX ingest_keys_age ON ingest_keys (created_at);
