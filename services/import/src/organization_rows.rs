//! One sheet row as an organization (tổ chức KH&CN, cơ quan, trường, viện):
//! its name, abbreviation, type, province and electronic ID code (mã định
//! danh, Decision 20/2020/QĐ-TTg); each cell cleaned as an expert's are, and
//! every change listed. A province merged on 1 July 2025 is noted and kept
//! as written: the record says where the organization was.
//!
//! An organization is known across imports by its ID code, or without one
//! by its folded name and province.

use lienthong_proto::v1 as pb;
use lienthong_records::folding::normalized;

use crate::expert_rows::{RejectedRow, clean_cell, is_totals_row, reject};
use crate::headers::{Layout, SheetColumn};
use crate::provinces::note_merged_province;
use crate::report::Fix;

/// What an organization sheet's column holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum OrganizationColumn {
    Name,
    Abbreviation,
    Type,
    Province,
    AgencyCode,
    /// The record's id ("Mã hồ sơ"), as `lienthong export` writes it: the
    /// row updates that record.
    RecordId,
    Ignored,
}

impl OrganizationColumn {
    pub const ALL: [OrganizationColumn; 7] = [
        OrganizationColumn::Name,
        OrganizationColumn::Abbreviation,
        OrganizationColumn::Type,
        OrganizationColumn::Province,
        OrganizationColumn::AgencyCode,
        OrganizationColumn::RecordId,
        OrganizationColumn::Ignored,
    ];
}

impl SheetColumn for OrganizationColumn {
    const ANCHOR: Self = OrganizationColumn::Name;
    const ANCHOR_HEADER: &'static str = "the organization's name (\"Tên tổ chức\", \"Tên đơn vị\")";
    const IGNORED: Self = OrganizationColumn::Ignored;
    const RECORD_ID: Self = OrganizationColumn::RecordId;
    const ALL: &'static [Self] = &OrganizationColumn::ALL;
    const NAMES: &'static [(&'static str, Self)] = ORGANIZATION_HEADERS;

    fn key(self) -> &'static str {
        match self {
            OrganizationColumn::Name => "name",
            OrganizationColumn::Abbreviation => "abbreviation",
            OrganizationColumn::Type => "organization_type",
            OrganizationColumn::Province => "province",
            OrganizationColumn::AgencyCode => "agency_code",
            OrganizationColumn::RecordId => "record_id",
            OrganizationColumn::Ignored => "ignored",
        }
    }
}

/// Folded header names, as lists of organizations write them.
const ORGANIZATION_HEADERS: &[(&str, OrganizationColumn)] = &[
    ("ten to chuc", OrganizationColumn::Name),
    ("ten don vi", OrganizationColumn::Name),
    ("ten co quan", OrganizationColumn::Name),
    ("ten co quan don vi", OrganizationColumn::Name),
    ("ten to chuc khcn", OrganizationColumn::Name),
    ("ten co quan to chuc", OrganizationColumn::Name),
    ("to chuc", OrganizationColumn::Name),
    ("ten viet tat", OrganizationColumn::Abbreviation),
    ("viet tat", OrganizationColumn::Abbreviation),
    ("ten tieng anh viet tat", OrganizationColumn::Abbreviation),
    ("loai hinh", OrganizationColumn::Type),
    ("loai hinh to chuc", OrganizationColumn::Type),
    ("loai to chuc", OrganizationColumn::Type),
    ("loai hinh don vi", OrganizationColumn::Type),
    ("tinh", OrganizationColumn::Province),
    ("tinh thanh pho", OrganizationColumn::Province),
    ("tinh tp", OrganizationColumn::Province),
    ("dia ban", OrganizationColumn::Province),
    ("ma dinh danh", OrganizationColumn::AgencyCode),
    ("ma dinh danh dien tu", OrganizationColumn::AgencyCode),
    ("ma dinh danh co quan", OrganizationColumn::AgencyCode),
    ("ma co quan", OrganizationColumn::AgencyCode),
    ("ma ho so", OrganizationColumn::RecordId),
    ("ma ban ghi", OrganizationColumn::RecordId),
    ("stt", OrganizationColumn::Ignored),
    ("tt", OrganizationColumn::Ignored),
    ("ghi chu", OrganizationColumn::Ignored),
];

/// An organization read from a row: the fields its columns give, and the
/// fixes.
#[derive(Debug, Clone, PartialEq)]
pub struct OrganizationRow {
    pub organization: pb::Organization,
    pub fixes: Vec<Fix>,
}

impl OrganizationRow {
    /// The ID code, or the folded name and province (schools of one name
    /// stand in many districts).
    pub fn natural_key(&self) -> String {
        let organization = &self.organization;
        if organization.agency_code.is_empty() {
            format!(
                "name:{}|{}",
                normalized(&organization.name),
                normalized(&organization.province)
            )
        } else {
            format!("agency:{}", organization.agency_code)
        }
    }

    /// Puts this row's values on `target`: each value the sheet gives
    /// replaces what was there; blank cells and absent columns erase nothing.
    pub fn apply_to(&self, target: &mut pb::Organization) {
        use crate::sheet_import::{put_text as text, put_value as number};
        let from = &self.organization;
        text(&mut target.name, &from.name);
        text(&mut target.abbreviation, &from.abbreviation);
        number(&mut target.organization_type, from.organization_type);
        text(&mut target.province, &from.province);
        text(&mut target.agency_code, &from.agency_code);
    }
}

/// Reads rows of one layout.
pub struct OrganizationRowReader {
    layout: Layout<OrganizationColumn>,
}

impl OrganizationRowReader {
    pub fn new(layout: Layout<OrganizationColumn>) -> Self {
        OrganizationRowReader { layout }
    }

    pub fn read(&self, cells: &[String]) -> Result<OrganizationRow, RejectedRow> {
        self.layout.check_readable(cells)?;
        let mut fixes = Vec::new();
        let mut organization = pb::Organization::default();
        for (&index, &column) in &self.layout.columns {
            if matches!(
                column,
                OrganizationColumn::Ignored | OrganizationColumn::RecordId
            ) {
                continue;
            }
            let header = self.layout.header(index);
            let raw = cells.get(index).map(String::as_str).unwrap_or("");
            let text = clean_cell(&header, raw, &mut fixes);
            let fail = |reason: String, fixes: Vec<Fix>| Err(reject(header.clone(), reason, fixes));
            if text.is_empty() {
                if column == OrganizationColumn::Name {
                    return fail("empty; every organization needs its name".into(), fixes);
                }
                continue;
            }
            match column {
                OrganizationColumn::Name => {
                    if is_totals_row(&text) {
                        return fail(
                            format!("{text:?} is a totals row, not an organization"),
                            fixes,
                        );
                    }
                    note_merged_province(&header, &text, &mut fixes);
                    organization.name = text;
                }
                OrganizationColumn::Abbreviation => organization.abbreviation = text,
                OrganizationColumn::Type => match organization_type(&text) {
                    Some(found) => organization.organization_type = found as i32,
                    None => {
                        return fail(
                            format!(
                                "{text:?} is not a type of organization; write cơ quan nhà nước, trường đại học, viện nghiên cứu, bệnh viện, doanh nghiệp or khác"
                            ),
                            fixes,
                        );
                    }
                },
                OrganizationColumn::Province => {
                    note_merged_province(&header, &text, &mut fixes);
                    organization.province = text;
                }
                OrganizationColumn::AgencyCode => match agency_code(&text) {
                    Some(code) => {
                        if code != text {
                            fixes.push(Fix {
                                column: header.clone(),
                                rule: "agency_code_form",
                                from: text.clone(),
                                to: code.clone(),
                            });
                        }
                        organization.agency_code = code;
                    }
                    None => {
                        return fail(
                            format!(
                                "{text:?} is not an electronic ID code (Decision 20/2020/QĐ-TTg); write it as its four groups, e.g. 000.00.31.H33, or leave the cell empty"
                            ),
                            fixes,
                        );
                    }
                },
                OrganizationColumn::Ignored | OrganizationColumn::RecordId => {}
            }
        }
        Ok(OrganizationRow {
            organization,
            fixes,
        })
    }
}

/// A type written out ("Trường Đại học", "Viện nghiên cứu", "Doanh
/// nghiệp") as its value.
fn organization_type(text: &str) -> Option<pb::OrganizationType> {
    use pb::OrganizationType as Type;
    let folded = normalized(text);
    let starts = |phrases: &[&str]| {
        phrases
            .iter()
            .any(|phrase| folded == *phrase || folded.starts_with(&format!("{phrase} ")))
    };
    if starts(&[
        "co quan nha nuoc",
        "co quan quan ly nha nuoc",
        "co quan hanh chinh",
        "don vi hanh chinh",
        "so",
        "bo",
    ]) {
        Some(Type::StateAgency)
    } else if starts(&[
        "truong",
        "dai hoc",
        "hoc vien",
        "truong dai hoc",
        "cao dang",
    ]) {
        Some(Type::University)
    } else if starts(&[
        "vien",
        "vien nghien cuu",
        "trung tam nghien cuu",
        "to chuc khcn",
        "to chuc khoa hoc va cong nghe",
    ]) {
        Some(Type::ResearchInstitute)
    } else if starts(&["benh vien", "co so y te"]) {
        Some(Type::Hospital)
    } else if starts(&["doanh nghiep", "cong ty", "tap doan", "hop tac xa"]) {
        Some(Type::Enterprise)
    } else if starts(&["khac", "to chuc khac"]) {
        Some(Type::Other)
    } else {
        None
    }
}

/// An electronic ID code as Decision 20/2020/QĐ-TTg writes it: four
/// dot-separated groups, three digits, two, two, and a letter with two
/// digits for the province or ministry ("000.00.31.H33"), in capitals;
/// `None` when it is not one (placeholders such as "NA" or "000" included).
pub fn agency_code(text: &str) -> Option<String> {
    let code: String = text
        .chars()
        .filter(|c| !c.is_whitespace())
        .flat_map(char::to_uppercase)
        .collect();
    let groups: Vec<&str> = code.split('.').collect();
    let digits = |group: &str, length: usize| {
        group.len() == length && group.bytes().all(|b| b.is_ascii_digit())
    };
    let well_formed = matches!(
        groups.as_slice(),
        [first, second, third, last]
            if digits(first, 3)
                && digits(second, 2)
                && digits(third, 2)
                && last.len() == 3
                && last.as_bytes()[0].is_ascii_uppercase()
                && digits(&last[1..], 2)
    );
    well_formed.then_some(code)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types_are_read_from_how_sheets_write_them() {
        use pb::OrganizationType as Type;
        assert_eq!(organization_type("Trường Đại học"), Some(Type::University));
        assert_eq!(
            organization_type("Viện nghiên cứu"),
            Some(Type::ResearchInstitute)
        );
        assert_eq!(organization_type("BỆNH VIỆN"), Some(Type::Hospital));
        assert_eq!(organization_type("Công ty TNHH"), Some(Type::Enterprise));
        assert_eq!(
            organization_type("Cơ quan quản lý nhà nước"),
            Some(Type::StateAgency)
        );
        assert_eq!(organization_type("Sở"), Some(Type::StateAgency));
        // "Sông" starts with neither "sở" nor anything else.
        assert_eq!(organization_type("Sông"), None);
    }

    #[test]
    fn id_codes_are_upper_case_groups() {
        assert_eq!(
            agency_code("000.00.31.h33").as_deref(),
            Some("000.00.31.H33")
        );
        assert_eq!(
            agency_code(" 000.00.00.g01 ").as_deref(),
            Some("000.00.00.G01")
        );
        assert_eq!(agency_code("H33"), None);
        assert_eq!(agency_code("NA"), None);
        assert_eq!(agency_code("000"), None);
        assert_eq!(agency_code("000.00.31.H33.99"), None);
        assert_eq!(agency_code("000.00.31.333"), None);
        assert_eq!(agency_code("Sở KH&CN"), None);
        assert_eq!(agency_code("000.00.31.Ạ33"), None);
    }
}
