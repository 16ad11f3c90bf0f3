//! The gateway's page token: each node's cursor, which nodes are finished or
//! failed, and the ids of records already shown merged into an earlier hit.
//! Bound to the query and the user by a fingerprint, so it cannot be replayed
//! with another query or by another user, and sealed with the gateway's key
//! ([`TokenSeal`]), so it can be neither read nor forged. Tokens expire after
//! [`MAX_TOKEN_AGE_SECONDS`].

use lienthong_proto::v1 as pb;
use lienthong_store::token_seal::{TokenSeal, Unsealed};
use serde::{Deserialize, Serialize};

use crate::request_error::RequestError;

const PREFIX: &str = "g2.";

/// How long a page token stays valid.
pub const MAX_TOKEN_AGE_SECONDS: u64 = 24 * 3600;

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
    pub fn encode(&self, seal: &TokenSeal) -> String {
        let json = serde_json::to_vec(self).unwrap_or_default();
        seal.seal(PREFIX, &json)
    }

    /// Decodes `token` for the query with `fingerprint` over `node_ids`; an
    /// empty token is the first page.
    pub fn decode(
        seal: &TokenSeal,
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
        let json = match seal.open(PREFIX, token, MAX_TOKEN_AGE_SECONDS) {
            Ok(json) => json,
            Err(Unsealed::Invalid) => return Err(invalid()),
            Err(Unsealed::Expired) => {
                return Err(RequestError::InvalidArgument(
                    "page_token has expired; repeat the search from the first page".into(),
                ));
            }
        };
        let decoded: FederatedToken = serde_json::from_slice(&json).map_err(|_| invalid())?;
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
                "page_token belongs to a different query, filters, node list or user; repeat the same request, or drop the token to start over".into(),
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
        let seal = TokenSeal::new(&TokenSeal::random_key());
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
        let encoded = token.encode(&seal);
        assert!(!encoded.contains("hung-yen") && !encoded.contains("p1.abc"));
        assert_eq!(
            FederatedToken::decode(&seal, &encoded, 7, &ids).unwrap(),
            token
        );
        assert!(FederatedToken::decode(&seal, &encoded, 8, &ids).is_err());
        assert!(FederatedToken::decode(&seal, &encoded, 7, &ids[..1]).is_err());
        assert!(FederatedToken::decode(&seal, "g2.!!", 7, &ids).is_err());
        assert!(FederatedToken::decode(&seal, "p1.AAAA", 7, &ids).is_err());
        // The readable tokens of earlier versions, and tokens of another
        // gateway, are refused.
        let unsealed = format!(
            "g1.{}",
            base64::Engine::encode(
                &base64::engine::general_purpose::URL_SAFE_NO_PAD,
                serde_json::to_vec(&token).unwrap()
            )
        );
        assert!(FederatedToken::decode(&seal, &unsealed, 7, &ids).is_err());
        let other = TokenSeal::new(&TokenSeal::random_key());
        assert!(FederatedToken::decode(&other, &encoded, 7, &ids).is_err());
        // Sealed tokens with impossible counts and outcomes are refused too.
        let forge = |nodes: Vec<NodeCursor>| {
            FederatedToken {
                fingerprint: 7,
                nodes,
                absorbed: Vec::new(),
            }
            .encode(&seal)
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
        assert!(FederatedToken::decode(&seal, &huge, 7, &ids).is_err());
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
        assert!(FederatedToken::decode(&seal, &odd, 7, &ids).is_err());
        let first = FederatedToken::decode(&seal, "", 7, &ids).unwrap();
        assert_eq!(first.nodes.len(), 2);
        assert_ne!(fingerprint(&[b"a", b"bc"]), fingerprint(&[b"ab", b"c"]));
    }
}
