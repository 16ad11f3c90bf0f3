//! Reading the values department sheets hold, as people wrote them: titles
//! and degrees ("PGS.TS.", "Phó giáo sư, Tiến sĩ"), dates (d/m/yyyy,
//! mm/yyyy, yyyy, Excel serial numbers), gender, money ("1.250.000.000
//! đồng", "1,25 tỷ", "850tr") and field codes.

use lienthong_proto::v1::{AcademicTitle, Degree, Gender};
use lienthong_records::folding::{normalized, tokens};

/// An academic title and a degree read from one cell.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TitleAndDegree {
    pub title: Option<AcademicTitle>,
    pub degree: Option<Degree>,
}

/// Reads "PGS.TS.", "PGS. TS", "GS.TSKH", "Phó giáo sư, Tiến sĩ", "ThS.",
/// "Kỹ sư" and the like. `None` when a word is neither.
pub fn title_and_degree(text: &str) -> Option<TitleAndDegree> {
    let words = tokens(text);
    let mut found = TitleAndDegree::default();
    let mut index = 0;
    while index < words.len() {
        let word = words[index].as_str();
        let next = words.get(index + 1).map(String::as_str);
        let next_two = next.zip(words.get(index + 2).map(String::as_str));
        // Spelled out: "phó giáo sư", "giáo sư", "tiến sĩ khoa học", …
        let (title, degree, used) = match (word, next, next_two) {
            ("pho", Some("giao"), Some((_, "su"))) => {
                (Some(AcademicTitle::AssociateProfessor), None, 3)
            }
            ("giao", Some("su"), _) => (Some(AcademicTitle::Professor), None, 2),
            ("tien", Some("si" | "sy"), Some((_, "khoa"))) => {
                let science = words.get(index + 3).is_some_and(|w| w == "hoc");
                if science {
                    (None, Some(Degree::DoctorOfScience), 4)
                } else {
                    (None, Some(Degree::Doctor), 2)
                }
            }
            ("tien", Some("si" | "sy"), _) => (None, Some(Degree::Doctor), 2),
            ("thac", Some("si" | "sy"), _) => (None, Some(Degree::Master), 2),
            ("ky" | "ki", Some("su"), _) => (None, Some(Degree::Engineer), 2),
            ("cu", Some("nhan"), _) => (None, Some(Degree::Bachelor), 2),
            // "Đại học" in a Trình độ column: a first degree.
            ("dai", Some("hoc"), _) => (None, Some(Degree::Bachelor), 2),
            ("bac", Some("si" | "sy"), _) => (None, Some(Degree::MedicalDoctor), 2),
            // Abbreviated.
            ("pgs", ..) => (Some(AcademicTitle::AssociateProfessor), None, 1),
            ("gs", ..) => (Some(AcademicTitle::Professor), None, 1),
            ("tskh", ..) => (None, Some(Degree::DoctorOfScience), 1),
            ("ts", ..) => (None, Some(Degree::Doctor), 1),
            ("ths", ..) => (None, Some(Degree::Master), 1),
            ("ks", ..) => (None, Some(Degree::Engineer), 1),
            ("cn", ..) => (None, Some(Degree::Bachelor), 1),
            ("bs" | "bsck" | "bscki" | "bsckii", ..) => (None, Some(Degree::MedicalDoctor), 1),
            // "PGS.TS" written together, "PGSTS".
            ("pgsts", ..) => (
                Some(AcademicTitle::AssociateProfessor),
                Some(Degree::Doctor),
                1,
            ),
            ("gsts", ..) => (Some(AcademicTitle::Professor), Some(Degree::Doctor), 1),
            ("gstskh", ..) => (
                Some(AcademicTitle::Professor),
                Some(Degree::DoctorOfScience),
                1,
            ),
            _ => return None,
        };
        // The higher of two degrees stands ("TS, ThS" → TS).
        if let Some(title) = title {
            found.title = Some(found.title.map_or(title, |held| higher_title(held, title)));
        }
        if let Some(degree) = degree {
            found.degree = Some(
                found
                    .degree
                    .map_or(degree, |held| higher_degree(held, degree)),
            );
        }
        index += used;
    }
    (found.title.is_some() || found.degree.is_some()).then_some(found)
}

fn higher_title(a: AcademicTitle, b: AcademicTitle) -> AcademicTitle {
    if a == AcademicTitle::Professor || b == AcademicTitle::Professor {
        AcademicTitle::Professor
    } else {
        a
    }
}

fn higher_degree(a: Degree, b: Degree) -> Degree {
    // Lower enum numbers are higher degrees, doctor of science first.
    if (a as i32) <= (b as i32) { a } else { b }
}

/// A date or part of one, as a sheet gives it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PartialDate {
    pub year: u32,
    pub month: Option<u32>,
    pub day: Option<u32>,
}

/// Earliest and latest years accepted in a date.
pub const YEARS: std::ops::RangeInclusive<u32> = 1900..=2100;

/// Reads d/m/yyyy, dd/mm/yyyy (also with `-` or `.`), yyyy-mm-dd, mm/yyyy,
/// yyyy, and Excel serial day numbers (days since 1899-12-30, as Excel
/// stores dates: 25569 is 1970-01-01). `None` when it is none of these or
/// not a real date.
pub fn partial_date(text: &str) -> Option<PartialDate> {
    let text = text.trim();
    // A year a program wrote as a decimal number ("2019.0").
    if let Some(year) = text
        .strip_suffix(".0")
        .or_else(|| text.strip_suffix(",0"))
        .filter(|year| year.len() == 4 && year.bytes().all(|b| b.is_ascii_digit()))
    {
        return real(PartialDate {
            year: year.parse().ok()?,
            month: None,
            day: None,
        });
    }
    // A serial with a time of day ("24902.5").
    if let Some((days, _)) = text.split_once(['.', ','])
        && (4..=5).contains(&days.len())
        && text.replace(',', ".").parse::<f64>().is_ok()
    {
        return excel_serial(text);
    }
    let parts: Vec<&str> = text.split(['/', '-', '.']).map(str::trim).collect();
    if !parts
        .iter()
        .all(|part| !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit()))
    {
        return excel_serial(text);
    }
    let number = |part: &str| part.parse::<u32>().ok();
    let date = match parts.as_slice() {
        [year] if year.len() == 4 => PartialDate {
            year: number(year)?,
            month: None,
            day: None,
        },
        [serial] if (4..=5).contains(&serial.len()) => return excel_serial(serial),
        [month, year] if year.len() == 4 && month.len() <= 2 => PartialDate {
            year: number(year)?,
            month: Some(number(month)?),
            day: None,
        },
        [year, month, day] if year.len() == 4 => PartialDate {
            year: number(year)?,
            month: Some(number(month)?),
            day: Some(number(day)?),
        },
        [day, month, year] if year.len() == 4 && day.len() <= 2 && month.len() <= 2 => {
            PartialDate {
                year: number(year)?,
                month: Some(number(month)?),
                day: Some(number(day)?),
            }
        }
        _ => return None,
    };
    real(date)
}

fn real(date: PartialDate) -> Option<PartialDate> {
    if !YEARS.contains(&date.year) {
        return None;
    }
    if let Some(month) = date.month {
        if !(1..=12).contains(&month) {
            return None;
        }
        if let Some(day) = date.day
            && !(1..=days_in_month(date.year, month)).contains(&day)
        {
            return None;
        }
    }
    Some(date)
}

pub(crate) fn days_in_month(year: u32, month: u32) -> u32 {
    match month {
        2 if year.is_multiple_of(4) && (!year.is_multiple_of(100) || year.is_multiple_of(400)) => {
            29
        }
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// An Excel serial day number (a whole or fractional number of days since
/// 1899-12-30) as a date; serials before 1900 or after 2100 are not dates.
pub fn excel_serial(text: &str) -> Option<PartialDate> {
    // A workbook's number with a time shows a decimal comma ("24902,5").
    let value: f64 = text.trim().replace(',', ".").parse().ok()?;
    // 73,416 is 2101-01-01: any time of 2100-12-31 is still a date.
    if !value.is_finite() || !(1.0..73_416.0).contains(&value) {
        return None;
    }
    // Days from 1970-01-01, then the civil date (Howard Hinnant's algorithm).
    let days = value.floor() as i64 - 25_569;
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z.rem_euclid(146_097);
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let shifted_month = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * shifted_month + 2) / 5 + 1;
    let month = if shifted_month < 10 {
        shifted_month + 3
    } else {
        shifted_month - 9
    };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    real(PartialDate {
        year: u32::try_from(year).ok()?,
        month: Some(u32::try_from(month).ok()?),
        day: Some(u32::try_from(day).ok()?),
    })
}

/// Reads "Nam", "Nữ", "nu", "M", "F", "Male", "Female", "Khác".
pub fn gender(text: &str) -> Option<Gender> {
    match normalized(text).as_str() {
        "nam" | "m" | "male" | "trai" => Some(Gender::Male),
        "nu" | "f" | "female" | "gai" => Some(Gender::Female),
        "khac" | "other" => Some(Gender::Other),
        _ => None,
    }
}

/// Reads an amount of money in đồng as written: "1.250.000.000 đồng",
/// "1,250,000,000", "1,25 tỷ", "1.25 tỉ", "850 triệu", "850tr", "850 trđ",
/// "500 nghìn", "12.500.000 VNĐ". `None` when it is not an amount.
pub fn money(text: &str) -> Option<u64> {
    let folded = normalized(text);
    let folded = folded.trim();
    // The unit after the number, if any.
    const UNITS: &[(&str, u64)] = &[
        ("ty dong", 1_000_000_000),
        ("ty", 1_000_000_000),
        ("ti", 1_000_000_000),
        ("trieu dong", 1_000_000),
        ("trieu", 1_000_000),
        ("trd", 1_000_000),
        ("tr", 1_000_000),
        ("nghin dong", 1_000),
        ("nghin", 1_000),
        ("ngan", 1_000),
        ("dong", 1),
        ("vnd", 1),
        ("d", 1),
    ];
    // `normalized` dropped the number's separators; read them from the
    // original text instead, up to the first letter.
    let number_end = text
        .char_indices()
        .find(|(_, c)| c.is_alphabetic())
        .map_or(text.len(), |(index, _)| index);
    let number = text[..number_end].trim();
    let unit_text = folded
        .trim_start_matches(|c: char| c.is_ascii_digit() || c == ' ')
        .trim();
    let multiplier = if unit_text.is_empty() {
        1
    } else {
        UNITS.iter().find(|(unit, _)| *unit == unit_text)?.1
    };
    let value = decimal_amount(number, multiplier > 1)?;
    let amount = value * multiplier as f64;
    if !(0.0..1e16).contains(&amount) {
        return None;
    }
    Some(amount.round() as u64)
}

/// A number written with Vietnamese or English separators. Groups of three
/// digits after `.` or `,` are thousands ("1.250.000.000", "1,250,000").
/// With `scaled` (a unit follows), one separator followed by one or two
/// digits is a decimal point ("1,25 tỷ", "1.5 triệu"); followed by three it
/// could be either ("1,250 tỷ"), and the amount is refused rather than
/// guessed.
fn decimal_amount(number: &str, scaled: bool) -> Option<f64> {
    let number: String = number.chars().filter(|c| !c.is_whitespace()).collect();
    if number.is_empty()
        || !number
            .bytes()
            .all(|b| b.is_ascii_digit() || b == b'.' || b == b',')
    {
        return None;
    }
    let groups: Vec<&str> = number.split(['.', ',']).collect();
    if groups.len() == 1 {
        return number.parse().ok();
    }
    if groups.iter().any(|group| group.is_empty()) {
        return None;
    }
    let one_kind = !(number.contains('.') && number.contains(','));
    let thousands =
        one_kind && groups[0].len() <= 3 && groups[1..].iter().all(|group| group.len() == 3);
    match (groups.as_slice(), scaled) {
        ([whole, fraction], true) if fraction.len() <= 2 => {
            format!("{whole}.{fraction}").parse().ok()
        }
        ([_, _], true) => None,
        (_, _) if thousands => groups.concat().parse().ok(),
        _ => None,
    }
}

/// Checks a field code's form: 1–7 digits, the first the field (1–6). The
/// seven-digit codes are Circular 24/2025's, the five-digit ones Decision
/// 12/2008's; both keep the top-level field as the first digit.
pub fn field_code(text: &str) -> Option<String> {
    let code: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    let well_formed = (1..=7).contains(&code.len())
        && code.bytes().all(|b| b.is_ascii_digit())
        && matches!(code.as_bytes()[0], b'1'..=b'6');
    well_formed.then_some(code)
}

/// The top-level field a name stands for ("Khoa học nông nghiệp" → "4").
pub fn field_by_name(text: &str) -> Option<&'static str> {
    let folded = normalized(text);
    const FIELDS: &[(&str, &str)] = &[
        ("khoa hoc tu nhien", "1"),
        ("khoa hoc ky thuat va cong nghe", "2"),
        ("khoa hoc ki thuat va cong nghe", "2"),
        ("ky thuat va cong nghe", "2"),
        ("khoa hoc y duoc", "3"),
        ("khoa hoc y", "3"),
        ("y duoc", "3"),
        ("khoa hoc nong nghiep", "4"),
        ("nong nghiep", "4"),
        ("khoa hoc xa hoi", "5"),
        ("khoa hoc nhan van", "6"),
    ];
    FIELDS
        .iter()
        .find(|(name, _)| *name == folded)
        .map(|(_, code)| *code)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_year_written_as_a_decimal_number_is_a_year() {
        let year = |y| {
            Some(PartialDate {
                year: y,
                month: None,
                day: None,
            })
        };
        assert_eq!(partial_date("2019.0"), year(2019));
        assert_eq!(partial_date("2019,0"), year(2019));
        // A serial with a time, as a workbook shows it.
        assert_eq!(partial_date("29221,5").map(|d| d.year), Some(1980));
    }

    #[test]
    fn titles_and_degrees_as_written() {
        let both = |title, degree| {
            Some(TitleAndDegree {
                title: Some(title),
                degree: Some(degree),
            })
        };
        for text in [
            "PGS.TS.",
            "PGS. TS",
            "pgs.ts",
            "Phó giáo sư, Tiến sĩ",
            "PGS-TS",
            "PGSTS",
        ] {
            assert_eq!(
                title_and_degree(text),
                both(AcademicTitle::AssociateProfessor, Degree::Doctor),
                "{text}"
            );
        }
        assert_eq!(
            title_and_degree("GS.TSKH"),
            both(AcademicTitle::Professor, Degree::DoctorOfScience)
        );
        assert_eq!(
            title_and_degree("Giáo sư, Tiến sĩ khoa học"),
            both(AcademicTitle::Professor, Degree::DoctorOfScience)
        );
        assert_eq!(
            title_and_degree("ThS."),
            Some(TitleAndDegree {
                title: None,
                degree: Some(Degree::Master)
            })
        );
        assert_eq!(title_and_degree("Trưởng phòng"), None);
        assert_eq!(
            title_and_degree("Đại học").and_then(|found| found.degree),
            Some(Degree::Bachelor)
        );
        assert_eq!(
            title_and_degree("BSCKII").and_then(|found| found.degree),
            Some(Degree::MedicalDoctor)
        );
    }

    #[test]
    fn dates_as_written() {
        let date = |year, month, day| Some(PartialDate { year, month, day });
        assert_eq!(partial_date("5/3/1968"), date(1968, Some(3), Some(5)));
        assert_eq!(partial_date("05/03/1968"), date(1968, Some(3), Some(5)));
        assert_eq!(partial_date("05-03-1968"), date(1968, Some(3), Some(5)));
        assert_eq!(partial_date("1968-03-05"), date(1968, Some(3), Some(5)));
        assert_eq!(partial_date("03/1968"), date(1968, Some(3), None));
        assert_eq!(partial_date("1968"), date(1968, None, None));
        assert_eq!(partial_date("25569"), date(1970, Some(1), Some(1)));
        assert_eq!(partial_date("24902.5"), date(1968, Some(3), Some(5)));
        assert_eq!(partial_date("24902"), date(1968, Some(3), Some(5)));
        assert_eq!(partial_date("31/2/1968"), None);
        assert_eq!(partial_date("5/13/1968"), None);
        assert_eq!(partial_date("1868"), None);
        assert_eq!(partial_date("năm 68"), None);
    }

    #[test]
    fn money_as_written() {
        assert_eq!(money("1.250.000.000 đồng"), Some(1_250_000_000));
        assert_eq!(money("1,250,000,000"), Some(1_250_000_000));
        assert_eq!(money("1,25 tỷ"), Some(1_250_000_000));
        assert_eq!(money("1.25 tỉ"), Some(1_250_000_000));
        assert_eq!(money("850 triệu"), Some(850_000_000));
        assert_eq!(money("850tr"), Some(850_000_000));
        assert_eq!(money("1,5 triệu"), Some(1_500_000));
        // Could be 1.5 or 1,500 million: refused, not guessed.
        assert_eq!(money("1.500 triệu"), None);
        assert_eq!(money("1.500.000 triệu"), Some(1_500_000_000_000));
        assert_eq!(money("12.500.000 VNĐ"), Some(12_500_000));
        assert_eq!(money("500 nghìn"), Some(500_000));
        assert_eq!(money("khoảng một tỷ"), None);
        assert_eq!(money("1..2"), None);
    }

    #[test]
    fn field_codes_and_names() {
        assert_eq!(field_code("4010101").as_deref(), Some("4010101"));
        assert_eq!(field_code("40101").as_deref(), Some("40101"));
        assert_eq!(field_code("7010101"), None);
        assert_eq!(field_code("40101010"), None);
        assert_eq!(field_by_name("Khoa học nông nghiệp"), Some("4"));
        assert_eq!(field_by_name("Nông nghiệp"), Some("4"));
    }
}
