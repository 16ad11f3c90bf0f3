//! The search index: a tantivy index derived from the database, one per node
//! process, that the database can always rebuild.
//!
//! - Every index commit records, in its payload, the change-log sequence
//!   number it includes. Catching up reads the records whose last change is
//!   later (`records.seq`), replaces their entries and commits with the new
//!   number. The same catch-up runs after every write, on a timer for writes
//!   made by other processes, and on open, so a process killed between a
//!   database commit and an index commit answers as if it had not been,
//!   once it restarts.
//! - Only records that may leave the node are indexed, and the node's
//!   mirrors of other nodes' records, each tagged with its scope
//!   (`schema::Scope`) so that a search takes mirrors only when asked.
//! - A missing, unreadable or damaged index, one of another format, one of
//!   another node, or one ahead of its database (a database restored from
//!   a backup) is rebuilt from the database, with a log line saying why
//!   (`index_directory`, which also holds `lienthong reindex`'s rebuild).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use lienthong_records::AnyRecord;
use lienthong_records::search_document::search_document;
use sqlx::Row;
use tantivy::{Index, IndexReader, IndexWriter, ReloadPolicy, TantivyDocument, TantivyError};

use super::schema::{Fields, INDEX_FORMAT, Scope, tokenizers};
use crate::{Store, StoreError};

/// Rows read from the database per catch-up step.
const CATCH_UP_BATCH: i64 = 5_000;
/// Indexing memory of the one writer thread.
pub(super) const WRITER_MEMORY_BYTES: usize = 32 * 1024 * 1024;
/// Indexing memory of each of the threads of a full rebuild.
pub(super) const REBUILD_MEMORY_BYTES: usize = 64 * 1024 * 1024;

/// Where the search index lives.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum IndexLocation {
    /// In memory, rebuilt from the database each time the store opens.
    Memory,
    /// In a directory of its own, kept across restarts.
    Directory(PathBuf),
}

/// What a commit's payload says.
#[derive(Debug, PartialEq, Eq)]
pub(super) struct CommitPayload {
    pub format: u32,
    pub node_id: String,
    pub seq: i64,
}

impl CommitPayload {
    pub(super) fn render(&self) -> String {
        format!(
            "lienthong-search format={} node={} seq={}",
            self.format, self.node_id, self.seq
        )
    }

    fn parse(text: &str) -> Option<CommitPayload> {
        let rest = text.strip_prefix("lienthong-search ")?;
        let mut format = None;
        let mut node_id = None;
        let mut seq = None;
        for part in rest.split(' ') {
            match part.split_once('=')? {
                ("format", value) => format = value.parse().ok(),
                ("node", value) => node_id = Some(value.to_owned()),
                ("seq", value) => seq = value.parse().ok(),
                _ => return None,
            }
        }
        Some(CommitPayload {
            format: format?,
            node_id: node_id?,
            seq: seq?,
        })
    }
}

/// The writer and the sequence number its last commit includes.
struct Writing {
    /// `None` while another process holds the index (each catch-up tries to
    /// take it over), and once the index is closed.
    writer: Option<Arc<std::sync::Mutex<IndexWriter>>>,
    indexed_seq: i64,
    /// No entry in the index (committed or not) has a position above this:
    /// a changed record or mirror above it is new, and replaces nothing.
    highest_doc: i64,
    closed: bool,
}

/// A node's search index.
pub(crate) struct SearchIndex {
    pub fields: Fields,
    reader: IndexReader,
    index: Index,
    /// The writer, when this process holds it. While another process (a
    /// running node) holds the index, this one writes the database only and
    /// that process catches up.
    writing: tokio::sync::Mutex<Writing>,
    node_id: String,
    /// Each segment's positions, opened once.
    pub positions: super::collector::PositionColumns,
}

impl std::fmt::Debug for SearchIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SearchIndex").finish_non_exhaustive()
    }
}

pub(super) fn index_error(context: &str) -> impl Fn(TantivyError) -> StoreError + '_ {
    move |error| {
        tracing::error!(%error, "search index: {context}");
        StoreError::Internal
    }
}

pub(super) fn blocking_failed(error: tokio::task::JoinError) -> StoreError {
    tracing::error!(%error, "search index task failed");
    StoreError::Internal
}

impl SearchIndex {
    /// Opens the index at `location`, or creates it, and brings it up to date
    /// with the database. See the module notes for when it is rebuilt.
    pub async fn open(store: &Store, location: &IndexLocation) -> Result<SearchIndex, StoreError> {
        let (index, writer) = match location {
            IndexLocation::Memory => {
                let index = new_index(None)?;
                let writer = writer_of(&index, 1, WRITER_MEMORY_BYTES)?;
                (index, Some(writer))
            }
            IndexLocation::Directory(path) => {
                super::index_directory::open_directory(store, path).await?
            }
        };
        let (_, fields) = Fields::schema();
        let reader = index
            .reader_builder()
            .reload_policy(if writer.is_some() {
                ReloadPolicy::Manual
            } else {
                ReloadPolicy::OnCommitWithDelay
            })
            .try_into()
            .map_err(index_error("cannot read the index"))?;
        let indexed_seq = committed_seq(&index)
            .filter(|payload| payload.node_id == store.node_id)
            .map_or(0, |payload| payload.seq);
        let last_seq = store.last_change_seq().await? as i64;
        if writer.is_some() && indexed_seq < last_seq {
            tracing::info!(
                from = indexed_seq,
                to = last_seq,
                "search index: replaying the change log"
            );
        }
        let highest_doc = highest_doc_in(&index);
        let search_index = SearchIndex {
            fields,
            reader,
            index,
            writing: tokio::sync::Mutex::new(Writing {
                writer: writer.map(|writer| Arc::new(std::sync::Mutex::new(writer))),
                indexed_seq,
                highest_doc,
                closed: false,
            }),
            node_id: store.node_id.clone(),
            positions: Default::default(),
        };
        search_index.catch_up(store, &mut |_, _| {}).await?;
        if indexed_seq == 0 && last_seq > 0 {
            // Built from the database just now: one segment, as after a load.
            search_index.merge_segments().await?;
        }
        Ok(search_index)
    }

    /// A snapshot to search.
    pub fn searcher(&self) -> tantivy::Searcher {
        self.reader.searcher()
    }

    /// The change-log sequence number the index includes, when this process
    /// writes it.
    pub async fn indexed_seq(&self) -> Option<i64> {
        let writing = self.writing.lock().await;
        writing.writer.as_ref().map(|_| writing.indexed_seq)
    }

    /// Takes the writer over when the process that held it has let it go.
    async fn take_over_writer(&self, writing: &mut Writing) -> Result<(), StoreError> {
        if writing.writer.is_some() || writing.closed {
            return Ok(());
        }
        let index = self.index.clone();
        let taken = tokio::task::spawn_blocking(move || {
            index.writer_with_num_threads::<TantivyDocument>(1, WRITER_MEMORY_BYTES)
        })
        .await
        .map_err(blocking_failed)?;
        match taken {
            Ok(writer) => {
                self.index
                    .load_metas()
                    .map_err(index_error("cannot read the index's last commit"))?;
                writing.indexed_seq = committed_seq(&self.index)
                    .filter(|payload| payload.node_id == self.node_id)
                    .map_or(0, |payload| payload.seq);
                writing.writer = Some(Arc::new(std::sync::Mutex::new(writer)));
                // The other process added entries this one never saw.
                writing.highest_doc = highest_doc_in(&self.index);
                tracing::info!("search index writer taken over");
                Ok(())
            }
            Err(TantivyError::LockFailure(..)) => Ok(()),
            Err(error) => Err(index_error("cannot open the index writer")(error)),
        }
    }

    /// Applies every change the database holds past the last commit, then
    /// commits and makes it searchable. Concurrent callers wait for one
    /// another, so the writes of many callers share one commit. `progress`
    /// hears (records done, records to do) as it goes.
    pub async fn catch_up(
        &self,
        store: &Store,
        progress: &mut (dyn FnMut(u64, u64) + Send),
    ) -> Result<(), StoreError> {
        let mut writing = self.writing.lock().await;
        self.take_over_writer(&mut writing).await?;
        let Some(handle) = writing.writer.clone() else {
            return Ok(());
        };
        let result = self
            .apply_changes(store, &mut writing, &handle, progress)
            .await;
        if result.is_err() {
            // Nothing half-applied may ride along with a later commit.
            let writer = Arc::clone(&handle);
            let _ = tokio::task::spawn_blocking(move || {
                let mut writer = writer.lock().unwrap_or_else(|poison| poison.into_inner());
                writer.rollback()
            })
            .await;
        }
        result
    }

    async fn apply_changes(
        &self,
        store: &Store,
        writing: &mut Writing,
        handle: &Arc<std::sync::Mutex<IndexWriter>>,
        progress: &mut (dyn FnMut(u64, u64) + Send),
    ) -> Result<(), StoreError> {
        let start = writing.indexed_seq;
        let last_seq = store.last_change_seq().await? as i64;
        if last_seq < start {
            // The database went back (restored from a backup): entries of
            // changes it no longer has may be in the index.
            tracing::warn!(
                index = start,
                database = last_seq,
                "search index is ahead of its database; rebuilding it"
            );
            let writer = Arc::clone(handle);
            tokio::task::spawn_blocking(move || {
                let mut writer = writer.lock().unwrap_or_else(|poison| poison.into_inner());
                writer.rollback()?;
                writer.delete_all_documents().map(|_| ())
            })
            .await
            .map_err(blocking_failed)?
            .map_err(index_error("cannot clear the index"))?;
            writing.indexed_seq = 0;
        }
        let from = writing.indexed_seq;
        if last_seq == from {
            return Ok(());
        }
        let (after, _) = index_changes_since(
            store,
            handle,
            self.fields,
            (from, last_seq),
            &mut writing.highest_doc,
            progress,
            None,
        )
        .await?;
        commit_including(handle, &self.node_id, after.max(last_seq)).await?;
        writing.indexed_seq = after.max(last_seq);
        self.reader
            .reload()
            .map_err(index_error("cannot reload the reader"))?;
        Ok(())
    }

    /// Merges the index into one segment: after a bulk load, so that a search
    /// looks each term up once instead of once per loaded batch.
    pub async fn merge_segments(&self) -> Result<(), StoreError> {
        let writing = self.writing.lock().await;
        let Some(writer) = writing.writer.clone() else {
            return Ok(());
        };
        merge_into_one(writer).await?;
        self.reader
            .reload()
            .map_err(index_error("cannot reload the reader"))
    }

    /// Waits for merges to finish and releases the writer and its lock, so
    /// that another store (a node started after a load in the same process)
    /// can write the index. Later writes through this store reach the
    /// database only.
    pub async fn close(&self) {
        let mut writing = self.writing.lock().await;
        writing.closed = true;
        let Some(writer) = writing.writer.take() else {
            return;
        };
        let _ = tokio::task::spawn_blocking(move || {
            // Every other handle lives in a blocking task that ended before
            // the catch-up that started it released `writing`.
            if let Ok(writer) = Arc::try_unwrap(writer) {
                let writer = writer
                    .into_inner()
                    .unwrap_or_else(|poison| poison.into_inner());
                if let Err(error) = writer.wait_merging_threads() {
                    tracing::warn!(%error, "search index merges did not finish");
                }
            }
        })
        .await;
    }
}

/// Applies every record changed after `from` up to change `until` to the
/// index, in batches, reporting (records done, records to do), and stopping
/// at `fault` between batches in crash tests. Changes after `until` (made
/// while this runs) are left to the next catch-up, so that one catch-up
/// never chases a writer: each ends in a commit, which also frees the
/// writer's queue of replaced entries. Returns the last sequence read and
/// how many records are now indexed. Nothing is committed.
pub(super) async fn index_changes_since(
    store: &Store,
    writer: &Arc<std::sync::Mutex<IndexWriter>>,
    fields: Fields,
    (from, until): (i64, i64),
    highest_doc: &mut i64,
    progress: &mut (dyn FnMut(u64, u64) + Send),
    fault: Option<&str>,
) -> Result<(i64, u64), StoreError> {
    let to_do = store.changed_record_count(from).await?;
    // Everything up to and including change `from` is indexed.
    let mut after = (from, i64::MAX);
    let mut done = 0;
    let mut indexed = 0;
    loop {
        let mut rows = store.changed_records(after, CATCH_UP_BATCH).await?;
        let later = rows.iter().position(|row| row.seq > until);
        if let Some(later) = later {
            rows.truncate(later);
        }
        let Some(last) = rows.last().map(|row| (row.seq, row.doc)) else {
            break;
        };
        after = last;
        done += rows.len() as u64;
        indexed += rows.iter().filter(|row| row.record.is_some()).count() as u64;
        let writer = Arc::clone(writer);
        let highest = *highest_doc;
        *highest_doc = tokio::task::spawn_blocking(move || apply(&writer, &fields, rows, highest))
            .await
            .map_err(blocking_failed)??;
        progress(done, to_do);
        if let Some(fault) = fault {
            crate::fault::point(fault);
        }
        if later.is_some() {
            break;
        }
    }
    Ok((after.0, indexed))
}

/// Commits what the writer holds, recording that it includes change `seq`.
pub(super) async fn commit_including(
    writer: &Arc<std::sync::Mutex<IndexWriter>>,
    node_id: &str,
    seq: i64,
) -> Result<(), StoreError> {
    let payload = CommitPayload {
        format: INDEX_FORMAT,
        node_id: node_id.to_owned(),
        seq,
    };
    let writer = Arc::clone(writer);
    tokio::task::spawn_blocking(move || {
        let mut writer = writer.lock().unwrap_or_else(|poison| poison.into_inner());
        let mut commit = writer.prepare_commit()?;
        commit.set_payload(&payload.render());
        commit.commit()
    })
    .await
    .map_err(blocking_failed)?
    .map_err(index_error("cannot commit"))?;
    Ok(())
}

/// A changed record or mirror as the catch-up reads it.
pub(crate) struct ChangedRecord {
    pub doc: i64,
    pub seq: i64,
    /// The live, shareable record or live mirror; `None` when it is deleted
    /// or hidden.
    pub record: Option<(AnyRecord, Scope)>,
}

/// Replaces the entries of `rows`, given that no entry has a position above
/// `highest_doc`; returns the new highest. A row at or under it deletes its
/// entry first (a record changed while a catch-up reads comes again in a
/// later batch, and must replace what the earlier one added); a row above it
/// is new and deletes nothing, which spares the writer a queued delete per
/// new record (each held until commit: 150 MB over a first sync of 200k).
fn apply(
    writer: &std::sync::Mutex<IndexWriter>,
    fields: &Fields,
    rows: Vec<ChangedRecord>,
    mut highest_doc: i64,
) -> Result<i64, StoreError> {
    let writer = writer.lock().unwrap_or_else(|poison| poison.into_inner());
    for row in rows {
        if row.doc <= highest_doc {
            writer.delete_term(fields.doc_term(row.doc));
        }
        highest_doc = highest_doc.max(row.doc);
        if let Some((record, scope)) = row.record {
            let search = search_document(&record);
            let document: TantivyDocument =
                fields.document(row.doc, &record, scope, &search, &record.encode());
            writer
                .add_document(document)
                .map_err(index_error("cannot add a document"))?;
        }
    }
    Ok(highest_doc)
}

/// The highest position of any entry in `index`'s committed segments (-1
/// when it has none), from the `doc` fast field; `i64::MAX` (every change
/// then replaces) when it cannot be read.
fn highest_doc_in(index: &Index) -> i64 {
    let reader = match index
        .reader_builder()
        .reload_policy(ReloadPolicy::Manual)
        .try_into()
    {
        Ok(reader) => reader,
        Err(error) => {
            tracing::warn!(%error, "search index: cannot read the highest position");
            return i64::MAX;
        }
    };
    let reader: IndexReader = reader;
    let mut highest = -1;
    for segment in reader.searcher().segment_readers() {
        match segment.fast_fields().u64("doc") {
            Ok(column) if segment.max_doc() > 0 => {
                highest = highest.max(i64::try_from(column.max_value()).unwrap_or(i64::MAX));
            }
            Ok(_) => {}
            Err(error) => {
                tracing::warn!(%error, "search index: cannot read the highest position");
                return i64::MAX;
            }
        }
    }
    highest
}

/// Merges every committed segment into one, as after a bulk load or a
/// rebuild: a search then looks each term up once, not once per batch.
pub(super) async fn merge_into_one(
    writer: Arc<std::sync::Mutex<IndexWriter>>,
) -> Result<(), StoreError> {
    let merged = tokio::task::spawn_blocking(move || -> Result<(), TantivyError> {
        let mut writer = writer.lock().unwrap_or_else(|poison| poison.into_inner());
        let segments = writer.index().searchable_segment_ids()?;
        if segments.len() > 1 {
            writer.merge(&segments).wait()?;
        }
        writer.garbage_collect_files().wait()?;
        Ok(())
    })
    .await
    .map_err(blocking_failed)?;
    if let Err(error) = merged {
        // A background merge holds some of the segments: searches still
        // work, over a few more segments.
        tracing::info!(%error, "search index segments not merged into one");
    }
    Ok(())
}

pub(super) fn committed_seq(index: &Index) -> Option<CommitPayload> {
    let metas = index.load_metas().ok()?;
    CommitPayload::parse(metas.payload.as_deref()?)
}

pub(super) fn new_index(directory: Option<&Path>) -> Result<Index, StoreError> {
    let (schema, _) = Fields::schema();
    let builder = Index::builder()
        .schema(schema)
        .settings(super::schema::settings())
        .tokenizers(tokenizers());
    match directory {
        None => builder.create_in_ram(),
        Some(path) => builder.create_in_dir(path),
    }
    .map_err(index_error("cannot create the index"))
}

pub(super) fn writer_of(
    index: &Index,
    threads: usize,
    memory: usize,
) -> Result<IndexWriter, StoreError> {
    index
        .writer_with_num_threads(threads, memory * threads)
        .map_err(index_error("cannot open the index writer"))
}

impl Store {
    /// How many records and mirrors changed after `after` (what a catch-up
    /// will read).
    pub(crate) async fn changed_record_count(&self, after: i64) -> Result<u64, StoreError> {
        let (count,): (i64,) = sqlx::query_as(
            "SELECT (SELECT COUNT(*) FROM records WHERE seq > $1) \
                  + (SELECT COUNT(*) FROM mirrors WHERE seq > $1)",
        )
        .bind(after)
        .fetch_one(&self.pool)
        .await?;
        Ok(count as u64)
    }

    /// Up to `limit` records and mirrors whose last change came after
    /// `after` (sequence number, position), in that order, with their
    /// bodies when they are live (and, for records, shareable). Changes of
    /// one mirror transaction share a sequence number (a record's is its
    /// own). Each table is read as a range of its `seq` index, at most
    /// `limit` rows.
    pub(crate) async fn changed_records(
        &self,
        after: (i64, i64),
        limit: i64,
    ) -> Result<Vec<ChangedRecord>, StoreError> {
        let body = self.backend.body_column();
        let sql = format!(
            "SELECT * FROM (SELECT doc, seq, kind, deleted, shareable, -1 AS public, {body} \
                 FROM records WHERE seq >= $1 AND (seq > $1 OR doc > $2) \
                 ORDER BY seq LIMIT $3) AS own \
             UNION ALL \
             SELECT * FROM (SELECT doc, seq, kind, deleted, 1 AS shareable, public, {body} \
                 FROM mirrors WHERE (seq, doc) > ($1, $2) \
                 ORDER BY seq, doc LIMIT $3) AS mirrored \
             ORDER BY seq, doc LIMIT $3"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(after.0)
            .bind(after.1)
            .bind(limit)
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|row| {
                let live = row.try_get::<i64, _>("deleted")? == 0
                    && row.try_get::<i64, _>("shareable")? != 0;
                let record = if live {
                    let kind = crate::reads::kind_from_code(row.try_get("kind")?)?;
                    let scope = match row.try_get::<i64, _>("public")? {
                        -1 => Scope::Local,
                        0 => Scope::Mirror,
                        _ => Scope::PublicMirror,
                    };
                    self.backend
                        .read_body(row, kind)?
                        .map(|record| (record, scope))
                } else {
                    None
                };
                Ok(ChangedRecord {
                    doc: row.try_get("doc")?,
                    seq: row.try_get("seq")?,
                    record,
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payload_round_trips_and_rejects_other_text() {
        let payload = CommitPayload {
            format: INDEX_FORMAT,
            node_id: "hung-yen".into(),
            seq: 42,
        };
        assert_eq!(CommitPayload::parse(&payload.render()), Some(payload));
        assert_eq!(CommitPayload::parse("seq=42"), None);
        assert_eq!(
            CommitPayload::parse("lienthong-search format=1 seq=4"),
            None
        );
    }
}
