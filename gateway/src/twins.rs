//! When two provinces hold the same thing, the gateway shows it once.
//!
//! The merge rule:
//! - Experts are the same person when they have the same ORCID iD, or, when
//!   either lacks one, the same folded full name (case, diacritics and đ
//!   ignored), the same birth year and the same folded organization name. A
//!   missing birth year or organization name never matches; two different
//!   ORCID iDs never match.
//! - Publications are the same when they have the same DOI (case and the
//!   `https://doi.org/` or `doi:` forms ignored).
//! - Projects are never merged: each province's task is its own record.
//! - Only records from different nodes merge; one node's own near-duplicates
//!   are that node's to resolve.

use lienthong_records::AnyRecord;
use lienthong_records::folding::normalized;

/// What a record can be matched on.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TwinKeys {
    /// Experts: the canonical ORCID iD. Publications: the DOI.
    identifier: Option<String>,
    /// Experts: folded name, birth year and folded organization name.
    person: Option<String>,
}

impl TwinKeys {
    /// Whether there is anything to match on.
    pub fn any(&self) -> bool {
        self.identifier.is_some() || self.person.is_some()
    }

    /// Whether two records are the same thing: the same identifier when both
    /// have one, otherwise the same person key.
    pub fn matches(&self, other: &TwinKeys) -> bool {
        match (&self.identifier, &other.identifier) {
            (Some(mine), Some(theirs)) => mine == theirs,
            _ => self.person.is_some() && self.person == other.person,
        }
    }
}

/// The keys of `record`; empty when it has too little to compare safely.
pub fn twin_keys(record: &AnyRecord) -> TwinKeys {
    match record {
        AnyRecord::Expert(expert) => {
            let orcid = expert
                .identifiers
                .as_ref()
                .map(|ids| canonical_orcid(&ids.orcid))
                .unwrap_or_default();
            let name = normalized(&expert.full_name);
            let organization = normalized(&expert.organization_name);
            TwinKeys {
                identifier: (!orcid.is_empty()).then(|| format!("orcid:{orcid}")),
                person: (!name.is_empty() && expert.birth_year != 0 && !organization.is_empty())
                    .then(|| format!("{name}|{}|{organization}", expert.birth_year)),
            }
        }
        AnyRecord::Publication(publication) => {
            let doi = strip_prefixes(
                &publication.doi.trim().to_lowercase(),
                &[
                    "https://doi.org/",
                    "http://doi.org/",
                    "https://dx.doi.org/",
                    "http://dx.doi.org/",
                    "doi:",
                ],
            );
            TwinKeys {
                identifier: (!doi.is_empty()).then(|| format!("doi:{doi}")),
                person: None,
            }
        }
        AnyRecord::Project(_) | AnyRecord::Organization(_) => TwinKeys::default(),
    }
}

fn strip_prefixes(value: &str, prefixes: &[&str]) -> String {
    prefixes
        .iter()
        .find_map(|prefix| value.strip_prefix(prefix))
        .unwrap_or(value)
        .to_owned()
}

/// "https://orcid.org/0000-0002-1825-0097" and "0000-0002-1825-0097" alike.
fn canonical_orcid(orcid: &str) -> String {
    strip_prefixes(
        &orcid.trim().to_lowercase(),
        &["https://orcid.org/", "http://orcid.org/", "orcid.org/"],
    )
    .to_uppercase()
}

#[cfg(test)]
mod tests {
    use super::*;
    use lienthong_proto::v1 as pb;

    fn expert(name: &str, year: u32, organization: &str, orcid: &str) -> AnyRecord {
        AnyRecord::Expert(pb::Expert {
            full_name: name.into(),
            birth_year: year,
            organization_name: organization.into(),
            identifiers: Some(pb::ExpertIdentifiers {
                orcid: orcid.into(),
                ..Default::default()
            }),
            ..Default::default()
        })
    }

    fn twins(a: &AnyRecord, b: &AnyRecord) -> bool {
        let (a, b) = (twin_keys(a), twin_keys(b));
        a.matches(&b) && b.matches(&a)
    }

    #[test]
    fn the_same_person_matches_on_name_year_and_organization() {
        let a = expert("Nguyễn Xuân Hải", 1975, "Viện Lúa", "");
        assert!(twins(&a, &expert("NGUYEN XUAN HAI", 1975, "Vien lua", "")));
        assert!(!twins(&a, &expert("Nguyễn Xuân Hải", 1976, "Viện Lúa", "")));
        assert!(!twins(
            &a,
            &expert("Nguyễn Xuân Hải", 1975, "Viện Cây ăn quả", "")
        ));
        // With an ORCID on one side only, the person key still decides.
        assert!(twins(
            &a,
            &expert("Nguyễn Xuân Hải", 1975, "Viện Lúa", "0000-0002-1825-0097")
        ));
    }

    #[test]
    fn orcids_decide_when_both_have_one_and_missing_facts_never_match() {
        let a = expert(
            "Nguyễn Xuân Hải",
            1975,
            "Viện Lúa",
            "HTTPS://ORCID.ORG/0000-0002-1825-0097",
        );
        assert!(twins(
            &a,
            &expert("Nguyen X. Hai", 0, "", "0000-0002-1825-0097")
        ));
        // Same name, year and organization but two different ORCID iDs: two people.
        assert!(!twins(
            &a,
            &expert("Nguyễn Xuân Hải", 1975, "Viện Lúa", "0000-0001-5109-3700")
        ));
        assert!(!twin_keys(&expert("Nguyễn Xuân Hải", 0, "Viện Lúa", "")).any());
        assert!(!twin_keys(&expert("Nguyễn Xuân Hải", 1975, " ", "")).any());
    }

    #[test]
    fn publications_match_on_doi_in_any_spelling() {
        let publication = |doi: &str| {
            AnyRecord::Publication(pb::Publication {
                doi: doi.into(),
                ..Default::default()
            })
        };
        let a = publication("10.1000/XYZ123");
        assert!(twins(&a, &publication("https://dx.doi.org/10.1000/xyz123")));
        assert!(twins(&a, &publication("doi:10.1000/xyz123")));
        assert!(!twins(&a, &publication("10.1000/xyz124")));
        assert!(!twin_keys(&publication("")).any());
    }
}
