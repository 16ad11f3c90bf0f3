-- Other nodes' records this node follows (docs/decisions/007-mirrors.md):
-- kept apart from its own records, each tagged with its origin.
CREATE TABLE mirrors (
    id          TEXT    PRIMARY KEY,
    origin      TEXT    NOT NULL,
    kind        BIGINT NOT NULL,
    version     BIGINT NOT NULL,
    -- Public at the origin: the only mirrors a grant may let go onward.
    public      BIGINT NOT NULL,
    -- When the origin made the change (RFC 3339 UTC), and when it arrived.
    changed_at  TEXT    NOT NULL,
    received_at TEXT    NOT NULL,
    -- The sync generation that last delivered it; a restarted sync removes
    -- what the new generation did not deliver.
    generation  BIGINT NOT NULL,
    body        jsonb   NOT NULL
);
CREATE INDEX mirrors_origin ON mirrors (origin, kind, id);

-- One row per followed peer: where its feed was left off.
CREATE TABLE sync_peers (
    peer             TEXT    PRIMARY KEY,
    epoch            TEXT    NOT NULL DEFAULT '',
    cursor           TEXT    NOT NULL DEFAULT '',
    generation       BIGINT NOT NULL DEFAULT 0,
    -- 1 while a restarted sync has not yet caught up.
    sweeping         BIGINT NOT NULL DEFAULT 0,
    applied          BIGINT NOT NULL DEFAULT 0,
    rejected         BIGINT NOT NULL DEFAULT 0,
    backlog          BIGINT NOT NULL DEFAULT 0,
    last_change_at   TEXT    NOT NULL DEFAULT '',
    newest_change_at TEXT    NOT NULL DEFAULT '',
    last_sync_at     TEXT    NOT NULL DEFAULT '',
    caught_up_at     TEXT    NOT NULL DEFAULT '',
    last_error       TEXT    NOT NULL DEFAULT ''
);
