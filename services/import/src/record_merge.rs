//! What two records found to be one become (`lienthong merge`): the kept
//! record as it is, with each field it leaves empty taken from the other.
//! Nothing the kept record says is overwritten; every field taken is
//! listed for the person applying the merge.
//!
//! Fields that belong together are taken together or not at all: contact
//! details, a task's lead, its team, a paper's authors, and an
//! organization's id with its name, so a merge never links one record's
//! name to another's id. The consent to share contact details is never
//! taken: it was given for the details it was given with. A record
//! classified higher, or shared more narrowly, than the kept one is not
//! merged into it: its content would go where it was not allowed.

use lienthong_records::AnyRecord;
use serde_json::Value;

/// A field the kept record takes from the dropped one.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct FieldTaken {
    /// Its path in the protobuf JSON form ("birthYear", "identifiers.orcid").
    pub field: String,
    /// The value taken, as JSON.
    pub value: String,
}

/// Why two records cannot be merged.
#[derive(Debug, thiserror::Error)]
pub enum MergeError {
    #[error(
        "{kept} is a {kept_kind} and {dropped} a {dropped_kind}; only records of one kind merge"
    )]
    KindsDiffer {
        kept: String,
        kept_kind: &'static str,
        dropped: String,
        dropped_kind: &'static str,
    },
    #[error("cannot read a record's fields: {0}")]
    Fields(String),
    #[error(
        "{dropped} is {what} than {kept}; merging would share its content more widely. Give {kept} the same visibility and classification first, or keep {dropped} instead"
    )]
    Wider {
        kept: String,
        dropped: String,
        what: &'static str,
    },
}

/// Fields never taken from the dropped record.
const NEVER_TAKEN: [&str; 1] = ["contactSharingConsent"];

/// Fields taken only together, and only when the kept record has none of
/// them.
const TAKEN_TOGETHER: [&[&str]; 2] = [
    &["organizationId", "organizationName"],
    &["hostOrganizationId", "hostOrganizationName"],
];

/// `kept` with the fields it leaves empty filled from `dropped`, and the
/// fields so taken. The meta (id, version, visibility, classification) is
/// `kept`'s.
pub fn fill_from(
    kept: &AnyRecord,
    dropped: &AnyRecord,
) -> Result<(AnyRecord, Vec<FieldTaken>), MergeError> {
    if kept.kind() != dropped.kind() {
        return Err(MergeError::KindsDiffer {
            kept: kept.id().into(),
            kept_kind: kept.kind().as_str(),
            dropped: dropped.id().into(),
            dropped_kind: dropped.kind().as_str(),
        });
    }
    let meta = |record: &AnyRecord| record.meta().cloned().unwrap_or_default();
    let (kept_meta, dropped_meta) = (meta(kept), meta(dropped));
    let wider = |what| MergeError::Wider {
        kept: kept.id().into(),
        dropped: dropped.id().into(),
        what,
    };
    if dropped_meta.classification > kept_meta.classification {
        return Err(wider("classified higher"));
    }
    if sharing_rank(dropped_meta.visibility) < sharing_rank(kept_meta.visibility) {
        return Err(wider("shared more narrowly"));
    }
    let fields = |record: &AnyRecord| -> Result<Value, MergeError> {
        let json = record
            .to_json()
            .map_err(|error| MergeError::Fields(error.to_string()))?;
        serde_json::from_str(&json).map_err(|error| MergeError::Fields(error.to_string()))
    };
    let mut merged = fields(kept)?;
    let mut from = fields(dropped)?;
    if let Value::Object(from) = &mut from {
        from.remove("meta");
    }
    let mut taken = Vec::new();
    if let (Value::Object(into), Value::Object(from)) = (&mut merged, &mut from) {
        for field in NEVER_TAKEN {
            from.remove(field);
        }
        for group in TAKEN_TOGETHER {
            let kept_has_any = group
                .iter()
                .any(|field| into.get(*field).is_some_and(|v| !is_empty(v)));
            if kept_has_any {
                for field in group {
                    from.remove(*field);
                }
            }
        }
    }
    fill(&mut merged, &from, &mut taken);
    let record = AnyRecord::from_json(kept.kind(), &merged.to_string())
        .map_err(|error| MergeError::Fields(error.to_string()))?;
    Ok((record, taken))
}

/// Each top-level field `into` leaves empty, taken whole from `from`
/// (contact details, a lead, a list: as one, never mixed).
fn fill(into: &mut Value, from: &Value, taken: &mut Vec<FieldTaken>) {
    let (Value::Object(into), Value::Object(from)) = (into, from) else {
        return;
    };
    for (name, value) in from {
        if is_empty(value) || into.get(name).is_some_and(|held| !is_empty(held)) {
            continue;
        }
        into.insert(name.clone(), value.clone());
        taken.push(FieldTaken {
            field: name.clone(),
            value: value.to_string(),
        });
    }
}

/// How widely a visibility shares: internal, federation, public.
fn sharing_rank(visibility: i32) -> u8 {
    match lienthong_proto::v1::Visibility::try_from(visibility) {
        Ok(lienthong_proto::v1::Visibility::Public) => 2,
        Ok(lienthong_proto::v1::Visibility::Federation) => 1,
        _ => 0,
    }
}

/// A value the protobuf JSON form writes for "not given".
fn is_empty(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::Bool(given) => !given,
        Value::Number(number) => number.as_f64() == Some(0.0),
        Value::String(text) => text.is_empty() || text.ends_with("_UNSPECIFIED") || text == "0",
        Value::Array(items) => items.is_empty(),
        Value::Object(fields) => fields.values().all(is_empty),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use lienthong_proto::v1 as pb;

    fn meta(id: &str) -> Option<pb::RecordMeta> {
        Some(pb::RecordMeta {
            id: id.into(),
            version: 3,
            ..Default::default()
        })
    }

    #[test]
    fn the_kept_record_keeps_what_it_says_and_takes_what_it_lacks() {
        let kept = AnyRecord::Expert(pb::Expert {
            meta: meta("n:expert:a"),
            full_name: "Nguyễn Văn Đức".into(),
            birth_year: 1968,
            organization_name: "Viện Công nghệ sinh học".into(),
            ..Default::default()
        });
        let dropped = AnyRecord::Expert(pb::Expert {
            meta: meta("n:expert:b"),
            full_name: "Nguyen Van Duc".into(),
            birth_year: 0,
            organization_name: "Sở KH&CN".into(),
            degree: pb::Degree::Doctor as i32,
            identifiers: Some(pb::ExpertIdentifiers {
                orcid: "0000-0002-1825-0097".into(),
                ..Default::default()
            }),
            keywords: vec!["lúa".into()],
            ..Default::default()
        });
        let (merged, taken) = fill_from(&kept, &dropped).expect("merged");
        let AnyRecord::Expert(merged) = merged else {
            panic!("an expert");
        };
        assert_eq!(merged.full_name, "Nguyễn Văn Đức");
        assert_eq!(merged.organization_name, "Viện Công nghệ sinh học");
        assert_eq!(merged.birth_year, 1968);
        assert_eq!(merged.degree, pb::Degree::Doctor as i32);
        assert_eq!(
            merged.identifiers.map(|ids| ids.orcid).as_deref(),
            Some("0000-0002-1825-0097")
        );
        assert_eq!(merged.keywords, ["lúa"]);
        assert_eq!(merged.meta.map(|m| m.id).as_deref(), Some("n:expert:a"));
        let fields: Vec<&str> = taken.iter().map(|t| t.field.as_str()).collect();
        assert_eq!(fields, ["degree", "identifiers", "keywords"]);
    }

    #[test]
    fn consent_is_never_taken_and_linked_fields_are_not_mixed() {
        let kept = AnyRecord::Expert(pb::Expert {
            meta: meta("n:expert:a"),
            full_name: "Lê Hải".into(),
            organization_name: "Viện A".into(),
            contact: Some(pb::ContactDetails {
                email: "hai@a.vn".into(),
                phone: String::new(),
            }),
            ..Default::default()
        });
        let dropped = AnyRecord::Expert(pb::Expert {
            meta: meta("n:expert:b"),
            full_name: "Le Hai".into(),
            organization_id: "n:organization:B".into(),
            organization_name: "Viện B".into(),
            contact: Some(pb::ContactDetails {
                email: "hai@b.vn".into(),
                phone: "0912 345 678".into(),
            }),
            contact_sharing_consent: true,
            ..Default::default()
        });
        let (merged, taken) = fill_from(&kept, &dropped).expect("merged");
        let AnyRecord::Expert(merged) = merged else {
            panic!("an expert");
        };
        assert!(
            !merged.contact_sharing_consent,
            "consent stays the kept record's"
        );
        assert_eq!(merged.organization_id, "", "no other organization's id");
        assert_eq!(
            merged.contact,
            Some(pb::ContactDetails {
                email: "hai@a.vn".into(),
                phone: String::new(),
            }),
            "contact details are not mixed"
        );
        assert!(taken.is_empty(), "{taken:?}");
    }

    #[test]
    fn a_record_shared_more_narrowly_or_classified_higher_is_not_merged_in() {
        let with = |id: &str, visibility: pb::Visibility, classification: pb::Classification| {
            AnyRecord::Expert(pb::Expert {
                meta: Some(pb::RecordMeta {
                    id: id.into(),
                    version: 1,
                    visibility: visibility as i32,
                    classification: classification as i32,
                    ..Default::default()
                }),
                ..Default::default()
            })
        };
        use pb::{Classification as C, Visibility as V};
        let public = with("n:expert:a", V::Public, C::Normal);
        let internal = with("n:expert:b", V::Internal, C::Normal);
        let secret = with("n:expert:c", V::Public, C::Secret);
        assert!(matches!(
            fill_from(&public, &internal),
            Err(MergeError::Wider { .. })
        ));
        assert!(matches!(
            fill_from(&public, &secret),
            Err(MergeError::Wider { .. })
        ));
        assert!(fill_from(&internal, &public).is_ok());
    }

    #[test]
    fn records_of_two_kinds_do_not_merge() {
        let expert = AnyRecord::Expert(pb::Expert {
            meta: meta("n:expert:a"),
            ..Default::default()
        });
        let project = AnyRecord::Project(pb::Project {
            meta: meta("n:project:a"),
            ..Default::default()
        });
        assert!(matches!(
            fill_from(&expert, &project),
            Err(MergeError::KindsDiffer { .. })
        ));
    }
}
