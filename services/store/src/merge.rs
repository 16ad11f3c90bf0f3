//! Joining two records found to be one (the same person imported twice
//! under different keys): the kept record takes the merged content, the
//! other becomes a tombstone that names it, in one transaction under the
//! write lock. Both must be at the versions the merge was reviewed at, so
//! a record changed since is never merged over.

use lienthong_records::validation::validate;
use lienthong_records::{AnyRecord, RecordId};
use sqlx::Row;

use crate::writes::{DeleteOutcome, LockedWrite, PlannedUpsert, UpsertOutcome};
use crate::{Store, StoreError};

/// A reviewed merge: the kept record's new content, and both records'
/// versions as reviewed.
#[derive(Debug, Clone)]
pub struct MergePlan {
    pub kept: AnyRecord,
    pub kept_version: u64,
    pub dropped_id: String,
    pub dropped_version: u64,
}

/// Where a merged record went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MergedInto {
    pub kept: String,
    /// Whether the merged record was shareable with peers (not internal,
    /// not classified) when it was merged.
    pub was_shareable: bool,
}

/// What a merge wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Merged {
    /// The kept record's version after the merge (the same when its content
    /// did not change).
    pub kept_version: u64,
    /// The tombstone's version.
    pub dropped_version: u64,
}

impl Store {
    /// Applies a reviewed merge.
    pub async fn merge(&self, plan: MergePlan) -> Result<Merged, StoreError> {
        let kept_id = plan.kept.id().to_owned();
        if kept_id == plan.dropped_id {
            return Err(StoreError::InvalidArgument(
                "a record cannot be merged into itself".into(),
            ));
        }
        if plan.kept_version == 0 || plan.dropped_version == 0 {
            return Err(StoreError::InvalidArgument(
                "both records must be live, at the versions the merge was reviewed at".into(),
            ));
        }
        validate(&plan.kept, self.node_id())?;
        let dropped: RecordId = plan
            .dropped_id
            .parse()
            .map_err(|error| StoreError::InvalidArgument(format!("--drop: {error}")))?;
        if dropped.node != self.node_id() || dropped.kind != plan.kept.kind() {
            return Err(StoreError::InvalidArgument(format!(
                "{} is not a {} of this node ({}); only records of one kind held here merge",
                plan.dropped_id,
                plan.kept.kind(),
                self.node_id()
            )));
        }
        let mut locked = LockedWrite::begin(self).await?;
        let written = self
            .upsert_locked(
                &mut locked,
                vec![PlannedUpsert {
                    index: 0,
                    record: plan.kept,
                    expected: Some(plan.kept_version),
                }],
            )
            .await?;
        let kept_version = match written.first().map(|(_, outcome)| *outcome) {
            Some(
                UpsertOutcome::Created(version)
                | UpsertOutcome::Updated(version)
                | UpsertOutcome::Unchanged(version),
            ) => version,
            Some(UpsertOutcome::Conflict { current }) => {
                return Err(changed_since(&kept_id, plan.kept_version, current));
            }
            None => return Err(StoreError::Internal),
        };
        let dropped_version = match self
            .delete_locked(&mut locked, &plan.dropped_id, Some(plan.dropped_version))
            .await?
        {
            DeleteOutcome::Deleted(version) => version,
            DeleteOutcome::NotFound => return Err(StoreError::NotFound(plan.dropped_id)),
            DeleteOutcome::Conflict { current } => {
                return Err(changed_since(
                    &plan.dropped_id,
                    plan.dropped_version,
                    current,
                ));
            }
        };
        // Records merged into the dropped one earlier now lead to the kept
        // one: a lookup takes one step, never a chain.
        sqlx::query(
            "UPDATE records SET merged_into = $1 WHERE deleted = 1 AND (id = $2 OR merged_into = $2)",
        )
            .bind(&kept_id)
            .bind(&plan.dropped_id)
            .execute(&mut *locked.tx)
            .await?;
        locked.commit().await?;
        self.index_committed_writes().await;
        Ok(Merged {
            kept_version,
            dropped_version,
        })
    }

    /// The record `id` was merged into, when it is the tombstone of a merge,
    /// and whether `id` was shareable when it was merged (only those who
    /// could see it may be led to where it went).
    pub async fn merged_into(&self, id: &str) -> Result<Option<MergedInto>, StoreError> {
        let row = sqlx::query(
            "SELECT merged_into, shareable FROM records WHERE id = $1 AND deleted = 1 AND merged_into IS NOT NULL",
        )
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        Ok(match row {
            Some(row) => Some(MergedInto {
                kept: row.try_get("merged_into")?,
                was_shareable: row.try_get::<i64, _>("shareable")? != 0,
            }),
            None => None,
        })
    }
}

fn changed_since(id: &str, reviewed: u64, current: u64) -> StoreError {
    let now = if current == 0 {
        "is deleted".to_owned()
    } else {
        format!("is at version {current}")
    };
    StoreError::Conflict(format!(
        "{id} changed since the merge was reviewed (reviewed at version {reviewed}, now {now}); review it again"
    ))
}
