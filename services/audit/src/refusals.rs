//! Refusals (no credentials, a policy denial, a rate limit, an unknown
//! method) are recorded per source and interval, not one row each: a client
//! that sends thousands of refused requests costs the log two rows per
//! interval, not thousands.
//!
//! - The first refusal from a source in an interval is written in full, like
//!   any entry, and committed before the refusal is answered.
//! - Further refusals from that source in the same interval are counted in
//!   memory. When the interval ends, one entry records how many there were,
//!   by action and reason, between which times (`action` = `refusals`).
//! - Sources are bounded: past [`MAX_SOURCES`] in one interval, further
//!   sources share the key `other sources`.
//!
//! Nothing is lost at shutdown: when the last handle is dropped, the counts
//! still pending are written.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use serde::Serialize;
use time::OffsetDateTime;

use crate::{AuditEntry, AuditError, AuditWriter, Outcome, format_time};

/// Distinct sources counted in one interval before they are pooled.
pub const MAX_SOURCES: usize = 10_000;
/// The key sources beyond [`MAX_SOURCES`] share.
const OTHER_SOURCES: &str = "other sources";

/// Records refusals; cheap to clone.
#[derive(Clone)]
pub struct RefusalLog {
    inner: Arc<Inner>,
}

struct Inner {
    writer: AuditWriter,
    pending: Mutex<HashMap<String, Pending>>,
}

/// Refusals from one source after the first, in the current interval.
struct Pending {
    peer: String,
    end_user: String,
    first_at: String,
    last_at: String,
    count: u64,
    by_action: BTreeMap<String, u64>,
    by_reason: BTreeMap<String, u64>,
    outcome: Outcome,
}

#[derive(Serialize)]
struct CountedRefusals<'a> {
    count: u64,
    from: &'a str,
    until: &'a str,
    by_action: &'a BTreeMap<String, u64>,
    by_reason: &'a BTreeMap<String, u64>,
}

impl RefusalLog {
    /// Counts refusals through `writer`, closing an interval every `interval`.
    pub fn start(writer: AuditWriter, interval: Duration) -> RefusalLog {
        let inner = Arc::new(Inner {
            writer,
            pending: Mutex::new(HashMap::new()),
        });
        let weak = Arc::downgrade(&inner);
        tokio::spawn(close_intervals(
            weak,
            interval.max(Duration::from_millis(10)),
        ));
        RefusalLog { inner }
    }

    /// Records one refusal from `source` (the caller's identity or address).
    /// `reason` is a short class (`unauthenticated`, `rate limited`, …) under
    /// which repeated refusals are counted; the entry's detail keeps the
    /// full message. Returns once the entry is committed when it is the
    /// source's first refusal of the interval, at once otherwise.
    pub async fn record(
        &self,
        source: &str,
        reason: &str,
        entry: AuditEntry,
    ) -> Result<(), AuditError> {
        let now = format_time(OffsetDateTime::now_utc());
        {
            let mut pending = self.inner.lock();
            let key = if pending.len() >= MAX_SOURCES && !pending.contains_key(source) {
                OTHER_SOURCES
            } else {
                source
            };
            if let Some(counted) = pending.get_mut(key) {
                counted.count += 1;
                counted.last_at = now;
                *counted.by_action.entry(entry.action.clone()).or_insert(0) += 1;
                *counted.by_reason.entry(reason.to_owned()).or_insert(0) += 1;
                return Ok(());
            }
            let peer = if key == OTHER_SOURCES {
                OTHER_SOURCES.to_owned()
            } else {
                entry.peer.clone()
            };
            pending.insert(
                key.to_owned(),
                Pending {
                    peer,
                    end_user: entry.end_user.clone(),
                    first_at: now.clone(),
                    last_at: now,
                    count: 0,
                    by_action: BTreeMap::new(),
                    by_reason: BTreeMap::new(),
                    outcome: entry.outcome,
                },
            );
        }
        self.inner.writer.record(entry).await
    }

    /// A callback for refusals made outside a handler (a server's per-peer
    /// budget, an unknown method): `(peer, method, reason)`, recorded in the
    /// background.
    pub fn hook(&self) -> impl Fn(&str, &str, &str) + Send + Sync + 'static {
        let log = self.clone();
        move |peer: &str, method: &str, reason: &str| {
            let log = log.clone();
            let entry = AuditEntry {
                peer: peer.to_owned(),
                end_user: String::new(),
                action: method.to_owned(),
                request: String::new(),
                outcome: Outcome::Denied,
                detail: reason.to_owned(),
                record_ids: Vec::new(),
            };
            let (source, reason) = (peer.to_owned(), reason.to_owned());
            tokio::spawn(async move {
                if let Err(error) = log.record(&source, &reason, entry).await {
                    tracing::warn!(%error, "refused call not audited");
                }
            });
        }
    }

    /// Writes the counts pending now (tests and shutdown).
    pub async fn flush(&self) -> Result<(), AuditError> {
        for entry in self.inner.take_counts() {
            self.inner.writer.record(entry).await?;
        }
        Ok(())
    }
}

impl Inner {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Pending>> {
        match self.pending.lock() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        }
    }

    /// Ends the interval: the entries counting each source's further
    /// refusals. Sources without any start afresh.
    fn take_counts(&self) -> Vec<AuditEntry> {
        let pending = std::mem::take(&mut *self.lock());
        pending
            .into_values()
            .filter(|counted| counted.count > 0)
            .map(|counted| {
                let request = serde_json::to_string(&CountedRefusals {
                    count: counted.count,
                    from: &counted.first_at,
                    until: &counted.last_at,
                    by_action: &counted.by_action,
                    by_reason: &counted.by_reason,
                })
                .unwrap_or_default();
                AuditEntry {
                    peer: counted.peer,
                    end_user: counted.end_user,
                    action: "refusals".to_owned(),
                    request,
                    outcome: counted.outcome,
                    detail: format!(
                        "{} further refusals between {} and {}",
                        counted.count, counted.first_at, counted.last_at
                    ),
                    record_ids: Vec::new(),
                }
            })
            .collect()
    }
}

impl Drop for Inner {
    fn drop(&mut self) {
        let entries = self.take_counts();
        if entries.is_empty() {
            return;
        }
        let writer = self.writer.clone();
        // The writer task waits for this last handle before it stops.
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(async move {
                for entry in entries {
                    if let Err(error) = writer.record(entry).await {
                        tracing::warn!(%error, "counted refusals not written at shutdown");
                    }
                }
            });
        }
    }
}

async fn close_intervals(inner: Weak<Inner>, interval: Duration) {
    let mut ticker = tokio::time::interval(interval);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    ticker.tick().await;
    loop {
        ticker.tick().await;
        let Some(inner) = inner.upgrade() else {
            return;
        };
        let entries = inner.take_counts();
        let writer = inner.writer.clone();
        drop(inner);
        for entry in entries {
            if let Err(error) = writer.record(entry).await {
                tracing::warn!(%error, "counted refusals not written");
            }
        }
    }
}
