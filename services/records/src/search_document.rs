//! What a record contributes to search: its text by field, its filter
//! values, its year and whether it may be searched by peers at all. The
//! store's search index weighs the fields (name over subject over
//! affiliation over the rest) and folds their words with [`crate::folding`].

use lienthong_proto::v1::{Classification, Expert, Organization, Project, Publication, Visibility};

use crate::AnyRecord;

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

/// The searchable form of one record: its text by field, as written (the
/// search index folds it), its filter values and what decides whether it is
/// searched at all.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SearchDocument {
    /// Name or title.
    pub name: String,
    /// What the record is about: specialization, keywords.
    pub subject: Vec<String>,
    /// Who it belongs to: organization names, venues, people on a project
    /// or paper.
    pub affiliation: Vec<String>,
    /// Every other searchable field (codes, summaries, identifiers).
    pub other: Vec<String>,
    /// Filter values ([`facet`] terms), sorted and distinct.
    pub facets: Vec<String>,
    /// Birth year, start year or publication year; 0 when unknown.
    pub year: u32,
    /// Whether the record may leave its node at all: visibility public or
    /// federation, and classification bình thường.
    pub shareable: bool,
    /// Whether it is shareable and public: what anonymous harvesters see.
    pub public: bool,
}

impl SearchDocument {
    /// Every text field, the name first, in the order a phrase may not cross.
    pub fn texts(&self) -> impl Iterator<Item = &str> {
        std::iter::once(self.name.as_str())
            .chain(self.subject.iter().map(String::as_str))
            .chain(self.affiliation.iter().map(String::as_str))
            .chain(self.other.iter().map(String::as_str))
    }
}

struct Builder(SearchDocument);

impl Builder {
    fn new(name: &str) -> Self {
        Builder(SearchDocument {
            name: name.to_owned(),
            ..SearchDocument::default()
        })
    }

    fn push(list: &mut Vec<String>, field: &str) {
        if !field.trim().is_empty() {
            list.push(field.to_owned());
        }
    }

    fn subject<'a>(&mut self, fields: impl IntoIterator<Item = &'a String>) -> &mut Self {
        for field in fields {
            Self::push(&mut self.0.subject, field);
        }
        self
    }

    fn affiliation<'a>(&mut self, fields: impl IntoIterator<Item = &'a String>) -> &mut Self {
        for field in fields {
            Self::push(&mut self.0.affiliation, field);
        }
        self
    }

    fn other<'a>(&mut self, fields: impl IntoIterator<Item = &'a String>) -> &mut Self {
        for field in fields {
            Self::push(&mut self.0.other, field);
        }
        self
    }

    fn facet(&mut self, term: String) -> &mut Self {
        self.0.facets.push(term);
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

    fn finish(self, year: u32, visibility: i32, classification: i32) -> SearchDocument {
        let mut document = self.0;
        document.facets.sort();
        document.facets.dedup();
        document.year = year;
        document.shareable = is_shareable(visibility, classification);
        document.public = document.shareable && visibility == Visibility::Public as i32;
        document
    }
}

/// A record's top-level fields of science (Circular 24/2025: 1 natural
/// sciences … 6 humanities; Decision 12/2008 codes share the first digit)
/// as bits: `1 << n` for field `n`.
pub fn top_fields(record: &AnyRecord) -> u8 {
    let codes: &[String] = match record {
        AnyRecord::Expert(expert) => &expert.field_codes,
        AnyRecord::Project(project) => &project.field_codes,
        AnyRecord::Publication(publication) => &publication.field_codes,
        AnyRecord::Organization(_) => &[],
    };
    codes
        .iter()
        .filter_map(|code| code.chars().next()?.to_digit(10))
        .filter(|digit| (1..=6).contains(digit))
        .fold(0, |bits, digit| bits | (1 << digit))
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
    b.subject([&e.specialization])
        .subject(&e.keywords)
        .affiliation([&e.organization_name])
        .other([&e.position])
        .field_codes(&e.field_codes)
        .organization(&e.organization_id);
    if let Some(ids) = &e.identifiers {
        b.other([&ids.orcid, &ids.scopus_author_id, &ids.researcher_id]);
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
    b.subject(&p.keywords)
        .affiliation([&p.host_organization_name])
        .affiliation(p.lead.iter().chain(&p.members).map(|person| &person.name))
        .other([&p.code, &p.summary, &p.objectives, &p.archive_reference])
        .field_codes(&p.field_codes)
        .organization(&p.host_organization_id)
        .facet(facet::status(p.status))
        .facet(facet::management_level(p.management_level));
    b
}

fn publication_document(p: &Publication) -> Builder {
    let mut b = Builder::new(&p.title);
    b.subject(&p.keywords)
        .affiliation([&p.venue])
        .affiliation(p.authors.iter().map(|author| &author.name))
        .other([&p.r#abstract, &p.doi])
        .field_codes(&p.field_codes);
    b
}

fn organization_document(o: &Organization) -> Builder {
    let mut b = Builder::new(&o.name);
    b.subject([&o.abbreviation])
        .affiliation([&o.province])
        .other([&o.agency_code])
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
    fn expert_document_holds_fields_and_facets() {
        let doc = search_document(&AnyRecord::Expert(expert()));
        assert_eq!(doc.name, "Nguyễn Xuân Hải");
        assert_eq!(doc.subject, ["Nghiên cứu lúa lai"]);
        assert!(doc.affiliation.is_empty(), "empty fields are left out");
        assert_eq!(doc.year, 1975);
        assert!(doc.shareable);
        assert_eq!(
            doc.texts().collect::<Vec<_>>(),
            ["Nguyễn Xuân Hải", "Nghiên cứu lúa lai"]
        );
        for prefix in ["4", "40", "401", "4010", "40101", "401010", "4010101"] {
            assert!(doc.facets.contains(&facet::field_code(prefix)), "{prefix}");
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
