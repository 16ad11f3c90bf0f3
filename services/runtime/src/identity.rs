//! Who is on the other end of a connection: the identity and role the
//! federation CA wrote into the peer's certificate, as a SAN URI such as
//! `urn:lienthong:node:hung-yen`.
//!
//! Written as `role:name` in configs, policies and logs (`node:hung-yen`,
//! `gateway:national`, `staff:nguyen-van-a`).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The URI scheme prefix every federation identity carries.
pub const URI_PREFIX: &str = "urn:lienthong:";

/// What a certificate holder is in the federation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PeerRole {
    /// A province (or the national) node: TLS server and client.
    Node,
    /// A federation gateway; the only role that may pass an end user's identity.
    Gateway,
    /// A machine client, such as the national S&T information system.
    System,
    /// A person at a department, with a client certificate.
    Staff,
}

impl PeerRole {
    pub const ALL: [PeerRole; 4] = [
        PeerRole::Node,
        PeerRole::Gateway,
        PeerRole::System,
        PeerRole::Staff,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            PeerRole::Node => "node",
            PeerRole::Gateway => "gateway",
            PeerRole::System => "system",
            PeerRole::Staff => "staff",
        }
    }
}

impl fmt::Display for PeerRole {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for PeerRole {
    type Err = String;
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        PeerRole::ALL
            .into_iter()
            .find(|role| role.as_str() == text)
            .ok_or_else(|| format!("{text:?} is not a role; use node, gateway, system or staff"))
    }
}

/// A federation identity: a role and a name unique within it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PeerIdentity {
    pub role: PeerRole,
    pub name: String,
}

impl PeerIdentity {
    /// An identity; the name must be 1–63 lowercase ASCII letters, digits or
    /// hyphens, not starting or ending with a hyphen (`hung-yen`).
    pub fn new(role: PeerRole, name: &str) -> Result<Self, String> {
        check_name(name)?;
        Ok(PeerIdentity {
            role,
            name: name.to_owned(),
        })
    }

    /// The SAN URI written into certificates: `urn:lienthong:node:hung-yen`.
    pub fn to_uri(&self) -> String {
        format!("{URI_PREFIX}{}:{}", self.role, self.name)
    }

    /// Parses a SAN URI; `None` when it is not a federation identity.
    pub fn from_uri(uri: &str) -> Option<PeerIdentity> {
        uri.strip_prefix(URI_PREFIX)?.parse().ok()
    }
}

fn check_name(name: &str) -> Result<(), String> {
    let well_formed = !name.is_empty()
        && name.len() <= 63
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !name.starts_with('-')
        && !name.ends_with('-');
    if well_formed {
        Ok(())
    } else {
        Err(format!(
            "{name:?} is not a valid name: use 1-63 lowercase ASCII letters, digits and \
             hyphens, e.g. \"hung-yen\""
        ))
    }
}

impl fmt::Display for PeerIdentity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.role, self.name)
    }
}

impl FromStr for PeerIdentity {
    type Err = String;
    /// Parses `role:name`, e.g. `node:hung-yen`.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let (role, name) = text.split_once(':').ok_or_else(|| {
            format!("{text:?} is not an identity; write role:name, e.g. \"node:hung-yen\"")
        })?;
        PeerIdentity::new(role.parse()?, name)
    }
}

impl Serialize for PeerIdentity {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for PeerIdentity {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uri_round_trips() {
        let id = PeerIdentity::new(PeerRole::Node, "hung-yen").unwrap();
        assert_eq!(id.to_uri(), "urn:lienthong:node:hung-yen");
        assert_eq!(PeerIdentity::from_uri(&id.to_uri()), Some(id.clone()));
        assert_eq!("node:hung-yen".parse::<PeerIdentity>(), Ok(id));
    }

    #[test]
    fn rejects_malformed_identities() {
        for bad in [
            "urn:lienthong:node:Hung-Yen",
            "urn:lienthong:admin:x",
            "urn:lienthong:node:",
            "urn:lienthong:node:-x",
            "urn:other:node:hung-yen",
            "urn:lienthong:node:a:b",
        ] {
            assert_eq!(PeerIdentity::from_uri(bad), None, "{bad}");
        }
        assert!("hung-yen".parse::<PeerIdentity>().is_err());
    }
}
