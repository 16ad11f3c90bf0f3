//! Validation of records that arrive from outside (files, other systems).
//! Every error names the field and says what a valid value looks like.

use lienthong_proto::v1::{Classification, ProjectStatus, Visibility};

use crate::{AnyRecord, RecordError, RecordId};

/// Longest accepted text field, in bytes.
pub const MAX_TEXT_BYTES: usize = 16 * 1024;
/// Most field codes, keywords, members or authors on one record.
pub const MAX_LIST_ITEMS: usize = 200;

/// Checks a record before it is stored on node `node_id`. Returns its parsed id.
pub fn validate(record: &AnyRecord, node_id: &str) -> Result<RecordId, RecordError> {
    let meta = record.meta().ok_or_else(|| {
        RecordError::invalid(
            "meta",
            "missing; every record needs meta.id, meta.visibility and meta.classification",
        )
    })?;
    let id: RecordId = meta.id.parse()?;
    if id.kind != record.kind() {
        return Err(RecordError::invalid(
            "meta.id",
            format!(
                "{} names a {} but the record is a {}",
                meta.id,
                id.kind,
                record.kind()
            ),
        ));
    }
    if id.node != node_id {
        return Err(RecordError::invalid(
            "meta.id",
            format!(
                "{} belongs to node {:?}, but this node is {node_id:?}; a node stores only its own records",
                meta.id, id.node
            ),
        ));
    }
    if Visibility::try_from(meta.visibility).unwrap_or(Visibility::Unspecified)
        == Visibility::Unspecified
    {
        return Err(RecordError::invalid(
            "meta.visibility",
            "missing or unknown; use VISIBILITY_PUBLIC, VISIBILITY_FEDERATION or VISIBILITY_INTERNAL",
        ));
    }
    if Classification::try_from(meta.classification).unwrap_or(Classification::Unspecified)
        == Classification::Unspecified
    {
        return Err(RecordError::invalid(
            "meta.classification",
            "missing or unknown; use CLASSIFICATION_NORMAL (bình thường), CLASSIFICATION_CONFIDENTIAL (mật), CLASSIFICATION_SECRET or CLASSIFICATION_TOP_SECRET",
        ));
    }
    instant("meta.createdAt", &meta.created_at)?;
    instant("meta.updatedAt", &meta.updated_at)?;
    match record {
        AnyRecord::Expert(e) => {
            required("fullName", &e.full_name)?;
            year("birthYear", e.birth_year)?;
            field_codes(&e.field_codes)?;
            texts("keywords", &e.keywords)?;
            for (name, value) in [
                ("specialization", &e.specialization),
                ("position", &e.position),
                ("organizationName", &e.organization_name),
            ] {
                text(name, value)?;
            }
            optional_id("organizationId", &e.organization_id)?;
        }
        AnyRecord::Project(p) => {
            required("code", &p.code)?;
            required("title", &p.title)?;
            if ProjectStatus::try_from(p.status).unwrap_or(ProjectStatus::Unspecified)
                == ProjectStatus::Unspecified
            {
                return Err(RecordError::invalid(
                    "status",
                    "missing or unknown; use PROJECT_STATUS_PROPOSED, _APPROVED, _ONGOING, _COMPLETED or _CANCELLED",
                ));
            }
            field_codes(&p.field_codes)?;
            texts("keywords", &p.keywords)?;
            for (name, value) in [("summary", &p.summary), ("objectives", &p.objectives)] {
                text(name, value)?;
            }
            for (name, value) in [
                ("plannedStart", &p.planned_start),
                ("plannedEnd", &p.planned_end),
                ("actualStart", &p.actual_start),
                ("actualEnd", &p.actual_end),
                ("acceptanceDate", &p.acceptance_date),
                ("resultRegistrationDate", &p.result_registration_date),
            ] {
                date(name, value)?;
            }
            if p.state_budget_vnd > p.total_budget_vnd {
                return Err(RecordError::invalid(
                    "stateBudgetVnd",
                    format!(
                        "{} VND exceeds totalBudgetVnd {} VND; the state budget is part of the total",
                        p.state_budget_vnd, p.total_budget_vnd
                    ),
                ));
            }
            if p.members.len() > MAX_LIST_ITEMS {
                return Err(RecordError::invalid(
                    "members",
                    format!("at most {MAX_LIST_ITEMS} members"),
                ));
            }
            optional_id("hostOrganizationId", &p.host_organization_id)?;
        }
        AnyRecord::Publication(p) => {
            required("title", &p.title)?;
            year("year", p.year)?;
            field_codes(&p.field_codes)?;
            texts("keywords", &p.keywords)?;
            text("abstract", &p.r#abstract)?;
            if p.authors.len() > MAX_LIST_ITEMS {
                return Err(RecordError::invalid(
                    "authors",
                    format!("at most {MAX_LIST_ITEMS} authors"),
                ));
            }
            optional_id("projectId", &p.project_id)?;
        }
        AnyRecord::Organization(o) => {
            required("name", &o.name)?;
            optional_id("parentId", &o.parent_id)?;
            optional_id("successorId", &o.successor_id)?;
        }
    }
    Ok(id)
}

fn required(field: &str, value: &str) -> Result<(), RecordError> {
    if value.trim().is_empty() {
        return Err(RecordError::invalid(field, "must not be empty"));
    }
    text(field, value)
}

fn text(field: &str, value: &str) -> Result<(), RecordError> {
    // NUL cannot be stored in PostgreSQL text or jsonb; other control
    // characters (but tab and line breaks) are garbage from conversions.
    if let Some(bad) = value
        .chars()
        .find(|c| c.is_control() && !matches!(c, '\t' | '\n' | '\r'))
    {
        return Err(RecordError::invalid(
            field,
            format!(
                "holds the control character U+{:04X}; remove it",
                u32::from(bad)
            ),
        ));
    }
    if value.len() > MAX_TEXT_BYTES {
        return Err(RecordError::invalid(
            field,
            format!(
                "{} bytes is longer than the limit of {MAX_TEXT_BYTES}",
                value.len()
            ),
        ));
    }
    Ok(())
}

fn texts(field: &str, values: &[String]) -> Result<(), RecordError> {
    if values.len() > MAX_LIST_ITEMS {
        return Err(RecordError::invalid(
            field,
            format!("at most {MAX_LIST_ITEMS} items"),
        ));
    }
    values.iter().try_for_each(|value| text(field, value))
}

fn year(field: &str, value: u32) -> Result<(), RecordError> {
    if value != 0 && !(1900..=2100).contains(&value) {
        return Err(RecordError::invalid(
            field,
            format!("{value} is not a plausible year; use 1900-2100, or 0 when unknown"),
        ));
    }
    Ok(())
}

fn field_codes(codes: &[String]) -> Result<(), RecordError> {
    if codes.len() > MAX_LIST_ITEMS {
        return Err(RecordError::invalid(
            "fieldCodes",
            format!("at most {MAX_LIST_ITEMS} codes"),
        ));
    }
    for code in codes {
        let well_formed = (1..=7).contains(&code.len())
            && code.bytes().all(|b| b.is_ascii_digit())
            && matches!(code.as_bytes()[0], b'1'..=b'6');
        if !well_formed {
            return Err(RecordError::invalid(
                "fieldCodes",
                format!(
                    "{code:?} is not a field code; use 1-7 digits starting with the field 1-6, e.g. \"4010101\" (Circular 24/2025) or \"40101\" (Decision 12/2008)"
                ),
            ));
        }
    }
    Ok(())
}

fn date(field: &str, value: &str) -> Result<(), RecordError> {
    if value.is_empty() {
        return Ok(());
    }
    let bytes = value.as_bytes();
    let digits = |range: std::ops::Range<usize>| bytes[range].iter().all(u8::is_ascii_digit);
    let shaped = bytes.len() == 10
        && bytes[4] == b'-'
        && bytes[7] == b'-'
        && digits(0..4)
        && digits(5..7)
        && digits(8..10);
    let in_range = shaped && {
        let month: u32 = value[5..7].parse().unwrap_or(0);
        let day: u32 = value[8..10].parse().unwrap_or(0);
        (1..=12).contains(&month) && (1..=31).contains(&day)
    };
    if !in_range {
        return Err(RecordError::invalid(
            field,
            format!("{value:?} is not a date; use YYYY-MM-DD, e.g. \"2023-02-15\""),
        ));
    }
    Ok(())
}

/// An RFC 3339 UTC instant with seconds, e.g. "2023-02-15T08:30:00Z" (optional
/// fractional seconds), or empty (the store fills it in).
fn instant(field: &str, value: &str) -> Result<(), RecordError> {
    if value.is_empty() {
        return Ok(());
    }
    let bytes = value.as_bytes();
    let digits = |range: std::ops::Range<usize>| {
        bytes
            .get(range)
            .is_some_and(|b| b.iter().all(u8::is_ascii_digit))
    };
    let fraction_ok = match &bytes.get(19..bytes.len() - 1) {
        Some([]) => true,
        Some([b'.', rest @ ..]) => !rest.is_empty() && rest.iter().all(u8::is_ascii_digit),
        _ => false,
    };
    let shaped = bytes.len() >= 20
        && value.is_ascii()
        && date("", &value[..10]).is_ok()
        && bytes[10] == b'T'
        && digits(11..13)
        && bytes[13] == b':'
        && digits(14..16)
        && bytes[16] == b':'
        && digits(17..19)
        && bytes.last() == Some(&b'Z')
        && fraction_ok;
    if !shaped {
        return Err(RecordError::invalid(
            field,
            format!(
                "{value:?} is not an RFC 3339 UTC time; use e.g. \"2023-02-15T08:30:00Z\", or leave it out"
            ),
        ));
    }
    Ok(())
}

fn optional_id(field: &str, value: &str) -> Result<(), RecordError> {
    if value.is_empty() {
        return Ok(());
    }
    value
        .parse::<RecordId>()
        .map(|_| ())
        .map_err(|error| RecordError::invalid(field, error.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use lienthong_proto::v1::{Expert, Project, RecordMeta};

    fn meta(id: &str) -> Option<RecordMeta> {
        Some(RecordMeta {
            id: id.into(),
            visibility: Visibility::Federation as i32,
            classification: Classification::Normal as i32,
            ..Default::default()
        })
    }

    fn expert() -> Expert {
        Expert {
            meta: meta("hung-yen:expert:E1"),
            full_name: "Đinh Thị Hoà".into(),
            ..Default::default()
        }
    }

    fn rejects(record: AnyRecord, field: &str) {
        let error = validate(&record, "hung-yen").unwrap_err();
        let RecordError::Invalid { field: got, .. } = &error;
        assert_eq!(got, field, "{error}");
    }

    #[test]
    fn a_complete_record_passes() {
        assert_eq!(
            validate(&AnyRecord::Expert(expert()), "hung-yen")
                .unwrap()
                .local,
            "E1"
        );
    }

    #[test]
    fn each_defect_is_named() {
        rejects(
            AnyRecord::Expert(Expert {
                meta: None,
                ..expert()
            }),
            "meta",
        );
        rejects(
            AnyRecord::Expert(Expert {
                meta: meta("nam-dinh:expert:E1"),
                ..expert()
            }),
            "meta.id",
        );
        rejects(
            AnyRecord::Expert(Expert {
                meta: meta("hung-yen:project:E1"),
                ..expert()
            }),
            "meta.id",
        );
        rejects(
            AnyRecord::Expert(Expert {
                full_name: " ".into(),
                ..expert()
            }),
            "fullName",
        );
        rejects(
            AnyRecord::Expert(Expert {
                birth_year: 207,
                ..expert()
            }),
            "birthYear",
        );
        rejects(
            AnyRecord::Expert(Expert {
                field_codes: vec!["7123".into()],
                ..expert()
            }),
            "fieldCodes",
        );
        rejects(
            AnyRecord::Expert(Expert {
                field_codes: vec!["40a01".into()],
                ..expert()
            }),
            "fieldCodes",
        );
        let mut hidden = expert();
        hidden.meta.as_mut().unwrap().visibility = 0;
        rejects(AnyRecord::Expert(hidden), "meta.visibility");
        for bad_time in [
            "yesterday",
            "2023-02-15",
            "2023-02-15T08:30:00",
            "2023-02-15T08:30:00Z\u{0}",
            "2023-13-15T08:30:00Z",
        ] {
            let mut timed = expert();
            timed.meta.as_mut().unwrap().created_at = bad_time.into();
            rejects(AnyRecord::Expert(timed), "meta.createdAt");
        }
        let mut precise = expert();
        precise.meta.as_mut().unwrap().updated_at = "2023-02-15T08:30:00.125Z".into();
        assert!(validate(&AnyRecord::Expert(precise), "hung-yen").is_ok());
        let project = Project {
            meta: meta("hung-yen:project:P1"),
            code: "ĐT.HY.2019.01".into(),
            title: "Nghiên cứu lúa".into(),
            status: ProjectStatus::Completed as i32,
            ..Default::default()
        };
        assert!(validate(&AnyRecord::Project(project.clone()), "hung-yen").is_ok());
        rejects(
            AnyRecord::Project(Project {
                planned_start: "2019-13-01".into(),
                ..project.clone()
            }),
            "plannedStart",
        );
        rejects(
            AnyRecord::Project(Project {
                state_budget_vnd: 2,
                total_budget_vnd: 1,
                ..project.clone()
            }),
            "stateBudgetVnd",
        );
        rejects(
            AnyRecord::Project(Project {
                status: 0,
                ..project
            }),
            "status",
        );
    }
}
