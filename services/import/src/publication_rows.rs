//! One sheet row as a scientific paper (bài báo khoa học): title, authors
//! as printed, journal or proceedings, year, volume, issue, pages and DOI;
//! each cell cleaned as an expert's are, and every change listed.
//!
//! A paper is known across imports by its DOI, or without one by its title
//! and year (folded: case, diacritics and spacing do not make another
//! paper).

use lienthong_proto::v1 as pb;
use lienthong_records::folding::normalized;

use crate::expert_rows::{
    RejectedRow, clean_cell, is_totals_row, read_field_codes, reject, split_list,
    split_title_from_name,
};
use crate::headers::{Layout, SheetColumn};
use crate::report::Fix;
use crate::values;

/// What a paper sheet's column holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum PublicationColumn {
    Title,
    Authors,
    Venue,
    Year,
    Volume,
    Issue,
    Pages,
    Doi,
    Language,
    Abstract,
    Keywords,
    FieldCodes,
    /// The record's id ("Mã hồ sơ"), as `lienthong export` writes it: the
    /// row updates that record.
    RecordId,
    Ignored,
}

impl PublicationColumn {
    pub const ALL: [PublicationColumn; 14] = [
        PublicationColumn::Title,
        PublicationColumn::Authors,
        PublicationColumn::Venue,
        PublicationColumn::Year,
        PublicationColumn::Volume,
        PublicationColumn::Issue,
        PublicationColumn::Pages,
        PublicationColumn::Doi,
        PublicationColumn::Language,
        PublicationColumn::Abstract,
        PublicationColumn::Keywords,
        PublicationColumn::FieldCodes,
        PublicationColumn::RecordId,
        PublicationColumn::Ignored,
    ];
}

impl SheetColumn for PublicationColumn {
    const ANCHOR: Self = PublicationColumn::Title;
    const ANCHOR_HEADER: &'static str = "the paper's title (\"Tên bài báo\", \"Tên công trình\")";
    const IGNORED: Self = PublicationColumn::Ignored;
    const RECORD_ID: Self = PublicationColumn::RecordId;
    const ALL: &'static [Self] = &PublicationColumn::ALL;
    const NAMES: &'static [(&'static str, Self)] = PUBLICATION_HEADERS;

    fn key(self) -> &'static str {
        match self {
            PublicationColumn::Title => "title",
            PublicationColumn::Authors => "authors",
            PublicationColumn::Venue => "venue",
            PublicationColumn::Year => "year",
            PublicationColumn::Volume => "volume",
            PublicationColumn::Issue => "issue",
            PublicationColumn::Pages => "pages",
            PublicationColumn::Doi => "doi",
            PublicationColumn::Language => "language",
            PublicationColumn::Abstract => "abstract",
            PublicationColumn::Keywords => "keywords",
            PublicationColumn::FieldCodes => "field_codes",
            PublicationColumn::RecordId => "record_id",
            PublicationColumn::Ignored => "ignored",
        }
    }
}

/// Folded header names, as lists of papers write them.
const PUBLICATION_HEADERS: &[(&str, PublicationColumn)] = &[
    ("ten bai bao", PublicationColumn::Title),
    ("ten bai viet", PublicationColumn::Title),
    ("ten cong trinh", PublicationColumn::Title),
    ("ten cong trinh cong bo", PublicationColumn::Title),
    ("ten an pham", PublicationColumn::Title),
    ("tieu de", PublicationColumn::Title),
    ("nhan de", PublicationColumn::Title),
    ("tac gia", PublicationColumn::Authors),
    ("cac tac gia", PublicationColumn::Authors),
    ("nhom tac gia", PublicationColumn::Authors),
    ("tac gia dong tac gia", PublicationColumn::Authors),
    ("tap chi", PublicationColumn::Venue),
    ("ten tap chi", PublicationColumn::Venue),
    ("tap chi hoi thao", PublicationColumn::Venue),
    ("tap chi hoi nghi", PublicationColumn::Venue),
    ("tap chi ky yeu", PublicationColumn::Venue),
    ("noi cong bo", PublicationColumn::Venue),
    ("noi dang", PublicationColumn::Venue),
    ("nam", PublicationColumn::Year),
    ("nam cong bo", PublicationColumn::Year),
    ("nam xuat ban", PublicationColumn::Year),
    ("nam dang", PublicationColumn::Year),
    ("tap", PublicationColumn::Volume),
    ("so", PublicationColumn::Issue),
    ("so tap chi", PublicationColumn::Issue),
    ("trang", PublicationColumn::Pages),
    ("so trang", PublicationColumn::Pages),
    ("doi", PublicationColumn::Doi),
    ("ma doi", PublicationColumn::Doi),
    ("ngon ngu", PublicationColumn::Language),
    ("tom tat", PublicationColumn::Abstract),
    ("tu khoa", PublicationColumn::Keywords),
    ("linh vuc", PublicationColumn::FieldCodes),
    ("ma linh vuc", PublicationColumn::FieldCodes),
    ("ma ho so", PublicationColumn::RecordId),
    ("ma ban ghi", PublicationColumn::RecordId),
    ("stt", PublicationColumn::Ignored),
    ("tt", PublicationColumn::Ignored),
    ("ghi chu", PublicationColumn::Ignored),
];

/// A paper read from a row: the fields its columns give, and the fixes.
#[derive(Debug, Clone, PartialEq)]
pub struct PublicationRow {
    pub publication: pb::Publication,
    pub fixes: Vec<Fix>,
}

impl PublicationRow {
    /// The DOI (lower case, as DOIs compare), or the folded title and year.
    pub fn natural_key(&self) -> String {
        let paper = &self.publication;
        if paper.doi.is_empty() {
            format!("title:{}|{}", normalized(&paper.title), paper.year)
        } else {
            format!("doi:{}", paper.doi.to_lowercase())
        }
    }

    /// Puts this row's values on `target`: each value the sheet gives
    /// replaces what was there; blank cells and absent columns erase nothing.
    pub fn apply_to(&self, target: &mut pb::Publication) {
        use crate::sheet_import::{put_text as text, put_value as number};
        let from = &self.publication;
        text(&mut target.title, &from.title);
        if !from.authors.is_empty() {
            let names = |authors: &[pb::PublicationAuthor]| {
                authors
                    .iter()
                    .map(|author| author.name.clone())
                    .collect::<Vec<_>>()
            };
            // The same names keep their links to experts' records.
            if names(&target.authors) != names(&from.authors) {
                target.authors.clone_from(&from.authors);
            }
        }
        text(&mut target.venue, &from.venue);
        number(&mut target.year, from.year);
        text(&mut target.volume, &from.volume);
        text(&mut target.issue, &from.issue);
        text(&mut target.pages, &from.pages);
        text(&mut target.doi, &from.doi);
        text(&mut target.language, &from.language);
        text(&mut target.r#abstract, &from.r#abstract);
        if !from.keywords.is_empty() {
            target.keywords.clone_from(&from.keywords);
        }
        if !from.field_codes.is_empty() {
            target.field_codes.clone_from(&from.field_codes);
        }
    }
}

/// Reads rows of one layout.
pub struct PublicationRowReader {
    layout: Layout<PublicationColumn>,
}

impl PublicationRowReader {
    pub fn new(layout: Layout<PublicationColumn>) -> Self {
        PublicationRowReader { layout }
    }

    pub fn read(&self, cells: &[String]) -> Result<PublicationRow, RejectedRow> {
        self.layout.check_readable(cells)?;
        let mut fixes = Vec::new();
        let mut paper = pb::Publication::default();
        for (&index, &column) in &self.layout.columns {
            if matches!(
                column,
                PublicationColumn::Ignored | PublicationColumn::RecordId
            ) {
                continue;
            }
            let header = self.layout.header(index);
            let raw = cells.get(index).map(String::as_str).unwrap_or("");
            let text = clean_cell(&header, raw, &mut fixes);
            let fail = |reason: String, fixes: Vec<Fix>| Err(reject(header.clone(), reason, fixes));
            if text.is_empty() {
                if column == PublicationColumn::Title {
                    return fail("empty; every paper needs its title".into(), fixes);
                }
                continue;
            }
            match column {
                PublicationColumn::Title => {
                    if is_totals_row(&text) {
                        return fail(format!("{text:?} is a totals row, not a paper"), fixes);
                    }
                    paper.title = text;
                }
                PublicationColumn::Authors => {
                    paper.authors = authors(&header, &text, &mut fixes);
                }
                PublicationColumn::Venue => paper.venue = text,
                PublicationColumn::Year => match values::partial_date(&text) {
                    Some(date) => {
                        let year = date.year.to_string();
                        if year != text {
                            fixes.push(Fix {
                                column: header.clone(),
                                rule: "date_to_year",
                                from: text.clone(),
                                to: year,
                            });
                        }
                        paper.year = date.year;
                    }
                    None => {
                        return fail(format!("{text:?} is not a year; write yyyy"), fixes);
                    }
                },
                PublicationColumn::Volume => paper.volume = text,
                PublicationColumn::Issue => paper.issue = text,
                PublicationColumn::Pages => paper.pages = pages(&header, &text, &mut fixes),
                PublicationColumn::Doi if is_placeholder(&text) => {
                    fixes.push(Fix {
                        column: header.clone(),
                        rule: "placeholder_dropped",
                        from: text.clone(),
                        to: String::new(),
                    });
                }
                PublicationColumn::Doi => match bare_doi(&text) {
                    Some(doi) => {
                        if doi != text {
                            fixes.push(Fix {
                                column: header.clone(),
                                rule: "doi_bare",
                                from: text.clone(),
                                to: doi.clone(),
                            });
                        }
                        paper.doi = doi;
                    }
                    None => {
                        return fail(
                            format!(
                                "{text:?} is not a DOI; write it as 10.xxxx/… (a https://doi.org/ link is read too)"
                            ),
                            fixes,
                        );
                    }
                },
                PublicationColumn::Language => match language_tag(&text) {
                    Some(tag) => {
                        if tag != text {
                            fixes.push(Fix {
                                column: header.clone(),
                                rule: "language_to_tag",
                                from: text.clone(),
                                to: tag.into(),
                            });
                        }
                        paper.language = tag.into();
                    }
                    None => {
                        return fail(
                            format!(
                                "{text:?} is not a language this import knows; write Tiếng Việt, Tiếng Anh (or a tag: vi, en, fr, ru, zh, ja, ko, de)"
                            ),
                            fixes,
                        );
                    }
                },
                PublicationColumn::Abstract => paper.r#abstract = text,
                PublicationColumn::Keywords => paper.keywords = split_list(&text),
                PublicationColumn::FieldCodes => match read_field_codes(&header, &text, &mut fixes)
                {
                    Ok(codes) => paper.field_codes = codes,
                    Err(reason) => return fail(reason, fixes),
                },
                PublicationColumn::Ignored | PublicationColumn::RecordId => {}
            }
        }
        Ok(PublicationRow {
            publication: paper,
            fixes,
        })
    }
}

/// Authors as printed, one per name: split at `;` where the cell uses it
/// (Western names carry commas, "Smith, J."), else at `,` and line breaks.
/// Titles before a name ("PGS.TS. Nguyễn Văn An") are dropped, a fix each.
fn authors(header: &str, text: &str, fixes: &mut Vec<Fix>) -> Vec<pb::PublicationAuthor> {
    let separators: &[char] = if text.contains(';') {
        &[';', '\n']
    } else {
        &[',', '\n']
    };
    text.split(separators)
        .map(str::trim)
        .filter(|name| !name.is_empty())
        .map(|name| {
            let (bare, title) = split_title_from_name(name);
            if title.is_some() {
                fixes.push(Fix {
                    column: header.to_owned(),
                    rule: "title_from_name",
                    from: name.to_owned(),
                    to: bare.clone(),
                });
            }
            pb::PublicationAuthor {
                name: bare,
                expert_id: String::new(),
            }
        })
        .collect()
}

/// "tr. 12-18", "pp. 12–18" → "12-18"; a page range that does not start
/// with a number ("pp. A12–A18") keeps its label.
fn pages(header: &str, text: &str, fixes: &mut Vec<Fix>) -> String {
    let folded = normalized(text);
    let labelled = ["tr ", "trang ", "pp ", "p "].iter().any(|prefix| {
        folded
            .strip_prefix(prefix)
            .is_some_and(|rest| rest.starts_with(|c: char| c.is_ascii_digit()))
    });
    let bare = if labelled {
        text.trim_start_matches(|c: char| !c.is_ascii_digit())
            .to_owned()
    } else {
        text.to_owned()
    }
    .replace(['–', '—'], "-");
    if bare != text && !bare.is_empty() {
        fixes.push(Fix {
            column: header.to_owned(),
            rule: "pages_bare",
            from: text.to_owned(),
            to: bare.clone(),
        });
        return bare;
    }
    text.to_owned()
}

/// A cell saying there is no value yet ("chưa có", "đang chờ cấp", "-").
fn is_placeholder(text: &str) -> bool {
    let folded = normalized(text);
    matches!(
        folded.as_str(),
        "" | "chua co" | "khong co" | "khong" | "chua" | "na" | "n a" | "x" | "none"
    ) || folded.starts_with("dang cho")
        || text
            .trim()
            .chars()
            .all(|c| matches!(c, '-' | '–' | '—' | '.' | '/'))
}

/// A DOI without its link or label ("https://doi.org/10.1000/x",
/// "doi:10.1000/x" → "10.1000/x"); `None` when it is not one.
pub fn bare_doi(text: &str) -> Option<String> {
    let trimmed = text.trim();
    let lower = trimmed.to_ascii_lowercase();
    let start = [
        "https://doi.org/",
        "http://doi.org/",
        "https://dx.doi.org/",
        "http://dx.doi.org/",
        "doi.org/",
        "doi: ",
        "doi:",
        "doi ",
    ]
    .iter()
    .find(|prefix| lower.starts_with(*prefix))
    .map_or(0, |prefix| prefix.len());
    let doi = trimmed.get(start..)?.trim();
    let (prefix, suffix) = doi.split_once('/')?;
    let registrant = prefix.strip_prefix("10.")?;
    let well_formed = !registrant.is_empty()
        && registrant.bytes().all(|b| b.is_ascii_digit() || b == b'.')
        && !suffix.is_empty()
        && !doi.chars().any(char::is_whitespace);
    well_formed.then(|| doi.to_owned())
}

/// A language as its BCP 47 tag.
fn language_tag(text: &str) -> Option<&'static str> {
    const LANGUAGES: [(&str, &str, &str); 8] = [
        ("vi", "tieng viet", "vietnamese"),
        ("en", "tieng anh", "english"),
        ("fr", "tieng phap", "french"),
        ("ru", "tieng nga", "russian"),
        ("zh", "tieng trung", "chinese"),
        ("ja", "tieng nhat", "japanese"),
        ("ko", "tieng han", "korean"),
        ("de", "tieng duc", "german"),
    ];
    let folded = normalized(text);
    LANGUAGES
        .iter()
        .find(|(tag, vietnamese, english)| {
            folded == *tag || folded == *vietnamese || folded == *english
        })
        .map(|(tag, ..)| *tag)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dois_lose_their_link_and_label_and_must_look_like_dois() {
        assert_eq!(
            bare_doi("https://doi.org/10.15625/0866-708X/58/1/14").as_deref(),
            Some("10.15625/0866-708X/58/1/14")
        );
        assert_eq!(bare_doi("DOI: 10.1000/xyz").as_deref(), Some("10.1000/xyz"));
        assert_eq!(bare_doi("10.1000/xyz").as_deref(), Some("10.1000/xyz"));
        assert_eq!(bare_doi("11.1000/xyz"), None);
        assert_eq!(bare_doi("10.1000"), None);
        assert_eq!(bare_doi("10.1000/a b"), None);
        assert_eq!(bare_doi("đang chờ"), None);
    }

    #[test]
    fn authors_split_at_semicolons_before_commas_and_lose_titles() {
        let mut fixes = Vec::new();
        let names = |found: Vec<pb::PublicationAuthor>| {
            found
                .into_iter()
                .map(|author| author.name)
                .collect::<Vec<_>>()
        };
        assert_eq!(
            names(authors(
                "Tác giả",
                "PGS.TS. Nguyễn Văn An, Trần Thị Bình",
                &mut fixes
            )),
            vec!["Nguyễn Văn An", "Trần Thị Bình"]
        );
        assert_eq!(fixes.len(), 1);
        assert_eq!(
            names(authors("Tác giả", "Smith, J.; Nguyễn Văn An", &mut fixes)),
            vec!["Smith, J.", "Nguyễn Văn An"]
        );
    }

    #[test]
    fn languages_become_tags() {
        assert_eq!(language_tag("Tiếng Việt"), Some("vi"));
        assert_eq!(language_tag("TIẾNG ANH"), Some("en"));
        assert_eq!(language_tag("en"), Some("en"));
        assert_eq!(language_tag("Việt"), None);
        assert_eq!(language_tag("Klingon"), None);
    }

    #[test]
    fn page_ranges_lose_their_label() {
        let mut fixes = Vec::new();
        assert_eq!(pages("Trang", "tr. 12–18", &mut fixes), "12-18");
        assert_eq!(pages("Trang", "12-18", &mut fixes), "12-18");
        assert_eq!(fixes.len(), 1);
        assert_eq!(pages("Trang", "pp. A12–A18", &mut fixes), "pp. A12-A18");
    }

    #[test]
    fn placeholders_are_no_doi() {
        for text in ["chưa có", "Đang chờ cấp", "-", "—", "N/A", "không"] {
            assert!(is_placeholder(text), "{text}");
        }
        for text in ["10.1000/x", "Tạp chí"] {
            assert!(!is_placeholder(text), "{text}");
        }
    }
}
