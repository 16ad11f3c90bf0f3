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

use crate::auth::{AuthError, Authenticator, Credentials, EndUser, UserRole};
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

    /// The gateway's audit entries since `since`, by outcome and caller.
    pub async fn summary(
        &self,
        since: time::OffsetDateTime,
    ) -> Result<lienthong_audit::Summary, RequestError> {
        lienthong_audit::summary(&self.database, since)
            .await
            .map_err(|error| RequestError::Unavailable(format!("audit summary: {error}")))
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
