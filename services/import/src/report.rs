//! What became of every row: accepted as it was, accepted with fixes (each
//! listed), or rejected (with the column and the reason). Rows are written
//! to the report as they are decided, so a million-row import does not hold
//! its report in memory; the counts make the summary.

use std::io::Write;

use serde::Serialize;

/// A row's outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RowStatus {
    Accepted,
    Fixed,
    Rejected,
}

impl RowStatus {
    pub fn label(self) -> &'static str {
        match self {
            RowStatus::Accepted => "accepted",
            RowStatus::Fixed => "fixed",
            RowStatus::Rejected => "rejected",
        }
    }
}

/// What the store did with an accepted row's record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StoreWrite {
    Inserted,
    Updated,
    /// The store already held exactly this; nothing was written.
    Unchanged,
}

impl StoreWrite {
    pub fn label(self, dry_run: bool) -> &'static str {
        match (self, dry_run) {
            (StoreWrite::Inserted, false) => "inserted",
            (StoreWrite::Updated, false) => "updated",
            (StoreWrite::Inserted, true) => "would insert",
            (StoreWrite::Updated, true) => "would update",
            (StoreWrite::Unchanged, _) => "unchanged",
        }
    }
}

/// One change made to a cell on the way in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Fix {
    /// The column's header as the file wrote it.
    pub column: String,
    /// What was done, as a stable code (`nfc`, `whitespace`,
    /// `legacy_tcvn3`, `date_to_year`, …).
    pub rule: &'static str,
    pub from: String,
    pub to: String,
}

impl Fix {
    /// A note on the cell that changed nothing (a province merged in 2025):
    /// listed, and the row still counts as accepted as it was.
    pub fn is_note(&self) -> bool {
        self.rule.starts_with("note_")
    }
}

/// Why a row was not imported.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Rejection {
    /// The column at fault (its header), or empty for the whole row.
    pub column: String,
    pub reason: String,
}

/// Everything the report says about one row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RowReport {
    /// The line in the file the row starts on.
    pub line: u64,
    pub status: RowStatus,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub record_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub write: Option<StoreWrite>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub fixes: Vec<Fix>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rejection: Option<Rejection>,
}

impl RowReport {
    /// A row not imported, and why.
    pub fn rejected(line: u64, fixes: Vec<Fix>, column: String, reason: String) -> RowReport {
        RowReport {
            line,
            status: RowStatus::Rejected,
            record_id: None,
            write: None,
            fixes,
            rejection: Some(Rejection { column, reason }),
        }
    }
}

/// The counts an import ends with.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    pub rows: u64,
    pub accepted: u64,
    pub fixed: u64,
    pub rejected: u64,
    pub fixes: u64,
    pub inserted: u64,
    pub updated: u64,
    pub unchanged: u64,
    /// Rows noted as possibly a record already held under another key.
    pub possible_duplicates: u64,
}

impl Summary {
    /// Adds another import's counts (the sheets of one workbook).
    pub fn add(&mut self, other: &Summary) {
        self.rows += other.rows;
        self.accepted += other.accepted;
        self.fixed += other.fixed;
        self.rejected += other.rejected;
        self.fixes += other.fixes;
        self.inserted += other.inserted;
        self.updated += other.updated;
        self.unchanged += other.unchanged;
        self.possible_duplicates += other.possible_duplicates;
    }

    pub fn count(&mut self, row: &RowReport) {
        self.rows += 1;
        match row.status {
            RowStatus::Accepted => self.accepted += 1,
            RowStatus::Fixed => self.fixed += 1,
            RowStatus::Rejected => self.rejected += 1,
        }
        self.fixes += row.fixes.len() as u64;
        if row
            .fixes
            .iter()
            .any(|fix| fix.rule == crate::sheet_import::NOTE_POSSIBLE_DUPLICATE)
        {
            self.possible_duplicates += 1;
        }
        match row.write {
            Some(StoreWrite::Inserted) => self.inserted += 1,
            Some(StoreWrite::Updated) => self.updated += 1,
            Some(StoreWrite::Unchanged) => self.unchanged += 1,
            None => {}
        }
    }
}

/// The report file's form.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReportFormat {
    /// One line per fix or rejection (and one per row accepted as it was):
    /// `line,status,record_id,write,column,rule,from,to,reason`.
    Csv,
    /// One JSON object per row, a line each.
    JsonLines,
}

/// Writes rows to a report as they are decided.
pub struct ReportWriter<W: Write> {
    out: W,
    format: ReportFormat,
    dry_run: bool,
    /// The workbook sheet the rows come from, when there is one.
    sheet: Option<String>,
}

impl<W: Write> ReportWriter<W> {
    pub fn new(mut out: W, format: ReportFormat, dry_run: bool) -> std::io::Result<Self> {
        if format == ReportFormat::Csv {
            // The byte-order mark makes Excel read the Vietnamese as UTF-8.
            out.write_all("\u{feff}".as_bytes())?;
            writeln!(
                out,
                "line,status,record_id,write,column,rule,from,to,reason"
            )?;
        }
        Ok(ReportWriter {
            out,
            format,
            dry_run,
            sheet: None,
        })
    }

    /// Rows written from now on come from this sheet of a workbook: the
    /// CSV report's line reads `Sheet!12`, and JSON lines carry `"sheet"`.
    pub fn set_sheet(&mut self, sheet: Option<String>) {
        self.sheet = sheet;
    }

    /// The sheet whose rows are being reported, if a workbook's.
    pub fn sheet(&self) -> Option<&str> {
        self.sheet.as_deref()
    }

    pub fn write(&mut self, row: &RowReport) -> std::io::Result<()> {
        match self.format {
            ReportFormat::JsonLines => {
                #[derive(Serialize)]
                struct InSheet<'a> {
                    #[serde(skip_serializing_if = "Option::is_none")]
                    sheet: Option<&'a str>,
                    #[serde(flatten)]
                    row: &'a RowReport,
                }
                let row = InSheet {
                    sheet: self.sheet.as_deref(),
                    row,
                };
                serde_json::to_writer(&mut self.out, &row)?;
                writeln!(self.out)
            }
            ReportFormat::Csv => {
                let write = row.write.map_or("", |write| write.label(self.dry_run));
                let id = row.record_id.as_deref().unwrap_or("");
                let line = match &self.sheet {
                    Some(sheet) => format!("{sheet}!{}", row.line),
                    None => row.line.to_string(),
                };
                let lead = [line, row.status.label().into(), id.into(), write.into()];
                let mut line = |rest: [&str; 5]| -> std::io::Result<()> {
                    let cells: Vec<String> = lead
                        .iter()
                        .map(String::as_str)
                        .chain(rest)
                        .map(csv_cell)
                        .collect();
                    writeln!(self.out, "{}", cells.join(","))
                };
                if let Some(rejection) = &row.rejection {
                    line([&rejection.column, "", "", "", &rejection.reason])?;
                }
                for fix in &row.fixes {
                    line([&fix.column, fix.rule, &fix.from, &fix.to, ""])?;
                }
                if row.rejection.is_none() && row.fixes.is_empty() {
                    line(["", "", "", "", ""])?;
                }
                Ok(())
            }
        }
    }

    pub fn finish(mut self) -> std::io::Result<W> {
        self.out.flush()?;
        Ok(self.out)
    }
}

/// What starts a cell a spreadsheet would run as a formula.
const FORMULA_STARTS: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

/// `text` with a leading apostrophe when a spreadsheet would read it as a
/// formula ("=HYPERLINK(…)", "+84 912…"): shown as text, never run. The
/// import takes the apostrophe off again ([`unguarded_formula`]).
pub fn guarded_formula(text: &str) -> std::borrow::Cow<'_, str> {
    if text.starts_with(FORMULA_STARTS) {
        format!("'{text}").into()
    } else {
        text.into()
    }
}

/// A cell written by [`guarded_formula`], without its apostrophe.
pub fn unguarded_formula(text: &str) -> Option<&str> {
    text.strip_prefix('\'')
        .filter(|rest| rest.starts_with(FORMULA_STARTS))
}

/// A CSV cell, quoted when it must be. A cell that a spreadsheet would read
/// as a formula gets a leading apostrophe.
fn csv_cell(text: &str) -> String {
    let text = guarded_formula(text).into_owned();
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_report_lists_each_fix_and_rejection_and_defuses_formulas() {
        let mut writer = ReportWriter::new(Vec::new(), ReportFormat::Csv, false).expect("new");
        writer
            .write(&RowReport {
                line: 3,
                status: RowStatus::Fixed,
                record_id: Some("hung-yen:expert:x".into()),
                write: Some(StoreWrite::Inserted),
                fixes: vec![Fix {
                    column: "Họ và tên".into(),
                    rule: "whitespace",
                    from: "Nguyễn  Văn, An".into(),
                    to: "=Nguyễn Văn An".into(),
                }],
                rejection: None,
            })
            .expect("write");
        let text = String::from_utf8(writer.finish().expect("finish")).expect("utf-8");
        assert_eq!(
            text,
            "\u{feff}line,status,record_id,write,column,rule,from,to,reason\n\
             3,fixed,hung-yen:expert:x,inserted,Họ và tên,whitespace,\"Nguyễn  Văn, An\",'=Nguyễn Văn An,\n"
        );
    }
}
