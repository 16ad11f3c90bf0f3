//! Global record identifiers: `<node>:<kind>:<local>`, e.g.
//! `hung-yen:expert:E0000042`. The node part names the origin node and never
//! changes when a province is renamed or merged.

use std::fmt;
use std::str::FromStr;

use crate::RecordError;

/// The kinds of record a node keeps.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RecordKind {
    Organization,
    Expert,
    Project,
    Publication,
}

impl RecordKind {
    /// Every kind, in load order (organizations first, so links resolve).
    pub const ALL: [RecordKind; 4] = [
        RecordKind::Organization,
        RecordKind::Expert,
        RecordKind::Project,
        RecordKind::Publication,
    ];

    /// The kind as it appears in ids and on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            RecordKind::Organization => "organization",
            RecordKind::Expert => "expert",
            RecordKind::Project => "project",
            RecordKind::Publication => "publication",
        }
    }

    /// Stable small integer stored in the database.
    pub fn code(self) -> i64 {
        match self {
            RecordKind::Organization => 1,
            RecordKind::Expert => 2,
            RecordKind::Project => 3,
            RecordKind::Publication => 4,
        }
    }

    /// Inverse of [`RecordKind::code`].
    pub fn from_code(code: i64) -> Option<RecordKind> {
        RecordKind::ALL.into_iter().find(|kind| kind.code() == code)
    }
}

impl fmt::Display for RecordKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for RecordKind {
    type Err = RecordError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        RecordKind::ALL
            .into_iter()
            .find(|kind| kind.as_str() == s)
            .ok_or_else(|| RecordError::invalid("id", format!(
                "unknown record kind {s:?}; expected organization, expert, project or publication"
            )))
    }
}

/// A parsed global record id.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct RecordId {
    pub node: String,
    pub kind: RecordKind,
    pub local: String,
}

impl RecordId {
    /// Builds an id from its parts, validating each.
    pub fn new(node: &str, kind: RecordKind, local: &str) -> Result<Self, RecordError> {
        validate_node_id(node)?;
        validate_local_id(local)?;
        Ok(RecordId {
            node: node.to_owned(),
            kind,
            local: local.to_owned(),
        })
    }
}

impl fmt::Display for RecordId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.node, self.kind, self.local)
    }
}

impl FromStr for RecordId {
    type Err = RecordError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut parts = s.splitn(3, ':');
        let (Some(node), Some(kind), Some(local)) = (parts.next(), parts.next(), parts.next())
        else {
            return Err(RecordError::invalid(
                "id",
                format!(
                    "{s:?} is not a record id; expected <node>:<kind>:<local>, e.g. hung-yen:expert:E0000042"
                ),
            ));
        };
        RecordId::new(node, kind.parse()?, local)
    }
}

/// Checks a node id: 1 to 63 characters of a-z, 0-9 and '-', not starting or
/// ending with '-'. Node ids appear in record ids, certificates and URLs.
pub fn validate_node_id(node: &str) -> Result<(), RecordError> {
    let well_formed = (1..=63).contains(&node.len())
        && node
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !node.starts_with('-')
        && !node.ends_with('-');
    if well_formed {
        Ok(())
    } else {
        Err(RecordError::invalid(
            "node id",
            format!(
                "{node:?} is not a node id; use 1-63 characters of a-z, 0-9 and '-', e.g. \"hung-yen\""
            ),
        ))
    }
}

fn validate_local_id(local: &str) -> Result<(), RecordError> {
    let well_formed = (1..=64).contains(&local.len())
        && local
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
    if well_formed {
        Ok(())
    } else {
        Err(RecordError::invalid(
            "id",
            format!(
                "local part {local:?} must be 1-64 characters of A-Z, a-z, 0-9, '-', '_' or '.'"
            ),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip() {
        let id: RecordId = "hung-yen:expert:E0000042".parse().unwrap();
        assert_eq!(id.node, "hung-yen");
        assert_eq!(id.kind, RecordKind::Expert);
        assert_eq!(id.local, "E0000042");
        assert_eq!(id.to_string(), "hung-yen:expert:E0000042");
    }

    #[test]
    fn malformed_ids_are_rejected_with_the_reason() {
        for bad in [
            "",
            "hung-yen",
            "hung-yen:expert",
            "Hung Yen:expert:1",
            "hung-yen:person:1",
            "hung-yen:expert:",
            "hung-yen:expert:a b",
        ] {
            let error = bad.parse::<RecordId>().unwrap_err().to_string();
            assert!(
                error.contains("id") || error.contains("kind"),
                "{bad:?}: {error}"
            );
        }
    }

    #[test]
    fn kind_codes_round_trip() {
        for kind in RecordKind::ALL {
            assert_eq!(RecordKind::from_code(kind.code()), Some(kind));
        }
    }
}
