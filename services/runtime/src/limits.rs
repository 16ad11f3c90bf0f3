//! What one server lets its clients hold: connections, handshakes, streams,
//! time, and requests per peer. The `[limits]` section of both the node's and
//! the gateway's configuration; every value has a default that is safe to
//! expose, and every one is listed in `docs/security.md` ("Limits and abuse").

use std::time::Duration;

use serde::Deserialize;

use crate::config_source::ConfigError;

/// `[limits]`.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct ServerLimits {
    /// Connections open at once on one listener; more are closed on accept.
    /// Keep it under the process's file-descriptor limit (`ulimit -n`).
    #[serde(default = "default_max_connections")]
    pub max_connections: usize,
    /// Connections open at once from one client network (an IPv4 address,
    /// an IPv6 /64).
    #[serde(default = "default_max_connections_per_address")]
    pub max_connections_per_address: usize,
    /// TLS handshakes in progress at once; at the limit the server stops
    /// accepting until one ends (clients wait in the kernel's backlog).
    #[serde(default = "default_max_concurrent_handshakes")]
    pub max_concurrent_handshakes: usize,
    /// TLS handshakes in progress at once from one client network (an IPv4
    /// address, an IPv6 /64); more connections from it are closed on accept.
    #[serde(default = "default_max_handshakes_per_address")]
    pub max_handshakes_per_address: usize,
    /// Longest a client may take to finish its TLS handshake.
    #[serde(default = "default_handshake_timeout_ms")]
    pub handshake_timeout_ms: u64,
    /// HTTP: longest a client may take to send a request's headers, and
    /// longest an idle keep-alive connection is kept.
    #[serde(default = "default_http_header_read_timeout_ms")]
    pub http_header_read_timeout_ms: u64,
    /// gRPC: streams (calls) in flight on one connection.
    #[serde(default = "default_grpc_max_concurrent_streams")]
    pub grpc_max_concurrent_streams: u32,
    /// gRPC: largest request message a server decodes (answers may be larger,
    /// up to `grpc.max_message_bytes`). Requests are queries and ids.
    #[serde(default = "default_grpc_max_request_bytes")]
    pub grpc_max_request_bytes: usize,
    /// gRPC: how often an idle connection is pinged.
    #[serde(default = "default_grpc_keepalive_interval_ms")]
    pub grpc_keepalive_interval_ms: u64,
    /// gRPC: a ping not answered within this closes the connection.
    #[serde(default = "default_grpc_keepalive_timeout_ms")]
    pub grpc_keepalive_timeout_ms: u64,
    /// gRPC: a connection older than this is asked to close (GOAWAY), so
    /// every client handshakes again, with the current certificates and CRLs,
    /// at least this often. A revoked certificate loses its connections
    /// within this time plus the grace.
    #[serde(default = "default_max_connection_age_ms")]
    pub max_connection_age_ms: u64,
    /// gRPC: calls still running on a connection past its age get this long
    /// before the connection is cut.
    #[serde(default = "default_max_connection_age_grace_ms")]
    pub max_connection_age_grace_ms: u64,
    /// On shutdown, how long calls in flight may finish before the remaining
    /// connections are dropped.
    #[serde(default = "default_shutdown_grace_ms")]
    pub shutdown_grace_ms: u64,
    /// Requests per minute from one peer (a federation identity, or a client
    /// address) before RESOURCE_EXHAUSTED. On the gateway this covers health
    /// and reflection; users have their own limit in `[auth]`.
    #[serde(default = "default_peer_requests_per_minute")]
    pub peer_requests_per_minute: u32,
    /// Requests one peer may make at once above the steady rate.
    #[serde(default = "default_peer_burst")]
    pub peer_burst: u32,
}

impl Default for ServerLimits {
    fn default() -> Self {
        ServerLimits {
            max_connections: default_max_connections(),
            max_connections_per_address: default_max_connections_per_address(),
            max_concurrent_handshakes: default_max_concurrent_handshakes(),
            max_handshakes_per_address: default_max_handshakes_per_address(),
            handshake_timeout_ms: default_handshake_timeout_ms(),
            http_header_read_timeout_ms: default_http_header_read_timeout_ms(),
            grpc_max_concurrent_streams: default_grpc_max_concurrent_streams(),
            grpc_max_request_bytes: default_grpc_max_request_bytes(),
            grpc_keepalive_interval_ms: default_grpc_keepalive_interval_ms(),
            grpc_keepalive_timeout_ms: default_grpc_keepalive_timeout_ms(),
            max_connection_age_ms: default_max_connection_age_ms(),
            max_connection_age_grace_ms: default_max_connection_age_grace_ms(),
            shutdown_grace_ms: default_shutdown_grace_ms(),
            peer_requests_per_minute: default_peer_requests_per_minute(),
            peer_burst: default_peer_burst(),
        }
    }
}

fn default_max_connections() -> usize {
    768
}
fn default_max_connections_per_address() -> usize {
    128
}
fn default_max_concurrent_handshakes() -> usize {
    64
}
fn default_max_handshakes_per_address() -> usize {
    8
}
fn default_handshake_timeout_ms() -> u64 {
    5_000
}
fn default_http_header_read_timeout_ms() -> u64 {
    10_000
}
fn default_grpc_max_concurrent_streams() -> u32 {
    256
}
fn default_grpc_max_request_bytes() -> usize {
    64 * 1024
}
fn default_grpc_keepalive_interval_ms() -> u64 {
    30_000
}
fn default_grpc_keepalive_timeout_ms() -> u64 {
    10_000
}
fn default_max_connection_age_ms() -> u64 {
    3_600_000
}
fn default_max_connection_age_grace_ms() -> u64 {
    30_000
}
fn default_shutdown_grace_ms() -> u64 {
    10_000
}
fn default_peer_requests_per_minute() -> u32 {
    // 10,000 calls a second: above what a node answers (a gateway is one
    // peer carrying every user's load), far below what a flood sends.
    600_000
}
fn default_peer_burst() -> u32 {
    10_000
}

impl ServerLimits {
    /// Checks every value; an error names the key (`limits.max_connections`).
    pub fn check(&self) -> Result<(), ConfigError> {
        let at_least = |key: &str, value: u64, minimum: u64| {
            if value < minimum {
                Err(ConfigError(format!(
                    "key limits.{key}: {value} is too small; use at least {minimum}"
                )))
            } else {
                Ok(())
            }
        };
        at_least("max_connections", self.max_connections as u64, 1)?;
        at_least(
            "max_connections_per_address",
            self.max_connections_per_address as u64,
            1,
        )?;
        at_least(
            "max_concurrent_handshakes",
            self.max_concurrent_handshakes as u64,
            1,
        )?;
        at_least(
            "max_handshakes_per_address",
            self.max_handshakes_per_address as u64,
            1,
        )?;
        at_least("handshake_timeout_ms", self.handshake_timeout_ms, 10)?;
        at_least(
            "http_header_read_timeout_ms",
            self.http_header_read_timeout_ms,
            10,
        )?;
        at_least(
            "grpc_max_concurrent_streams",
            u64::from(self.grpc_max_concurrent_streams),
            1,
        )?;
        at_least(
            "grpc_max_request_bytes",
            self.grpc_max_request_bytes as u64,
            1024,
        )?;
        at_least(
            "grpc_keepalive_interval_ms",
            self.grpc_keepalive_interval_ms,
            100,
        )?;
        at_least(
            "grpc_keepalive_timeout_ms",
            self.grpc_keepalive_timeout_ms,
            100,
        )?;
        at_least("max_connection_age_ms", self.max_connection_age_ms, 100)?;
        at_least(
            "peer_requests_per_minute",
            u64::from(self.peer_requests_per_minute),
            1,
        )?;
        at_least("peer_burst", u64::from(self.peer_burst), 1)?;
        if self.max_connections_per_address > self.max_connections {
            return Err(ConfigError(format!(
                "key limits.max_connections_per_address: {} is above limits.max_connections ({})",
                self.max_connections_per_address, self.max_connections
            )));
        }
        Ok(())
    }

    pub fn handshake_timeout(&self) -> Duration {
        Duration::from_millis(self.handshake_timeout_ms)
    }

    pub fn http_header_read_timeout(&self) -> Duration {
        Duration::from_millis(self.http_header_read_timeout_ms)
    }

    pub fn shutdown_grace(&self) -> Duration {
        Duration::from_millis(self.shutdown_grace_ms)
    }

    /// A tonic server builder with these limits on every connection.
    pub fn grpc_server(&self) -> tonic::transport::Server {
        tonic::transport::Server::builder()
            .max_concurrent_streams(self.grpc_max_concurrent_streams)
            .http2_keepalive_interval(Some(Duration::from_millis(self.grpc_keepalive_interval_ms)))
            .http2_keepalive_timeout(Some(Duration::from_millis(self.grpc_keepalive_timeout_ms)))
            .max_connection_age(Duration::from_millis(self.max_connection_age_ms))
            .max_connection_age_grace(Duration::from_millis(self.max_connection_age_grace_ms))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_pass_and_errors_name_the_key() {
        ServerLimits::default().check().unwrap();
        let zero = ServerLimits {
            max_connections: 0,
            ..ServerLimits::default()
        };
        assert!(
            zero.check()
                .unwrap_err()
                .to_string()
                .contains("limits.max_connections")
        );
        let inverted = ServerLimits {
            max_connections: 10,
            max_connections_per_address: 20,
            ..ServerLimits::default()
        };
        assert!(
            inverted
                .check()
                .unwrap_err()
                .to_string()
                .contains("limits.max_connections_per_address")
        );
    }
}
