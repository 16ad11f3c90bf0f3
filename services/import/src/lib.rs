//! Bringing departments' records in: their spreadsheets read whatever their
//! encoding ([`csv_source`], [`legacy_encoding`]) or format ([`workbook`]:
//! XLSX, XLS, ODS), headers recognised as
//! real sheets write them ([`headers`]), every cell cleaned and read as its
//! column's value with each change listed ([`expert_rows`], [`values`],
//! [`text_repair`]), and every row accounted for ([`report`]) as it is
//! written to the store ([`sheet_import`]).

#![forbid(unsafe_code)]

pub mod csv_source;
pub mod expert_rows;
pub mod export;
pub mod headers;
pub mod legacy_encoding;
mod legacy_tables;
pub mod likeness;
pub mod organization_rows;
pub mod project_rows;
pub mod provinces;
pub mod publication_rows;
pub mod record_merge;
pub mod report;
pub mod rows;
pub mod sheet_import;
pub mod text_repair;
pub mod values;
pub mod workbook;

/// Why an import could not run (a row's own faults are rejections in the
/// report, not errors).
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("cannot read the file: {0}")]
    Read(std::io::Error),
    #[error(
        "the file is neither UTF-8 nor UTF-16, and it does not read as Vietnamese in TCVN3 (ABC), VNI, VISCII or Windows-1258; save it as UTF-8 (Excel: \"CSV UTF-8\") and import it again"
    )]
    UnknownEncoding,
    #[error(
        "line {line}, column {column}: these bytes are not {encoding} text; save the file as UTF-8 (Excel: \"CSV UTF-8\") and import it again"
    )]
    NotText {
        line: u64,
        column: usize,
        encoding: &'static str,
    },
    #[error("the file is not valid CSV: {0}")]
    Csv(String),
    #[error(
        "line {line}, column {column}: one cell runs on for {lines} lines ({bytes} bytes), almost surely from a quote (\") opened there and never closed, which takes in the rows after it; close the quote (or remove it) and import again"
    )]
    RunawayCell {
        line: u64,
        column: usize,
        lines: usize,
        bytes: usize,
    },
    #[error(
        "no header row of a {kind} sheet found in the first 10 rows (the first reads: {first_row:?}); the header must name {anchor} and at least one other known column, or give a mapping file (--mapping) that names them"
    )]
    NoHeader {
        first_row: String,
        kind: &'static str,
        /// The column every sheet of the kind must have, as headers write it.
        anchor: &'static str,
    },
    #[error("mapping file: {0}")]
    Mapping(String),
    #[error(transparent)]
    Store(#[from] lienthong_store::StoreError),
    #[error("cannot write the report: {0}")]
    Report(std::io::Error),
    #[error("cannot read the workbook: {0}")]
    Workbook(String),
    #[error("the workbook has no sheet named {name:?}; its sheets are: {known}")]
    NoSuchSheet { name: String, known: String },
}
