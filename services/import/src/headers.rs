//! Finding the header row of a department's sheet and what each column
//! holds. Headers are compared folded (without case or diacritics, "Họ và
//! tên" = "HO VA TEN" = "ho va ten"), against the names real sheets use. A
//! header may span two rows where cells were merged ("Thông tin cá nhân"
//! over "Họ và tên" and "Năm sinh"): the lower cell names the column, or the
//! upper one where the lower is empty.
//!
//! Each kind of sheet has its columns ([`ExpertColumn`],
//! [`crate::project_rows::ProjectColumn`]); what is found here works for
//! any [`SheetColumn`].

use std::collections::BTreeMap;

use lienthong_records::folding::normalized;

/// The columns of one kind of sheet.
pub trait SheetColumn: Copy + Ord + Eq + std::fmt::Debug + Send + Sync + 'static {
    /// The column no row can be without (a name, a title): a header must
    /// name it.
    const ANCHOR: Self;
    /// The anchor as real headers write it, for the error that finds none.
    const ANCHOR_HEADER: &'static str;
    /// Known, and not imported (row numbers, notes).
    const IGNORED: Self;
    /// The record's id, as exports write it: read by the import itself.
    const RECORD_ID: Self;
    /// Every column.
    const ALL: &'static [Self];
    /// Folded header names, as real sheets write them.
    const NAMES: &'static [(&'static str, Self)];

    /// The name mapping files use.
    fn key(self) -> &'static str;

    fn from_key(key: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|column| column.key() == key)
    }
}

impl SheetColumn for ExpertColumn {
    const ANCHOR: Self = ExpertColumn::FullName;
    const ANCHOR_HEADER: &'static str = "the expert's full name (\"Họ và tên\")";
    const IGNORED: Self = ExpertColumn::Ignored;
    const RECORD_ID: Self = ExpertColumn::RecordId;
    const ALL: &'static [Self] = &ExpertColumn::ALL;
    const NAMES: &'static [(&'static str, Self)] = EXPERT_HEADERS;

    fn key(self) -> &'static str {
        ExpertColumn::key(self)
    }
}

/// What an expert sheet's column holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ExpertColumn {
    FullName,
    BirthYear,
    Gender,
    AcademicTitle,
    Degree,
    /// "Học hàm, học vị" in one cell ("PGS.TS.").
    TitleAndDegree,
    Position,
    Organization,
    FieldCodes,
    Specialization,
    Keywords,
    Email,
    Phone,
    Orcid,
    /// The record's id ("Mã hồ sơ"), as `lienthong export` writes it: the
    /// row updates that record.
    RecordId,
    /// A row number or notes: known, and not imported.
    Ignored,
}

impl ExpertColumn {
    /// The name mapping files use.
    pub fn key(self) -> &'static str {
        match self {
            ExpertColumn::FullName => "full_name",
            ExpertColumn::BirthYear => "birth_year",
            ExpertColumn::Gender => "gender",
            ExpertColumn::AcademicTitle => "academic_title",
            ExpertColumn::Degree => "degree",
            ExpertColumn::TitleAndDegree => "title_and_degree",
            ExpertColumn::Position => "position",
            ExpertColumn::Organization => "organization",
            ExpertColumn::FieldCodes => "field_codes",
            ExpertColumn::Specialization => "specialization",
            ExpertColumn::Keywords => "keywords",
            ExpertColumn::Email => "email",
            ExpertColumn::Phone => "phone",
            ExpertColumn::Orcid => "orcid",
            ExpertColumn::RecordId => "record_id",
            ExpertColumn::Ignored => "ignored",
        }
    }

    pub const ALL: [ExpertColumn; 16] = [
        ExpertColumn::FullName,
        ExpertColumn::BirthYear,
        ExpertColumn::Gender,
        ExpertColumn::AcademicTitle,
        ExpertColumn::Degree,
        ExpertColumn::TitleAndDegree,
        ExpertColumn::Position,
        ExpertColumn::Organization,
        ExpertColumn::FieldCodes,
        ExpertColumn::Specialization,
        ExpertColumn::Keywords,
        ExpertColumn::Email,
        ExpertColumn::Phone,
        ExpertColumn::Orcid,
        ExpertColumn::RecordId,
        ExpertColumn::Ignored,
    ];

    pub fn from_key(key: &str) -> Option<ExpertColumn> {
        ExpertColumn::ALL
            .into_iter()
            .find(|column| column.key() == key)
    }
}

/// Folded header names, as real sheets write them.
const EXPERT_HEADERS: &[(&str, ExpertColumn)] = &[
    ("ho va ten", ExpertColumn::FullName),
    ("ho ten", ExpertColumn::FullName),
    ("ho va ten chuyen gia", ExpertColumn::FullName),
    ("ho va ten nha khoa hoc", ExpertColumn::FullName),
    ("ten chuyen gia", ExpertColumn::FullName),
    ("ten nha khoa hoc", ExpertColumn::FullName),
    ("full name", ExpertColumn::FullName),
    ("nam sinh", ExpertColumn::BirthYear),
    ("ngay sinh", ExpertColumn::BirthYear),
    ("ngay thang nam sinh", ExpertColumn::BirthYear),
    ("gioi tinh", ExpertColumn::Gender),
    ("gioi", ExpertColumn::Gender),
    ("nam nu", ExpertColumn::Gender),
    ("hoc ham", ExpertColumn::AcademicTitle),
    ("hoc vi", ExpertColumn::Degree),
    ("trinh do", ExpertColumn::Degree),
    ("trinh do chuyen mon", ExpertColumn::Degree),
    ("hoc ham hoc vi", ExpertColumn::TitleAndDegree),
    ("chuc danh khoa hoc", ExpertColumn::TitleAndDegree),
    ("chuc vu", ExpertColumn::Position),
    ("don vi cong tac", ExpertColumn::Organization),
    ("co quan cong tac", ExpertColumn::Organization),
    ("noi cong tac", ExpertColumn::Organization),
    ("don vi", ExpertColumn::Organization),
    ("co quan", ExpertColumn::Organization),
    ("linh vuc", ExpertColumn::FieldCodes),
    ("linh vuc nghien cuu", ExpertColumn::FieldCodes),
    ("ma linh vuc", ExpertColumn::FieldCodes),
    ("linh vuc khcn", ExpertColumn::FieldCodes),
    ("chuyen nganh", ExpertColumn::Specialization),
    ("chuyen mon", ExpertColumn::Specialization),
    ("tu khoa", ExpertColumn::Keywords),
    ("huong nghien cuu", ExpertColumn::Keywords),
    ("email", ExpertColumn::Email),
    ("e mail", ExpertColumn::Email),
    ("thu dien tu", ExpertColumn::Email),
    ("dien thoai", ExpertColumn::Phone),
    ("so dien thoai", ExpertColumn::Phone),
    ("dt", ExpertColumn::Phone),
    ("sdt", ExpertColumn::Phone),
    ("dien thoai di dong", ExpertColumn::Phone),
    ("orcid", ExpertColumn::Orcid),
    ("ma ho so", ExpertColumn::RecordId),
    ("ma ban ghi", ExpertColumn::RecordId),
    ("stt", ExpertColumn::Ignored),
    ("tt", ExpertColumn::Ignored),
    ("ghi chu", ExpertColumn::Ignored),
];

/// The column a header names, if any.
/// A header typed in a legacy font and saved as Unicode ("Hä vµ tªn") is
/// read as its repaired text ("Họ và tên").
pub fn recognise<C: SheetColumn>(header: &str) -> Option<C> {
    let known = |text: &str| {
        let folded = normalized(text);
        C::NAMES
            .iter()
            .find(|(name, _)| *name == folded)
            .map(|(_, column)| *column)
    };
    known(header).or_else(|| {
        crate::text_repair::repair_misread_cell(header).and_then(|repair| known(&repair.text))
    })
}

/// Where the data starts and what each column holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layout<C> {
    /// Rows the header takes (1 or 2), counted from `first_header_row`.
    pub header_rows: usize,
    /// Index (0-based) of the header's first row among the rows read.
    pub first_header_row: usize,
    /// Column index → what it holds; unrecognised columns are absent.
    pub columns: BTreeMap<usize, C>,
    /// Headers nothing recognised (index, text): reported, not imported.
    pub unknown: Vec<(usize, String)>,
    /// Each column's header text (the lower row of a two-row header, or
    /// the upper where the lower is empty), for the report.
    pub headers: BTreeMap<usize, String>,
}

impl<C> Layout<C> {
    /// The header of column `index`, as the sheet writes it.
    pub fn header(&self, index: usize) -> String {
        self.headers.get(&index).cloned().unwrap_or_default()
    }

    /// The checks every row gets before its cells are read: a cell that
    /// cannot be read (bytes not text in the file's encoding, a formula's
    /// error) is rejected naming its column, an empty row as empty.
    pub(crate) fn check_readable(
        &self,
        cells: &[String],
    ) -> Result<(), crate::expert_rows::RejectedRow> {
        use crate::expert_rows::{reject, unreadable_cell};
        if let Some((index, reason)) = unreadable_cell(cells) {
            return Err(reject(self.header(index), reason, Vec::new()));
        }
        if cells.iter().all(|cell| cell.trim().is_empty()) {
            return Err(reject(String::new(), "empty row".into(), Vec::new()));
        }
        Ok(())
    }
}

/// Rows searched for a header.
pub const HEADER_SEARCH_ROWS: usize = 10;

/// Finds the header among the first rows: the row (or pair of rows, for
/// merged header cells) that names the most known columns, the full name
/// among them. `mapping` (header text → column) is tried before the built-in
/// names.
pub fn find_layout<C: SheetColumn>(
    rows: &[Vec<String>],
    mapping: &BTreeMap<String, C>,
) -> Option<Layout<C>> {
    let recognise_with_mapping = |text: &str| -> Option<C> {
        let folded = normalized(text);
        mapping
            .iter()
            .find(|(header, _)| normalized(header) == folded)
            .map(|(_, column)| *column)
            .or_else(|| recognise(text))
    };
    let mut best: Option<(usize, Layout<C>)> = None;
    for start in 0..rows.len().min(HEADER_SEARCH_ROWS) {
        for header_rows in [1, 2] {
            if start + header_rows > rows.len() {
                continue;
            }
            let width = rows[start..start + header_rows]
                .iter()
                .map(Vec::len)
                .max()
                .unwrap_or(0);
            let mut columns = BTreeMap::new();
            let mut unknown = Vec::new();
            let mut headers = BTreeMap::new();
            for index in 0..width {
                let cell = |row: usize| {
                    rows[row]
                        .get(index)
                        .map(|text| text.trim())
                        .filter(|text| !text.is_empty())
                };
                let text = if header_rows == 2 {
                    cell(start + 1).or_else(|| cell(start))
                } else {
                    cell(start)
                };
                let Some(text) = text else { continue };
                headers.insert(index, text.to_owned());
                match recognise_with_mapping(text) {
                    // A second column for the same field is not read: which
                    // one holds the truth is for a person to say (a mapping
                    // file can name one "ignored").
                    Some(column)
                        if column != C::IGNORED && columns.values().any(|held| *held == column) =>
                    {
                        unknown.push((index, format!("{text} (a second {} column)", column.key())));
                    }
                    Some(column) => {
                        columns.insert(index, column);
                    }
                    None => unknown.push((index, text.to_owned())),
                }
            }
            let named = columns.values().filter(|c| **c != C::IGNORED).count();
            if !columns.values().any(|c| *c == C::ANCHOR) || named < 2 {
                continue;
            }
            // More columns named wins; on a tie, the single row.
            if best.as_ref().is_none_or(|(score, _)| named > *score) {
                best = Some((
                    named,
                    Layout {
                        header_rows,
                        first_header_row: start,
                        columns,
                        unknown,
                        headers,
                    },
                ));
            }
        }
    }
    best.map(|(_, layout)| layout)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(cells: &[&str]) -> Vec<String> {
        cells.iter().map(|cell| (*cell).to_owned()).collect()
    }

    #[test]
    fn headers_are_recognised_with_or_without_diacritics_in_any_case() {
        for header in [
            "Họ và tên",
            "HỌ VÀ TÊN",
            "ho va ten",
            "Ho  va  ten ",
            "HO VA TEN",
        ] {
            assert_eq!(
                recognise::<ExpertColumn>(header),
                Some(ExpertColumn::FullName),
                "{header}"
            );
        }
        assert_eq!(
            recognise("Học hàm, học vị"),
            Some(ExpertColumn::TitleAndDegree)
        );
        assert_eq!(
            recognise("Đơn vị công tác"),
            Some(ExpertColumn::Organization)
        );
        assert_eq!(recognise("E-mail"), Some(ExpertColumn::Email));
        assert_eq!(recognise::<ExpertColumn>("Sở thích"), None);
    }

    #[test]
    fn headers_typed_in_a_legacy_font_are_recognised() {
        // TCVN3 and VNI text saved as Unicode.
        assert_eq!(recognise("Hä vµ tªn"), Some(ExpertColumn::FullName));
        assert_eq!(
            recognise("§¬n vÞ c«ng t¸c"),
            Some(ExpertColumn::Organization)
        );
        assert_eq!(recognise("Hoï vaø teân"), Some(ExpertColumn::FullName));
        assert_eq!(recognise::<ExpertColumn>("Ghi chú khác"), None);
    }

    #[test]
    fn a_title_row_is_skipped_and_merged_header_rows_are_read_together() {
        let rows = vec![
            row(&["DANH SÁCH CHUYÊN GIA TỈNH HƯNG YÊN", "", ""]),
            row(&["STT", "Thông tin cá nhân", "", "Đơn vị công tác"]),
            row(&["", "Họ và tên", "Năm sinh", ""]),
            row(&["1", "Nguyễn Văn An", "1970", "Sở KH&CN"]),
        ];
        let layout = find_layout::<ExpertColumn>(&rows, &BTreeMap::new()).expect("layout");
        assert_eq!(layout.first_header_row, 1);
        assert_eq!(layout.header_rows, 2);
        assert_eq!(
            layout.columns.into_iter().collect::<Vec<_>>(),
            vec![
                (0, ExpertColumn::Ignored),
                (1, ExpertColumn::FullName),
                (2, ExpertColumn::BirthYear),
                (3, ExpertColumn::Organization),
            ]
        );
    }

    #[test]
    fn a_mapping_names_columns_the_built_in_names_do_not_know() {
        let rows = vec![row(&["Tên cán bộ", "Năm sinh"])];
        assert_eq!(find_layout::<ExpertColumn>(&rows, &BTreeMap::new()), None);
        let mapping = BTreeMap::from([("Tên cán bộ".to_owned(), ExpertColumn::FullName)]);
        let layout = find_layout(&rows, &mapping).expect("layout");
        assert_eq!(layout.columns.get(&0), Some(&ExpertColumn::FullName));
    }
}
