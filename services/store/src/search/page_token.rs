//! Opaque page tokens: which tier a page stopped in, the place in that
//! tier's order of the last hit returned, and a fingerprint of the query and caller, so a token cannot be reused
//! with another query or by another caller. Sealed with the node's key
//! ([`TokenSeal`]): a caller can neither read the position nor forge one, and
//! a token older than [`MAX_TOKEN_AGE_SECONDS`] is refused.

use super::collector::Place;
use crate::StoreError;
use crate::token_seal::{TokenSeal, Unsealed};

const PREFIX: &str = "p3.";

/// How long a page token stays valid.
pub const MAX_TOKEN_AGE_SECONDS: u64 = 24 * 3600;

/// Where the next page starts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub(crate) struct PageToken {
    /// Index into the query's tier list.
    pub tier: usize,
    /// The last hit returned in that tier; `None` for its start.
    pub after: Option<Place>,
    /// The words the typo tier corrects, as decided on the first page.
    pub corrected: u16,
}

impl PageToken {
    pub fn encode(self, seal: &TokenSeal, fingerprint: u64) -> String {
        let mut bytes = Vec::with_capacity(22);
        bytes.extend_from_slice(&fingerprint.to_be_bytes());
        bytes.push(self.tier as u8);
        bytes.extend_from_slice(&self.corrected.to_be_bytes());
        if let Some(after) = self.after {
            let (relevance, doc) = after.to_parts();
            bytes.push(1);
            bytes.extend_from_slice(&relevance.to_be_bytes());
            bytes.extend_from_slice(&doc.to_be_bytes());
        } else {
            bytes.push(0);
        }
        seal.seal(PREFIX, &bytes)
    }

    /// Decodes `token`; an empty token is the first page.
    pub fn decode(
        seal: &TokenSeal,
        token: &str,
        fingerprint: u64,
        tiers: usize,
    ) -> Result<PageToken, StoreError> {
        if token.is_empty() {
            return Ok(PageToken::default());
        }
        let invalid = || {
            StoreError::InvalidArgument(
                "page_token is not valid; pass the next_page_token of the previous response unchanged".into(),
            )
        };
        let bytes = match seal.open(PREFIX, token, MAX_TOKEN_AGE_SECONDS) {
            Ok(bytes) => bytes,
            Err(Unsealed::Invalid) => return Err(invalid()),
            Err(Unsealed::Expired) => {
                return Err(StoreError::InvalidArgument(
                    "page_token has expired; repeat the search from the first page".into(),
                ));
            }
        };
        let (Some(fingerprint_bytes), Some(&tier), Some(corrected), Some(&has_place)) = (
            bytes.get(..8),
            bytes.get(8),
            bytes.get(9..11),
            bytes.get(11),
        ) else {
            return Err(invalid());
        };
        if fingerprint_bytes != fingerprint.to_be_bytes() {
            return Err(StoreError::InvalidArgument(
                "page_token belongs to a different query, filters or caller; repeat the same query and filters, or drop the token to start over".into(),
            ));
        }
        let corrected = u16::from_be_bytes([corrected[0], corrected[1]]);
        let after = match (has_place, &bytes[12..]) {
            (0, []) => None,
            (1, rest) if rest.len() == 12 => {
                let mut relevance = [0; 4];
                let mut doc = [0; 8];
                relevance.copy_from_slice(&rest[..4]);
                doc.copy_from_slice(&rest[4..]);
                Some(Place::from_parts(
                    u32::from_be_bytes(relevance),
                    u64::from_be_bytes(doc),
                ))
            }
            _ => return Err(invalid()),
        };
        if usize::from(tier) >= tiers {
            return Err(invalid());
        }
        Ok(PageToken {
            tier: usize::from(tier),
            after,
            corrected,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_round_trip_and_reject_tampering() {
        let seal = TokenSeal::new(&TokenSeal::random_key());
        let token = PageToken {
            tier: 2,
            after: Some(Place::new(12.0, 1234)),
            corrected: 0b101,
        };
        let encoded = token.encode(&seal, 42);
        assert_eq!(PageToken::decode(&seal, &encoded, 42, 5).unwrap(), token);
        assert!(
            PageToken::decode(&seal, &encoded, 43, 5)
                .unwrap_err()
                .to_string()
                .contains("different query")
        );
        assert!(PageToken::decode(&seal, &encoded, 42, 2).is_err());
        assert!(PageToken::decode(&seal, "p3.garbage!", 42, 5).is_err());
        assert!(PageToken::decode(&seal, "xyz", 42, 5).is_err());
        // The forms of earlier versions are refused.
        assert!(PageToken::decode(&seal, "p1.AAAAAAAAACoCAAAAAAAABNI", 42, 5).is_err());
        let old = seal.seal("p2.", &[0; 17]);
        assert!(PageToken::decode(&seal, &old, 0, 5).is_err());
        let other = TokenSeal::new(&TokenSeal::random_key());
        assert!(PageToken::decode(&other, &encoded, 42, 5).is_err());
        assert_eq!(
            PageToken::decode(&seal, "", 42, 5).unwrap(),
            PageToken::default()
        );
    }
}
