//! What every Liên thông server shares: configuration sources, logs,
//! metrics, per-RPC telemetry, listeners, server reflection, and shutdown. One home for each, so
//! the node and the gateway behave alike.

#![forbid(unsafe_code)]

pub mod config_source;
pub mod listener;
pub mod reflection;
pub mod shutdown;
pub mod telemetry;

pub use shutdown::shutdown_signal;
