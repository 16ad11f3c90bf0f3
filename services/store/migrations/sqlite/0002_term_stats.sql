-- Document frequency of every indexed term, maintained in the same transaction
-- as the postings. Search reads it to pick the rarest term to drive a query.
CREATE TABLE term_stats (
    kind  INTEGER NOT NULL,
    scope INTEGER NOT NULL,
    term  TEXT NOT NULL,
    df    INTEGER NOT NULL,
    PRIMARY KEY (kind, scope, term)
);

INSERT INTO term_stats (kind, scope, term, df)
SELECT kind, scope, term, COUNT(*) FROM postings GROUP BY kind, scope, term;
