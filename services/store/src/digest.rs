//! Digests of (id, version) per id range, computed the same way over a
//! node's shared records (the origin) and over its mirrors of that origin
//! (the follower), so that the two can find where they differ without
//! sending the records.

use lienthong_records::RecordKind;
use sqlx::AssertSqlSafe;

use crate::writes::placeholder;
use crate::{Backend, Store, StoreError};

/// Ids from `from` (included) to `to` (excluded), in byte order; an empty
/// bound is open.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IdRange {
    pub from: String,
    pub to: String,
}

impl IdRange {
    /// Every id.
    pub fn all() -> IdRange {
        IdRange::default()
    }

    pub fn contains(&self, id: &str) -> bool {
        id >= self.from.as_str() && (self.to.is_empty() || id < self.to.as_str())
    }
}

/// The count and hex SHA-256 over "id\tversion\n" of `entries`, which must
/// be in id order.
pub fn digest(entries: &[(String, u64)]) -> (u64, String) {
    let mut context = ring::digest::Context::new(&ring::digest::SHA256);
    for (id, version) in entries {
        context.update(format!("{id}\t{version}\n").as_bytes());
    }
    let hash = context
        .finish()
        .as_ref()
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect();
    (entries.len() as u64, hash)
}

impl Store {
    /// (id, version) of the live, shareable records of `kind` in `range`, in
    /// id order: what a follower of this node mirrors.
    pub async fn shared_versions(
        &self,
        kind: RecordKind,
        range: &IdRange,
    ) -> Result<Vec<(String, u64)>, StoreError> {
        self.versions_in(
            "records",
            "shareable = 1 AND deleted = 0",
            None,
            kind,
            range,
        )
        .await
    }

    /// (id, version) of the records of `kind` mirrored from `origin` in
    /// `range`, in id order.
    pub async fn mirror_versions(
        &self,
        origin: &str,
        kind: RecordKind,
        range: &IdRange,
    ) -> Result<Vec<(String, u64)>, StoreError> {
        self.versions_in(
            "mirrors",
            "deleted = 0 AND origin = ",
            Some(origin),
            kind,
            range,
        )
        .await
    }

    async fn versions_in(
        &self,
        table: &str,
        condition: &str,
        origin: Option<&str>,
        kind: RecordKind,
        range: &IdRange,
    ) -> Result<Vec<(String, u64)>, StoreError> {
        let id = bytewise(self.backend, "id");
        let mut n = 0;
        let mut next = || {
            n += 1;
            placeholder(self.backend, n)
        };
        let mut sql = format!("SELECT id, version FROM {table} WHERE {condition}");
        if origin.is_some() {
            sql.push_str(&next());
        }
        sql.push_str(&format!(" AND kind = {} AND {id} >= {}", next(), next()));
        if !range.to.is_empty() {
            sql.push_str(&format!(" AND {id} < {}", next()));
        }
        sql.push_str(&format!(" ORDER BY {id}"));
        let mut query = sqlx::query_as::<_, (String, i64)>(AssertSqlSafe(sql));
        if let Some(origin) = origin {
            query = query.bind(origin.to_owned());
        }
        query = query.bind(kind.code()).bind(range.from.clone());
        if !range.to.is_empty() {
            query = query.bind(range.to.clone());
        }
        let mut rows: Vec<(String, u64)> = query
            .fetch_all(&self.pool)
            .await?
            .into_iter()
            .map(|(id, version)| (id, version as u64))
            .collect();
        // Byte order on both backends, whatever the database's collation.
        rows.sort_unstable();
        Ok(rows)
    }
}

/// `column` compared and ordered byte by byte.
fn bytewise(backend: Backend, column: &str) -> String {
    match backend {
        Backend::Sqlite => column.to_owned(),
        Backend::Postgres => format!("{column} COLLATE \"C\""),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_digest_depends_on_every_id_and_version() {
        let base = vec![("a:project:1".to_owned(), 1), ("a:project:2".to_owned(), 3)];
        let (count, hash) = digest(&base);
        assert_eq!(count, 2);
        let mut newer = base.clone();
        newer[1].1 = 4;
        assert_ne!(digest(&newer).1, hash);
        assert_ne!(digest(&base[..1]).1, hash);
        assert_eq!(digest(&base).1, hash);
        assert!(
            IdRange {
                from: "a:project:1".into(),
                to: "a:project:2".into()
            }
            .contains("a:project:1")
        );
        assert!(
            !IdRange {
                from: "a:project:1".into(),
                to: "a:project:2".into()
            }
            .contains("a:project:2")
        );
    }
}
