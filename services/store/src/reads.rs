//! Reads by id, counts, the change log and whole-store iteration for dumps.

use lienthong_records::{AnyRecord, RecordKind};
use sqlx::{AssertSqlSafe, Row};

use crate::{Store, StoreError};

/// A live record and whether it may leave the node.
#[derive(Debug, Clone)]
pub struct StoredRecord {
    pub record: AnyRecord,
    /// Visibility public or federation, and classification bình thường.
    pub shareable: bool,
}

/// Live records per kind.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RecordCounts {
    pub organizations: u64,
    pub experts: u64,
    pub projects: u64,
    pub publications: u64,
}

impl RecordCounts {
    /// The count of one kind.
    pub fn of(&self, kind: RecordKind) -> u64 {
        match kind {
            RecordKind::Organization => self.organizations,
            RecordKind::Expert => self.experts,
            RecordKind::Project => self.projects,
            RecordKind::Publication => self.publications,
        }
    }
}

/// One entry of the change log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    /// Increasing per node, in commit order.
    pub seq: u64,
    pub record_id: String,
    pub kind: RecordKind,
    /// The record's version after the change.
    pub version: u64,
    /// Whether the change left a tombstone.
    pub deleted: bool,
    /// RFC 3339 UTC.
    pub changed_at: String,
}

impl Store {
    /// The live record with this id, or `None` (also for tombstones).
    pub async fn get(&self, id: &str) -> Result<Option<StoredRecord>, StoreError> {
        let sql = format!(
            "SELECT kind, shareable, {} FROM records WHERE id = $1 AND deleted = 0",
            self.backend.body_column()
        );
        let row = sqlx::query(AssertSqlSafe(sql))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        let Some(row) = row else { return Ok(None) };
        let kind = kind_from_code(row.try_get("kind")?)?;
        let Some(record) = self.backend.read_body(&row, kind)? else {
            return Ok(None);
        };
        Ok(Some(StoredRecord {
            record,
            shareable: row.try_get::<i64, _>("shareable")? != 0,
        }))
    }

    /// The live records among `ids`, by id (tombstones and unknown ids are
    /// absent). For writers that merge into what is stored, a batch at a
    /// time.
    pub async fn get_many(
        &self,
        ids: &[&str],
    ) -> Result<std::collections::HashMap<String, AnyRecord>, StoreError> {
        let mut found = std::collections::HashMap::with_capacity(ids.len());
        for chunk in ids.chunks(500) {
            let sql = format!(
                "SELECT id, kind, {} FROM records WHERE id IN ({}) AND deleted = 0",
                self.backend.body_column(),
                crate::writes::numbered_placeholders(self.backend, 1, chunk.len())
            );
            let mut query = sqlx::query(AssertSqlSafe(sql));
            for id in chunk {
                query = query.bind(*id);
            }
            for row in query.fetch_all(&self.pool).await? {
                let kind = kind_from_code(row.try_get("kind")?)?;
                if let Some(record) = self.backend.read_body(&row, kind)? {
                    found.insert(row.try_get("id")?, record);
                }
            }
        }
        Ok(found)
    }

    /// Which of `ids` name deleted records (tombstones): what a writer that
    /// derives ids must not bring back by accident.
    pub async fn tombstones_among(
        &self,
        ids: &[&str],
    ) -> Result<std::collections::HashSet<String>, StoreError> {
        let mut found = std::collections::HashSet::new();
        for chunk in ids.chunks(500) {
            let sql = format!(
                "SELECT id FROM records WHERE id IN ({}) AND deleted = 1",
                crate::writes::numbered_placeholders(self.backend, 1, chunk.len())
            );
            let mut query = sqlx::query_as::<_, (String,)>(AssertSqlSafe(sql));
            for id in chunk {
                query = query.bind(*id);
            }
            found.extend(
                query
                    .fetch_all(&self.pool)
                    .await?
                    .into_iter()
                    .map(|(id,)| id),
            );
        }
        Ok(found)
    }

    /// Which of `ids` name live, shareable records of one of `kinds`: the
    /// references a federation peer may be shown (see the node's disclosure
    /// decision).
    pub async fn visible_among(
        &self,
        ids: &[&str],
        kinds: &std::collections::BTreeSet<RecordKind>,
    ) -> Result<std::collections::HashSet<String>, StoreError> {
        let mut visible = std::collections::HashSet::new();
        let mut wanted: Vec<&str> = ids
            .iter()
            .copied()
            .filter(|id| {
                id.parse::<lienthong_records::RecordId>()
                    .is_ok_and(|parsed| kinds.contains(&parsed.kind))
            })
            .collect();
        wanted.sort_unstable();
        wanted.dedup();
        for chunk in wanted.chunks(500) {
            let list: Vec<String> = (1..=chunk.len())
                .map(|n| crate::writes::placeholder(self.backend, n))
                .collect();
            let sql = format!(
                "SELECT id, kind FROM records WHERE id IN ({}) AND shareable = 1 AND deleted = 0",
                list.join(", ")
            );
            let mut query = sqlx::query_as::<_, (String, i64)>(sqlx::AssertSqlSafe(sql));
            for id in chunk {
                query = query.bind(*id);
            }
            for (id, kind) in query.fetch_all(&self.pool).await? {
                if RecordKind::from_code(kind).is_some_and(|kind| kinds.contains(&kind)) {
                    visible.insert(id);
                }
            }
        }
        Ok(visible)
    }

    /// Live records per kind; with `shareable_only`, only those that may leave
    /// the node.
    pub async fn counts(&self, shareable_only: bool) -> Result<RecordCounts, StoreError> {
        let rows: Vec<(i64, i64)> = sqlx::query_as(
            "SELECT kind, COUNT(*) FROM records WHERE deleted = 0 AND shareable >= $1 GROUP BY kind",
        )
        .bind(i64::from(shareable_only))
        .fetch_all(&self.pool)
        .await?;
        let mut counts = RecordCounts::default();
        for (kind, count) in rows {
            let count = count as u64;
            match RecordKind::from_code(kind) {
                Some(RecordKind::Organization) => counts.organizations = count,
                Some(RecordKind::Expert) => counts.experts = count,
                Some(RecordKind::Project) => counts.projects = count,
                Some(RecordKind::Publication) => counts.publications = count,
                None => tracing::warn!(kind, "unknown record kind in the database"),
            }
        }
        Ok(counts)
    }

    /// The latest change-log sequence number (0 for an empty store).
    pub async fn last_change_seq(&self) -> Result<u64, StoreError> {
        let (seq,): (i64,) = sqlx::query_as("SELECT last_seq FROM node_state WHERE singleton = 1")
            .fetch_one(&self.pool)
            .await?;
        Ok(seq as u64)
    }

    /// How many changes a federation peer granted `kinds` has been able to
    /// see: writes that left a shareable record, and writes or deletions that
    /// withdrew one. Changes to hidden records, or to kinds not granted,
    /// neither move nor count in it, so watching it reveals nothing about
    /// them.
    pub async fn last_shareable_change_seq(&self, kinds: &[RecordKind]) -> Result<u64, StoreError> {
        let rows: Vec<(i64, i64)> = sqlx::query_as("SELECT kind, last FROM shared_changes")
            .fetch_all(&self.pool)
            .await?;
        Ok(rows
            .into_iter()
            .filter(|(kind, _)| {
                RecordKind::from_code(*kind).is_some_and(|kind| kinds.contains(&kind))
            })
            .map(|(_, last)| last.max(0) as u64)
            .sum())
    }

    /// Up to `limit` change-log entries with sequence numbers above `after`, in
    /// order. Sequence order is commit order, so a reader that resumes from the
    /// last sequence it saw misses nothing.
    pub async fn changes(&self, after: u64, limit: u32) -> Result<Vec<Change>, StoreError> {
        let rows = sqlx::query(
            "SELECT seq, record_id, kind, version, deleted, changed_at FROM changes WHERE seq > $1 ORDER BY seq LIMIT $2",
        )
        .bind(after as i64)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(Change {
                    seq: row.try_get::<i64, _>("seq")? as u64,
                    record_id: row.try_get("record_id")?,
                    kind: kind_from_code(row.try_get("kind")?)?,
                    version: row.try_get::<i64, _>("version")? as u64,
                    deleted: row.try_get::<i64, _>("deleted")? != 0,
                    changed_at: row.try_get("changed_at")?,
                })
            })
            .collect()
    }

    /// Up to `limit` live records of `kind` after the internal position
    /// `after` (start with 0), and the position to continue from. For dumps:
    /// every record is visited once, in storage order.
    pub async fn scan(
        &self,
        kind: RecordKind,
        after: i64,
        limit: u32,
    ) -> Result<(Vec<AnyRecord>, i64), StoreError> {
        let sql = format!(
            "SELECT doc, {} FROM records WHERE kind = $1 AND doc > $2 AND deleted = 0 ORDER BY doc LIMIT $3",
            self.backend.body_column()
        );
        let rows = sqlx::query(AssertSqlSafe(sql))
            .bind(kind.code())
            .bind(after)
            .bind(i64::from(limit))
            .fetch_all(&self.pool)
            .await?;
        let mut last = after;
        let mut records = Vec::with_capacity(rows.len());
        for row in rows {
            last = row.try_get("doc")?;
            records.extend(self.backend.read_body(&row, kind)?);
        }
        Ok((records, last))
    }
}

pub(crate) fn kind_from_code(code: i64) -> Result<RecordKind, StoreError> {
    RecordKind::from_code(code).ok_or_else(|| {
        tracing::error!(code, "unknown record kind in the database");
        StoreError::Internal
    })
}
