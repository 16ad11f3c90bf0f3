//! How each backend keeps a record's body, the one column that holds the
//! whole record:
//!
//! - **SQLite**: protobuf bytes (`BLOB`), the smallest form, for the
//!   embedded default where disk matters most.
//! - **PostgreSQL**: the protobuf JSON mapping in a `jsonb` column, so that
//!   a DBA and reporting tools (Metabase, Excel over ODBC) read records with
//!   plain SQL, directly or through the per-kind `report_*` views
//!   (migration 0006).
//!
//! Every statement that reads or writes `body` takes its SQL fragment and its
//! value from here, so the two forms never leak into the rest of the store.

use lienthong_records::{AnyRecord, RecordKind};
use sqlx::any::{AnyArguments, AnyRow};
use sqlx::query::Query;
use sqlx::{Any, Row};

use crate::{Backend, StoreError};

/// A body encoded for the backend's `body` column.
pub(crate) enum StoredBody {
    Protobuf(Vec<u8>),
    Json(String),
}

impl StoredBody {
    /// Fails (on PostgreSQL) for a record holding an enum value this
    /// version does not know; such a record is refused, never stored.
    pub(crate) fn encode(backend: Backend, record: &AnyRecord) -> Result<StoredBody, String> {
        match backend {
            Backend::Sqlite => Ok(StoredBody::Protobuf(record.encode())),
            Backend::Postgres => record
                .to_json()
                .map(StoredBody::Json)
                .map_err(|error| format!("record {}: {error}", record.id())),
        }
    }

    /// Binds the body as the next parameter of `query`.
    pub(crate) fn bind<'q>(
        &'q self,
        query: Query<'q, Any, AnyArguments>,
    ) -> Query<'q, Any, AnyArguments> {
        match self {
            StoredBody::Protobuf(bytes) => query.bind(bytes.as_slice()),
            StoredBody::Json(text) => query.bind(text.as_str()),
        }
    }
}

impl Backend {
    /// The select-list item that reads `body` in a form the driver decodes
    /// (sqlx's `Any` driver has no `jsonb` type, so PostgreSQL sends text).
    pub(crate) fn body_column(self) -> &'static str {
        match self {
            Backend::Sqlite => "body",
            Backend::Postgres => "body::text AS body",
        }
    }

    /// `SET` clause of a mirror tombstone: deleted, its body emptied (a
    /// withdrawn record is not kept), stamped with the sequence number
    /// `seq` (a placeholder in the statement's own style).
    pub(crate) fn mirror_tombstone(self, seq: &str) -> String {
        match self {
            Backend::Sqlite => format!("deleted = 1, body = X'', seq = {seq}"),
            Backend::Postgres => format!("deleted = 1, body = '{{}}'::jsonb, seq = {seq}"),
        }
    }

    /// The placeholder that writes parameter `n` into `body`.
    pub(crate) fn body_placeholder(self, n: usize) -> String {
        match self {
            Backend::Sqlite => "?".to_owned(),
            Backend::Postgres => format!("CAST(${n} AS jsonb)"),
        }
    }

    /// Decodes the `body` column of `row` (selected with
    /// [`Backend::body_column`]): `None` for a tombstone.
    pub(crate) fn read_body(
        self,
        row: &AnyRow,
        kind: RecordKind,
    ) -> Result<Option<AnyRecord>, StoreError> {
        match self {
            Backend::Sqlite => match row.try_get::<Option<Vec<u8>>, _>("body")? {
                Some(bytes) => Ok(Some(AnyRecord::decode(kind, &bytes)?)),
                None => Ok(None),
            },
            Backend::Postgres => match row.try_get::<Option<String>, _>("body")? {
                Some(json) => Ok(Some(AnyRecord::from_json(kind, &json)?)),
                None => Ok(None),
            },
        }
    }
}

impl From<lienthong_records::JsonBodyError> for StoreError {
    fn from(error: lienthong_records::JsonBodyError) -> Self {
        tracing::error!(%error, "stored record body does not decode");
        StoreError::Internal
    }
}

/// Converts bodies that an earlier version kept as protobuf bytes
/// (`body_protobuf`, left by migration 0006) into `jsonb`, then drops that
/// column. One transaction: a crash leaves the bytes to convert next time.
pub(crate) async fn convert_protobuf_bodies(pool: &sqlx::AnyPool) -> Result<(), StoreError> {
    const LEFT_BY_MIGRATION: &str = "SELECT count(*) FROM information_schema.columns \
         WHERE table_schema = current_schema() AND table_name = 'records' \
         AND column_name = 'body_protobuf'";
    let left: i64 = sqlx::query_scalar(LEFT_BY_MIGRATION)
        .fetch_one(pool)
        .await?;
    if left == 0 {
        return Ok(());
    }
    let mut tx = pool.begin().await?;
    // Another process opening the same database waits here, then finds the
    // column gone.
    sqlx::query("LOCK TABLE records IN EXCLUSIVE MODE")
        .execute(&mut *tx)
        .await?;
    let left: i64 = sqlx::query_scalar(LEFT_BY_MIGRATION)
        .fetch_one(&mut *tx)
        .await?;
    if left == 0 {
        return Ok(());
    }
    let mut converted = 0u64;
    loop {
        let rows = sqlx::query(
            "SELECT doc, kind, body_protobuf FROM records WHERE body_protobuf IS NOT NULL \
             ORDER BY doc LIMIT 1000",
        )
        .fetch_all(&mut *tx)
        .await?;
        if rows.is_empty() {
            break;
        }
        for row in rows {
            let kind = crate::reads::kind_from_code(row.try_get("kind")?)?;
            let bytes: Vec<u8> = row.try_get("body_protobuf")?;
            let json = AnyRecord::decode(kind, &bytes)?.to_json()?;
            sqlx::query(
                "UPDATE records SET body = CAST($1 AS jsonb), body_protobuf = NULL WHERE doc = $2",
            )
            .bind(json)
            .bind(row.try_get::<i64, _>("doc")?)
            .execute(&mut *tx)
            .await?;
            converted += 1;
        }
    }
    sqlx::query("ALTER TABLE records DROP COLUMN body_protobuf")
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    tracing::info!(
        converted,
        "record bodies converted to jsonb; records are readable with plain SQL"
    );
    Ok(())
}
