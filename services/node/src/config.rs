//! Node configuration: a typed TOML file, overridden by `LIENTHONG_*`
//! environment variables (`LIENTHONG_DATABASE__URL` sets `database.url`).
//! Unknown keys are errors, and every error names the key.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

pub use lienthong_audit::AuditConfig;
use lienthong_runtime::config_source;
pub use lienthong_runtime::config_source::{ConfigError, LogConfig, LogFormat, Secret};
pub use lienthong_runtime::limits::ServerLimits;
pub use lienthong_runtime::tls::TlsFiles;
use serde::Deserialize;

/// The whole node configuration.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NodeConfig {
    pub node: NodeIdentity,
    pub database: DatabaseConfig,
    #[serde(default)]
    pub grpc: GrpcConfig,
    #[serde(default)]
    pub admin: AdminConfig,
    #[serde(default)]
    pub log: LogConfig,
    /// Certificates for mutual TLS; required unless started with
    /// `--insecure-plaintext`.
    #[serde(default)]
    pub tls: Option<TlsFiles>,
    #[serde(default)]
    pub sharing: SharingConfig,
    #[serde(default)]
    pub audit: AuditConfig,
    /// Connections, handshakes, streams, timeouts and per-peer budgets.
    #[serde(default)]
    pub limits: ServerLimits,
    /// The search index.
    #[serde(default)]
    pub search: SearchConfig,
    /// Peers whose change feeds this node mirrors.
    #[serde(default)]
    pub follow: Vec<FollowConfig>,
    #[serde(default)]
    pub sync: SyncConfig,
    /// The OAI-PMH endpoint; none unless configured.
    #[serde(default)]
    pub oai: Option<OaiConfig>,
    /// The Ingest API (docs/ingest.md).
    #[serde(default)]
    pub ingest: IngestConfig,
}

/// `[ingest]`: writes from the department's own systems. Who may write is
/// the sharing policy's ("ingest" grants to `system:` identities).
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IngestConfig {
    /// Largest ingest request, in bytes, over gRPC or as JSON over HTTPS.
    /// Only `system:` callers get to send one. A batch holds at most 1,000
    /// records.
    #[serde(default = "default_ingest_max_request_bytes")]
    pub max_request_bytes: usize,
}

impl Default for IngestConfig {
    fn default() -> Self {
        IngestConfig {
            max_request_bytes: default_ingest_max_request_bytes(),
        }
    }
}

fn default_ingest_max_request_bytes() -> usize {
    16 * 1024 * 1024
}

/// One peer to follow (`[[follow]]`).
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FollowConfig {
    /// The peer's node id, e.g. "nam-dinh"; its certificate must say `node:<peer>`.
    pub peer: String,
    /// The peer's gRPC address, e.g. "https://10.0.0.12:7101".
    pub endpoint: String,
    /// Record kinds to mirror. By default a province mirrors tasks
    /// (completed and every other shared one); an aggregator mirrors tasks,
    /// experts and publications.
    #[serde(default)]
    pub kinds: Option<Vec<String>>,
}

impl FollowConfig {
    /// The kinds to mirror, the role's default when none are named.
    pub fn kinds_for(&self, role: NodeRole) -> Vec<String> {
        match (&self.kinds, role) {
            (Some(kinds), _) => kinds.clone(),
            (None, NodeRole::Province) => vec!["project".into()],
            (None, NodeRole::Aggregator) => {
                vec!["project".into(), "expert".into(), "publication".into()]
            }
        }
    }
}

/// How following peers runs (`[sync]`).
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SyncConfig {
    /// Pause between polls of a caught-up peer.
    #[serde(default = "default_sync_interval_ms")]
    pub interval_ms: u64,
    /// Changes asked for per call.
    #[serde(default = "default_sync_batch")]
    pub changes_per_call: u32,
    /// Longest one call may take.
    #[serde(default = "default_sync_call_timeout_ms")]
    pub call_timeout_ms: u64,
    /// Longest wait between retries after failures (backoff doubles up to it).
    #[serde(default = "default_sync_max_backoff_ms")]
    pub max_backoff_ms: u64,
    /// How often each peer's catalog digests are compared with its mirror
    /// (and differing ranges repaired).
    #[serde(default = "default_sync_verify_interval_ms")]
    pub verify_interval_ms: u64,
    #[serde(default)]
    pub breaker: lienthong_peer_client::BreakerConfig,
}

impl Default for SyncConfig {
    fn default() -> Self {
        SyncConfig {
            interval_ms: default_sync_interval_ms(),
            changes_per_call: default_sync_batch(),
            call_timeout_ms: default_sync_call_timeout_ms(),
            max_backoff_ms: default_sync_max_backoff_ms(),
            verify_interval_ms: default_sync_verify_interval_ms(),
            breaker: Default::default(),
        }
    }
}

fn default_sync_interval_ms() -> u64 {
    1_000
}
fn default_sync_batch() -> u32 {
    10_000
}
fn default_sync_call_timeout_ms() -> u64 {
    120_000
}
fn default_sync_max_backoff_ms() -> u64 {
    300_000
}
fn default_sync_verify_interval_ms() -> u64 {
    3_600_000
}

/// The search index, derived from the database and rebuilt from it.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SearchConfig {
    /// Directory of the index. Defaults, for SQLite, to the database's path
    /// with `.index` in place of `.db`; required with PostgreSQL.
    pub index_dir: Option<PathBuf>,
    /// How often the node looks for writes made by other processes (`records
    /// load` while it runs) and indexes them. Its own writes are searchable
    /// when they return.
    #[serde(default = "default_refresh_ms")]
    pub refresh_ms: u64,
}

impl Default for SearchConfig {
    fn default() -> Self {
        SearchConfig {
            index_dir: None,
            refresh_ms: default_refresh_ms(),
        }
    }
}

fn default_refresh_ms() -> u64 {
    1_000
}

/// What the node shares, with whom.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SharingConfig {
    /// The sharing policy file (TOML). Without one, every call is refused.
    pub policy: Option<PathBuf>,
}

/// Who the node is.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NodeIdentity {
    /// Stable id, e.g. "hung-yen"; appears in every record id. Never change it.
    pub id: String,
    /// Human name, e.g. "Sở KH&CN Hưng Yên".
    pub display_name: String,
    /// `province` (the default), or `aggregator`: a node that follows every
    /// province (the national S&T information system), mirroring tasks,
    /// experts and publications by default.
    #[serde(default)]
    pub role: NodeRole,
}

/// What a node is for.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum NodeRole {
    /// A province's department: its own records, following a few peers.
    #[default]
    Province,
    /// Follows every province; its records are mostly mirrors.
    Aggregator,
}

/// Where the records live.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatabaseConfig {
    /// `sqlite://PATH` (created on first start) or `postgres://USER@HOST/DB`.
    pub url: Secret,
    #[serde(default = "default_max_connections")]
    pub max_connections: u32,
}

fn default_max_connections() -> u32 {
    8
}

/// The gRPC listener.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GrpcConfig {
    #[serde(default = "default_grpc_listen")]
    pub listen: SocketAddr,
    /// Largest request or response message, in bytes.
    #[serde(default = "default_max_message_bytes")]
    pub max_message_bytes: usize,
    /// Calls in flight per connection before new ones wait.
    #[serde(default = "default_concurrency")]
    pub concurrency_per_connection: usize,
    /// A call still running after this long is cancelled with DEADLINE_EXCEEDED.
    #[serde(default = "default_timeout_ms")]
    pub request_timeout_ms: u64,
}

impl Default for GrpcConfig {
    fn default() -> Self {
        GrpcConfig {
            listen: default_grpc_listen(),
            max_message_bytes: default_max_message_bytes(),
            concurrency_per_connection: default_concurrency(),
            request_timeout_ms: default_timeout_ms(),
        }
    }
}

fn default_grpc_listen() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 7101))
}
fn default_max_message_bytes() -> usize {
    4 * 1024 * 1024
}
fn default_concurrency() -> usize {
    64
}
fn default_timeout_ms() -> u64 {
    10_000
}

/// The OAI-PMH endpoint (`[oai]`, docs/oai-pmh.md): `/oai` on an HTTPS
/// listener of its own, where a client certificate is optional. What
/// harvesters see is the sharing policy's: grants to `"public"` for
/// anonymous harvesters, grants naming `"harvest"` for the others.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OaiConfig {
    /// Address of the HTTPS listener, e.g. "0.0.0.0:8443".
    pub listen: SocketAddr,
    /// The URL harvesters use, as they see it (behind a proxy, say), e.g.
    /// "https://oai.skhcn.hungyen.gov.vn/oai". By default
    /// `https://<listen>/oai`.
    #[serde(default)]
    pub base_url: Option<String>,
    /// The domain-like name in OAI identifiers (`oai:<it>:<record id>`),
    /// e.g. "skhcn.hungyen.gov.vn". By default `<node.id>.lienthong.vn`.
    #[serde(default)]
    pub repository_identifier: Option<String>,
    /// By default `node.display_name`.
    #[serde(default)]
    pub repository_name: Option<String>,
    /// Who answers for the repository, e.g. "cntt@skhcn.hungyen.gov.vn".
    pub admin_email: String,
    /// Records per page of a list.
    #[serde(default = "default_oai_page_size")]
    pub page_size: u32,
    /// How long a resumption token stays good.
    #[serde(default = "default_oai_token_lifetime")]
    pub resumption_token_lifetime_seconds: u64,
    /// Requests a client network (or identified harvester) may make per
    /// minute, and at once.
    #[serde(default = "default_oai_requests_per_minute")]
    pub requests_per_minute: u32,
    #[serde(default = "default_oai_burst")]
    pub burst: u32,
    /// Requests answered at once; more get HTTP 503 with Retry-After.
    #[serde(default = "default_oai_concurrent")]
    pub max_concurrent_requests: u32,
    /// Harvesters that authenticate with a bearer token instead of a
    /// client certificate.
    #[serde(default)]
    pub harvester: Vec<HarvesterToken>,
}

/// One `[[oai.harvester]]`: a bearer token standing for an identity that
/// the sharing policy can grant `"harvest"` to.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HarvesterToken {
    /// `role:name`, e.g. "system:vista".
    pub identity: String,
    /// The SHA-256 of the token, in hex (`lienthong oai token` makes both).
    pub token_sha256: String,
}

fn default_oai_page_size() -> u32 {
    100
}
fn default_oai_token_lifetime() -> u64 {
    86_400
}
fn default_oai_requests_per_minute() -> u32 {
    600
}
fn default_oai_burst() -> u32 {
    60
}
fn default_oai_concurrent() -> u32 {
    16
}

impl OaiConfig {
    /// The base URL harvesters use.
    pub fn base_url(&self) -> String {
        self.base_url
            .clone()
            .unwrap_or_else(|| format!("https://{}/oai", self.listen))
    }

    /// The repository identifier of `node_id`'s endpoint.
    pub fn repository_identifier(&self, node_id: &str) -> String {
        self.repository_identifier
            .clone()
            .unwrap_or_else(|| format!("{node_id}.lienthong.vn"))
    }

    fn check(&self, node_id: &str) -> Result<(), ConfigError> {
        let repository = self.repository_identifier(node_id);
        let label_ok = |label: &str| {
            label.starts_with(|c: char| c.is_ascii_alphanumeric())
                && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        };
        let labels: Vec<&str> = repository.split('.').collect();
        if labels.len() < 2 || !labels.iter().all(|label| label_ok(label)) {
            return Err(ConfigError(format!(
                "key oai.repository_identifier: {repository:?} is not a domain-like name \
                 (letters, digits and hyphens, at least one dot), e.g. \"skhcn.hungyen.gov.vn\""
            )));
        }
        let email_ok = self
            .admin_email
            .split_once('@')
            .is_some_and(|(user, domain)| {
                !user.is_empty()
                    && domain.contains('.')
                    && !domain.starts_with('.')
                    && !domain.ends_with('.')
                    && !self.admin_email.contains(char::is_whitespace)
            });
        if !email_ok {
            return Err(ConfigError(format!(
                "key oai.admin_email: {:?} is not an email address",
                self.admin_email
            )));
        }
        if self.base_url.is_none() && self.listen.ip().is_unspecified() {
            return Err(ConfigError(format!(
                "key oai.base_url: required when oai.listen is {} (every address): name the \
                 URL harvesters use, e.g. \"https://oai.skhcn.hungyen.gov.vn/oai\"",
                self.listen
            )));
        }
        let base_url = self.base_url();
        if !(base_url.starts_with("https://") || base_url.starts_with("http://"))
            || base_url.contains(char::is_whitespace)
        {
            return Err(ConfigError(format!(
                "key oai.base_url: {base_url:?} is not an http(s) URL"
            )));
        }
        if !(1..=1000).contains(&self.page_size) {
            return Err(ConfigError(
                "key oai.page_size: must be between 1 and 1000".into(),
            ));
        }
        if !(60..=30 * 86_400).contains(&self.resumption_token_lifetime_seconds) {
            return Err(ConfigError(
                "key oai.resumption_token_lifetime_seconds: must be between 60 and 2592000 \
                 (30 days)"
                    .into(),
            ));
        }
        if self.requests_per_minute == 0 || self.burst == 0 || self.max_concurrent_requests == 0 {
            return Err(ConfigError(
                "key oai.requests_per_minute, oai.burst and oai.max_concurrent_requests: must be \
                 at least 1"
                    .into(),
            ));
        }
        for (index, harvester) in self.harvester.iter().enumerate() {
            let key = |field: &str| format!("key oai.harvester[{}].{field}", index + 1);
            harvester
                .identity
                .parse::<lienthong_runtime::identity::PeerIdentity>()
                .map_err(|error| ConfigError(format!("{}: {error}", key("identity"))))?;
            let hex_ok = harvester.token_sha256.len() == 64
                && harvester
                    .token_sha256
                    .bytes()
                    .all(|b| b.is_ascii_hexdigit());
            if !hex_ok {
                return Err(ConfigError(format!(
                    "{}: must be 64 hex digits, the SHA-256 of the token; `lienthong oai token \
                     --identity ROLE:NAME` makes a token and its hash",
                    key("token_sha256")
                )));
            }
        }
        Ok(())
    }
}

/// The admin HTTP listener: `/metrics` and `/healthz`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdminConfig {
    #[serde(default = "default_admin_listen")]
    pub listen: SocketAddr,
}

impl Default for AdminConfig {
    fn default() -> Self {
        AdminConfig {
            listen: default_admin_listen(),
        }
    }
}

fn default_admin_listen() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 9101))
}

impl NodeConfig {
    /// Reads `path`, then `LIENTHONG_*` environment overrides, then checks the result.
    pub fn load(path: &Path) -> Result<NodeConfig, ConfigError> {
        let config: NodeConfig = config_source::load(path)?;
        config.check()?;
        Ok(config)
    }

    /// Parses a configuration from TOML text (no environment overrides).
    pub fn from_toml(text: &str) -> Result<NodeConfig, ConfigError> {
        let config: NodeConfig = config_source::from_toml(text)?;
        config.check()?;
        Ok(config)
    }

    /// How to open this node's store.
    pub fn store_options(&self) -> lienthong_store::StoreOptions {
        lienthong_store::StoreOptions {
            url: self.database.url.expose().to_owned(),
            node_id: self.node.id.clone(),
            max_connections: self.database.max_connections,
            search_index: match self.search_index_dir() {
                Some(path) => lienthong_store::IndexLocation::Directory(path),
                None => lienthong_store::IndexLocation::Memory,
            },
        }
    }

    /// The search index directory: `search.index_dir`, or beside a SQLite
    /// database file. `None` for an in-memory database.
    pub fn search_index_dir(&self) -> Option<PathBuf> {
        if let Some(path) = &self.search.index_dir {
            return Some(path.clone());
        }
        lienthong_store::default_index_dir(self.database.url.expose())
    }

    fn check(&self) -> Result<(), ConfigError> {
        lienthong_records::identity::validate_node_id(&self.node.id)
            .map_err(|error| ConfigError(format!("key node.id: {error}")))?;
        if self.node.display_name.trim().is_empty() {
            return Err(ConfigError(
                "key node.display_name: must not be empty".into(),
            ));
        }
        lienthong_store::Backend::from_url(self.database.url.expose())
            .map_err(|error| ConfigError(format!("key database.url: {error}")))?;
        if self.ingest.max_request_bytes < 64 * 1024 {
            return Err(ConfigError(
                "key ingest.max_request_bytes: at least 65536 (64 KiB); a batch of records \
                 needs room"
                    .into(),
            ));
        }
        if self.database.max_connections == 0 {
            return Err(ConfigError(
                "key database.max_connections: must be at least 1".into(),
            ));
        }
        let postgres = lienthong_store::Backend::from_url(self.database.url.expose())
            .is_ok_and(|backend| backend == lienthong_store::Backend::Postgres);
        if postgres && self.search.index_dir.is_none() {
            return Err(ConfigError(
                "key search.index_dir: required with a PostgreSQL database; name a directory \
                 for the node's search index, e.g. \"/var/lib/lienthong/hung-yen.index\""
                    .into(),
            ));
        }
        if self.node.role == NodeRole::Aggregator && self.follow.is_empty() {
            return Err(ConfigError(
                "key node.role: an aggregator follows the provinces; add a [[follow]] entry \
                 per province"
                    .into(),
            ));
        }
        for (index, follow) in self.follow.iter().enumerate() {
            let key = |field: &str| format!("key follow[{}].{field}", index + 1);
            lienthong_records::identity::validate_node_id(&follow.peer)
                .map_err(|error| ConfigError(format!("{}: {error}", key("peer"))))?;
            if follow.peer == self.node.id {
                return Err(ConfigError(format!(
                    "{}: a node does not follow itself; name another node",
                    key("peer")
                )));
            }
            if self.follow[..index]
                .iter()
                .any(|other| other.peer == follow.peer)
            {
                return Err(ConfigError(format!(
                    "{}: {:?} is followed twice; list its kinds in one entry",
                    key("peer"),
                    follow.peer
                )));
            }
            lienthong_peer_client::transport::check_endpoint(&follow.endpoint)
                .map_err(|error| ConfigError(format!("{}: {error}", key("endpoint"))))?;
            let kinds = follow.kinds_for(self.node.role);
            if kinds.is_empty() {
                return Err(ConfigError(format!(
                    "{}: name at least one of project, expert, publication, organization",
                    key("kinds")
                )));
            }
            for kind in &kinds {
                kind.parse::<lienthong_records::RecordKind>()
                    .map_err(|error| ConfigError(format!("{}: {error}", key("kinds"))))?;
            }
        }
        if self.sync.interval_ms == 0 || self.sync.call_timeout_ms == 0 {
            return Err(ConfigError(
                "key sync.interval_ms and sync.call_timeout_ms: must be at least 1".into(),
            ));
        }
        if self.sync.changes_per_call == 0 || self.sync.changes_per_call > 100_000 {
            return Err(ConfigError(
                "key sync.changes_per_call: must be between 1 and 100000".into(),
            ));
        }
        if self.search.refresh_ms == 0 {
            return Err(ConfigError(
                "key search.refresh_ms: must be at least 1".into(),
            ));
        }
        if self.grpc.max_message_bytes < 64 * 1024 {
            return Err(ConfigError(
                "key grpc.max_message_bytes: must be at least 65536".into(),
            ));
        }
        if self.grpc.concurrency_per_connection == 0 {
            return Err(ConfigError(
                "key grpc.concurrency_per_connection: must be at least 1".into(),
            ));
        }
        if self.grpc.request_timeout_ms == 0 {
            return Err(ConfigError(
                "key grpc.request_timeout_ms: must be at least 1".into(),
            ));
        }
        if let Some(oai) = &self.oai {
            oai.check(&self.node.id)?;
        }
        self.limits.check()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINIMAL: &str = r#"
        [node]
        id = "hung-yen"
        display_name = "Sở KH&CN Hưng Yên"
        [database]
        url = "sqlite://hung-yen.db"
    "#;

    #[test]
    fn defaults_fill_the_rest() {
        let config = NodeConfig::from_toml(MINIMAL).unwrap();
        assert_eq!(config.grpc.listen.port(), 7101);
        assert_eq!(config.log.format, LogFormat::Text);
        assert_eq!(format!("{:?}", config.database.url), "Secret(***)");
    }

    #[test]
    fn the_examples_in_deploy_are_valid_and_use_tls_and_a_policy() {
        for text in [
            include_str!("../../../deploy/hung-yen.sqlite.toml"),
            include_str!("../../../deploy/hung-yen.postgres.toml"),
            include_str!("../../../deploy/nam-dinh.sqlite.toml"),
            include_str!("../../../deploy/nam-dinh.postgres.toml"),
            include_str!("../../../deploy/quoc-gia.postgres.toml"),
        ] {
            let config = NodeConfig::from_toml(text).unwrap();
            assert!(config.tls.is_some(), "{}", config.node.id);
            let policy = config.sharing.policy.unwrap();
            assert!(policy.ends_with(format!("{}.toml", config.node.id)));
        }
        for policy in [
            include_str!("../../../deploy/policies/hung-yen.toml"),
            include_str!("../../../deploy/policies/nam-dinh.toml"),
            include_str!("../../../deploy/policies/quoc-gia.toml"),
        ] {
            crate::policy::SharingPolicy::parse(policy).unwrap();
        }
    }

    #[test]
    fn follow_errors_name_the_entry_and_key() {
        let error = |follow: &str| {
            NodeConfig::from_toml(&format!("{MINIMAL}\n{follow}"))
                .unwrap_err()
                .to_string()
        };
        let entry = |peer: &str, endpoint: &str, kinds: &str| {
            format!("[[follow]]\npeer = \"{peer}\"\nendpoint = \"{endpoint}\"\nkinds = {kinds}\n")
        };
        let good = entry("nam-dinh", "https://127.0.0.1:7102", "[\"project\"]");
        assert!(NodeConfig::from_toml(&format!("{MINIMAL}\n{good}")).is_ok());
        assert!(
            error(&entry("hung-yen", "https://127.0.0.1:7102", "[]")).contains("follow[1].peer")
        );
        assert!(error(&entry("Nam Định", "https://x:1", "[]")).contains("follow[1].peer"));
        assert!(error(&entry("nam-dinh", "127.0.0.1:7102", "[]")).contains("follow[1].endpoint"));
        assert!(error(&entry("nam-dinh", "https://x:1", "[\"task\"]")).contains("follow[1].kinds"));
        assert!(error(&format!("{good}{good}")).contains("follow[2].peer"));
        assert!(error("[sync]\nchanges_per_call = 0\n").contains("sync.changes_per_call"));
    }

    #[test]
    fn an_aggregator_follows_every_kind_by_default_and_must_follow_someone() {
        let aggregator = MINIMAL.replace(
            "display_name = \"Sở KH&CN Hưng Yên\"",
            "display_name = \"Cục Thông tin KH&CN Quốc gia\"\nrole = \"aggregator\"",
        );
        let error = NodeConfig::from_toml(&aggregator).unwrap_err().to_string();
        assert!(error.contains("node.role"), "{error}");
        let follow = "[[follow]]\npeer = \"nam-dinh\"\nendpoint = \"https://127.0.0.1:7102\"\n";
        let config = NodeConfig::from_toml(&format!("{aggregator}\n{follow}")).unwrap();
        assert_eq!(config.node.role, NodeRole::Aggregator);
        assert_eq!(
            config.follow[0].kinds_for(config.node.role),
            ["project", "expert", "publication"]
        );
        let province = NodeConfig::from_toml(&format!("{MINIMAL}\n{follow}")).unwrap();
        assert_eq!(
            province.follow[0].kinds_for(province.node.role),
            ["project"]
        );
        let bad = NodeConfig::from_toml(&MINIMAL.replace(
            "display_name = \"Sở KH&CN Hưng Yên\"",
            "display_name = \"x\"\nrole = \"national\"",
        ))
        .unwrap_err()
        .to_string();
        assert!(bad.contains("role"), "{bad}");
    }

    #[test]
    fn errors_name_the_key() {
        let unknown = format!("{MINIMAL}\n[grpc]\nlisten = \"127.0.0.1:1\"\nport = 3\n");
        assert!(
            NodeConfig::from_toml(&unknown)
                .unwrap_err()
                .to_string()
                .contains("port")
        );
        let bad_id = MINIMAL.replace("hung-yen\"", "Hưng Yên\"");
        assert!(
            NodeConfig::from_toml(&bad_id)
                .unwrap_err()
                .to_string()
                .contains("node.id")
        );
        let bad_url = MINIMAL.replace("sqlite://hung-yen.db", "mysql://x");
        assert!(
            NodeConfig::from_toml(&bad_url)
                .unwrap_err()
                .to_string()
                .contains("database.url")
        );
        let bad_type = format!("{MINIMAL}\n[grpc]\nrequest_timeout_ms = \"soon\"\n");
        assert!(
            NodeConfig::from_toml(&bad_type)
                .unwrap_err()
                .to_string()
                .contains("request_timeout_ms")
        );
    }

    #[test]
    fn an_oai_section_is_checked_key_by_key() {
        let oai = |body: &str| NodeConfig::from_toml(&format!("{MINIMAL}\n[oai]\n{body}"));
        assert!(oai("listen = \"127.0.0.1:8441\"\nadmin_email = \"a@b.vn\"").is_ok());
        for (body, key) in [
            (
                "listen = \"0.0.0.0:8441\"\nadmin_email = \"a@b.vn\"",
                "oai.base_url",
            ),
            (
                "listen = \"127.0.0.1:8441\"\nadmin_email = \"nobody\"",
                "oai.admin_email",
            ),
            (
                "listen = \"127.0.0.1:8441\"\nadmin_email = \"a@b.vn\"\nrepository_identifier = \"nodot\"",
                "oai.repository_identifier",
            ),
            (
                "listen = \"127.0.0.1:8441\"\nadmin_email = \"a@b.vn\"\npage_size = 0",
                "oai.page_size",
            ),
            (
                "listen = \"127.0.0.1:8441\"\nadmin_email = \"a@b.vn\"\n[[oai.harvester]]\n\
                 identity = \"system:x\"\ntoken_sha256 = \"abc\"",
                "oai.harvester[1].token_sha256",
            ),
        ] {
            let error = oai(body).unwrap_err().to_string();
            assert!(error.contains(key), "{key}: {error}");
        }
    }
}
