//! Writes from a department's own management system (the node's Ingest
//! API, docs/ingest.md): batches of upserts or deletions, each checked
//! against the version its sender expects, answered record by record, and
//! safe to retry under an idempotency key.
//!
//! A batch runs in one transaction under the node's write lock, so the
//! expected versions are compared with the records as they stand when the
//! batch writes, and two writers expecting the same version cannot both win.
//! The answer to a keyed batch is stored in that same transaction: a retry
//! after a lost answer (or after a crash) either finds it and writes nothing,
//! or finds nothing because nothing was written.

use lienthong_records::validation::validate;
use lienthong_records::{AnyRecord, RecordId};
use serde::{Deserialize, Serialize};
use sqlx::Row;

use crate::writes::{DeleteOutcome, LockedWrite, PlannedUpsert, UpsertOutcome};
use crate::{Store, StoreError, now_rfc3339};

/// How long an idempotency key is remembered; a retry later than this is a
/// new request.
pub const IDEMPOTENCY_KEY_LIFETIME: std::time::Duration = std::time::Duration::from_secs(24 * 3600);

/// What a batch writes: records, or deletions of records by id.
#[derive(Debug, Clone)]
pub enum IngestWrites {
    Upsert(Vec<IngestUpsert>),
    Delete(Vec<IngestDelete>),
}

/// One record to create or update.
#[derive(Debug, Clone)]
pub struct IngestUpsert {
    pub record: AnyRecord,
    /// Write only if the stored record is at this version (0: there is no
    /// live record with this id, so only a creation passes).
    pub expected_version: Option<u64>,
}

/// One record to delete.
#[derive(Debug, Clone)]
pub struct IngestDelete {
    pub id: String,
    /// Delete only if the stored record is at this version.
    pub expected_version: Option<u64>,
}

/// A retried request is recognised by its sender and key; `request_digest`
/// (hex SHA-256 of the request) tells a true retry from a reused key.
#[derive(Debug, Clone)]
pub struct Idempotency {
    pub caller: String,
    pub key: String,
    pub request_digest: String,
}

#[derive(Debug, Clone)]
pub struct IngestBatch {
    pub writes: IngestWrites,
    /// All or nothing: if any record fails, none is written.
    pub atomic: bool,
    pub idempotency: Option<Idempotency>,
}

/// How one record of a batch came out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IngestOutcome {
    Created,
    Updated,
    /// Identical to the stored record: nothing written, no new version.
    Unchanged,
    Deleted,
    /// The expected version was not the current one.
    Conflict,
    /// The record (or id) is not valid; `message` says why.
    Invalid,
    /// No live record with this id to delete.
    NotFound,
    /// Valid, but not written: the batch was atomic and another record failed.
    NotApplied,
}

impl IngestOutcome {
    pub fn is_failure(self) -> bool {
        matches!(
            self,
            IngestOutcome::Conflict
                | IngestOutcome::Invalid
                | IngestOutcome::NotFound
                | IngestOutcome::NotApplied
        )
    }
}

/// One record's result, in the order of the batch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IngestResult {
    pub id: String,
    pub outcome: IngestOutcome,
    /// The record's version after the batch: the one written, the unchanged
    /// one, the tombstone's; on a conflict the current version (0: no live
    /// record). 0 otherwise.
    pub version: u64,
    pub message: String,
}

/// The answer to a batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IngestAnswer {
    pub results: Vec<IngestResult>,
    /// The answer stored under the idempotency key, given again; this call
    /// wrote nothing.
    pub replayed: bool,
}

impl Store {
    /// Applies one batch from a department's system. Fails as a whole only
    /// when the database does, or when the idempotency key was used for a
    /// different request ([`StoreError::InvalidArgument`]).
    pub async fn ingest(&self, batch: IngestBatch) -> Result<IngestAnswer, StoreError> {
        let mut locked = LockedWrite::begin(self).await?;
        if let Some(key) = &batch.idempotency
            && let Some(results) = self.remembered_answer(&mut locked, key).await?
        {
            return Ok(IngestAnswer {
                results,
                replayed: true,
            });
        }
        let mut results = match batch.writes {
            IngestWrites::Upsert(upserts) => self.ingest_upserts(&mut locked, upserts).await?,
            IngestWrites::Delete(deletes) => self.ingest_deletes(&mut locked, deletes).await?,
        };
        if batch.atomic
            && let Some(first) = results.iter().position(|r| r.outcome.is_failure())
        {
            for result in &mut results {
                if !result.outcome.is_failure() {
                    result.outcome = IngestOutcome::NotApplied;
                    result.version = 0;
                    result.message = format!(
                        "not written: record {} of the batch failed and the batch is atomic",
                        first + 1
                    );
                }
            }
            // Nothing of the batch is kept, not even its key: a retry is
            // judged afresh.
            drop(locked);
            return Ok(IngestAnswer {
                results,
                replayed: false,
            });
        }
        if let Some(key) = &batch.idempotency {
            let answer = serde_json::to_string(&results).map_err(|error| {
                tracing::error!(%error, "ingest answer does not serialize");
                StoreError::Internal
            })?;
            sqlx::query(
                "INSERT INTO ingest_keys (caller, key, digest, answer, created_at) \
                 VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(&key.caller)
            .bind(&key.key)
            .bind(&key.request_digest)
            .bind(answer)
            .bind(now_rfc3339())
            .execute(&mut *locked.tx)
            .await?;
        }
        locked.commit().await?;
        self.index_committed_writes().await;
        Ok(IngestAnswer {
            results,
            replayed: false,
        })
    }

    /// The answer stored under `key`, after forgetting expired keys; an error
    /// if the key answered a different request.
    async fn remembered_answer(
        &self,
        locked: &mut LockedWrite,
        key: &Idempotency,
    ) -> Result<Option<Vec<IngestResult>>, StoreError> {
        let cutoff = std::time::SystemTime::now() - IDEMPOTENCY_KEY_LIFETIME;
        sqlx::query("DELETE FROM ingest_keys WHERE created_at < $1")
            .bind(humantime::format_rfc3339_seconds(cutoff).to_string())
            .execute(&mut *locked.tx)
            .await?;
        let row = sqlx::query(
            "SELECT digest, answer, created_at FROM ingest_keys WHERE caller = $1 AND key = $2",
        )
        .bind(&key.caller)
        .bind(&key.key)
        .fetch_optional(&mut *locked.tx)
        .await?;
        let Some(row) = row else {
            return Ok(None);
        };
        let digest: String = row.try_get("digest")?;
        if digest != key.request_digest {
            let created_at: String = row.try_get("created_at")?;
            return Err(StoreError::InvalidArgument(format!(
                "idempotency key {:?} was used at {created_at} for a different request; \
                 give each new request a key of its own",
                key.key
            )));
        }
        let answer: String = row.try_get("answer")?;
        serde_json::from_str(&answer).map(Some).map_err(|error| {
            tracing::error!(%error, "stored ingest answer does not parse");
            StoreError::Internal
        })
    }

    async fn ingest_upserts(
        &self,
        locked: &mut LockedWrite,
        upserts: Vec<IngestUpsert>,
    ) -> Result<Vec<IngestResult>, StoreError> {
        let mut results: Vec<IngestResult> = upserts
            .iter()
            .map(|upsert| IngestResult {
                id: upsert.record.id().to_owned(),
                outcome: IngestOutcome::Invalid,
                version: 0,
                message: String::new(),
            })
            .collect();
        let mut planned = Vec::with_capacity(upserts.len());
        for (index, upsert) in upserts.into_iter().enumerate() {
            match validate(&upsert.record, self.node_id()) {
                Ok(_) => planned.push(PlannedUpsert {
                    index,
                    record: upsert.record,
                    expected: upsert.expected_version,
                }),
                Err(error) => results[index].message = error.to_string(),
            }
        }
        for (index, outcome) in self.upsert_locked(locked, planned).await? {
            let result = &mut results[index];
            (result.outcome, result.version) = match outcome {
                UpsertOutcome::Created(version) => (IngestOutcome::Created, version),
                UpsertOutcome::Updated(version) => (IngestOutcome::Updated, version),
                UpsertOutcome::Unchanged(version) => (IngestOutcome::Unchanged, version),
                UpsertOutcome::Conflict { current } => {
                    result.message = conflict_message(current);
                    (IngestOutcome::Conflict, current)
                }
            };
        }
        Ok(results)
    }

    async fn ingest_deletes(
        &self,
        locked: &mut LockedWrite,
        deletes: Vec<IngestDelete>,
    ) -> Result<Vec<IngestResult>, StoreError> {
        let mut results = Vec::with_capacity(deletes.len());
        for delete in deletes {
            let mut result = IngestResult {
                id: delete.id.clone(),
                outcome: IngestOutcome::Invalid,
                version: 0,
                message: String::new(),
            };
            match delete.id.parse::<RecordId>() {
                Err(error) => result.message = format!("id: {error}"),
                Ok(id) if id.node != self.node_id() => {
                    result.message = format!(
                        "id {} belongs to node {}, not to this node ({})",
                        delete.id,
                        id.node,
                        self.node_id()
                    );
                }
                Ok(_) => {
                    match self
                        .delete_locked(locked, &delete.id, delete.expected_version)
                        .await?
                    {
                        DeleteOutcome::Deleted(version) => {
                            result.outcome = IngestOutcome::Deleted;
                            result.version = version;
                        }
                        DeleteOutcome::NotFound => {
                            result.outcome = IngestOutcome::NotFound;
                            result.message = format!("no record with id {}", delete.id);
                        }
                        DeleteOutcome::Conflict { current } => {
                            result.outcome = IngestOutcome::Conflict;
                            result.version = current;
                            result.message = conflict_message(current);
                        }
                    }
                }
            }
            results.push(result);
        }
        Ok(results)
    }
}

fn conflict_message(current: u64) -> String {
    if current == 0 {
        "there is no record with this id (or it was deleted); expect version 0 to create it"
            .to_owned()
    } else {
        format!(
            "the record is at version {current}: it changed since you read it; read it again \
             and send the change with that version"
        )
    }
}
