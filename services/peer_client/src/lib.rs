//! Calling province nodes, for every party that does: the gateway's
//! fan-out and a node's subscriptions to its peers' change feeds.
//!
//! - [`transport`]: one long-lived channel per node, over mutual TLS that
//!   checks the node's identity, or plaintext on development machines.
//! - [`registry`]: the nodes one party calls, each with a concurrency limit,
//!   a deadline, a [`breaker::Breaker`] and retries under a shared
//!   [`retry_budget::RetryBudget`], with per-node metrics.
//! - [`settings`]: how those are configured (the `[breaker]` and `[retry]`
//!   sections, and each node's resolved settings).

#![forbid(unsafe_code)]

pub mod breaker;
pub mod registry;
pub mod retry_budget;
pub mod settings;
pub mod transport;

pub use registry::{NodeCall, NodeClient, NodeFailure, NodeHandle, Registry};
pub use settings::{BreakerConfig, NodeSettings, RetryConfig};
