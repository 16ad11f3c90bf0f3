//! `ListChanges`: the change feed as one caller may see it.
//!
//! - Each record comes at its latest version, in change order, through the
//!   caller's [`Disclosure`](crate::disclosure::Disclosure) like a search hit
//!   (personal fields withheld, references to hidden records blanked).
//! - A record deleted, hidden (internal, classified) or no longer of a kind
//!   the caller may see comes as a deletion. Records never shared come not at
//!   all, and the cursor is sealed: a caller cannot count what it skipped.
//! - The epoch a caller sees covers the node's change log and what the caller
//!   may see: a restored database or a new sharing policy gives a new one, and
//!   the feed restarts from the beginning, so that a subscriber drops what it
//!   should no longer hold.
//! - Every batch is audited, with its record ids, before it is sent.

use std::collections::BTreeSet;

use lienthong_proto::v1 as pb;
use lienthong_records::{AnyRecord, RecordKind};
use lienthong_store::{FeedEntry, Store, TokenSeal};
use tokio::sync::mpsc;
use tonic::Status;

use crate::access::{Access, Admitted};
use crate::policy::Operation;
use crate::status::to_status;

/// Changes per call when the request does not say.
pub const DEFAULT_LIMIT: u32 = 10_000;
/// Most changes per call.
pub const MAX_LIMIT: u32 = 100_000;
/// Changes per streamed batch.
const BATCH: u32 = 500;
/// A subscriber may stay away this long and resume; after that it starts over.
const CURSOR_MAX_AGE_SECONDS: u64 = 400 * 24 * 3600;
const CURSOR_PREFIX: &str = "f1.";

/// Where a call starts.
struct Start {
    after: i64,
    restart_reason: Option<String>,
}

/// The feed for one admitted call: checks the request, then streams batches
/// into `sender` until the limit or the end of the log.
pub struct Feed {
    pub store: Store,
    pub access: Access,
    pub admitted: Admitted,
    kinds: BTreeSet<RecordKind>,
    limit: u32,
    epoch: String,
    start: Start,
}

impl Feed {
    /// Checks the request against the caller's grants and its cursor.
    pub async fn prepare(
        store: Store,
        access: Access,
        admitted: Admitted,
        request: pb::ListChangesRequest,
    ) -> Result<Feed, (Admitted, Status)> {
        let checked = check(&store, &admitted, &request).await;
        match checked {
            Ok((kinds, limit, epoch, start)) => Ok(Feed {
                store,
                access,
                admitted,
                kinds,
                limit,
                epoch,
                start,
            }),
            Err(status) => Err((admitted, status)),
        }
    }

    /// Streams the batches. Errors go to the caller as the stream's last item.
    pub async fn run(self, sender: mpsc::Sender<Result<pb::ChangeBatch, Status>>) {
        let Feed {
            store,
            access,
            admitted,
            kinds,
            limit,
            epoch,
            start,
        } = self;
        let mut after = start.after;
        let mut left = limit;
        let mut first = true;
        loop {
            let want = left.min(BATCH);
            let batch = async {
                let entries = store
                    .feed_after(after, &kinds, want)
                    .await
                    .map_err(to_status)?;
                let mut batch = pb::ChangeBatch {
                    epoch: epoch.clone(),
                    ..Default::default()
                };
                if first {
                    batch.restart = start.restart_reason.is_some();
                    batch.restart_reason = start.restart_reason.clone().unwrap_or_default();
                    let (backlog, newest) =
                        store.feed_backlog(after, &kinds).await.map_err(to_status)?;
                    batch.backlog = backlog.saturating_sub(entries.len() as u64);
                    batch.newest_change_at = newest.unwrap_or_default();
                }
                batch.caught_up = (entries.len() as u32) < want;
                let last = entries.last().map_or(after, |entry| entry.seq);
                batch.changes = changes(&store, &admitted, entries).await?;
                batch.cursor = seal_cursor(store.token_seal(), &epoch, last, &kinds);
                Ok::<_, Status>((batch, last))
            }
            .await;
            let (batch, last) = match batch {
                Ok(done) => done,
                Err(status) => {
                    let status = access.refused_later(admitted, status).await;
                    let _ = sender.send(Err(status)).await;
                    return;
                }
            };
            let ids = batch
                .changes
                .iter()
                .filter_map(|change| change.record.clone())
                .filter_map(|record| AnyRecord::try_from(record).ok())
                .map(|record| record.id().to_owned())
                .collect();
            if let Err(status) = access.audit_sent(&admitted, ids).await {
                let _ = sender.send(Err(status)).await;
                return;
            }
            let done = batch.caught_up || batch.changes.len() as u32 >= left;
            left -= (batch.changes.len() as u32).min(left);
            if sender.send(Ok(batch)).await.is_err() {
                return; // The caller went away.
            }
            if done {
                return;
            }
            after = last;
            first = false;
        }
    }
}

async fn check(
    store: &Store,
    admitted: &Admitted,
    request: &pb::ListChangesRequest,
) -> Result<(BTreeSet<RecordKind>, u32, String, Start), Status> {
    let disclosure = &admitted.disclosure;
    let kinds: BTreeSet<RecordKind> = if request.kinds.is_empty() {
        disclosure.kinds().clone()
    } else {
        request
            .kinds
            .iter()
            .map(|name| {
                name.parse::<RecordKind>()
                    .map_err(|error| Status::invalid_argument(format!("kinds: {error}")))
            })
            .collect::<Result<_, _>>()?
    };
    for kind in &kinds {
        disclosure
            .permit(Operation::Changes, Some(*kind))
            .map_err(|denial| Status::permission_denied(denial.0))?;
    }
    if kinds.is_empty() {
        return Err(Status::permission_denied(
            "the sharing policy grants this caller no record kinds; nothing to follow",
        ));
    }
    let limit = match request.limit {
        0 => DEFAULT_LIMIT,
        n if n > MAX_LIMIT => {
            return Err(Status::invalid_argument(format!(
                "limit: {n} is over {MAX_LIMIT}; ask for fewer and continue with the cursor"
            )));
        }
        n => n,
    };
    let database_epoch = store.feed_epoch().await.map_err(to_status)?;
    let epoch = caller_epoch(&database_epoch, &disclosure.scope());
    let start = if request.after.is_empty() {
        Start {
            after: 0,
            restart_reason: None,
        }
    } else {
        match open_cursor(store.token_seal(), &request.after) {
            None => Start {
                after: 0,
                restart_reason: Some(
                    "the cursor was not issued by this node, or is too old; syncing from the start"
                        .into(),
                ),
            },
            Some(cursor) if cursor.epoch != epoch => Start {
                after: 0,
                restart_reason: Some(
                    "new feed epoch: this node's change log was restored or rebuilt, or what \
                     its sharing policy lets you see changed; syncing from the start"
                        .into(),
                ),
            },
            Some(cursor) if cursor.kinds != kinds_mask(&kinds) => {
                return Err(Status::invalid_argument(
                    "kinds: the cursor was issued for other kinds; ask for the same kinds, or \
                     start over with an empty cursor",
                ));
            }
            Some(cursor) => {
                let last = store.last_change_seq().await.map_err(to_status)? as i64;
                if cursor.seq > last {
                    // The log went back in time under this subscriber.
                    let database_epoch = store
                        .start_new_feed_epoch(
                            "a subscriber's cursor is past the end of the change log (database restored from a backup?)",
                        )
                        .await
                        .map_err(to_status)?;
                    let epoch = caller_epoch(&database_epoch, &disclosure.scope());
                    return Ok((
                        kinds,
                        limit,
                        epoch,
                        Start {
                            after: 0,
                            restart_reason: Some(
                                "new feed epoch: this node's change log was restored; syncing from the start"
                                    .into(),
                            ),
                        },
                    ));
                }
                Start {
                    after: cursor.seq,
                    restart_reason: None,
                }
            }
        }
    };
    Ok((kinds, limit, epoch, start))
}

/// The batch's changes as the caller may see them.
async fn changes(
    store: &Store,
    admitted: &Admitted,
    entries: Vec<FeedEntry>,
) -> Result<Vec<pb::RecordChange>, Status> {
    let disclosure = &admitted.disclosure;
    let mut live: Vec<AnyRecord> = Vec::new();
    let mut shape: Vec<(FeedEntry, bool)> = Vec::with_capacity(entries.len());
    for mut entry in entries {
        match entry.record.take() {
            Some(record) if disclosure.kinds().contains(&record.kind()) => {
                live.push(record);
                shape.push((entry, true));
            }
            _ => shape.push((entry, false)),
        }
    }
    disclosure
        .redact(store, live.iter_mut())
        .await
        .map_err(to_status)?;
    let mut live = live.into_iter();
    Ok(shape
        .into_iter()
        .map(|(entry, is_live)| {
            let record = match is_live.then(|| live.next()).flatten() {
                Some(record) => record,
                None => deletion(&entry),
            };
            pb::RecordChange {
                record: Some(record.into()),
                deleted: !is_live,
                changed_at: entry.changed_at,
            }
        })
        .collect())
}

/// A record of the entry's kind carrying only its id and version.
fn deletion(entry: &FeedEntry) -> AnyRecord {
    let meta = pb::RecordMeta {
        id: entry.id.clone(),
        version: entry.version,
        ..Default::default()
    };
    match entry.kind {
        RecordKind::Organization => AnyRecord::Organization(pb::Organization {
            meta: Some(meta),
            ..Default::default()
        }),
        RecordKind::Expert => AnyRecord::Expert(pb::Expert {
            meta: Some(meta),
            ..Default::default()
        }),
        RecordKind::Project => AnyRecord::Project(pb::Project {
            meta: Some(meta),
            ..Default::default()
        }),
        RecordKind::Publication => AnyRecord::Publication(pb::Publication {
            meta: Some(meta),
            ..Default::default()
        }),
    }
}

/// The epoch this caller sees: the database's, and what the caller may see.
fn caller_epoch(database_epoch: &str, scope: &str) -> String {
    let digest = ring::digest::digest(
        &ring::digest::SHA256,
        format!("{database_epoch}\n{scope}").as_bytes(),
    );
    digest.as_ref()[..16]
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

struct Cursor {
    epoch: String,
    seq: i64,
    kinds: u8,
}

fn kinds_mask(kinds: &BTreeSet<RecordKind>) -> u8 {
    kinds.iter().fold(0, |mask, kind| mask | (1 << kind.code()))
}

fn seal_cursor(seal: &TokenSeal, epoch: &str, seq: i64, kinds: &BTreeSet<RecordKind>) -> String {
    let payload = format!("{epoch} {seq} {}", kinds_mask(kinds));
    seal.seal(CURSOR_PREFIX, payload.as_bytes())
}

fn open_cursor(seal: &TokenSeal, cursor: &str) -> Option<Cursor> {
    let payload = seal
        .open(CURSOR_PREFIX, cursor, CURSOR_MAX_AGE_SECONDS)
        .ok()?;
    let text = String::from_utf8(payload).ok()?;
    let mut parts = text.split(' ');
    let cursor = Cursor {
        epoch: parts.next()?.to_owned(),
        seq: parts.next()?.parse().ok()?,
        kinds: parts.next()?.parse().ok()?,
    };
    parts.next().is_none().then_some(cursor)
}
