//! Settings of the calls to nodes. The sections deserialize from TOML with
//! defaults for every key, so a config may leave them out.

use std::time::Duration;

use serde::Deserialize;

/// A node's settings after defaults and overrides.
#[derive(Clone, Debug)]
pub struct NodeSettings {
    pub id: String,
    pub display_name: String,
    pub endpoint: String,
    pub timeout: Duration,
    pub connect_timeout: Duration,
    pub max_concurrency: usize,
}

/// When a node that keeps failing is skipped, and for how long.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BreakerConfig {
    /// Consecutive failed calls (timeouts, unreachable, server errors) that open the breaker.
    #[serde(default = "default_failure_threshold")]
    pub failure_threshold: u32,
    /// How long an open breaker skips the node before one trial call.
    #[serde(default = "default_cool_down_ms")]
    pub cool_down_ms: u64,
}

impl Default for BreakerConfig {
    fn default() -> Self {
        BreakerConfig {
            failure_threshold: default_failure_threshold(),
            cool_down_ms: default_cool_down_ms(),
        }
    }
}

fn default_failure_threshold() -> u32 {
    5
}
fn default_cool_down_ms() -> u64 {
    5_000
}

/// Retries of reads that failed because a node was unreachable.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RetryConfig {
    /// Attempts per node call, the first included; 1 turns retries off.
    #[serde(default = "default_max_attempts")]
    pub max_attempts: u32,
    /// Retries may add at most this share of calls, in percent.
    #[serde(default = "default_budget_percent")]
    pub budget_percent: u32,
    /// Retries always allowed per second, however few the calls.
    #[serde(default = "default_min_retries_per_second")]
    pub min_retries_per_second: u32,
    /// Wait before a retry.
    #[serde(default = "default_backoff_ms")]
    pub backoff_ms: u64,
}

impl Default for RetryConfig {
    fn default() -> Self {
        RetryConfig {
            max_attempts: default_max_attempts(),
            budget_percent: default_budget_percent(),
            min_retries_per_second: default_min_retries_per_second(),
            backoff_ms: default_backoff_ms(),
        }
    }
}

fn default_max_attempts() -> u32 {
    2
}
fn default_budget_percent() -> u32 {
    20
}
fn default_min_retries_per_second() -> u32 {
    10
}
fn default_backoff_ms() -> u64 {
    25
}
