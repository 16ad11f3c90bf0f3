//! One sheet row as an expert: each cell cleaned (whitespace, Unicode NFC,
//! text damaged by a legacy encoding restored), read as its column's value,
//! and every change listed; or the row rejected, naming the column and why.

use lienthong_proto::v1 as pb;
use lienthong_records::folding::{accent_keys, normalized};
use unicode_normalization::UnicodeNormalization;

use crate::headers::{ExpertColumn, Layout};
use crate::report::{Fix, Rejection};
use crate::text_repair::repair_misread_cell;
use crate::values::{self, TitleAndDegree};

/// An expert read from a row: the fields its columns give, and the fixes.
#[derive(Debug, Clone, PartialEq)]
pub struct ExpertRow {
    pub expert: pb::Expert,
    pub fixes: Vec<Fix>,
}

impl ExpertRow {
    /// What identifies the person across imports: the ORCID when given,
    /// else the name, birth year and organization, compared without case or
    /// spacing and with either placement of the tone ("Thuỷ" = "Thủy"), but
    /// with every diacritic ("Thu" and "Thư" are different people).
    pub fn natural_key(&self) -> String {
        let expert = &self.expert;
        match expert.identifiers.as_ref().map(|ids| ids.orcid.as_str()) {
            Some(orcid) if !orcid.is_empty() => format!("orcid:{orcid}"),
            _ => format!(
                "name:{}|{}|{}",
                accent_keys(&expert.full_name).join(" "),
                expert.birth_year,
                accent_keys(&expert.organization_name).join(" ")
            ),
        }
    }

    /// Puts this row's values on `target` (a new record, or the stored one):
    /// each value the sheet gives replaces what was there. A blank cell
    /// erases nothing (a sheet that leaves a cell empty may just not know),
    /// and fields the sheet has no column for stay as they are.
    pub fn apply_to(&self, target: &mut pb::Expert) {
        use crate::sheet_import::{put_text as text, put_value as number};
        let from = &self.expert;
        text(&mut target.full_name, &from.full_name);
        number(&mut target.birth_year, from.birth_year);
        number(&mut target.gender, from.gender);
        number(&mut target.academic_title, from.academic_title);
        number(&mut target.degree, from.degree);
        text(&mut target.position, &from.position);
        text(&mut target.organization_name, &from.organization_name);
        text(&mut target.specialization, &from.specialization);
        if !from.field_codes.is_empty() {
            target.field_codes.clone_from(&from.field_codes);
        }
        if !from.keywords.is_empty() {
            target.keywords.clone_from(&from.keywords);
        }
        if let Some(contact) = &from.contact {
            let held = target.contact.get_or_insert_default();
            text(&mut held.email, &contact.email);
            text(&mut held.phone, &contact.phone);
        }
        if let Some(ids) = &from.identifiers {
            text(
                &mut target.identifiers.get_or_insert_default().orcid,
                &ids.orcid,
            );
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
    layout: Layout<ExpertColumn>,
}

impl ExpertRowReader {
    pub fn new(layout: Layout<ExpertColumn>) -> Self {
        ExpertRowReader { layout }
    }

    pub fn read(&self, cells: &[String]) -> Result<ExpertRow, RejectedRow> {
        self.layout.check_readable(cells)?;
        let mut fixes = Vec::new();
        let mut expert = pb::Expert::default();
        let mut title_from_name = TitleAndDegree::default();
        // Whether the sheet's own title and degree cells gave one.
        let (mut title_given, mut degree_given) = (false, false);
        // The layout always has a name column (`find_layout` requires one).
        for (&index, &column) in &self.layout.columns {
            if matches!(column, ExpertColumn::Ignored | ExpertColumn::RecordId) {
                continue;
            }
            let header = self.layout.header(index);
            let raw = cells.get(index).map(String::as_str).unwrap_or("");
            // Items typed on lines of their own (Alt+Enter) stay apart.
            let listed;
            let raw = if matches!(column, ExpertColumn::FieldCodes | ExpertColumn::Keywords)
                && raw.contains('\n')
            {
                listed = raw.lines().map(str::trim).collect::<Vec<_>>().join("; ");
                listed.as_str()
            } else {
                raw
            };
            let text = clean_cell(&header, raw, &mut fixes);
            let fail = |reason: String, fixes: Vec<Fix>| Err(reject(header.clone(), reason, fixes));
            match column {
                ExpertColumn::FullName => {
                    if text.is_empty() {
                        return fail("empty; every expert needs a name".into(), fixes);
                    }
                    if is_totals_row(&text) {
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
                        // The report does not repeat the full date either.
                        fixes.push(Fix {
                            column: header.clone(),
                            rule,
                            from: "(full date, not kept)".into(),
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
                ExpertColumn::Organization => {
                    crate::provinces::note_merged_province(&header, &text, &mut fixes);
                    expert.organization_name = text;
                }
                ExpertColumn::Specialization => expert.specialization = text,
                ExpertColumn::Keywords => {
                    expert.keywords = split_list(&text);
                }
                ExpertColumn::FieldCodes => match read_field_codes(&header, &text, &mut fixes) {
                    Ok(codes) => expert.field_codes.extend(codes),
                    Err(reason) => return fail(reason, fixes),
                },
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
                    if email != text {
                        fixes.push(Fix {
                            column: header.clone(),
                            rule: "email_lowercase",
                            from: text.clone(),
                            to: email.clone(),
                        });
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
                    if !well_formed || !orcid_checksum_holds(&bare) {
                        return fail(
                            format!(
                                "{text:?} is not an ORCID iD (16 digits in four groups, the last a check digit or X, as orcid.org shows it)"
                            ),
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
                ExpertColumn::Ignored | ExpertColumn::RecordId => {}
            }
        }
        // A title written before the name counts where the sheet's own
        // title and degree cells give none.
        if let Some(title) = title_from_name.title
            && !title_given
        {
            expert.academic_title = title as i32;
        }
        if let Some(degree) = title_from_name.degree
            && !degree_given
        {
            expert.degree = degree as i32;
        }
        Ok(ExpertRow { expert, fixes })
    }
}

/// "Tổng cộng: 11 chuyên gia", "Tổng số", "Cộng": the sum at a sheet's foot,
/// not a person (whose surname may well be Tống).
pub(crate) fn is_totals_row(text: &str) -> bool {
    let folded = normalized(text);
    let words: Vec<&str> = folded.split(' ').collect();
    let written_tong = text.trim_start().to_lowercase().starts_with("tổng");
    match words.as_slice() {
        ["tong", "cong" | "so", ..] => written_tong,
        ["cong"] => true,
        ["cong", next, ..] => next.bytes().all(|b| b.is_ascii_digit()),
        _ => false,
    }
}

/// ISO 7064 MOD 11-2, the check ORCID iDs carry in their last character.
fn orcid_checksum_holds(orcid: &str) -> bool {
    let characters: Vec<char> = orcid.chars().filter(|c| *c != '-').collect();
    let Some((last, body)) = characters.split_last() else {
        return false;
    };
    let mut total = 0u32;
    for digit in body {
        let Some(value) = digit.to_digit(10) else {
            return false;
        };
        total = (total + value) * 2;
    }
    let check = (12 - total % 11) % 11;
    let expected = char::from_digit(check, 10).unwrap_or('X');
    *last == expected
}

pub(crate) fn reject(column: String, reason: String, fixes: Vec<Fix>) -> RejectedRow {
    RejectedRow {
        rejection: Rejection { column, reason },
        fixes,
    }
}

/// The first cell of a row that cannot be read, and why: bytes that were
/// not text in the file's encoding, or a spreadsheet formula's error.
pub(crate) fn unreadable_cell(cells: &[String]) -> Option<(usize, String)> {
    const FORMULA_ERRORS: [&str; 8] = [
        "#N/A",
        "#REF!",
        "#VALUE!",
        "#DIV/0!",
        "#NAME?",
        "#NUM!",
        "#NULL!",
        "#GETTING_DATA",
    ];
    cells.iter().enumerate().find_map(|(index, cell)| {
        if cell.contains('\u{FFFD}') {
            return Some((
                index,
                format!(
                    "{cell:?} holds bytes that are not text in the file's encoding (shown as \u{FFFD}); correct the cell and import again"
                ),
            ));
        }
        FORMULA_ERRORS.contains(&cell.trim()).then(|| {
            (
                index,
                format!(
                    "{:?} is a spreadsheet formula's error, not a value; correct the formula (or paste the values) and import again",
                    cell.trim()
                ),
            )
        })
    })
}

/// A cell's field codes: codes as written, or fields named ("Khoa học
/// nông nghiệp" → "4", a fix); the reason when an item is neither.
pub(crate) fn read_field_codes(
    header: &str,
    text: &str,
    fixes: &mut Vec<Fix>,
) -> Result<Vec<String>, String> {
    let mut codes = Vec::new();
    for item in split_list(text) {
        if let Some(code) = values::field_code(&item) {
            codes.push(code);
        } else if let Some(code) = values::field_by_name(&item) {
            fixes.push(Fix {
                column: header.to_owned(),
                rule: "field_name_to_code",
                from: item.clone(),
                to: code.into(),
            });
            codes.push(code.into());
        } else {
            return Err(format!(
                "{item:?} is not a field code (Circular 24/2025: 7 digits, Decision 12/2008: 5, the first the field 1-6) nor a field's name"
            ));
        }
    }
    Ok(codes)
}

/// A cell as text to keep: whitespace collapsed and trimmed, Unicode NFC,
/// and text damaged by a legacy encoding restored; each change a fix.
pub fn clean_cell(header: &str, raw: &str, fixes: &mut Vec<Fix>) -> String {
    let mut text = raw.to_owned();
    if let Some(unguarded) = crate::report::unguarded_formula(raw.trim_start()) {
        // "'+84 912…": an export's guard against formulas, not the value.
        fixes.push(Fix {
            column: header.to_owned(),
            rule: "formula_guard",
            from: raw.to_owned(),
            to: unguarded.to_owned(),
        });
        text = unguarded.to_owned();
    }
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
        fix(repair.encoding.repair_rule(), &text, &repair.text);
        text = repair.text;
    }
    text
}

/// "PGS.TS. Nguyễn Văn An" → ("Nguyễn Văn An", PGS + TS).
pub(crate) fn split_title_from_name(text: &str) -> (String, Option<TitleAndDegree>) {
    let words: Vec<&str> = text.split(' ').collect();
    let mut found = TitleAndDegree::default();
    let mut taken = 0;
    for word in &words {
        // Only abbreviations written as such count: with a dot or comma
        // ("TS."), or in capitals ("TS", "PGS", "ThS"); "Cn" alone could be
        // part of a name.
        let marked = word.ends_with(['.', ','])
            || word.contains('.')
            || word.chars().all(|c| c.is_ascii_uppercase())
            || *word == "ThS";
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

/// Items of a list cell: split at `;` and new lines when the cell has
/// either (an item may hold a comma: "lúa, gạo"), else also at `,` and `/`.
pub(crate) fn split_list(text: &str) -> Vec<String> {
    let separators: &[char] = if text.contains([';', '\n']) {
        &[';', '\n']
    } else {
        &[';', ',', '/', '\n']
    };
    text.split(separators)
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
        assert_eq!(split_title_from_name("TS Nguyễn Văn An").0, "Nguyễn Văn An");
        assert_eq!(split_title_from_name("Ts Nguyễn Văn An").1, None);
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
    fn totals_rows_are_told_from_people_named_tong() {
        assert!(is_totals_row("Tổng cộng: 11 chuyên gia"));
        assert!(is_totals_row("TỔNG SỐ"));
        assert!(is_totals_row("Cộng"));
        assert!(!is_totals_row("Tống Văn Cộng"));
        assert!(!is_totals_row("Tòng Thị Mai"));
    }

    #[test]
    fn orcid_check_digits() {
        assert!(orcid_checksum_holds("0000-0002-1825-0097"));
        assert!(orcid_checksum_holds("0000-0002-1694-233X"));
        assert!(!orcid_checksum_holds("0000-0002-1825-0096"));
        assert!(!orcid_checksum_holds("0000-0000-0000-0000"));
    }

    #[test]
    fn phone_numbers_keep_digits_and_groups() {
        assert_eq!(phone_number("(0221) 386.2123"), "0221 386 2123");
        assert_eq!(phone_number("+84 912-345-678"), "+84 912 345 678");
    }
}
