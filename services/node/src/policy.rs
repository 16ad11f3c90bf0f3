//! The node's sharing policy: which peers may call which operations, on which
//! record kinds, and which personal fields they receive. Anything the policy
//! does not grant is refused.
//!
//! ```toml
//! [[grant]]
//! peers = ["gateway:national"]
//! rpcs = ["info", "search", "get", "statistics"]
//! kinds = ["expert", "project", "publication", "organization"]
//! personal_fields = ["email", "phone", "birth_year"]
//!
//! [[grant]]
//! peers = ["node:*"]            # every province node
//! rpcs = ["info", "search", "get"]
//! kinds = ["project", "publication"]
//!
//! [[grant]]
//! peers = ["node:nam-dinh", "node:quoc-gia"]
//! rpcs = ["info", "changes"]      # mirror completed tasks
//! kinds = ["project"]
//! ```
//!
//! A peer is `role:name` from its certificate, `role:*` for every holder of a
//! role, or `insecure-anonymous` for callers of a node started with
//! `--insecure-plaintext` (which have no identity). Several grants that match
//! one peer add up. Records that are internal or classified above bình thường
//! are never shared, whatever the policy says; contact details go only to
//! experts' consenting records.

use std::collections::BTreeSet;
use std::fmt;
use std::path::Path;

use lienthong_records::RecordKind;
use lienthong_runtime::identity::{PeerIdentity, PeerRole};
use serde::Deserialize;

/// The pattern that matches callers without an identity (plaintext only).
pub const INSECURE_ANONYMOUS: &str = "insecure-anonymous";
/// The pattern that matches harvesters without credentials (OAI-PMH only).
pub const PUBLIC: &str = "public";

/// A group of operations the policy grants.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Operation {
    Info,
    Search,
    Get,
    Statistics,
    /// The change feed (`ListChanges`), for subscribers that mirror records.
    Changes,
    /// OAI-PMH harvesting (`/oai` on the HTTPS listener).
    Harvest,
    /// Writing the node's own records through the Ingest API: only for
    /// `system:` identities, the department's own management systems.
    Ingest,
}

impl Operation {
    const ALL: [Operation; 7] = [
        Operation::Info,
        Operation::Search,
        Operation::Get,
        Operation::Statistics,
        Operation::Changes,
        Operation::Harvest,
        Operation::Ingest,
    ];

    /// Operations decided by the grants that name them alone: kinds and
    /// fields granted for anything else do not carry over. The change feed
    /// copies in bulk; ingest writes.
    pub fn stands_alone(self) -> bool {
        matches!(self, Operation::Changes | Operation::Ingest)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Operation::Info => "info",
            Operation::Search => "search",
            Operation::Get => "get",
            Operation::Statistics => "statistics",
            Operation::Changes => "changes",
            Operation::Harvest => "harvest",
            Operation::Ingest => "ingest",
        }
    }
}

/// A personal-data field of an expert record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum PersonalField {
    Email,
    Phone,
    BirthYear,
}

impl PersonalField {
    const ALL: [PersonalField; 3] = [
        PersonalField::Email,
        PersonalField::Phone,
        PersonalField::BirthYear,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            PersonalField::Email => "email",
            PersonalField::Phone => "phone",
            PersonalField::BirthYear => "birth_year",
        }
    }
}

/// Who a grant applies to.
#[derive(Debug, Clone, PartialEq, Eq)]
enum PeerPattern {
    Exact(PeerIdentity),
    Role(PeerRole),
    InsecureAnonymous,
    /// Anonymous harvesters; they see public records only.
    Public,
}

impl PeerPattern {
    fn parse(text: &str) -> Result<PeerPattern, String> {
        if text == INSECURE_ANONYMOUS {
            return Ok(PeerPattern::InsecureAnonymous);
        }
        if text == PUBLIC {
            return Ok(PeerPattern::Public);
        }
        if let Some(role) = text.strip_suffix(":*") {
            return Ok(PeerPattern::Role(role.parse()?));
        }
        text.parse().map(PeerPattern::Exact).map_err(|error| {
            format!(
                "{error}; or write \"role:*\" for every peer of a role, \"{PUBLIC}\" for \
                 anonymous harvesters, or \"{INSECURE_ANONYMOUS}\""
            )
        })
    }

    fn is_system(&self) -> bool {
        match self {
            PeerPattern::Exact(identity) => identity.role == PeerRole::System,
            PeerPattern::Role(role) => *role == PeerRole::System,
            PeerPattern::InsecureAnonymous | PeerPattern::Public => false,
        }
    }

    fn matches(&self, caller: Option<&PeerIdentity>) -> bool {
        match (self, caller) {
            (PeerPattern::Exact(identity), Some(caller)) => identity == caller,
            (PeerPattern::Role(role), Some(caller)) => *role == caller.role,
            (PeerPattern::InsecureAnonymous, None) => true,
            // Only [`SharingPolicy::public_permissions`] asks for these.
            _ => false,
        }
    }
}

/// One `[[grant]]` as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct GrantText {
    peers: Vec<String>,
    rpcs: Vec<String>,
    #[serde(default)]
    kinds: Vec<String>,
    #[serde(default)]
    personal_fields: Vec<String>,
    #[serde(default)]
    public_mirrors: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PolicyText {
    #[serde(default)]
    grant: Vec<GrantText>,
}

#[derive(Debug, Clone)]
struct Grant {
    peers: Vec<PeerPattern>,
    operations: BTreeSet<Operation>,
    kinds: BTreeSet<RecordKind>,
    personal_fields: BTreeSet<PersonalField>,
    public_mirrors: bool,
}

/// A parsed sharing policy.
#[derive(Debug, Clone, Default)]
pub struct SharingPolicy {
    grants: Vec<Grant>,
}

/// What one caller may do: the union of the grants that match it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Permissions {
    pub operations: BTreeSet<Operation>,
    pub kinds: BTreeSet<RecordKind>,
    pub personal_fields: BTreeSet<PersonalField>,
    /// The kinds whose mirrors (public at their origin) searches may also
    /// take: those of the grants that say `public_mirrors`.
    pub public_mirror_kinds: BTreeSet<RecordKind>,
}

/// Why a call was refused; the message is sent to the caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Denial(pub String);

impl fmt::Display for Denial {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Why a policy file could not be used; names the file and the key.
#[derive(Debug, thiserror::Error)]
#[error("sharing policy {path}: {problem}")]
pub struct PolicyError {
    pub path: String,
    pub problem: String,
}

impl SharingPolicy {
    /// The policy that grants nothing: every call is refused.
    pub fn deny_all() -> SharingPolicy {
        SharingPolicy::default()
    }

    /// Reads and checks a policy file.
    pub fn load(path: &Path) -> Result<SharingPolicy, PolicyError> {
        let error = |problem: String| PolicyError {
            path: path.display().to_string(),
            problem,
        };
        let text =
            std::fs::read_to_string(path).map_err(|e| error(format!("cannot read it: {e}")))?;
        SharingPolicy::parse(&text).map_err(error)
    }

    /// Parses policy TOML; an error names the key (`grant[2].kinds`).
    pub fn parse(text: &str) -> Result<SharingPolicy, String> {
        let parsed: PolicyText = toml::from_str(text).map_err(|error| error.to_string())?;
        let mut grants = Vec::new();
        for (index, grant) in parsed.grant.into_iter().enumerate() {
            let key = |field: &str| format!("grant[{}].{field}", index + 1);
            let peers = grant
                .peers
                .iter()
                .map(|peer| PeerPattern::parse(peer).map_err(|e| format!("{}: {e}", key("peers"))))
                .collect::<Result<Vec<_>, _>>()?;
            if peers.is_empty() {
                return Err(format!("{}: name at least one peer", key("peers")));
            }
            let operations = parse_names(&grant.rpcs, &Operation::ALL, Operation::as_str)
                .map_err(|e| format!("{}: {e}", key("rpcs")))?;
            let kinds = parse_names(&grant.kinds, &RecordKind::ALL, |kind| kind.as_str())
                .map_err(|e| format!("{}: {e}", key("kinds")))?;
            let personal_fields = parse_names(
                &grant.personal_fields,
                &PersonalField::ALL,
                PersonalField::as_str,
            )
            .map_err(|e| format!("{}: {e}", key("personal_fields")))?;
            let serves_mirrors =
                operations.contains(&Operation::Search) || operations.contains(&Operation::Harvest);
            if grant.public_mirrors && !serves_mirrors {
                return Err(format!(
                    "{}: public mirrors are served through search and harvesting; add \"search\" \
                     or \"harvest\" to {} or drop it",
                    key("public_mirrors"),
                    key("rpcs")
                ));
            }
            if peers.contains(&PeerPattern::Public)
                && operations
                    .iter()
                    .any(|operation| *operation != Operation::Harvest)
            {
                return Err(format!(
                    "{}: \"{PUBLIC}\" (anonymous harvesters) can only be granted \"harvest\"; \
                     give other operations a grant of their own",
                    key("rpcs")
                ));
            }
            if peers.contains(&PeerPattern::Public) && !personal_fields.is_empty() {
                return Err(format!(
                    "{}: personal data never goes to anonymous harvesters; remove it",
                    key("personal_fields")
                ));
            }
            if operations.contains(&Operation::Ingest)
                && let Some((peer, _)) = grant
                    .peers
                    .iter()
                    .zip(&peers)
                    .find(|(_, pattern)| !pattern.is_system())
            {
                return Err(format!(
                    "{}: \"ingest\" writes this node's records and is only for the department's \
                     own systems (\"system:<name>\" or \"system:*\"), not {peer:?}; give it a grant of \
                     its own",
                    key("peers")
                ));
            }
            if operations.contains(&Operation::Ingest) && kinds.is_empty() {
                return Err(format!(
                    "{}: name the record kinds the system may write",
                    key("kinds")
                ));
            }
            grants.push(Grant {
                peers,
                operations,
                kinds,
                personal_fields,
                public_mirrors: grant.public_mirrors,
            });
        }
        Ok(SharingPolicy { grants })
    }

    /// What `caller` (`None` for a plaintext caller) may do.
    pub fn permissions(&self, caller: Option<&PeerIdentity>) -> Permissions {
        self.permissions_through(caller, None)
    }

    /// As [`SharingPolicy::permissions`], counting only the grants that
    /// include `operation`. The change feed is decided so: it copies in
    /// bulk, so kinds and personal fields granted for search or get alone do
    /// not flow into it.
    pub fn permissions_through(
        &self,
        caller: Option<&PeerIdentity>,
        operation: Option<Operation>,
    ) -> Permissions {
        let mut permissions = Permissions::default();
        for grant in &self.grants {
            let through = operation.is_none_or(|operation| grant.operations.contains(&operation));
            if through && grant.peers.iter().any(|pattern| pattern.matches(caller)) {
                permissions.operations.extend(&grant.operations);
                permissions.kinds.extend(&grant.kinds);
                permissions.personal_fields.extend(&grant.personal_fields);
                if grant.public_mirrors {
                    permissions.public_mirror_kinds.extend(&grant.kinds);
                }
            }
        }
        permissions
    }
}

impl SharingPolicy {
    /// What anonymous harvesters may do: the grants that name `"public"`.
    pub fn public_permissions(&self) -> Permissions {
        let mut permissions = Permissions::default();
        for grant in &self.grants {
            if grant.peers.contains(&PeerPattern::Public) {
                permissions.operations.extend(&grant.operations);
                permissions.kinds.extend(&grant.kinds);
                if grant.public_mirrors {
                    permissions.public_mirror_kinds.extend(&grant.kinds);
                }
            }
        }
        permissions
    }
}

impl Permissions {
    /// Whether `operation` on `kind` (if it concerns one) is granted.
    pub fn check(
        &self,
        caller: &str,
        operation: Operation,
        kind: Option<RecordKind>,
    ) -> Result<(), Denial> {
        if !self.operations.contains(&operation) {
            return Err(Denial(format!(
                "the sharing policy does not grant {caller} the \"{}\" operation",
                operation.as_str()
            )));
        }
        if let Some(kind) = kind
            && !self.kinds.contains(&kind)
        {
            return Err(Denial(match operation {
                Operation::Ingest => format!(
                    "the sharing policy does not let {caller} write {kind} records (an \"ingest\" \
                     grant naming them)"
                ),
                _ => format!("the sharing policy does not share {kind} records with {caller}"),
            }));
        }
        Ok(())
    }
}

fn parse_names<T: Copy + Ord>(
    names: &[String],
    all: &[T],
    name_of: impl Fn(T) -> &'static str,
) -> Result<BTreeSet<T>, String> {
    names
        .iter()
        .map(|name| {
            all.iter()
                .copied()
                .find(|item| name_of(*item) == name)
                .ok_or_else(|| {
                    let known: Vec<&str> = all.iter().map(|item| name_of(*item)).collect();
                    format!("{name:?} is not one of {}", known.join(", "))
                })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn identity(text: &str) -> PeerIdentity {
        text.parse().unwrap()
    }

    const POLICY: &str = r#"
        [[grant]]
        peers = ["gateway:national"]
        rpcs = ["search", "get"]
        kinds = ["expert"]
        personal_fields = ["email"]

        [[grant]]
        peers = ["node:*", "gateway:national"]
        rpcs = ["info"]
        kinds = ["project"]
    "#;

    #[test]
    fn grants_add_up_per_peer() {
        let policy = SharingPolicy::parse(POLICY).unwrap();
        let gateway = policy.permissions(Some(&identity("gateway:national")));
        assert!(
            gateway
                .check("g", Operation::Search, Some(RecordKind::Expert))
                .is_ok()
        );
        assert!(gateway.check("g", Operation::Info, None).is_ok());
        assert!(
            gateway
                .check("g", Operation::Search, Some(RecordKind::Project))
                .is_ok()
        );
        assert!(gateway.check("g", Operation::Statistics, None).is_err());
        assert_eq!(
            gateway.personal_fields,
            BTreeSet::from([PersonalField::Email])
        );

        let node = policy.permissions(Some(&identity("node:nam-dinh")));
        assert!(node.check("n", Operation::Info, None).is_ok());
        assert!(
            node.check("n", Operation::Search, Some(RecordKind::Project))
                .is_err()
        );
        assert!(node.personal_fields.is_empty());
    }

    #[test]
    fn public_mirrors_go_onward_only_to_the_peers_whose_grant_says_so() {
        let policy = SharingPolicy::parse(POLICY).unwrap();
        assert!(
            policy
                .permissions(Some(&identity("gateway:national")))
                .public_mirror_kinds
                .is_empty()
        );
        let onward = SharingPolicy::parse(
            "[[grant]]\npeers = [\"gateway:national\"]\nrpcs = [\"search\"]\n\
             kinds = [\"project\"]\npublic_mirrors = true\n",
        )
        .unwrap();
        assert_eq!(
            onward
                .permissions(Some(&identity("gateway:national")))
                .public_mirror_kinds,
            BTreeSet::from([RecordKind::Project])
        );
        assert!(
            onward
                .permissions(Some(&identity("node:nam-dinh")))
                .public_mirror_kinds
                .is_empty()
        );
        let error = SharingPolicy::parse(
            "[[grant]]\npeers = [\"node:*\"]\nrpcs = [\"changes\"]\npublic_mirrors = true\n",
        )
        .unwrap_err();
        assert!(error.contains("grant[1].public_mirrors"), "{error}");
    }

    #[test]
    fn unknown_peers_and_plaintext_callers_get_nothing() {
        let policy = SharingPolicy::parse(POLICY).unwrap();
        assert_eq!(
            policy.permissions(Some(&identity("staff:an"))),
            Permissions::default()
        );
        assert_eq!(
            policy.permissions(Some(&identity("gateway:other"))),
            Permissions::default()
        );
        assert_eq!(policy.permissions(None), Permissions::default());
        assert_eq!(
            SharingPolicy::deny_all().permissions(None),
            Permissions::default()
        );
    }

    #[test]
    fn errors_name_the_key() {
        let bad = |text: &str| SharingPolicy::parse(text).unwrap_err();
        assert!(bad("[[grant]]\npeers = [\"nodes:x\"]\nrpcs = []").contains("grant[1].peers"));
        assert!(
            bad("[[grant]]\npeers = [\"node:x\"]\nrpcs = [\"delete\"]").contains("grant[1].rpcs")
        );
        assert!(
            bad("[[grant]]\npeers = [\"node:x\"]\nrpcs = []\nkinds = [\"experts\"]")
                .contains("grant[1].kinds")
        );
        assert!(
            bad("[[grant]]\npeers = [\"node:x\"]\nrpcs = []\npersonal_fields = [\"address\"]")
                .contains("grant[1].personal_fields")
        );
        assert!(bad("[[grants]]").contains("grants"));
    }

    #[test]
    fn only_systems_are_granted_ingest_and_only_for_kinds_named() {
        for (peers, kinds, key) in [
            (r#"["node:*"]"#, r#"["expert"]"#, "grant[1].peers"),
            (
                r#"["system:erp", "gateway:national"]"#,
                r#"["expert"]"#,
                "grant[1].peers",
            ),
            (
                r#"["insecure-anonymous"]"#,
                r#"["expert"]"#,
                "grant[1].peers",
            ),
            (r#"["public"]"#, r#"["expert"]"#, "grant[1]"),
            (r#"["system:erp"]"#, "[]", "grant[1].kinds"),
        ] {
            let text =
                format!("[[grant]]\npeers = {peers}\nrpcs = [\"ingest\"]\nkinds = {kinds}\n");
            let error = SharingPolicy::parse(&text).unwrap_err();
            assert!(error.contains(key), "{peers}: {error}");
        }
        let policy = SharingPolicy::parse(
            "[[grant]]\npeers = [\"system:*\"]\nrpcs = [\"ingest\"]\nkinds = [\"project\"]\n\
             [[grant]]\npeers = [\"system:erp\"]\nrpcs = [\"search\"]\nkinds = [\"expert\"]\n",
        )
        .unwrap();
        let erp = identity("system:erp");
        let writing = policy.permissions_through(Some(&erp), Some(Operation::Ingest));
        assert!(
            writing
                .check("s", Operation::Ingest, Some(RecordKind::Project))
                .is_ok()
        );
        // Reading experts does not let the system write them.
        assert!(
            writing
                .check("s", Operation::Ingest, Some(RecordKind::Expert))
                .is_err()
        );
    }

    #[test]
    fn anonymous_harvesters_get_only_the_public_grants_and_only_harvest() {
        let policy = SharingPolicy::parse(
            r#"
            [[grant]]
            peers = ["public"]
            rpcs = ["harvest"]
            kinds = ["project", "publication"]
            public_mirrors = true

            [[grant]]
            peers = ["system:vista"]
            rpcs = ["harvest"]
            kinds = ["expert"]
            "#,
        )
        .unwrap();
        let public = policy.public_permissions();
        assert!(
            public
                .check("public", Operation::Harvest, Some(RecordKind::Project))
                .is_ok()
        );
        assert!(
            public
                .check("public", Operation::Harvest, Some(RecordKind::Expert))
                .is_err()
        );
        assert_eq!(
            public.public_mirror_kinds,
            BTreeSet::from([RecordKind::Project, RecordKind::Publication])
        );
        // "public" matches no identified caller, nor a plaintext one.
        assert!(
            policy
                .permissions(Some(&identity("system:other")))
                .kinds
                .is_empty()
        );
        assert!(policy.permissions(None).kinds.is_empty());
        assert!(
            SharingPolicy::deny_all()
                .public_permissions()
                .operations
                .is_empty()
        );

        for (bad, key) in [
            (
                r#"peers = ["public"]
                rpcs = ["harvest", "search"]"#,
                "grant[1].rpcs",
            ),
            (
                r#"peers = ["public"]
                rpcs = ["harvest"]
                personal_fields = ["email"]"#,
                "grant[1].personal_fields",
            ),
        ] {
            let error = SharingPolicy::parse(&format!("[[grant]]\n{bad}")).unwrap_err();
            assert!(error.contains(key), "{error}");
        }
    }
}
