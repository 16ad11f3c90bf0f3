//! Records of Liên thông: identity, validation, Vietnamese folding and the
//! search terms each record contributes.
//!
//! This crate knows the records (the proto messages) but nothing of databases
//! or transport.

#![forbid(unsafe_code)]

pub mod folding;
pub mod identity;
pub mod input_method;
pub mod labels;
pub mod search_document;
pub mod validation;

use lienthong_proto::v1::{Expert, Organization, Project, Publication, Record, RecordMeta, record};

pub use identity::{RecordId, RecordKind};

/// Why a record was refused. Messages name the field and say how to fix it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RecordError {
    #[error("{field}: {reason}")]
    Invalid { field: String, reason: String },
}

impl RecordError {
    /// A record field that fails validation.
    pub fn invalid(field: impl Into<String>, reason: impl Into<String>) -> Self {
        RecordError::Invalid {
            field: field.into(),
            reason: reason.into(),
        }
    }
}

/// One record of any kind, owned.
// Variants differ in size, but records are built and moved once per write;
// boxing each would add an allocation per record for nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug, PartialEq)]
pub enum AnyRecord {
    Organization(Organization),
    Expert(Expert),
    Project(Project),
    Publication(Publication),
}

impl AnyRecord {
    /// The record's kind.
    pub fn kind(&self) -> RecordKind {
        match self {
            AnyRecord::Organization(_) => RecordKind::Organization,
            AnyRecord::Expert(_) => RecordKind::Expert,
            AnyRecord::Project(_) => RecordKind::Project,
            AnyRecord::Publication(_) => RecordKind::Publication,
        }
    }

    /// The record's metadata, if set.
    pub fn meta(&self) -> Option<&RecordMeta> {
        match self {
            AnyRecord::Organization(r) => r.meta.as_ref(),
            AnyRecord::Expert(r) => r.meta.as_ref(),
            AnyRecord::Project(r) => r.meta.as_ref(),
            AnyRecord::Publication(r) => r.meta.as_ref(),
        }
    }

    /// The record's metadata, created empty if missing.
    pub fn meta_mut(&mut self) -> &mut RecordMeta {
        match self {
            AnyRecord::Organization(r) => r.meta.get_or_insert_default(),
            AnyRecord::Expert(r) => r.meta.get_or_insert_default(),
            AnyRecord::Project(r) => r.meta.get_or_insert_default(),
            AnyRecord::Publication(r) => r.meta.get_or_insert_default(),
        }
    }

    /// The global id from the metadata, or "" when missing.
    pub fn id(&self) -> &str {
        self.meta().map_or("", |meta| meta.id.as_str())
    }

    /// The ids of other records this one names (its organization, team
    /// members, authors, project, parent, predecessors and successor), empty
    /// ones left out.
    pub fn references(&self) -> Vec<&str> {
        let mut ids: Vec<&str> = Vec::new();
        match self {
            AnyRecord::Expert(e) => ids.push(&e.organization_id),
            AnyRecord::Project(p) => {
                ids.extend(p.lead.iter().map(|lead| lead.expert_id.as_str()));
                ids.extend(p.members.iter().map(|member| member.expert_id.as_str()));
                ids.push(&p.host_organization_id);
            }
            AnyRecord::Publication(p) => {
                ids.extend(p.authors.iter().map(|author| author.expert_id.as_str()));
                ids.push(&p.project_id);
            }
            AnyRecord::Organization(o) => {
                ids.push(&o.parent_id);
                ids.extend(o.predecessor_ids.iter().map(String::as_str));
                ids.push(&o.successor_id);
            }
        }
        ids.retain(|id| !id.is_empty());
        ids
    }

    /// Blanks every reference `keep` refuses (a list of ids loses the
    /// entry). Names written beside a reference (a team member's, an
    /// author's, the host organization's) stay: they are part of this record.
    pub fn retain_references(&mut self, keep: impl Fn(&str) -> bool) {
        let blank = |id: &mut String| {
            if !id.is_empty() && !keep(id) {
                id.clear();
            }
        };
        match self {
            AnyRecord::Expert(e) => blank(&mut e.organization_id),
            AnyRecord::Project(p) => {
                if let Some(lead) = p.lead.as_mut() {
                    blank(&mut lead.expert_id);
                }
                p.members.iter_mut().for_each(|m| blank(&mut m.expert_id));
                blank(&mut p.host_organization_id);
            }
            AnyRecord::Publication(p) => {
                p.authors.iter_mut().for_each(|a| blank(&mut a.expert_id));
                blank(&mut p.project_id);
            }
            AnyRecord::Organization(o) => {
                blank(&mut o.parent_id);
                o.predecessor_ids.retain(|id| keep(id));
                blank(&mut o.successor_id);
            }
        }
    }

    /// Encodes the record body (protobuf) as the store keeps it.
    pub fn encode(&self) -> Vec<u8> {
        use prost::Message;
        match self {
            AnyRecord::Organization(r) => r.encode_to_vec(),
            AnyRecord::Expert(r) => r.encode_to_vec(),
            AnyRecord::Project(r) => r.encode_to_vec(),
            AnyRecord::Publication(r) => r.encode_to_vec(),
        }
    }

    /// Decodes a record body of the given kind.
    pub fn decode(kind: RecordKind, bytes: &[u8]) -> Result<AnyRecord, prost::DecodeError> {
        use prost::Message;
        Ok(match kind {
            RecordKind::Organization => AnyRecord::Organization(Organization::decode(bytes)?),
            RecordKind::Expert => AnyRecord::Expert(Expert::decode(bytes)?),
            RecordKind::Project => AnyRecord::Project(Project::decode(bytes)?),
            RecordKind::Publication => AnyRecord::Publication(Publication::decode(bytes)?),
        })
    }
}

/// A record body stored as JSON that does not read back as its kind.
#[derive(Debug, thiserror::Error)]
#[error("{kind:?} record does not convert to or from protobuf JSON: {source}")]
pub struct JsonBodyError {
    kind: RecordKind,
    source: serde_json::Error,
}

impl AnyRecord {
    /// The record's size encoded as protobuf.
    pub fn encoded_len(&self) -> usize {
        use prost::Message;
        match self {
            AnyRecord::Organization(r) => r.encoded_len(),
            AnyRecord::Expert(r) => r.encoded_len(),
            AnyRecord::Project(r) => r.encoded_len(),
            AnyRecord::Publication(r) => r.encoded_len(),
        }
    }

    /// The record encoded as protobuf.
    pub fn encode_to_vec(&self) -> Vec<u8> {
        use prost::Message;
        match self {
            AnyRecord::Organization(r) => r.encode_to_vec(),
            AnyRecord::Expert(r) => r.encode_to_vec(),
            AnyRecord::Project(r) => r.encode_to_vec(),
            AnyRecord::Publication(r) => r.encode_to_vec(),
        }
    }

    /// The record body in the protobuf JSON mapping (camelCase fields, enum
    /// names as strings), as PostgreSQL keeps it in a `jsonb` column so
    /// that reporting tools can read it with plain SQL.
    pub fn to_json(&self) -> Result<String, JsonBodyError> {
        let encoded = match self {
            AnyRecord::Organization(r) => serde_json::to_string(r),
            AnyRecord::Expert(r) => serde_json::to_string(r),
            AnyRecord::Project(r) => serde_json::to_string(r),
            AnyRecord::Publication(r) => serde_json::to_string(r),
        };
        // Fails for an enum value this version does not know.
        encoded.map_err(|source| JsonBodyError {
            kind: self.kind(),
            source,
        })
    }

    /// Reads a body written by [`AnyRecord::to_json`].
    pub fn from_json(kind: RecordKind, json: &str) -> Result<AnyRecord, JsonBodyError> {
        let error = |source| JsonBodyError { kind, source };
        Ok(match kind {
            RecordKind::Organization => {
                AnyRecord::Organization(serde_json::from_str(json).map_err(error)?)
            }
            RecordKind::Expert => AnyRecord::Expert(serde_json::from_str(json).map_err(error)?),
            RecordKind::Project => AnyRecord::Project(serde_json::from_str(json).map_err(error)?),
            RecordKind::Publication => {
                AnyRecord::Publication(serde_json::from_str(json).map_err(error)?)
            }
        })
    }
}

impl From<AnyRecord> for Record {
    fn from(record: AnyRecord) -> Record {
        Record {
            record: Some(match record {
                AnyRecord::Organization(r) => record::Record::Organization(r),
                AnyRecord::Expert(r) => record::Record::Expert(r),
                AnyRecord::Project(r) => record::Record::Project(r),
                AnyRecord::Publication(r) => record::Record::Publication(r),
            }),
        }
    }
}

impl TryFrom<Record> for AnyRecord {
    type Error = RecordError;

    fn try_from(record: Record) -> Result<AnyRecord, RecordError> {
        match record.record {
            Some(record::Record::Organization(r)) => Ok(AnyRecord::Organization(r)),
            Some(record::Record::Expert(r)) => Ok(AnyRecord::Expert(r)),
            Some(record::Record::Project(r)) => Ok(AnyRecord::Project(r)),
            Some(record::Record::Publication(r)) => Ok(AnyRecord::Publication(r)),
            None => Err(RecordError::invalid(
                "record",
                "empty record; write one of {\"expert\": {...}}, {\"project\": {...}}, {\"publication\": {...}} or {\"organization\": {...}}",
            )),
        }
    }
}
