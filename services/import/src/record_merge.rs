//! What two records found to be one become (`lienthong merge`): the kept
//! record as it is, with each field it leaves empty taken from the other.
//! Nothing the kept record says is overwritten; every field taken is
//! listed for the person applying the merge.

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
}

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
    fill(&mut merged, &from, "", &mut taken);
    let record = AnyRecord::from_json(kept.kind(), &merged.to_string())
        .map_err(|error| MergeError::Fields(error.to_string()))?;
    Ok((record, taken))
}

fn fill(into: &mut Value, from: &Value, path: &str, taken: &mut Vec<FieldTaken>) {
    let (Value::Object(into), Value::Object(from)) = (into, from) else {
        return;
    };
    for (name, value) in from {
        if is_empty(value) {
            continue;
        }
        let field = if path.is_empty() {
            name.clone()
        } else {
            format!("{path}.{name}")
        };
        match into.get_mut(name) {
            Some(held @ Value::Object(_)) if value.is_object() => {
                fill(held, value, &field, taken);
            }
            Some(held) if !is_empty(held) => {}
            _ => {
                into.insert(name.clone(), value.clone());
                taken.push(FieldTaken {
                    field,
                    value: value.to_string(),
                });
            }
        }
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
