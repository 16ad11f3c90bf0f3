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

    #[test]
    fn the_same_person_has_the_same_key() {
        let a = expert("Nguyễn Xuân Hải", 1975, "Viện Lúa", "");
        let b = expert("NGUYEN XUAN HAI", 1975, "Vien lua", "");
        assert_eq!(twin_key(&a), twin_key(&b));
        assert!(twin_key(&a).is_some());
        let other_year = expert("Nguyễn Xuân Hải", 1976, "Viện Lúa", "");
        assert_ne!(twin_key(&a), twin_key(&other_year));
        let other_org = expert("Nguyễn Xuân Hải", 1975, "Viện Cây ăn quả", "");
        assert_ne!(twin_key(&a), twin_key(&other_org));
    }

    #[test]
    fn orcid_wins_and_missing_facts_never_match() {
        let a = expert(
            "Nguyễn Xuân Hải",
            1975,
            "Viện Lúa",
            "https://orcid.org/0000-0002-1825-0097",
        );
        let b = expert("Nguyen X. Hai", 0, "", "0000-0002-1825-0097");
        assert_eq!(twin_key(&a), twin_key(&b));
        assert_eq!(
            twin_key(&expert("Nguyễn Xuân Hải", 0, "Viện Lúa", "")),
            None
        );
        assert_eq!(twin_key(&expert("Nguyễn Xuân Hải", 1975, " ", "")), None);
    }
}
