//! Parsing and checking a search request: folding the query into words and
//! quoted phrases, and turning filters into facet terms.

use lienthong_proto::v1::{AcademicTitle, Degree, ManagementLevel, ProjectStatus};
use lienthong_records::RecordKind;
use lienthong_records::folding::{accent_keys, has_diacritics, tokens};
use lienthong_records::input_method::typed_reading;
use lienthong_records::search_document::facet;

use super::SearchRequest;
use crate::StoreError;

/// Longest query, in characters.
pub const MAX_QUERY_CHARS: usize = 256;
/// Most words in a query.
pub const MAX_QUERY_WORDS: usize = 16;
/// Page size when none is asked for.
pub const DEFAULT_PAGE_SIZE: u32 = 20;
/// Largest page.
pub const MAX_PAGE_SIZE: u32 = 100;
/// Most alternatives in one filter.
const MAX_FILTER_VALUES: usize = 20;

/// A required filter: a record matches if it has any one of `terms`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct TermGroup {
    pub terms: Vec<String>,
}

/// One word of the query.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct QueryWord {
    /// Folded, as the index holds words.
    pub folded: String,
    /// The accent key, when the word was typed with diacritics: records
    /// that spell it the same way rank higher.
    pub accent: Option<String>,
    /// What the word stands for when typed with Telex or VNI keys in the
    /// wrong mode ("nguyeenx" → "nguyen").
    pub reading: Option<String>,
}

impl QueryWord {
    fn new(folded: String, accent: Option<String>) -> QueryWord {
        QueryWord {
            reading: typed_reading(&folded),
            folded,
            accent,
        }
    }

    /// The folded forms a record's word may have to match this one.
    pub fn alternatives(&self) -> impl Iterator<Item = &str> {
        std::iter::once(self.folded.as_str()).chain(self.reading.as_deref())
    }
}

/// A checked, folded search request.
#[derive(Clone, Debug)]
pub(crate) struct ParsedQuery {
    pub kind: RecordKind,
    /// Every word of the query, in order.
    pub words: Vec<QueryWord>,
    /// Quoted phrases of two or more words.
    pub phrases: Vec<Vec<String>>,
    /// Filters as facet-term groups.
    pub facets: Vec<TermGroup>,
    /// Facet terms of the mirror scopes the search leaves out.
    pub excluded_scopes: Vec<&'static str>,
    pub year_from: u32,
    pub year_to: u32,
    pub page_size: u32,
    /// Who is searching; part of the fingerprint.
    pub caller: String,
    /// Identifies the query, filters and caller, for page tokens.
    pub fingerprint: u64,
}

impl ParsedQuery {
    /// The ways the whole query may be read: as typed and, when a word was
    /// typed with input-method keys, as the letters meant. Folded words.
    pub fn readings(&self) -> Vec<Vec<String>> {
        let typed: Vec<String> = self.words.iter().map(|word| word.folded.clone()).collect();
        let meant: Vec<String> = self
            .words
            .iter()
            .map(|word| word.reading.clone().unwrap_or_else(|| word.folded.clone()))
            .collect();
        if meant == typed {
            vec![typed]
        } else {
            vec![typed, meant]
        }
    }
}

pub(crate) fn parse(request: &SearchRequest) -> Result<ParsedQuery, StoreError> {
    let kind = request
        .kind
        .ok_or_else(|| StoreError::InvalidArgument("record kind is required".into()))?;
    let chars = request.query.chars().count();
    if chars > MAX_QUERY_CHARS {
        return Err(StoreError::LimitExceeded(format!(
            "query is {chars} characters long; the limit is {MAX_QUERY_CHARS}"
        )));
    }
    let page_size = match request.page_size {
        0 => DEFAULT_PAGE_SIZE,
        size if size > MAX_PAGE_SIZE => {
            return Err(StoreError::LimitExceeded(format!(
                "page_size {size} is over the limit of {MAX_PAGE_SIZE}; ask for fewer and follow next_page_token"
            )));
        }
        size => size,
    };
    let mut words = Vec::new();
    let mut phrases = Vec::new();
    for (index, segment) in request.query.split('"').enumerate() {
        let segment_words = tokens(segment);
        // Odd segments sit between quotes; an unclosed quote runs to the end.
        if index % 2 == 1 && segment_words.len() >= 2 {
            phrases.push(segment_words.clone());
        }
        // Both split where the text has no letter or digit, so they align.
        let mut accents = accent_keys(segment);
        if accents.len() != segment_words.len() {
            accents.clear();
        }
        let marked: Vec<bool> = segment
            .split(|c: char| !c.is_alphanumeric() && !unicode_mark(c))
            .filter(|word| !word.is_empty())
            .map(has_diacritics)
            .collect();
        for (position, folded) in segment_words.into_iter().enumerate() {
            let accent = accents
                .get(position)
                .filter(|_| marked.get(position).copied().unwrap_or(false))
                .cloned();
            words.push(QueryWord::new(folded, accent));
        }
    }
    if words.len() > MAX_QUERY_WORDS {
        return Err(StoreError::LimitExceeded(format!(
            "query has {} words; the limit is {MAX_QUERY_WORDS}",
            words.len()
        )));
    }
    let facets = facet_groups(kind, request)?;
    if request.year_from != 0 && request.year_to != 0 && request.year_from > request.year_to {
        return Err(StoreError::InvalidArgument(format!(
            "year_from {} is after year_to {}; swap them",
            request.year_from, request.year_to
        )));
    }
    let mut parsed = ParsedQuery {
        kind,
        words,
        phrases,
        facets,
        excluded_scopes: request.mirrors.excluded(),
        year_from: request.year_from,
        year_to: request.year_to,
        page_size,
        caller: request.caller.clone(),
        fingerprint: 0,
    };
    parsed.fingerprint = fingerprint(&parsed);
    Ok(parsed)
}

/// Combining marks, which NFD input carries between the letters of a word.
fn unicode_mark(c: char) -> bool {
    ('\u{0300}'..='\u{036F}').contains(&c)
}

fn facet_groups(kind: RecordKind, request: &SearchRequest) -> Result<Vec<TermGroup>, StoreError> {
    let mut groups = Vec::new();
    let mut group = |terms: Vec<String>| {
        if !terms.is_empty() {
            groups.push(TermGroup { terms });
        }
    };
    let too_many = |filter: &str, count: usize| {
        StoreError::LimitExceeded(format!(
            "{filter} has {count} values; the limit is {MAX_FILTER_VALUES}"
        ))
    };
    if request.field_code_prefixes.len() > MAX_FILTER_VALUES {
        return Err(too_many(
            "field_code_prefixes",
            request.field_code_prefixes.len(),
        ));
    }
    for prefix in &request.field_code_prefixes {
        let well_formed =
            (1..=7).contains(&prefix.len()) && prefix.bytes().all(|b| b.is_ascii_digit());
        if !well_formed {
            return Err(StoreError::InvalidArgument(format!(
                "field code prefix {prefix:?} is not valid; use 1-7 digits, e.g. \"4\" (agricultural sciences) or \"40101\""
            )));
        }
    }
    group(
        request
            .field_code_prefixes
            .iter()
            .map(|prefix| facet::field_code(prefix))
            .collect(),
    );
    if !request.organization_id.is_empty() {
        if matches!(kind, RecordKind::Publication) {
            return Err(StoreError::InvalidArgument(
                "organization_id filters experts, projects and organizations, not publications"
                    .into(),
            ));
        }
        let is_organization = request
            .organization_id
            .parse::<lienthong_records::RecordId>()
            .is_ok_and(|id| id.kind == RecordKind::Organization);
        if !is_organization {
            return Err(StoreError::InvalidArgument(format!(
                "organization_id {:?} is not an organization id; use e.g. \"hung-yen:organization:O00003\"",
                request.organization_id
            )));
        }
        group(vec![facet::organization(&request.organization_id)]);
    }
    let experts_only = |filter: &str| {
        StoreError::InvalidArgument(format!(
            "{filter} filters experts only; drop it for {kind} searches"
        ))
    };
    let projects_only = |filter: &str| {
        StoreError::InvalidArgument(format!(
            "{filter} filters projects only; drop it for {kind} searches"
        ))
    };
    if request.academic_title != 0 {
        if kind != RecordKind::Expert {
            return Err(experts_only("academic_title"));
        }
        known::<AcademicTitle>("academic_title", request.academic_title)?;
        group(vec![facet::academic_title(request.academic_title)]);
    }
    if request.degree != 0 {
        if kind != RecordKind::Expert {
            return Err(experts_only("degree"));
        }
        known::<Degree>("degree", request.degree)?;
        group(vec![facet::degree(request.degree)]);
    }
    if !request.statuses.is_empty() {
        if kind != RecordKind::Project {
            return Err(projects_only("statuses"));
        }
        if request.statuses.len() > MAX_FILTER_VALUES {
            return Err(too_many("statuses", request.statuses.len()));
        }
        for status in &request.statuses {
            known::<ProjectStatus>("statuses", *status)?;
        }
        group(
            request
                .statuses
                .iter()
                .map(|status| facet::status(*status))
                .collect(),
        );
    }
    if !request.management_levels.is_empty() {
        if kind != RecordKind::Project {
            return Err(projects_only("management_levels"));
        }
        if request.management_levels.len() > MAX_FILTER_VALUES {
            return Err(too_many(
                "management_levels",
                request.management_levels.len(),
            ));
        }
        for level in &request.management_levels {
            known::<ManagementLevel>("management_levels", *level)?;
        }
        group(
            request
                .management_levels
                .iter()
                .map(|level| facet::management_level(*level))
                .collect(),
        );
    }
    if (request.year_from != 0 || request.year_to != 0) && kind == RecordKind::Organization {
        return Err(StoreError::InvalidArgument(
            "year_from/year_to filter experts, projects and publications, not organizations".into(),
        ));
    }
    for group in &mut groups {
        group.terms.sort();
        group.terms.dedup();
    }
    groups.sort_by(|a, b| a.terms.cmp(&b.terms));
    Ok(groups)
}

fn known<E: TryFrom<i32>>(filter: &str, value: i32) -> Result<(), StoreError> {
    if value == 0 || E::try_from(value).is_err() {
        return Err(StoreError::InvalidArgument(format!(
            "{filter} value {value} is not a known value of the enum"
        )));
    }
    Ok(())
}

/// FNV-1a over a canonical description of the query.
fn fingerprint(parsed: &ParsedQuery) -> u64 {
    let description = format!(
        "{}|{:?}|{:?}|{:?}|{:?}|{}|{}|{:?}",
        parsed.kind,
        parsed.words,
        parsed.phrases,
        parsed.facets,
        parsed.excluded_scopes,
        parsed.year_from,
        parsed.year_to,
        parsed.caller
    );
    description
        .bytes()
        .fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
            (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(query: &str) -> SearchRequest {
        SearchRequest {
            kind: Some(RecordKind::Expert),
            query: query.into(),
            ..Default::default()
        }
    }

    #[test]
    fn words_and_quoted_phrases_are_folded() {
        let parsed = parse(&request("\"Nghiên cứu\" LÚA \"lai")).unwrap();
        let folded: Vec<&str> = parsed.words.iter().map(|w| w.folded.as_str()).collect();
        assert_eq!(folded, ["nghien", "cuu", "lua", "lai"]);
        assert!(parsed.words[2].accent.is_some(), "LÚA has a tone mark");
        assert!(parsed.words[3].accent.is_none(), "lai has none");
        assert_eq!(
            parsed.phrases,
            [vec!["nghien".to_owned(), "cuu".to_owned()]]
        );
    }

    #[test]
    fn limits_are_enforced_with_the_limit_named() {
        let long = "a".repeat(MAX_QUERY_CHARS + 1);
        assert!(
            matches!(parse(&request(&long)), Err(StoreError::LimitExceeded(m)) if m.contains("256"))
        );
        let many = vec!["x"; MAX_QUERY_WORDS + 1].join(" ");
        assert!(matches!(
            parse(&request(&many)),
            Err(StoreError::LimitExceeded(_))
        ));
        let big_page = SearchRequest {
            page_size: MAX_PAGE_SIZE + 1,
            ..request("a")
        };
        assert!(
            matches!(parse(&big_page), Err(StoreError::LimitExceeded(m)) if m.contains("page_size"))
        );
    }

    #[test]
    fn bad_filters_are_invalid_arguments() {
        let bad_code = SearchRequest {
            field_code_prefixes: vec!["4a".into()],
            ..request("")
        };
        assert!(
            matches!(parse(&bad_code), Err(StoreError::InvalidArgument(m)) if m.contains("4a"))
        );
        let wrong_kind = SearchRequest {
            statuses: vec![ProjectStatus::Completed as i32],
            ..request("")
        };
        assert!(
            matches!(parse(&wrong_kind), Err(StoreError::InvalidArgument(m)) if m.contains("projects only"))
        );
        let years = SearchRequest {
            year_from: 2000,
            year_to: 1990,
            ..request("")
        };
        assert!(matches!(parse(&years), Err(StoreError::InvalidArgument(_))));
        let unknown = SearchRequest {
            degree: 99,
            ..request("")
        };
        assert!(matches!(
            parse(&unknown),
            Err(StoreError::InvalidArgument(_))
        ));
    }

    #[test]
    fn fingerprint_tells_queries_apart() {
        let a = parse(&request("nguyen")).unwrap().fingerprint;
        assert_eq!(a, parse(&request("NGUYEN")).unwrap().fingerprint);
        // Diacritics change the ranking, so a token may not cross them.
        assert_ne!(a, parse(&request("Nguyễn")).unwrap().fingerprint);
        assert_ne!(a, parse(&request("nguyen van")).unwrap().fingerprint);
    }

    #[test]
    fn input_method_residue_is_read_as_the_letters_meant() {
        let parsed = parse(&request("nguyeenx xuan hai")).unwrap();
        assert_eq!(parsed.words[0].reading.as_deref(), Some("nguyen"));
        assert_eq!(
            parsed.readings(),
            [
                vec!["nguyeenx".to_owned(), "xuan".into(), "hai".into()],
                vec!["nguyen".to_owned(), "xuan".into(), "hai".into()]
            ]
        );
        // "Hải" decomposed: the hook above is a code point of its own.
        let nfd = parse(&request("Ha\u{0309}i")).unwrap();
        assert_eq!(nfd.words[0].folded, "hai");
        assert!(nfd.words[0].accent.is_some());
    }
}
