//! The hash that links each entry to the one before it.
//!
//! `hash = SHA-256(canonical JSON of [prev_hash, at, peer, end_user, action,
//! request, outcome, detail, record_count, record_ids])`, in lower-case hex.
//! The sequence number is not hashed: it is only the storage order, so moving
//! an entry shows as a broken link rather than as an edit.

use crate::StoredEntry;

/// The `prev_hash` of the very first entry.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// The hash `entry` must carry, given its `prev_hash` and content.
pub fn entry_hash(entry: &StoredEntry) -> String {
    let canonical = serde_json::json!([
        entry.prev_hash,
        entry.at,
        entry.peer,
        entry.end_user,
        entry.action,
        entry.request,
        entry.outcome.as_str(),
        entry.detail,
        entry.record_count,
        entry.record_ids,
    ])
    .to_string();
    let digest = ring::digest::digest(&ring::digest::SHA256, canonical.as_bytes());
    digest
        .as_ref()
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}
