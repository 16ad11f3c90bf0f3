//! When two provinces hold the same thing, the gateway shows it once.
//!
//! The merge rule:
//! - Experts are the same person when they have the same ORCID iD, or, when
//!   either lacks one, the same folded full name (case, diacritics and đ
//!   ignored), the same birth year and the same folded organization name. A
//!   missing birth year or organization name never matches.
//! - Publications are the same when they have the same DOI (case ignored).
//! - Projects are never merged: each province's task is its own record.
//! - Only records from different nodes merge; one node's own near-duplicates
//!   are that node's to resolve.

use lienthong_records::AnyRecord;
use lienthong_records::folding::normalized;

/// The key two records share when they describe the same thing; `None` when
/// the record has too little to compare safely.
pub fn twin_key(record: &AnyRecord) -> Option<String> {
    match record {
        AnyRecord::Expert(expert) => {
            let orcid = expert
                .identifiers
                .as_ref()
                .map(|ids| canonical_orcid(&ids.orcid))
                .unwrap_or_default();
            if !orcid.is_empty() {
                return Some(format!("orcid:{orcid}"));
            }
            let name = normalized(&expert.full_name);
            let organization = normalized(&expert.organization_name);
            (!name.is_empty() && expert.birth_year != 0 && !organization.is_empty())
                .then(|| format!("person:{name}|{}|{organization}", expert.birth_year))
        }
        AnyRecord::Publication(publication) => {
            let doi = publication.doi.trim().to_lowercase();
            let doi = doi
                .trim_start_matches("https://doi.org/")
                .trim_start_matches("doi:");
            (!doi.is_empty()).then(|| format!("doi:{doi}"))
        }
        AnyRecord::Project(_) | AnyRecord::Organization(_) => None,
    }
}

/// "https://orcid.org/0000-0002-1825-0097" and "0000-0002-1825-0097" alike.
fn canonical_orcid(orcid: &str) -> String {
    orcid
        .trim()
        .trim_start_matches("https://orcid.org/")
        .trim_start_matches("http://orcid.org/")
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
