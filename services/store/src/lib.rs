//! The record store of one province node, on SQLite (embedded default) or
//! PostgreSQL (production). Both backends run the same SQL through sqlx's `Any`
//! driver and return the same results; only the migrations differ.
//!
//! - [`Store::upsert`] and [`Store::delete`] write transactionally, bump each
//!   record's version and append to the change log in the same transaction.
//! - [`Store::search`] runs Vietnamese-aware search over the search index, a
//!   tantivy index derived from the database (see [`search`]).
//! - [`Store::changes`] reads the change log in sequence order.

#![forbid(unsafe_code)]

pub mod digest;
mod error;
pub mod fault;
mod feed;
mod harvest;
mod ingest;
mod merge;
mod mirrors;
mod reads;
mod record_body;
pub mod search;
mod statistics;
pub mod token_seal;
mod writes;

use std::str::FromStr;
use std::time::Duration;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyPool, ConnectOptions, Executor};

pub use error::StoreError;
pub use feed::FeedEntry;
pub use harvest::{Audience, HarvestEntry, HarvestPage, HarvestPosition, HarvestScope};
pub use ingest::{
    IDEMPOTENCY_KEY_LIFETIME, Idempotency, IngestAnswer, IngestBatch, IngestDelete, IngestOutcome,
    IngestResult, IngestUpsert, IngestWrites,
};
pub use merge::{MergePlan, Merged, MergedInto};
pub use mirrors::{
    AppliedBatch, MirrorBatch, MirrorChange, MirrorRejection, MirrorSource, MirroredRecord,
    PeerSync,
};
pub use reads::{Change, RecordCounts, StoredRecord};
pub use search::{
    IndexLocation, MatchTier, MirrorScope, ProposalCheck, Rank, SearchHit, SearchPage,
    SearchRequest, SimilarTask,
};
pub use statistics::KindStatistics;
pub use token_seal::{TokenSeal, server_secret};
pub use writes::{Rejection, WriteReport};

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("migrations/postgres");

/// Which database a store runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    /// Recognizes the backend from a database URL.
    pub fn from_url(url: &str) -> Result<Backend, StoreError> {
        if url.starts_with("sqlite:") {
            Ok(Backend::Sqlite)
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Ok(Backend::Postgres)
        } else {
            Err(StoreError::Config(format!(
                "database URL {url:?} names no supported database; use sqlite://PATH or postgres://USER@HOST/DB"
            )))
        }
    }
}

/// How to open a store.
#[derive(Clone, Debug)]
pub struct StoreOptions {
    /// `sqlite://path/to/file.db` or `postgres://user@host:port/db`.
    pub url: String,
    /// The node this store belongs to; checked against the database on open.
    pub node_id: String,
    /// Most open connections.
    pub max_connections: u32,
    /// Where the search index lives.
    pub search_index: IndexLocation,
}

/// A node's record store. Cheap to clone; clones share one connection pool.
#[derive(Clone, Debug)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
    node_id: String,
    /// Seals page tokens and cursors (key in `server_secrets`).
    seal: std::sync::Arc<TokenSeal>,
    /// The search index; `None` in a store opened to rebuild it.
    index: Option<std::sync::Arc<search::index::SearchIndex>>,
}

impl Store {
    /// Opens (and for SQLite, creates) the database, applies migrations,
    /// checks that it belongs to `options.node_id`, and opens the search
    /// index, bringing it up to date (or rebuilding it) from the database.
    pub async fn open(options: &StoreOptions) -> Result<Store, StoreError> {
        let mut store = Store::open_database(options).await?;
        let index = search::index::SearchIndex::open(&store, &options.search_index).await?;
        store.index = Some(std::sync::Arc::new(index));
        Ok(store)
    }

    /// Opens the database alone, without the search index: for rebuilding
    /// the index ([`Store::rebuild_search_index`]).
    pub async fn open_database(options: &StoreOptions) -> Result<Store, StoreError> {
        let (pool, backend) = connect(&options.url, options.max_connections).await?;
        let migrator = match backend {
            Backend::Sqlite => &SQLITE_MIGRATIONS,
            Backend::Postgres => &POSTGRES_MIGRATIONS,
        };
        migrator.run(&pool).await.map_err(|error| {
            StoreError::Unavailable(format!("cannot apply database migrations: {error}"))
        })?;
        if backend == Backend::Postgres {
            record_body::convert_protobuf_bodies(&pool).await?;
        }
        let secret = server_secret(&pool, "page_tokens").await?;
        let store = Store {
            pool,
            backend,
            node_id: options.node_id.clone(),
            seal: std::sync::Arc::new(TokenSeal::new(&secret)),
            index: None,
        };
        store.claim_for_node().await?;
        store.settle_harvest_flags().await?;
        Ok(store)
    }

    /// Records the node id in a new database, or checks it in an existing one,
    /// so that one node's config can never write into another node's data.
    async fn claim_for_node(&self) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO node_state (singleton, node_id, feed_epoch) VALUES (1, $1, $2) \
             ON CONFLICT (singleton) DO NOTHING",
        )
        .bind(&self.node_id)
        .bind(feed::new_feed_epoch())
        .execute(&self.pool)
        .await?;
        let (node_id,): (String,) =
            sqlx::query_as("SELECT node_id FROM node_state WHERE singleton = 1")
                .fetch_one(&self.pool)
                .await?;
        if node_id != self.node_id {
            return Err(StoreError::Config(format!(
                "the database belongs to node {node_id:?} but node.id is {:?}; point database.url at this node's own database",
                self.node_id
            )));
        }
        Ok(())
    }

    /// The connection pool, for tables the store does not own (the audit log
    /// lives in the same database).
    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// Seals and opens the tokens and cursors this node hands out.
    pub fn token_seal(&self) -> &TokenSeal {
        &self.seal
    }

    /// The node this store belongs to.
    pub fn node_id(&self) -> &str {
        &self.node_id
    }

    /// The database this store runs on.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The latest applied migration.
    pub async fn schema_version(&self) -> Result<i64, StoreError> {
        let (version,): (Option<i64>,) =
            sqlx::query_as("SELECT MAX(version) FROM _sqlx_migrations WHERE success = TRUE")
                .fetch_one(&self.pool)
                .await?;
        Ok(version.unwrap_or(0))
    }

    /// After a bulk load: refreshes planner statistics and merges the search
    /// index into one segment.
    pub async fn analyze(&self) -> Result<(), StoreError> {
        match self.backend {
            Backend::Sqlite => self.pool.execute("ANALYZE").await?,
            Backend::Postgres => self.pool.execute("VACUUM ANALYZE").await?,
        };
        if let Some(index) = &self.index {
            index.merge_segments().await?;
        }
        Ok(())
    }

    pub(crate) fn search_index(&self) -> Result<&search::index::SearchIndex, StoreError> {
        self.index.as_deref().ok_or_else(|| {
            StoreError::Unavailable("the search index is not open in this process".into())
        })
    }

    /// Brings the search index up to date with the database: the writes of
    /// other processes (`records load` while the node runs). A node calls it
    /// on a timer; its own writes catch up as they finish.
    pub async fn refresh_search_index(&self) -> Result<(), StoreError> {
        self.search_index()?.catch_up(self, &mut |_, _| {}).await
    }

    /// The change-log sequence number the search index includes, when this
    /// process writes the index: `last_change_seq` minus this is its lag.
    pub async fn indexed_change_seq(&self) -> Option<u64> {
        let index = self.index.as_ref()?;
        index.indexed_seq().await.map(|seq| seq.max(0) as u64)
    }

    /// Rebuilds the search index in `directory` from the database, reporting
    /// (records done, records to do); returns how many records it indexed.
    /// The store must have been opened with [`Store::open_database`], and no
    /// node may be running on the index.
    pub async fn rebuild_search_index(
        &self,
        directory: &std::path::Path,
        progress: &mut (dyn FnMut(u64, u64) + Send),
    ) -> Result<u64, StoreError> {
        search::rebuild_index(self, directory, progress).await
    }

    /// Waits for in-flight queries, releases the search index and closes
    /// every connection.
    pub async fn close(&self) {
        if let Some(index) = &self.index {
            index.close().await;
        }
        self.pool.close().await;
    }
}

/// SQLite creates the file but not its directory; do that for it.
/// The SQLite file that holds the audit log beside the database at `url`
/// (`hung-yen.db` → `hung-yen.audit.db`), attached to every connection as
/// schema `audit`. A separate file, because every commit to a SQLite file
/// makes every other connection drop its page cache: in the records' own
/// file, an audit entry per request would cost each search its cache. `None`
/// for in-memory databases.
pub fn audit_companion(url: &str) -> Option<std::path::PathBuf> {
    let path = url
        .trim_start_matches("sqlite://")
        .trim_start_matches("sqlite:");
    let path = std::path::Path::new(path.split('?').next().unwrap_or_default());
    if path.as_os_str().is_empty() || path.as_os_str() == ":memory:" {
        return None;
    }
    Some(match path.extension() {
        Some(extension) if extension == "db" => path.with_extension("audit.db"),
        _ => {
            let mut name = path.as_os_str().to_owned();
            name.push(".audit");
            name.into()
        }
    })
}

/// Where a node on the SQLite database at `url` keeps its search index by
/// default: beside the database, `hung-yen.db` → `hung-yen.index`. `None`
/// for PostgreSQL and in-memory databases.
pub fn default_index_dir(url: &str) -> Option<std::path::PathBuf> {
    if Backend::from_url(url).ok()? != Backend::Sqlite {
        return None;
    }
    let path = url
        .trim_start_matches("sqlite://")
        .trim_start_matches("sqlite:");
    let path = std::path::Path::new(path.split('?').next().unwrap_or_default());
    if path.as_os_str().is_empty() || path.as_os_str() == ":memory:" {
        return None;
    }
    Some(path.with_extension("index"))
}

fn create_parent_directory(url: &str) -> Result<(), StoreError> {
    let path = url
        .trim_start_matches("sqlite://")
        .trim_start_matches("sqlite:");
    let path = std::path::Path::new(path.split('?').next().unwrap_or_default());
    if path.as_os_str().is_empty() || path.as_os_str() == ":memory:" {
        return Ok(());
    }
    match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => {
            std::fs::create_dir_all(parent).map_err(|error| {
                StoreError::Config(format!(
                    "cannot create the database directory {}: {error}",
                    parent.display()
                ))
            })
        }
        _ => Ok(()),
    }
}

/// Opens a connection pool to `url_text` (creating a SQLite file and its
/// directory if missing) with the settings every Liên thông database uses:
/// for SQLite, WAL with NORMAL sync and a busy timeout, and the audit
/// companion with FULL sync: an answer leaves only after its audit entry is
/// committed, so that commit must survive a power loss, not just a crash. The store and the
/// gateway's own database both open through here.
pub async fn connect(
    url_text: &str,
    max_connections: u32,
) -> Result<(AnyPool, Backend), StoreError> {
    sqlx::any::install_default_drivers();
    let backend = Backend::from_url(url_text)?;
    let url = match backend {
        Backend::Sqlite => {
            create_parent_directory(url_text)?;
            if url_text.contains('?') {
                url_text.to_owned()
            } else {
                format!("{url_text}?mode=rwc")
            }
        }
        Backend::Postgres => url_text.to_owned(),
    };
    let connect = AnyConnectOptions::from_str(&url)
        .map_err(|error| StoreError::Config(format!("database URL is not valid: {error}")))?
        // Bulk statements are long; slow queries surface in the RPC metrics instead.
        .log_statements(log::LevelFilter::Trace)
        .log_slow_statements(log::LevelFilter::Debug, Duration::from_secs(2));
    let attach_audit = match backend {
        Backend::Sqlite => audit_companion(url_text).map(|path| {
            format!(
                "ATTACH DATABASE '{}' AS audit; PRAGMA audit.journal_mode = WAL; \
                 PRAGMA audit.synchronous = FULL;",
                path.display().to_string().replace('\'', "''")
            )
        }),
        Backend::Postgres => None,
    };
    let pool = AnyPoolOptions::new()
        .max_connections(max_connections.max(1))
        .acquire_timeout(Duration::from_secs(10))
        .after_connect(move |connection, _| {
            let attach_audit = attach_audit.clone();
            Box::pin(async move {
                if backend == Backend::Sqlite {
                    // WAL lets searches run while a write commits; NORMAL sync is
                    // durable across process crashes in WAL mode.
                    connection
                        .execute(
                            "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; \
                                 PRAGMA busy_timeout = 10000; PRAGMA cache_size = -65536; \
                                 PRAGMA mmap_size = 1073741824; \
                                 PRAGMA temp_store = MEMORY;",
                        )
                        .await?;
                }
                if let Some(attach) = attach_audit {
                    connection.execute(sqlx::AssertSqlSafe(attach)).await?;
                }
                Ok(())
            })
        })
        .connect_with(connect)
        .await
        .map_err(|error| StoreError::Unavailable(format!("cannot open the database: {error}")))?;
    Ok((pool, backend))
}

/// Current time as RFC 3339 UTC with seconds, the form records carry.
pub(crate) fn now_rfc3339() -> String {
    humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string()
}
