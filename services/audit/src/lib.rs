//! The audit log: every request from another party, appended to the server's
//! own database (node or gateway), each entry carrying the hash of the one
//! before it.
//!
//! - [`AuditWriter::record`] returns once the entry is committed, so a response
//!   never leaves without its entry on disk. Entries are committed in batches
//!   by one writer task (group commit): under load many requests share one
//!   statement.
//! - [`verify`] walks the chain and reports the first entry that was edited,
//!   deleted or moved, and a head that was cut off.
//! - [`prune`] deletes entries older than the retention period and keeps the
//!   hash of the last one deleted as a checkpoint, so what is left still
//!   verifies.
//! - [`export`] writes entries as JSON lines.
//!
//! On PostgreSQL the log is in the server's database; on SQLite it is in a
//! companion file attached to every connection as schema `audit`
//! (`hung-yen.audit.db` beside `hung-yen.db`), because every commit to a
//! SQLite file makes every other connection drop its page cache.
//!
//! One process appends to a database's log at a time (the server that owns it).

#![forbid(unsafe_code)]

mod chain;
mod refusals;
mod writer;

use std::io::Write;

use serde::{Deserialize, Serialize};
use sqlx::{AnyConnection, AnyPool, Executor, Row};
use time::OffsetDateTime;

pub use chain::{GENESIS_HASH, entry_hash};
pub use refusals::RefusalLog;
pub use writer::AuditWriter;

/// The `[audit]` section of node and gateway configs.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditConfig {
    /// Entries older than this many days are pruned (hourly), keeping a
    /// checkpoint so the rest still verifies. 0 keeps everything.
    #[serde(default = "default_retention_days")]
    pub retention_days: u32,
    /// `false` records nothing. Only to measure what auditing costs: no
    /// deployment may run without its audit log, and the server says so
    /// loudly at start.
    #[serde(default = "default_enabled")]
    pub enabled: bool,
    /// Refusals from one source are written once per interval of this many
    /// seconds, with their count, after the first (see [`RefusalLog`]).
    #[serde(default = "default_refusal_interval_seconds")]
    pub refusal_interval_seconds: u64,
}

impl Default for AuditConfig {
    fn default() -> Self {
        AuditConfig {
            retention_days: default_retention_days(),
            enabled: default_enabled(),
            refusal_interval_seconds: default_refusal_interval_seconds(),
        }
    }
}

fn default_refusal_interval_seconds() -> u64 {
    60
}

impl AuditConfig {
    pub fn refusal_interval(&self) -> std::time::Duration {
        std::time::Duration::from_secs(self.refusal_interval_seconds.max(1))
    }
}

/// Bytes of a request kept in its entry; a longer request is cut there and
/// its SHA-256 added, so what was asked can still be matched.
pub const MAX_REQUEST_BYTES: usize = 2048;

/// A request as an entry stores it: its JSON, at most
/// [`MAX_REQUEST_BYTES`] of it (cut at a character boundary), and for a
/// longer one the total length and SHA-256 of the whole. The JSON is
/// produced through a bounded buffer, so a huge request costs no more memory
/// than a small one.
pub fn request_text(request: &impl Serialize) -> String {
    let mut kept = BoundedJson {
        head: Vec::with_capacity(256),
        total: 0,
        digest: ring::digest::Context::new(&ring::digest::SHA256),
    };
    if serde_json::to_writer(&mut kept, request).is_err() {
        return String::new();
    }
    kept.finish()
}

/// `text` as an entry stores it: whole up to [`MAX_REQUEST_BYTES`], else cut
/// there with its length and SHA-256 (error details can echo what a caller
/// sent, so every free-text field of an entry is bounded).
pub fn bounded_text(text: &str) -> String {
    if text.len() <= MAX_REQUEST_BYTES {
        return text.to_owned();
    }
    let mut kept = BoundedJson {
        head: Vec::with_capacity(MAX_REQUEST_BYTES + 1),
        total: 0,
        digest: ring::digest::Context::new(&ring::digest::SHA256),
    };
    let _ = kept.write_all(text.as_bytes());
    kept.finish()
}

struct BoundedJson {
    head: Vec<u8>,
    total: usize,
    digest: ring::digest::Context,
}

impl BoundedJson {
    fn finish(self) -> String {
        if self.total <= MAX_REQUEST_BYTES {
            return String::from_utf8(self.head).unwrap_or_default();
        }
        let mut end = MAX_REQUEST_BYTES;
        while end > 0 && (self.head[end] & 0xC0) == 0x80 {
            end -= 1;
        }
        let head = String::from_utf8_lossy(&self.head[..end]);
        let digest: String = self
            .digest
            .finish()
            .as_ref()
            .iter()
            .map(|byte| format!("{byte:02x}"))
            .collect();
        format!(
            "{head}… [cut at {end} of {} bytes; sha256 {digest}]",
            self.total
        )
    }
}

impl Write for BoundedJson {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        // One byte past the limit, to find the character boundary.
        let room = (MAX_REQUEST_BYTES + 1).saturating_sub(self.head.len());
        self.head.extend_from_slice(&bytes[..bytes.len().min(room)]);
        self.total += bytes.len();
        self.digest.update(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn default_retention_days() -> u32 {
    730
}

fn default_enabled() -> bool {
    true
}

/// Starts the server's audit log as `config` says: the writer, or (when
/// disabled) a writer that records nothing, with a loud warning.
pub async fn start(
    pool: &AnyPool,
    config: &AuditConfig,
) -> Result<(AuditWriter, tokio::task::JoinHandle<()>), AuditError> {
    if config.enabled {
        AuditWriter::start(pool.clone()).await
    } else {
        tracing::warn!("AUDIT LOG DISABLED (audit.enabled = false): requests are not recorded");
        Ok(AuditWriter::disabled())
    }
}

/// At shutdown: writes the refusals still being counted, then waits (at most
/// `grace`) for the writer to commit the last entries. Call it once the
/// server has stopped taking requests; every other writer handle must be
/// dropped for the writer to finish.
pub async fn finish(
    refusals: RefusalLog,
    writer: tokio::task::JoinHandle<()>,
    grace: std::time::Duration,
) {
    if let Err(error) = refusals.flush().await {
        tracing::warn!(%error, "counted refusals not written at shutdown");
    }
    drop(refusals);
    match tokio::time::timeout(grace, writer).await {
        Ok(Ok(())) => {}
        Ok(Err(error)) => tracing::warn!(%error, "audit writer task failed"),
        Err(_) => tracing::warn!("audit writer still busy after the shutdown grace"),
    }
}

/// Prunes entries older than `retention_days` now and every hour; 0 keeps
/// everything. Abort the handle to stop.
pub fn spawn_retention(pool: AnyPool, retention_days: u32) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        if retention_days == 0 {
            return;
        }
        let mut hourly = tokio::time::interval(std::time::Duration::from_secs(3600));
        loop {
            hourly.tick().await;
            let cutoff =
                OffsetDateTime::now_utc() - time::Duration::days(i64::from(retention_days));
            match prune(&pool, cutoff).await {
                Ok(pruned) if pruned.deleted > 0 => {
                    tracing::info!(deleted = pruned.deleted, retention_days, "audit log pruned")
                }
                Ok(_) => {}
                Err(error) => tracing::warn!(%error, "audit log pruning failed"),
            }
        }
    })
}

/// Why the audit log could not be used.
#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    #[error("audit log database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("audit log unavailable: {0}")]
    Unavailable(String),
    /// The log was cut or edited where the writer would continue it.
    #[error("audit log broken: {0}")]
    Broken(String),
    #[error("{0}")]
    Usage(String),
    #[error("cannot write the export: {0}")]
    Io(#[from] std::io::Error),
}

/// How a request ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Ok,
    /// Refused by policy, authentication or a rate limit.
    Denied,
    /// Failed for another reason (bad request, node down, …).
    Error,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Ok => "ok",
            Outcome::Denied => "denied",
            Outcome::Error => "error",
        }
    }

    fn parse(text: &str) -> Option<Outcome> {
        match text {
            "ok" => Some(Outcome::Ok),
            "denied" => Some(Outcome::Denied),
            "error" => Some(Outcome::Error),
            _ => None,
        }
    }
}

/// What to record about one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEntry {
    /// The calling party: `node:nam-dinh`, `gateway:national`, or
    /// `insecure-anonymous` in plaintext development setups.
    pub peer: String,
    /// The person the caller acts for, as the gateway vouches; empty if none.
    pub end_user: String,
    /// The operation, e.g. `SearchExperts`.
    pub action: String,
    /// The request's query and filters, as JSON.
    pub request: String,
    pub outcome: Outcome,
    /// The reason of a denial or error; empty when ok.
    pub detail: String,
    /// Ids of the records returned.
    pub record_ids: Vec<String>,
}

/// An entry as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredEntry {
    pub seq: i64,
    /// RFC 3339 UTC with microseconds.
    pub at: String,
    pub peer: String,
    pub end_user: String,
    pub action: String,
    /// JSON text.
    pub request: String,
    pub outcome: Outcome,
    pub detail: String,
    pub record_count: i64,
    pub record_ids: Vec<String>,
    pub prev_hash: String,
    pub hash: String,
}

/// Creates the audit tables if they are missing: on SQLite in the attached
/// `audit` schema when the connection has one (see
/// `lienthong_store::audit_companion`), otherwise beside the other tables.
/// Every other statement names the tables unqualified, which SQLite resolves
/// to wherever they are.
pub async fn create_tables(pool: &AnyPool) -> Result<(), AuditError> {
    let mut connection = pool.acquire().await?;
    let (_, schema) = layout(&mut connection).await?;
    for statement in [
        format!(
            "CREATE TABLE IF NOT EXISTS {schema}audit_log (
                seq BIGINT PRIMARY KEY,
                at TEXT NOT NULL,
                peer TEXT NOT NULL,
                end_user TEXT NOT NULL,
                action TEXT NOT NULL,
                request TEXT NOT NULL,
                outcome TEXT NOT NULL,
                detail TEXT NOT NULL,
                record_count BIGINT NOT NULL,
                record_ids TEXT NOT NULL,
                prev_hash TEXT NOT NULL,
                hash TEXT NOT NULL)"
        ),
        format!("CREATE INDEX IF NOT EXISTS {schema}audit_log_at ON audit_log (at)"),
        // 'head': the last entry appended; 'checkpoint': the last entry pruned.
        format!(
            "CREATE TABLE IF NOT EXISTS {schema}audit_anchor (
                name TEXT PRIMARY KEY,
                seq BIGINT NOT NULL,
                hash TEXT NOT NULL,
                at TEXT NOT NULL,
                pruned BIGINT NOT NULL)"
        ),
    ] {
        connection.execute(sqlx::AssertSqlSafe(statement)).await?;
    }
    Ok(())
}

/// Whether the connection is PostgreSQL, and the schema prefix the audit
/// tables live under (`audit.` for an attached SQLite companion file).
async fn layout(connection: &mut AnyConnection) -> Result<(bool, &'static str), AuditError> {
    let postgres = connection.backend_name().eq_ignore_ascii_case("postgresql");
    if postgres {
        return Ok((true, ""));
    }
    let attached = sqlx::query("SELECT name FROM pragma_database_list WHERE name = 'audit'")
        .fetch_optional(&mut *connection)
        .await?
        .is_some();
    Ok((false, if attached { "audit." } else { "" }))
}

/// Installs the trigger that moves the head anchor with every insert, so
/// appending a batch is one statement. Only the writer needs it.
pub(crate) async fn install_head_trigger(pool: &AnyPool) -> Result<(), AuditError> {
    let mut connection = pool.acquire().await?;
    let (postgres, schema) = layout(&mut connection).await?;
    if postgres {
        connection
            .execute(
                "CREATE OR REPLACE FUNCTION audit_log_move_head() RETURNS trigger AS $$
                BEGIN
                    INSERT INTO audit_anchor (name, seq, hash, at, pruned)
                    VALUES ('head', NEW.seq, NEW.hash, NEW.at, 0)
                    ON CONFLICT (name) DO UPDATE
                    SET seq = EXCLUDED.seq, hash = EXCLUDED.hash, at = EXCLUDED.at;
                    RETURN NULL;
                END $$ LANGUAGE plpgsql",
            )
            .await?;
        let exists = sqlx::query("SELECT 1 FROM pg_trigger WHERE tgname = 'audit_log_head'")
            .fetch_optional(&mut *connection)
            .await?
            .is_some();
        if !exists {
            connection
                .execute(
                    "CREATE TRIGGER audit_log_head AFTER INSERT ON audit_log \
                     FOR EACH ROW EXECUTE FUNCTION audit_log_move_head()",
                )
                .await?;
        }
    } else {
        connection
            .execute(sqlx::AssertSqlSafe(format!(
                "CREATE TRIGGER IF NOT EXISTS {schema}audit_log_head AFTER INSERT ON audit_log
                BEGIN
                    INSERT OR REPLACE INTO audit_anchor (name, seq, hash, at, pruned)
                    VALUES ('head', NEW.seq, NEW.hash, NEW.at, 0);
                END"
            )))
            .await?;
    }
    Ok(())
}

/// A point in the chain: an entry's sequence number and hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChainPoint {
    pub seq: i64,
    pub hash: String,
}

async fn anchor(pool: &AnyPool, name: &str) -> Result<Option<(ChainPoint, i64)>, AuditError> {
    let row = sqlx::query("SELECT seq, hash, pruned FROM audit_anchor WHERE name = $1")
        .bind(name)
        .fetch_optional(pool)
        .await?;
    row.map(|row| {
        Ok((
            ChainPoint {
                seq: row.try_get("seq")?,
                hash: row.try_get("hash")?,
            },
            row.try_get("pruned")?,
        ))
    })
    .transpose()
}

/// The result of [`verify`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Verification {
    /// Entries checked.
    pub entries: u64,
    /// Entries pruned before the checkpoint.
    pub pruned: i64,
    /// The last entry, whose hash vouches for everything before it.
    pub head: Option<ChainPoint>,
    /// The first problem found; `None` when the chain is intact.
    pub problem: Option<ChainProblem>,
}

/// What is wrong with the chain, at which entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ChainProblem {
    /// The entry's content no longer matches its hash.
    Edited { seq: i64 },
    /// Entries between `after` and `seq` are gone.
    Deleted { after: i64, seq: i64 },
    /// The entry is out of place: it links to an entry that is not the one
    /// before it.
    Reordered { seq: i64 },
    /// The entry does not link to the one before it (that one was replaced,
    /// or removed and the rest renumbered).
    BrokenLink { seq: i64 },
    /// Entries after `seq` (the last one present) were removed.
    Truncated { seq: i64, head_seq: i64 },
    /// An entry numbered at or before the checkpoint is present: pruned
    /// entries were put back, or the checkpoint was moved.
    BeforeCheckpoint { seq: i64, checkpoint: i64 },
}

impl std::fmt::Display for ChainProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ChainProblem::Edited { seq } => {
                write!(
                    f,
                    "entry {seq} was edited: its content does not match its hash"
                )
            }
            ChainProblem::Deleted { after, seq } => write!(
                f,
                "entries between {after} and {seq} were deleted: entry {seq} follows {after}"
            ),
            ChainProblem::Reordered { seq } => write!(
                f,
                "entry {seq} is out of order: it links to a different entry than the one before it"
            ),
            ChainProblem::BrokenLink { seq } => write!(
                f,
                "entry {seq} does not link to the entry before it: that entry was replaced or \
                 removed"
            ),
            ChainProblem::Truncated { seq, head_seq } => write!(
                f,
                "entries after {seq} were deleted: the log's head was entry {head_seq}"
            ),
            ChainProblem::BeforeCheckpoint { seq, checkpoint } => write!(
                f,
                "entry {seq} is at or before the checkpoint (entry {checkpoint}): pruned entries \
                 were put back or the checkpoint was moved"
            ),
        }
    }
}

/// Checks every link of the chain, from the checkpoint (or the start) to the
/// head.
pub async fn verify(pool: &AnyPool) -> Result<Verification, AuditError> {
    create_tables(pool).await?;
    let checkpoint = anchor(pool, "checkpoint").await?;
    let head_anchor = anchor(pool, "head").await?.map(|(point, _)| point);
    let (mut previous, pruned) = match checkpoint {
        Some((point, pruned)) => (point, pruned),
        None => (
            ChainPoint {
                seq: 0,
                hash: GENESIS_HASH.to_owned(),
            },
            0,
        ),
    };
    let mut entries = 0u64;
    let mut problem = None;
    let oldest: Option<i64> = sqlx::query("SELECT MIN(seq) AS oldest FROM audit_log")
        .fetch_one(pool)
        .await?
        .try_get("oldest")?;
    if let Some(oldest) = oldest
        && pruned > 0
        && oldest <= previous.seq
    {
        problem = Some(ChainProblem::BeforeCheckpoint {
            seq: oldest,
            checkpoint: previous.seq,
        });
    }
    let mut after = previous.seq;
    loop {
        let batch = read_entries(pool, after, None, 1000).await?;
        let Some(last) = batch.last() else { break };
        after = last.seq;
        for entry in batch {
            entries += 1;
            if problem.is_some() {
                continue;
            }
            if entry_hash(&entry) != entry.hash {
                problem = Some(ChainProblem::Edited { seq: entry.seq });
            } else if entry.prev_hash != previous.hash {
                problem = Some(if entry.seq > previous.seq + 1 {
                    ChainProblem::Deleted {
                        after: previous.seq,
                        seq: entry.seq,
                    }
                } else if links_to_present_entry(pool, &entry.prev_hash).await? {
                    ChainProblem::Reordered { seq: entry.seq }
                } else {
                    ChainProblem::BrokenLink { seq: entry.seq }
                });
            } else if entry.seq != previous.seq + 1 {
                problem = Some(ChainProblem::Deleted {
                    after: previous.seq,
                    seq: entry.seq,
                });
            }
            previous = ChainPoint {
                seq: entry.seq,
                hash: entry.hash,
            };
        }
    }
    if problem.is_none()
        && let Some(head) = &head_anchor
        && head.seq > previous.seq
    {
        problem = Some(ChainProblem::Truncated {
            seq: previous.seq,
            head_seq: head.seq,
        });
    }
    let head = (entries > 0 || pruned > 0).then_some(previous);
    Ok(Verification {
        entries,
        pruned,
        head,
        problem,
    })
}

/// Whether some entry still in the log has `hash` (only asked once a link
/// is already known to be broken).
async fn links_to_present_entry(pool: &AnyPool, hash: &str) -> Result<bool, AuditError> {
    let row = sqlx::query("SELECT seq FROM audit_log WHERE hash = $1 LIMIT 1")
        .bind(hash)
        .fetch_optional(pool)
        .await?;
    Ok(row.is_some())
}

/// Entries with `seq` greater than `after` (and `at` at or after `since`),
/// in order, at most `limit`.
pub async fn read_entries(
    pool: &AnyPool,
    after: i64,
    since: Option<&str>,
    limit: i64,
) -> Result<Vec<StoredEntry>, AuditError> {
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT seq, at, peer, end_user, action, request, outcome, detail, record_count, \
         record_ids, prev_hash, hash FROM audit_log WHERE seq > $1 AND at >= $2 \
         ORDER BY seq LIMIT {limit}"
    )))
    .bind(after)
    .bind(since.unwrap_or(""))
    .fetch_all(pool)
    .await?;
    rows.into_iter()
        .map(|row| {
            let ids: String = row.try_get("record_ids")?;
            let outcome_text: String = row.try_get("outcome")?;
            // Only the writer's three words can be there; anything else was
            // written by hand, and the entry must show as edited.
            let outcome = Outcome::parse(&outcome_text);
            let hash: String = row.try_get("hash")?;
            Ok(StoredEntry {
                seq: row.try_get("seq")?,
                at: row.try_get("at")?,
                peer: row.try_get("peer")?,
                end_user: row.try_get("end_user")?,
                action: row.try_get("action")?,
                request: row.try_get("request")?,
                outcome: outcome.unwrap_or(Outcome::Error),
                detail: row.try_get("detail")?,
                record_count: row.try_get("record_count")?,
                // An unparsable list is kept visible as one odd id, so the
                // hash check (over the stored text) still flags the edit.
                record_ids: serde_json::from_str(&ids).unwrap_or_else(|_| vec![ids]),
                prev_hash: row.try_get("prev_hash")?,
                hash: if outcome.is_some() {
                    hash
                } else {
                    format!("{hash} (outcome {outcome_text:?} is not one the log writes)")
                },
            })
        })
        .collect()
}

/// Writes entries at or after `since` (RFC 3339 or a date) as JSON lines;
/// returns how many.
pub async fn export(
    pool: &AnyPool,
    since: Option<&str>,
    out: &mut dyn Write,
) -> Result<u64, AuditError> {
    create_tables(pool).await?;
    let since = since.map(normalize_since).transpose()?;
    let mut after = 0;
    let mut written = 0;
    loop {
        let batch = read_entries(pool, after, since.as_deref(), 1000).await?;
        let Some(last) = batch.last() else { break };
        after = last.seq;
        for entry in &batch {
            serde_json::to_writer(&mut *out, entry).map_err(std::io::Error::other)?;
            out.write_all(b"\n")?;
            written += 1;
        }
    }
    out.flush()?;
    Ok(written)
}

/// What [`prune`] did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Pruned {
    pub deleted: u64,
    /// The checkpoint now in force, if any entries were ever pruned.
    pub checkpoint: Option<ChainPoint>,
}

/// Deletes entries recorded before `before`, in one transaction with the new
/// checkpoint (the hash of the last entry deleted), so the rest still
/// verifies. The newest entry is always kept, so the head stays provable.
pub async fn prune(pool: &AnyPool, before: OffsetDateTime) -> Result<Pruned, AuditError> {
    // Never prune a broken chain: the checkpoint would vouch for it.
    if let Some(problem) = verify(pool).await?.problem {
        return Err(AuditError::Usage(format!(
            "the audit log's chain is broken ({problem}); nothing pruned. Export it \
             (lienthong audit export) and investigate before pruning"
        )));
    }
    let cutoff = format_time(before);
    let mut tx = pool.begin().await?;
    // Everything before the first entry recorded at or after the cutoff (so an
    // entry whose time was set back cannot take newer ones with it), and
    // never the newest entry.
    let last = sqlx::query(
        "SELECT seq, hash FROM audit_log WHERE seq < COALESCE(\
             (SELECT MIN(seq) FROM audit_log WHERE at >= $1), \
             (SELECT MAX(seq) FROM audit_log)) \
         ORDER BY seq DESC LIMIT 1",
    )
    .bind(&cutoff)
    .fetch_optional(&mut *tx)
    .await?;
    let previous =
        sqlx::query("SELECT seq, hash, pruned FROM audit_anchor WHERE name = 'checkpoint'")
            .fetch_optional(&mut *tx)
            .await?;
    let previous_pruned: i64 = match &previous {
        Some(row) => row.try_get("pruned")?,
        None => 0,
    };
    let Some(last) = last else {
        tx.rollback().await?;
        let checkpoint = previous
            .map(|row| -> Result<ChainPoint, sqlx::Error> {
                Ok(ChainPoint {
                    seq: row.try_get("seq")?,
                    hash: row.try_get("hash")?,
                })
            })
            .transpose()?;
        return Ok(Pruned {
            deleted: 0,
            checkpoint,
        });
    };
    let point = ChainPoint {
        seq: last.try_get("seq")?,
        hash: last.try_get("hash")?,
    };
    let deleted = sqlx::query("DELETE FROM audit_log WHERE seq <= $1")
        .bind(point.seq)
        .execute(&mut *tx)
        .await?
        .rows_affected();
    sqlx::query("DELETE FROM audit_anchor WHERE name = 'checkpoint'")
        .execute(&mut *tx)
        .await?;
    sqlx::query(
        "INSERT INTO audit_anchor (name, seq, hash, at, pruned) VALUES ('checkpoint', $1, $2, $3, $4)",
    )
    .bind(point.seq)
    .bind(&point.hash)
    .bind(format_time(OffsetDateTime::now_utc()))
    .bind(previous_pruned + deleted as i64)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(Pruned {
        deleted,
        checkpoint: Some(point),
    })
}

/// A summary per outcome and per caller since `since`, for administrators.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Summary {
    pub since: String,
    pub total: u64,
    pub by_outcome: Vec<(String, u64)>,
    pub by_caller: Vec<(String, u64)>,
}

/// Counts entries since `since` by outcome and by end user (or peer).
pub async fn summary(pool: &AnyPool, since: OffsetDateTime) -> Result<Summary, AuditError> {
    let since = format_time(since);
    let count = |rows: Vec<sqlx::any::AnyRow>| -> Result<Vec<(String, u64)>, sqlx::Error> {
        rows.into_iter()
            .map(|row| {
                Ok((
                    row.try_get::<String, _>(0)?,
                    row.try_get::<i64, _>(1)?.max(0) as u64,
                ))
            })
            .collect()
    };
    let by_outcome = count(
        sqlx::query("SELECT outcome, COUNT(*) FROM audit_log WHERE at >= $1 GROUP BY outcome ORDER BY 2 DESC")
            .bind(&since)
            .fetch_all(pool)
            .await?,
    )?;
    let by_caller = count(
        sqlx::query(
            "SELECT CASE WHEN end_user = '' THEN peer ELSE end_user END AS caller, COUNT(*) \
             FROM audit_log WHERE at >= $1 GROUP BY 1 ORDER BY 2 DESC LIMIT 20",
        )
        .bind(&since)
        .fetch_all(pool)
        .await?,
    )?;
    Ok(Summary {
        total: by_outcome.iter().map(|(_, n)| n).sum(),
        since,
        by_outcome,
        by_caller,
    })
}

/// The fixed-width UTC form every entry's time takes, so text order is time
/// order: `2026-11-28T18:40:00.123456Z`.
pub fn format_time(at: OffsetDateTime) -> String {
    let at = at.to_offset(time::UtcOffset::UTC);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:06}Z",
        at.year(),
        u8::from(at.month()),
        at.day(),
        at.hour(),
        at.minute(),
        at.second(),
        at.microsecond()
    )
}

/// Parses `2026-11-01` or an RFC 3339 time into the stored form.
pub fn normalize_since(text: &str) -> Result<String, AuditError> {
    use time::format_description::well_known::Rfc3339;
    let parsed = OffsetDateTime::parse(text, &Rfc3339)
        .or_else(|_| OffsetDateTime::parse(&format!("{text}T00:00:00Z"), &Rfc3339))
        .map_err(|_| {
            AuditError::Usage(format!(
                "--since {text:?} is not a date or time; write 2026-11-01 or 2026-11-01T08:00:00+07:00"
            ))
        })?;
    Ok(format_time(parsed))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_requests_are_cut_with_their_digest() {
        let short = serde_json::json!({"query": "Nguyễn Văn An"});
        assert_eq!(request_text(&short), short.to_string());
        let long = serde_json::json!({"query": "đ".repeat(20_000)});
        let text = request_text(&long);
        assert!(text.len() < MAX_REQUEST_BYTES + 200, "{}", text.len());
        let digest: String =
            ring::digest::digest(&ring::digest::SHA256, long.to_string().as_bytes())
                .as_ref()
                .iter()
                .map(|byte| format!("{byte:02x}"))
                .collect();
        assert!(
            text.ends_with(&format!(
                "of {} bytes; sha256 {digest}]",
                long.to_string().len()
            )),
            "{text}"
        );
        assert!(text.starts_with("{\"query\":\"đđ"));
    }

    #[test]
    fn long_details_are_cut_too() {
        assert_eq!(bounded_text("short"), "short");
        let echoed = format!("organization_id {:?} is not an id", "\u{1}".repeat(60_000));
        let cut = bounded_text(&echoed);
        assert!(cut.len() < MAX_REQUEST_BYTES + 200, "{}", cut.len());
        assert!(cut.contains(&format!("of {} bytes", echoed.len())));
    }
}
