//! Mirrors: other nodes' records this node follows through their change
//! feeds, kept apart from its own records (table `mirrors`), each tagged with
//! its origin, with one row of sync state per peer (`sync_peers`).
//!
//! A batch from a peer's feed and the cursor after it are applied in one
//! transaction, so a subscriber killed at any point resumes exactly where
//! the last applied batch ended: nothing lost, nothing applied twice. A
//! record whose id names another origin than the peer that sent it, and a
//! version older than the one held, are rejected and reported for the audit
//! log. When a peer's feed restarts (a new epoch), its records are delivered
//! again under a new generation, and what that generation did not deliver is
//! removed once it has caught up.
//!
//! Mirrors are searchable: every mirror transaction takes a change-log
//! number from the node's counters (and so the node's write lock), stamps
//! what it changes with it, and gives each new mirror a position from the
//! same counter as the node's own records. The search index catches up from
//! both tables. A removed mirror stays as a tombstone (`deleted = 1`).

use std::collections::HashMap;

use lienthong_proto::v1 as pb;
use lienthong_records::{AnyRecord, RecordId, RecordKind};
use sqlx::{AssertSqlSafe, Row};

use crate::record_body::StoredBody;
use crate::writes::{
    lock_counters, numbered_placeholders, placeholder, row_placeholders, store_counters,
};
use crate::{Store, StoreError, now_rfc3339};

/// One change from a peer's feed.
#[derive(Debug, Clone)]
pub struct MirrorChange {
    /// The record; for a deletion only its id and version count.
    pub record: AnyRecord,
    pub deleted: bool,
    /// When the origin made the change, RFC 3339 UTC.
    pub changed_at: String,
}

/// One batch of a peer's feed, as received.
#[derive(Debug, Clone, Default)]
pub struct MirrorBatch {
    pub epoch: String,
    pub restart: bool,
    pub changes: Vec<MirrorChange>,
    pub cursor: String,
    pub caught_up: bool,
    /// Set on the first batch of a call: changes still to come.
    pub backlog: Option<u64>,
    /// Set on the first batch of a call: the origin's newest change.
    pub newest_change_at: Option<String>,
}

/// A change refused, with the reason (for the audit log).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MirrorRejection {
    pub id: String,
    pub reason: String,
}

/// What applying one batch did.
#[derive(Debug, Clone, Default)]
pub struct AppliedBatch {
    pub applied: u64,
    pub rejected: Vec<MirrorRejection>,
    /// Mirrors removed because a restarted sync did not deliver them again.
    pub swept: u64,
    /// Changes the peer still has to send, and how far behind its newest
    /// change the mirror is, after this batch (0 when caught up).
    pub backlog: u64,
    pub lag_seconds: f64,
}

/// Where the sync with one peer stands.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct PeerSync {
    pub peer: String,
    pub epoch: String,
    #[serde(skip)]
    pub cursor: String,
    pub generation: i64,
    /// A restarted sync that has not caught up yet.
    pub sweeping: bool,
    pub applied: u64,
    pub rejected: u64,
    /// Changes the peer still had to send at the last call.
    pub backlog: u64,
    /// When the origin made the newest change applied here.
    pub last_change_at: String,
    /// When the origin made its newest change, as of the last call.
    pub newest_change_at: String,
    pub last_sync_at: String,
    pub caught_up_at: String,
    pub last_error: String,
    /// Records mirrored from this peer now.
    pub mirrored: u64,
}

impl PeerSync {
    /// How far the mirror is behind the peer's newest change, in seconds (0
    /// when caught up).
    pub fn lag_seconds(&self) -> f64 {
        use time::OffsetDateTime;
        use time::format_description::well_known::Rfc3339;
        if self.backlog == 0 {
            return 0.0;
        }
        match (
            OffsetDateTime::parse(&self.last_change_at, &Rfc3339),
            OffsetDateTime::parse(&self.newest_change_at, &Rfc3339),
        ) {
            (Ok(applied), Ok(newest)) => (newest - applied).as_seconds_f64().max(0.0),
            _ => 0.0,
        }
    }
}

/// A mirrored record with where it came from.
#[derive(Debug, Clone, PartialEq)]
pub struct MirroredRecord {
    pub record: AnyRecord,
    pub origin: String,
    pub changed_at: String,
    pub received_at: String,
    pub public: bool,
}

/// Where a mirrored search hit came from, and how fresh it is.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct MirrorSource {
    /// The node that holds the record.
    pub origin: String,
    /// When the origin made the change mirrored here.
    pub changed_at: String,
    /// When the sync with the origin last caught up ("" if never): every
    /// change the origin made before then is reflected here.
    pub synced_at: String,
}

impl From<MirrorSource> for pb::MirrorInfo {
    fn from(source: MirrorSource) -> pb::MirrorInfo {
        pb::MirrorInfo {
            origin_node_id: source.origin,
            changed_at: source.changed_at,
            synced_at: source.synced_at,
        }
    }
}

const PEER_COLUMNS: &str = "peer, epoch, cursor, generation, sweeping, applied, rejected, backlog, \
     last_change_at, newest_change_at, last_sync_at, caught_up_at, last_error";

impl Store {
    /// Applies one batch from `peer`'s feed and the cursor after it, in one
    /// transaction.
    ///
    /// `expected_cursor` is the cursor the batch follows (the call's start,
    /// then the previous batch's). When the stored one differs, another
    /// process applied or reset this peer meanwhile: nothing is applied and
    /// the call must start again from the stored cursor.
    ///
    /// The batch reaches the search index at the next
    /// [`Store::index_committed_writes`] (or the node's refresh timer).
    pub async fn apply_mirror_batch(
        &self,
        peer: &str,
        expected_cursor: &str,
        batch: MirrorBatch,
    ) -> Result<AppliedBatch, StoreError> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("INSERT INTO sync_peers (peer) VALUES ($1) ON CONFLICT (peer) DO NOTHING")
            .bind(peer)
            .execute(&mut *tx)
            .await?;
        // A no-op update takes the row lock: one applier per peer at a time.
        let (held_cursor, held_epoch, mut generation, mut sweeping, held_backlog): (
            String,
            String,
            i64,
            i64,
            i64,
        ) = sqlx::query_as(
            "UPDATE sync_peers SET peer = peer WHERE peer = $1 \
             RETURNING cursor, epoch, generation, sweeping, backlog",
        )
        .bind(peer)
        .fetch_one(&mut *tx)
        .await?;
        if held_cursor != expected_cursor {
            return Err(StoreError::Conflict(format!(
                "the sync with {peer} moved on under this call (another process follows it, \
                 or it was reset); starting again from where it stands"
            )));
        }
        if batch.restart || (!held_epoch.is_empty() && held_epoch != batch.epoch) {
            generation += 1;
            sweeping = 1;
        }

        let mut report = AppliedBatch::default();
        let mut stamp = Stamp::default();
        let last_change_at = apply_changes(
            &mut tx,
            &mut stamp,
            self.backend,
            peer,
            &batch.changes,
            generation,
            sweeping == 1,
            &mut report,
        )
        .await?;
        let now = now_rfc3339();
        let caught_up_at = if batch.caught_up { now.as_str() } else { "" };
        if batch.caught_up && sweeping == 1 {
            report.swept =
                remove_mirrors_of(&mut tx, &mut stamp, self.backend, peer, generation).await?;
            sweeping = 0;
        }
        stamp.finish(&mut tx).await?;
        let after: (i64, String, String) = sqlx::query_as(
            "UPDATE sync_peers SET epoch = $1, cursor = $2, generation = $3, sweeping = $4, \
             applied = applied + $5, rejected = rejected + $6, \
             backlog = $7, \
             last_change_at = CASE WHEN $8 > last_change_at THEN $8 ELSE last_change_at END, \
             newest_change_at = CASE WHEN $9 <> '' THEN $9 ELSE newest_change_at END, \
             last_sync_at = $10, \
             caught_up_at = CASE WHEN $11 <> '' THEN $11 ELSE caught_up_at END, \
             last_error = '' WHERE peer = $12 \
             RETURNING backlog, last_change_at, newest_change_at",
        )
        .bind(&batch.epoch)
        .bind(&batch.cursor)
        .bind(generation)
        .bind(sweeping)
        .bind(report.applied as i64)
        .bind(report.rejected.len() as i64)
        .bind(if batch.caught_up {
            0
        } else {
            batch.backlog.map_or_else(
                || (held_backlog - report.applied as i64).max(0),
                |backlog| backlog as i64,
            )
        })
        .bind(&last_change_at)
        .bind(batch.newest_change_at.as_deref().unwrap_or(""))
        .bind(&now)
        .bind(caught_up_at)
        .bind(peer)
        .fetch_one(&mut *tx)
        .await?;
        tx.commit().await?;
        report.backlog = after.0 as u64;
        report.lag_seconds = PeerSync {
            backlog: report.backlog,
            last_change_at: after.1,
            newest_change_at: after.2,
            ..Default::default()
        }
        .lag_seconds();
        Ok(report)
    }

    /// Repairs the mirror of `peer` where it was found to differ from the
    /// peer's catalog: applies `changes` (the current state of records the
    /// peer holds) and removes the mirrors in `remove`, which the peer no
    /// longer shares. The feed's cursor is not touched.
    pub async fn repair_mirrors(
        &self,
        peer: &str,
        changes: &[MirrorChange],
        remove: &[String],
    ) -> Result<AppliedBatch, StoreError> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("INSERT INTO sync_peers (peer) VALUES ($1) ON CONFLICT (peer) DO NOTHING")
            .bind(peer)
            .execute(&mut *tx)
            .await?;
        let (generation,): (i64,) = sqlx::query_as(
            "UPDATE sync_peers SET peer = peer WHERE peer = $1 RETURNING generation",
        )
        .bind(peer)
        .fetch_one(&mut *tx)
        .await?;
        let mut report = AppliedBatch::default();
        let mut stamp = Stamp::default();
        apply_changes(
            &mut tx,
            &mut stamp,
            self.backend,
            peer,
            changes,
            generation,
            false,
            &mut report,
        )
        .await?;
        for chunk in remove.chunks(500) {
            let seq = stamp.seq(&mut tx).await?;
            let sql = format!(
                "UPDATE mirrors SET {} WHERE origin = {} AND deleted = 0 AND id IN ({})",
                self.backend.mirror_tombstone(&placeholder(self.backend, 1)),
                placeholder(self.backend, 2),
                numbered_placeholders(self.backend, 3, chunk.len())
            );
            let mut query = sqlx::query(AssertSqlSafe(sql)).bind(seq).bind(peer);
            for id in chunk {
                query = query.bind(id.as_str());
            }
            report.swept += query.execute(&mut *tx).await?.rows_affected();
        }
        stamp.finish(&mut tx).await?;
        tx.commit().await?;
        self.index_committed_writes().await;
        Ok(report)
    }

    /// Starts the feed of `peer` over from the beginning under a new
    /// generation: what it no longer delivers is removed once it catches up.
    pub async fn restart_peer(&self, peer: &str) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE sync_peers SET cursor = '', generation = generation + 1, sweeping = 1 \
             WHERE peer = $1",
        )
        .bind(peer)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The cursor a sync with `peer` resumes from ("" to start).
    pub async fn peer_cursor(&self, peer: &str) -> Result<String, StoreError> {
        let cursor: Option<(String,)> =
            sqlx::query_as("SELECT cursor FROM sync_peers WHERE peer = $1")
                .bind(peer)
                .fetch_optional(&self.pool)
                .await?;
        Ok(cursor.map(|(cursor,)| cursor).unwrap_or_default())
    }

    /// Records why the last sync with `peer` failed, for `sync status`.
    pub async fn record_sync_error(&self, peer: &str, error: &str) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO sync_peers (peer, last_error) VALUES ($1, $2) \
             ON CONFLICT (peer) DO UPDATE SET last_error = excluded.last_error",
        )
        .bind(peer)
        .bind(error)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Where the sync with each peer stands, by peer id.
    pub async fn peer_syncs(&self) -> Result<Vec<PeerSync>, StoreError> {
        let sql = format!("SELECT {PEER_COLUMNS} FROM sync_peers ORDER BY peer");
        let rows = sqlx::query(AssertSqlSafe(sql))
            .fetch_all(&self.pool)
            .await?;
        let counts: Vec<(String, i64)> = sqlx::query_as(
            "SELECT origin, COUNT(*) FROM mirrors WHERE deleted = 0 GROUP BY origin",
        )
        .fetch_all(&self.pool)
        .await?;
        let counts: HashMap<String, i64> = counts.into_iter().collect();
        rows.iter()
            .map(|row| {
                let peer: String = row.try_get("peer")?;
                Ok(PeerSync {
                    mirrored: counts.get(&peer).copied().unwrap_or(0) as u64,
                    epoch: row.try_get("epoch")?,
                    cursor: row.try_get("cursor")?,
                    generation: row.try_get("generation")?,
                    sweeping: row.try_get::<i64, _>("sweeping")? != 0,
                    applied: row.try_get::<i64, _>("applied")? as u64,
                    rejected: row.try_get::<i64, _>("rejected")? as u64,
                    backlog: row.try_get::<i64, _>("backlog")? as u64,
                    last_change_at: row.try_get("last_change_at")?,
                    newest_change_at: row.try_get("newest_change_at")?,
                    last_sync_at: row.try_get("last_sync_at")?,
                    caught_up_at: row.try_get("caught_up_at")?,
                    last_error: row.try_get("last_error")?,
                    peer,
                })
            })
            .collect()
    }

    /// The sync state of one peer (default when never synced).
    pub async fn peer_sync(&self, peer: &str) -> Result<PeerSync, StoreError> {
        Ok(self
            .peer_syncs()
            .await?
            .into_iter()
            .find(|sync| sync.peer == peer)
            .unwrap_or_else(|| PeerSync {
                peer: peer.to_owned(),
                ..Default::default()
            }))
    }

    /// Forgets `peer`: removes its mirrors and its cursor, so the next sync
    /// starts from the beginning. Returns how many mirrors were removed.
    pub async fn reset_peer(&self, peer: &str) -> Result<u64, StoreError> {
        let mut tx = self.pool.begin().await?;
        let mut stamp = Stamp::default();
        let removed = remove_mirrors_of(&mut tx, &mut stamp, self.backend, peer, i64::MAX).await?;
        stamp.finish(&mut tx).await?;
        sqlx::query("DELETE FROM sync_peers WHERE peer = $1")
            .bind(peer)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        self.index_committed_writes().await;
        Ok(removed)
    }

    /// The mirrored record with this id.
    pub async fn get_mirror(&self, id: &str) -> Result<Option<MirroredRecord>, StoreError> {
        let sql = format!(
            "SELECT kind, origin, changed_at, received_at, public, {} FROM mirrors \
             WHERE id = $1 AND deleted = 0",
            self.backend.body_column()
        );
        let Some(row) = sqlx::query(AssertSqlSafe(sql))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
        else {
            return Ok(None);
        };
        let kind = crate::reads::kind_from_code(row.try_get("kind")?)?;
        let Some(record) = self.backend.read_body(&row, kind)? else {
            return Ok(None);
        };
        Ok(Some(MirroredRecord {
            record,
            origin: row.try_get("origin")?,
            changed_at: row.try_get("changed_at")?,
            received_at: row.try_get("received_at")?,
            public: row.try_get::<i64, _>("public")? != 0,
        }))
    }

    /// Whether `id` names one of this node's own records (rather than
    /// another node's, which can only be a mirror).
    pub fn holds_own(&self, id: &str) -> bool {
        id.split(':').next() == Some(self.node_id.as_str())
    }

    /// Which of `ids` name live mirrors (public at their origin, with
    /// `public_only`), with where each came from.
    pub(crate) async fn live_mirrors(
        &self,
        ids: &[&str],
        public_only: bool,
    ) -> Result<HashMap<String, MirrorSource>, StoreError> {
        let mut live = HashMap::with_capacity(ids.len());
        for chunk in ids.chunks(500) {
            let sql = format!(
                "SELECT m.id, m.origin, m.changed_at, COALESCE(p.caught_up_at, '') \
                 FROM mirrors m LEFT JOIN sync_peers p ON p.peer = m.origin \
                 WHERE m.deleted = 0 {} AND m.id IN ({})",
                if public_only { "AND m.public = 1" } else { "" },
                numbered_placeholders(self.backend, 1, chunk.len())
            );
            let mut query =
                sqlx::query_as::<_, (String, String, String, String)>(AssertSqlSafe(sql));
            for id in chunk {
                query = query.bind(*id);
            }
            for (id, origin, changed_at, synced_at) in query.fetch_all(&self.pool).await? {
                live.insert(
                    id,
                    MirrorSource {
                        origin,
                        changed_at,
                        synced_at,
                    },
                );
            }
        }
        Ok(live)
    }

    /// (id, version) of every record mirrored from `origin`, by id: for
    /// comparing with the origin.
    pub async fn mirrored_versions(
        &self,
        origin: &str,
        kind: RecordKind,
    ) -> Result<Vec<(String, u64)>, StoreError> {
        let rows: Vec<(String, i64)> = sqlx::query_as(
            "SELECT id, version FROM mirrors WHERE origin = $1 AND kind = $2 AND deleted = 0 \
             ORDER BY id",
        )
        .bind(origin)
        .bind(kind.code())
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(id, version)| (id, version as u64))
            .collect())
    }
}

/// Applies `changes` from `peer` under `generation`, adding to `report`;
/// returns the origin's time of the newest change applied.
#[allow(clippy::too_many_arguments)]
async fn apply_changes(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    stamp: &mut Stamp,
    backend: crate::Backend,
    peer: &str,
    changes: &[MirrorChange],
    generation: i64,
    accept_older: bool,
    report: &mut AppliedBatch,
) -> Result<String, StoreError> {
    let held = held_versions(&mut *tx, backend, changes).await?;
    let now = now_rfc3339();
    let mut upserts: Vec<(&MirrorChange, StoredBody)> = Vec::new();
    let mut deletions: Vec<&str> = Vec::new();
    let mut last_change_at = String::new();
    let mut seen = std::collections::HashSet::new();
    for change in changes {
        let id = change.record.id();
        let refused = if !seen.insert(id) {
            Err("the same record came twice in one batch".to_owned())
        } else {
            check_origin(peer, &change.record).and_then(|()| check_content(change))
        };
        if let Err(reason) = refused {
            report.rejected.push(MirrorRejection {
                id: id.to_owned(),
                reason,
            });
            continue;
        }
        let version = change.record.meta().map_or(0, |meta| meta.version);
        // A restarted feed (a restored origin) may legitimately go back.
        if let Some(&held) = held.get(id)
            && version < held
            && !accept_older
        {
            report.rejected.push(MirrorRejection {
                id: id.to_owned(),
                reason: format!("version goes backwards: version {held} is held, {version} came"),
            });
            continue;
        }
        if change.changed_at > last_change_at {
            last_change_at.clone_from(&change.changed_at);
        }
        if change.deleted {
            deletions.push(id);
        } else {
            match StoredBody::encode(backend, &change.record) {
                Ok(body) => upserts.push((change, body)),
                Err(reason) => {
                    report.rejected.push(MirrorRejection {
                        id: id.to_owned(),
                        reason,
                    });
                    continue;
                }
            }
        }
        report.applied += 1;
    }
    // An id deleted and re-created in one batch: the feed sends each
    // record once, at its latest state, so this cannot happen; if it
    // did, deletions run first and the upsert wins.
    for chunk in deletions.chunks(500) {
        let seq = stamp.seq(tx).await?;
        let sql = format!(
            "UPDATE mirrors SET {} WHERE deleted = 0 AND id IN ({})",
            backend.mirror_tombstone(&placeholder(backend, 1)),
            numbered_placeholders(backend, 2, chunk.len())
        );
        let mut query = sqlx::query(AssertSqlSafe(sql)).bind(seq);
        for id in chunk {
            query = query.bind(*id);
        }
        query.execute(&mut **tx).await?;
    }
    const COLUMNS: usize = 13;
    for chunk in upserts.chunks(crate::writes::MAX_BIND_PARAMETERS / COLUMNS) {
        let seq = stamp.seq(tx).await?;
        // A position for each; an id already held keeps its own.
        let mut doc = stamp.positions(tx, chunk.len()).await?;
        let sql = format!(
            "INSERT INTO mirrors (id, origin, kind, version, public, changed_at, received_at, \
                 generation, seq, doc, public_once, fields, body) VALUES {} ON CONFLICT (id) \
                 DO UPDATE SET version = excluded.version, public = excluded.public, \
                 fields = excluded.fields, \
                 public_once = CASE WHEN excluded.public = 1 THEN 1 ELSE mirrors.public_once END, \
                 changed_at = excluded.changed_at, received_at = excluded.received_at, \
                 generation = excluded.generation, seq = excluded.seq, deleted = 0, \
                 body = excluded.body",
            row_placeholders(chunk.len(), COLUMNS, None, |n| {
                if n % COLUMNS == 0 {
                    backend.body_placeholder(n)
                } else {
                    placeholder(backend, n)
                }
            })
        );
        let mut query = sqlx::query(AssertSqlSafe(sql));
        for (change, body) in chunk {
            let meta = change.record.meta();
            let public = i64::from(
                meta.is_some_and(|meta| meta.visibility == pb::Visibility::Public as i32),
            );
            query = query
                .bind(change.record.id())
                .bind(peer)
                .bind(change.record.kind().code())
                .bind(meta.map_or(0, |meta| meta.version) as i64)
                .bind(public)
                .bind(change.changed_at.as_str())
                .bind(now.as_str())
                .bind(generation)
                .bind(seq)
                .bind(doc)
                // A new row's `public_once`.
                .bind(public)
                .bind(i64::from(lienthong_records::search_document::top_fields(
                    &change.record,
                )));
            doc += 1;
            query = body.bind(query);
        }
        query.execute(&mut **tx).await?;
    }
    Ok(last_change_at)
}

/// Tombstones the live mirrors of `peer` from generations before
/// `generation` (every one with `i64::MAX`); returns how many.
async fn remove_mirrors_of(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    stamp: &mut Stamp,
    backend: crate::Backend,
    peer: &str,
    generation: i64,
) -> Result<u64, StoreError> {
    let seq = stamp.seq(tx).await?;
    let sql = format!(
        "UPDATE mirrors SET {} WHERE origin = $2 AND generation < $3 AND deleted = 0",
        backend.mirror_tombstone("$1")
    );
    let removed = sqlx::query(AssertSqlSafe(sql))
        .bind(seq)
        .bind(peer)
        .bind(generation)
        .execute(&mut **tx)
        .await?;
    Ok(removed.rows_affected())
}

/// What a record must hold to be stored: a version that fits the database,
/// a change time, and (for a live record) what validation asks of a
/// record of its origin (no control characters, sizes within limits).
fn check_content(change: &MirrorChange) -> Result<(), String> {
    let version = change.record.meta().map_or(0, |meta| meta.version);
    if version > i64::MAX as u64 {
        return Err(format!("version {version} is out of range"));
    }
    if time::OffsetDateTime::parse(
        &change.changed_at,
        &time::format_description::well_known::Rfc3339,
    )
    .is_err()
    {
        return Err(format!(
            "changed_at {:?} is not an RFC 3339 time",
            change.changed_at
        ));
    }
    if change.deleted {
        return Ok(());
    }
    let origin = change.record.id().split(':').next().unwrap_or_default();
    lienthong_records::validation::validate(&change.record, origin)
        .map(|_| ())
        .map_err(|error| format!("invalid record: {error}"))?;
    Ok(())
}

/// A record may only come from the node its id names.
fn check_origin(peer: &str, record: &AnyRecord) -> Result<(), String> {
    let id = record.id();
    let parsed: RecordId = id
        .parse()
        .map_err(|error| format!("not a record id: {error}"))?;
    if parsed.node != peer {
        return Err(format!(
            "the id claims origin {:?} but came from peer {peer:?}",
            parsed.node
        ));
    }
    if parsed.kind != record.kind() {
        return Err(format!(
            "the id names a {} but the record is a {}",
            parsed.kind,
            record.kind()
        ));
    }
    Ok(())
}

async fn held_versions(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    backend: crate::Backend,
    changes: &[MirrorChange],
) -> Result<HashMap<String, u64>, StoreError> {
    let mut held = HashMap::with_capacity(changes.len());
    for chunk in changes.chunks(500) {
        let sql = format!(
            "SELECT id, version FROM mirrors WHERE deleted = 0 AND id IN ({})",
            numbered_placeholders(backend, 1, chunk.len())
        );
        let mut query = sqlx::query_as::<_, (String, i64)>(AssertSqlSafe(sql));
        for change in chunk {
            query = query.bind(change.record.id().to_owned());
        }
        for (id, version) in query.fetch_all(&mut **tx).await? {
            held.insert(id, version as u64);
        }
    }
    Ok(held)
}

/// The change-log number a mirror transaction stamps its changes with, and
/// the positions it gives new mirrors, from the node's counters. The
/// counters (and with them the node's write lock) are taken on first use,
/// so a transaction that changes nothing takes neither, and numbers follow
/// commit order as for the node's own writes.
#[derive(Default)]
struct Stamp {
    /// (this transaction's sequence number, last position given).
    taken: Option<(i64, i64)>,
}

impl Stamp {
    async fn take(
        &mut self,
        tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    ) -> Result<&mut (i64, i64), StoreError> {
        if self.taken.is_none() {
            let (last_seq, last_doc) = lock_counters(tx).await?;
            self.taken = Some((last_seq + 1, last_doc));
        }
        Ok(self.taken.as_mut().expect("taken above"))
    }

    async fn seq(
        &mut self,
        tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    ) -> Result<i64, StoreError> {
        Ok(self.take(tx).await?.0)
    }

    /// The first of `count` new positions.
    async fn positions(
        &mut self,
        tx: &mut sqlx::Transaction<'static, sqlx::Any>,
        count: usize,
    ) -> Result<i64, StoreError> {
        let taken = self.take(tx).await?;
        let first = taken.1 + 1;
        taken.1 += count as i64;
        Ok(first)
    }

    /// Stores the counters, when they were taken.
    async fn finish(
        self,
        tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    ) -> Result<(), StoreError> {
        match self.taken {
            Some((seq, last_doc)) => store_counters(tx, seq, last_doc).await,
            None => Ok(()),
        }
    }
}
