//! The one task that appends to the chain. Requests hand it entries and wait
//! for the commit; it takes whatever has queued up (up to a batch) and
//! appends it with one multi-row INSERT on a connection it keeps (a trigger
//! moves the head anchor in the same statement), so under load the log costs
//! one statement per batch rather than a transaction per request.

use sqlx::pool::PoolConnection;
use sqlx::{Any, AnyConnection, AnyPool, Connection, Row};
use time::OffsetDateTime;
use tokio::sync::{mpsc, oneshot};

use crate::{
    AuditEntry, AuditError, ChainPoint, GENESIS_HASH, StoredEntry, bounded_text, create_tables,
    entry_hash, format_time, install_head_trigger,
};

const MAX_BATCH: usize = 256;

type Reply = oneshot::Sender<Result<(), String>>;

/// Appends entries; cheap to clone. The writer task stops once every clone is
/// dropped and the queue is drained.
#[derive(Clone)]
pub struct AuditWriter {
    /// `None` when auditing is switched off (`audit.enabled = false`).
    queue: Option<mpsc::Sender<(AuditEntry, Reply)>>,
}

impl AuditWriter {
    /// Creates the tables if needed, reads the head of the chain and starts the
    /// writer task. Await the returned handle after dropping every clone to
    /// know the last entries are committed.
    pub async fn start(
        pool: AnyPool,
    ) -> Result<(AuditWriter, tokio::task::JoinHandle<()>), AuditError> {
        create_tables(&pool).await?;
        install_head_trigger(&pool).await?;
        let marked = log_existed(&pool).await?;
        let head = read_head(&pool, marked).await?;
        let (queue, receiver) = mpsc::channel(4 * MAX_BATCH);
        let task = tokio::spawn(write_batches(pool, head, marked, receiver));
        Ok((AuditWriter { queue: Some(queue) }, task))
    }

    /// A writer that records nothing: only for `audit.enabled = false`, which
    /// exists to measure what the audit log costs.
    pub fn disabled() -> (AuditWriter, tokio::task::JoinHandle<()>) {
        (AuditWriter { queue: None }, tokio::spawn(async {}))
    }

    /// Appends `entry`; returns once it is committed.
    pub async fn record(&self, entry: AuditEntry) -> Result<(), AuditError> {
        let Some(queue) = &self.queue else {
            return Ok(());
        };
        let (reply, committed) = oneshot::channel();
        queue
            .send((entry, reply))
            .await
            .map_err(|_| AuditError::Unavailable("the audit writer has stopped".into()))?;
        committed
            .await
            .map_err(|_| AuditError::Unavailable("the audit writer has stopped".into()))?
            .map_err(AuditError::Unavailable)
    }
}

/// Where the chain resumes: the last entry in the log, which must be the
/// entry the head anchor names (the anchor moves with every insert, by
/// trigger). When the log is empty, the checkpoint left by pruning, else the
/// genesis.
///
/// The writer refuses to start, and says why, when appending would hide a
/// cut: the anchor names a later entry than the log holds, or another entry
/// at the same position; the log has entries but no anchor (both deleted);
/// or the log is empty although this database has held one before (a marker
/// outside the log says so: on SQLite it is in the records' own file, so
/// deleting the companion file is noticed too).
async fn read_head(pool: &AnyPool, log_existed: bool) -> Result<ChainPoint, AuditError> {
    let point = |row: sqlx::any::AnyRow| -> Result<ChainPoint, AuditError> {
        Ok(ChainPoint {
            seq: row.try_get("seq")?,
            hash: row.try_get("hash")?,
        })
    };
    let last = sqlx::query("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1")
        .fetch_optional(pool)
        .await?
        .map(point)
        .transpose()?;
    let anchored = sqlx::query("SELECT seq, hash FROM audit_anchor WHERE name = 'head'")
        .fetch_optional(pool)
        .await?
        .map(point)
        .transpose()?;
    let checkpoint = sqlx::query("SELECT seq, hash FROM audit_anchor WHERE name = 'checkpoint'")
        .fetch_optional(pool)
        .await?
        .map(point)
        .transpose()?;
    let stored = last.or(checkpoint);
    let broken = |what: String| {
        Err(AuditError::Broken(format!(
            "{what}: entries were deleted or replaced. Nothing more is appended until \
             this is resolved; run `lienthong audit verify`, then restore the log from a \
             backup"
        )))
    };
    match (stored, anchored) {
        (None, None) => {
            if log_existed {
                return broken(
                    "the audit log is empty, but this database has held one before".into(),
                );
            }
            Ok(ChainPoint {
                seq: 0,
                hash: GENESIS_HASH.to_owned(),
            })
        }
        (Some(stored), None) => broken(format!(
            "the audit log ends at entry {} but its head anchor is missing",
            stored.seq
        )),
        (Some(stored), Some(anchored)) if stored == anchored => Ok(stored),
        (stored, Some(anchored)) => {
            let found = stored.map_or_else(
                || "no entries".to_owned(),
                |stored| format!("its last entry is {}", stored.seq),
            );
            broken(format!(
                "the audit log's head anchor names entry {} but {found}",
                anchored.seq
            ))
        }
    }
}

/// The marker, outside the log's own tables (unqualified, so on SQLite in
/// the records' file, not the attached companion), that this database has
/// held an audit log.
async fn log_existed(pool: &AnyPool) -> Result<bool, AuditError> {
    sqlx::query("CREATE TABLE IF NOT EXISTS audit_log_started (singleton INTEGER PRIMARY KEY, at TEXT NOT NULL)")
        .execute(pool)
        .await?;
    Ok(
        sqlx::query("SELECT 1 FROM audit_log_started WHERE singleton = 1")
            .fetch_optional(pool)
            .await?
            .is_some(),
    )
}

async fn mark_log_started(pool: &AnyPool) -> Result<(), AuditError> {
    sqlx::query(
        "INSERT INTO audit_log_started (singleton, at) VALUES (1, $1) ON CONFLICT (singleton) DO NOTHING",
    )
    .bind(format_time(OffsetDateTime::now_utc()))
    .execute(pool)
    .await?;
    Ok(())
}

async fn write_batches(
    pool: AnyPool,
    mut head: ChainPoint,
    mut marked: bool,
    mut receiver: mpsc::Receiver<(AuditEntry, Reply)>,
) {
    // One connection kept for the log, so a batch costs its statements and
    // no pool round trip.
    let mut connection: Option<PoolConnection<Any>> = None;
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while receiver.recv_many(&mut batch, MAX_BATCH).await > 0 {
        // Let requests that are about to finish add their entries first: one
        // turn of the scheduler, no timer.
        tokio::task::yield_now().await;
        while batch.len() < MAX_BATCH {
            match receiver.try_recv() {
                Ok(next) => batch.push(next),
                Err(_) => break,
            }
        }
        let entries: Vec<StoredEntry> = chain(&head, batch.iter().map(|(entry, _)| entry));
        let result = match &mut connection {
            Some(connection) => commit(connection, &entries).await,
            None => match pool.acquire().await {
                Ok(acquired) => commit(connection.insert(acquired), &entries).await,
                Err(error) => Err(error),
            },
        };
        if result.is_ok() && !marked {
            // From the first entry on, an empty log means a deleted one.
            match mark_log_started(&pool).await {
                Ok(()) => marked = true,
                Err(error) => tracing::warn!(%error, "audit log start not marked"),
            }
        }
        let reply = match &result {
            Ok(()) => {
                if let Some(last) = entries.last() {
                    head = ChainPoint {
                        seq: last.seq,
                        hash: last.hash.clone(),
                    };
                }
                Ok(())
            }
            Err(error) => {
                tracing::error!(%error, entries = entries.len(), "audit entries not written; refusing those requests");
                metrics::counter!("lienthong_audit_write_failures_total").increment(1);
                // A fresh connection next time, and the head as stored: another
                // writer or a manual change may have moved it. A head that no
                // longer matches the log keeps the old one, so the next batch
                // fails too rather than resuming over a gap.
                connection = None;
                match read_head(&pool, marked).await {
                    Ok(current) => head = current,
                    Err(problem) => tracing::error!(%problem, "audit log head unreadable"),
                }
                Err(error.to_string())
            }
        };
        metrics::counter!("lienthong_audit_entries_total").increment(entries.len() as u64);
        for (_, waiting) in batch.drain(..) {
            let _ = waiting.send(reply.clone());
        }
    }
}

/// Numbers and links `entries` after `head`.
fn chain<'a>(head: &ChainPoint, entries: impl Iterator<Item = &'a AuditEntry>) -> Vec<StoredEntry> {
    let at = format_time(OffsetDateTime::now_utc());
    let mut previous = head.clone();
    entries
        .map(|entry| {
            let mut stored = StoredEntry {
                seq: previous.seq + 1,
                at: at.clone(),
                // Every free-text field is bounded: an error detail or a
                // claimed user name can echo what a caller sent.
                peer: bounded_text(&entry.peer),
                end_user: bounded_text(&entry.end_user),
                action: bounded_text(&entry.action),
                request: bounded_text(&entry.request),
                outcome: entry.outcome,
                detail: bounded_text(&entry.detail),
                record_count: entry.record_ids.len() as i64,
                record_ids: entry.record_ids.clone(),
                prev_hash: previous.hash.clone(),
                hash: String::new(),
            };
            stored.hash = entry_hash(&stored);
            previous = ChainPoint {
                seq: stored.seq,
                hash: stored.hash.clone(),
            };
            stored
        })
        .collect()
}

/// Rows per INSERT statement (12 parameters each, well under every
/// backend's limit).
const ROWS_PER_STATEMENT: usize = 64;

/// Appends `entries`; the head anchor follows by trigger. One statement for
/// up to [`ROWS_PER_STATEMENT`] entries, a transaction around several.
async fn commit(
    connection: &mut AnyConnection,
    entries: &[StoredEntry],
) -> Result<(), sqlx::Error> {
    if entries.len() <= ROWS_PER_STATEMENT {
        return insert(&mut *connection, entries).await;
    }
    let mut tx = connection.begin().await?;
    for rows in entries.chunks(ROWS_PER_STATEMENT) {
        insert(&mut tx, rows).await?;
    }
    tx.commit().await
}

async fn insert(connection: &mut AnyConnection, rows: &[StoredEntry]) -> Result<(), sqlx::Error> {
    if rows.is_empty() {
        return Ok(());
    }
    let values: Vec<String> = (0..rows.len())
        .map(|row| {
            let first = row * 12 + 1;
            let placeholders: Vec<String> = (first..first + 12).map(|n| format!("${n}")).collect();
            format!("({})", placeholders.join(", "))
        })
        .collect();
    let sql = format!(
        "INSERT INTO audit_log (seq, at, peer, end_user, action, request, outcome, detail, \
         record_count, record_ids, prev_hash, hash) VALUES {}",
        values.join(", ")
    );
    let mut insert = sqlx::query(sqlx::AssertSqlSafe(sql));
    for entry in rows {
        let ids = serde_json::to_string(&entry.record_ids).unwrap_or_else(|_| "[]".into());
        insert = insert
            .bind(entry.seq)
            .bind(entry.at.clone())
            .bind(entry.peer.clone())
            .bind(entry.end_user.clone())
            .bind(entry.action.clone())
            .bind(entry.request.clone())
            .bind(entry.outcome.as_str())
            .bind(entry.detail.clone())
            .bind(entry.record_count)
            .bind(ids)
            .bind(entry.prev_hash.clone())
            .bind(entry.hash.clone());
    }
    insert.execute(connection).await?;
    Ok(())
}
