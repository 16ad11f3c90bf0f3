//! People who sign in to the gateway's web pages with a name and password,
//! kept in the gateway's database beside the tokens.
//!
//! Only the argon2 hash of a password is stored. After
//! `auth.lockout_after_failures` wrong passwords in a row an account is
//! locked for `auth.lockout_minutes`; while locked, even the right password
//! is refused. Unknown names are checked against a dummy hash, so that the
//! time of an answer does not tell which names exist.

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use serde::Serialize;
use sqlx::{AnyPool, Executor, Row};
use time::OffsetDateTime;

use super::UserRole;
use super::tokens::{TokenError, check_user_name, random_bytes};

/// The shortest password accepted.
pub const MIN_PASSWORD_CHARS: usize = 12;
/// The longest password accepted (argon2 hashes any length; this bounds the
/// work one request can ask for).
pub const MAX_PASSWORD_BYTES: usize = 256;

/// A user's row, without the password hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UserInfo {
    pub name: String,
    pub role: UserRole,
    /// RFC 3339.
    pub created_at: String,
    pub disabled_at: Option<String>,
    /// Wrong passwords since the last right one.
    pub failed_sign_ins: i64,
    pub locked_until: Option<String>,
}

/// The result of checking a name and password.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PasswordCheck {
    Accepted(UserInfo),
    /// No such user, or the password is wrong.
    Wrong,
    /// The password was right or wrong, but the account is locked until then.
    Locked(String),
    Disabled,
}

/// Lockout settings from `[auth]`.
#[derive(Debug, Clone, Copy)]
pub struct Lockout {
    pub after_failures: i64,
    pub minutes: i64,
}

/// The columns of [`UserInfo`].
macro_rules! select_user {
    () => {
        "SELECT name, role, created_at, disabled_at, failed_sign_ins, locked_until \
         FROM gateway_users"
    };
}

/// The user table in the gateway's database.
#[derive(Clone)]
pub struct UserStore {
    pool: AnyPool,
    /// A hash of a random password, checked for unknown names.
    dummy_hash: std::sync::Arc<String>,
}

impl UserStore {
    /// Creates the table if it is missing.
    pub async fn open(pool: AnyPool) -> Result<UserStore, TokenError> {
        pool.execute(
            "CREATE TABLE IF NOT EXISTS gateway_users (
                name TEXT PRIMARY KEY,
                role TEXT NOT NULL,
                password_hash TEXT NOT NULL,
                created_at TEXT NOT NULL,
                disabled_at TEXT,
                failed_sign_ins BIGINT NOT NULL DEFAULT 0,
                locked_until TEXT)",
        )
        .await?;
        let dummy = base64_secret()?;
        let dummy_hash = std::sync::Arc::new(hash_password(&dummy)?);
        Ok(UserStore { pool, dummy_hash })
    }

    /// Adds a user.
    pub async fn create(
        &self,
        name: &str,
        role: UserRole,
        password: &str,
    ) -> Result<UserInfo, TokenError> {
        check_user_name(name)?;
        check_password(password)?;
        if self.find(name).await?.is_some() {
            return Err(TokenError::Usage(format!(
                "user {name:?} exists already; change the password or role instead"
            )));
        }
        let hash = hash_password(password)?;
        let created_at = lienthong_audit::format_time(OffsetDateTime::now_utc());
        sqlx::query(
            "INSERT INTO gateway_users (name, role, password_hash, created_at, failed_sign_ins) \
             VALUES ($1, $2, $3, $4, 0)",
        )
        .bind(name)
        .bind(role.as_str())
        .bind(&hash)
        .bind(&created_at)
        .execute(&self.pool)
        .await?;
        self.existing(name).await
    }

    /// Every user, by name.
    pub async fn list(&self) -> Result<Vec<UserInfo>, TokenError> {
        let rows = sqlx::query(concat!(select_user!(), " ORDER BY name"))
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(user_info).collect()
    }

    pub async fn find(&self, name: &str) -> Result<Option<UserInfo>, TokenError> {
        let row = sqlx::query(concat!(select_user!(), " WHERE name = $1"))
            .bind(name)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(user_info).transpose()
    }

    async fn existing(&self, name: &str) -> Result<UserInfo, TokenError> {
        self.find(name).await?.ok_or_else(|| {
            TokenError::Usage(format!(
                "no user {name:?}; `lienthong gateway user list` shows them"
            ))
        })
    }

    pub async fn set_role(&self, name: &str, role: UserRole) -> Result<UserInfo, TokenError> {
        self.existing(name).await?;
        sqlx::query("UPDATE gateway_users SET role = $1 WHERE name = $2")
            .bind(role.as_str())
            .bind(name)
            .execute(&self.pool)
            .await?;
        self.existing(name).await
    }

    /// Sets a new password and lifts a lockout.
    pub async fn set_password(&self, name: &str, password: &str) -> Result<UserInfo, TokenError> {
        self.existing(name).await?;
        check_password(password)?;
        let hash = hash_password(password)?;
        sqlx::query(
            "UPDATE gateway_users SET password_hash = $1, failed_sign_ins = 0, \
             locked_until = NULL WHERE name = $2",
        )
        .bind(&hash)
        .bind(name)
        .execute(&self.pool)
        .await?;
        self.existing(name).await
    }

    /// Disables (`true`) or enables an account; enabling lifts a lockout.
    pub async fn set_disabled(&self, name: &str, disabled: bool) -> Result<UserInfo, TokenError> {
        self.existing(name).await?;
        let now = lienthong_audit::format_time(OffsetDateTime::now_utc());
        if disabled {
            sqlx::query(
                "UPDATE gateway_users SET disabled_at = $1 WHERE name = $2 AND disabled_at IS NULL",
            )
            .bind(&now)
            .bind(name)
            .execute(&self.pool)
            .await?;
        } else {
            sqlx::query(
                "UPDATE gateway_users SET disabled_at = NULL, failed_sign_ins = 0, \
                 locked_until = NULL WHERE name = $1",
            )
            .bind(name)
            .execute(&self.pool)
            .await?;
        }
        self.existing(name).await
    }

    /// Checks `password` for `name` with argon2 on a blocking thread, and
    /// counts the failure or clears the count. `hold` is kept until the hash
    /// has finished (a concurrency permit).
    pub async fn check_password(
        &self,
        name: &str,
        password: &str,
        lockout: Lockout,
        hold: impl Send + 'static,
    ) -> Result<PasswordCheck, TokenError> {
        let row = if check_user_name(name).is_ok() {
            sqlx::query(
                "SELECT name, role, created_at, disabled_at, failed_sign_ins, locked_until, \
                 password_hash FROM gateway_users WHERE name = $1",
            )
            .bind(name)
            .fetch_optional(&self.pool)
            .await?
        } else {
            None
        };
        let (info, stored) = match &row {
            Some(row) => (Some(user_info(row)?), row.try_get("password_hash")?),
            None => (None, self.dummy_hash.as_str().to_owned()),
        };
        // Long passwords are refused before hashing, but only after the same
        // lookup every attempt makes.
        let password = password.as_bytes().to_vec();
        let right = password.len() <= MAX_PASSWORD_BYTES
            && tokio::task::spawn_blocking(move || {
                let _hold = hold;
                PasswordHash::new(&stored)
                    .is_ok_and(|hash| Argon2::default().verify_password(&password, &hash).is_ok())
            })
            .await
            .map_err(|error| TokenError::Usage(format!("password check failed: {error}")))?;
        let Some(info) = info else {
            return Ok(PasswordCheck::Wrong);
        };
        if info.disabled_at.is_some() {
            return Ok(PasswordCheck::Disabled);
        }
        let now = OffsetDateTime::now_utc();
        let now_text = lienthong_audit::format_time(now);
        if let Some(until) = info
            .locked_until
            .as_deref()
            .filter(|until| *until > now_text.as_str())
        {
            return Ok(PasswordCheck::Locked(until.to_owned()));
        }
        if right {
            if info.failed_sign_ins != 0 || info.locked_until.is_some() {
                sqlx::query(
                    "UPDATE gateway_users SET failed_sign_ins = 0, locked_until = NULL \
                     WHERE name = $1",
                )
                .bind(&info.name)
                .execute(&self.pool)
                .await?;
            }
            return Ok(PasswordCheck::Accepted(info));
        }
        // Counted in the database, so that a restart does not reset it.
        let failures = info.failed_sign_ins + 1;
        let locked_until = (failures >= lockout.after_failures)
            .then(|| lienthong_audit::format_time(now + time::Duration::minutes(lockout.minutes)));
        sqlx::query(
            "UPDATE gateway_users SET failed_sign_ins = $1, locked_until = $2 WHERE name = $3",
        )
        .bind(if locked_until.is_some() { 0 } else { failures })
        .bind(locked_until.clone())
        .bind(&info.name)
        .execute(&self.pool)
        .await?;
        Ok(match locked_until {
            Some(until) => PasswordCheck::Locked(until),
            None => PasswordCheck::Wrong,
        })
    }
}

fn user_info(row: &sqlx::any::AnyRow) -> Result<UserInfo, TokenError> {
    let role: String = row.try_get("role")?;
    Ok(UserInfo {
        name: row.try_get("name")?,
        role: role
            .parse()
            .map_err(|error: String| TokenError::Usage(format!("stored user role: {error}")))?,
        created_at: row.try_get("created_at")?,
        disabled_at: row.try_get("disabled_at")?,
        failed_sign_ins: row.try_get("failed_sign_ins")?,
        locked_until: row.try_get("locked_until")?,
    })
}

/// A password is at least [`MIN_PASSWORD_CHARS`] characters and at most
/// [`MAX_PASSWORD_BYTES`] bytes.
pub fn check_password(password: &str) -> Result<(), TokenError> {
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(TokenError::Usage(format!(
            "the password is too short: use at least {MIN_PASSWORD_CHARS} characters \
             (a few unrelated words are easy to remember)"
        )));
    }
    if password.len() > MAX_PASSWORD_BYTES {
        return Err(TokenError::Usage(format!(
            "the password is too long: use at most {MAX_PASSWORD_BYTES} bytes"
        )));
    }
    Ok(())
}

fn hash_password(password: &str) -> Result<String, TokenError> {
    let salt = SaltString::encode_b64(&random_bytes::<16>()?)
        .map_err(|error| TokenError::Usage(format!("salt: {error}")))?;
    Ok(Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map_err(|error| TokenError::Usage(format!("hashing the password failed: {error}")))?
        .to_string())
}

/// A random password (for the demo and the dummy hash): 20 characters.
pub fn generate_password() -> Result<String, TokenError> {
    base64_secret().map(|secret| secret.chars().take(20).collect())
}

fn base64_secret() -> Result<String, TokenError> {
    use base64::Engine;
    Ok(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(random_bytes::<24>()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_have_a_floor_and_a_ceiling() {
        assert!(check_password("short").is_err());
        assert!(check_password("mười hai ký tự đây").is_ok());
        assert!(check_password(&"x".repeat(MAX_PASSWORD_BYTES + 1)).is_err());
        assert_eq!(generate_password().unwrap().len(), 20);
    }
}
