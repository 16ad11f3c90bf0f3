//! The one task that appends to the chain. Requests hand it entries and wait
//! for the commit; it takes whatever has queued up (up to a batch) and
//! commits it in one transaction, with the head anchor, so under load the
//! log costs one commit per batch rather than one per request.

use sqlx::{AnyPool, Row};
use time::OffsetDateTime;
use tokio::sync::{mpsc, oneshot};

use crate::{
    AuditEntry, AuditError, ChainPoint, GENESIS_HASH, StoredEntry, create_tables, entry_hash,
    format_time,
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
        let head = read_head(&pool).await?;
        let (queue, receiver) = mpsc::channel(4 * MAX_BATCH);
        let task = tokio::spawn(write_batches(pool, head, receiver));
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

/// The last entry appended: from the log itself, else the checkpoint, else
/// the genesis.
async fn read_head(pool: &AnyPool) -> Result<ChainPoint, AuditError> {
    let last = sqlx::query("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1")
        .fetch_optional(pool)
        .await?;
    let last = match last {
        Some(row) => Some(row),
        None => {
            sqlx::query("SELECT seq, hash FROM audit_anchor WHERE name = 'checkpoint'")
                .fetch_optional(pool)
                .await?
        }
    };
    Ok(match last {
        Some(row) => ChainPoint {
            seq: row.try_get("seq")?,
            hash: row.try_get("hash")?,
        },
        None => ChainPoint {
            seq: 0,
            hash: GENESIS_HASH.to_owned(),
        },
    })
}

async fn write_batches(
    pool: AnyPool,
    mut head: ChainPoint,
    mut receiver: mpsc::Receiver<(AuditEntry, Reply)>,
) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while receiver.recv_many(&mut batch, MAX_BATCH).await > 0 {
        let entries: Vec<StoredEntry> = chain(&head, batch.iter().map(|(entry, _)| entry));
        let result = commit(&pool, &entries).await;
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
                // Another writer or a manual change may have moved the head.
                if let Ok(current) = read_head(&pool).await {
                    head = current;
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
                peer: entry.peer.clone(),
                end_user: entry.end_user.clone(),
                action: entry.action.clone(),
                request: entry.request.clone(),
                outcome: entry.outcome,
                detail: entry.detail.clone(),
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

async fn commit(pool: &AnyPool, entries: &[StoredEntry]) -> Result<(), sqlx::Error> {
    let Some(last) = entries.last() else {
        return Ok(());
    };
    let mut tx = pool.begin().await?;
    for entry in entries {
        let ids = serde_json::to_string(&entry.record_ids).unwrap_or_else(|_| "[]".into());
        sqlx::query(
            "INSERT INTO audit_log (seq, at, peer, end_user, action, request, outcome, detail, \
             record_count, record_ids, prev_hash, hash) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
        )
        .bind(entry.seq)
        .bind(&entry.at)
        .bind(&entry.peer)
        .bind(&entry.end_user)
        .bind(&entry.action)
        .bind(&entry.request)
        .bind(entry.outcome.as_str())
        .bind(&entry.detail)
        .bind(entry.record_count)
        .bind(ids)
        .bind(&entry.prev_hash)
        .bind(&entry.hash)
        .execute(&mut *tx)
        .await?;
    }
    sqlx::query("DELETE FROM audit_anchor WHERE name = 'head'")
        .execute(&mut *tx)
        .await?;
    sqlx::query(
        "INSERT INTO audit_anchor (name, seq, hash, at, pruned) VALUES ('head', $1, $2, $3, 0)",
    )
    .bind(last.seq)
    .bind(&last.hash)
    .bind(&last.at)
    .execute(&mut *tx)
    .await?;
    tx.commit().await
}
