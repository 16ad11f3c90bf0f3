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
use lienthong_store::digest::{IdRange, digest};
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
/// Encoded size a batch stops growing at (well under the default 4 MiB
/// message limit; keep `grpc.max_message_bytes` at 2 MiB or more on nodes
/// that publish a feed).
const BATCH_BYTES: usize = 1024 * 1024;
/// A subscriber may stay away this long and resume; after that it starts over.
const CURSOR_MAX_AGE_SECONDS: u64 = 400 * 24 * 3600;
const CURSOR_PREFIX: &str = "f1.";

/// Where a call starts.
struct Start {
    after: i64,
    restart_reason: Option<String>,
    /// The end of the log when this subscriber started from the beginning:
    /// up to there, withdrawn records are not sent as deletions (it holds
    /// none of them).
    initial_until: i64,
}

/// The feed for one admitted call: checks the request, then streams batches
/// into `sender` until the limit or the end of the log.
pub struct Feed {
    store: Store,
    access: Access,
    admitted: Admitted,
    kinds: BTreeSet<RecordKind>,
    limit: u32,
    epoch: String,
    start: Start,
    /// Only these records (a repair), in one batch.
    ids: Vec<String>,
}

/// Most ids in one repair call.
pub const MAX_REPAIR_IDS: usize = 1_000;

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
                ids: request.ids,
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
            ids,
        } = self;
        if !ids.is_empty() {
            return repair_batch(store, access, admitted, kinds, epoch, ids, sender).await;
        }
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
                let mut last = entries.last().map_or(after, |entry| entry.seq);
                let entries: Vec<FeedEntry> = entries
                    .into_iter()
                    .filter(|entry| entry.record.is_some() || entry.seq > start.initial_until)
                    .collect();
                let seqs: Vec<i64> = entries.iter().map(|entry| entry.seq).collect();
                batch.changes = changes(&store, &admitted, entries).await?;
                // Large records: end the batch early rather than exceed the
                // message size; the rest comes in the next one.
                let mut bytes = 0;
                if let Some(cut) = batch.changes.iter().position(|change| {
                    bytes += prost::Message::encoded_len(change);
                    bytes > BATCH_BYTES
                }) {
                    let keep = cut.max(1);
                    if keep < batch.changes.len() {
                        batch.changes.truncate(keep);
                        last = seqs[keep - 1];
                        batch.caught_up = false;
                    }
                }
                batch.cursor = seal_cursor(
                    store.token_seal(),
                    &Cursor {
                        epoch: epoch.clone(),
                        seq: last,
                        kinds: kinds_mask(&kinds),
                        initial_until: start.initial_until,
                    },
                );
                Ok::<_, Status>((batch, last))
            }
            .await;
            let (batch, last) = match batch {
                Ok(done) => done,
                Err(status) => return fail(&access, admitted, &sender, status).await,
            };
            let done = batch.caught_up || want >= left;
            left -= want.min(left);
            if !send_audited(&access, &admitted, &sender, batch).await || done {
                return;
            }
            after = last;
            first = false;
        }
    }
}

/// The current state of the records in `ids`, in one batch.
async fn repair_batch(
    store: Store,
    access: Access,
    admitted: Admitted,
    kinds: BTreeSet<RecordKind>,
    epoch: String,
    ids: Vec<String>,
    sender: mpsc::Sender<Result<pb::ChangeBatch, Status>>,
) {
    let batch = async {
        let entries = store.feed_of(&ids, &kinds).await.map_err(to_status)?;
        Ok::<_, Status>(pb::ChangeBatch {
            epoch: epoch.clone(),
            changes: changes(&store, &admitted, entries).await?,
            caught_up: true,
            ..Default::default()
        })
    }
    .await;
    match batch {
        Ok(batch) => {
            send_audited(&access, &admitted, &sender, batch).await;
        }
        Err(status) => fail(&access, admitted, &sender, status).await,
    }
}

/// Audits `batch` with the ids it carries, then sends it. False when the
/// stream must end (the audit failed, or the caller went away).
async fn send_audited(
    access: &Access,
    admitted: &Admitted,
    sender: &mpsc::Sender<Result<pb::ChangeBatch, Status>>,
    batch: pb::ChangeBatch,
) -> bool {
    let ids = batch
        .changes
        .iter()
        .filter_map(|change| record_id(change.record.as_ref()?))
        .map(str::to_owned)
        .collect();
    match access.audit_sent(admitted, ids).await {
        Ok(()) => sender.send(Ok(batch)).await.is_ok(),
        Err(status) => {
            let _ = sender.send(Err(status)).await;
            false
        }
    }
}

/// Ends the stream with `status`, audited as a refusal.
async fn fail(
    access: &Access,
    admitted: Admitted,
    sender: &mpsc::Sender<Result<pb::ChangeBatch, Status>>,
    status: Status,
) {
    let status = access.refused_later(admitted, status).await;
    let _ = sender.send(Err(status)).await;
}

/// The id in a record's metadata, without copying the record.
fn record_id(record: &pb::Record) -> Option<&str> {
    use pb::record::Record as R;
    let meta = match record.record.as_ref()? {
        R::Expert(r) => r.meta.as_ref(),
        R::Project(r) => r.meta.as_ref(),
        R::Publication(r) => r.meta.as_ref(),
        R::Organization(r) => r.meta.as_ref(),
    };
    meta.map(|meta| meta.id.as_str())
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
    if request.ids.len() > MAX_REPAIR_IDS {
        return Err(Status::invalid_argument(format!(
            "ids: {} ids, at most {MAX_REPAIR_IDS} per call",
            request.ids.len()
        )));
    }
    for id in &request.ids {
        let parsed: lienthong_records::RecordId = id
            .parse()
            .map_err(|error| Status::invalid_argument(format!("ids: {error}")))?;
        if !kinds.contains(&parsed.kind) {
            return Err(Status::invalid_argument(format!(
                "ids: {id} is a {}, not one of the kinds asked for",
                parsed.kind
            )));
        }
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
    let end_of_log = store.last_change_seq().await.map_err(to_status)? as i64;
    let from_start = |restart_reason: Option<String>| Start {
        after: 0,
        restart_reason,
        initial_until: end_of_log,
    };
    let start = if request.after.is_empty() {
        from_start(None)
    } else {
        match open_cursor(store.token_seal(), &request.after) {
            None => from_start(Some(
                "the cursor was not issued by this node, or is too old; syncing from the start"
                    .into(),
            )),
            Some(cursor) if cursor.epoch != epoch => from_start(Some(
                "new feed epoch: this node's change log was restored or rebuilt, or what \
                 its sharing policy lets you see changed; syncing from the start"
                    .into(),
            )),
            Some(cursor) if cursor.kinds != kinds_mask(&kinds) => {
                return Err(Status::invalid_argument(
                    "kinds: the cursor was issued for other kinds; ask for the same kinds, or \
                     start over with an empty cursor",
                ));
            }
            Some(cursor) => {
                if cursor.seq > end_of_log {
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
                        from_start(Some(
                            "new feed epoch: this node's change log was restored; syncing from the start"
                                .into(),
                        )),
                    ));
                }
                Start {
                    after: cursor.seq,
                    restart_reason: None,
                    initial_until: cursor.initial_until,
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
    initial_until: i64,
}

fn kinds_mask(kinds: &BTreeSet<RecordKind>) -> u8 {
    kinds.iter().fold(0, |mask, kind| mask | (1 << kind.code()))
}

/// Numbers at a fixed width, so a cursor's length says nothing of them.
fn seal_cursor(seal: &TokenSeal, cursor: &Cursor) -> String {
    let payload = format!(
        "{} {:020} {:03} {:020}",
        cursor.epoch, cursor.seq, cursor.kinds, cursor.initial_until
    );
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
        initial_until: parts.next()?.parse().ok()?,
    };
    parts.next().is_none().then_some(cursor)
}

/// Most ranges in one `CatalogDigest` call.
pub const MAX_DIGEST_RANGES: usize = 64;
/// Most records listed per range with `with_versions`.
pub const MAX_LISTED_VERSIONS: usize = 1_000;

/// `CatalogDigest` over the records of `kind` a follower may hold (the kind
/// is granted: checked on admission).
pub async fn catalog_digest(
    store: &Store,
    kind: RecordKind,
    request: pb::CatalogDigestRequest,
) -> Result<Vec<pb::RangeDigest>, Status> {
    if request.ranges.is_empty() || request.ranges.len() > MAX_DIGEST_RANGES {
        return Err(Status::invalid_argument(format!(
            "ranges: give 1 to {MAX_DIGEST_RANGES} id ranges (an empty range covers every id)"
        )));
    }
    let mut digests = Vec::with_capacity(request.ranges.len());
    for range in request.ranges {
        let bounds = IdRange {
            from: range.from_id.clone(),
            to: range.to_id.clone(),
        };
        let versions = store
            .shared_versions(kind, &bounds)
            .await
            .map_err(to_status)?;
        if request.with_versions && versions.len() > MAX_LISTED_VERSIONS {
            return Err(Status::invalid_argument(format!(
                "with_versions: the range from {:?} to {:?} holds more than {MAX_LISTED_VERSIONS} records; split it",
                range.from_id, range.to_id
            )));
        }
        let (count, hash) = digest(&versions);
        digests.push(pb::RangeDigest {
            range: Some(range),
            count,
            hash,
            records: if request.with_versions {
                versions
                    .into_iter()
                    .map(|(id, version)| pb::RecordVersion { id, version })
                    .collect()
            } else {
                Vec::new()
            },
        });
    }
    Ok(digests)
}
