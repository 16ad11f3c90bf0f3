//! The change feed as the store keeps it: the records changed after a point
//! in the change log, each at its latest version, in change order. What a
//! peer may see of them is the node's disclosure decision; the store only
//! keeps records that never were shareable out of every feed, even as
//! deletions (`shared_once`, migration 0006/0007).

use std::collections::BTreeSet;

use lienthong_records::{AnyRecord, RecordKind};
use sqlx::{AssertSqlSafe, Row};

use crate::writes::{numbered_placeholders, placeholder};
use crate::{Store, StoreError};

/// One record's latest change.
#[derive(Debug, Clone)]
pub struct FeedEntry {
    /// Position in the change log; feeds resume after it.
    pub seq: i64,
    pub id: String,
    pub kind: RecordKind,
    pub version: u64,
    /// RFC 3339 UTC.
    pub changed_at: String,
    /// The record when it is live and shareable; `None` when it is deleted
    /// or hidden (internal, classified), which peers see as a deletion.
    pub record: Option<AnyRecord>,
}

impl Store {
    /// Up to `limit` records of `kinds` whose latest change comes after
    /// `after`, in change order. Records that never were shareable are left
    /// out without a trace.
    pub async fn feed_after(
        &self,
        after: i64,
        kinds: &BTreeSet<RecordKind>,
        limit: u32,
    ) -> Result<Vec<FeedEntry>, StoreError> {
        if kinds.is_empty() || limit == 0 {
            return Ok(Vec::new());
        }
        // Ordered ranges of `records_feed_by_kind`, whatever the planner's
        // statistics say of a table just loaded (a filter on several kinds
        // over one range could sort every later change of the log, for
        // every batch). Several kinds: first the batch's last position, from
        // the index alone (each kind's first `limit` positions, merged), then
        // the rows up to it, which are exactly the batch.
        let codes: Vec<String> = kinds.iter().map(|kind| kind.code().to_string()).collect();
        let columns = format!(
            "feed_seq, id, kind, feed_version, feed_changed_at, deleted, shareable, {}",
            self.backend.body_column()
        );
        let rows = if let [code] = codes.as_slice() {
            let sql = format!(
                "SELECT {columns} FROM records WHERE shared_once = 1 AND kind = {code} \
                 AND feed_seq > {} ORDER BY feed_seq LIMIT {limit}",
                placeholder(self.backend, 1)
            );
            sqlx::query(AssertSqlSafe(sql))
                .bind(after)
                .fetch_all(&self.pool)
                .await?
        } else {
            let per_kind: Vec<String> = codes
                .iter()
                .enumerate()
                .map(|(n, code)| {
                    format!(
                        "SELECT * FROM (SELECT feed_seq FROM records WHERE shared_once = 1 \
                         AND kind = {code} AND feed_seq > {} ORDER BY feed_seq \
                         LIMIT {limit}) AS kind{n}",
                        // One style per statement: sqlx numbers SQLite's
                        // `?` from 1 whatever `$n` came before.
                        placeholder(self.backend, n + 1),
                    )
                })
                .collect();
            let sql = format!(
                "SELECT MAX(feed_seq) FROM ({} ORDER BY feed_seq LIMIT {limit}) AS batch",
                per_kind.join(" UNION ALL ")
            );
            let mut query = sqlx::query_as::<_, (Option<i64>,)>(AssertSqlSafe(sql));
            for _ in &codes {
                query = query.bind(after);
            }
            let Some(last) = query.fetch_one(&self.pool).await?.0 else {
                return Ok(Vec::new());
            };
            let sql = format!(
                "SELECT {columns} FROM records WHERE shared_once = 1 AND kind IN ({}) \
                 AND feed_seq > {} AND feed_seq <= {} ORDER BY feed_seq",
                codes.join(", "),
                placeholder(self.backend, 1),
                placeholder(self.backend, 2)
            );
            sqlx::query(AssertSqlSafe(sql))
                .bind(after)
                .bind(last)
                .fetch_all(&self.pool)
                .await?
        };
        rows.iter().map(|row| self.feed_entry(row)).collect()
    }

    /// The current state of the records named in `ids` (of `kinds`), in
    /// change order, as [`Store::feed_after`] would deliver them: for
    /// repairing a follower's mirror. Records never shared are left out.
    pub async fn feed_of(
        &self,
        ids: &[String],
        kinds: &BTreeSet<RecordKind>,
    ) -> Result<Vec<FeedEntry>, StoreError> {
        if kinds.is_empty() || ids.is_empty() {
            return Ok(Vec::new());
        }
        let sql = format!(
            "SELECT feed_seq, id, kind, feed_version, feed_changed_at, deleted, shareable, {} \
             FROM records WHERE shared_once = 1 AND id IN ({}) AND kind IN ({}) ORDER BY feed_seq",
            self.backend.body_column(),
            numbered_placeholders(self.backend, 1, ids.len()),
            numbered_placeholders(self.backend, ids.len() + 1, kinds.len()),
        );
        let mut query = sqlx::query(AssertSqlSafe(sql));
        for id in ids {
            query = query.bind(id.clone());
        }
        for kind in kinds {
            query = query.bind(kind.code());
        }
        let rows = query.fetch_all(&self.pool).await?;
        rows.iter().map(|row| self.feed_entry(row)).collect()
    }

    fn feed_entry(&self, row: &sqlx::any::AnyRow) -> Result<FeedEntry, StoreError> {
        let kind = crate::reads::kind_from_code(row.try_get("kind")?)?;
        let live =
            row.try_get::<i64, _>("deleted")? == 0 && row.try_get::<i64, _>("shareable")? != 0;
        Ok(FeedEntry {
            seq: row.try_get("feed_seq")?,
            id: row.try_get("id")?,
            kind,
            version: row.try_get::<i64, _>("feed_version")? as u64,
            changed_at: row.try_get("feed_changed_at")?,
            record: if live {
                self.backend.read_body(row, kind)?
            } else {
                None
            },
        })
    }

    /// How many records of `kinds` a feed after `after` still has to deliver,
    /// and when the newest of them changed.
    pub async fn feed_backlog(
        &self,
        after: i64,
        kinds: &BTreeSet<RecordKind>,
    ) -> Result<(u64, Option<String>), StoreError> {
        let mut count = 0;
        let mut newest: Option<String> = None;
        // Per kind, one range of `records_feed_by_kind`, which holds the
        // change times too.
        for kind in kinds {
            let (kind_count, kind_newest): (i64, Option<String>) = sqlx::query_as(
                "SELECT COUNT(*), MAX(feed_changed_at) FROM records \
                 WHERE shared_once = 1 AND kind = $1 AND feed_seq > $2",
            )
            .bind(kind.code())
            .bind(after)
            .fetch_one(&self.pool)
            .await?;
            count += kind_count as u64;
            if let Some(changed_at) = kind_newest
                && newest.as_ref().is_none_or(|newest| changed_at > *newest)
            {
                newest = Some(changed_at);
            }
        }
        Ok((count, newest))
    }

    /// The feed epoch: changes when the change log cannot be trusted to
    /// continue where a subscriber left off.
    pub async fn feed_epoch(&self) -> Result<String, StoreError> {
        let (epoch,): (String,) =
            sqlx::query_as("SELECT feed_epoch FROM node_state WHERE singleton = 1")
                .fetch_one(&self.pool)
                .await?;
        Ok(epoch)
    }

    /// Starts a new feed epoch (after a restore from a backup, say), so that
    /// every subscriber syncs again from the start. Returns it.
    pub async fn start_new_feed_epoch(&self, reason: &str) -> Result<String, StoreError> {
        let epoch = new_feed_epoch();
        sqlx::query("UPDATE node_state SET feed_epoch = $1 WHERE singleton = 1")
            .bind(&epoch)
            .execute(&self.pool)
            .await?;
        tracing::warn!(%epoch, reason, "new change-feed epoch: subscribers sync again from the start");
        Ok(epoch)
    }
}

/// A fresh random epoch id.
pub(crate) fn new_feed_epoch() -> String {
    crate::token_seal::TokenSeal::random_key()[..16]
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}
