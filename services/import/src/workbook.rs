//! Workbooks: XLSX (and XLSM, XLSB), the old binary XLS, and ODS, read with
//! calamine. Each sheet is rows of text cells like a CSV file's, so one
//! import reads both:
//!
//! - text cells as written (workbooks are Unicode; legacy-encoded text typed
//!   into a cell is still repaired cell by cell on the way in);
//! - whole numbers without a decimal point ("1978", not "1978.0"), others
//!   with a decimal comma as Vietnamese sheets show them ("1250,5");
//! - cells formatted as dates as `dd/mm/yyyy` (ODS dates likewise), so a
//!   birth date reads as the date it shows, not as its serial number;
//! - formula errors (`#N/A`, `#REF!`) as they show; a row holding one is
//!   rejected, naming the cell.
//!
//! A sheet is held in memory while it is read (calamine reads a sheet
//! whole); Excel's own limit is 1,048,576 rows.

use std::path::Path;

use calamine::{Data, Range, Reader, Sheets};

use crate::ImportError;
use crate::rows::{RowSource, SourceRow};
use crate::values::excel_serial;

/// The file extensions read as workbooks.
pub const EXTENSIONS: [&str; 5] = ["xlsx", "xlsm", "xlsb", "xls", "ods"];

/// Whether `path` names a workbook (by its extension).
pub fn is_workbook(path: &Path) -> bool {
    path.extension()
        .and_then(|extension| extension.to_str())
        .is_some_and(|extension| {
            EXTENSIONS
                .iter()
                .any(|known| known.eq_ignore_ascii_case(extension))
        })
}

/// An open workbook.
pub struct Workbook {
    sheets: Sheets<std::io::BufReader<std::fs::File>>,
}

impl Workbook {
    pub fn open(path: &Path) -> Result<Workbook, ImportError> {
        let sheets = calamine::open_workbook_auto(path).map_err(|error| {
            ImportError::Workbook(format!(
                "{error}; save it again from Excel or LibreOffice as .xlsx or .ods, or as \
                 \"CSV UTF-8\""
            ))
        })?;
        Ok(Workbook { sheets })
    }

    /// The sheets' names, in the workbook's order.
    pub fn sheet_names(&self) -> Vec<String> {
        self.sheets.sheet_names()
    }

    /// The sheets a person sees in Excel or LibreOffice, and the hidden
    /// ones (lookup tables, old copies: not the list itself), each in the
    /// workbook's order.
    pub fn visible_and_hidden_sheets(&self) -> (Vec<String>, Vec<String>) {
        let (visible, hidden): (Vec<&calamine::Sheet>, Vec<&calamine::Sheet>) = self
            .sheets
            .sheets_metadata()
            .iter()
            .partition(|sheet| sheet.visible == calamine::SheetVisible::Visible);
        let names = |sheets: Vec<&calamine::Sheet>| {
            sheets
                .into_iter()
                .map(|sheet| sheet.name.clone())
                .collect::<Vec<_>>()
        };
        (names(visible), names(hidden))
    }

    /// The rows of the sheet named `name`.
    pub fn rows(&mut self, name: &str) -> Result<SheetRows, ImportError> {
        let names = self.sheet_names();
        if !names.iter().any(|sheet| sheet == name) {
            return Err(ImportError::NoSuchSheet {
                name: name.to_owned(),
                known: names.join(", "),
            });
        }
        let range = self
            .sheets
            .worksheet_range(name)
            .map_err(|error| ImportError::Workbook(format!("sheet {name:?}: {error}")))?;
        Ok(SheetRows::new(range))
    }
}

/// The rows of one sheet, as text.
pub struct SheetRows {
    range: Range<Data>,
    /// The sheet row of the range's first row (0-based).
    first_row: u64,
    /// Empty cells before the range's first column (a sheet that starts in
    /// column C still has its columns where the header names them).
    first_column: usize,
    next: usize,
}

impl SheetRows {
    fn new(range: Range<Data>) -> SheetRows {
        let (first_row, first_column) = range.start().unwrap_or((0, 0));
        SheetRows {
            range,
            first_row: u64::from(first_row),
            first_column: first_column as usize,
            next: 0,
        }
    }
}

impl RowSource for SheetRows {
    fn next_row(&mut self) -> Option<Result<SourceRow, ImportError>> {
        // By position: a fresh row iterator would walk from the top each time.
        let (height, width) = self.range.get_size();
        if self.next >= height {
            return None;
        }
        let row = self.next;
        let line = self.first_row + row as u64 + 1;
        self.next += 1;
        let mut cells = vec![String::new(); self.first_column];
        cells.extend((0..width).map(|column| {
            self.range
                .get((row, column))
                .map(cell_text)
                .unwrap_or_default()
        }));
        // Trailing empty cells are not columns the row has.
        while cells.last().is_some_and(String::is_empty) {
            cells.pop();
        }
        Some(Ok(SourceRow { line, cells }))
    }
}

/// A cell as the sheet shows it.
pub fn cell_text(cell: &Data) -> String {
    match cell {
        Data::Empty => String::new(),
        Data::String(text) => text.clone(),
        Data::Int(number) => number.to_string(),
        Data::Float(number) => number_text(*number),
        Data::Bool(value) => if *value { "TRUE" } else { "FALSE" }.to_owned(),
        Data::DateTime(value) if value.is_datetime() => date_text(value.as_f64()),
        Data::DateTime(value) => number_text(value.as_f64()),
        // ODS writes dates as ISO text: "1978-05-02" or "1978-05-02T00:00:00".
        Data::DateTimeIso(text) => text.split('T').next().unwrap_or(text).to_owned(),
        Data::DurationIso(text) => text.clone(),
        Data::Error(error) => error.to_string(),
    }
}

/// A number as a Vietnamese sheet shows it: whole numbers without a
/// decimal part, others with a decimal comma ("1250,5"), so that the
/// readings of text cells (where a dot groups thousands) cannot take a
/// number's decimal point for a thousands separator.
fn number_text(number: f64) -> String {
    if number.fract() == 0.0 && number.abs() < 1e15 {
        format!("{}", number as i64)
    } else {
        number.to_string().replace('.', ",")
    }
}

/// A date cell's serial as `dd/mm/yyyy`; out of the years sheets hold, as
/// the serial itself.
fn date_text(serial: f64) -> String {
    match excel_serial(&serial.to_string()) {
        Some(date) => format!(
            "{:02}/{:02}/{}",
            date.day.unwrap_or(1),
            date.month.unwrap_or(1),
            date.year
        ),
        None => number_text(serial),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_read_as_the_sheet_shows_them() {
        assert_eq!(cell_text(&Data::Float(1978.0)), "1978");
        assert_eq!(cell_text(&Data::Float(1.5)), "1,5");
        assert_eq!(cell_text(&Data::Int(42)), "42");
        assert_eq!(
            cell_text(&Data::String("Nguyễn Văn An".into())),
            "Nguyễn Văn An"
        );
        assert_eq!(
            cell_text(&Data::DateTimeIso("1978-05-02T00:00:00".into())),
            "1978-05-02"
        );
        assert_eq!(cell_text(&Data::Empty), "");
        assert!(is_workbook(Path::new("chuyen-gia.XLSX")));
        assert!(is_workbook(Path::new("a.ods")));
        assert!(!is_workbook(Path::new("a.csv")));
    }
}
