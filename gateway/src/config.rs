//! Gateway configuration: listeners, the overall deadline, defaults shared by
//! every node with per-node overrides, the circuit breaker and the retry
//! budget. A TOML file overridden by `LIENTHONG_SECTION__KEY` variables;
//! unknown keys are errors, and every error names the key.

use std::collections::HashSet;
use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

pub use lienthong_peer_client::{BreakerConfig, NodeSettings, RetryConfig};
use lienthong_runtime::config_source;
pub use lienthong_runtime::config_source::{ConfigError, LogConfig, Secret};
pub use lienthong_runtime::limits::ServerLimits;
pub use lienthong_runtime::tls::TlsFiles;

pub use crate::auth::AuthConfig;
pub use lienthong_audit::AuditConfig;
use serde::Deserialize;

/// The whole gateway configuration.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GatewayConfig {
    #[serde(default)]
    pub gateway: GatewayIdentity,
    #[serde(default)]
    pub grpc: GrpcListener,
    #[serde(default)]
    pub http: HttpListener,
    #[serde(default)]
    pub admin: AdminListener,
    #[serde(default)]
    pub federation: FederationConfig,
    #[serde(default)]
    pub node_defaults: NodeDefaults,
    #[serde(default)]
    pub breaker: BreakerConfig,
    #[serde(default)]
    pub retry: RetryConfig,
    /// The province nodes, in the order statuses are reported.
    #[serde(default)]
    pub nodes: Vec<NodeEntry>,
    #[serde(default)]
    pub log: LogConfig,
    /// Certificates for mutual TLS (gRPC) and HTTPS; required unless started
    /// with `--insecure-plaintext`.
    #[serde(default)]
    pub tls: Option<TlsFiles>,
    #[serde(default)]
    pub database: GatewayDatabase,
    #[serde(default)]
    pub auth: AuthConfig,
    #[serde(default)]
    pub audit: AuditConfig,
    /// Connections, handshakes, streams, timeouts and per-peer budgets.
    #[serde(default)]
    pub limits: ServerLimits,
}

/// The gateway's own database: users' tokens and the audit log.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GatewayDatabase {
    /// `sqlite://PATH` (created on first start) or `postgres://USER@HOST/DB`.
    #[serde(default = "default_gateway_database")]
    pub url: Secret,
}

impl Default for GatewayDatabase {
    fn default() -> Self {
        GatewayDatabase {
            url: default_gateway_database(),
        }
    }
}

/// Where the gateway keeps tokens and its audit log unless `database.url` says.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://data/gateway.db";

fn default_gateway_database() -> Secret {
    Secret::new(DEFAULT_DATABASE_URL)
}

/// How the gateway names itself in logs and metrics.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GatewayIdentity {
    #[serde(default = "default_gateway_id")]
    pub id: String,
}

impl Default for GatewayIdentity {
    fn default() -> Self {
        GatewayIdentity {
            id: default_gateway_id(),
        }
    }
}

fn default_gateway_id() -> String {
    "gateway".into()
}

/// The gRPC listener (`lienthong.v1.Federation`, health, reflection).
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GrpcListener {
    #[serde(default = "default_grpc_listen")]
    pub listen: SocketAddr,
    /// Largest request or response message, in bytes.
    #[serde(default = "default_max_message_bytes")]
    pub max_message_bytes: usize,
}

impl Default for GrpcListener {
    fn default() -> Self {
        GrpcListener {
            listen: default_grpc_listen(),
            max_message_bytes: default_max_message_bytes(),
        }
    }
}

fn default_grpc_listen() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 7100))
}
fn default_max_message_bytes() -> usize {
    16 * 1024 * 1024
}

/// The admin HTTP listener: `/metrics` and `/healthz`, plain HTTP for the
/// local monitoring agent. Keep it on loopback or a management network.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdminListener {
    #[serde(default = "default_admin_listen")]
    pub listen: SocketAddr,
}

impl Default for AdminListener {
    fn default() -> Self {
        AdminListener {
            listen: default_admin_listen(),
        }
    }
}

fn default_admin_listen() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 9100))
}

/// The HTTP listener: the JSON API, OpenAPI and `/healthz`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpListener {
    #[serde(default = "default_http_listen")]
    pub listen: SocketAddr,
}

impl Default for HttpListener {
    fn default() -> Self {
        HttpListener {
            listen: default_http_listen(),
        }
    }
}

fn default_http_listen() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 8080))
}

/// Whole-request behaviour.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FederationConfig {
    /// Upper bound on one federated request, fan-out included. A client's own
    /// `grpc-timeout` shortens it, never lengthens it.
    #[serde(default = "default_request_timeout_ms")]
    pub request_timeout_ms: u64,
    /// Extra rounds one page may ask a node for more hits, when a node's page
    /// ended early and its next hits could still outrank the others'.
    #[serde(default = "default_max_rounds")]
    pub max_rounds_per_page: u32,
}

impl Default for FederationConfig {
    fn default() -> Self {
        FederationConfig {
            request_timeout_ms: default_request_timeout_ms(),
            max_rounds_per_page: default_max_rounds(),
        }
    }
}

fn default_request_timeout_ms() -> u64 {
    5_000
}
fn default_max_rounds() -> u32 {
    4
}

/// Settings every node gets unless its own entry overrides them.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NodeDefaults {
    /// Deadline of one call to a node.
    #[serde(default = "default_node_timeout_ms")]
    pub timeout_ms: u64,
    /// Deadline for opening a connection to a node.
    #[serde(default = "default_connect_timeout_ms")]
    pub connect_timeout_ms: u64,
    /// Calls in flight to one node; more wait (within their deadline).
    #[serde(default = "default_max_concurrency")]
    pub max_concurrency: usize,
}

impl Default for NodeDefaults {
    fn default() -> Self {
        NodeDefaults {
            timeout_ms: default_node_timeout_ms(),
            connect_timeout_ms: default_connect_timeout_ms(),
            max_concurrency: default_max_concurrency(),
        }
    }
}

fn default_node_timeout_ms() -> u64 {
    2_000
}
fn default_connect_timeout_ms() -> u64 {
    1_000
}
fn default_max_concurrency() -> usize {
    128
}

/// One province node.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NodeEntry {
    /// The node's id, as in its record ids, e.g. "hung-yen".
    pub id: String,
    /// Human name, e.g. "Sở KH&CN Hưng Yên".
    pub display_name: String,
    /// gRPC address, e.g. "http://127.0.0.1:7101".
    pub endpoint: String,
    /// Overrides `node_defaults.timeout_ms`.
    pub timeout_ms: Option<u64>,
    /// Overrides `node_defaults.connect_timeout_ms`.
    pub connect_timeout_ms: Option<u64>,
    /// Overrides `node_defaults.max_concurrency`.
    pub max_concurrency: Option<usize>,
}

impl GatewayConfig {
    /// Reads `path`, then `LIENTHONG_*` environment overrides, then checks the result.
    pub fn load(path: &Path) -> Result<GatewayConfig, ConfigError> {
        let config: GatewayConfig = config_source::load(path)?;
        config.check()?;
        Ok(config)
    }

    /// Parses a configuration from TOML text (no environment overrides).
    pub fn from_toml(text: &str) -> Result<GatewayConfig, ConfigError> {
        let config: GatewayConfig = config_source::from_toml(text)?;
        config.check()?;
        Ok(config)
    }

    /// Every node's settings, defaults applied, in configuration order.
    pub fn node_settings(&self) -> Vec<NodeSettings> {
        let defaults = &self.node_defaults;
        self.nodes
            .iter()
            .map(|node| NodeSettings {
                id: node.id.clone(),
                display_name: node.display_name.clone(),
                endpoint: node.endpoint.clone(),
                timeout: Duration::from_millis(node.timeout_ms.unwrap_or(defaults.timeout_ms)),
                connect_timeout: Duration::from_millis(
                    node.connect_timeout_ms
                        .unwrap_or(defaults.connect_timeout_ms),
                ),
                max_concurrency: node.max_concurrency.unwrap_or(defaults.max_concurrency),
            })
            .collect()
    }

    fn check(&self) -> Result<(), ConfigError> {
        self.limits.check()?;
        let key_error = |key: &str, message: &str| ConfigError(format!("key {key}: {message}"));
        if self.nodes.is_empty() {
            return Err(key_error(
                "nodes",
                "list at least one node as a [[nodes]] table with id, display_name and endpoint",
            ));
        }
        if self.federation.request_timeout_ms == 0 {
            return Err(key_error(
                "federation.request_timeout_ms",
                "must be at least 1",
            ));
        }
        if self.node_defaults.timeout_ms == 0 {
            return Err(key_error("node_defaults.timeout_ms", "must be at least 1"));
        }
        if self.node_defaults.max_concurrency == 0 {
            return Err(key_error(
                "node_defaults.max_concurrency",
                "must be at least 1",
            ));
        }
        if self.breaker.failure_threshold == 0 {
            return Err(key_error("breaker.failure_threshold", "must be at least 1"));
        }
        if self.retry.max_attempts == 0 {
            return Err(key_error(
                "retry.max_attempts",
                "must be at least 1 (1 turns retries off)",
            ));
        }
        lienthong_store::Backend::from_url(self.database.url.expose())
            .map_err(|error| key_error("database.url", &error.to_string()))?;
        self.auth.parsed_certificate_roles().map_err(ConfigError)?;
        if self.auth.requests_per_minute == 0 || self.auth.burst == 0 {
            return Err(key_error(
                "auth.requests_per_minute",
                "auth.requests_per_minute and auth.burst must be at least 1",
            ));
        }
        let mut seen = HashSet::new();
        for (index, node) in self.nodes.iter().enumerate() {
            let key = |field: &str| format!("nodes[{index}].{field}");
            lienthong_records::identity::validate_node_id(&node.id)
                .map_err(|error| key_error(&key("id"), &error.to_string()))?;
            if !seen.insert(node.id.as_str()) {
                return Err(key_error(
                    &key("id"),
                    &format!("node {} is listed twice", node.id),
                ));
            }
            if node.display_name.trim().is_empty() {
                return Err(key_error(&key("display_name"), "must not be empty"));
            }
            lienthong_peer_client::transport::check_endpoint(&node.endpoint)
                .map_err(|message| key_error(&key("endpoint"), &message))?;
            if node.timeout_ms == Some(0) {
                return Err(key_error(&key("timeout_ms"), "must be at least 1"));
            }
            if node.max_concurrency == Some(0) {
                return Err(key_error(&key("max_concurrency"), "must be at least 1"));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TWO_NODES: &str = r#"
        [node_defaults]
        timeout_ms = 1500

        [[nodes]]
        id = "hung-yen"
        display_name = "Sở KH&CN Hưng Yên"
        endpoint = "http://127.0.0.1:7101"

        [[nodes]]
        id = "nam-dinh"
        display_name = "Sở KH&CN Nam Định"
        endpoint = "http://127.0.0.1:7102"
        timeout_ms = 300
    "#;

    #[test]
    fn per_node_overrides_win_over_defaults() {
        let config = GatewayConfig::from_toml(TWO_NODES).unwrap();
        let nodes = config.node_settings();
        assert_eq!(nodes[0].timeout, Duration::from_millis(1500));
        assert_eq!(nodes[1].timeout, Duration::from_millis(300));
        assert_eq!(nodes[1].max_concurrency, default_max_concurrency());
        assert_eq!(config.grpc.listen.port(), 7100);
        assert_eq!(config.http.listen.port(), 8080);
    }

    #[test]
    fn the_example_in_deploy_is_valid() {
        let config = GatewayConfig::from_toml(include_str!("../../deploy/gateway.toml")).unwrap();
        assert_eq!(config.nodes.len(), 2);
        assert_eq!(
            config.node_settings()[1].timeout,
            Duration::from_millis(3000)
        );
    }

    #[test]
    fn errors_name_the_key() {
        let message = |text: &str| GatewayConfig::from_toml(text).unwrap_err().to_string();
        assert!(message("").contains("key nodes"));
        assert!(message(&TWO_NODES.replace("nam-dinh\"", "hung-yen\"")).contains("nodes[1].id"));
        assert!(
            message(&TWO_NODES.replace("http://127.0.0.1:7102", "127.0.0.1:7102"))
                .contains("nodes[1].endpoint")
        );
        assert!(
            message(&TWO_NODES.replace("timeout_ms = 300", "timeout_ms = 0"))
                .contains("nodes[1].timeout_ms")
        );
        assert!(message(&format!("{TWO_NODES}\n[breaker]\nthreshold = 3\n")).contains("threshold"));
    }
}
