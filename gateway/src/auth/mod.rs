//! Who is asking the gateway, and may they.
//!
//! People authenticate with a bearer token (`Authorization: Bearer lt_…`, on
//! gRPC as `authorization` metadata), with a client certificate listed in
//! `auth.certificate_roles`, or, on the web pages, with the session cookie
//! a sign-in gave them (name and password from [`users`], or the
//! certificate). Each has a role:
//!
//! | role | may |
//! |---|---|
//! | `viewer` | search and read records; personal fields withheld |
//! | `officer` | as viewer, with personal fields as each node's policy allows |
//! | `admin` | as officer, plus federation status and audit summaries |
//!
//! Every user has a request budget (`auth.requests_per_minute`, with
//! `auth.burst`); beyond it requests are refused until it refills.

pub mod sessions;
pub mod tokens;
pub mod users;

use std::collections::HashMap;
use std::fmt;
use std::str::FromStr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use lienthong_runtime::identity::PeerIdentity;
use lienthong_runtime::rate_limit::RateLimiter;
use lienthong_runtime::tls::PeerInfo;
use serde::{Deserialize, Serialize};
use tokio::sync::Semaphore;

pub use sessions::{Session, SessionLifetime, SessionSource, SessionStore};
pub use tokens::{TokenError, TokenInfo, TokenStore};
pub use users::{Lockout, PasswordCheck, UserInfo, UserStore};

/// A person's role at the gateway.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UserRole {
    Viewer,
    Officer,
    Admin,
}

impl UserRole {
    pub fn as_str(self) -> &'static str {
        match self {
            UserRole::Viewer => "viewer",
            UserRole::Officer => "officer",
            UserRole::Admin => "admin",
        }
    }

    /// Whether personal fields may be shown to this role.
    pub fn sees_personal_fields(self) -> bool {
        self >= UserRole::Officer
    }
}

impl fmt::Display for UserRole {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for UserRole {
    type Err = String;
    fn from_str(text: &str) -> Result<Self, String> {
        match text {
            "viewer" => Ok(UserRole::Viewer),
            "officer" => Ok(UserRole::Officer),
            "admin" => Ok(UserRole::Admin),
            other => Err(format!(
                "{other:?} is not a role; use viewer, officer or admin"
            )),
        }
    }
}

/// The person a request is for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EndUser {
    pub name: String,
    pub role: UserRole,
}

/// The user name given to callers of a plaintext development gateway.
pub const INSECURE_ANONYMOUS: &str = "insecure-anonymous";

/// What a request brought to prove who it is for.
#[derive(Debug, Clone, Default)]
pub struct Credentials {
    pub peer: Option<PeerInfo>,
    /// The `Authorization` header or metadata, as sent.
    pub authorization: Option<String>,
    /// The secret of a web session cookie, as sent.
    pub session: Option<String>,
}

/// Why a request was refused before any work.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthError {
    /// No valid credentials: wrong, expired or revoked token, or none.
    Unauthenticated(String),
    /// Over the user's request budget.
    RateLimited(String),
    /// Credentials could not be checked (the gateway's database failed).
    Unavailable(String),
}

/// `[auth]` settings.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuthConfig {
    /// Requests per minute per user.
    #[serde(default = "default_requests_per_minute")]
    pub requests_per_minute: u32,
    /// Requests a user may make at once above the steady rate.
    #[serde(default = "default_burst")]
    pub burst: u32,
    /// How long a checked token is trusted before its row is read again
    /// (revocation takes effect within this time).
    #[serde(default = "default_token_cache_seconds")]
    pub token_cache_seconds: u64,
    /// Client certificates that act as users without a token, and their
    /// roles: `"staff:nguyen-van-an" = "officer"`.
    #[serde(default)]
    pub certificate_roles: HashMap<String, String>,
    /// Failed authentications per minute from one client network (an IPv4
    /// address, an IPv6 /64) before further attempts are refused.
    #[serde(default = "default_failures_per_minute")]
    pub failures_per_minute: u32,
    /// Failed authentications a client network may make at once above that.
    #[serde(default = "default_failure_burst")]
    pub failure_burst: u32,
    /// Token secrets checked (argon2, about 19 MiB each) at once; a request
    /// that would be one more is refused at once (429), not queued.
    #[serde(default = "default_max_concurrent_secret_checks")]
    pub max_concurrent_secret_checks: usize,
    /// Password sign-ins per minute for one user name, right or wrong.
    #[serde(default = "default_sign_ins_per_minute")]
    pub sign_ins_per_minute: u32,
    /// Wrong passwords in a row before a web account is locked.
    #[serde(default = "default_lockout_after_failures")]
    pub lockout_after_failures: u32,
    /// How long a locked web account stays locked.
    #[serde(default = "default_lockout_minutes")]
    pub lockout_minutes: u32,
    /// A web session ends after this long without a request.
    #[serde(default = "default_session_idle_minutes")]
    pub session_idle_minutes: u32,
    /// A web session ends this long after sign-in in any case.
    #[serde(default = "default_session_hours")]
    pub session_hours: u32,
}

impl Default for AuthConfig {
    fn default() -> Self {
        AuthConfig {
            requests_per_minute: default_requests_per_minute(),
            burst: default_burst(),
            token_cache_seconds: default_token_cache_seconds(),
            certificate_roles: HashMap::new(),
            max_concurrent_secret_checks: default_max_concurrent_secret_checks(),
            failures_per_minute: default_failures_per_minute(),
            failure_burst: default_failure_burst(),
            sign_ins_per_minute: default_sign_ins_per_minute(),
            lockout_after_failures: default_lockout_after_failures(),
            lockout_minutes: default_lockout_minutes(),
            session_idle_minutes: default_session_idle_minutes(),
            session_hours: default_session_hours(),
        }
    }
}

fn default_sign_ins_per_minute() -> u32 {
    10
}
fn default_lockout_after_failures() -> u32 {
    5
}
fn default_lockout_minutes() -> u32 {
    15
}
fn default_session_idle_minutes() -> u32 {
    30
}
fn default_session_hours() -> u32 {
    12
}

fn default_failures_per_minute() -> u32 {
    30
}
fn default_failure_burst() -> u32 {
    10
}
fn default_max_concurrent_secret_checks() -> usize {
    4
}

fn default_requests_per_minute() -> u32 {
    600
}
fn default_burst() -> u32 {
    60
}
fn default_token_cache_seconds() -> u64 {
    30
}

impl AuthConfig {
    /// The certificate roles, checked; an error names the key.
    pub fn parsed_certificate_roles(&self) -> Result<HashMap<PeerIdentity, UserRole>, String> {
        self.certificate_roles
            .iter()
            .map(|(identity, role)| {
                let key = format!("auth.certificate_roles.\"{identity}\"");
                let identity: PeerIdentity =
                    identity.parse().map_err(|e| format!("key {key}: {e}"))?;
                let role: UserRole = role.parse().map_err(|e| format!("key {key}: {e}"))?;
                Ok((identity, role))
            })
            .collect()
    }

    /// How long web sessions last; an error names the key.
    pub fn session_lifetime(&self) -> Result<SessionLifetime, String> {
        if self.session_idle_minutes == 0 || self.session_hours == 0 {
            return Err(
                "keys auth.session_idle_minutes and auth.session_hours must be at least 1".into(),
            );
        }
        Ok(SessionLifetime {
            idle: time::Duration::minutes(i64::from(self.session_idle_minutes)),
            absolute: time::Duration::hours(i64::from(self.session_hours)),
        })
    }

    /// The lockout of web accounts; an error names the key.
    pub fn lockout(&self) -> Result<Lockout, String> {
        if self.lockout_after_failures == 0 || self.lockout_minutes == 0 {
            return Err(
                "keys auth.lockout_after_failures and auth.lockout_minutes must be at least 1"
                    .into(),
            );
        }
        Ok(Lockout {
            after_failures: i64::from(self.lockout_after_failures),
            minutes: i64::from(self.lockout_minutes),
        })
    }
}

struct CachedToken {
    user: EndUser,
    /// SHA-256 of the whole token text, so a wrong secret never hits the cache.
    digest: Vec<u8>,
    checked: Instant,
}

/// Turns credentials into an [`EndUser`].
pub struct Authenticator {
    tokens: TokenStore,
    users: UserStore,
    sessions: SessionStore,
    lockout: Lockout,
    certificate_roles: HashMap<PeerIdentity, UserRole>,
    cache: Mutex<HashMap<String, CachedToken>>,
    cache_for: Duration,
    limiter: RateLimiter,
    /// Failed authentications per client address.
    failures: RateLimiter,
    /// Password sign-ins per user name, right or wrong.
    sign_ins: RateLimiter,
    /// Secret checks (argon2) running at once.
    secret_checks: std::sync::Arc<Semaphore>,
    /// Plaintext development gateway: callers without credentials are
    /// `insecure-anonymous` admins.
    insecure_plaintext: bool,
}

impl Authenticator {
    pub fn new(
        tokens: TokenStore,
        users: UserStore,
        sessions: SessionStore,
        config: &AuthConfig,
        insecure_plaintext: bool,
    ) -> Result<Authenticator, String> {
        Ok(Authenticator {
            tokens,
            users,
            sessions,
            lockout: config.lockout()?,
            certificate_roles: config.parsed_certificate_roles()?,
            cache: Mutex::new(HashMap::new()),
            cache_for: Duration::from_secs(config.token_cache_seconds),
            limiter: RateLimiter::new(config.requests_per_minute, config.burst),
            failures: RateLimiter::new(config.failures_per_minute, config.failure_burst),
            sign_ins: RateLimiter::new(config.sign_ins_per_minute, config.sign_ins_per_minute),
            secret_checks: std::sync::Arc::new(Semaphore::new(
                config.max_concurrent_secret_checks.max(1),
            )),
            insecure_plaintext,
        })
    }

    /// The user `credentials` prove, within their rate limit.
    pub async fn authenticate(&self, credentials: &Credentials) -> Result<EndUser, AuthError> {
        // Failed attempts draw on a budget per client address, so guessing
        // tokens (each guess costs an argon2 check) is limited like use is.
        let address = failure_key(credentials);
        // Over the address's failure budget, only a token already checked
        // gets through: someone guessing from the same address (a shared
        // office NAT) cannot lock out a user who is signed in.
        // Only where a secret would be checked: a session cookie or a listed
        // certificate costs no argon2, so colleagues behind the same office
        // address stay signed in while someone there guesses.
        if let Some(address) = &address
            && credentials.authorization.is_some()
            && self.failures.exhausted(address)
            && !self.is_cached(credentials)
        {
            return Err(self.too_many_failures());
        }
        let user = match self.identify(credentials, address.as_deref()).await {
            Ok(user) => user,
            Err(error) => {
                // Token failures were charged where they were checked.
                if credentials.authorization.is_none()
                    && !matches!(error, AuthError::Unavailable(_))
                {
                    self.charge_failure(address.as_deref());
                }
                return Err(error);
            }
        };
        self.limiter.admit(&user.name).map_err(|retry_in| {
            AuthError::RateLimited(format!(
                "user {} is over the limit of {} requests per minute; retry in {} ms",
                user.name,
                self.limiter.per_minute(),
                retry_in.as_millis().max(1)
            ))
        })?;
        Ok(user)
    }

    /// Checks a name and password from the sign-in form. The check costs
    /// one argon2 hash whatever the name, is charged to the address's
    /// failure budget first (and given back when right), and runs at most
    /// `auth.max_concurrent_secret_checks` at once. A refusal's message
    /// says why, for the audit log; the page shows one message for all.
    /// On success, the user and their session epoch.
    pub async fn check_password(
        &self,
        peer: Option<&PeerInfo>,
        name: &str,
        password: &str,
    ) -> Result<(EndUser, i64), AuthError> {
        let credentials = Credentials {
            peer: peer.cloned(),
            ..Credentials::default()
        };
        let address = failure_key(&credentials);
        if let Some(address) = &address
            && self.failures.admit(address).is_err()
        {
            return Err(self.too_many_failures());
        }
        let refund = || {
            if let Some(address) = &address {
                self.failures.refund(address);
            }
        };
        // Each name has a budget of attempts, right or wrong, so that one
        // account cannot keep the hashing busy for everyone.
        // Keyed by the name only when it could be one: arbitrary text must
        // not grow the table.
        let key = if tokens::check_user_name(name).is_ok() {
            format!("sign-in {name}")
        } else {
            "sign-in, not a user name".to_owned()
        };
        if self.sign_ins.admit(&key).is_err() {
            refund();
            return Err(AuthError::RateLimited(format!(
                "too many sign-ins for this name (at most {} per minute); wait a minute",
                self.sign_ins.per_minute()
            )));
        }
        // A sign-in waits briefly for a hashing slot rather than failing.
        let permit = tokio::time::timeout(
            Duration::from_secs(2),
            std::sync::Arc::clone(&self.secret_checks).acquire_owned(),
        )
        .await;
        let Ok(Ok(checking)) = permit else {
            refund();
            return Err(AuthError::RateLimited(
                "too many sign-ins are being checked at once; retry in a second".into(),
            ));
        };
        let check = match self
            .users
            .check_password(name, password, self.lockout, checking)
            .await
        {
            Ok(check) => check,
            Err(error) => {
                refund();
                tracing::error!(%error, "password check failed");
                return Err(AuthError::Unavailable(
                    "the password cannot be checked now; try again later".into(),
                ));
            }
        };
        match check {
            PasswordCheck::Accepted(info) => {
                refund();
                Ok((
                    EndUser {
                        name: info.name,
                        role: info.role,
                    },
                    info.session_epoch,
                ))
            }
            PasswordCheck::Wrong => Err(AuthError::Unauthenticated(format!(
                "wrong user name or password for {}",
                loggable_name(name)
            ))),
            PasswordCheck::Locked(until) => Err(AuthError::Unauthenticated(format!(
                "user {} is locked until {until} after repeated wrong passwords",
                loggable_name(name)
            ))),
            PasswordCheck::Disabled => Err(AuthError::Unauthenticated(format!(
                "user {} is disabled",
                loggable_name(name)
            ))),
        }
    }

    /// The user a client certificate alone proves (no token, no session).
    /// No secret is checked, so the address's failure budget does not gate
    /// it: a shared office address under attack still signs in this way.
    pub async fn certificate_user(&self, peer: Option<&PeerInfo>) -> Result<EndUser, AuthError> {
        let Some(identity) = peer.and_then(|peer| peer.identity.as_ref()) else {
            return Err(AuthError::Unauthenticated(
                "the browser sent no client certificate of this federation".into(),
            ));
        };
        let Some(role) = self.certificate_roles.get(identity) else {
            return Err(AuthError::Unauthenticated(format!(
                "the certificate of {identity} is not listed in auth.certificate_roles"
            )));
        };
        let user = EndUser {
            name: identity.to_string(),
            role: *role,
        };
        self.limiter.admit(&user.name).map_err(|retry_in| {
            AuthError::RateLimited(format!(
                "user {} is over the limit; retry in {} ms",
                user.name,
                retry_in.as_millis().max(1)
            ))
        })?;
        Ok(user)
    }

    /// The live session a cookie secret names. A certificate session lives
    /// only on connections that present the same certificate identity, and
    /// while `auth.certificate_roles` still gives it the session's role.
    pub async fn live_session(
        &self,
        secret: &str,
        peer: Option<&PeerInfo>,
    ) -> Result<Option<Session>, AuthError> {
        let session = self.sessions.find(secret).await.map_err(|error| {
            tracing::error!(%error, "session check failed");
            AuthError::Unavailable("the session cannot be checked now; try again later".into())
        })?;
        let Some(session) = session else {
            return Ok(None);
        };
        if session.source == SessionSource::Certificate {
            let presented = peer.and_then(|peer| peer.identity.as_ref());
            let still = presented.is_some_and(|identity| {
                identity.to_string() == session.user.name
                    && self.certificate_roles.get(identity) == Some(&session.user.role)
            });
            if !still {
                return Ok(None);
            }
        }
        Ok(Some(session))
    }

    /// The web sessions.
    pub fn sessions(&self) -> &SessionStore {
        &self.sessions
    }

    /// The web users.
    pub fn users(&self) -> &UserStore {
        &self.users
    }

    /// Whether `credentials` carry a token whose secret was checked within
    /// `auth.token_cache_seconds`.
    fn is_cached(&self, credentials: &Credentials) -> bool {
        let Some(token) = credentials
            .authorization
            .as_deref()
            .and_then(|header| {
                header
                    .strip_prefix("Bearer ")
                    .or_else(|| header.strip_prefix("bearer "))
            })
            .map(str::trim)
        else {
            return false;
        };
        let Some((id, _)) = tokens::split_token(token) else {
            return false;
        };
        let digest = ring::digest::digest(&ring::digest::SHA256, token.as_bytes());
        self.lock_cache().get(id).is_some_and(|cached| {
            cached.digest == digest.as_ref() && cached.checked.elapsed() < self.cache_for
        })
    }

    fn charge_failure(&self, address: Option<&str>) {
        if let Some(address) = address {
            let _ = self.failures.admit(address);
        }
    }

    fn too_many_failures(&self) -> AuthError {
        AuthError::RateLimited(format!(
            "too many failed authentications from this address (at most {} per minute); \
             wait and check the token",
            self.failures.per_minute()
        ))
    }

    async fn identify(
        &self,
        credentials: &Credentials,
        address: Option<&str>,
    ) -> Result<EndUser, AuthError> {
        if let Some(header) = &credentials.authorization {
            let Some(token) = header
                .strip_prefix("Bearer ")
                .or_else(|| header.strip_prefix("bearer "))
            else {
                self.charge_failure(address);
                return Err(AuthError::Unauthenticated(
                    "the Authorization header must read \"Bearer lt_...\"".into(),
                ));
            };
            let token = token.trim();
            return self.token_user(token, address).await;
        }
        if let Some(secret) = &credentials.session {
            return match self.live_session(secret, credentials.peer.as_ref()).await? {
                Some(session) => Ok(session.user),
                None => Err(AuthError::Unauthenticated(
                    "the session has ended (signed out, expired or closed by an administrator); \
                     sign in again"
                        .into(),
                )),
            };
        }
        let identity = credentials
            .peer
            .as_ref()
            .and_then(|peer| peer.identity.as_ref());
        if let Some(identity) = identity {
            return match self.certificate_roles.get(identity) {
                Some(role) => Ok(EndUser {
                    name: identity.to_string(),
                    role: *role,
                }),
                None => Err(AuthError::Unauthenticated(format!(
                    "the certificate of {identity} is not listed in auth.certificate_roles; \
                     send a bearer token (lienthong gateway token create)"
                ))),
            };
        }
        if self.insecure_plaintext && credentials.peer.as_ref().is_none_or(|peer| !peer.secure) {
            return Ok(EndUser {
                name: INSECURE_ANONYMOUS.to_owned(),
                role: UserRole::Admin,
            });
        }
        Err(AuthError::Unauthenticated(
            "authentication required: send \"Authorization: Bearer lt_...\" \
             (lienthong gateway token create)"
                .into(),
        ))
    }

    /// The user a token names. A secret not seen before is checked with
    /// argon2 (≈19 MiB, tens of ms), so that check is bounded: it is charged
    /// to the address's failure budget before it runs (and given back if
    /// the secret is right), and at most `auth.max_concurrent_secret_checks`
    /// run at once. A wrong secret never touches the cached entry of the
    /// right one.
    async fn token_user(&self, token: &str, address: Option<&str>) -> Result<EndUser, AuthError> {
        let refused = || AuthError::Unauthenticated("the token is not valid".into());
        let Some((id, _)) = tokens::split_token(token) else {
            self.charge_failure(address);
            return Err(refused());
        };
        let digest = ring::digest::digest(&ring::digest::SHA256, token.as_bytes())
            .as_ref()
            .to_vec();
        let database_error = |error: TokenError| {
            tracing::error!(%error, "token check failed");
            AuthError::Unavailable("the token cannot be checked now; try again later".into())
        };
        let cached_match = {
            let cache = self.lock_cache();
            cache.get(id).and_then(|cached| {
                (cached.digest == digest).then(|| (cached.user.clone(), cached.checked.elapsed()))
            })
        };
        let now = lienthong_audit::format_time(time::OffsetDateTime::now_utc());
        let seen_before = cached_match.is_some();
        let info = match cached_match {
            Some((user, age)) if age < self.cache_for => return Ok(user),
            // The secret was checked before: only re-read revocation and expiry.
            Some(_) => self.tokens.state(id).await.map_err(database_error)?,
            None => {
                if let Some(address) = address
                    && self.failures.admit(address).is_err()
                {
                    return Err(self.too_many_failures());
                }
                let refund = || {
                    if let Some(address) = address {
                        self.failures.refund(address);
                    }
                };
                let Ok(checking) = std::sync::Arc::clone(&self.secret_checks).try_acquire_owned()
                else {
                    // Busy, not wrong: this attempt does not count as a failure.
                    refund();
                    return Err(AuthError::RateLimited(
                        "too many tokens are being checked at once; retry in a second".into(),
                    ));
                };
                // The permit lives until argon2 has finished, even if this
                // request is dropped meanwhile.
                match self.tokens.check_secret(token, checking).await {
                    Ok(checked) => checked,
                    Err(error) => {
                        refund();
                        return Err(database_error(error));
                    }
                }
            }
        };
        let Some(info) = info else {
            return Err(refused());
        };
        if let Err(reason) = info.usable_at(&now) {
            if seen_before {
                // The right secret, now revoked or expired (a failure not yet
                // charged: no secret was checked).
                self.lock_cache().remove(id);
                self.charge_failure(address);
            }
            return Err(AuthError::Unauthenticated(reason.into()));
        }
        if !seen_before && let Some(address) = address {
            // A right secret is no failure: give back what its check took.
            self.failures.refund(address);
        }
        let user = EndUser {
            name: info.user,
            role: info.role,
        };
        self.lock_cache().insert(
            id.to_owned(),
            CachedToken {
                user: user.clone(),
                digest,
                checked: Instant::now(),
            },
        );
        Ok(user)
    }

    fn lock_cache(&self) -> std::sync::MutexGuard<'_, HashMap<String, CachedToken>> {
        match self.cache.lock() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        }
    }
}

/// A sign-in name as the audit log may show it: a name the user table
/// could hold, else only its length (a password typed into the name box
/// must not be kept).
pub fn loggable_name(name: &str) -> String {
    if tokens::check_user_name(name).is_ok() {
        format!("{name:?}")
    } else {
        format!("<not a user name, {} bytes>", name.len())
    }
}

/// The failure budget's key for a request: its client address.
fn failure_key(credentials: &Credentials) -> Option<String> {
    credentials
        .peer
        .as_ref()
        .and_then(|peer| peer.remote_addr)
        .map(|address| {
            format!(
                "failed from {}",
                lienthong_runtime::peer_gate::client_network(address.ip())
            )
        })
}
