//! The metadata formats records are disseminated in.

pub mod cerif;
pub mod dublin_core;

use lienthong_records::AnyRecord;

use crate::xml::XmlWriter;

/// A metadata format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    DublinCore,
    Cerif,
}

/// Every format, as ListMetadataFormats lists it: (prefix, schema, namespace).
pub const ALL: [(Format, &str, &str, &str); 2] = [
    (
        Format::DublinCore,
        dublin_core::PREFIX,
        dublin_core::SCHEMA,
        dublin_core::NAMESPACE,
    ),
    (
        Format::Cerif,
        cerif::PREFIX,
        cerif::SCHEMA,
        cerif::NAMESPACE,
    ),
];

impl Format {
    /// The format a metadataPrefix names.
    pub fn from_prefix(prefix: &str) -> Option<Format> {
        ALL.iter()
            .find(|(_, known, _, _)| *known == prefix)
            .map(|(format, ..)| *format)
    }

    /// Writes `record` in this format (the `metadata` element's content).
    pub fn write(self, xml: &mut XmlWriter, record: &AnyRecord) {
        match self {
            Format::DublinCore => dublin_core::write(xml, record),
            Format::Cerif => cerif::write(xml, record),
        }
    }
}
