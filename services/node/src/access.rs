//! Every call from another party passes here twice: [`Access::admit`] before
//! the work (who is calling, for whom, and may they), and [`Access::finish`]
//! after it (the audit entry, committed before the answer leaves).
//!
//! - The caller is the identity in its client certificate, or
//!   `insecure-anonymous` on a plaintext development node.
//! - Only a caller whose certificate role is `gateway` may say it acts for an
//!   end user (the `x-lienthong-end-user` and `x-lienthong-end-user-role`
//!   metadata); from anyone else the call is refused.
//! - What may leave for the caller is one [`Disclosure`], decided here from
//!   the policy and the caller, and used by every handler.
//! - A refusal is PermissionDenied with the reason, and is audited: the first
//!   from a caller in an interval in full, the rest counted
//!   ([`RefusalLog`]).
//! - If the audit entry cannot be written, nothing is returned.
//! - The request as audited is at most a few KB ([`lienthong_audit::request_text`]).

use lienthong_audit::{AuditEntry, AuditWriter, Outcome, RefusalLog};
use lienthong_records::RecordKind;
use lienthong_runtime::identity::{PeerIdentity, PeerRole};
use lienthong_runtime::tls::PeerInfo;
use tonic::{Code, Request, Status};

use crate::disclosure::Disclosure;
use crate::policy::{INSECURE_ANONYMOUS, Operation, SharingPolicy};

/// The end user a gateway acts for.
pub const END_USER_HEADER: &str = "x-lienthong-end-user";
/// That user's role at the gateway: `viewer`, `officer` or `admin`.
pub const END_USER_ROLE_HEADER: &str = "x-lienthong-end-user-role";

/// An admitted call, waiting for its outcome.
pub struct Admitted {
    caller: String,
    /// The caller presented a gateway's certificate (gRPC only).
    gateway: bool,
    end_user: String,
    /// Whom refusals are counted under: the caller, and the end user only
    /// when a gateway vouches for it (anyone else could vary it at will).
    source: String,
    action: &'static str,
    request: String,
    /// What may leave for this caller.
    pub disclosure: Disclosure,
}

impl Admitted {
    /// The caller's identity (`system:erp`), as audited.
    pub fn caller(&self) -> &str {
        &self.caller
    }

    /// Whether the caller is a federation gateway, by its certificate's
    /// identity role.
    pub fn is_gateway(&self) -> bool {
        self.gateway
    }

    /// The caller and the end user it acts for, as one string: what page
    /// tokens are bound to.
    pub fn who(&self) -> String {
        format!("{} {}", self.caller, self.end_user)
    }
}

/// Who is harvesting, as the HTTPS listener found out.
#[derive(Debug, Clone)]
pub enum Harvester {
    /// No credentials: the grants naming `"public"`. `network` is the
    /// client's network, which refusals are counted under.
    Public { network: String },
    /// A client certificate's identity, or the one a harvester token stands for.
    Identified(PeerIdentity),
    /// Credentials that did not check out (`reason` says how to fix them).
    Unknown { network: String, reason: String },
}

/// Policy and audit for one node.
#[derive(Clone)]
pub struct Access {
    policy: std::sync::Arc<SharingPolicy>,
    audit: AuditWriter,
    refusals: RefusalLog,
}

impl Access {
    pub fn new(policy: SharingPolicy, audit: AuditWriter, refusals: RefusalLog) -> Access {
        Access {
            policy: std::sync::Arc::new(policy),
            audit,
            refusals,
        }
    }

    /// The log refusals are counted in (also for calls refused before they
    /// reach a handler).
    pub fn refusals(&self) -> &RefusalLog {
        &self.refusals
    }

    /// Identifies the caller and checks the policy; a refusal is audited and
    /// returned as PermissionDenied (or InvalidArgument for malformed
    /// end-user metadata).
    pub async fn admit<T: serde::Serialize>(
        &self,
        request: &Request<T>,
        action: &'static str,
        operation: Operation,
        kind: Option<RecordKind>,
    ) -> Result<Admitted, Status> {
        self.admit_summarized(request, request.get_ref(), action, operation, kind)
            .await
    }

    /// As [`Access::admit`], auditing `summary` in place of the request
    /// (for requests that carry records, whose content the audit log need
    /// not copy).
    pub async fn admit_summarized<T>(
        &self,
        request: &Request<T>,
        summary: &impl serde::Serialize,
        action: &'static str,
        operation: Operation,
        kind: Option<RecordKind>,
    ) -> Result<Admitted, Status> {
        let peer = request.extensions().get::<PeerInfo>();
        let identity = peer.and_then(|peer| peer.identity.clone());
        let secure = peer.is_some_and(|peer| peer.secure);
        let caller = match &identity {
            Some(identity) => identity.to_string(),
            // A certificate the CA signed but without (exactly one) federation
            // identity: not anonymous, unknown.
            None if secure => "unidentified certificate".to_owned(),
            None => INSECURE_ANONYMOUS.to_owned(),
        };
        let metadata = request.metadata();
        let header = |name: &str| {
            metadata
                .get(name)
                .map(|value| value.to_str().map(str::to_owned).unwrap_or_default())
        };
        let end_user = header(END_USER_HEADER);
        let end_user_role = header(END_USER_ROLE_HEADER);
        let is_gateway = identity
            .as_ref()
            .is_some_and(|id| id.role == PeerRole::Gateway);
        let source = match (&end_user, is_gateway) {
            (Some(user), true) => format!("{caller} {user}"),
            _ => caller.clone(),
        };
        let mut admitted = Admitted {
            caller: caller.clone(),
            gateway: is_gateway,
            end_user: end_user.clone().unwrap_or_default(),
            source,
            action,
            request: lienthong_audit::request_text(summary),
            disclosure: Disclosure::decide(&SharingPolicy::deny_all(), None, &caller, false),
        };

        let acts_for_user = end_user.is_some() || end_user_role.is_some();
        if acts_for_user && !is_gateway {
            let status = Status::permission_denied(format!(
                "{caller} may not act for an end user: only a federation gateway may send \
                 {END_USER_HEADER}; remove it"
            ));
            return Err(self.refuse(admitted, status).await);
        }
        let end_user_may_see_personal = match end_user_role.as_deref() {
            None | Some("officer") | Some("admin") => true,
            Some("viewer") => false,
            Some(other) => {
                let status = Status::invalid_argument(format!(
                    "{END_USER_ROLE_HEADER} {other:?} is not viewer, officer or admin"
                ));
                return Err(self.refuse(admitted, status).await);
            }
        };
        if acts_for_user && end_user.as_deref().is_none_or(str::is_empty) {
            let status = Status::invalid_argument(format!(
                "{END_USER_ROLE_HEADER} was sent without {END_USER_HEADER}; name the user"
            ));
            return Err(self.refuse(admitted, status).await);
        }

        if secure && identity.is_none() {
            let status = Status::unauthenticated(
                "the client certificate carries no federation identity (one SAN URI \
                 urn:lienthong:<role>:<name>); issue one with `lienthong pki issue`",
            );
            return Err(self.refuse(admitted, status).await);
        }
        // The change feed copies in bulk, ingest writes: only grants that
        // name them count.
        let through = operation.stands_alone().then_some(operation);
        admitted.disclosure = Disclosure::decide_for(
            &self.policy,
            identity.as_ref(),
            &caller,
            end_user_may_see_personal,
            through,
        );
        if let Err(denial) = admitted.disclosure.permit(operation, kind) {
            return Err(self
                .refuse(admitted, Status::permission_denied(denial.0))
                .await);
        }
        Ok(admitted)
    }

    /// Admits a request on the node's HTTPS listener from `harvester`:
    /// `action` (audited as such) needing `operation`, with `arguments`; a
    /// refusal is audited and returned like a call's.
    pub async fn admit_https(
        &self,
        harvester: &Harvester,
        action: &'static str,
        operation: Operation,
        arguments: &[(String, String)],
    ) -> Result<Admitted, Status> {
        let (caller, source) = match harvester {
            Harvester::Public { network } => (crate::policy::PUBLIC.to_owned(), network.clone()),
            Harvester::Identified(identity) => (identity.to_string(), identity.to_string()),
            Harvester::Unknown { network, .. } => {
                ("unidentified harvester".to_owned(), network.clone())
            }
        };
        let mut admitted = Admitted {
            caller: caller.clone(),
            gateway: false,
            end_user: String::new(),
            source,
            action,
            request: lienthong_audit::request_text(&arguments),
            disclosure: Disclosure::decide(&SharingPolicy::deny_all(), None, &caller, false),
        };
        match harvester {
            Harvester::Unknown { reason, .. } => {
                let status = Status::unauthenticated(reason.clone());
                return Err(self.refuse(admitted, status).await);
            }
            Harvester::Public { .. } => {
                admitted.disclosure = Disclosure::decide_public(&self.policy);
            }
            Harvester::Identified(identity) => {
                admitted.disclosure = Disclosure::decide_for(
                    &self.policy,
                    Some(identity),
                    &caller,
                    true,
                    Some(operation),
                );
            }
        }
        if let Err(denial) = admitted.disclosure.permit(operation, None) {
            return Err(self
                .refuse(admitted, Status::permission_denied(denial.0))
                .await);
        }
        Ok(admitted)
    }

    /// Audits the outcome of an admitted call and passes it on. The answer
    /// goes out only once its entry is committed.
    pub async fn finish<R>(
        &self,
        admitted: Admitted,
        result: Result<(R, Vec<String>), Status>,
    ) -> Result<R, Status> {
        match result {
            Ok((response, record_ids)) => {
                self.record(&admitted, Outcome::Ok, String::new(), record_ids)
                    .await?;
                Ok(response)
            }
            Err(status) => Err(self.refuse(admitted, status).await),
        }
    }

    /// Audits a call that ends without an answer. Denials are counted per
    /// caller and interval; other errors are recorded one by one.
    async fn refuse(&self, admitted: Admitted, status: Status) -> Status {
        let outcome = outcome_of(&status);
        if outcome != Outcome::Denied {
            return match self
                .record(&admitted, outcome, status.message().to_owned(), Vec::new())
                .await
            {
                Ok(()) => status,
                Err(unavailable) => unavailable,
            };
        }
        tracing::debug!(
            caller = %admitted.caller,
            end_user = %admitted.end_user,
            action = admitted.action,
            reason = status.message(),
            "call refused"
        );
        let entry = entry(&admitted, outcome, status.message().to_owned(), Vec::new());
        match self
            .refusals
            .record(&admitted.source, code_reason(status.code()), entry)
            .await
        {
            Ok(()) => status,
            Err(error) => {
                tracing::error!(%error, "audit entry not written; answer withheld");
                Status::unavailable("the node cannot write its audit log; try again later")
            }
        }
    }

    /// Audits one part of a streamed answer (a batch of the change feed)
    /// before it leaves; an error means it must not leave.
    pub async fn audit_sent(
        &self,
        admitted: &Admitted,
        record_ids: Vec<String>,
    ) -> Result<(), Status> {
        self.record(admitted, Outcome::Ok, String::new(), record_ids)
            .await
    }

    /// Audits a refusal that comes after admission (a stream that cannot go
    /// on), and returns the status to send.
    pub async fn refused_later(&self, admitted: Admitted, status: Status) -> Status {
        self.refuse(admitted, status).await
    }

    async fn record(
        &self,
        admitted: &Admitted,
        outcome: Outcome,
        detail: String,
        record_ids: Vec<String>,
    ) -> Result<(), Status> {
        let entry = entry(admitted, outcome, detail, record_ids);
        self.audit.record(entry).await.map_err(|error| {
            tracing::error!(%error, "audit entry not written; answer withheld");
            Status::unavailable("the node cannot write its audit log; try again later")
        })
    }
}

fn entry(
    admitted: &Admitted,
    outcome: Outcome,
    detail: String,
    record_ids: Vec<String>,
) -> AuditEntry {
    AuditEntry {
        peer: admitted.caller.clone(),
        end_user: admitted.end_user.clone(),
        action: admitted.action.to_owned(),
        request: admitted.request.clone(),
        outcome,
        detail,
        record_ids,
    }
}

/// The class refusals are counted under.
fn code_reason(code: Code) -> &'static str {
    match code {
        Code::Unauthenticated => "unauthenticated",
        Code::ResourceExhausted => "rate limited",
        _ => "permission denied",
    }
}

fn outcome_of(status: &Status) -> Outcome {
    match status.code() {
        Code::PermissionDenied | Code::Unauthenticated => Outcome::Denied,
        _ => Outcome::Error,
    }
}
