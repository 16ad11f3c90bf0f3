//! Transactional writes: upserts and tombstoning deletes. Every change bumps
//! the record's version and appends to the change log in one transaction, so
//! a crash leaves either the old state or the new. The search index follows
//! once the transaction commits (see `search::index`).

use std::collections::{HashMap, HashSet};

use lienthong_records::search_document::search_document;
use lienthong_records::validation::validate;
use lienthong_records::{AnyRecord, RecordError, RecordKind};
use sqlx::any::AnyRow;
use sqlx::{Any, AssertSqlSafe, Row, Transaction};

use crate::record_body::StoredBody;
use crate::{Backend, Store, StoreError, now_rfc3339};

/// Rows per multi-row INSERT; keeps every statement under SQLite's limit of
/// 32,766 bound parameters.
pub(crate) const MAX_BIND_PARAMETERS: usize = 30_000;

/// A record the store refused, with its position in the input batch.
#[derive(Debug, Clone)]
pub struct Rejection {
    /// Index of the record in the batch given to [`Store::upsert`].
    pub index: usize,
    /// The record's id as given (possibly empty or malformed).
    pub id: String,
    pub error: RecordError,
}

/// What one [`Store::upsert`] call did.
#[derive(Debug, Default, Clone)]
pub struct WriteReport {
    pub inserted: u64,
    pub updated: u64,
    /// Records identical to what the store already held; not rewritten.
    pub unchanged: u64,
    pub rejected: Vec<Rejection>,
}

struct Existing {
    doc: i64,
    version: i64,
    deleted: bool,
    shareable: bool,
    created_at: String,
    /// The stored record; `None` for a tombstone.
    record: Option<AnyRecord>,
}

/// A change ready to be written.
struct PendingWrite {
    doc: i64,
    seq: i64,
    kind: RecordKind,
    id: String,
    version: i64,
    created_at: String,
    updated_at: String,
    body: StoredBody,
    shareable: bool,
    public: bool,
    /// Top-level fields of science, as bits (`top_fields`).
    fields: u8,
    year: u32,
}

/// How one upsert came out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum UpsertOutcome {
    Created(u64),
    Updated(u64),
    /// Identical to the stored record, at this version.
    Unchanged(u64),
    /// The expected version was not the current one (0: no live record).
    Conflict {
        current: u64,
    },
}

/// How one deletion came out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DeleteOutcome {
    Deleted(u64),
    /// No live record with that id.
    NotFound,
    Conflict {
        current: u64,
    },
}

/// A record to upsert: its place in the caller's batch, and the version the
/// caller expects the stored record to be at (0: none live), if it says.
pub(crate) struct PlannedUpsert {
    pub index: usize,
    pub record: AnyRecord,
    pub expected: Option<u64>,
}

/// A write transaction holding the node's write lock, with the counters it
/// moves. Commit writes them back; dropping it rolls everything back.
pub(crate) struct LockedWrite {
    pub tx: Transaction<'static, Any>,
    last_seq: i64,
    last_doc: i64,
    shared: SharedChanges,
}

impl LockedWrite {
    pub async fn begin(store: &Store) -> Result<LockedWrite, StoreError> {
        let mut tx = store.pool.begin().await?;
        let (last_seq, last_doc) = lock_counters(&mut tx).await?;
        Ok(LockedWrite {
            tx,
            last_seq,
            last_doc,
            shared: SharedChanges::default(),
        })
    }

    pub async fn commit(mut self) -> Result<(), StoreError> {
        self.shared.apply(&mut self.tx).await?;
        store_counters(&mut self.tx, self.last_seq, self.last_doc).await?;
        self.tx.commit().await?;
        Ok(())
    }
}

impl Store {
    /// Inserts or updates a batch of records in one transaction.
    ///
    /// Records that fail validation are reported in [`WriteReport::rejected`]
    /// and the rest are written. A new record keeps the version and timestamps
    /// it carries (so a dump loads back unchanged); a changed record gets the
    /// next version and a fresh `updated_at`; an identical record is left alone.
    pub async fn upsert(&self, records: Vec<AnyRecord>) -> Result<WriteReport, StoreError> {
        let mut report = WriteReport::default();
        let mut valid = Vec::with_capacity(records.len());
        for (index, record) in records.into_iter().enumerate() {
            match validate(&record, &self.node_id) {
                Ok(_) => valid.push(PlannedUpsert {
                    index,
                    record,
                    expected: None,
                }),
                Err(error) => report.rejected.push(Rejection {
                    index,
                    id: record.id().to_owned(),
                    error,
                }),
            }
        }
        if valid.is_empty() {
            return Ok(report);
        }
        let mut locked = LockedWrite::begin(self).await?;
        for (_, outcome) in self.upsert_locked(&mut locked, valid).await? {
            match outcome {
                UpsertOutcome::Created(_) => report.inserted += 1,
                UpsertOutcome::Updated(_) => report.updated += 1,
                UpsertOutcome::Unchanged(_) => report.unchanged += 1,
                UpsertOutcome::Conflict { .. } => {}
            }
        }
        locked.commit().await?;
        self.index_committed_writes().await;
        Ok(report)
    }

    /// Writes validated records inside `locked`, in order (an id may repeat;
    /// later ones see earlier ones), checking each expected version against
    /// the record as it stands at that point.
    pub(crate) async fn upsert_locked(
        &self,
        locked: &mut LockedWrite,
        planned: Vec<PlannedUpsert>,
    ) -> Result<Vec<(usize, UpsertOutcome)>, StoreError> {
        let mut outcomes = Vec::with_capacity(planned.len());
        for group in groups_of_distinct_ids(planned) {
            let existing = fetch_existing(&mut locked.tx, self.backend, &group).await?;
            let now = now_rfc3339();
            let mut writes = Vec::with_capacity(group.len());
            for PlannedUpsert {
                index,
                mut record,
                expected,
            } in group
            {
                let id = record.id().to_owned();
                let kind = record.kind();
                let prior = existing.get(&id);
                let live = prior.filter(|prior| !prior.deleted);
                if let Some(expected) = expected {
                    let current = live.map_or(0, |prior| prior.version as u64);
                    if expected != current {
                        outcomes.push((index, UpsertOutcome::Conflict { current }));
                        continue;
                    }
                }
                let given = record.meta_mut().clone();
                let stored = live.and_then(|prior| prior.record.as_ref());
                let (version, created_at, updated_at) = match prior {
                    Some(prior) if !prior.deleted => {
                        // Compare with the stored body under the stored metadata, so
                        // that only content the caller controls counts as a change.
                        let stored_updated_at = stored
                            .and_then(AnyRecord::meta)
                            .map(|meta| meta.updated_at.clone())
                            .unwrap_or_default();
                        let meta = record.meta_mut();
                        meta.version = prior.version as u64;
                        meta.created_at.clone_from(&prior.created_at);
                        meta.updated_at = stored_updated_at;
                        if stored == Some(&record) {
                            outcomes.push((index, UpsertOutcome::Unchanged(prior.version as u64)));
                            continue;
                        }
                        let version = (prior.version + 1).max(given.version as i64);
                        (version, prior.created_at.clone(), now.clone())
                    }
                    Some(prior) => (
                        (prior.version + 1).max(given.version as i64),
                        now.clone(),
                        now.clone(),
                    ),
                    None => {
                        let created = if given.created_at.is_empty() {
                            now.clone()
                        } else {
                            given.created_at.clone()
                        };
                        let updated = if given.updated_at.is_empty() {
                            created.clone()
                        } else {
                            given.updated_at.clone()
                        };
                        ((given.version as i64).max(1), created, updated)
                    }
                };
                let meta = record.meta_mut();
                meta.version = version as u64;
                meta.created_at.clone_from(&created_at);
                meta.updated_at.clone_from(&updated_at);
                locked.last_seq += 1;
                let doc = match prior {
                    Some(prior) => prior.doc,
                    None => {
                        locked.last_doc += 1;
                        locked.last_doc
                    }
                };
                // A record created again over its tombstone is a creation.
                outcomes.push((
                    index,
                    match live {
                        Some(_) => UpsertOutcome::Updated(version as u64),
                        None => UpsertOutcome::Created(version as u64),
                    },
                ));
                let document = search_document(&record);
                // Seen by peers: it is shared now, or it was and is withdrawn.
                if document.shareable || prior.is_some_and(|prior| prior.shareable) {
                    locked.shared.count(kind);
                }
                writes.push(PendingWrite {
                    doc,
                    seq: locked.last_seq,
                    kind,
                    id,
                    version,
                    created_at,
                    updated_at,
                    body: StoredBody::encode(self.backend, &record)
                        .map_err(StoreError::InvalidArgument)?,
                    shareable: document.shareable,
                    public: document.public,
                    fields: lienthong_records::search_document::top_fields(&record),
                    year: document.year,
                });
            }
            write_rows(&mut locked.tx, self.backend, &writes).await?;
        }
        Ok(outcomes)
    }

    /// Brings the search index up to the writes just committed (records, or
    /// mirror batches, which their follower indexes once per call rather
    /// than per batch). They are durable already: when the index cannot
    /// follow, the failure is logged and the next catch-up (on the timer,
    /// or on the next start) applies them.
    pub async fn index_committed_writes(&self) {
        crate::fault::point("after-database-commit");
        if let Some(index) = &self.index
            && let Err(error) = index.catch_up(self, &mut |_, _| {}).await
        {
            tracing::error!(%error, "search index did not follow a write; it catches up later");
        }
    }

    /// Deletes a record, leaving a tombstone with the next version. Returns
    /// that version.
    pub async fn delete(&self, id: &str) -> Result<u64, StoreError> {
        let mut locked = LockedWrite::begin(self).await?;
        let version = match self.delete_locked(&mut locked, id, None).await? {
            DeleteOutcome::Deleted(version) => version,
            DeleteOutcome::NotFound | DeleteOutcome::Conflict { .. } => {
                return Err(StoreError::NotFound(id.to_owned()));
            }
        };
        locked.commit().await?;
        self.index_committed_writes().await;
        Ok(version)
    }

    /// Tombstones one record inside `locked`, if it is live and (when
    /// `expected` is given) at that version.
    pub(crate) async fn delete_locked(
        &self,
        locked: &mut LockedWrite,
        id: &str,
        expected: Option<u64>,
    ) -> Result<DeleteOutcome, StoreError> {
        let row =
            sqlx::query("SELECT doc, kind, version, deleted, shareable FROM records WHERE id = $1")
                .bind(id)
                .fetch_optional(&mut *locked.tx)
                .await?;
        let live = match &row {
            Some(row) => row.try_get::<i64, _>("deleted")? == 0,
            None => false,
        };
        let current = match (&row, live) {
            (Some(row), true) => row.try_get::<i64, _>("version")? as u64,
            _ => 0,
        };
        if let Some(expected) = expected
            && expected != current
        {
            return Ok(DeleteOutcome::Conflict { current });
        }
        let Some(row) = row.filter(|_| live) else {
            return Ok(DeleteOutcome::NotFound);
        };
        let doc: i64 = row.try_get("doc")?;
        let kind = kind_of(&row)?;
        let version = current as i64 + 1;
        if row.try_get::<i64, _>("shareable")? != 0 {
            locked.shared.count(kind);
        }
        locked.last_seq += 1;
        let seq = locked.last_seq;
        let now = now_rfc3339();
        // A deletion moves the record in the feed only if peers could see it.
        sqlx::query(
            "UPDATE records SET version = $1, seq = $2, updated_at = $3, deleted = 1, \
             body = NULL, public = 0, merged_into = NULL, \
             feed_seq = CASE WHEN shareable = 1 THEN $2 ELSE feed_seq END, \
             feed_version = CASE WHEN shareable = 1 THEN $1 ELSE feed_version END, \
             feed_changed_at = CASE WHEN shareable = 1 THEN $3 ELSE feed_changed_at END \
             WHERE doc = $4",
        )
        .bind(version)
        .bind(seq)
        .bind(&now)
        .bind(doc)
        .execute(&mut *locked.tx)
        .await?;
        sqlx::query("INSERT INTO changes (seq, record_id, kind, version, deleted, changed_at) VALUES ($1, $2, $3, $4, 1, $5)")
            .bind(seq)
            .bind(id)
            .bind(kind.code())
            .bind(version)
            .bind(&now)
            .execute(&mut *locked.tx)
            .await?;
        Ok(DeleteOutcome::Deleted(version as u64))
    }
}

/// Changes peers can see, per kind, counted over a transaction and added to
/// `shared_changes` once.
#[derive(Default)]
struct SharedChanges(HashMap<RecordKind, i64>);

impl SharedChanges {
    fn count(&mut self, kind: RecordKind) {
        *self.0.entry(kind).or_insert(0) += 1;
    }

    async fn apply(&self, tx: &mut Transaction<'static, Any>) -> Result<(), StoreError> {
        for (kind, added) in &self.0 {
            sqlx::query(
                "INSERT INTO shared_changes (kind, last) VALUES ($1, $2) \
                 ON CONFLICT (kind) DO UPDATE SET last = shared_changes.last + excluded.last",
            )
            .bind(kind.code())
            .bind(*added)
            .execute(&mut **tx)
            .await?;
        }
        Ok(())
    }
}

/// Takes the node's write lock (a row lock on PostgreSQL, the database write
/// lock on SQLite) and reads the counters. Holding it until commit makes
/// change-log sequence order equal commit order.
pub(crate) async fn lock_counters(
    tx: &mut Transaction<'static, Any>,
) -> Result<(i64, i64), StoreError> {
    let counters: (i64, i64) = sqlx::query_as(
        "UPDATE node_state SET last_seq = last_seq WHERE singleton = 1 RETURNING last_seq, last_doc",
    )
    .fetch_one(&mut **tx)
    .await?;
    Ok(counters)
}

pub(crate) async fn store_counters(
    tx: &mut Transaction<'static, Any>,
    last_seq: i64,
    last_doc: i64,
) -> Result<(), StoreError> {
    sqlx::query("UPDATE node_state SET last_seq = $1, last_doc = $2 WHERE singleton = 1")
        .bind(last_seq)
        .bind(last_doc)
        .execute(&mut **tx)
        .await?;
    // The transaction's time, for harvesters' datestamps: taken under the
    // write lock, so the clock follows commit order (a transaction that
    // took no new number adds nothing).
    sqlx::query("INSERT INTO harvest_clock (seq, at) VALUES ($1, $2) ON CONFLICT (seq) DO NOTHING")
        .bind(last_seq)
        .bind(crate::now_rfc3339())
        .execute(&mut **tx)
        .await?;
    Ok(())
}

fn groups_of_distinct_ids(planned: Vec<PlannedUpsert>) -> Vec<Vec<PlannedUpsert>> {
    let mut groups: Vec<Vec<PlannedUpsert>> = vec![Vec::new()];
    let mut seen = HashSet::new();
    for item in planned {
        if !seen.insert(item.record.id().to_owned()) {
            groups.push(Vec::new());
            seen.clear();
            seen.insert(item.record.id().to_owned());
        }
        if let Some(group) = groups.last_mut() {
            group.push(item);
        }
    }
    groups
}

fn kind_of(row: &AnyRow) -> Result<RecordKind, StoreError> {
    let code: i64 = row.try_get("kind")?;
    RecordKind::from_code(code).ok_or_else(|| {
        tracing::error!(code, "unknown record kind in the database");
        StoreError::Internal
    })
}

async fn fetch_existing(
    tx: &mut Transaction<'static, Any>,
    backend: Backend,
    planned: &[PlannedUpsert],
) -> Result<HashMap<String, Existing>, StoreError> {
    let mut existing = HashMap::with_capacity(planned.len());
    for chunk in planned.chunks(500) {
        let sql = format!(
            "SELECT id, doc, kind, version, deleted, shareable, created_at, {} FROM records WHERE id IN ({})",
            backend.body_column(),
            numbered_placeholders(backend, 1, chunk.len())
        );
        let mut query = sqlx::query(AssertSqlSafe(sql));
        for item in chunk {
            query = query.bind(item.record.id().to_owned());
        }
        for row in query.fetch_all(&mut **tx).await? {
            existing.insert(
                row.try_get("id")?,
                Existing {
                    doc: row.try_get("doc")?,
                    version: row.try_get("version")?,
                    deleted: row.try_get::<i64, _>("deleted")? != 0,
                    shareable: row.try_get::<i64, _>("shareable")? != 0,
                    created_at: row.try_get("created_at")?,
                    record: backend.read_body(&row, kind_of(&row)?)?,
                },
            );
        }
    }
    Ok(existing)
}

async fn write_rows(
    tx: &mut Transaction<'static, Any>,
    backend: Backend,
    writes: &[PendingWrite],
) -> Result<(), StoreError> {
    const RECORD_COLUMNS: usize = 17;
    // New and changed records in one statement: a changed record keeps its doc.
    for chunk in writes.chunks(MAX_BIND_PARAMETERS / RECORD_COLUMNS) {
        let sql = format!(
            "INSERT INTO records (doc, id, kind, version, seq, created_at, updated_at, shareable, \
             year, shared_once, body, feed_seq, feed_version, feed_changed_at, public, \
             public_once, fields, deleted) \
             VALUES {} \
             ON CONFLICT (doc) DO UPDATE SET version = excluded.version, seq = excluded.seq, \
             created_at = excluded.created_at, updated_at = excluded.updated_at, shareable = excluded.shareable, \
             year = excluded.year, body = excluded.body, deleted = 0, merged_into = NULL, \
             shared_once = CASE WHEN excluded.shareable = 1 THEN 1 ELSE records.shared_once END, \
             public = excluded.public, fields = excluded.fields, \
             public_once = CASE WHEN excluded.public = 1 THEN 1 ELSE records.public_once END, \
             feed_seq = CASE WHEN excluded.shareable = 1 OR records.shareable = 1 \
                 THEN excluded.seq ELSE records.feed_seq END, \
             feed_version = CASE WHEN excluded.shareable = 1 OR records.shareable = 1 \
                 THEN excluded.version ELSE records.feed_version END, \
             feed_changed_at = CASE WHEN excluded.shareable = 1 OR records.shareable = 1 \
                 THEN excluded.updated_at ELSE records.feed_changed_at END",
            row_placeholders(chunk.len(), RECORD_COLUMNS, Some("0"), |n| {
                // The body is the 11th bound column of each row.
                if n % RECORD_COLUMNS == 11 % RECORD_COLUMNS {
                    backend.body_placeholder(n)
                } else {
                    placeholder(backend, n)
                }
            })
        );
        let mut query = sqlx::query(AssertSqlSafe(sql));
        for w in chunk {
            query = query
                .bind(w.doc)
                .bind(w.id.as_str())
                .bind(w.kind.code())
                .bind(w.version)
                .bind(w.seq)
                .bind(w.created_at.as_str())
                .bind(w.updated_at.as_str())
                .bind(i64::from(w.shareable))
                .bind(i64::from(w.year))
                // A new row's `shared_once`; an existing row keeps a 1.
                .bind(i64::from(w.shareable));
            query = w
                .body
                .bind(query)
                // A new row's place in the feed (the update keeps the old one
                // while the record stays hidden).
                .bind(w.seq)
                .bind(w.version)
                .bind(w.updated_at.as_str())
                // `public`, and a new row's `public_once`.
                .bind(i64::from(w.public))
                .bind(i64::from(w.public))
                .bind(i64::from(w.fields));
        }
        query.execute(&mut **tx).await?;
    }
    for chunk in writes.chunks(MAX_BIND_PARAMETERS / 5) {
        let sql = format!(
            "INSERT INTO changes (seq, record_id, kind, version, changed_at, deleted) VALUES {}",
            row_placeholders(chunk.len(), 5, Some("0"), |n| { placeholder(backend, n) })
        );
        let mut query = sqlx::query(AssertSqlSafe(sql));
        for w in chunk {
            query = query
                .bind(w.seq)
                .bind(w.id.as_str())
                .bind(w.kind.code())
                .bind(w.version)
                .bind(w.updated_at.as_str());
        }
        query.execute(&mut **tx).await?;
    }
    Ok(())
}

/// Placeholders for `count` values numbered from `first`: "$4, $5" on
/// PostgreSQL, "?, ?" on SQLite, where numbered names make parsing a long
/// statement quadratic (SQLite looks each name up in a list).
pub(crate) fn numbered_placeholders(backend: Backend, first: usize, count: usize) -> String {
    (first..first + count)
        .map(|n| placeholder(backend, n))
        .collect::<Vec<_>>()
        .join(", ")
}

/// One placeholder: `?` on SQLite (positional), `$n` on PostgreSQL.
pub(crate) fn placeholder(backend: Backend, n: usize) -> String {
    match backend {
        Backend::Sqlite => "?".to_owned(),
        Backend::Postgres => format!("${n}"),
    }
}

/// "($1, $2), ($3, $4)" for a multi-row VALUES list, parameter `n` written
/// as `value(n)`, with `literal` (if any) appended as the last value of every
/// row.
pub(crate) fn row_placeholders(
    rows: usize,
    columns: usize,
    literal: Option<&str>,
    value: impl Fn(usize) -> String,
) -> String {
    let mut n = 0;
    let rows: Vec<String> = (0..rows)
        .map(|_| {
            let mut values: Vec<String> = (0..columns)
                .map(|_| {
                    n += 1;
                    value(n)
                })
                .collect();
            values.extend(literal.map(str::to_owned));
            format!("({})", values.join(", "))
        })
        .collect();
    rows.join(", ")
}
