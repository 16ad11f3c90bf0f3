//! Signed-in browser sessions, kept in the gateway's database.
//!
//! The browser holds a random 256-bit secret in a cookie; the table holds
//! only its SHA-256, so a copy of the database cannot be replayed as a
//! cookie. A session ends at sign-out, after `web.session_idle_minutes`
//! without a request, after `web.session_hours` in any case, and when an
//! administrator changes its user (role, password, disabled: each change
//! moves the user's `session_epoch`, which every request compares). Each
//! session carries its own CSRF token, which every form it posts must echo.

use base64::Engine;
use sqlx::{AnyPool, Executor, Row};
use time::OffsetDateTime;

use super::tokens::{TokenError, hex, random_bytes, random_token};
use super::{EndUser, UserRole};

/// How a session was opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionSource {
    Password,
    Certificate,
}

impl SessionSource {
    fn as_str(self) -> &'static str {
        match self {
            SessionSource::Password => "password",
            SessionSource::Certificate => "certificate",
        }
    }

    fn parse(text: &str) -> Option<SessionSource> {
        match text {
            "password" => Some(SessionSource::Password),
            "certificate" => Some(SessionSource::Certificate),
            _ => None,
        }
    }
}

/// A live session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    pub user: EndUser,
    pub source: SessionSource,
    /// The token forms of this session must carry.
    pub csrf_token: String,
    /// RFC 3339.
    pub expires_at: String,
}

/// How long sessions last.
#[derive(Debug, Clone, Copy)]
pub struct SessionLifetime {
    pub idle: time::Duration,
    pub absolute: time::Duration,
}

/// Requests within this long of the last recorded one do not write
/// `last_seen_at` again.
const TOUCH_EVERY: time::Duration = time::Duration::seconds(60);

/// The session table in the gateway's database.
#[derive(Clone)]
pub struct SessionStore {
    pool: AnyPool,
    lifetime: SessionLifetime,
}

impl SessionStore {
    /// Creates the table if it is missing.
    pub async fn open(
        pool: AnyPool,
        lifetime: SessionLifetime,
    ) -> Result<SessionStore, TokenError> {
        pool.execute(
            "CREATE TABLE IF NOT EXISTS gateway_sessions (
                id TEXT PRIMARY KEY,
                user_name TEXT NOT NULL,
                role TEXT NOT NULL,
                source TEXT NOT NULL,
                csrf_token TEXT NOT NULL,
                created_at TEXT NOT NULL,
                expires_at TEXT NOT NULL,
                last_seen_at TEXT NOT NULL,
                user_epoch BIGINT NOT NULL DEFAULT 0)",
        )
        .await?;
        super::users::add_column_if_missing(
            &pool,
            "gateway_sessions",
            "user_epoch",
            "BIGINT NOT NULL DEFAULT 0",
        )
        .await?;
        Ok(SessionStore { pool, lifetime })
    }

    pub fn lifetime(&self) -> SessionLifetime {
        self.lifetime
    }

    /// Opens a session for `user` as of `user_epoch` (see
    /// [`super::UserInfo::session_epoch`]; 0 for certificates); returns the
    /// cookie secret (given to the browser only) and the session.
    pub async fn create(
        &self,
        user: &EndUser,
        source: SessionSource,
        user_epoch: i64,
    ) -> Result<(String, Session), TokenError> {
        let secret = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(random_bytes::<32>()?);
        let csrf_token = random_token()?;
        let now = OffsetDateTime::now_utc();
        let expires_at = lienthong_audit::format_time(now + self.lifetime.absolute);
        let now = lienthong_audit::format_time(now);
        sqlx::query(
            "INSERT INTO gateway_sessions \
             (id, user_name, role, source, csrf_token, created_at, expires_at, last_seen_at, \
             user_epoch) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(session_id(&secret))
        .bind(&user.name)
        .bind(user.role.as_str())
        .bind(source.as_str())
        .bind(&csrf_token)
        .bind(&now)
        .bind(&expires_at)
        .bind(&now)
        .bind(user_epoch)
        .execute(&self.pool)
        .await?;
        Ok((
            secret,
            Session {
                user: user.clone(),
                source,
                csrf_token,
                expires_at,
            },
        ))
    }

    /// The live session a cookie secret names, if any; records the request
    /// (at most once a minute) so that idle sessions end. A password
    /// session is live only while its user is enabled, has the session's
    /// role, and has not changed since (same epoch).
    pub async fn find(&self, secret: &str) -> Result<Option<Session>, TokenError> {
        if secret.is_empty() || secret.len() > 64 {
            return Ok(None);
        }
        let id = session_id(secret);
        let row = sqlx::query(
            "SELECT s.user_name, s.role, s.source, s.csrf_token, s.expires_at, s.last_seen_at, \
             s.user_epoch, u.role AS user_role, u.disabled_at, u.session_epoch \
             FROM gateway_sessions AS s LEFT JOIN gateway_users AS u ON u.name = s.user_name \
             WHERE s.id = $1",
        )
        .bind(&id)
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else { return Ok(None) };
        let now = OffsetDateTime::now_utc();
        let expires_at: String = row.try_get("expires_at")?;
        let last_seen: String = row.try_get("last_seen_at")?;
        let idle_since = lienthong_audit::format_time(now - self.lifetime.idle);
        let now_text = lienthong_audit::format_time(now);
        let role: String = row.try_get("role")?;
        let source = SessionSource::parse(&row.try_get::<String, _>("source")?);
        let user_current = match source {
            Some(SessionSource::Password) => {
                let user_role: Option<String> = row.try_get("user_role")?;
                let disabled: Option<String> = row.try_get("disabled_at")?;
                let epoch: Option<i64> = row.try_get("session_epoch")?;
                let session_epoch: i64 = row.try_get("user_epoch")?;
                user_role.as_deref() == Some(role.as_str())
                    && disabled.is_none()
                    && epoch == Some(session_epoch)
            }
            // Checked against the configuration and the connection by the
            // authenticator.
            Some(SessionSource::Certificate) => true,
            None => false,
        };
        if expires_at <= now_text || last_seen <= idle_since || !user_current {
            self.delete_by_id(&id).await?;
            return Ok(None);
        }
        if last_seen <= lienthong_audit::format_time(now - TOUCH_EVERY) {
            sqlx::query("UPDATE gateway_sessions SET last_seen_at = $1 WHERE id = $2")
                .bind(&now_text)
                .bind(&id)
                .execute(&self.pool)
                .await?;
        }
        let role: UserRole = role
            .parse()
            .map_err(|error: String| TokenError::Usage(format!("stored session role: {error}")))?;
        Ok(Some(Session {
            user: EndUser {
                name: row.try_get("user_name")?,
                role,
            },
            source: source.unwrap_or(SessionSource::Password),
            csrf_token: row.try_get("csrf_token")?,
            expires_at,
        }))
    }

    /// Ends the session a cookie secret names (sign-out).
    pub async fn delete(&self, secret: &str) -> Result<(), TokenError> {
        self.delete_by_id(&session_id(secret)).await
    }

    /// Ends every session of `user` (its role changed, it was disabled, its
    /// password was reset).
    pub async fn delete_for_user(&self, user: &str) -> Result<u64, TokenError> {
        Ok(
            sqlx::query("DELETE FROM gateway_sessions WHERE user_name = $1")
                .bind(user)
                .execute(&self.pool)
                .await?
                .rows_affected(),
        )
    }

    /// Removes sessions past their end; returns how many.
    pub async fn purge_expired(&self) -> Result<u64, TokenError> {
        let now = OffsetDateTime::now_utc();
        Ok(
            sqlx::query(
                "DELETE FROM gateway_sessions WHERE expires_at <= $1 OR last_seen_at <= $2",
            )
            .bind(lienthong_audit::format_time(now))
            .bind(lienthong_audit::format_time(now - self.lifetime.idle))
            .execute(&self.pool)
            .await?
            .rows_affected(),
        )
    }

    async fn delete_by_id(&self, id: &str) -> Result<(), TokenError> {
        sqlx::query("DELETE FROM gateway_sessions WHERE id = $1")
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}

/// The table key of a cookie secret.
fn session_id(secret: &str) -> String {
    hex(ring::digest::digest(&ring::digest::SHA256, secret.as_bytes()).as_ref())
}

/// Whether `sent` equals `expected`, in time independent of where they
/// differ.
pub fn same_token(sent: &str, expected: &str) -> bool {
    let sent = ring::digest::digest(&ring::digest::SHA256, sent.as_bytes());
    let expected = ring::digest::digest(&ring::digest::SHA256, expected.as_bytes());
    // Equal-length digests: compare every byte.
    sent.as_ref()
        .iter()
        .zip(expected.as_ref())
        .fold(0u8, |difference, (a, b)| difference | (a ^ b))
        == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_compare_whole() {
        assert!(same_token("abc", "abc"));
        assert!(!same_token("abc", "abd"));
        assert!(!same_token("", "abc"));
    }
}
