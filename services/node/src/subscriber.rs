//! Following peers (`[[follow]]`): pulls each peer's change feed in batches
//! over the shared peer client and applies every batch with its cursor in
//! one transaction (see the store's mirrors), so a restart resumes where the
//! last applied batch ended. Changes the store refuses (an id claiming
//! another origin, a version going backwards) are written to the audit log.
//!
//! A node runs [`Subscriber::run`] in the background: each peer is polled
//! every `sync.interval_ms` once caught up, at once while it has more, and
//! after a failure with a backoff that doubles up to `sync.max_backoff_ms`,
//! with jitter, so that many nodes do not retry in step.

use std::time::Duration;

use lienthong_audit::{AuditEntry, AuditWriter, Outcome};
use lienthong_peer_client::registry::{CallMetrics, CallPolicy, CallStamp};
use lienthong_peer_client::{NodeFailure, NodeSettings, Registry, RetryConfig};
use lienthong_proto::v1 as pb;
use lienthong_records::{AnyRecord, RecordKind};
use lienthong_runtime::telemetry;
use lienthong_runtime::tls::Transport;
use lienthong_store::digest::{IdRange, digest};
use lienthong_store::{MirrorBatch, MirrorChange, Store};
use tokio::time::Instant;

use crate::config::NodeConfig;

/// Progress of one peer's sync, reported after every applied batch.
#[derive(Debug, Clone, Default)]
pub struct SyncProgress {
    pub peer: String,
    /// Changes applied in this sync so far.
    pub applied: u64,
    /// Changes the peer still has to send (as of this call's first batch,
    /// less what was applied since).
    pub remaining: u64,
    pub caught_up: bool,
}

/// What one sync with one peer did.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct SyncOutcome {
    pub peer: String,
    pub applied: u64,
    pub rejected: u64,
    /// Mirrors removed after a restarted feed caught up without them.
    pub swept: u64,
    pub restarted: bool,
    pub caught_up: bool,
}

struct Follow {
    peer: String,
    kinds: Vec<String>,
}

/// Follows the peers of one node.
pub struct Subscriber {
    store: Store,
    registry: Registry,
    follows: Vec<Follow>,
    changes_per_call: u32,
    interval: Duration,
    max_backoff: Duration,
    verify_every: Duration,
    audit: AuditWriter,
}

impl Subscriber {
    /// A subscriber for the `[[follow]]` entries of `config` (none: `None`).
    pub fn new(
        config: &NodeConfig,
        store: Store,
        transport: &Transport,
        audit: AuditWriter,
    ) -> Result<Option<Subscriber>, String> {
        if config.follow.is_empty() {
            return Ok(None);
        }
        let timeout = Duration::from_millis(config.sync.call_timeout_ms);
        let nodes = config
            .follow
            .iter()
            .map(|follow| NodeSettings {
                id: follow.peer.clone(),
                display_name: follow.peer.clone(),
                endpoint: follow.endpoint.clone(),
                timeout,
                connect_timeout: Duration::from_secs(5),
                max_concurrency: 1,
            })
            .collect();
        let policy = CallPolicy {
            breaker: config.sync.breaker.clone(),
            // The subscriber's own loop backs off; one call is one attempt.
            retry: RetryConfig {
                max_attempts: 1,
                ..RetryConfig::default()
            },
            max_message_bytes: config.grpc.max_message_bytes,
            stamp: CallStamp::none(),
            metrics: CallMetrics::named("lienthong_sync"),
        };
        let registry = Registry::new(nodes, transport, policy)?;
        Ok(Some(Subscriber {
            store,
            registry,
            follows: config
                .follow
                .iter()
                .map(|follow| Follow {
                    peer: follow.peer.clone(),
                    kinds: follow.kinds_for(config.node.role),
                })
                .collect(),
            changes_per_call: config.sync.changes_per_call,
            interval: Duration::from_millis(config.sync.interval_ms),
            max_backoff: Duration::from_millis(config.sync.max_backoff_ms),
            verify_every: Duration::from_millis(config.sync.verify_interval_ms),
            audit,
        }))
    }

    /// The peers followed, in configuration order.
    pub fn peers(&self) -> Vec<String> {
        self.follows
            .iter()
            .map(|follow| follow.peer.clone())
            .collect()
    }

    /// Syncs with `peer` until caught up.
    pub async fn sync_peer(
        &self,
        peer: &str,
        progress: &mut (dyn FnMut(&SyncProgress) + Send),
    ) -> Result<SyncOutcome, String> {
        let mut outcome = SyncOutcome {
            peer: peer.to_owned(),
            ..Default::default()
        };
        // What the calls apply becomes searchable in the background, while
        // the next call transfers: one index commit per call (one per batch
        // would cost more than the batches), and all of it before returning.
        let mut indexing: Option<tokio::task::JoinHandle<()>> = None;
        loop {
            let call = self.sync_call(peer, &mut outcome, progress).await;
            let done = call.is_err() || outcome.caught_up;
            if done {
                if let Some(task) = indexing.take()
                    && let Err(error) = task.await
                {
                    tracing::error!(%error, "the background search-index catch-up failed");
                }
                // What the last call applied (and whatever the background
                // catch-up started too early for).
                self.store.index_committed_writes().await;
            } else if indexing.as_ref().is_none_or(|task| task.is_finished()) {
                let store = self.store.clone();
                indexing = Some(tokio::spawn(async move {
                    store.index_committed_writes().await;
                }));
            }
            if let Err(error) = &call {
                telemetry::record_sync_error(peer);
                if let Err(store_error) = self.store.record_sync_error(peer, error).await {
                    tracing::error!(%store_error, "cannot record a sync error");
                }
                return Err(error.clone());
            }
            if done {
                return Ok(outcome);
            }
        }
    }

    /// One `ListChanges` call, applying each batch as it arrives.
    async fn sync_call(
        &self,
        peer: &str,
        outcome: &mut SyncOutcome,
        progress: &mut (dyn FnMut(&SyncProgress) + Send),
    ) -> Result<(), String> {
        let follow = self
            .follows
            .iter()
            .find(|follow| follow.peer == peer)
            .ok_or_else(|| format!("{peer:?} is not followed; add a [[follow]] entry"))?;
        let node = self
            .registry
            .node(peer)
            .cloned()
            .ok_or_else(|| format!("{peer:?} is not followed"))?;
        let cursor = self
            .store
            .peer_cursor(peer)
            .await
            .map_err(|e| e.to_string())?;
        let request = pb::ListChangesRequest {
            after: cursor,
            kinds: follow.kinds.clone(),
            limit: self.changes_per_call,
            ids: Vec::new(),
        };
        let deadline = Instant::now() + node.settings.timeout;
        // Progress and the outcome are updated from inside the call.
        let state = std::sync::Mutex::new((std::mem::take(outcome), 0u64));
        let progress = std::sync::Mutex::new(progress);
        let call = self
            .registry
            .call(node, deadline, &|mut client, _timeout| {
                let request = request.clone();
                let state = &state;
                let progress = &progress;
                async move {
                    let after = request.after.clone();
                    let mut stream = client.list_changes(request).await?.into_inner();
                    // Receiving (TLS, decoding) runs ahead of applying, by
                    // up to `READ_AHEAD` batches, so neither waits on the
                    // other.
                    let (sender, mut received) = tokio::sync::mpsc::channel(READ_AHEAD);
                    let receive = async move {
                        loop {
                            let message = tokio::select! {
                                message = stream.message() => message?,
                                // Applying failed: stop at once.
                                () = sender.closed() => break,
                            };
                            let Some(batch) = message else { break };
                            if sender.send(batch).await.is_err() {
                                break;
                            }
                        }
                        Ok::<(), tonic::Status>(())
                    };
                    // Owns the receiving end: when applying fails, dropping
                    // it stops the receiving at once.
                    let apply = async move {
                        let mut expected = after;
                        while let Some(batch) = received.recv().await {
                            let next = batch.cursor.clone();
                            let (report, backlog) = self.apply(peer, &expected, batch).await?;
                            expected = next;
                            let mut guard = state.lock().unwrap_or_else(|p| p.into_inner());
                            let (outcome, remaining) = &mut *guard;
                            outcome.applied += report.applied;
                            outcome.rejected += report.rejected;
                            outcome.swept += report.swept;
                            outcome.restarted |= report.restarted;
                            outcome.caught_up = report.caught_up;
                            if let Some(backlog) = backlog {
                                *remaining = backlog;
                            } else {
                                *remaining = remaining.saturating_sub(report.applied);
                            }
                            let snapshot = SyncProgress {
                                peer: peer.to_owned(),
                                applied: outcome.applied,
                                remaining: *remaining,
                                caught_up: outcome.caught_up,
                            };
                            drop(guard);
                            let mut progress = progress.lock().unwrap_or_else(|p| p.into_inner());
                            (*progress)(&snapshot);
                        }
                        Ok::<(), String>(())
                    };
                    // What arrived before a failure of the peer is applied;
                    // a local failure ends the call (and with it receiving).
                    let (received, applied) = tokio::join!(receive, apply);
                    match applied {
                        // Not the peer's failure: reported apart.
                        Err(local) => Ok(Err(local)),
                        Ok(()) => received.map(Ok),
                    }
                }
            })
            .await;
        *outcome = state.into_inner().unwrap_or_else(|p| p.into_inner()).0;
        match call.result {
            Ok(Ok(())) => Ok(()),
            Ok(Err(local)) => Err(local),
            Err(failure) => Err(describe(peer, &failure)),
        }
    }

    /// Applies one batch; returns what it did and the backlog it announced.
    async fn apply(
        &self,
        peer: &str,
        expected_cursor: &str,
        batch: pb::ChangeBatch,
    ) -> Result<(BatchReport, Option<u64>), String> {
        let first = !batch.newest_change_at.is_empty() || batch.backlog > 0;
        let changes = mirror_changes(peer, batch.changes)?;
        let backlog = first.then_some(batch.backlog);
        let mirror_batch = MirrorBatch {
            epoch: batch.epoch,
            restart: batch.restart,
            changes,
            cursor: batch.cursor,
            caught_up: batch.caught_up,
            backlog,
            newest_change_at: (!batch.newest_change_at.is_empty())
                .then_some(batch.newest_change_at.clone()),
        };
        if batch.restart {
            tracing::warn!(peer, reason = %batch.restart_reason, "the peer's feed restarted; syncing again from the start");
        }
        let applied = self
            .store
            .apply_mirror_batch(peer, expected_cursor, mirror_batch)
            .await
            .map_err(|error| format!("cannot store {peer}'s changes: {error}"))?;
        self.audit_rejections(peer, &applied.rejected).await?;
        telemetry::record_sync_batch(peer, applied.applied, applied.rejected.len() as u64);
        telemetry::record_sync_lag(peer, applied.backlog, applied.lag_seconds);
        Ok((
            BatchReport {
                applied: applied.applied,
                rejected: applied.rejected.len() as u64,
                swept: applied.swept,
                restarted: batch.restart,
                caught_up: batch.caught_up,
            },
            backlog,
        ))
    }

    /// Compares the mirror of `peer` with the peer's catalog digests, kind by
    /// kind, narrowing to the id ranges that differ, and repairs only those:
    /// records missing or behind are fetched again, records the peer no
    /// longer shares are removed. A range too large to list whose mirror
    /// holds too few ids to split it restarts the feed from the beginning.
    pub async fn verify_peer(&self, peer: &str) -> Result<VerifyOutcome, String> {
        let follow = self
            .follows
            .iter()
            .find(|follow| follow.peer == peer)
            .ok_or_else(|| format!("{peer:?} is not followed; add a [[follow]] entry"))?;
        let mut outcome = VerifyOutcome {
            peer: peer.to_owned(),
            ..Default::default()
        };
        for kind_name in &follow.kinds {
            let kind: RecordKind = kind_name.parse().map_err(|e| format!("{e}"))?;
            let mut work = vec![IdRange::all()];
            while let Some(range) = work.pop() {
                outcome.ranges_compared += 1;
                let remote = self.remote_digest(peer, kind_name, &range, false).await?;
                let local = self
                    .store
                    .mirror_versions(peer, kind, &range)
                    .await
                    .map_err(|e| e.to_string())?;
                let (count, hash) = digest(&local);
                if remote.count == count && remote.hash == hash {
                    continue;
                }
                outcome.ranges_differing += 1;
                if remote.count as usize <= MAX_LISTED {
                    let listed = self.remote_digest(peer, kind_name, &range, true).await?;
                    self.repair(peer, kind_name, listed.records, local, &mut outcome)
                        .await?;
                    continue;
                }
                let inner: Vec<String> = local
                    .iter()
                    .map(|(id, _)| id.clone())
                    .filter(|id| *id > range.from)
                    .collect();
                if inner.len() < 2 {
                    self.store
                        .restart_peer(peer)
                        .await
                        .map_err(|e| e.to_string())?;
                    outcome.restarted = true;
                    return Ok(outcome);
                }
                // Up to 16 parts, split at the mirror's own ids.
                let step = inner.len().div_ceil(16).max(1);
                let mut from = range.from.clone();
                for boundary in inner.iter().step_by(step).skip(1) {
                    work.push(IdRange {
                        from: std::mem::replace(&mut from, boundary.clone()),
                        to: boundary.clone(),
                    });
                }
                work.push(IdRange {
                    from,
                    to: range.to.clone(),
                });
            }
        }
        Ok(outcome)
    }

    async fn repair(
        &self,
        peer: &str,
        kind: &str,
        remote: Vec<pb::RecordVersion>,
        local: Vec<(String, u64)>,
        outcome: &mut VerifyOutcome,
    ) -> Result<(), String> {
        let remote: std::collections::HashMap<String, u64> = remote
            .into_iter()
            .map(|record| (record.id, record.version))
            .collect();
        let local: std::collections::HashMap<String, u64> = local.into_iter().collect();
        let fetch: Vec<String> = remote
            .iter()
            .filter(|(id, version)| local.get(*id) != Some(version))
            .map(|(id, _)| id.clone())
            .collect();
        let remove: Vec<String> = local
            .keys()
            .filter(|id| !remote.contains_key(*id))
            .cloned()
            .collect();
        let mut changes = Vec::new();
        for chunk in fetch.chunks(1_000) {
            let request = pb::ListChangesRequest {
                kinds: vec![kind.to_owned()],
                ids: chunk.to_vec(),
                ..Default::default()
            };
            let batches = self
                .call_peer(peer, move |mut client| {
                    let request = request.clone();
                    async move {
                        let mut stream = client.list_changes(request).await?.into_inner();
                        let mut batches = Vec::new();
                        while let Some(batch) = stream.message().await? {
                            batches.push(batch);
                        }
                        Ok(batches)
                    }
                })
                .await?;
            for batch in batches {
                changes.extend(mirror_changes(peer, batch.changes)?);
            }
        }
        let repaired = self
            .store
            .repair_mirrors(peer, &changes, &remove)
            .await
            .map_err(|e| e.to_string())?;
        self.audit_rejections(peer, &repaired.rejected).await?;
        outcome.repaired += repaired.applied;
        outcome.removed += repaired.swept;
        Ok(())
    }

    async fn remote_digest(
        &self,
        peer: &str,
        kind: &str,
        range: &IdRange,
        with_versions: bool,
    ) -> Result<pb::RangeDigest, String> {
        let request = pb::CatalogDigestRequest {
            kind: kind.to_owned(),
            ranges: vec![pb::IdRange {
                from_id: range.from.clone(),
                to_id: range.to.clone(),
            }],
            with_versions,
        };
        let response = self
            .call_peer(peer, move |mut client| {
                let request = request.clone();
                async move { Ok(client.catalog_digest(request).await?.into_inner()) }
            })
            .await?;
        response
            .ranges
            .into_iter()
            .next()
            .ok_or_else(|| format!("{peer} answered a digest without its range"))
    }

    /// One call to `peer` through the registry (breaker, deadline).
    async fn call_peer<T, F, Fut>(&self, peer: &str, call: F) -> Result<T, String>
    where
        F: Fn(lienthong_peer_client::NodeClient) -> Fut,
        Fut: std::future::Future<Output = Result<T, tonic::Status>>,
    {
        let node = self
            .registry
            .node(peer)
            .cloned()
            .ok_or_else(|| format!("{peer:?} is not followed"))?;
        let deadline = Instant::now() + node.settings.timeout;
        let done = self
            .registry
            .call(node, deadline, &|client, _| call(client))
            .await;
        done.result.map_err(|failure| describe(peer, &failure))
    }

    async fn audit_rejections(
        &self,
        peer: &str,
        rejected: &[lienthong_store::MirrorRejection],
    ) -> Result<(), String> {
        for rejection in rejected {
            tracing::warn!(peer, id = %rejection.id, reason = %rejection.reason, "mirrored change rejected");
            let entry = AuditEntry {
                peer: format!("node:{peer}"),
                end_user: String::new(),
                action: "MirrorRejected".into(),
                request: String::new(),
                outcome: Outcome::Denied,
                detail: rejection.reason.clone(),
                record_ids: vec![rejection.id.clone()],
            };
            self.audit
                .record(entry)
                .await
                .map_err(|error| format!("cannot audit a rejected change: {error}"))?;
        }
        Ok(())
    }

    /// Syncs every peer once, until each is caught up.
    pub async fn sync_all(
        &self,
        progress: &mut (dyn FnMut(&SyncProgress) + Send),
    ) -> Vec<(String, Result<SyncOutcome, String>)> {
        let mut outcomes = Vec::new();
        for peer in self.peers() {
            let outcome = self.sync_peer(&peer, progress).await;
            outcomes.push((peer, outcome));
        }
        outcomes
    }

    /// Follows every peer until `stop` completes.
    pub async fn run(self, stop: impl std::future::Future<Output = ()>) {
        let subscriber = std::sync::Arc::new(self);
        let tasks: Vec<_> = subscriber
            .peers()
            .into_iter()
            .map(|peer| {
                let subscriber = subscriber.clone();
                tokio::spawn(async move { subscriber.follow_forever(&peer).await })
            })
            .collect();
        stop.await;
        for task in tasks {
            task.abort();
        }
    }

    async fn follow_forever(&self, peer: &str) {
        let mut failures = 0u32;
        // The first comparison comes one interval after start.
        let mut verified = Instant::now();
        loop {
            let wait = match self.sync_peer(peer, &mut |_| {}).await {
                Ok(_) if verified.elapsed() >= self.verify_every => {
                    verified = Instant::now();
                    match self.verify_peer(peer).await {
                        Ok(verify) if verify.ranges_differing > 0 => tracing::warn!(
                            peer,
                            ranges = verify.ranges_differing,
                            repaired = verify.repaired,
                            removed = verify.removed,
                            restarted = verify.restarted,
                            "the mirror differed from the peer's catalog; repaired"
                        ),
                        Ok(_) => tracing::debug!(peer, "the mirror matches the peer's catalog"),
                        Err(error) => {
                            tracing::warn!(peer, %error, "cannot compare the mirror with the peer's catalog")
                        }
                    }
                    self.interval
                }
                Ok(outcome) => {
                    if failures > 0 {
                        tracing::info!(peer, "following the peer again");
                    }
                    failures = 0;
                    if outcome.applied > 0 {
                        tracing::info!(
                            peer,
                            applied = outcome.applied,
                            swept = outcome.swept,
                            "mirror updated"
                        );
                    }
                    self.interval
                }
                Err(error) => {
                    failures = failures.saturating_add(1);
                    let wait = backoff(self.interval, self.max_backoff, failures);
                    tracing::warn!(peer, %error, retry_in_ms = wait.as_millis() as u64, "sync failed");
                    wait
                }
            };
            tokio::time::sleep(wait).await;
        }
    }
}

/// What comparing one peer's catalog with its mirror did.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct VerifyOutcome {
    pub peer: String,
    pub ranges_compared: u64,
    pub ranges_differing: u64,
    /// Records fetched again.
    pub repaired: u64,
    /// Mirrors the peer no longer shares, removed.
    pub removed: u64,
    /// The mirror differed too much to narrow down: the feed starts over.
    pub restarted: bool,
}

/// Batches received ahead of the one being applied.
const READ_AHEAD: usize = 4;

/// Most records listed per range when repairing (the peer's limit).
const MAX_LISTED: usize = 1_000;

/// The changes of a batch as the store takes them.
fn mirror_changes(peer: &str, changes: Vec<pb::RecordChange>) -> Result<Vec<MirrorChange>, String> {
    changes
        .into_iter()
        .map(|change| {
            let record = change
                .record
                .ok_or_else(|| format!("{peer} sent a change without a record"))
                .and_then(|record| {
                    AnyRecord::try_from(record)
                        .map_err(|error| format!("{peer} sent a change without a kind: {error}"))
                })?;
            Ok(MirrorChange {
                record,
                deleted: change.deleted,
                changed_at: change.changed_at,
            })
        })
        .collect()
}

struct BatchReport {
    applied: u64,
    rejected: u64,
    swept: u64,
    restarted: bool,
    caught_up: bool,
}

/// The wait after `failures` failures in a row: doubling from `base`, at
/// most `max`, with up to half of it taken off at random.
fn backoff(base: Duration, max: Duration, failures: u32) -> Duration {
    let doubled = base.saturating_mul(1u32 << failures.min(16)).min(max);
    let mut random = [0u8; 4];
    let _ = ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut random);
    let fraction = f64::from(u32::from_be_bytes(random)) / f64::from(u32::MAX);
    doubled.mul_f64(1.0 - fraction / 2.0)
}

fn describe(peer: &str, failure: &NodeFailure) -> String {
    format!("{peer}: {}", failure.message())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_limit_with_jitter() {
        let base = Duration::from_millis(100);
        let max = Duration::from_secs(2);
        for failures in 1..20 {
            let wait = backoff(base, max, failures);
            let ceiling = base.saturating_mul(1 << failures.min(16)).min(max);
            assert!(
                wait <= ceiling && wait >= ceiling / 2,
                "{failures}: {wait:?}"
            );
        }
        let waits: std::collections::BTreeSet<_> = (0..20).map(|_| backoff(base, max, 3)).collect();
        assert!(waits.len() > 1, "jitter: {waits:?}");
    }
}
