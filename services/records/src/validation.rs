//! Validation of records that arrive from outside (files, other systems).
//! Every error names the field and says what a valid value looks like.

use lienthong_proto::v1::{Classification, ProjectStatus, Visibility};

use crate::{AnyRecord, RecordError, RecordId};

/// Longest accepted text field, in bytes.
pub const MAX_TEXT_BYTES: usize = 16 * 1024;
/// Most field codes, keywords, members or authors on one record.
pub const MAX_LIST_ITEMS: usize = 200;

/// Largest version a record may carry in (2^53: exact in JSON numbers, and
/// a node can count up from it for ever).
pub const MAX_VERSION: u64 = 1 << 53;

/// Largest record, encoded: far above any real one, and far below the
/// messages the change feed and Get send (4 MiB), so that every stored
/// record can be sent.
pub const MAX_RECORD_BYTES: usize = 256 * 1024;

/// Checks a record before it is stored on node `node_id`. Returns its parsed id.
pub fn validate(record: &AnyRecord, node_id: &str) -> Result<RecordId, RecordError> {
    let size = record.encoded_len();
    if size > MAX_RECORD_BYTES {
        return Err(RecordError::invalid(
            "record",
            format!(
                "{size} bytes encoded, over the limit of {MAX_RECORD_BYTES}; shorten its texts"
            ),
        ));
    }
    if let Some(field) = field_with_nul(record) {
        return Err(RecordError::invalid(
            &field,
            "holds a NUL character (U+0000), which text fields may not; remove it",
        ));
    }
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
    if meta.version > MAX_VERSION {
        return Err(RecordError::invalid(
            "meta.version",
            format!(
                "{} is over the largest version, {MAX_VERSION}",
                meta.version
            ),
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

/// The JSON path of a text field holding U+0000, if any: found in the
/// record's JSON form (which writes it `\u0000`) as it streams past, so
/// every text field, nested ones too, is covered without a list of them.
fn field_with_nul(record: &AnyRecord) -> Option<String> {
    struct Scan {
        tail: Vec<u8>,
        found: bool,
    }
    impl std::io::Write for Scan {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            const NUL: &[u8] = b"\\u0000";
            self.tail.extend_from_slice(buf);
            if self.tail.windows(NUL.len()).any(|window| window == NUL) {
                self.found = true;
            }
            let keep = self.tail.len().saturating_sub(NUL.len() - 1);
            self.tail.drain(..keep);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    // Quick: U+0000 is byte 0 in UTF-8, and protobuf writes strings as they
    // are; most records' encoding holds no 0 byte at all (it can otherwise
    // come only from an empty nested message or a packed zero).
    if !record.encode_to_vec().contains(&0) {
        return None;
    }
    let mut scan = Scan {
        tail: Vec::with_capacity(64),
        found: false,
    };
    let written = match record {
        AnyRecord::Organization(r) => serde_json::to_writer(&mut scan, r),
        AnyRecord::Expert(r) => serde_json::to_writer(&mut scan, r),
        AnyRecord::Project(r) => serde_json::to_writer(&mut scan, r),
        AnyRecord::Publication(r) => serde_json::to_writer(&mut scan, r),
    };
    if written.is_err() || !scan.found {
        return None;
    }
    // Which field: rare, so found the slow way.
    let json = record.to_json().ok()?;
    let value: serde_json::Value = serde_json::from_str(&json).ok()?;
    nul_path(&value, String::new())
}

fn nul_path(value: &serde_json::Value, path: String) -> Option<String> {
    match value {
        serde_json::Value::String(text) if text.contains('\0') => Some(path),
        serde_json::Value::Object(fields) => fields.iter().find_map(|(name, value)| {
            let path = if path.is_empty() {
                name.clone()
            } else {
                format!("{path}.{name}")
            };
            nul_path(value, path)
        }),
        serde_json::Value::Array(items) => items
            .iter()
            .enumerate()
            .find_map(|(index, item)| nul_path(item, format!("{path}[{index}]"))),
        _ => None,
    }
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
    fn a_nul_anywhere_and_an_oversized_record_are_refused_by_field() {
        let mut nul = expert();
        nul.contact = Some(lienthong_proto::v1::ContactDetails {
            email: "an\0@x.vn".into(),
            ..Default::default()
        });
        rejects(AnyRecord::Expert(nul), "contact.email");
        let project = Project {
            meta: meta("hung-yen:project:P1"),
            code: "P1".into(),
            title: "Đề tài".into(),
            status: ProjectStatus::Completed as i32,
            managing_agency: "Bộ\0".into(),
            ..Default::default()
        };
        rejects(AnyRecord::Project(project.clone()), "managingAgency");
        let mut huge = project;
        huge.managing_agency = "Bộ Khoa học và Công nghệ ".repeat(12_000);
        rejects(AnyRecord::Project(huge), "record");
        assert!(validate(&AnyRecord::Expert(expert()), "hung-yen").is_ok());
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
