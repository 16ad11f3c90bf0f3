//! The one disclosure decision: what may leave this node for one caller.
//! Built once per request from the sharing policy and the caller (its
//! certificate identity and, for a gateway, the end user's role), and
//! consulted by every way out: the gRPC handlers today, and any later one
//! (change feeds, harvesting, exports) as it is. It knows nothing of gRPC.
//!
//! It decides:
//! - which operations and record kinds the caller may use ([`Disclosure::permit`]);
//! - the visibility scope: shareable records only (public or federation, and
//!   classified no higher than bình thường; the store searches nothing else),
//!   of the kinds granted;
//! - which personal fields of experts go out ([`PersonalFields`]): those the
//!   policy grants, to an end user whose role may see them, and contact details
//!   only where the expert consented;
//! - which references survive ([`Disclosure::redact`]): an id naming a record
//!   the caller may not see (hidden, deleted, of a kind not granted, or not
//!   held here) is blanked, so a shared record never points at a hidden one,
//!   and a search cannot filter by one. Names written in a shared record stay:
//!   a task's team is part of that task.

use std::collections::BTreeSet;

use lienthong_proto::v1 as pb;
use lienthong_records::{AnyRecord, RecordKind};
use lienthong_runtime::identity::PeerIdentity;
use lienthong_store::{Audience, HarvestScope, MirrorScope, Store, StoreError, StoredRecord};

use crate::policy::{Denial, Operation, Permissions, PersonalField, SharingPolicy};

/// Which personal fields of an expert record may go out.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PersonalFields {
    pub email: bool,
    pub phone: bool,
    pub birth_year: bool,
}

impl PersonalFields {
    /// Every personal field the policy can grant (consent still applies).
    pub const ALL: PersonalFields = PersonalFields {
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

/// What may leave the node for one caller.
#[derive(Debug, Clone)]
pub struct Disclosure {
    caller: String,
    permissions: Permissions,
    personal: PersonalFields,
}

impl Disclosure {
    /// The decision for `caller` (written `role:name`), whose certificate
    /// carries `identity` (`None` on a plaintext development node), acting for
    /// an end user who may (or may not) see personal fields.
    pub fn decide(
        policy: &SharingPolicy,
        identity: Option<&PeerIdentity>,
        caller: &str,
        end_user_sees_personal_fields: bool,
    ) -> Disclosure {
        Disclosure::decide_for(
            policy,
            identity,
            caller,
            end_user_sees_personal_fields,
            None,
        )
    }

    /// As [`Disclosure::decide`], from only the grants that include
    /// `operation` when one is given (see [`SharingPolicy::permissions_through`]).
    pub fn decide_for(
        policy: &SharingPolicy,
        identity: Option<&PeerIdentity>,
        caller: &str,
        end_user_sees_personal_fields: bool,
        operation: Option<Operation>,
    ) -> Disclosure {
        let permissions = policy.permissions_through(identity, operation);
        let granted =
            |field| end_user_sees_personal_fields && permissions.personal_fields.contains(&field);
        let personal = PersonalFields {
            email: granted(PersonalField::Email),
            phone: granted(PersonalField::Phone),
            birth_year: granted(PersonalField::BirthYear),
        };
        Disclosure {
            caller: caller.to_owned(),
            permissions,
            personal,
        }
    }

    /// Whether `operation` on `kind` (if it concerns one) is granted.
    pub fn permit(&self, operation: Operation, kind: Option<RecordKind>) -> Result<(), Denial> {
        self.permissions.check(&self.caller, operation, kind)
    }

    /// The record kinds the caller may see.
    pub fn kinds(&self) -> &BTreeSet<RecordKind> {
        &self.permissions.kinds
    }

    /// What this caller may see, in a stable form: when it changes (a new
    /// sharing policy), what a subscriber mirrors may no longer be right.
    pub fn scope(&self) -> String {
        let kinds: Vec<&str> = self.kinds().iter().map(|kind| kind.as_str()).collect();
        let PersonalFields {
            email,
            phone,
            birth_year,
        } = self.personal;
        format!(
            "kinds={} email={email} phone={phone} birth_year={birth_year}",
            kinds.join(",")
        )
    }

    /// Which mirrors of `kind` a search that asks for them
    /// (`include_mirrors`) takes: those public at their origin, when a grant
    /// of that kind says `public_mirrors`; otherwise none. A node's mirrors
    /// never go onward otherwise.
    pub fn mirror_scope(&self, requested: bool, kind: RecordKind) -> MirrorScope {
        if requested && self.permissions.public_mirror_kinds.contains(&kind) {
            MirrorScope::Public
        } else {
            MirrorScope::None
        }
    }

    /// The personal fields that go out.
    pub fn personal_fields(&self) -> PersonalFields {
        self.personal
    }

    /// Refuses a search whose hits would disclose what the caller may not
    /// see: year filters on experts select by birth year.
    pub fn check_search(&self, kind: RecordKind, filters_by_year: bool) -> Result<(), Denial> {
        if kind == RecordKind::Expert && filters_by_year && !self.personal.birth_year {
            return Err(Denial(
                "year filters on experts select by birth year, which the sharing policy does \
                 not disclose to this caller; remove year_from and year_to"
                    .into(),
            ));
        }
        Ok(())
    }

    /// Whether the experts' by-year statistics may go out: they are a
    /// histogram of birth years.
    pub fn discloses_years_of(&self, kind: RecordKind) -> bool {
        kind != RecordKind::Expert || self.personal.birth_year
    }

    /// Whether a stored record may go out at all.
    pub fn releases(&self, stored: &StoredRecord) -> bool {
        stored.shareable && self.kinds().contains(&stored.record.kind())
    }

    /// Whether a search may filter by `organization_id`: only when the caller
    /// could see that organization. Otherwise the search matches nothing, so
    /// the filter cannot tell which hidden organization hosts whom.
    pub async fn may_filter_by_organization(
        &self,
        store: &Store,
        organization_id: &str,
    ) -> Result<bool, StoreError> {
        if organization_id.is_empty() {
            return Ok(true);
        }
        let visible = store
            .visible_among(&[organization_id], self.kinds())
            .await?;
        Ok(visible.contains(organization_id))
    }

    /// Prepares records to leave: personal fields withheld as decided, and
    /// every reference to a record the caller may not see blanked.
    pub async fn redact<'a>(
        &self,
        store: &Store,
        records: impl IntoIterator<Item = &'a mut AnyRecord>,
    ) -> Result<(), StoreError> {
        self.redact_for(store, Reader::Caller, records).await
    }

    /// The decision for an anonymous harvester: the grants that name
    /// `"public"`, and nothing personal (its scope holds public records
    /// only, [`Disclosure::harvest_scope`]).
    pub fn decide_public(policy: &SharingPolicy) -> Disclosure {
        Disclosure {
            caller: crate::policy::PUBLIC.to_owned(),
            permissions: policy.public_permissions(),
            personal: PersonalFields::default(),
        }
    }

    /// What a harvest may take for this caller: its granted kinds of the
    /// node's own records (public ones only for an anonymous harvester),
    /// and the public mirrors its grants let go onward.
    pub fn harvest_scope(&self, audience: Audience) -> HarvestScope {
        HarvestScope {
            kinds: self.permissions.kinds.clone(),
            audience,
            mirror_kinds: self.permissions.public_mirror_kinds.clone(),
            origin: None,
            field: None,
        }
    }

    /// As [`Disclosure::redact`] for harvested records, where a reference
    /// survives only when the same harvester can get the record it names.
    pub async fn redact_harvested<'a>(
        &self,
        store: &Store,
        scope: &HarvestScope,
        records: impl IntoIterator<Item = &'a mut AnyRecord>,
    ) -> Result<(), StoreError> {
        self.redact_for(store, Reader::Harvester(scope), records)
            .await
    }

    /// Redacts `records` for `reader`: a reference survives only when that
    /// reader could get the record it names.
    async fn redact_for<'a>(
        &self,
        store: &Store,
        reader: Reader<'_>,
        records: impl IntoIterator<Item = &'a mut AnyRecord>,
    ) -> Result<(), StoreError> {
        let mut records: Vec<&mut AnyRecord> = records.into_iter().collect();
        let referenced = references_of(&records);
        let referenced: Vec<&str> = referenced.iter().map(String::as_str).collect();
        let visible = match (referenced.is_empty(), reader) {
            (true, _) => Default::default(),
            (false, Reader::Caller) => store.visible_among(&referenced, self.kinds()).await?,
            (false, Reader::Harvester(scope)) => {
                store.harvestable_among(scope, &referenced).await?
            }
        };
        self.apply(store, &visible, &mut records);
        Ok(())
    }

    fn apply(
        &self,
        store: &Store,
        visible: &std::collections::HashSet<String>,
        records: &mut [&mut AnyRecord],
    ) {
        for record in records {
            record.retain_references(|id| visible.contains(id));
            let own = store.holds_own(record.id());
            if let AnyRecord::Expert(expert) = record {
                if own {
                    self.personal.apply(expert);
                } else {
                    // Another node's expert (a mirror): its origin decided
                    // what this node saw, not what goes onward. Nothing
                    // personal does.
                    PersonalFields::default().apply(expert);
                }
            }
        }
    }
}

/// Who records are redacted for: the caller of a call, or a harvester
/// (which can get only what its harvest scope holds).
#[derive(Clone, Copy)]
enum Reader<'a> {
    Caller,
    Harvester(&'a HarvestScope),
}

fn references_of(records: &[&mut AnyRecord]) -> Vec<String> {
    records
        .iter()
        .flat_map(|record| record.references())
        .map(str::to_owned)
        .collect()
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
        PersonalFields::default().apply(&mut e);
        assert_eq!((e.birth_year, e.contact), (0, None));
    }

    #[test]
    fn contact_only_with_consent() {
        let mut without = expert(false);
        PersonalFields::ALL.apply(&mut without);
        assert_eq!((without.birth_year, without.contact), (1970, None));
        let mut with = expert(true);
        PersonalFields {
            phone: false,
            ..PersonalFields::ALL
        }
        .apply(&mut with);
        let contact = with.contact.unwrap();
        assert_eq!(
            (contact.email.as_str(), contact.phone.as_str()),
            ("a@b.vn", "")
        );
    }

    #[test]
    fn viewers_get_no_personal_fields_whatever_the_grant() {
        let policy = SharingPolicy::parse(
            r#"
            [[grant]]
            peers = ["gateway:national"]
            rpcs = ["search"]
            kinds = ["expert"]
            personal_fields = ["email", "phone", "birth_year"]
            "#,
        )
        .unwrap();
        let gateway: PeerIdentity = "gateway:national".parse().unwrap();
        let officer = Disclosure::decide(&policy, Some(&gateway), "gateway:national", true);
        assert_eq!(officer.personal_fields(), PersonalFields::ALL);
        let viewer = Disclosure::decide(&policy, Some(&gateway), "gateway:national", false);
        assert_eq!(viewer.personal_fields(), PersonalFields::default());
        assert!(viewer.check_search(RecordKind::Expert, true).is_err());
        assert!(viewer.check_search(RecordKind::Project, true).is_ok());
        assert!(!viewer.discloses_years_of(RecordKind::Expert));
        let stranger: PeerIdentity = "node:ha-noi".parse().unwrap();
        let refused = Disclosure::decide(&policy, Some(&stranger), "node:ha-noi", true);
        assert!(
            refused
                .permit(Operation::Search, Some(RecordKind::Expert))
                .is_err()
        );
        assert!(refused.kinds().is_empty());
    }
}
