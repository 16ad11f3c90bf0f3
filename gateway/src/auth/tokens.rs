//! Bearer tokens for people at the gateway, kept in the gateway's database.
//!
//! A token reads `lt_<id>_<secret>`. Only the argon2 hash of the secret is
//! stored; the token itself is shown once, when created. The id finds the
//! row; a revoked or expired token is refused.

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use base64::Engine;
use ring::rand::{SecureRandom, SystemRandom};
use serde::Serialize;
use sqlx::{AnyPool, Executor, Row};
use time::OffsetDateTime;

use super::UserRole;

/// A token's row, without its secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TokenInfo {
    pub id: String,
    pub user: String,
    pub role: UserRole,
    /// RFC 3339.
    pub created_at: String,
    pub expires_at: Option<String>,
    pub revoked_at: Option<String>,
}

impl TokenInfo {
    /// Whether the token is usable at `now`.
    pub fn usable_at(&self, now: &str) -> Result<(), &'static str> {
        if self.revoked_at.is_some() {
            return Err("the token was revoked");
        }
        if self
            .expires_at
            .as_deref()
            .is_some_and(|expires| expires <= now)
        {
            return Err("the token has expired");
        }
        Ok(())
    }
}

/// Why a token operation failed.
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    #[error("gateway database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("{0}")]
    Usage(String),
}

/// The token table in the gateway's database.
#[derive(Clone)]
pub struct TokenStore {
    pool: AnyPool,
}

impl TokenStore {
    /// Creates the table if it is missing.
    pub async fn open(pool: AnyPool) -> Result<TokenStore, TokenError> {
        pool.execute(
            "CREATE TABLE IF NOT EXISTS gateway_tokens (
                id TEXT PRIMARY KEY,
                user_name TEXT NOT NULL,
                role TEXT NOT NULL,
                secret_hash TEXT NOT NULL,
                created_at TEXT NOT NULL,
                expires_at TEXT,
                revoked_at TEXT)",
        )
        .await?;
        Ok(TokenStore { pool })
    }

    /// Creates a token for `user`; returns the token text (shown once) and
    /// its row.
    pub async fn create(
        &self,
        user: &str,
        role: UserRole,
        valid_for: Option<time::Duration>,
    ) -> Result<(String, TokenInfo), TokenError> {
        check_user_name(user)?;
        let id = hex(&random_bytes::<8>()?);
        let secret = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(random_bytes::<32>()?);
        let salt = SaltString::encode_b64(&random_bytes::<16>()?)
            .map_err(|error| TokenError::Usage(format!("salt: {error}")))?;
        let secret_hash = Argon2::default()
            .hash_password(secret.as_bytes(), &salt)
            .map_err(|error| TokenError::Usage(format!("hashing the token failed: {error}")))?
            .to_string();
        let now = OffsetDateTime::now_utc();
        let info = TokenInfo {
            id: id.clone(),
            user: user.to_owned(),
            role,
            created_at: lienthong_audit::format_time(now),
            expires_at: valid_for.map(|valid| lienthong_audit::format_time(now + valid)),
            revoked_at: None,
        };
        sqlx::query(
            "INSERT INTO gateway_tokens (id, user_name, role, secret_hash, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(&info.id)
        .bind(&info.user)
        .bind(role.as_str())
        .bind(&secret_hash)
        .bind(&info.created_at)
        .bind(info.expires_at.clone())
        .execute(&self.pool)
        .await?;
        Ok((format!("lt_{id}_{secret}"), info))
    }

    /// Every token, newest first.
    pub async fn list(&self) -> Result<Vec<TokenInfo>, TokenError> {
        let rows = sqlx::query(
            "SELECT id, user_name, role, created_at, expires_at, revoked_at FROM gateway_tokens \
             ORDER BY created_at DESC",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(token_info).collect()
    }

    /// Revokes the token with `id`; it is refused from the next check on.
    pub async fn revoke(&self, id: &str) -> Result<TokenInfo, TokenError> {
        let id = id.trim().trim_start_matches("lt_");
        let id = id.split('_').next().unwrap_or(id);
        sqlx::query(
            "UPDATE gateway_tokens SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL",
        )
        .bind(lienthong_audit::format_time(OffsetDateTime::now_utc()))
        .bind(id)
        .execute(&self.pool)
        .await?;
        self.find(id).await?.ok_or_else(|| {
            TokenError::Usage(format!(
                "no token with id {id}; `lienthong gateway token list` shows them"
            ))
        })
    }

    async fn find(&self, id: &str) -> Result<Option<TokenInfo>, TokenError> {
        let row = sqlx::query(
            "SELECT id, user_name, role, created_at, expires_at, revoked_at FROM gateway_tokens \
             WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(token_info).transpose()
    }

    /// The row for `token` if its secret matches (argon2). Revoked and
    /// expired tokens are returned without the (costly) secret check, for
    /// the caller to refuse; the hash runs on a blocking thread, not on the
    /// async workers.
    ///
    /// `hold` is kept until the argon2 check itself has finished, even when
    /// the caller stops waiting for it (a client that hangs up): the
    /// concurrency permit that bounds these checks goes there.
    pub async fn check_secret(
        &self,
        token: &str,
        hold: impl Send + 'static,
    ) -> Result<Option<TokenInfo>, TokenError> {
        let Some((id, secret)) = split_token(token) else {
            return Ok(None);
        };
        let row = sqlx::query(
            "SELECT id, user_name, role, created_at, expires_at, revoked_at, secret_hash \
             FROM gateway_tokens WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else { return Ok(None) };
        let info = token_info(&row)?;
        let now = lienthong_audit::format_time(OffsetDateTime::now_utc());
        if info.usable_at(&now).is_err() {
            return Ok(Some(info));
        }
        let stored: String = row.try_get("secret_hash")?;
        let secret = secret.to_owned();
        let matches = tokio::task::spawn_blocking(move || {
            let _hold = hold;
            PasswordHash::new(&stored).is_ok_and(|hash| {
                Argon2::default()
                    .verify_password(secret.as_bytes(), &hash)
                    .is_ok()
            })
        })
        .await
        .map_err(|error| TokenError::Usage(format!("token check failed: {error}")))?;
        Ok(matches.then_some(info))
    }

    /// The current row for a token id (revocation and expiry), without
    /// checking a secret.
    pub async fn state(&self, id: &str) -> Result<Option<TokenInfo>, TokenError> {
        self.find(id).await
    }
}

/// `lt_<id>_<secret>` → (id, secret).
pub fn split_token(token: &str) -> Option<(&str, &str)> {
    let rest = token.strip_prefix("lt_")?;
    let (id, secret) = rest.split_once('_')?;
    (id.len() == 16 && id.bytes().all(|b| b.is_ascii_hexdigit()) && !secret.is_empty())
        .then_some((id, secret))
}

fn token_info(row: &sqlx::any::AnyRow) -> Result<TokenInfo, TokenError> {
    let role: String = row.try_get("role")?;
    Ok(TokenInfo {
        id: row.try_get("id")?,
        user: row.try_get("user_name")?,
        role: role
            .parse()
            .map_err(|error: String| TokenError::Usage(format!("stored token role: {error}")))?,
        created_at: row.try_get("created_at")?,
        expires_at: row.try_get("expires_at")?,
        revoked_at: row.try_get("revoked_at")?,
    })
}

pub(super) fn check_user_name(user: &str) -> Result<(), TokenError> {
    let ok = !user.is_empty()
        && user.len() <= 64
        && user
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.@".contains(&b));
    if ok {
        Ok(())
    } else {
        Err(TokenError::Usage(format!(
            "--user {user:?}: use 1-64 ASCII letters, digits, '-', '_', '.' or '@' \
             (it travels in request metadata), e.g. nguyen.van.an"
        )))
    }
}

/// 24 random bytes as URL-safe base64 (32 characters): CSRF and form
/// tokens.
pub fn random_token() -> Result<String, TokenError> {
    Ok(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(random_bytes::<24>()?))
}

pub(super) fn random_bytes<const N: usize>() -> Result<[u8; N], TokenError> {
    let mut bytes = [0u8; N];
    SystemRandom::new()
        .fill(&mut bytes)
        .map_err(|_| TokenError::Usage("the system random number generator failed".into()))?;
    Ok(bytes)
}

pub(super) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_text_is_checked_before_any_lookup() {
        assert_eq!(
            split_token("lt_0123456789abcdef_s3cret"),
            Some(("0123456789abcdef", "s3cret"))
        );
        for bad in [
            "",
            "lt_",
            "lt_short_x",
            "Bearer lt_0123456789abcdef_x",
            "lt_0123456789abcdef_",
        ] {
            assert_eq!(split_token(bad), None, "{bad}");
        }
    }

    #[test]
    fn user_names_travel_in_metadata() {
        assert!(check_user_name("nguyen.van.an").is_ok());
        assert!(check_user_name("Nguyễn").is_err());
        assert!(check_user_name("a b").is_err());
    }
}
