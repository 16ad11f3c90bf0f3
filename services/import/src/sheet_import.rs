//! Importing a sheet into a node's store: the header found, every row read
//! and cleaned, records matched to what earlier imports wrote by their
//! natural key, written a batch (one transaction) at a time, and every row's
//! outcome reported as it is decided. One pipeline for every kind of sheet
//! ([`RecordSheet`]): experts ([`import_experts`]), projects
//! ([`import_projects`]), papers ([`import_publications`]) and
//! organizations ([`import_organizations`]).
//!
//! A record's id comes from its natural key (an expert's ORCID or name,
//! birth year and organization; a project's code), so importing the same
//! sheet again finds the same records: a row whose record is unchanged
//! writes nothing, and a changed one replaces only the columns the sheet
//! has. An import stopped midway (killed, power lost) leaves whole batches
//! behind; running it again finishes the job.

use std::collections::{BTreeMap, HashMap};
use std::io::Write;

use lienthong_proto::v1 as pb;
use lienthong_records::{AnyRecord, RecordKind};
use lienthong_store::Store;

use crate::ImportError;
use crate::expert_rows::{ExpertRow, ExpertRowReader, RejectedRow};
use crate::headers::{HEADER_SEARCH_ROWS, Layout, SheetColumn, find_layout};
use crate::likeness::{Likeness, LikenessIndex};
use crate::organization_rows::{OrganizationRow, OrganizationRowReader};
use crate::project_rows::{ProjectRow, ProjectRowReader};
use crate::publication_rows::{PublicationRow, PublicationRowReader};
use crate::report::{Fix, Rejection, ReportWriter, RowReport, RowStatus, StoreWrite, Summary};
use crate::rows::{RowSource, SourceRow};

/// One kind of sheet: its columns, and how a row becomes a record.
pub trait RecordSheet: Sized {
    type Column: SheetColumn;
    type Row: SheetRow;
    const KIND: RecordKind;

    fn new(layout: Layout<Self::Column>) -> Self;
    fn read(&self, cells: &[String]) -> Result<Self::Row, RejectedRow>;
    /// Why a row is refused as a repeat of the one at `first` ("line 12").
    fn repeat_of(first: &str) -> String;
}

/// A row read as a record's values.
pub trait SheetRow {
    /// What identifies the record across imports.
    fn natural_key(&self) -> String;
    fn fixes(&self) -> &[Fix];
    fn into_fixes(self) -> Vec<Fix>;
    /// Puts the row's values on the stored record (false: it is of another
    /// kind, and is left alone).
    fn apply_to(&self, record: &mut AnyRecord) -> bool;
    /// A new record with `meta`, holding the row's values.
    fn new_record(&self, meta: pb::RecordMeta) -> AnyRecord;
}

impl RecordSheet for ExpertRowReader {
    type Column = crate::headers::ExpertColumn;
    type Row = ExpertRow;
    const KIND: RecordKind = RecordKind::Expert;

    fn new(layout: Layout<Self::Column>) -> Self {
        ExpertRowReader::new(layout)
    }

    fn read(&self, cells: &[String]) -> Result<ExpertRow, RejectedRow> {
        ExpertRowReader::read(self, cells)
    }

    fn repeat_of(first: &str) -> String {
        format!(
            "the same person as {first} (same ORCID, or same name, birth year and organization); merge the two rows in the sheet"
        )
    }
}

/// [`SheetRow`] for a row type with `natural_key`, `fixes` and
/// `apply_to(&mut pb::$variant)`, whose records are `AnyRecord::$variant`.
macro_rules! sheet_row {
    ($row:ty, $variant:ident) => {
        impl SheetRow for $row {
            fn natural_key(&self) -> String {
                <$row>::natural_key(self)
            }

            fn fixes(&self) -> &[Fix] {
                &self.fixes
            }

            fn into_fixes(self) -> Vec<Fix> {
                self.fixes
            }

            fn apply_to(&self, record: &mut AnyRecord) -> bool {
                match record {
                    AnyRecord::$variant(held) => {
                        <$row>::apply_to(self, held);
                        true
                    }
                    _ => false,
                }
            }

            fn new_record(&self, meta: pb::RecordMeta) -> AnyRecord {
                let mut new = pb::$variant {
                    meta: Some(meta),
                    ..Default::default()
                };
                <$row>::apply_to(self, &mut new);
                AnyRecord::$variant(new)
            }
        }
    };
}

sheet_row!(ExpertRow, Expert);
sheet_row!(ProjectRow, Project);
sheet_row!(PublicationRow, Publication);
sheet_row!(OrganizationRow, Organization);

impl RecordSheet for PublicationRowReader {
    type Column = crate::publication_rows::PublicationColumn;
    type Row = PublicationRow;
    const KIND: RecordKind = RecordKind::Publication;

    fn new(layout: Layout<Self::Column>) -> Self {
        PublicationRowReader::new(layout)
    }

    fn read(&self, cells: &[String]) -> Result<PublicationRow, RejectedRow> {
        PublicationRowReader::read(self, cells)
    }

    fn repeat_of(first: &str) -> String {
        format!(
            "the same paper as {first} (same DOI, or same title and year); keep one row per paper"
        )
    }
}

impl RecordSheet for OrganizationRowReader {
    type Column = crate::organization_rows::OrganizationColumn;
    type Row = OrganizationRow;
    const KIND: RecordKind = RecordKind::Organization;

    fn new(layout: Layout<Self::Column>) -> Self {
        OrganizationRowReader::new(layout)
    }

    fn read(&self, cells: &[String]) -> Result<OrganizationRow, RejectedRow> {
        OrganizationRowReader::read(self, cells)
    }

    fn repeat_of(first: &str) -> String {
        format!(
            "the same organization as {first} (same ID code, or same name); keep one row per organization"
        )
    }
}

impl RecordSheet for ProjectRowReader {
    type Column = crate::project_rows::ProjectColumn;
    type Row = ProjectRow;
    const KIND: RecordKind = RecordKind::Project;

    fn new(layout: Layout<Self::Column>) -> Self {
        ProjectRowReader::new(layout)
    }

    fn read(&self, cells: &[String]) -> Result<ProjectRow, RejectedRow> {
        ProjectRowReader::read(self, cells)
    }

    fn repeat_of(first: &str) -> String {
        format!("the same task code as {first}; keep one row per task")
    }
}

/// Rows written per transaction.
pub const BATCH_ROWS: usize = 1_000;

/// How to import.
#[derive(Debug, Clone)]
pub struct ImportOptions {
    pub node_id: String,
    /// Visibility of records the import creates (records already stored
    /// keep theirs).
    pub visibility: pb::Visibility,
    /// Header text → column key (`full_name`, `code`, …), for layouts the
    /// built-in names do not know.
    pub mapping: BTreeMap<String, String>,
    /// Decide and report everything; write nothing.
    pub dry_run: bool,
    /// The rows the other sheets of the same workbook gave, shared by the
    /// imports of its sheets (a default one for a single sheet or file).
    pub earlier_sheets: EarlierSheets,
}

/// The records the sheets already imported from one workbook gave (by the
/// digest of their id), so that a record written again in a later sheet is
/// reported as a repeat, as within one sheet, and not silently merged.
/// 16 bytes and a little a row.
#[derive(Debug, Clone, Default)]
pub struct EarlierSheets(std::sync::Arc<std::sync::Mutex<SheetsSeen>>);

#[derive(Debug, Default)]
struct SheetsSeen {
    names: Vec<String>,
    rows: HashMap<u64, (usize, u64)>,
}

impl EarlierSheets {
    /// Where an earlier sheet gave the record with this digest.
    fn find(&self, key: u64) -> Option<String> {
        let seen = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let (sheet, line) = seen.rows.get(&key)?;
        // As the report names lines of a workbook: "Sheet!12".
        Some(format!("{}!{line}", seen.names.get(*sheet)?))
    }

    /// Adds a finished sheet's rows.
    fn remember(&self, sheet: &str, rows: &HashMap<u64, u64>) {
        let mut seen = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let index = seen.names.len();
        seen.names.push(sheet.to_owned());
        for (key, line) in rows {
            seen.rows.entry(*key).or_insert((index, *line));
        }
    }
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
    rows: impl RowSource,
    options: &ImportOptions,
    report: &mut ReportWriter<W>,
) -> Result<Imported, ImportError> {
    import_sheet::<ExpertRowReader, W>(store, rows, options, report).await
}

/// Imports the projects (tasks) of `rows` into `store`.
pub async fn import_projects<W: Write>(
    store: &Store,
    rows: impl RowSource,
    options: &ImportOptions,
    report: &mut ReportWriter<W>,
) -> Result<Imported, ImportError> {
    import_sheet::<ProjectRowReader, W>(store, rows, options, report).await
}

/// Imports the papers of `rows` into `store`.
pub async fn import_publications<W: Write>(
    store: &Store,
    rows: impl RowSource,
    options: &ImportOptions,
    report: &mut ReportWriter<W>,
) -> Result<Imported, ImportError> {
    import_sheet::<PublicationRowReader, W>(store, rows, options, report).await
}

/// Imports the organizations of `rows` into `store`.
pub async fn import_organizations<W: Write>(
    store: &Store,
    rows: impl RowSource,
    options: &ImportOptions,
    report: &mut ReportWriter<W>,
) -> Result<Imported, ImportError> {
    import_sheet::<OrganizationRowReader, W>(store, rows, options, report).await
}

/// The mapping file's column keys as `S`'s columns.
fn mapping_of<C: SheetColumn>(
    mapping: &BTreeMap<String, String>,
) -> Result<BTreeMap<String, C>, ImportError> {
    mapping
        .iter()
        .map(|(header, key)| match C::from_key(key) {
            Some(column) => Ok((header.clone(), column)),
            None => Err(ImportError::Mapping(format!(
                "columns.{header:?} = {key:?} names no column of this sheet; use one of: {}",
                C::ALL
                    .iter()
                    .map(|column| column.key())
                    .collect::<Vec<_>>()
                    .join(", ")
            ))),
        })
        .collect()
}

async fn import_sheet<S: RecordSheet, W: Write>(
    store: &Store,
    mut rows: impl RowSource,
    options: &ImportOptions,
    report: &mut ReportWriter<W>,
) -> Result<Imported, ImportError> {
    let mapping = mapping_of::<S::Column>(&options.mapping)?;
    let mut head = Vec::new();
    while head.len() < HEADER_SEARCH_ROWS {
        match rows.next_row() {
            Some(row) => head.push(row?),
            None => break,
        }
    }
    let cells: Vec<Vec<String>> = head.iter().map(|row| row.cells.clone()).collect();
    let layout =
        find_layout::<S::Column>(&cells, &mapping).ok_or_else(|| ImportError::NoHeader {
            first_row: cells.first().map(|row| row.join(" | ")).unwrap_or_default(),
            kind: S::KIND.as_str(),
            anchor: <S::Column as SheetColumn>::ANCHOR_HEADER,
        })?;
    let columns_not_imported = layout
        .unknown
        .iter()
        .map(|(_, text)| text.clone())
        .collect();
    let data_start = layout.first_header_row + layout.header_rows;
    let id_column = layout
        .columns
        .iter()
        .find(|(_, column)| **column == <S::Column as SheetColumn>::RECORD_ID)
        .map(|(index, _)| *index);
    let id_header = id_column
        .and_then(|index| layout.headers.get(&index).cloned())
        .unwrap_or_default();
    let reader = S::new(layout);
    let mut import = Batches {
        store,
        options,
        reader: &reader,
        summary: Summary::default(),
        seen: HashMap::new(),
        likeness: None,
        batch: Vec::with_capacity(BATCH_ROWS),
        id_column,
        id_header,
        foot: None,
    };
    for row in head.into_iter().skip(data_start) {
        import.push(row, report).await?;
    }
    while let Some(row) = rows.next_row() {
        import.push(row?, report).await?;
    }
    import.flush(report).await?;
    options
        .earlier_sheets
        .remember(report.sheet().unwrap_or_default(), &import.seen);
    Ok(Imported {
        summary: import.summary,
        columns_not_imported,
    })
}

/// A body row read: its record's id, whether the sheet gave that id (its
/// Mã hồ sơ column), and its values; or its report as rejected.
type RowRead<R> = Result<(String, bool, R), RowReport>;

struct Batches<'a, S: RecordSheet> {
    store: &'a Store,
    options: &'a ImportOptions,
    reader: &'a S,
    summary: Summary,
    /// A digest of each accepted row's record id → its line: the same
    /// person twice in one file is reported, not merged. 16 bytes a row.
    seen: HashMap<u64, u64>,
    /// The store's records and the rows accepted so far, to find rows that
    /// may be one of them under another key: read from the store when the
    /// first new record comes (an import that only updates never reads it).
    likeness: Option<LikenessIndex>,
    batch: Vec<(u64, RowRead<S::Row>)>,
    /// The "Mã hồ sơ" column, if the sheet has one, and its header.
    id_column: Option<usize>,
    id_header: String,
    /// Where the signatures at the sheet's foot begin ("Người lập biểu"),
    /// once found: the rows from there on are not records.
    foot: Option<(u64, String)>,
}

impl<S: RecordSheet> Batches<'_, S> {
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

    /// A row of the sheet's body: the id of its record and its values, or
    /// why not. The id is the one the sheet's "Mã hồ sơ" column gives (an
    /// export's), or else the one its natural key makes.
    fn read_row(&mut self, row: &SourceRow) -> RowRead<S::Row> {
        let line = row.line;
        let given = self
            .id_column
            .and_then(|index| row.cells.get(index))
            .map(|cell| cell.trim())
            .filter(|cell| !cell.is_empty());
        if let Some(given) = given
            && let Err(reason) = self.own_id(given)
        {
            return Err(RowReport::rejected(
                line,
                Vec::new(),
                self.id_header.clone(),
                reason,
            ));
        }
        match self.reader.read(&row.cells) {
            Ok(read) => {
                let id = match given {
                    Some(given) => given.to_owned(),
                    None => record_id(&self.options.node_id, S::KIND, &read.natural_key()),
                };
                let key = key_digest(&id);
                let first = self
                    .seen
                    .get(&key)
                    .map(|first| format!("line {first}"))
                    .or_else(|| self.options.earlier_sheets.find(key));
                match first {
                    Some(first) => Err(RowReport::rejected(
                        line,
                        read.into_fixes(),
                        String::new(),
                        S::repeat_of(&first),
                    )),
                    None => {
                        self.seen.insert(key, line);
                        Ok((id, given.is_some(), read))
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

    /// A row of `id` was rejected after all: a later row (in this sheet or
    /// a later one) of the same record is not its repeat.
    fn forget(&mut self, id: &str) {
        self.seen.remove(&key_digest(id));
    }

    /// The record `record` (new) may be the same as, then remembered.
    async fn likeness(&mut self, record: &AnyRecord) -> Result<Option<Likeness>, ImportError> {
        let index = match &mut self.likeness {
            Some(index) => index,
            None => self
                .likeness
                .insert(stored_likeness(self.store, S::KIND).await?),
        };
        Ok(index.check_and_add(record))
    }

    /// Why `id` may not be written by this import: another node's record,
    /// or one of another kind.
    fn own_id(&self, id: &str) -> Result<(), String> {
        let parsed: lienthong_records::RecordId = id.parse().map_err(|error| {
            format!("{id:?} is not a record id ({error}); leave the cell empty for a new record")
        })?;
        if parsed.node != self.options.node_id || parsed.kind != S::KIND {
            return Err(format!(
                "{id} does not name a record of kind {} on this node ({}); an import writes only this node's records (leave the cell empty to import the row as a new record)",
                S::KIND,
                self.options.node_id
            ));
        }
        Ok(())
    }

    async fn flush<W: Write>(&mut self, report: &mut ReportWriter<W>) -> Result<(), ImportError> {
        let batch = std::mem::take(&mut self.batch);
        let id_refs: Vec<&str> = batch
            .iter()
            .filter_map(|(_, read)| read.as_ref().ok())
            .map(|(id, ..)| id.as_str())
            .collect();
        let mut stored = self.store.get_many(&id_refs).await?;
        let deleted = self.store.tombstones_among(&id_refs).await?;
        let mut reports = Vec::with_capacity(batch.len());
        let mut writes = Vec::new();
        for (line, read) in batch {
            let (id, given, read) = match read {
                Ok(read) => read,
                Err(rejected) => {
                    reports.push(rejected);
                    continue;
                }
            };
            if given && !deleted.contains(&id) && !stored.contains_key(&id) {
                // An id the sheet gives names a record held here (an
                // export's); a new row leaves the cell empty. Taking any id
                // would let a row claim one a later import derives for
                // someone else.
                self.forget(&id);
                reports.push(RowReport::rejected(
                    line,
                    read.into_fixes(),
                    self.id_header.clone(),
                    format!(
                        "no record {id} on this node; leave the cell empty to import the row as a new record"
                    ),
                ));
                continue;
            }
            if deleted.contains(&id) {
                // Someone deleted this record here (a person perhaps at
                // their request), or merged it into another; a sheet must
                // not bring it back unasked.
                let reason = match self.store.merged_into(&id).await?.map(|m| m.kept) {
                    Some(kept) => format!(
                        "this record ({id}) was merged into {kept} on this node; correct {kept} instead (an import does not bring a merged record back)"
                    ),
                    None => format!(
                        "this record ({id}) was deleted on this node; an import does not bring it back (restore it with `lienthong records load` if it should return)"
                    ),
                };
                self.forget(&id);
                reports.push(RowReport::rejected(
                    line,
                    read.into_fixes(),
                    String::new(),
                    reason,
                ));
                continue;
            }
            let held = stored.remove(&id).filter(|held| held.kind() == S::KIND);
            let (record, write) = match held {
                Some(mut held) => {
                    let before = held.clone();
                    read.apply_to(&mut held);
                    let write = if held == before {
                        StoreWrite::Unchanged
                    } else {
                        StoreWrite::Updated
                    };
                    (held, write)
                }
                None => (
                    read.new_record(pb::RecordMeta {
                        id: id.clone(),
                        visibility: self.options.visibility as i32,
                        classification: pb::Classification::Normal as i32,
                        ..Default::default()
                    }),
                    StoreWrite::Inserted,
                ),
            };
            let mut fixes = read.into_fixes();
            if self.options.dry_run
                && let Err(error) =
                    lienthong_records::validation::validate(&record, &self.options.node_id)
            {
                // What the store would refuse, a dry run refuses too.
                self.forget(&id);
                reports.push(RowReport::rejected(
                    line,
                    fixes,
                    String::new(),
                    error.to_string(),
                ));
                continue;
            }
            // Records held already are read when the first new one comes; a
            // new one is compared, then remembered for the rows after it.
            if write == StoreWrite::Inserted
                && let Some(like) = self.likeness(&record).await?
            {
                fixes.push(Fix {
                    column: String::new(),
                    rule: NOTE_POSSIBLE_DUPLICATE,
                    from: like.id.clone(),
                    to: format!(
                        "similarity {:.2} ({}); if they are one, after review: lienthong merge --keep {} --drop {id}",
                        like.score, like.why, like.id
                    ),
                });
            }
            let status = if fixes.iter().all(Fix::is_note) {
                RowStatus::Accepted
            } else {
                RowStatus::Fixed
            };
            if write != StoreWrite::Unchanged {
                writes.push((reports.len(), record));
            }
            reports.push(RowReport {
                line,
                status,
                record_id: Some(id),
                write: Some(write),
                fixes,
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
                    if let Some(id) = row.record_id.take() {
                        self.forget(&id);
                    }
                    row.status = RowStatus::Rejected;
                    row.write = None;
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

/// The rule of the note on a row that may be a record already held.
pub const NOTE_POSSIBLE_DUPLICATE: &str = "note_possible_duplicate";

/// Every stored record of `kind`, as [`LikenessIndex`] compares them.
async fn stored_likeness(store: &Store, kind: RecordKind) -> Result<LikenessIndex, ImportError> {
    let mut index = LikenessIndex::default();
    let mut after = 0;
    loop {
        let (records, last) = store.scan(kind, after, 5_000).await?;
        if last == after {
            return Ok(index);
        }
        // Classified records are never suggested: the report travels
        // further than they may.
        for record in records.iter().filter(|record| {
            record.meta().map_or(0, |meta| meta.classification) <= pb::Classification::Normal as i32
        }) {
            index.add(record);
        }
        after = last;
    }
}

/// Puts a cell's text on a record's field, unless the cell was blank: a
/// sheet that leaves a cell empty may just not know, so it erases nothing.
pub(crate) fn put_text(to: &mut String, from: &str) {
    if !from.is_empty() {
        to.clear();
        to.push_str(from);
    }
}

/// As [`put_text`], for a value whose default means "not given".
pub(crate) fn put_value<T: Copy + PartialEq + Default>(to: &mut T, from: T) {
    if from != T::default() {
        *to = from;
    }
}

/// Titles and phrases of the signatures under a list, folded: who signs
/// ("Giám đốc", "Thủ trưởng đơn vị"), and the instructions beside them.
/// Signers' titles may be preceded by KT., TM., TL., Q. (signing for).
const SIGNATURE_WORDS: [&str; 18] = [
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
    "tong giam doc",
    "truong phong",
    "ke toan truong",
    "chu tich",
    "vien truong",
    "hieu truong",
    "truong ban",
    "chanh van phong",
];

/// What starts the foot for certain: the list's maker, a signature
/// instruction, or the dated line. A title alone ("Giám đốc", "LÃNH ĐẠO
/// SỞ", a position in a row of its own) does not.
const FOOT_STARTS: [&str; 5] = [
    "nguoi lap",
    "ky ten",
    "ky ghi ro",
    "ky va ghi ro",
    "ky ho ten",
];

/// The row's first text when it starts the signatures at a sheet's foot:
/// every filled cell is part of them, and one is the list's maker
/// ("Người lập biểu"), a signature instruction ("(Ký, ghi rõ họ tên)") or
/// the dated line ("Hưng Yên, ngày 15 tháng 11 năm 2026"). `None`
/// otherwise: a row naming a person beside a title is a person.
fn signature_marker(cells: &[String]) -> Option<String> {
    let filled: Vec<&str> = cells
        .iter()
        .map(|cell| cell.trim())
        .filter(|cell| !cell.is_empty())
        .collect();
    let first = filled.first()?;
    let mut certain = false;
    for cell in &filled {
        let folded = lienthong_records::folding::normalized(cell);
        let mut words: Vec<&str> = folded.split(' ').collect();
        // "KT. GIÁM ĐỐC": signing for.
        if words.len() > 1 && matches!(words[0], "kt" | "tm" | "tl" | "q" | "ktl") {
            words.remove(0);
        }
        let text = words.join(" ");
        let at = |word: &str| words.iter().position(|w| *w == word);
        let dated = matches!(
            (at("ngay"), at("thang"), at("nam")),
            (Some(day), Some(month), Some(year)) if day < month && month < year
        );
        let starts = |phrases: &[&str]| {
            phrases
                .iter()
                .any(|start| text == *start || text.starts_with(&format!("{start} ")))
        };
        if !(dated || starts(&SIGNATURE_WORDS)) {
            return None;
        }
        certain |= dated || starts(&FOOT_STARTS);
    }
    certain.then(|| (*first).to_owned())
}

/// `<node>:<kind>:x<16 hex digits of the natural key's SHA-256>`.
pub fn record_id(node_id: &str, kind: RecordKind, natural_key: &str) -> String {
    let digest = ring::digest::digest(&ring::digest::SHA256, natural_key.as_bytes());
    let hex: String = digest.as_ref()[..8]
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect();
    format!("{node_id}:{kind}:x{hex}")
}

fn key_digest(natural_key: &str) -> u64 {
    let digest = ring::digest::digest(&ring::digest::SHA256, natural_key.as_bytes());
    let mut bytes = [0u8; 8];
    bytes.copy_from_slice(&digest.as_ref()[..8]);
    u64::from_le_bytes(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(cells: &[&str]) -> Vec<String> {
        cells.iter().map(|cell| (*cell).to_owned()).collect()
    }

    #[test]
    fn the_foot_starts_with_its_maker_an_instruction_or_its_date_not_a_title_alone() {
        assert!(signature_marker(&row(&["", "Người lập biểu", "", "KT. GIÁM ĐỐC"])).is_some());
        assert!(signature_marker(&row(&["Hưng Yên, ngày 15 tháng 11 năm 2026"])).is_some());
        assert!(signature_marker(&row(&["", "(Ký, ghi rõ họ tên)"])).is_some());
        // A heading, a position on a row of its own, a deputy minister.
        assert!(signature_marker(&row(&["", "LÃNH ĐẠO SỞ"])).is_none());
        assert!(signature_marker(&row(&["", "", "Giám đốc Trung tâm"])).is_none());
        assert!(signature_marker(&row(&["Thứ trưởng"])).is_none());
        // A person beside a title is a person.
        assert!(signature_marker(&row(&["Nguyễn Văn An", "Giám đốc"])).is_none());
    }
}
