//! One sheet row as an expert: each cell cleaned (whitespace, Unicode NFC,
//! text damaged by a legacy encoding restored), read as its column's value,
//! and every change listed; or the row rejected, naming the column and why.

use std::collections::BTreeMap;

use lienthong_proto::v1 as pb;
use lienthong_records::folding::normalized;
use unicode_normalization::UnicodeNormalization;

use crate::headers::{ExpertColumn, Layout};
use crate::legacy_encoding::LegacyEncoding;
use crate::report::{Fix, Rejection};
use crate::text_repair::repair_misread_cell;
use crate::values::{self, TitleAndDegree};

/// An expert read from a row: the fields its columns give, and the fixes.
#[derive(Debug, Clone, PartialEq)]
pub struct ExpertRow {
    pub expert: pb::Expert,
    /// Columns the row's file has: what an update replaces.
    pub columns: Vec<ExpertColumn>,
    pub fixes: Vec<Fix>,
}

impl ExpertRow {
    /// What identifies the person across imports: the ORCID when given,
    /// else the folded name, birth year and organization.
    pub fn natural_key(&self) -> String {
        let expert = &self.expert;
        match expert.identifiers.as_ref().map(|ids| ids.orcid.as_str()) {
            Some(orcid) if !orcid.is_empty() => format!("orcid:{orcid}"),
            _ => format!(
                "name:{}|{}|{}",
                normalized(&expert.full_name),
                expert.birth_year,
                normalized(&expert.organization_name)
            ),
        }
    }

    /// Puts this row's fields on `target` (a new record, or the stored one):
    /// the columns the file has replace what was there; the others stay.
    pub fn apply_to(&self, target: &mut pb::Expert) {
        let from = &self.expert;
        for column in &self.columns {
            match column {
                ExpertColumn::FullName => target.full_name.clone_from(&from.full_name),
                ExpertColumn::BirthYear => target.birth_year = from.birth_year,
                ExpertColumn::Gender => target.gender = from.gender,
                ExpertColumn::AcademicTitle => target.academic_title = from.academic_title,
                ExpertColumn::Degree => target.degree = from.degree,
                ExpertColumn::TitleAndDegree => {
                    target.academic_title = from.academic_title;
                    target.degree = from.degree;
                }
                ExpertColumn::Position => target.position.clone_from(&from.position),
                ExpertColumn::Organization => {
                    target.organization_name.clone_from(&from.organization_name)
                }
                ExpertColumn::FieldCodes => target.field_codes.clone_from(&from.field_codes),
                ExpertColumn::Specialization => {
                    target.specialization.clone_from(&from.specialization)
                }
                ExpertColumn::Keywords => target.keywords.clone_from(&from.keywords),
                ExpertColumn::Email => {
                    target.contact.get_or_insert_default().email = from
                        .contact
                        .as_ref()
                        .map(|c| c.email.clone())
                        .unwrap_or_default();
                }
                ExpertColumn::Phone => {
                    target.contact.get_or_insert_default().phone = from
                        .contact
                        .as_ref()
                        .map(|c| c.phone.clone())
                        .unwrap_or_default();
                }
                ExpertColumn::Orcid => {
                    target.identifiers.get_or_insert_default().orcid = from
                        .identifiers
                        .as_ref()
                        .map(|ids| ids.orcid.clone())
                        .unwrap_or_default();
                }
                ExpertColumn::Ignored => {}
            }
        }
    }
}

/// A rejected row, with the fixes made before the fault was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RejectedRow {
    pub rejection: Rejection,
    pub fixes: Vec<Fix>,
}

/// Reads rows of one layout.
pub struct ExpertRowReader {
    layout: Layout,
    /// Header text per column index, for the report.
    headers: BTreeMap<usize, String>,
}

impl ExpertRowReader {
    pub fn new(layout: Layout, headers: BTreeMap<usize, String>) -> Self {
        ExpertRowReader { layout, headers }
    }

    pub fn layout(&self) -> &Layout {
        &self.layout
    }

    fn header(&self, index: usize) -> String {
        self.headers.get(&index).cloned().unwrap_or_default()
    }

    pub fn read(&self, cells: &[String]) -> Result<ExpertRow, RejectedRow> {
        let mut fixes = Vec::new();
        if cells.iter().all(|cell| cell.trim().is_empty()) {
            return Err(reject(String::new(), "empty row".into(), fixes));
        }
        let mut expert = pb::Expert::default();
        let mut title_from_name = TitleAndDegree::default();
        // Whether the sheet's own title and degree cells gave one.
        let (mut title_given, mut degree_given) = (false, false);
        let mut columns = Vec::new();
        let name_index = self
            .layout
            .columns
            .iter()
            .find(|(_, column)| **column == ExpertColumn::FullName)
            .map(|(index, _)| *index);
        for (&index, &column) in &self.layout.columns {
            if column == ExpertColumn::Ignored {
                continue;
            }
            columns.push(column);
            let header = self.header(index);
            let raw = cells.get(index).map(String::as_str).unwrap_or("");
            let text = clean_cell(&header, raw, &mut fixes);
            let fail = |reason: String, fixes: Vec<Fix>| Err(reject(header.clone(), reason, fixes));
            match column {
                ExpertColumn::FullName => {
                    if text.is_empty() {
                        return fail("empty; every expert needs a name".into(), fixes);
                    }
                    let folded = normalized(&text);
                    if folded.starts_with("tong") || folded.starts_with("cong ") {
                        return fail(format!("{text:?} is a totals row, not an expert"), fixes);
                    }
                    let (name, found) = split_title_from_name(&text);
                    if let Some(found) = found {
                        fixes.push(Fix {
                            column: header.clone(),
                            rule: "title_from_name",
                            from: text.clone(),
                            to: name.clone(),
                        });
                        title_from_name = found;
                    }
                    expert.full_name = name;
                }
                ExpertColumn::BirthYear => {
                    if text.is_empty() {
                        continue;
                    }
                    let Some(date) = values::partial_date(&text) else {
                        return fail(
                            format!("{text:?} is not a year or a date; write yyyy or dd/mm/yyyy"),
                            fixes,
                        );
                    };
                    let year = date.year.to_string();
                    if year != text {
                        // Only the year is kept: the rest is personal data
                        // nothing here needs.
                        let rule = if values::excel_serial(&text).is_some()
                            && text.bytes().all(|b| b.is_ascii_digit() || b == b'.')
                        {
                            "excel_date_to_year"
                        } else {
                            "date_to_year"
                        };
                        fixes.push(Fix {
                            column: header.clone(),
                            rule,
                            from: text.clone(),
                            to: year,
                        });
                    }
                    expert.birth_year = date.year;
                }
                ExpertColumn::Gender => {
                    if text.is_empty() {
                        continue;
                    }
                    let Some(gender) = values::gender(&text) else {
                        return fail(
                            format!("{text:?} is not a gender; write Nam, Nữ or Khác"),
                            fixes,
                        );
                    };
                    expert.gender = gender as i32;
                }
                ExpertColumn::AcademicTitle
                | ExpertColumn::Degree
                | ExpertColumn::TitleAndDegree => {
                    if text.is_empty() {
                        continue;
                    }
                    let Some(found) = values::title_and_degree(&text) else {
                        return fail(
                            format!(
                                "{text:?} is not an academic title or degree; write e.g. GS., PGS., TSKH., TS., ThS., KS., CN."
                            ),
                            fixes,
                        );
                    };
                    if let Some(title) = found.title {
                        expert.academic_title = title as i32;
                        title_given = true;
                    }
                    if let Some(degree) = found.degree {
                        expert.degree = degree as i32;
                        degree_given = true;
                    }
                }
                ExpertColumn::Position => expert.position = text,
                ExpertColumn::Organization => expert.organization_name = text,
                ExpertColumn::Specialization => expert.specialization = text,
                ExpertColumn::Keywords => {
                    expert.keywords = split_list(&text);
                }
                ExpertColumn::FieldCodes => {
                    for item in split_list(&text) {
                        if let Some(code) = values::field_code(&item) {
                            expert.field_codes.push(code);
                        } else if let Some(code) = values::field_by_name(&item) {
                            fixes.push(Fix {
                                column: header.clone(),
                                rule: "field_name_to_code",
                                from: item.clone(),
                                to: code.into(),
                            });
                            expert.field_codes.push(code.into());
                        } else {
                            return fail(
                                format!(
                                    "{item:?} is not a field code (Circular 24/2025: 7 digits, Decision 12/2008: 5, the first the field 1-6) nor a field's name"
                                ),
                                fixes,
                            );
                        }
                    }
                }
                ExpertColumn::Email => {
                    if text.is_empty() {
                        continue;
                    }
                    let email = text.to_lowercase();
                    let well_formed = email.split('@').count() == 2
                        && !email.contains([' ', ',', ';'])
                        && email.split('@').all(|part| !part.is_empty())
                        && email
                            .rsplit('@')
                            .next()
                            .is_some_and(|domain| domain.contains('.'));
                    if !well_formed {
                        return fail(
                            format!(
                                "{text:?} is not one e-mail address; give one, like ten@sokhcn.gov.vn"
                            ),
                            fixes,
                        );
                    }
                    expert.contact.get_or_insert_default().email = email;
                }
                ExpertColumn::Phone => {
                    if text.is_empty() {
                        continue;
                    }
                    let phone = phone_number(&text);
                    let digits = phone.bytes().filter(u8::is_ascii_digit).count();
                    if !(9..=15).contains(&digits) || text.contains([';', '/']) {
                        return fail(
                            format!(
                                "{text:?} is not one phone number; give one, like 0221 3862 123"
                            ),
                            fixes,
                        );
                    }
                    if phone != text {
                        fixes.push(Fix {
                            column: header.clone(),
                            rule: "phone_format",
                            from: text.clone(),
                            to: phone.clone(),
                        });
                    }
                    expert.contact.get_or_insert_default().phone = phone;
                }
                ExpertColumn::Orcid => {
                    if text.is_empty() {
                        continue;
                    }
                    let bare = text
                        .trim_start_matches("https://orcid.org/")
                        .trim_start_matches("http://orcid.org/")
                        .to_uppercase();
                    let well_formed = bare.len() == 19
                        && bare.char_indices().all(|(i, c)| match i {
                            4 | 9 | 14 => c == '-',
                            18 => c.is_ascii_digit() || c == 'X',
                            _ => c.is_ascii_digit(),
                        });
                    if !well_formed {
                        return fail(
                            format!("{text:?} is not an ORCID iD; write 0000-0002-1825-0097"),
                            fixes,
                        );
                    }
                    if bare != text {
                        fixes.push(Fix {
                            column: header.clone(),
                            rule: "orcid_bare",
                            from: text.clone(),
                            to: bare.clone(),
                        });
                    }
                    expert.identifiers.get_or_insert_default().orcid = bare;
                }
                ExpertColumn::Ignored => {}
            }
        }
        if name_index.is_none() {
            return Err(reject(String::new(), "no name column".into(), fixes));
        }
        // A title written before the name counts where the sheet's own
        // title and degree cells give none.
        if let Some(title) = title_from_name.title
            && !title_given
        {
            expert.academic_title = title as i32;
            if !columns.contains(&ExpertColumn::AcademicTitle) {
                columns.push(ExpertColumn::AcademicTitle);
            }
        }
        if let Some(degree) = title_from_name.degree
            && !degree_given
        {
            expert.degree = degree as i32;
            if !columns.contains(&ExpertColumn::Degree) {
                columns.push(ExpertColumn::Degree);
            }
        }
        Ok(ExpertRow {
            expert,
            columns,
            fixes,
        })
    }
}

fn reject(column: String, reason: String, fixes: Vec<Fix>) -> RejectedRow {
    RejectedRow {
        rejection: Rejection { column, reason },
        fixes,
    }
}

/// A cell as text to keep: whitespace collapsed and trimmed, Unicode NFC,
/// and text damaged by a legacy encoding restored; each change a fix.
pub fn clean_cell(header: &str, raw: &str, fixes: &mut Vec<Fix>) -> String {
    let mut text = raw.to_owned();
    let mut fix = |rule: &'static str, from: &str, to: &str| {
        fixes.push(Fix {
            column: header.to_owned(),
            rule,
            from: from.to_owned(),
            to: to.to_owned(),
        });
    };
    let spaced = text
        .split(|c: char| c.is_whitespace() || c == '\u{feff}')
        .filter(|word| !word.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    if spaced != text {
        fix("whitespace", &text, &spaced);
        text = spaced;
    }
    let composed: String = text.nfc().collect();
    if composed != text {
        fix("nfc", &text, &composed);
        text = composed;
    }
    if let Some(repair) = repair_misread_cell(&text) {
        let rule = match repair.encoding {
            LegacyEncoding::Tcvn3 => "legacy_tcvn3",
            LegacyEncoding::Viscii => "legacy_viscii",
            LegacyEncoding::Windows1258 => "legacy_cp1258",
        };
        fix(rule, &text, &repair.text);
        text = repair.text;
    }
    text
}

/// "PGS.TS. Nguyễn Văn An" → ("Nguyễn Văn An", PGS + TS).
fn split_title_from_name(text: &str) -> (String, Option<TitleAndDegree>) {
    let words: Vec<&str> = text.split(' ').collect();
    let mut found = TitleAndDegree::default();
    let mut taken = 0;
    for word in &words {
        // Only abbreviations written with a dot or comma count: "Cn" alone
        // could be part of a name.
        let marked = word.ends_with(['.', ',']) || word.contains('.');
        match values::title_and_degree(word) {
            Some(part) if marked => {
                found.title = part.title.or(found.title);
                found.degree = part.degree.or(found.degree);
                taken += 1;
            }
            _ => break,
        }
    }
    if taken == 0 || words.len() - taken < 2 {
        return (text.to_owned(), None);
    }
    (words[taken..].join(" "), Some(found))
}

/// Items of a list cell: split at `;`, `,`, `/` and new lines.
fn split_list(text: &str) -> Vec<String> {
    text.split([';', ',', '/', '\n'])
        .map(str::trim)
        .filter(|item| !item.is_empty())
        .map(str::to_owned)
        .collect()
}

/// A phone number with only its digits and spaces between groups as
/// written, a leading + kept; "(0221) 386.2123" → "0221 386 2123".
fn phone_number(text: &str) -> String {
    let mut out = String::new();
    for c in text.chars() {
        if c.is_ascii_digit() || (c == '+' && out.is_empty()) {
            out.push(c);
        } else if !out.is_empty() && !out.ends_with(' ') && !out.ends_with('+') {
            out.push(' ');
        }
    }
    out.trim_end().to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn titles_before_a_name_move_to_the_title_columns() {
        let (name, found) = split_title_from_name("PGS.TS. Nguyễn Văn An");
        assert_eq!(name, "Nguyễn Văn An");
        let found = found.expect("title");
        assert_eq!(found.title, Some(pb::AcademicTitle::AssociateProfessor));
        assert_eq!(found.degree, Some(pb::Degree::Doctor));
        assert_eq!(split_title_from_name("Nguyễn Văn An").1, None);
    }

    #[test]
    fn cells_are_cleaned_and_each_change_listed() {
        let mut fixes = Vec::new();
        let decomposed = "Nguye\u{302}\u{303}n  Va\u{306}n";
        assert_eq!(
            clean_cell("Họ và tên", decomposed, &mut fixes),
            "Nguyễn Văn"
        );
        assert_eq!(
            fixes.iter().map(|fix| fix.rule).collect::<Vec<_>>(),
            vec!["whitespace", "nfc"]
        );
        let mut fixes = Vec::new();
        assert_eq!(
            clean_cell("Họ và tên", "NguyÔn V¨n §øc", &mut fixes),
            "Nguyễn Văn Đức"
        );
        assert_eq!(fixes[0].rule, "legacy_tcvn3");
        let mut fixes = Vec::new();
        assert_eq!(
            clean_cell("Họ và tên", "Nguyễn Văn Đức", &mut fixes),
            "Nguyễn Văn Đức"
        );
        assert!(fixes.is_empty());
    }

    #[test]
    fn phone_numbers_keep_digits_and_groups() {
        assert_eq!(phone_number("(0221) 386.2123"), "0221 386 2123");
        assert_eq!(phone_number("+84 912-345-678"), "+84 912 345 678");
    }
}
