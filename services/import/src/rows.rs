//! What every kind of input gives the import: rows of text cells, each with
//! the line (or sheet row) it came from.

use crate::ImportError;

/// One row: its line in the file (1-based, the line it starts on; in a
/// workbook, the sheet's row number) and its cells as text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceRow {
    pub line: u64,
    pub cells: Vec<String>,
}

/// Rows in file order: a CSV file ([`crate::csv_source::CsvRows`]) or one
/// sheet of a workbook ([`crate::workbook::SheetRows`]).
pub trait RowSource {
    /// The next row; `None` at the end.
    fn next_row(&mut self) -> Option<Result<SourceRow, ImportError>>;
}
