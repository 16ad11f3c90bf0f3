//! Records of Liên thông: identity, validation, Vietnamese folding and the
//! search terms each record contributes.
//!
//! This crate knows the records (the proto messages) but nothing of databases
//! or transport.

#![forbid(unsafe_code)]

pub mod folding;
pub mod identity;
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
