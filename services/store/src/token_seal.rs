//! Sealed tokens: page tokens and cursors that a server hands out and takes
//! back. Sealed with ChaCha20-Poly1305 under the server's own key, so a client
//! can neither read what a token holds (positions, counts) nor forge or alter
//! one; each carries the time it was issued and is refused once older than
//! the age the caller allows.
//!
//! The key is the server's and lives in its own database
//! ([`server_secret`]), so tokens survive restarts, and one server's tokens
//! mean nothing to another.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ring::aead::{Aad, CHACHA20_POLY1305, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use ring::rand::{SecureRandom, SystemRandom};
use sqlx::AnyPool;

use crate::StoreError;

/// Bytes of key a [`TokenSeal`] takes.
pub const KEY_BYTES: usize = 32;

/// Seals and opens tokens under one key.
pub struct TokenSeal {
    key: LessSafeKey,
    random: SystemRandom,
}

impl std::fmt::Debug for TokenSeal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TokenSeal(***)")
    }
}

/// Why a token was not accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unsealed {
    /// Not one of ours, altered, or for another key.
    Invalid,
    /// Ours, but older than allowed.
    Expired,
}

impl TokenSeal {
    /// A seal with `key` (from the server's secret store).
    pub fn new(key: &[u8; KEY_BYTES]) -> TokenSeal {
        let key = UnboundKey::new(&CHACHA20_POLY1305, key).map_or_else(
            // A 32-byte key is always accepted by ChaCha20-Poly1305.
            |_| unreachable!("ChaCha20-Poly1305 takes 32-byte keys"),
            LessSafeKey::new,
        );
        TokenSeal {
            key,
            random: SystemRandom::new(),
        }
    }

    /// A fresh random key.
    pub fn random_key() -> [u8; KEY_BYTES] {
        let mut key = [0u8; KEY_BYTES];
        if SystemRandom::new().fill(&mut key).is_err() {
            // The system's random source failing is not recoverable.
            panic!("the system random number generator failed");
        }
        key
    }

    /// `prefix` followed by the sealed `payload` (with the time now).
    pub fn seal(&self, prefix: &str, payload: &[u8]) -> String {
        let mut nonce = [0u8; NONCE_LEN];
        if self.random.fill(&mut nonce).is_err() {
            panic!("the system random number generator failed");
        }
        let mut sealed = Vec::with_capacity(NONCE_LEN + 8 + payload.len() + 16);
        sealed.extend_from_slice(&nonce);
        let mut body = Vec::with_capacity(8 + payload.len() + 16);
        body.extend_from_slice(&now_seconds().to_be_bytes());
        body.extend_from_slice(payload);
        let sealed_ok = self
            .key
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(prefix.as_bytes()),
                &mut body,
            )
            .is_ok();
        if !sealed_ok {
            unreachable!("sealing fails only for messages over 256 GiB");
        }
        sealed.extend_from_slice(&body);
        format!("{prefix}{}", URL_SAFE_NO_PAD.encode(sealed))
    }

    /// The payload of a token this seal made with `prefix`, if it is intact
    /// and at most `max_age_seconds` old.
    pub fn open(
        &self,
        prefix: &str,
        token: &str,
        max_age_seconds: u64,
    ) -> Result<Vec<u8>, Unsealed> {
        let mut bytes = token
            .strip_prefix(prefix)
            .and_then(|encoded| URL_SAFE_NO_PAD.decode(encoded).ok())
            .ok_or(Unsealed::Invalid)?;
        if bytes.len() < NONCE_LEN + 8 + 16 {
            return Err(Unsealed::Invalid);
        }
        let mut body = bytes.split_off(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(&bytes).map_err(|_| Unsealed::Invalid)?;
        let opened = self
            .key
            .open_in_place(nonce, Aad::from(prefix.as_bytes()), &mut body)
            .map_err(|_| Unsealed::Invalid)?;
        let (issued, payload) = opened.split_at(8);
        let issued = u64::from_be_bytes(issued.try_into().map_err(|_| Unsealed::Invalid)?);
        let now = now_seconds();
        // A minute of clock slack for tokens from a just-restarted peer.
        if issued > now + 60 || now.saturating_sub(issued) > max_age_seconds {
            return Err(Unsealed::Expired);
        }
        Ok(payload.to_vec())
    }
}

/// The secret named `name` in the database behind `pool`, created (random)
/// on first use. Every process of one server reads the same one.
pub async fn server_secret(pool: &AnyPool, name: &str) -> Result<[u8; KEY_BYTES], StoreError> {
    sqlx::query(
        "CREATE TABLE IF NOT EXISTS server_secrets (name TEXT PRIMARY KEY, secret TEXT NOT NULL)",
    )
    .execute(pool)
    .await?;
    let fresh = URL_SAFE_NO_PAD.encode(TokenSeal::random_key());
    sqlx::query(
        "INSERT INTO server_secrets (name, secret) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING",
    )
    .bind(name)
    .bind(fresh)
    .execute(pool)
    .await?;
    let (secret,): (String,) = sqlx::query_as("SELECT secret FROM server_secrets WHERE name = $1")
        .bind(name)
        .fetch_one(pool)
        .await?;
    URL_SAFE_NO_PAD
        .decode(secret)
        .ok()
        .and_then(|bytes| <[u8; KEY_BYTES]>::try_from(bytes).ok())
        .ok_or_else(|| {
            StoreError::Config(format!(
                "server secret {name:?} in table server_secrets is damaged; delete its row to \
                 make a new one (outstanding page tokens stop working)"
            ))
        })
}

fn now_seconds() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |since| since.as_secs())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_open_only_intact_under_their_key_and_prefix() {
        let seal = TokenSeal::new(&TokenSeal::random_key());
        let token = seal.seal("p2.", b"tier 3, after 1234");
        assert_eq!(seal.open("p2.", &token, 60).unwrap(), b"tier 3, after 1234");
        assert!(!token.contains("1234"));
        // Another key, another prefix, one character changed, truncated.
        let other = TokenSeal::new(&TokenSeal::random_key());
        assert_eq!(other.open("p2.", &token, 60), Err(Unsealed::Invalid));
        let renamed = token.replacen("p2.", "g2.", 1);
        assert_eq!(seal.open("g2.", &renamed, 60), Err(Unsealed::Invalid));
        let mut altered = token.clone().into_bytes();
        let last = altered.len() - 5;
        altered[last] = if altered[last] == b'A' { b'B' } else { b'A' };
        let altered = String::from_utf8(altered).unwrap();
        assert_eq!(seal.open("p2.", &altered, 60), Err(Unsealed::Invalid));
        assert_eq!(seal.open("p2.", &token[..20], 60), Err(Unsealed::Invalid));
        // Two seals of one payload differ (random nonces).
        assert_ne!(seal.seal("p2.", b"x"), seal.seal("p2.", b"x"));
    }
}
