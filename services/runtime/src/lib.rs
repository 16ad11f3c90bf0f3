//! What every Liên thông server shares: configuration sources, logs,
//! metrics, per-RPC telemetry, transport security and federation identities, server reflection, and shutdown. One home for each, so
//! the node and the gateway behave alike.

#![forbid(unsafe_code)]

pub mod config_source;
pub mod http_server;
pub mod identity;
pub mod limits;
pub mod peer_gate;
pub mod rate_limit;
pub mod reflection;
pub mod shutdown;
pub mod telemetry;
pub mod tls;

pub use shutdown::shutdown_signal;
