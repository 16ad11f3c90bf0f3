//! Opaque page tokens: which tier a page stopped in, the last position read,
//! and a fingerprint of the query and caller, so a token cannot be reused
//! with another query or by another caller. Sealed with the node's key
//! ([`TokenSeal`]): a caller can neither read the position nor forge one, and
//! a token older than [`MAX_TOKEN_AGE_SECONDS`] is refused.

use crate::StoreError;
use crate::token_seal::{TokenSeal, Unsealed};

const PREFIX: &str = "p2.";

/// How long a page token stays valid.
pub const MAX_TOKEN_AGE_SECONDS: u64 = 24 * 3600;

/// Where the next page starts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub(crate) struct PageToken {
    /// Index into the query's tier list.
    pub tier: usize,
    /// Last internal position returned in that tier (0 for its start).
    pub after: i64,
}

impl PageToken {
    pub fn encode(self, seal: &TokenSeal, fingerprint: u64) -> String {
        let mut bytes = Vec::with_capacity(17);
        bytes.extend_from_slice(&fingerprint.to_be_bytes());
        bytes.push(self.tier as u8);
        bytes.extend_from_slice(&self.after.to_be_bytes());
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
        let [
            f0,
            f1,
            f2,
            f3,
            f4,
            f5,
            f6,
            f7,
            tier,
            a0,
            a1,
            a2,
            a3,
            a4,
            a5,
            a6,
            a7,
        ] = bytes[..]
        else {
            return Err(invalid());
        };
        if u64::from_be_bytes([f0, f1, f2, f3, f4, f5, f6, f7]) != fingerprint {
            return Err(StoreError::InvalidArgument(
                "page_token belongs to a different query, filters or caller; repeat the same query and filters, or drop the token to start over".into(),
            ));
        }
        let after = i64::from_be_bytes([a0, a1, a2, a3, a4, a5, a6, a7]);
        if usize::from(tier) >= tiers || after < 0 {
            return Err(invalid());
        }
        Ok(PageToken {
            tier: usize::from(tier),
            after,
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
            after: 1234,
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
        assert!(PageToken::decode(&seal, "p2.garbage!", 42, 5).is_err());
        assert!(PageToken::decode(&seal, "xyz", 42, 5).is_err());
        // The unsealed form of earlier versions is refused.
        assert!(PageToken::decode(&seal, "p1.AAAAAAAAACoCAAAAAAAABNI", 42, 5).is_err());
        let other = TokenSeal::new(&TokenSeal::random_key());
        assert!(PageToken::decode(&other, &encoded, 42, 5).is_err());
        assert_eq!(
            PageToken::decode(&seal, "", 42, 5).unwrap(),
            PageToken::default()
        );
    }
}
