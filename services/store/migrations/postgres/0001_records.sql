-- Records of every kind, one row each; tombstones keep their row with body NULL.
CREATE TABLE node_state (
    singleton     BIGINT PRIMARY KEY CHECK (singleton = 1),
    node_id       TEXT   NOT NULL,
    -- Last change-log sequence number handed out. Updated under the row lock,
    -- so sequence order is commit order.
    last_seq      BIGINT NOT NULL DEFAULT 0,
    -- Last internal document number handed out.
    last_doc      BIGINT NOT NULL DEFAULT 0,
    -- Version of the search-term extraction that built `postings`.
    index_version BIGINT NOT NULL
);

CREATE TABLE records (
    doc          BIGINT PRIMARY KEY,
    id           TEXT   NOT NULL UNIQUE,
    kind         BIGINT NOT NULL,
    version      BIGINT NOT NULL,
    seq          BIGINT NOT NULL,
    created_at   TEXT   NOT NULL,
    updated_at   TEXT   NOT NULL,
    deleted      BIGINT NOT NULL DEFAULT 0,
    shareable    BIGINT NOT NULL,
    primary_text TEXT   NOT NULL COLLATE "C",
    search_text  TEXT   NOT NULL COLLATE "C",
    year         BIGINT NOT NULL,
    body         BYTEA
);
CREATE INDEX records_exact ON records (kind, primary_text, doc);
CREATE INDEX records_browse ON records (kind, doc);

-- Inverted index: one row per (kind, scope, term, doc).
CREATE TABLE postings (
    kind  BIGINT NOT NULL,
    scope BIGINT NOT NULL,
    term  TEXT   NOT NULL COLLATE "C",
    doc   BIGINT NOT NULL,
    PRIMARY KEY (kind, scope, term, doc)
);

-- Change log: one increasing sequence per node, written in the same
-- transaction as the change it records.
CREATE TABLE changes (
    seq        BIGINT PRIMARY KEY,
    record_id  TEXT   NOT NULL,
    kind       BIGINT NOT NULL,
    version    BIGINT NOT NULL,
    deleted    BIGINT NOT NULL,
    changed_at TEXT   NOT NULL
);
