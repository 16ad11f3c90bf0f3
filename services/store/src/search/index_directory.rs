//! Opening, checking and rebuilding a search index kept in a directory.
//!
//! The writer lock is taken before anything is checked or changed, so a
//! process never deletes or replaces an index another process holds.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use tantivy::directory::{Directory, MmapDirectory};
use tantivy::{Index, IndexWriter, TantivyDocument, TantivyError};

use super::index::{
    REBUILD_MEMORY_BYTES, WRITER_MEMORY_BYTES, blocking_failed, commit_including, committed_seq,
    index_changes_since, merge_into_one, new_index, writer_of,
};
use super::schema::{Fields, INDEX_FORMAT, settings, tokenizers};
use crate::{Store, StoreError};

/// Opens the index in `path`. When another process holds its writer, the
/// index is opened to read and nothing is checked or changed: that process
/// owns it. Otherwise the writer lock is taken first, the database's last
/// change read under it, and only then is the index checked (and rebuilt
/// empty when it fails a check).
pub(super) async fn open_directory(
    store: &Store,
    path: &Path,
) -> Result<(Index, Option<IndexWriter>), StoreError> {
    let owned = path.to_owned();
    let claim = tokio::task::spawn_blocking(move || claim_directory(&owned))
        .await
        .map_err(blocking_failed)??;
    let lock = match claim {
        Claim::HeldElsewhere(index) => {
            tracing::info!(
                index = %path.display(),
                "search index is held by another process; writing the database only until it is released"
            );
            return Ok((index, None));
        }
        Claim::Locked(lock) => lock,
    };
    let last_seq = store.last_change_seq().await? as i64;
    let owned = path.to_owned();
    let node_id = store.node_id.clone();
    let behind = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let found_behind = behind.clone();
    let opened = tokio::task::spawn_blocking(move || {
        check_directory(&owned, &node_id, last_seq, lock, &found_behind)
    })
    .await
    .map_err(blocking_failed)??;
    if behind.load(std::sync::atomic::Ordering::Relaxed) {
        // The database went back in time: changes subscribers hold may
        // never come again under the numbers they have.
        store
            .start_new_feed_epoch("the database ends before changes its search index includes (restored from a backup?)")
            .await?;
    }
    Ok(opened)
}

enum Claim {
    /// Another process holds the writer; the index, opened to read.
    HeldElsewhere(Index),
    /// This process holds the writer lock (`None`: no index there yet).
    Locked(Option<tantivy::directory::DirectoryLock>),
}

fn claim_directory(path: &Path) -> Result<Claim, StoreError> {
    if !path.join("meta.json").exists() {
        // No index: no other process can be writing one here.
        return Ok(Claim::Locked(None));
    }
    let Ok(directory) = MmapDirectory::open(path) else {
        return Ok(Claim::Locked(None));
    };
    match directory.acquire_lock(&tantivy::directory::INDEX_WRITER_LOCK) {
        Ok(lock) => Ok(Claim::Locked(Some(lock))),
        Err(tantivy::directory::error::LockError::LockBusy) => {
            let mut index = Index::open(directory).map_err(|error| {
                StoreError::Config(format!(
                    "the search index {} is held by another process and cannot be read ({error}); stop that process",
                    path.display()
                ))
            })?;
            index.set_tokenizers(tokenizers());
            Ok(Claim::HeldElsewhere(index))
        }
        Err(_) => Ok(Claim::Locked(None)),
    }
}

fn check_directory(
    path: &Path,
    node_id: &str,
    last_seq: i64,
    lock: Option<tantivy::directory::DirectoryLock>,
    database_behind: &std::sync::atomic::AtomicBool,
) -> Result<(Index, Option<IndexWriter>), StoreError> {
    // Released before the directory is replaced, and when the writer takes
    // over; never after a new index has a lock of its own.
    let lock = std::cell::Cell::new(lock);
    let rebuild = |why: String| -> Result<(Index, Option<IndexWriter>), StoreError> {
        drop(lock.take());
        tracing::warn!(
            index = %path.display(),
            reason = %why,
            "search index cannot be used; rebuilding it from the database"
        );
        remove_index_directory(path)?;
        create_directory(path)?;
        let index = new_index(Some(path))?;
        let writer = writer_of(&index, 1, WRITER_MEMORY_BYTES)?;
        Ok((index, Some(writer)))
    };
    if !path.join("meta.json").exists() {
        if path.exists()
            && std::fs::read_dir(path).is_ok_and(|mut entries| entries.next().is_some())
        {
            return rebuild("the directory holds no index (meta.json is missing)".into());
        }
        if last_seq > 0 {
            tracing::warn!(
                index = %path.display(),
                "search index is missing; rebuilding it from the database"
            );
        } else {
            tracing::info!(index = %path.display(), "creating the search index");
        }
        drop(lock.take());
        create_directory(path)?;
        let index = new_index(Some(path))?;
        let writer = writer_of(&index, 1, WRITER_MEMORY_BYTES)?;
        return Ok((index, Some(writer)));
    }
    let directory = match MmapDirectory::open(path) {
        Ok(directory) => directory,
        Err(error) => return rebuild(format!("cannot open the directory: {error}")),
    };
    let mut index = match Index::open(directory) {
        Ok(index) => index,
        Err(error) => return rebuild(format!("cannot open the index: {error}")),
    };
    index.set_tokenizers(tokenizers());
    let (schema, _) = Fields::schema();
    if index.schema() != schema {
        return rebuild("it was built with another schema".into());
    }
    if index.settings().sort_by_field != settings().sort_by_field {
        // Ranking relies on the order (see the collector), not only speed.
        return rebuild("its documents are not kept in database order".into());
    }
    match committed_seq(&index) {
        None if !index
            .searchable_segment_ids()
            .is_ok_and(|ids| ids.is_empty()) =>
        {
            return rebuild("its last commit does not say what it includes".into());
        }
        None => {}
        Some(payload) if payload.format != INDEX_FORMAT => {
            return rebuild(format!(
                "it has format {}, this software uses {INDEX_FORMAT}",
                payload.format
            ));
        }
        Some(payload) if payload.node_id != node_id => {
            return rebuild(format!("it belongs to node {:?}", payload.node_id));
        }
        Some(payload) if payload.seq > last_seq => {
            database_behind.store(true, std::sync::atomic::Ordering::Relaxed);
            return rebuild(format!(
                "it includes change {} but the database ends at {last_seq} (restored from a backup?)",
                payload.seq
            ));
        }
        Some(_) => {}
    }
    match index.validate_checksum() {
        Ok(damaged) if damaged.is_empty() => {}
        Ok(damaged) => {
            let names: Vec<String> = damaged.iter().map(|p| p.display().to_string()).collect();
            return rebuild(format!("damaged files: {}", names.join(", ")));
        }
        Err(error) => return rebuild(format!("cannot check its files: {error}")),
    }
    // The checks are done: hand the lock to the writer.
    drop(lock.take());
    match index.writer_with_num_threads(1, WRITER_MEMORY_BYTES) {
        Ok(writer) => Ok((index, Some(writer))),
        Err(TantivyError::LockFailure(..)) => Ok((index, None)),
        Err(error) => rebuild(format!("cannot open its writer: {error}")),
    }
}

fn create_directory(path: &Path) -> Result<(), StoreError> {
    std::fs::create_dir_all(path).map_err(|error| {
        StoreError::Config(format!(
            "cannot create the search index directory {}: {error}",
            path.display()
        ))
    })
}

fn remove_index_directory(path: &Path) -> Result<(), StoreError> {
    match std::fs::remove_dir_all(path) {
        Ok(()) => Ok(()),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(error) => Err(StoreError::Config(format!(
            "cannot remove the damaged search index {}: {error}",
            path.display()
        ))),
    }
}

/// Builds a new index of every shareable record in the database at `path`
/// and puts it in place of the one there, reporting (done, to do). The old
/// index stays in use until the new one is complete: a rebuild killed
/// midway leaves it as it was. Refuses while a running node holds the
/// index.
pub(crate) async fn rebuild(
    store: &Store,
    path: &Path,
    progress: &mut (dyn FnMut(u64, u64) + Send),
) -> Result<u64, StoreError> {
    // Hold the live index's lock for the whole rebuild, so no node starts on
    // it meanwhile.
    let lock = if path.join("meta.json").exists() {
        tokio::task::spawn_blocking({
            let path = path.to_owned();
            move || -> Result<Option<IndexWriter>, StoreError> {
                let Ok(directory) = MmapDirectory::open(&path) else {
                    return Ok(None);
                };
                let Ok(index) = Index::open(directory) else {
                    return Ok(None);
                };
                match index.writer_with_num_threads::<TantivyDocument>(1, WRITER_MEMORY_BYTES) {
                    Ok(writer) => Ok(Some(writer)),
                    Err(TantivyError::LockFailure(..)) => Err(StoreError::Config(format!(
                        "the search index {} is in use by a running node; stop the node, then reindex",
                        path.display()
                    ))),
                    Err(_) => Ok(None),
                }
            }
        })
        .await
        .map_err(blocking_failed)??
    } else {
        None
    };
    let staging = sibling(path, "rebuild");
    remove_index_directory(&staging)?;
    create_directory(&staging)?;
    let index = new_index(Some(&staging))?;
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get().min(4));
    let writer = Arc::new(std::sync::Mutex::new(writer_of(
        &index,
        threads,
        REBUILD_MEMORY_BYTES,
    )?));
    let (_, fields) = Fields::schema();
    let last_seq = store.last_change_seq().await? as i64;
    let (after, indexed) = index_changes_since(
        store,
        &writer,
        fields,
        (0, last_seq),
        // A new index: nothing to replace but what the rebuild adds itself.
        &mut -1,
        progress,
        Some("reindex-mid-build"),
    )
    .await?;
    commit_including(&writer, &store.node_id, after.max(last_seq)).await?;
    merge_into_one(writer).await?;
    drop(index);
    // Swap: the old index moves aside, the new one takes its name.
    let retired = sibling(path, "old");
    remove_index_directory(&retired)?;
    if path.exists() {
        std::fs::rename(path, &retired).map_err(|error| {
            StoreError::Config(format!("cannot move {} aside: {error}", path.display()))
        })?;
    }
    drop(lock);
    std::fs::rename(&staging, path).map_err(|error| {
        StoreError::Config(format!(
            "cannot move the rebuilt index into {}: {error}",
            path.display()
        ))
    })?;
    remove_index_directory(&retired)?;
    Ok(indexed)
}

/// `hung-yen.index` → `hung-yen.index.rebuild`.
fn sibling(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(".");
    name.push(suffix);
    name.into()
}
