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
    /// Goes up with every change to the user; sessions opened before it
    /// are no longer valid.
    #[serde(skip)]
    pub session_epoch: i64,
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

/// Adds a column a table created by an earlier version lacks.
pub(super) async fn add_column_if_missing(
    pool: &AnyPool,
    table: &'static str,
    column: &'static str,
    definition: &'static str,
) -> Result<(), TokenError> {
    let probe = format!("SELECT {column} FROM {table} WHERE 1 = 0");
    if sqlx::query(sqlx::AssertSqlSafe(probe))
        .fetch_optional(pool)
        .await
        .is_err()
    {
        let alter = format!("ALTER TABLE {table} ADD COLUMN {column} {definition}");
        sqlx::query(sqlx::AssertSqlSafe(alter))
            .execute(pool)
            .await?;
    }
    Ok(())
}

/// Takes the row locks of every enabled administrator for the rest of the
/// transaction, so that two changes that could each leave one administrator
/// run one after the other (PostgreSQL would otherwise let both see the
/// other still enabled; SQLite writes one at a time anyway).
async fn lock_administrators(
    transaction: &mut sqlx::Transaction<'_, sqlx::Any>,
) -> Result<(), TokenError> {
    sqlx::query(
        "UPDATE gateway_users SET session_epoch = session_epoch \
         WHERE role = 'admin' AND disabled_at IS NULL",
    )
    .execute(&mut **transaction)
    .await?;
    Ok(())
}

fn last_administrator(name: &str) -> TokenError {
    TokenError::Usage(format!(
        "{name} is the last enabled administrator; make another user an administrator first"
    ))
}

/// The columns of [`UserInfo`].
macro_rules! select_user {
    () => {
        "SELECT name, role, created_at, disabled_at, failed_sign_ins, locked_until, \
         session_epoch FROM gateway_users"
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
                locked_until TEXT,
                session_epoch BIGINT NOT NULL DEFAULT 0)",
        )
        .await?;
        add_column_if_missing(
            &pool,
            "gateway_users",
            "session_epoch",
            "BIGINT NOT NULL DEFAULT 0",
        )
        .await?;
        pool.execute(
            "CREATE TABLE IF NOT EXISTS gateway_sign_in_misses (
                id BIGINT PRIMARY KEY,
                misses BIGINT NOT NULL)",
        )
        .await?;
        let seeded: Option<i64> =
            sqlx::query_scalar("SELECT misses FROM gateway_sign_in_misses WHERE id = 1")
                .fetch_optional(&pool)
                .await?;
        if seeded.is_none() {
            sqlx::query("INSERT INTO gateway_sign_in_misses (id, misses) VALUES (1, 0)")
                .execute(&pool)
                .await?;
        }
        let dummy = super::tokens::random_token()?;
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
        let mut transaction = self.pool.begin().await?;
        lock_administrators(&mut transaction).await?;
        let changed = sqlx::query(
            "UPDATE gateway_users SET role = $1, session_epoch = session_epoch + 1 \
             WHERE name = $2 AND ($1 = 'admin' OR role <> 'admin' OR disabled_at IS NOT NULL \
             OR (SELECT COUNT(*) FROM gateway_users AS other WHERE other.role = 'admin' \
                 AND other.disabled_at IS NULL AND other.name <> $2) > 0)",
        )
        .bind(role.as_str())
        .bind(name)
        .execute(&mut *transaction)
        .await?;
        if changed.rows_affected() == 0 {
            return Err(last_administrator(name));
        }
        transaction.commit().await?;
        self.existing(name).await
    }

    /// Sets a new password and lifts a lockout.
    pub async fn set_password(&self, name: &str, password: &str) -> Result<UserInfo, TokenError> {
        self.existing(name).await?;
        check_password(password)?;
        let hash = hash_password(password)?;
        sqlx::query(
            "UPDATE gateway_users SET password_hash = $1, failed_sign_ins = 0, \
             locked_until = NULL, session_epoch = session_epoch + 1 WHERE name = $2",
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
            let mut transaction = self.pool.begin().await?;
            lock_administrators(&mut transaction).await?;
            let changed = sqlx::query(
                "UPDATE gateway_users SET disabled_at = $1, session_epoch = session_epoch + 1 \
                 WHERE name = $2 AND disabled_at IS NULL AND (role <> 'admin' \
                 OR (SELECT COUNT(*) FROM gateway_users AS other WHERE other.role = 'admin' \
                     AND other.disabled_at IS NULL AND other.name <> $2) > 0)",
            )
            .bind(&now)
            .bind(name)
            .execute(&mut *transaction)
            .await?;
            transaction.commit().await?;
            let user = self.existing(name).await?;
            if changed.rows_affected() == 0 && user.disabled_at.is_none() {
                return Err(last_administrator(name));
            }
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
    ///
    /// Every attempt, known name or not, long password or not, runs one
    /// argon2 hash, reads the row twice and writes the failure count once,
    /// so that neither the answer nor its time tells which names exist. The
    /// count goes up atomically, so parallel guesses each count, and the
    /// lock is read again after hashing, so a guess that raced the lock is
    /// refused.
    pub async fn check_password(
        &self,
        name: &str,
        password: &str,
        lockout: Lockout,
        hold: impl Send + 'static,
    ) -> Result<PasswordCheck, TokenError> {
        // An invalid name is looked up as an empty one: never found.
        let key = if check_user_name(name).is_ok() {
            name
        } else {
            ""
        };
        let stored: Option<(String, i64)> = sqlx::query_as(
            "SELECT password_hash, session_epoch FROM gateway_users WHERE name = $1",
        )
        .bind(key)
        .fetch_optional(&self.pool)
        .await?;
        let known = stored.is_some();
        let (stored, epoch_checked) =
            stored.unwrap_or_else(|| (self.dummy_hash.as_str().to_owned(), -1));
        let password = password.as_bytes().to_vec();
        let length_ok = password.len() <= MAX_PASSWORD_BYTES;
        let hashed = tokio::task::spawn_blocking(move || {
            let _hold = hold;
            PasswordHash::new(&stored)
                .is_ok_and(|hash| Argon2::default().verify_password(&password, &hash).is_ok())
        })
        .await
        .map_err(|error| TokenError::Usage(format!("password check failed: {error}")))?;
        let right = known && length_ok && hashed;
        // The state now, after the hash: a lock or a disable that came
        // meanwhile counts.
        let fresh = sqlx::query(concat!(select_user!(), " WHERE name = $1"))
            .bind(key)
            .fetch_optional(&self.pool)
            .await?;
        let info = fresh.as_ref().map(user_info).transpose()?;
        let now = OffsetDateTime::now_utc();
        let now_text = lienthong_audit::format_time(now);
        let locked = info.as_ref().and_then(|info| {
            info.locked_until
                .clone()
                .filter(|until| until.as_str() > now_text.as_str())
        });
        let usable = info
            .as_ref()
            .is_some_and(|info| info.disabled_at.is_none() && locked.is_none());
        // The user changed while the hash ran (a new password, role or
        // state): the password checked may be the old one. Refused, not
        // counted.
        if right && usable && info.as_ref().map(|info| info.session_epoch) != Some(epoch_checked) {
            return Ok(PasswordCheck::Wrong);
        }
        if right && usable {
            if let Some(info) = &info
                && (info.failed_sign_ins != 0 || info.locked_until.is_some())
            {
                sqlx::query(
                    "UPDATE gateway_users SET failed_sign_ins = 0, locked_until = NULL \
                     WHERE name = $1",
                )
                .bind(&info.name)
                .execute(&self.pool)
                .await?;
            }
            return Ok(info.map_or(PasswordCheck::Wrong, PasswordCheck::Accepted));
        }
        // Counted in the database (a restart does not reset it), one by one
        // (parallel guesses each count), locking on the last in the same
        // statement. Every other refusal (an unknown name, a locked or
        // disabled account) makes one write of the same kind, to a counter
        // of its own, so that the time of the answer does not tell them
        // apart.
        let until = lienthong_audit::format_time(now + time::Duration::minutes(lockout.minutes));
        let locked_now: Option<Option<String>> = if usable {
            sqlx::query_scalar(
                "UPDATE gateway_users SET \
                 failed_sign_ins = CASE WHEN failed_sign_ins + 1 >= $2 THEN 0 \
                     ELSE failed_sign_ins + 1 END, \
                 locked_until = CASE WHEN failed_sign_ins + 1 >= $2 THEN $3 \
                     ELSE locked_until END \
                 WHERE name = $1 RETURNING locked_until",
            )
            .bind(key)
            .bind(lockout.after_failures)
            .bind(&until)
            .fetch_optional(&self.pool)
            .await?
        } else {
            sqlx::query("UPDATE gateway_sign_in_misses SET misses = misses + 1 WHERE id = 1")
                .execute(&self.pool)
                .await?;
            None
        };
        let Some(info) = info else {
            return Ok(PasswordCheck::Wrong);
        };
        if info.disabled_at.is_some() {
            return Ok(PasswordCheck::Disabled);
        }
        if let Some(until) = locked {
            return Ok(PasswordCheck::Locked(until));
        }
        if locked_now.flatten().as_deref() == Some(until.as_str()) {
            return Ok(PasswordCheck::Locked(until));
        }
        Ok(PasswordCheck::Wrong)
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
        session_epoch: row.try_get("session_epoch")?,
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
    super::tokens::random_token().map(|secret| secret.chars().take(20).collect())
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
