//! One sheet row as an S&T task (nhiệm vụ KH&CN): code and title, leader,
//! host organization, management level, years, budget as written ("1,25
//! tỷ", "850 triệu", or plain numbers under a "(triệu đồng)" header), the
//! acceptance result; each cell cleaned as an expert's are, and every change
//! listed.

use lienthong_proto::v1 as pb;
use lienthong_records::folding::normalized;

use crate::expert_rows::{
    RejectedRow, clean_cell, is_totals_row, read_field_codes, reject, split_list,
    split_title_from_name,
};
use crate::headers::{Layout, SheetColumn};
use crate::provinces::note_merged_province;
use crate::report::Fix;
use crate::values::{self, PartialDate};

/// What a task sheet's column holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ProjectColumn {
    Code,
    Title,
    Lead,
    HostOrganization,
    ManagingAgency,
    ManagementLevel,
    Status,
    StartYear,
    EndYear,
    /// "2019 - 2021", "01/2019 - 12/2021".
    Period,
    TotalBudget,
    StateBudget,
    AcceptanceGrade,
    AcceptanceDate,
    FieldCodes,
    Keywords,
    Objectives,
    Summary,
    /// The record's id ("Mã hồ sơ"), as `lienthong export` writes it: the
    /// row updates that record.
    RecordId,
    Ignored,
}

impl ProjectColumn {
    pub const ALL: [ProjectColumn; 20] = [
        ProjectColumn::Code,
        ProjectColumn::Title,
        ProjectColumn::Lead,
        ProjectColumn::HostOrganization,
        ProjectColumn::ManagingAgency,
        ProjectColumn::ManagementLevel,
        ProjectColumn::Status,
        ProjectColumn::StartYear,
        ProjectColumn::EndYear,
        ProjectColumn::Period,
        ProjectColumn::TotalBudget,
        ProjectColumn::StateBudget,
        ProjectColumn::AcceptanceGrade,
        ProjectColumn::AcceptanceDate,
        ProjectColumn::FieldCodes,
        ProjectColumn::Keywords,
        ProjectColumn::Objectives,
        ProjectColumn::Summary,
        ProjectColumn::RecordId,
        ProjectColumn::Ignored,
    ];
}

impl SheetColumn for ProjectColumn {
    const ANCHOR: Self = ProjectColumn::Title;
    const ANCHOR_HEADER: &'static str = "the task's title (\"Tên nhiệm vụ\", \"Tên đề tài\")";
    const IGNORED: Self = ProjectColumn::Ignored;
    const RECORD_ID: Self = ProjectColumn::RecordId;
    const ALL: &'static [Self] = &ProjectColumn::ALL;
    const NAMES: &'static [(&'static str, Self)] = PROJECT_HEADERS;

    fn key(self) -> &'static str {
        match self {
            ProjectColumn::Code => "code",
            ProjectColumn::Title => "title",
            ProjectColumn::Lead => "lead",
            ProjectColumn::HostOrganization => "host_organization",
            ProjectColumn::ManagingAgency => "managing_agency",
            ProjectColumn::ManagementLevel => "management_level",
            ProjectColumn::Status => "status",
            ProjectColumn::StartYear => "start_year",
            ProjectColumn::EndYear => "end_year",
            ProjectColumn::Period => "period",
            ProjectColumn::TotalBudget => "total_budget",
            ProjectColumn::StateBudget => "state_budget",
            ProjectColumn::AcceptanceGrade => "acceptance_grade",
            ProjectColumn::AcceptanceDate => "acceptance_date",
            ProjectColumn::FieldCodes => "field_codes",
            ProjectColumn::Keywords => "keywords",
            ProjectColumn::Objectives => "objectives",
            ProjectColumn::Summary => "summary",
            ProjectColumn::RecordId => "record_id",
            ProjectColumn::Ignored => "ignored",
        }
    }
}

/// Folded header names, as task catalogs write them. Budget headers may
/// carry their unit ("Kinh phí (triệu đồng)"): numbers under them are read
/// in that unit.
const PROJECT_HEADERS: &[(&str, ProjectColumn)] = &[
    ("ma so", ProjectColumn::Code),
    ("ma so nhiem vu", ProjectColumn::Code),
    ("ma nhiem vu", ProjectColumn::Code),
    ("ma de tai", ProjectColumn::Code),
    ("ma so de tai", ProjectColumn::Code),
    ("ten nhiem vu", ProjectColumn::Title),
    ("ten de tai", ProjectColumn::Title),
    ("ten de tai du an", ProjectColumn::Title),
    ("ten nhiem vu khcn", ProjectColumn::Title),
    ("ten de tai nhiem vu", ProjectColumn::Title),
    ("chu nhiem", ProjectColumn::Lead),
    ("chu nhiem nhiem vu", ProjectColumn::Lead),
    ("chu nhiem de tai", ProjectColumn::Lead),
    ("to chuc chu tri", ProjectColumn::HostOrganization),
    ("co quan chu tri", ProjectColumn::HostOrganization),
    ("don vi chu tri", ProjectColumn::HostOrganization),
    ("co quan chu quan", ProjectColumn::ManagingAgency),
    ("cap quan ly", ProjectColumn::ManagementLevel),
    ("cap", ProjectColumn::ManagementLevel),
    ("cap nhiem vu", ProjectColumn::ManagementLevel),
    ("tinh trang", ProjectColumn::Status),
    ("trang thai", ProjectColumn::Status),
    ("tien do", ProjectColumn::Status),
    ("nam bat dau", ProjectColumn::StartYear),
    ("thoi gian bat dau", ProjectColumn::StartYear),
    ("nam ket thuc", ProjectColumn::EndYear),
    ("thoi gian ket thuc", ProjectColumn::EndYear),
    ("thoi gian thuc hien", ProjectColumn::Period),
    ("kinh phi", ProjectColumn::TotalBudget),
    ("tong kinh phi", ProjectColumn::TotalBudget),
    ("kinh phi dong", ProjectColumn::TotalBudget),
    ("kinh phi trieu dong", ProjectColumn::TotalBudget),
    ("tong kinh phi trieu dong", ProjectColumn::TotalBudget),
    ("kinh phi nghin dong", ProjectColumn::TotalBudget),
    ("tong kinh phi nghin dong", ProjectColumn::TotalBudget),
    ("kinh phi tr d", ProjectColumn::TotalBudget),
    ("tong kinh phi tr d", ProjectColumn::TotalBudget),
    ("kinh phi trd", ProjectColumn::TotalBudget),
    ("kinh phi ngan dong", ProjectColumn::TotalBudget),
    ("tong kinh phi ngan dong", ProjectColumn::TotalBudget),
    ("kinh phi ty dong", ProjectColumn::TotalBudget),
    ("tong kinh phi ty dong", ProjectColumn::TotalBudget),
    ("kinh phi tu nsnn", ProjectColumn::StateBudget),
    ("kinh phi nsnn", ProjectColumn::StateBudget),
    ("ngan sach nha nuoc", ProjectColumn::StateBudget),
    ("kinh phi nsnn trieu dong", ProjectColumn::StateBudget),
    ("kinh phi tu nsnn trieu dong", ProjectColumn::StateBudget),
    ("ket qua nghiem thu", ProjectColumn::AcceptanceGrade),
    ("xep loai", ProjectColumn::AcceptanceGrade),
    ("xep loai nghiem thu", ProjectColumn::AcceptanceGrade),
    ("ket qua danh gia", ProjectColumn::AcceptanceGrade),
    ("ngay nghiem thu", ProjectColumn::AcceptanceDate),
    ("thoi gian nghiem thu", ProjectColumn::AcceptanceDate),
    ("linh vuc", ProjectColumn::FieldCodes),
    ("ma linh vuc", ProjectColumn::FieldCodes),
    ("linh vuc khcn", ProjectColumn::FieldCodes),
    ("tu khoa", ProjectColumn::Keywords),
    ("muc tieu", ProjectColumn::Objectives),
    ("tom tat", ProjectColumn::Summary),
    ("tom tat noi dung", ProjectColumn::Summary),
    ("noi dung chinh", ProjectColumn::Summary),
    ("ma ho so", ProjectColumn::RecordId),
    ("ma ban ghi", ProjectColumn::RecordId),
    ("stt", ProjectColumn::Ignored),
    ("tt", ProjectColumn::Ignored),
    ("ghi chu", ProjectColumn::Ignored),
];

/// A task read from a row: the fields its columns give, and the fixes.
#[derive(Debug, Clone, PartialEq)]
pub struct ProjectRow {
    pub project: pb::Project,
    pub fixes: Vec<Fix>,
}

impl ProjectRow {
    /// The task's code, without case or spacing, and with the characters
    /// that look alike and are typed for one another made one (the Icelandic
    /// Ð for Đ, dashes and the minus sign for the hyphen): what identifies it
    /// across imports.
    pub fn natural_key(&self) -> String {
        let code: String = self
            .project
            .code
            .chars()
            .filter(|c| !c.is_whitespace())
            .flat_map(char::to_uppercase)
            .map(|c| match c {
                'Ð' => 'Đ',
                '–' | '—' | '−' | '‐' | '‑' => '-',
                other => other,
            })
            .collect();
        format!("code:{code}")
    }

    /// Puts this row's values on `target`: each value the sheet gives
    /// replaces what was there; blank cells and absent columns erase nothing.
    pub fn apply_to(&self, target: &mut pb::Project) {
        use crate::sheet_import::{put_text as text, put_value as number};
        let from = &self.project;
        text(&mut target.code, &from.code);
        text(&mut target.title, &from.title);
        number(&mut target.management_level, from.management_level);
        number(&mut target.status, from.status);
        if let Some(lead) = &from.lead
            && !lead.name.is_empty()
        {
            let held = target.lead.get_or_insert_default();
            if held.name != lead.name {
                // Another person: the link to the old one's record goes.
                held.expert_id.clear();
                held.name.clone_from(&lead.name);
            }
            held.role = lead.role;
        }
        if !from.host_organization_name.is_empty()
            && target.host_organization_name != from.host_organization_name
        {
            target.host_organization_id.clear();
        }
        text(
            &mut target.host_organization_name,
            &from.host_organization_name,
        );
        text(&mut target.managing_agency, &from.managing_agency);
        if !from.field_codes.is_empty() {
            target.field_codes.clone_from(&from.field_codes);
        }
        if !from.keywords.is_empty() {
            target.keywords.clone_from(&from.keywords);
        }
        text(&mut target.planned_start, &from.planned_start);
        text(&mut target.planned_end, &from.planned_end);
        number(&mut target.total_budget_vnd, from.total_budget_vnd);
        number(&mut target.state_budget_vnd, from.state_budget_vnd);
        number(&mut target.acceptance_grade, from.acceptance_grade);
        text(&mut target.acceptance_date, &from.acceptance_date);
        text(&mut target.objectives, &from.objectives);
        text(&mut target.summary, &from.summary);
    }
}

/// Reads rows of one layout.
pub struct ProjectRowReader {
    layout: Layout<ProjectColumn>,
}

impl ProjectRowReader {
    pub fn new(layout: Layout<ProjectColumn>) -> Self {
        ProjectRowReader { layout }
    }

    /// The header of the first of `columns` the sheet has.
    fn header_of(&self, columns: &[ProjectColumn]) -> String {
        self.layout
            .columns
            .iter()
            .find(|(_, column)| columns.contains(column))
            .map(|(index, _)| self.layout.header(*index))
            .unwrap_or_default()
    }

    pub fn read(&self, cells: &[String]) -> Result<ProjectRow, RejectedRow> {
        self.layout.check_readable(cells)?;
        let mut fixes = Vec::new();
        // The sum at a catalog's foot names no code; say what it is.
        for (&index, &column) in &self.layout.columns {
            let cell = cells.get(index).map(String::as_str).unwrap_or("");
            if matches!(column, ProjectColumn::Code | ProjectColumn::Title) && is_totals_row(cell) {
                return Err(reject(
                    self.layout.header(index),
                    format!("{:?} is a totals row, not a task", cell.trim()),
                    fixes,
                ));
            }
        }
        let mut project = pb::Project::default();
        let mut status_given = false;
        for (&index, &column) in &self.layout.columns {
            if matches!(column, ProjectColumn::Ignored | ProjectColumn::RecordId) {
                continue;
            }
            let header = self.layout.header(index);
            let raw = cells.get(index).map(String::as_str).unwrap_or("");
            let text = clean_cell(&header, raw, &mut fixes);
            let fail = |reason: String, fixes: Vec<Fix>| Err(reject(header.clone(), reason, fixes));
            if text.is_empty() {
                match column {
                    ProjectColumn::Title => {
                        return fail("empty; every task needs its title".into(), fixes);
                    }
                    ProjectColumn::Code => {
                        return fail(
                            "empty; every task needs its code (mã số), which identifies it \
                             across imports"
                                .into(),
                            fixes,
                        );
                    }
                    _ => continue,
                }
            }
            match column {
                ProjectColumn::Code => project.code = text,
                ProjectColumn::Title => project.title = text,
                ProjectColumn::Lead => {
                    let (name, title) = split_title_from_name(&text);
                    if title.is_some() {
                        fixes.push(Fix {
                            column: header.clone(),
                            rule: "title_from_name",
                            from: text.clone(),
                            to: name.clone(),
                        });
                    }
                    project.lead = Some(pb::ProjectPerson {
                        name,
                        role: pb::ProjectRole::Lead as i32,
                        ..Default::default()
                    });
                }
                ProjectColumn::HostOrganization => {
                    note_merged_province(&header, &text, &mut fixes);
                    project.host_organization_name = text;
                }
                ProjectColumn::ManagingAgency => {
                    note_merged_province(&header, &text, &mut fixes);
                    project.managing_agency = text;
                }
                ProjectColumn::ManagementLevel => match management_level(&text) {
                    Some(level) => project.management_level = level as i32,
                    None => {
                        return fail(
                            format!(
                                "{text:?} is not a management level; write Nhà nước (quốc gia), Bộ, Tỉnh or Cơ sở"
                            ),
                            fixes,
                        );
                    }
                },
                ProjectColumn::Status => match status(&text) {
                    Some(found) => {
                        project.status = found as i32;
                        status_given = true;
                    }
                    None => {
                        return fail(
                            format!(
                                "{text:?} is not a task status; write đề xuất, đã phê duyệt, đang thực hiện, đã nghiệm thu or đã hủy"
                            ),
                            fixes,
                        );
                    }
                },
                ProjectColumn::StartYear | ProjectColumn::EndYear => {
                    let Some(date) = values::partial_date(&text) else {
                        return fail(
                            format!("{text:?} is not a year or a date (yyyy, mm/yyyy, dd/mm/yyyy)"),
                            fixes,
                        );
                    };
                    if column == ProjectColumn::StartYear {
                        project.planned_start =
                            iso_date(&header, &text, date, End::First, &mut fixes);
                    } else {
                        project.planned_end = iso_date(&header, &text, date, End::Last, &mut fixes);
                    }
                }
                ProjectColumn::Period => {
                    let Some((start, end)) = period(&text) else {
                        return fail(
                            format!(
                                "{text:?} is not a period; write it as \"2019 - 2021\" or \"01/2019 - 12/2021\""
                            ),
                            fixes,
                        );
                    };
                    project.planned_start = iso_date(&header, &text, start, End::First, &mut fixes);
                    project.planned_end = iso_date(&header, &text, end, End::Last, &mut fixes);
                }
                ProjectColumn::TotalBudget | ProjectColumn::StateBudget => {
                    let Some(amount) = budget(&header, &text) else {
                        return fail(
                            format!(
                                "{text:?} is not an amount of money; write it as \"1.250.000.000\", \"1,25 tỷ\" or \"850 triệu\" (\"1,250 tỷ\" is ambiguous; a plain number under a million đồng needs its unit, in the cell or the header: \"Kinh phí (triệu đồng)\")"
                            ),
                            fixes,
                        );
                    };
                    let digits = amount.to_string();
                    if digits != text {
                        fixes.push(Fix {
                            column: header.clone(),
                            rule: "money_to_vnd",
                            from: text.clone(),
                            to: digits,
                        });
                    }
                    if column == ProjectColumn::TotalBudget {
                        project.total_budget_vnd = amount;
                    } else {
                        project.state_budget_vnd = amount;
                    }
                }
                ProjectColumn::AcceptanceGrade => match acceptance_grade(&text) {
                    Some(grade) => project.acceptance_grade = grade as i32,
                    None => {
                        return fail(
                            format!(
                                "{text:?} is not an acceptance result; write Xuất sắc, Khá, Đạt or Không đạt"
                            ),
                            fixes,
                        );
                    }
                },
                ProjectColumn::AcceptanceDate => match values::partial_date(&text) {
                    Some(date @ PartialDate { day: Some(_), .. }) => {
                        project.acceptance_date =
                            iso_date(&header, &text, date, End::First, &mut fixes);
                    }
                    _ => {
                        return fail(format!("{text:?} is not a date (dd/mm/yyyy)"), fixes);
                    }
                },
                ProjectColumn::FieldCodes => match read_field_codes(&header, &text, &mut fixes) {
                    Ok(codes) => project.field_codes = codes,
                    Err(reason) => return fail(reason, fixes),
                },
                ProjectColumn::Keywords => project.keywords = split_list(&text),
                ProjectColumn::Objectives => project.objectives = text,
                ProjectColumn::Summary => project.summary = text,
                ProjectColumn::Ignored | ProjectColumn::RecordId => {}
            }
        }
        if project.code.is_empty() {
            return Err(reject(
                String::new(),
                "the sheet has no code column (Mã số); every task needs its code, which identifies it across imports".into(),
                fixes,
            ));
        }
        // ISO dates compare as text.
        if !project.planned_start.is_empty()
            && !project.planned_end.is_empty()
            && project.planned_end < project.planned_start
        {
            return Err(reject(
                self.header_of(&[ProjectColumn::EndYear, ProjectColumn::Period]),
                format!(
                    "the task ends ({}) before it starts ({}); correct the dates",
                    project.planned_end, project.planned_start
                ),
                fixes,
            ));
        }
        if project.total_budget_vnd > 0 && project.state_budget_vnd > project.total_budget_vnd {
            return Err(reject(
                self.header_of(&[ProjectColumn::StateBudget]),
                format!(
                    "the state budget ({} đồng) is more than the total ({} đồng); correct one of them",
                    project.state_budget_vnd, project.total_budget_vnd
                ),
                fixes,
            ));
        }
        if !status_given {
            if project.acceptance_grade != 0 || !project.acceptance_date.is_empty() {
                // Accepted (even as failed): the task has ended.
                project.status = pb::ProjectStatus::Completed as i32;
            } else {
                return Err(reject(
                    String::new(),
                    "the task's status is not given: fill its \"Tình trạng\" cell (đang thực hiện, đã nghiệm thu, …) or its acceptance result (\"Kết quả nghiệm thu\"), adding the column if the sheet has none".into(),
                    fixes,
                ));
            }
        }
        Ok(ProjectRow { project, fixes })
    }
}

/// Which end of a year or month given alone a date stands for.
#[derive(Clone, Copy, PartialEq, Eq)]
enum End {
    First,
    Last,
}

/// `yyyy-mm-dd`; a year or month alone is stored as its first day (a
/// start) or its last (an end), and that is listed as a fix.
fn iso_date(header: &str, text: &str, date: PartialDate, end: End, fixes: &mut Vec<Fix>) -> String {
    let month = date.month.unwrap_or(if end == End::First { 1 } else { 12 });
    let day = date.day.unwrap_or(if end == End::First {
        1
    } else {
        values::days_in_month(date.year, month)
    });
    let iso = format!("{}-{month:02}-{day:02}", date.year);
    if date.day.is_none() {
        let which = if end == End::First { "first" } else { "last" };
        fixes.push(Fix {
            column: header.to_owned(),
            rule: "partial_date",
            from: text.to_owned(),
            to: format!("{iso} (day not given: the {which})"),
        });
    }
    iso
}

/// "2019 - 2021", "2019–2021", "01/2019 - 12/2021", "2019 đến 2021".
fn period(text: &str) -> Option<(PartialDate, PartialDate)> {
    let (start, end) = text
        .split_once('–')
        .or_else(|| text.split_once(" - "))
        .or_else(|| text.split_once(" đến "))
        .or_else(|| {
            // "2019-2021": a dash between two years, not inside a date.
            let (a, b) = text.split_once('-')?;
            (a.trim().len() == 4 && b.trim().len() == 4).then_some((a, b))
        })?;
    Some((
        values::partial_date(start.trim())?,
        values::partial_date(end.trim())?,
    ))
}

/// An amount under `header`: plain numbers are in the header's unit
/// ("Kinh phí (triệu đồng)"); an amount with its own unit is read as such.
fn budget(header: &str, text: &str) -> Option<u64> {
    let plain = text
        .chars()
        .all(|c| c.is_ascii_digit() || matches!(c, '.' | ',' | ' '));
    let folded = format!(" {} ", normalized(header));
    let has = |words: &[&str]| words.iter().any(|w| folded.contains(&format!(" {w} ")));
    let (unit, scale) = if has(&["trieu", "tr d", "trd", "tr"]) {
        (" triệu", 1_000_000)
    } else if has(&["nghin", "ngan", "1 000 d", "1000 d"]) {
        (" nghìn", 1_000)
    } else if has(&["ty"]) {
        (" tỷ", 1_000_000_000)
    } else if plain {
        // A plain number under a header without a unit: đồng, as written,
        // but a task's budget under a million đồng is a unit gone missing
        // (a header "(triệu đồng)" in a row above, say), not a budget.
        return values::money(text).filter(|amount| *amount >= 1_000_000);
    } else {
        return values::money(text);
    };
    if !plain {
        return values::money(text);
    }
    // In the header's unit, as Vietnamese sheets show numbers: "1.250" is
    // one thousand two hundred and fifty (dots group thousands), "1,25" one
    // and a quarter; "1,250" could be either and is refused.
    let after_comma = text.rsplit_once(',').map(|(_, digits)| digits.len());
    if after_comma == Some(3) && !text.contains('.') {
        return None;
    }
    match values::money(text) {
        Some(whole) => whole
            .checked_mul(scale)
            .filter(|amount| *amount < 10u64.pow(16)),
        None => values::money(&format!("{text}{unit}")),
    }
}

fn management_level(text: &str) -> Option<pb::ManagementLevel> {
    let folded = normalized(text);
    let folded = folded.strip_prefix("cap ").unwrap_or(&folded);
    match folded {
        "nha nuoc" | "quoc gia" | "trung uong" => Some(pb::ManagementLevel::National),
        "bo" | "bo nganh" => Some(pb::ManagementLevel::Ministry),
        "tinh" | "thanh pho" => Some(pb::ManagementLevel::Province),
        "co so" => Some(pb::ManagementLevel::Grassroots),
        _ => None,
    }
}

fn status(text: &str) -> Option<pb::ProjectStatus> {
    use pb::ProjectStatus as S;
    match normalized(text).as_str() {
        "de xuat" | "dang de xuat" => Some(S::Proposed),
        "da phe duyet" | "phe duyet" | "duoc phe duyet" => Some(S::Approved),
        "dang thuc hien" | "dang trien khai" => Some(S::Ongoing),
        "da nghiem thu" | "hoan thanh" | "da hoan thanh" | "ket thuc" | "da ket thuc" => {
            Some(S::Completed)
        }
        "da huy" | "huy" | "dung" | "dinh chi" | "da dung" => Some(S::Cancelled),
        _ => None,
    }
}

fn acceptance_grade(text: &str) -> Option<pb::AcceptanceGrade> {
    use pb::AcceptanceGrade as G;
    match normalized(text).as_str() {
        "xuat sac" => Some(G::Excellent),
        "kha" => Some(G::Good),
        "dat" => Some(G::Pass),
        "khong dat" => Some(G::Fail),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::headers::find_layout;
    use std::collections::BTreeMap;

    fn read(header: &[&str], row: &[&str]) -> Result<ProjectRow, RejectedRow> {
        let rows: Vec<Vec<String>> = [header, row]
            .iter()
            .map(|cells| cells.iter().map(|c| (*c).to_owned()).collect())
            .collect();
        let layout = find_layout::<ProjectColumn>(&rows, &BTreeMap::new()).expect("a header");
        ProjectRowReader::new(layout).read(&rows[1])
    }

    #[test]
    fn a_task_ending_before_it_starts_or_with_more_state_money_than_money_is_refused() {
        let header = [
            "Mã số",
            "Tên nhiệm vụ",
            "Tình trạng",
            "Thời gian thực hiện",
            "Kinh phí (triệu đồng)",
            "Kinh phí NSNN (triệu đồng)",
        ];
        let backwards = read(
            &header,
            &["ĐT.01", "Nhiệm vụ", "đang thực hiện", "2022 - 2020", "", ""],
        )
        .expect_err("ends before it starts");
        assert_eq!(backwards.rejection.column, "Thời gian thực hiện");
        assert!(backwards.rejection.reason.contains("before it starts"));
        let overspent = read(
            &header,
            &[
                "ĐT.01",
                "Nhiệm vụ",
                "đang thực hiện",
                "2020 - 2022",
                "500",
                "800",
            ],
        )
        .expect_err("more state money than money");
        assert_eq!(overspent.rejection.column, "Kinh phí NSNN (triệu đồng)");
        assert!(
            read(
                &header,
                &[
                    "ĐT.01",
                    "Nhiệm vụ",
                    "đang thực hiện",
                    "2020 - 2022",
                    "800",
                    "500"
                ],
            )
            .is_ok()
        );
    }

    #[test]
    fn codes_typed_with_lookalike_characters_are_one_code() {
        let key = |code: &str| {
            read(
                &["Mã số", "Tên nhiệm vụ", "Tình trạng"],
                &[code, "Nhiệm vụ", "đã hủy"],
            )
            .expect("a task")
            .natural_key()
        };
        assert_eq!(key("ĐT–07/2019"), key("đt-07/2019"));
        assert_eq!(key("\u{D0}T-07/2019"), key("ĐT-07/2019"));
        assert_ne!(key("ĐT-07/2019"), key("DT-07/2019"));
    }

    #[test]
    fn a_catalog_row_reads_as_a_completed_task() {
        let row = read(
            &[
                "Mã số",
                "Tên nhiệm vụ",
                "Chủ nhiệm",
                "Cấp quản lý",
                "Thời gian thực hiện",
                "Kinh phí (triệu đồng)",
                "Kết quả nghiệm thu",
            ],
            &[
                "ĐT.07/2019",
                "Nghiên cứu chọn tạo giống lúa chịu mặn",
                "PGS.TS. Lê Quang Hải",
                "Cấp tỉnh",
                "2019 - 2021",
                "1.250",
                "Khá",
            ],
        )
        .expect("a task");
        let project = &row.project;
        assert_eq!(project.code, "ĐT.07/2019");
        assert_eq!(
            project.lead.as_ref().map(|l| l.name.as_str()),
            Some("Lê Quang Hải")
        );
        assert_eq!(
            project.management_level,
            pb::ManagementLevel::Province as i32
        );
        assert_eq!(
            (project.planned_start.as_str(), project.planned_end.as_str()),
            ("2019-01-01", "2021-12-31")
        );
        assert_eq!(project.total_budget_vnd, 1_250_000_000);
        assert_eq!(project.status, pb::ProjectStatus::Completed as i32);
        assert_eq!(project.acceptance_grade, pb::AcceptanceGrade::Good as i32);
        assert_eq!(row.natural_key(), "code:ĐT.07/2019");
    }

    #[test]
    fn a_row_without_a_status_or_a_result_is_refused_with_the_way_out() {
        let refused = read(
            &["Mã số", "Tên nhiệm vụ", "Năm bắt đầu"],
            &["DA-01", "Ứng dụng tiến bộ kỹ thuật", "2020"],
        )
        .expect_err("no status");
        assert!(refused.rejection.reason.contains("Tình trạng"));
        let refused = read(
            &["Mã số", "Tên nhiệm vụ", "Kinh phí"],
            &["DA-01", "Ứng dụng tiến bộ kỹ thuật", "1,250 tỷ"],
        )
        .expect_err("ambiguous money");
        assert_eq!(refused.rejection.column, "Kinh phí");
    }

    #[test]
    fn amounts_keep_their_unit_or_are_refused() {
        let budget_of = |header: &str, cell: &str| {
            read(
                &["Mã số", "Tên nhiệm vụ", "Tình trạng", header],
                &["DA-01", "Ứng dụng", "Đang thực hiện", cell],
            )
            .map(|row| row.project.total_budget_vnd)
        };
        assert_eq!(budget_of("Kinh phí (Tr.đ)", "850").ok(), Some(850_000_000));
        assert_eq!(
            budget_of("Kinh phí (ngàn đồng)", "850.000").ok(),
            Some(850_000_000)
        );
        // A workbook's number with decimals comes with a decimal comma.
        assert_eq!(
            budget_of("Kinh phí (triệu đồng)", "1250,5").ok(),
            Some(1_250_500_000)
        );
        // No unit anywhere, and too small to be đồng: refused, not guessed.
        assert!(budget_of("Kinh phí", "1.250").is_err());
        assert_eq!(
            budget_of("Kinh phí", "1.250.000.000").ok(),
            Some(1_250_000_000)
        );
        let refused = read(
            &["Mã số", "Tên nhiệm vụ", "Tình trạng"],
            &["#N/A", "Ứng dụng", "Đang thực hiện"],
        )
        .expect_err("a formula's error");
        assert_eq!(refused.rejection.column, "Mã số");
    }
}
