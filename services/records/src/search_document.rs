//! What a record contributes to search: its folded name or title, its folded
//! text, and the index terms the store keeps postings for.
//!
//! Folding happens here, in Rust, so SQLite and PostgreSQL store and compare
//! exactly the same strings and return the same hits.

use lienthong_proto::v1::{Classification, Expert, Organization, Project, Publication, Visibility};

use crate::AnyRecord;
use crate::folding::tokens;

/// Where a term occurs. Stored as a small integer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum TermScope {
    /// The record's name or title.
    Primary = 0,
    /// Any searchable text, the name or title included.
    Text = 1,
    /// Filter values (field-code prefixes, organization, degree, status, ...).
    Facet = 2,
}

/// Facet term builders, shared by indexing and querying so both agree.
pub mod facet {
    /// A field-code prefix of any length.
    pub fn field_code(prefix: &str) -> String {
        format!("f:{prefix}")
    }
    /// An organization (employer of an expert, host of a project, parent of an organization).
    pub fn organization(id: &str) -> String {
        format!("o:{id}")
    }
    /// An expert's academic title, by proto enum number.
    pub fn academic_title(title: i32) -> String {
        format!("t:{title}")
    }
    /// An expert's degree, by proto enum number.
    pub fn degree(degree: i32) -> String {
        format!("d:{degree}")
    }
    /// A project's status, by proto enum number.
    pub fn status(status: i32) -> String {
        format!("s:{status}")
    }
    /// A project's management level, by proto enum number.
    pub fn management_level(level: i32) -> String {
        format!("l:{level}")
    }
}

/// The searchable form of one record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SearchDocument {
    /// Normalized name or title (folded tokens joined by one space).
    pub primary: String,
    /// Normalized text of every searchable field, fields separated by " | " so
    /// that a phrase never spans two fields.
    pub text: String,
    /// Birth year, start year or publication year; 0 when unknown.
    pub year: u32,
    /// Whether the record may leave its node at all: visibility public or
    /// federation, and classification bình thường.
    pub shareable: bool,
    /// Distinct (scope, term) pairs, sorted.
    pub terms: Vec<(TermScope, String)>,
}

/// Joins adjacent tokens into the bigram term that phrase search looks up.
pub fn bigram(first: &str, second: &str) -> String {
    format!("{first} {second}")
}

struct Builder {
    primary: String,
    text: Vec<String>,
    terms: Vec<(TermScope, String)>,
}

impl Builder {
    fn new(primary: &str) -> Self {
        let mut builder = Builder {
            primary: String::new(),
            text: Vec::new(),
            terms: Vec::new(),
        };
        let words = tokens(primary);
        builder.push_words(TermScope::Primary, &words);
        builder.push_words(TermScope::Text, &words);
        builder.primary = words.join(" ");
        builder.text.push(builder.primary.clone());
        builder
    }

    fn push_words(&mut self, scope: TermScope, words: &[String]) {
        for (i, word) in words.iter().enumerate() {
            self.terms.push((scope, word.clone()));
            if let Some(next) = words.get(i + 1) {
                self.terms.push((scope, bigram(word, next)));
            }
        }
    }

    fn text(&mut self, field: &str) -> &mut Self {
        let words = tokens(field);
        if !words.is_empty() {
            self.push_words(TermScope::Text, &words);
            self.text.push(words.join(" "));
        }
        self
    }

    fn texts<'a>(&mut self, fields: impl IntoIterator<Item = &'a String>) -> &mut Self {
        for field in fields {
            self.text(field);
        }
        self
    }

    fn facet(&mut self, term: String) -> &mut Self {
        self.terms.push((TermScope::Facet, term));
        self
    }

    fn field_codes(&mut self, codes: &[String]) -> &mut Self {
        for code in codes {
            for end in 1..=code.len() {
                if code.is_char_boundary(end) {
                    self.facet(facet::field_code(&code[..end]));
                }
            }
        }
        self
    }

    fn organization(&mut self, id: &str) -> &mut Self {
        if !id.is_empty() {
            self.facet(facet::organization(id));
        }
        self
    }

    fn finish(mut self, year: u32, visibility: i32, classification: i32) -> SearchDocument {
        self.terms.sort();
        self.terms.dedup();
        SearchDocument {
            primary: self.primary,
            text: self.text.join(" | "),
            year,
            shareable: is_shareable(visibility, classification),
            terms: self.terms,
        }
    }
}

/// Whether a record with this visibility and classification may leave its node.
/// Unspecified values count as not shareable: sharing is deny-by-default.
pub fn is_shareable(visibility: i32, classification: i32) -> bool {
    let visible =
        visibility == Visibility::Public as i32 || visibility == Visibility::Federation as i32;
    visible && classification == Classification::Normal as i32
}

fn year_of(date: &str) -> u32 {
    date.get(..4)
        .and_then(|year| year.parse().ok())
        .unwrap_or(0)
}

/// Builds the search document of any record.
pub fn search_document(record: &AnyRecord) -> SearchDocument {
    let (visibility, classification) = record
        .meta()
        .map_or((0, 0), |m| (m.visibility, m.classification));
    match record {
        AnyRecord::Expert(e) => expert_document(e).finish(e.birth_year, visibility, classification),
        AnyRecord::Project(p) => {
            let start = if p.actual_start.is_empty() {
                &p.planned_start
            } else {
                &p.actual_start
            };
            project_document(p).finish(year_of(start), visibility, classification)
        }
        AnyRecord::Publication(p) => {
            publication_document(p).finish(p.year, visibility, classification)
        }
        AnyRecord::Organization(o) => {
            organization_document(o).finish(0, visibility, classification)
        }
    }
}

fn expert_document(e: &Expert) -> Builder {
    let mut b = Builder::new(&e.full_name);
    b.text(&e.specialization)
        .texts(&e.keywords)
        .text(&e.position)
        .text(&e.organization_name)
        .field_codes(&e.field_codes)
        .organization(&e.organization_id);
    if let Some(ids) = &e.identifiers {
        b.text(&ids.orcid)
            .text(&ids.scopus_author_id)
            .text(&ids.researcher_id);
    }
    if e.academic_title != 0 {
        b.facet(facet::academic_title(e.academic_title));
    }
    if e.degree != 0 {
        b.facet(facet::degree(e.degree));
    }
    b
}

fn project_document(p: &Project) -> Builder {
    let mut b = Builder::new(&p.title);
    b.text(&p.code)
        .texts(&p.keywords)
        .text(&p.summary)
        .text(&p.objectives)
        .text(&p.host_organization_name)
        .text(&p.archive_reference)
        .field_codes(&p.field_codes)
        .organization(&p.host_organization_id)
        .facet(facet::status(p.status))
        .facet(facet::management_level(p.management_level));
    for person in p.lead.iter().chain(&p.members) {
        b.text(&person.name);
    }
    b
}

fn publication_document(p: &Publication) -> Builder {
    let mut b = Builder::new(&p.title);
    b.text(&p.venue)
        .texts(&p.keywords)
        .text(&p.r#abstract)
        .text(&p.doi)
        .field_codes(&p.field_codes);
    for author in &p.authors {
        b.text(&author.name);
    }
    b
}

fn organization_document(o: &Organization) -> Builder {
    let mut b = Builder::new(&o.name);
    b.text(&o.abbreviation)
        .text(&o.agency_code)
        .text(&o.province)
        .organization(&o.parent_id);
    b
}

#[cfg(test)]
mod tests {
    use super::*;
    use lienthong_proto::v1::RecordMeta;

    fn expert() -> Expert {
        Expert {
            meta: Some(RecordMeta {
                id: "hung-yen:expert:E1".into(),
                visibility: Visibility::Federation as i32,
                classification: Classification::Normal as i32,
                ..Default::default()
            }),
            full_name: "Nguyễn Xuân Hải".into(),
            specialization: "Nghiên cứu lúa lai".into(),
            field_codes: vec!["4010101".into(), "40101".into()],
            birth_year: 1975,
            ..Default::default()
        }
    }

    #[test]
    fn expert_document_holds_folded_name_text_and_facets() {
        let doc = search_document(&AnyRecord::Expert(expert()));
        assert_eq!(doc.primary, "nguyen xuan hai");
        assert_eq!(doc.text, "nguyen xuan hai | nghien cuu lua lai");
        assert_eq!(doc.year, 1975);
        assert!(doc.shareable);
        let has = |scope, term: &str| doc.terms.contains(&(scope, term.to_owned()));
        assert!(has(TermScope::Primary, "xuan hai"));
        assert!(has(TermScope::Text, "cuu lua"));
        assert!(!has(TermScope::Primary, "lua"));
        for prefix in ["4", "40", "401", "4010", "40101", "401010", "4010101"] {
            assert!(
                has(TermScope::Facet, &facet::field_code(prefix)),
                "{prefix}"
            );
        }
    }

    #[test]
    fn internal_or_classified_records_are_not_shareable() {
        assert!(!is_shareable(
            Visibility::Internal as i32,
            Classification::Normal as i32
        ));
        assert!(!is_shareable(
            Visibility::Public as i32,
            Classification::Confidential as i32
        ));
        assert!(!is_shareable(
            Visibility::Unspecified as i32,
            Classification::Normal as i32
        ));
        assert!(!is_shareable(
            Visibility::Public as i32,
            Classification::Unspecified as i32
        ));
        assert!(is_shareable(
            Visibility::Public as i32,
            Classification::Normal as i32
        ));
    }
}
