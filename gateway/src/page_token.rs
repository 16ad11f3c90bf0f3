//! The gateway's page token: each node's cursor, which nodes are finished or
//! failed, and the ids of records already shown merged into an earlier hit.
//! Bound to the query by a fingerprint, so it cannot be replayed with another.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use lienthong_proto::v1 as pb;
use serde::{Deserialize, Serialize};

use crate::request_error::RequestError;

const PREFIX: &str = "g1.";

/// More hits than any node will ever return for one search.
const MAX_TAKEN: u64 = 1 << 40;

/// Where one node stands.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "s")]
pub enum NodeCursor {
    /// More to read, from this node page token ("" for the start), after
    /// `taken` hits already shown or merged.
    #[serde(rename = "m")]
    More {
        id: String,
        cursor: String,
        #[serde(rename = "k", default)]
        taken: u64,
    },
    /// No more results.
    #[serde(rename = "d")]
    Done { id: String },
    /// Failed on an earlier page and left out since.
    #[serde(rename = "f")]
    Failed {
        id: String,
        outcome: i32,
        message: String,
    },
}

impl NodeCursor {
    pub fn id(&self) -> &str {
        match self {
            NodeCursor::More { id, .. }
            | NodeCursor::Done { id }
            | NodeCursor::Failed { id, .. } => id,
        }
    }
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FederatedToken {
    #[serde(rename = "f")]
    pub fingerprint: u64,
    #[serde(rename = "n")]
    pub nodes: Vec<NodeCursor>,
    /// Records merged into a hit already shown, still ahead of their node's cursor.
    #[serde(rename = "a", default, skip_serializing_if = "Vec::is_empty")]
    pub absorbed: Vec<String>,
}

impl FederatedToken {
    pub fn encode(&self) -> String {
        let json = serde_json::to_vec(self).unwrap_or_default();
        format!("{PREFIX}{}", URL_SAFE_NO_PAD.encode(json))
    }

    /// Decodes `token` for the query with `fingerprint` over `node_ids`; an
    /// empty token is the first page.
    pub fn decode(
        token: &str,
        fingerprint: u64,
        node_ids: &[&str],
    ) -> Result<FederatedToken, RequestError> {
        if token.is_empty() {
            return Ok(FederatedToken {
                fingerprint,
                nodes: node_ids
                    .iter()
                    .map(|id| NodeCursor::More {
                        id: (*id).to_owned(),
                        cursor: String::new(),
                        taken: 0,
                    })
                    .collect(),
                absorbed: Vec::new(),
            });
        }
        let invalid = || {
            RequestError::InvalidArgument(
                "page_token is not valid; pass the next_page_token of the previous response unchanged"
                    .into(),
            )
        };
        let decoded: FederatedToken = token
            .strip_prefix(PREFIX)
            .and_then(|encoded| URL_SAFE_NO_PAD.decode(encoded).ok())
            .and_then(|json| serde_json::from_slice(&json).ok())
            .ok_or_else(invalid)?;
        let sane = decoded.nodes.iter().all(|cursor| match cursor {
            NodeCursor::More { taken, .. } => *taken <= MAX_TAKEN,
            NodeCursor::Done { .. } => true,
            NodeCursor::Failed { outcome, .. } => [
                pb::NodeOutcome::Timeout,
                pb::NodeOutcome::Unavailable,
                pb::NodeOutcome::Error,
            ]
            .iter()
            .any(|known| *known as i32 == *outcome),
        });
        if !sane {
            return Err(invalid());
        }
        let same_nodes = decoded.nodes.len() == node_ids.len()
            && decoded
                .nodes
                .iter()
                .zip(node_ids)
                .all(|(cursor, id)| cursor.id() == *id);
        if decoded.fingerprint != fingerprint || !same_nodes {
            return Err(RequestError::InvalidArgument(
                "page_token belongs to a different query, filters or node list; repeat the same request, or drop the token to start over".into(),
            ));
        }
        Ok(decoded)
    }
}

/// FNV-1a over the bytes that identify a query.
pub fn fingerprint(parts: &[&[u8]]) -> u64 {
    parts
        .iter()
        .flat_map(|part| part.iter().chain(std::iter::once(&0xff)))
        .fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
            (hash ^ u64::from(*byte)).wrapping_mul(0x0100_0000_01b3)
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_round_trip_and_refuse_other_queries() {
        let token = FederatedToken {
            fingerprint: 7,
            nodes: vec![
                NodeCursor::More {
                    id: "hung-yen".into(),
                    cursor: "p1.abc".into(),
                    taken: 40,
                },
                NodeCursor::Done {
                    id: "nam-dinh".into(),
                },
            ],
            absorbed: vec!["nam-dinh:expert:E1".into()],
        };
        let ids = ["hung-yen", "nam-dinh"];
        let encoded = token.encode();
        assert_eq!(FederatedToken::decode(&encoded, 7, &ids).unwrap(), token);
        assert!(FederatedToken::decode(&encoded, 8, &ids).is_err());
        assert!(FederatedToken::decode(&encoded, 7, &ids[..1]).is_err());
        assert!(FederatedToken::decode("g1.!!", 7, &ids).is_err());
        assert!(FederatedToken::decode("p1.AAAA", 7, &ids).is_err());
        // Forged counts and outcomes are refused, not trusted.
        let forge = |nodes: Vec<NodeCursor>| {
            FederatedToken {
                fingerprint: 7,
                nodes,
                absorbed: Vec::new(),
            }
            .encode()
        };
        let huge = forge(vec![
            NodeCursor::More {
                id: "hung-yen".into(),
                cursor: String::new(),
                taken: u64::MAX,
            },
            NodeCursor::Done {
                id: "nam-dinh".into(),
            },
        ]);
        assert!(FederatedToken::decode(&huge, 7, &ids).is_err());
        let odd = forge(vec![
            NodeCursor::Done {
                id: "hung-yen".into(),
            },
            NodeCursor::Failed {
                id: "nam-dinh".into(),
                outcome: 99,
                message: String::new(),
            },
        ]);
        assert!(FederatedToken::decode(&odd, 7, &ids).is_err());
        let first = FederatedToken::decode("", 7, &ids).unwrap();
        assert_eq!(first.nodes.len(), 2);
        assert_ne!(fingerprint(&[b"a", b"bc"]), fingerprint(&[b"ab", b"c"]));
    }
}
