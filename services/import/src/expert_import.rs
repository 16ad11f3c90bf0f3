//! Importing a sheet of experts into a node's store: the header found, every
//! row read and cleaned, records matched to what earlier imports wrote by
//! their natural key, written a batch (one transaction) at a time, and every
//! row's outcome reported as it is decided.
//!
//! A record's id comes from its natural key (see [`ExpertRow::natural_key`]),
//! so importing the same sheet again finds the same records: a row whose
//! record is unchanged writes nothing, and a changed one replaces only the
//! columns the sheet has. An import stopped midway (killed, power lost)
//! leaves whole batches behind; running it again finishes the job.

use std::collections::{BTreeMap, HashMap};
use std::io::Write;

use lienthong_proto::v1 as pb;
use lienthong_records::AnyRecord;
use lienthong_store::Store;

use crate::ImportError;
use crate::expert_rows::{ExpertRow, ExpertRowReader};
use crate::headers::{ExpertColumn, HEADER_SEARCH_ROWS, find_layout};
use crate::report::{Rejection, ReportWriter, RowReport, RowStatus, StoreWrite, Summary};
use crate::rows::{RowSource, SourceRow};

/// Rows written per transaction.
pub const BATCH_ROWS: usize = 1_000;

/// How to import.
#[derive(Debug, Clone)]
pub struct ImportOptions {
    pub node_id: String,
    /// Visibility of records the import creates (records already stored
    /// keep theirs).
    pub visibility: pb::Visibility,
    /// Header text → column, for layouts the built-in names do not know.
    pub mapping: BTreeMap<String, ExpertColumn>,
    /// Decide and report everything; write nothing.
    pub dry_run: bool,
}

/// What an import did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Imported {
    pub summary: Summary,
    /// Headers of columns nothing was read from (unknown, or a second column
    /// for the same field): to name in a mapping file, or to know dropped.
    pub columns_not_imported: Vec<String>,
}

/// Imports the experts of `rows` into `store`, writing each row's outcome to
/// `report` as it is decided.
pub async fn import_experts<W: Write>(
    store: &Store,
    mut rows: impl RowSource,
    options: &ImportOptions,
    report: &mut ReportWriter<W>,
) -> Result<Imported, ImportError> {
    let mut head = Vec::new();
    while head.len() < HEADER_SEARCH_ROWS {
        match rows.next_row() {
            Some(row) => head.push(row?),
            None => break,
        }
    }
    let cells: Vec<Vec<String>> = head.iter().map(|row| row.cells.clone()).collect();
    let layout = find_layout(&cells, &options.mapping).ok_or_else(|| ImportError::NoHeader {
        first_row: cells.first().map(|row| row.join(" | ")).unwrap_or_default(),
    })?;
    let columns_not_imported = layout
        .unknown
        .iter()
        .map(|(_, text)| text.clone())
        .collect();
    let data_start = layout.first_header_row + layout.header_rows;
    let reader = ExpertRowReader::new(layout);
    let mut import = Batches {
        store,
        options,
        reader: &reader,
        summary: Summary::default(),
        seen: HashMap::new(),
        batch: Vec::with_capacity(BATCH_ROWS),
        foot: None,
    };
    for row in head.into_iter().skip(data_start) {
        import.push(row, report).await?;
    }
    while let Some(row) = rows.next_row() {
        import.push(row?, report).await?;
    }
    import.flush(report).await?;
    Ok(Imported {
        summary: import.summary,
        columns_not_imported,
    })
}

struct Batches<'a> {
    store: &'a Store,
    options: &'a ImportOptions,
    reader: &'a ExpertRowReader,
    summary: Summary,
    /// A digest of each accepted row's natural key → its line: the same
    /// person twice in one file is reported, not merged. 16 bytes a row.
    seen: HashMap<u64, u64>,
    batch: Vec<(u64, Result<ExpertRow, RowReport>)>,
    /// Where the signatures at the sheet's foot begin ("Người lập biểu"),
    /// once found: the rows from there on are not records.
    foot: Option<(u64, String)>,
}

impl Batches<'_> {
    async fn push<W: Write>(
        &mut self,
        row: SourceRow,
        report: &mut ReportWriter<W>,
    ) -> Result<(), ImportError> {
        let line = row.line;
        if self.foot.is_none()
            && let Some(marker) = signature_marker(&row.cells)
        {
            self.foot = Some((line, marker));
        }
        let read = if let Some((at, marker)) = &self.foot {
            let reason = if *at == line {
                format!("the signatures at the sheet's foot ({marker:?}), not a record")
            } else {
                format!(
                    "below the signatures that begin at line {at} ({marker:?}): the sheet's foot, not a record"
                )
            };
            Err(RowReport::rejected(line, Vec::new(), String::new(), reason))
        } else {
            self.read_row(&row)
        };
        self.batch.push((line, read));
        if self.batch.len() >= BATCH_ROWS {
            self.flush(report).await?;
        }
        Ok(())
    }

    /// A row of the sheet's body: an expert, or why not.
    fn read_row(&mut self, row: &SourceRow) -> Result<ExpertRow, RowReport> {
        let line = row.line;
        match self.reader.read(&row.cells) {
            Ok(expert) => {
                let key = key_digest(&expert.natural_key());
                match self.seen.get(&key) {
                    Some(first) => Err(RowReport::rejected(
                        line,
                        expert.fixes,
                        String::new(),
                        format!(
                            "the same person as line {first} (same ORCID, or same name, birth year and organization); merge the two rows in the sheet"
                        ),
                    )),
                    None => {
                        self.seen.insert(key, line);
                        Ok(expert)
                    }
                }
            }
            Err(rejected) => Err(RowReport::rejected(
                line,
                rejected.fixes,
                rejected.rejection.column,
                rejected.rejection.reason,
            )),
        }
    }

    async fn flush<W: Write>(&mut self, report: &mut ReportWriter<W>) -> Result<(), ImportError> {
        let batch = std::mem::take(&mut self.batch);
        let ids: Vec<String> = batch
            .iter()
            .filter_map(|(_, read)| read.as_ref().ok())
            .map(|expert| record_id(&self.options.node_id, &expert.natural_key()))
            .collect();
        let id_refs: Vec<&str> = ids.iter().map(String::as_str).collect();
        let mut stored = self.store.get_many(&id_refs).await?;
        let deleted = self.store.tombstones_among(&id_refs).await?;
        let mut reports = Vec::with_capacity(batch.len());
        let mut writes = Vec::new();
        let mut ids = ids.into_iter();
        for (line, read) in batch {
            let expert = match read {
                Ok(expert) => expert,
                Err(rejected) => {
                    reports.push(rejected);
                    continue;
                }
            };
            let id = ids.next().unwrap_or_default();
            if deleted.contains(&id) {
                // Someone deleted this person's record here (perhaps at
                // their request); a sheet must not bring it back unasked.
                reports.push(RowReport::rejected(line, expert.fixes, String::new(), format!(
                            "this person's record ({id}) was deleted on this node; an import does not bring it back (restore it with `lienthong records load` if it should return)"
                        )));
                continue;
            }
            let (record, write) = match stored.remove(&id) {
                Some(AnyRecord::Expert(mut held)) => {
                    let before = held.clone();
                    expert.apply_to(&mut held);
                    let write = if held == before {
                        StoreWrite::Unchanged
                    } else {
                        StoreWrite::Updated
                    };
                    (held, write)
                }
                _ => {
                    let mut new = pb::Expert {
                        meta: Some(pb::RecordMeta {
                            id: id.clone(),
                            visibility: self.options.visibility as i32,
                            classification: pb::Classification::Normal as i32,
                            ..Default::default()
                        }),
                        ..Default::default()
                    };
                    expert.apply_to(&mut new);
                    (new, StoreWrite::Inserted)
                }
            };
            let status = if expert.fixes.is_empty() {
                RowStatus::Accepted
            } else {
                RowStatus::Fixed
            };
            let record = AnyRecord::Expert(record);
            if self.options.dry_run
                && let Err(error) =
                    lienthong_records::validation::validate(&record, &self.options.node_id)
            {
                // What the store would refuse, a dry run refuses too.
                reports.push(RowReport::rejected(
                    line,
                    expert.fixes,
                    String::new(),
                    error.to_string(),
                ));
                continue;
            }
            if write != StoreWrite::Unchanged {
                writes.push((reports.len(), record));
            }
            reports.push(RowReport {
                line,
                status,
                record_id: Some(id),
                write: Some(write),
                fixes: expert.fixes,
                rejection: None,
            });
        }
        if !self.options.dry_run && !writes.is_empty() {
            let (positions, records): (Vec<usize>, Vec<AnyRecord>) = writes.into_iter().unzip();
            let written = self.store.upsert(records).await?;
            // Records the store refuses (its own checks) are rejected rows.
            for refused in written.rejected {
                if let Some(row) = positions
                    .get(refused.index)
                    .and_then(|at| reports.get_mut(*at))
                {
                    row.status = RowStatus::Rejected;
                    row.write = None;
                    row.record_id = None;
                    row.rejection = Some(Rejection {
                        column: String::new(),
                        reason: refused.error.to_string(),
                    });
                }
            }
        }
        for row in &reports {
            self.summary.count(row);
            report.write(row).map_err(ImportError::Report)?;
        }
        Ok(())
    }
}

/// The first words of what departments write under a list to sign it:
/// "Người lập biểu", "Thủ trưởng đơn vị", "(Ký, ghi rõ họ tên)", "Xác nhận
/// của …", "Giám đốc", folded.
const SIGNATURE_WORDS: [&str; 12] = [
    "nguoi lap",
    "thu truong",
    "ky ten",
    "ky ghi ro",
    "ky va ghi ro",
    "ky ho ten",
    "xac nhan cua",
    "lanh dao",
    "giam doc",
    "pho giam doc",
    "truong phong",
    "ke toan truong",
];

/// The row's first text when every filled cell of it is part of the
/// signatures at a sheet's foot (a row naming a person beside a title is a
/// person, not a signature); `None` otherwise.
fn signature_marker(cells: &[String]) -> Option<String> {
    let filled: Vec<&str> = cells
        .iter()
        .map(|cell| cell.trim())
        .filter(|cell| !cell.is_empty())
        .collect();
    let is_signature = |text: &str| {
        let folded = lienthong_records::folding::normalized(text);
        let words: Vec<&str> = folded.split(' ').collect();
        // "Hưng Yên, ngày 15 tháng 11 năm 2026", "ngày ... tháng ... năm ...".
        let at = |word: &str| words.iter().position(|w| *w == word);
        let dated = matches!(
            (at("ngay"), at("thang"), at("nam")),
            (Some(day), Some(month), Some(year)) if day < month && month < year
        );
        dated
            || SIGNATURE_WORDS
                .iter()
                .any(|start| folded == *start || folded.starts_with(&format!("{start} ")))
    };
    let first = filled.first()?;
    filled
        .iter()
        .all(|cell| is_signature(cell))
        .then(|| (*first).to_owned())
}

/// `<node>:expert:x<16 hex digits of the natural key's SHA-256>`.
pub fn record_id(node_id: &str, natural_key: &str) -> String {
    let digest = ring::digest::digest(&ring::digest::SHA256, natural_key.as_bytes());
    let hex: String = digest.as_ref()[..8]
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect();
    format!("{node_id}:expert:x{hex}")
}

fn key_digest(natural_key: &str) -> u64 {
    let digest = ring::digest::digest(&ring::digest::SHA256, natural_key.as_bytes());
    let mut bytes = [0u8; 8];
    bytes.copy_from_slice(&digest.as_ref()[..8]);
    u64::from_le_bytes(bytes)
}
