//! The sets a node offers (OAI-PMH section 4.6), none hierarchical:
//!
//! - the nine `openaire_cris_*` sets of the OpenAIRE Guidelines for CRIS
//!   Managers, under their official names; experts are in
//!   `openaire_cris_persons`, tasks in `openaire_cris_projects`, papers in
//!   `openaire_cris_publications`, organizations in `openaire_cris_orgunits`,
//!   and the other five are empty;
//! - `field_1` … `field_6`: the top-level fields of science of Circular
//!   24/2025/TT-BKHCN (the first digit of a record's field codes, which
//!   Decision 12/2008 codes share);
//! - on the national node, `province_<node>` for each province it follows.

use lienthong_records::{AnyRecord, RecordKind};

/// The nine sets of the OpenAIRE guidelines: (setSpec, setName).
pub const OPENAIRE_SETS: [(&str, &str); 9] = [
    ("openaire_cris_publications", "OpenAIRE_CRIS_publications"),
    ("openaire_cris_products", "OpenAIRE_CRIS_products"),
    ("openaire_cris_patents", "OpenAIRE_CRIS_patents"),
    ("openaire_cris_persons", "OpenAIRE_CRIS_persons"),
    ("openaire_cris_orgunits", "OpenAIRE_CRIS_orgunits"),
    ("openaire_cris_projects", "OpenAIRE_CRIS_projects"),
    ("openaire_cris_funding", "OpenAIRE_CRIS_funding"),
    ("openaire_cris_events", "OpenAIRE_CRIS_events"),
    ("openaire_cris_equipments", "OpenAIRE_CRIS_equipments"),
];

/// The top-level fields of science (Circular 24/2025/TT-BKHCN).
pub const FIELDS: [(u8, &str); 6] = [
    (1, "Khoa học tự nhiên (Natural sciences)"),
    (
        2,
        "Khoa học kỹ thuật và công nghệ (Engineering and technology)",
    ),
    (3, "Khoa học y, dược (Medical and health sciences)"),
    (4, "Khoa học nông nghiệp (Agricultural sciences)"),
    (5, "Khoa học xã hội (Social sciences)"),
    (6, "Khoa học nhân văn (Humanities)"),
];

const FIELD_PREFIX: &str = "field_";
const PROVINCE_PREFIX: &str = "province_";

/// What a set selects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SetFilter {
    /// Records of one kind, or none (the OpenAIRE sets no record is in).
    Kind(Option<RecordKind>),
    /// Records with a field code under this top-level field.
    Field(u8),
    /// Records from this node (the national node's province sets).
    Origin(String),
}

/// The OpenAIRE set a kind's records are in.
pub fn entity_set(kind: RecordKind) -> &'static str {
    match kind {
        RecordKind::Expert => "openaire_cris_persons",
        RecordKind::Project => "openaire_cris_projects",
        RecordKind::Publication => "openaire_cris_publications",
        RecordKind::Organization => "openaire_cris_orgunits",
    }
}

/// The province set of `origin`.
pub fn province_set(origin: &str) -> String {
    format!("{PROVINCE_PREFIX}{origin}")
}

/// Reads a setSpec; `provinces` are the origins the node has sets for.
pub fn parse(spec: &str, provinces: &[String]) -> Option<SetFilter> {
    if let Some((_, _)) = OPENAIRE_SETS.iter().find(|(set, _)| *set == spec) {
        let kind = RecordKind::ALL
            .into_iter()
            .find(|kind| entity_set(*kind) == spec);
        return Some(SetFilter::Kind(kind));
    }
    if let Some(field) = spec.strip_prefix(FIELD_PREFIX) {
        return FIELDS
            .iter()
            .find(|(code, _)| code.to_string() == field)
            .map(|(code, _)| SetFilter::Field(*code));
    }
    let origin = spec.strip_prefix(PROVINCE_PREFIX)?;
    provinces
        .iter()
        .any(|province| province == origin)
        .then(|| SetFilter::Origin(origin.to_owned()))
}

/// Every set on offer: (setSpec, setName).
pub fn all(provinces: &[String]) -> Vec<(String, String)> {
    let mut sets: Vec<(String, String)> = OPENAIRE_SETS
        .iter()
        .map(|(spec, name)| ((*spec).to_owned(), (*name).to_owned()))
        .collect();
    sets.extend(
        FIELDS
            .iter()
            .map(|(code, name)| (format!("{FIELD_PREFIX}{code}"), (*name).to_owned())),
    );
    sets.extend(
        provinces
            .iter()
            .map(|origin| (province_set(origin), format!("Sở KH&CN {origin}"))),
    );
    sets
}

/// The sets a record is in, for its header: its entity's set, its fields'
/// sets (when it is live), and its province's set where there is one.
pub fn of_record(
    kind: RecordKind,
    origin: &str,
    record: Option<&AnyRecord>,
    provinces: &[String],
) -> Vec<String> {
    let mut sets = vec![entity_set(kind).to_owned()];
    if let Some(record) = record {
        sets.extend(
            top_fields(record)
                .into_iter()
                .map(|field| format!("{FIELD_PREFIX}{field}")),
        );
    }
    if provinces.iter().any(|province| province == origin) {
        sets.push(province_set(origin));
    }
    sets
}

/// The distinct top-level fields of a record's field codes, in order.
fn top_fields(record: &AnyRecord) -> Vec<u8> {
    let bits = lienthong_records::search_document::top_fields(record);
    (1..=6).filter(|field| bits & (1 << field) != 0).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use lienthong_proto::v1 as pb;

    #[test]
    fn specs_read_back_and_unknown_ones_are_none() {
        let provinces = vec!["hung-yen".to_owned()];
        for (spec, _) in all(&provinces) {
            assert!(parse(&spec, &provinces).is_some(), "{spec}");
        }
        assert_eq!(
            parse("openaire_cris_events", &provinces),
            Some(SetFilter::Kind(None))
        );
        for unknown in [
            "field_7",
            "field_",
            "province_nam-dinh",
            "openaire_cris",
            "",
        ] {
            assert_eq!(parse(unknown, &provinces), None, "{unknown}");
        }
    }

    #[test]
    fn a_record_is_in_its_entity_set_and_its_fields_sets() {
        let expert = AnyRecord::Expert(pb::Expert {
            field_codes: vec![
                "4010101".into(),
                "40101".into(),
                "1020304".into(),
                "9".into(),
            ],
            ..Default::default()
        });
        assert_eq!(
            of_record(RecordKind::Expert, "hung-yen", Some(&expert), &[]),
            ["openaire_cris_persons", "field_1", "field_4"]
        );
    }
}
