//! Every call from another party passes here twice: [`Access::admit`] before
//! the work (who is calling, for whom, and may they), and [`Access::finish`]
//! after it (the audit entry, committed before the answer leaves).
//!
//! - The caller is the identity in its client certificate, or
//!   `insecure-anonymous` on a plaintext development node.
//! - Only a caller whose certificate role is `gateway` may say it acts for an
//!   end user (the `x-lienthong-end-user` and `x-lienthong-end-user-role`
//!   metadata); from anyone else the call is refused.
//! - A refusal is PermissionDenied with the reason, and is audited like every
//!   other outcome.
//! - If the audit entry cannot be written, nothing is returned.

use lienthong_audit::{AuditEntry, AuditWriter, Outcome};
use lienthong_proto::v1 as pb;
use lienthong_records::RecordKind;
use lienthong_runtime::identity::PeerRole;
use lienthong_runtime::tls::PeerInfo;
use tonic::{Code, Request, Status};

use crate::policy::{INSECURE_ANONYMOUS, Operation, PersonalField, SharingPolicy};

/// The end user a gateway acts for.
pub const END_USER_HEADER: &str = "x-lienthong-end-user";
/// That user's role at the gateway: `viewer`, `officer` or `admin`.
pub const END_USER_ROLE_HEADER: &str = "x-lienthong-end-user-role";

/// Which personal fields of an expert record may go out in this call.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Disclosure {
    pub email: bool,
    pub phone: bool,
    pub birth_year: bool,
}

impl Disclosure {
    /// Every personal field the policy can grant (consent still applies).
    pub const ALL: Disclosure = Disclosure {
        email: true,
        phone: true,
        birth_year: true,
    };

    /// Removes what may not go out. Contact details go only when the expert
    /// consented; withheld fields are absent, not empty.
    pub fn apply(self, expert: &mut pb::Expert) {
        if !self.birth_year {
            expert.birth_year = 0;
        }
        let share_contact = expert.contact_sharing_consent && (self.email || self.phone);
        if !share_contact {
            expert.contact = None;
        } else if let Some(contact) = expert.contact.as_mut() {
            if !self.email {
                contact.email.clear();
            }
            if !self.phone {
                contact.phone.clear();
            }
        }
    }
}

/// An admitted call, waiting for its outcome.
pub struct Admitted {
    caller: String,
    end_user: String,
    action: &'static str,
    request: String,
    pub disclosure: Disclosure,
    /// Record kinds the caller may see (for statistics and counts).
    pub kinds: std::collections::BTreeSet<RecordKind>,
}

/// Policy and audit for one node.
#[derive(Clone)]
pub struct Access {
    policy: std::sync::Arc<SharingPolicy>,
    audit: AuditWriter,
}

impl Access {
    pub fn new(policy: SharingPolicy, audit: AuditWriter) -> Access {
        Access {
            policy: std::sync::Arc::new(policy),
            audit,
        }
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
        let request_json = serde_json::to_string(request.get_ref()).unwrap_or_default();
        let mut admitted = Admitted {
            caller: caller.clone(),
            end_user: end_user.clone().unwrap_or_default(),
            action,
            request: request_json,
            disclosure: Disclosure::default(),
            kinds: Default::default(),
        };

        let acts_for_user = end_user.is_some() || end_user_role.is_some();
        let is_gateway = identity
            .as_ref()
            .is_some_and(|id| id.role == PeerRole::Gateway);
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
        let permissions = self.policy.permissions(identity.as_ref());
        if let Err(denial) = permissions.check(&caller, operation, kind) {
            return Err(self
                .refuse(admitted, Status::permission_denied(denial.0))
                .await);
        }
        let fields = &permissions.personal_fields;
        admitted.disclosure = if end_user_may_see_personal {
            Disclosure {
                email: fields.contains(&PersonalField::Email),
                phone: fields.contains(&PersonalField::Phone),
                birth_year: fields.contains(&PersonalField::BirthYear),
            }
        } else {
            Disclosure::default()
        };
        admitted.kinds = permissions.kinds;
        Ok(admitted)
    }

    /// Audits the outcome of an admitted call and passes it on. The answer
    /// goes out only once its entry is committed.
    pub async fn finish<R>(
        &self,
        admitted: Admitted,
        result: Result<(R, Vec<String>), Status>,
    ) -> Result<R, Status> {
        let (outcome, detail, record_ids) = match &result {
            Ok((_, ids)) => (Outcome::Ok, String::new(), ids.clone()),
            Err(status) => (outcome_of(status), status.message().to_owned(), Vec::new()),
        };
        self.record(&admitted, outcome, detail, record_ids).await?;
        result.map(|(response, _)| response)
    }

    async fn refuse(&self, admitted: Admitted, status: Status) -> Status {
        tracing::warn!(
            caller = %admitted.caller,
            end_user = %admitted.end_user,
            action = admitted.action,
            reason = status.message(),
            "call refused"
        );
        match self
            .record(
                &admitted,
                outcome_of(&status),
                status.message().to_owned(),
                Vec::new(),
            )
            .await
        {
            Ok(()) => status,
            Err(unavailable) => unavailable,
        }
    }

    async fn record(
        &self,
        admitted: &Admitted,
        outcome: Outcome,
        detail: String,
        record_ids: Vec<String>,
    ) -> Result<(), Status> {
        let entry = AuditEntry {
            peer: admitted.caller.clone(),
            end_user: admitted.end_user.clone(),
            action: admitted.action.to_owned(),
            request: admitted.request.clone(),
            outcome,
            detail,
            record_ids,
        };
        self.audit.record(entry).await.map_err(|error| {
            tracing::error!(%error, "audit entry not written; answer withheld");
            Status::unavailable("the node cannot write its audit log; try again later")
        })
    }
}

fn outcome_of(status: &Status) -> Outcome {
    match status.code() {
        Code::PermissionDenied | Code::Unauthenticated => Outcome::Denied,
        _ => Outcome::Error,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn expert(consent: bool) -> pb::Expert {
        pb::Expert {
            birth_year: 1970,
            contact: Some(pb::ContactDetails {
                email: "a@b.vn".into(),
                phone: "0912".into(),
            }),
            contact_sharing_consent: consent,
            ..Default::default()
        }
    }

    #[test]
    fn nothing_personal_by_default() {
        let mut e = expert(true);
        Disclosure::default().apply(&mut e);
        assert_eq!((e.birth_year, e.contact), (0, None));
    }

    #[test]
    fn contact_only_with_consent() {
        let all = Disclosure {
            email: true,
            phone: true,
            birth_year: true,
        };
        let mut without = expert(false);
        all.apply(&mut without);
        assert_eq!((without.birth_year, without.contact), (1970, None));
        let mut with = expert(true);
        Disclosure {
            phone: false,
            ..all
        }
        .apply(&mut with);
        let contact = with.contact.unwrap();
        assert_eq!(
            (contact.email.as_str(), contact.phone.as_str()),
            ("a@b.vn", "")
        );
    }
}
