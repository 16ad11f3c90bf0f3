//! Every gateway request passes here twice: [`GatewayAccess::admit`] before
//! the work (who is asking, may their role do this, are they within their
//! rate limit) and [`GatewayAccess::finish`] after it (personal fields
//! withheld from viewers, and the audit entry, committed before the answer
//! leaves). gRPC and HTTP requests take the same path.
//!
//! While a request runs, its user travels to every node with each call
//! ([`OnBehalf`]), so each node's audit log says who asked.

use lienthong_audit::{AuditEntry, AuditWriter, Outcome, RefusalLog};
use lienthong_proto::v1 as pb;
use lienthong_records::AnyRecord;
use tonic::metadata::MetadataValue;

use crate::auth::{
    AuthError, Authenticator, Credentials, EndUser, Session, SessionSource, UserInfo, UserRole,
};
use crate::request_error::RequestError;

/// Metadata names the nodes read (see the node's access module).
pub const END_USER_HEADER: &str = "x-lienthong-end-user";
pub const END_USER_ROLE_HEADER: &str = "x-lienthong-end-user-role";

tokio::task_local! {
    static ON_BEHALF_OF: EndUser;
}

/// An admitted request, waiting for its outcome.
pub struct Admitted {
    pub user: EndUser,
    peer: String,
    action: &'static str,
    request: String,
}

impl Admitted {
    /// Runs `work` with this request's user attached to every node call it
    /// makes.
    pub async fn on_behalf<F: Future>(&self, work: F) -> F::Output {
        ON_BEHALF_OF.scope(self.user.clone(), work).await
    }
}

/// Authentication, roles and audit for the gateway.
pub struct GatewayAccess {
    auth: Authenticator,
    audit: AuditWriter,
    refusals: RefusalLog,
    database: sqlx::AnyPool,
}

impl GatewayAccess {
    pub fn new(
        auth: Authenticator,
        audit: AuditWriter,
        refusals: RefusalLog,
        database: sqlx::AnyPool,
    ) -> GatewayAccess {
        GatewayAccess {
            auth,
            audit,
            refusals,
            database,
        }
    }

    /// The log refusals are counted in.
    pub fn refusals(&self) -> &RefusalLog {
        &self.refusals
    }

    /// The web sessions.
    pub fn sessions(&self) -> &crate::auth::SessionStore {
        self.auth.sessions()
    }

    /// The gateway's audit entries since `since`, by outcome and caller.
    pub async fn summary(
        &self,
        since: time::OffsetDateTime,
    ) -> Result<lienthong_audit::Summary, RequestError> {
        lienthong_audit::summary(&self.database, since)
            .await
            .map_err(|error| RequestError::Unavailable(format!("audit summary: {error}")))
    }

    /// Signs in with a name and password from the sign-in form and opens a
    /// session. Audited as `SignIn` (the password never); a refusal reads
    /// the same whatever its reason, which only the audit log records.
    pub async fn sign_in_with_password(
        &self,
        peer: Option<&lienthong_runtime::tls::PeerInfo>,
        name: &str,
        password: &str,
    ) -> Result<SignedIn, RequestError> {
        let request = serde_json::json!({
            "user": crate::auth::loggable_name(name),
            "with": "password"
        });
        let checked = self.auth.check_password(peer, name, password).await;
        self.open_session(peer, request, checked, SessionSource::Password)
            .await
    }

    /// Signs in with the client certificate the browser presented, when
    /// `auth.certificate_roles` lists it, and opens a session.
    pub async fn sign_in_with_certificate(
        &self,
        peer: Option<&lienthong_runtime::tls::PeerInfo>,
    ) -> Result<SignedIn, RequestError> {
        let request = serde_json::json!({ "with": "certificate" });
        let checked = self.auth.certificate_user(peer).await.map(|user| (user, 0));
        self.open_session(peer, request, checked, SessionSource::Certificate)
            .await
    }

    async fn open_session(
        &self,
        peer: Option<&lienthong_runtime::tls::PeerInfo>,
        request: serde_json::Value,
        checked: Result<(EndUser, i64), AuthError>,
        source: SessionSource,
    ) -> Result<SignedIn, RequestError> {
        let mut admitted = Admitted {
            user: EndUser {
                name: String::new(),
                role: UserRole::Viewer,
            },
            peer: lienthong_runtime::peer_gate::peer_key(peer),
            action: "SignIn",
            request: lienthong_audit::request_text(&request),
        };
        let (user, epoch) = match checked {
            Ok(checked) => checked,
            Err(error) => {
                let (outcome, reason, detail, refusal) = match error {
                    AuthError::Unauthenticated(detail) => (
                        Outcome::Denied,
                        "unauthenticated",
                        detail,
                        RequestError::Unauthenticated(SIGN_IN_REFUSED.into()),
                    ),
                    AuthError::RateLimited(detail) => (
                        Outcome::Denied,
                        "rate limited",
                        detail.clone(),
                        RequestError::RateLimited(detail),
                    ),
                    AuthError::Unavailable(detail) => (
                        Outcome::Error,
                        "unavailable",
                        detail.clone(),
                        RequestError::Unavailable(detail),
                    ),
                };
                self.refuse(&admitted, outcome, reason, detail).await?;
                return Err(refusal);
            }
        };
        admitted.user = user.clone();
        let opened = self
            .auth
            .sessions()
            .create(&user, source, epoch)
            .await
            .map_err(|error| {
                tracing::error!(%error, "cannot open a web session");
                RequestError::Unavailable("cannot open a session now; try again later".into())
            });
        let opened = self.finish(admitted, opened, |_| Vec::new()).await?;
        Ok(SignedIn {
            secret: opened.0,
            session: opened.1,
        })
    }

    /// The session a cookie secret names, for rendering pages: who is
    /// signed in and the CSRF token their forms carry.
    pub async fn session(
        &self,
        secret: &str,
        peer: Option<&lienthong_runtime::tls::PeerInfo>,
    ) -> Result<Option<Session>, RequestError> {
        self.auth
            .live_session(secret, peer)
            .await
            .map_err(|error| match error {
                AuthError::Unavailable(message)
                | AuthError::Unauthenticated(message)
                | AuthError::RateLimited(message) => RequestError::Unavailable(message),
            })
    }

    /// Ends the session `credentials` carry. Audited as `SignOut`.
    pub async fn sign_out(&self, credentials: &Credentials) -> Result<(), RequestError> {
        let admitted = self
            .admit(
                credentials,
                "SignOut",
                &serde_json::json!({}),
                UserRole::Viewer,
            )
            .await?;
        let ended = match &credentials.session {
            Some(secret) => self.auth.sessions().delete(secret).await.map_err(|error| {
                RequestError::Unavailable(format!("cannot end the session: {error}"))
            }),
            None => Ok(()),
        };
        self.finish(admitted, ended, |_| Vec::new()).await
    }

    /// Every web user. Administrators only.
    pub async fn list_users(
        &self,
        credentials: &Credentials,
    ) -> Result<Vec<UserInfo>, RequestError> {
        let admitted = self
            .admit(
                credentials,
                "ListUsers",
                &serde_json::json!({}),
                UserRole::Admin,
            )
            .await?;
        let users = self.auth.users().list().await.map_err(user_error);
        self.finish(admitted, users, |_| Vec::new()).await
    }

    /// Adds or changes a web user. Administrators only; an administrator
    /// cannot disable or demote themselves (the federation would be left
    /// without one). A change ends the user's open sessions.
    pub async fn change_user(
        &self,
        credentials: &Credentials,
        change: UserChange,
    ) -> Result<UserInfo, RequestError> {
        let admitted = self
            .admit(credentials, "ChangeUser", &change, UserRole::Admin)
            .await?;
        let own = change.user() == admitted.user.name;
        let result = match change {
            UserChange::SetRole { .. } | UserChange::Disable { .. } if own => {
                Err(RequestError::InvalidArgument(
                    "administrators cannot disable or demote themselves; ask another administrator"
                        .into(),
                ))
            }
            change => self.apply(change).await,
        };
        self.finish(admitted, result, |_| Vec::new()).await
    }

    async fn apply(&self, change: UserChange) -> Result<UserInfo, RequestError> {
        let users = self.auth.users();
        let changed = match &change {
            UserChange::Create {
                name,
                role,
                password,
            } => users.create(name, *role, password).await,
            UserChange::SetRole { name, role } => users.set_role(name, *role).await,
            UserChange::SetPassword { name, password } => users.set_password(name, password).await,
            UserChange::Disable { name } => users.set_disabled(name, true).await,
            UserChange::Enable { name } => users.set_disabled(name, false).await,
        }
        .map_err(user_error)?;
        if !matches!(change, UserChange::Create { .. }) {
            self.auth
                .sessions()
                .delete_for_user(&changed.name)
                .await
                .map_err(user_error)?;
        }
        Ok(changed)
    }

    /// Authenticates, rate-limits and checks that the user's role is at least
    /// `needs`. Refusals are audited, counted per source and interval (the
    /// first in full); the request is audited as at most a few KB, and only
    /// serialized once the caller is known or refused.
    pub async fn admit(
        &self,
        credentials: &Credentials,
        action: &'static str,
        request: &impl serde::Serialize,
        needs: UserRole,
    ) -> Result<Admitted, RequestError> {
        let peer = lienthong_runtime::peer_gate::peer_key(credentials.peer.as_ref());
        let user = match self.auth.authenticate(credentials).await {
            Ok(user) => user,
            Err(error) => {
                let (outcome, outcome_error, detail) = match error {
                    AuthError::Unauthenticated(message) => (
                        Outcome::Denied,
                        RequestError::Unauthenticated(message.clone()),
                        message,
                    ),
                    AuthError::RateLimited(message) => (
                        Outcome::Denied,
                        RequestError::RateLimited(message.clone()),
                        message,
                    ),
                    AuthError::Unavailable(message) => (
                        Outcome::Error,
                        RequestError::Unavailable(message.clone()),
                        message,
                    ),
                };
                let refused = Admitted {
                    user: EndUser {
                        name: String::new(),
                        role: UserRole::Viewer,
                    },
                    peer,
                    action,
                    request: lienthong_audit::request_text(request),
                };
                let reason = match &outcome_error {
                    RequestError::RateLimited(_) => "rate limited",
                    RequestError::Unavailable(_) => "unavailable",
                    _ => "unauthenticated",
                };
                self.refuse(&refused, outcome, reason, detail).await?;
                return Err(outcome_error);
            }
        };
        let admitted = Admitted {
            user,
            peer,
            action,
            request: lienthong_audit::request_text(request),
        };
        if admitted.user.role < needs {
            let message = format!(
                "{} has the {} role; {action} needs the {needs} role",
                admitted.user.name, admitted.user.role
            );
            self.refuse(
                &admitted,
                Outcome::Denied,
                "permission denied",
                message.clone(),
            )
            .await?;
            return Err(RequestError::PermissionDenied(message));
        }
        Ok(admitted)
    }

    /// Audits a refusal: the first from its source in an interval in full,
    /// the rest counted.
    async fn refuse(
        &self,
        admitted: &Admitted,
        outcome: Outcome,
        reason: &str,
        detail: String,
    ) -> Result<(), RequestError> {
        let source = format!("{} {}", admitted.peer, admitted.user.name);
        let entry = entry(admitted, outcome, detail, Vec::new());
        self.refusals
            .record(&source, reason, entry)
            .await
            .map_err(audit_unavailable)
    }

    /// Audits the outcome, with the ids of the records returned, and passes
    /// it on only once the entry is committed.
    pub async fn finish<T>(
        &self,
        admitted: Admitted,
        result: Result<T, RequestError>,
        record_ids: impl FnOnce(&T) -> Vec<String>,
    ) -> Result<T, RequestError> {
        match &result {
            Ok(answer) => {
                let ids = record_ids(answer);
                self.record(&admitted, Outcome::Ok, String::new(), ids)
                    .await?
            }
            Err(error) if is_denial(error) => {
                self.refuse(
                    &admitted,
                    Outcome::Denied,
                    "permission denied",
                    error.to_string(),
                )
                .await?
            }
            Err(error) => {
                self.record(&admitted, Outcome::Error, error.to_string(), Vec::new())
                    .await?
            }
        }
        result
    }

    async fn record(
        &self,
        admitted: &Admitted,
        outcome: Outcome,
        detail: String,
        record_ids: Vec<String>,
    ) -> Result<(), RequestError> {
        let entry = entry(admitted, outcome, detail, record_ids);
        self.audit.record(entry).await.map_err(audit_unavailable)
    }
}

fn entry(
    admitted: &Admitted,
    outcome: Outcome,
    detail: String,
    record_ids: Vec<String>,
) -> AuditEntry {
    AuditEntry {
        peer: admitted.peer.clone(),
        end_user: admitted.user.name.clone(),
        action: admitted.action.to_owned(),
        request: admitted.request.clone(),
        outcome,
        detail,
        record_ids,
    }
}

/// What the sign-in page says for any refused name and password.
pub const SIGN_IN_REFUSED: &str =
    "wrong user name or password, or the account is locked or disabled";

/// A session a sign-in opened.
pub struct SignedIn {
    /// For the browser's cookie only.
    pub secret: String,
    pub session: Session,
}

/// A change to a web user. Passwords are never serialized (audit log).
#[derive(Debug, Clone, serde::Serialize)]
#[serde(rename_all = "snake_case", tag = "change")]
pub enum UserChange {
    Create {
        name: String,
        role: UserRole,
        #[serde(skip)]
        password: String,
    },
    SetRole {
        name: String,
        role: UserRole,
    },
    SetPassword {
        name: String,
        #[serde(skip)]
        password: String,
    },
    Disable {
        name: String,
    },
    Enable {
        name: String,
    },
}

impl UserChange {
    /// The user changed.
    pub fn user(&self) -> &str {
        match self {
            UserChange::Create { name, .. }
            | UserChange::SetRole { name, .. }
            | UserChange::SetPassword { name, .. }
            | UserChange::Disable { name }
            | UserChange::Enable { name } => name,
        }
    }
}

fn user_error(error: crate::auth::TokenError) -> RequestError {
    match error {
        crate::auth::TokenError::Usage(message) => RequestError::InvalidArgument(message),
        crate::auth::TokenError::Database(error) => {
            tracing::error!(%error, "user table");
            RequestError::Unavailable("the user table cannot be read now; try again later".into())
        }
    }
}

fn audit_unavailable(error: lienthong_audit::AuditError) -> RequestError {
    tracing::error!(%error, "audit entry not written; answer withheld");
    RequestError::Unavailable("the gateway cannot write its audit log; try again later".into())
}

/// Whether a failure is a refusal (by the gateway, or by a node's policy).
fn is_denial(error: &RequestError) -> bool {
    match error {
        RequestError::PermissionDenied(_)
        | RequestError::Unauthenticated(_)
        | RequestError::RateLimited(_) => true,
        RequestError::RefusedByNode { refusal, .. } => matches!(
            refusal.code(),
            tonic::Code::PermissionDenied | tonic::Code::Unauthenticated
        ),
        _ => false,
    }
}

/// Removes personal fields from a record for users whose role may not see
/// them. Nodes already withhold them for such users; this makes sure.
pub fn withhold_personal_fields(record: &mut AnyRecord) {
    if let AnyRecord::Expert(expert) = record {
        withhold_from_expert(expert);
    }
}

pub fn withhold_from_expert(expert: &mut pb::Expert) {
    expert.birth_year = 0;
    expert.contact = None;
}

/// Stamps the current request's user on a node call (a tonic interceptor).
/// Off for plaintext development gateways, whose nodes cannot tell a gateway
/// from anyone else and so refuse such metadata.
#[derive(Clone, Copy)]
pub struct OnBehalf {
    pub enabled: bool,
}

impl tonic::service::Interceptor for OnBehalf {
    fn call(
        &mut self,
        mut request: tonic::Request<()>,
    ) -> Result<tonic::Request<()>, tonic::Status> {
        if !self.enabled {
            return Ok(request);
        }
        let stamped = ON_BEHALF_OF.try_with(|user| {
            let name = MetadataValue::try_from(user.name.as_str());
            let role = MetadataValue::from_static(user.role.as_str());
            (name, role)
        });
        if let Ok((name, role)) = stamped {
            let name =
                name.map_err(|_| tonic::Status::internal("user name is not valid metadata"))?;
            request.metadata_mut().insert(END_USER_HEADER, name);
            request.metadata_mut().insert(END_USER_ROLE_HEADER, role);
        }
        Ok(request)
    }
}
