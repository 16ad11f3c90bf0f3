-- Records of every kind, one row each; tombstones keep their row with body NULL.
CREATE TABLE node_state (
    singleton     INTEGER PRIMARY KEY CHECK (singleton = 1),
    node_id       TEXT    NOT NULL,
    -- Last change-log sequence number handed out. Updated under the write lock,
    -- so sequence order is commit order.
    last_seq      INTEGER NOT NULL DEFAULT 0,
    -- Last internal document number handed out.
    last_doc      INTEGER NOT NULL DEFAULT 0,
    -- Version of the search-term extraction that built `postings`.
    index_version INTEGER NOT NULL
);

CREATE TABLE records (
    doc          INTEGER PRIMARY KEY,
    id           TEXT    NOT NULL UNIQUE,
    kind         INTEGER NOT NULL,
    version      INTEGER NOT NULL,
    seq          INTEGER NOT NULL,
    created_at   TEXT    NOT NULL,
    updated_at   TEXT    NOT NULL,
    deleted      INTEGER NOT NULL DEFAULT 0,
    shareable    INTEGER NOT NULL,
    primary_text TEXT    NOT NULL,
    search_text  TEXT    NOT NULL,
    year         INTEGER NOT NULL,
    body         BLOB
);
CREATE INDEX records_exact ON records (kind, primary_text);
CREATE INDEX records_browse ON records (kind, doc);

-- Inverted index: one row per (kind, scope, term, doc).
CREATE TABLE postings (
    kind  INTEGER NOT NULL,
    scope INTEGER NOT NULL,
    term  TEXT    NOT NULL,
    doc   INTEGER NOT NULL,
    PRIMARY KEY (kind, scope, term, doc)
) WITHOUT ROWID;

-- Change log: one increasing sequence per node, written in the same
-- transaction as the change it records.
CREATE TABLE changes (
    seq        INTEGER PRIMARY KEY,
    record_id  TEXT    NOT NULL,
    kind       INTEGER NOT NULL,
    version    INTEGER NOT NULL,
    deleted    INTEGER NOT NULL,
    changed_at TEXT    NOT NULL
);
