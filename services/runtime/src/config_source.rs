//! Configuration sources shared by every server: a typed TOML file,
//! overridden by `LIENTHONG_*` environment variables (`LIENTHONG_DATABASE__URL`
//! sets `database.url`). Unknown keys are errors, and every error names the key.

use std::fmt;
use std::path::Path;

use figment::Figment;
use figment::providers::{Env, Format, Toml};
use serde::Deserialize;
use serde::de::DeserializeOwned;

/// A value that never prints, such as a database URL with a password.
#[derive(Clone, Deserialize, PartialEq, Eq)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret value.
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }
    /// The secret itself; call only where it is used.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// Log output.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogConfig {
    /// `info`, `debug`, or a full filter such as `lienthong_node=debug,info`.
    #[serde(default = "default_log_level")]
    pub level: String,
    /// `text` for people, `json` for log collectors.
    #[serde(default)]
    pub format: LogFormat,
}

impl Default for LogConfig {
    fn default() -> Self {
        LogConfig {
            level: default_log_level(),
            format: LogFormat::default(),
        }
    }
}

fn default_log_level() -> String {
    "info".into()
}

/// Log line format.
#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    #[default]
    Text,
    Json,
}

/// A configuration that cannot work. The message names the key.
#[derive(Debug, thiserror::Error)]
#[error("configuration error: {0}")]
pub struct ConfigError(pub String);

/// Reads `path`, then the `LIENTHONG_SECTION__KEY` environment overrides.
pub fn load<T: DeserializeOwned>(path: &Path) -> Result<T, ConfigError> {
    if !path.exists() {
        return Err(ConfigError(format!(
            "config file {} does not exist; see deploy/ for examples",
            path.display()
        )));
    }
    Figment::new()
        .merge(Toml::file(path))
        // Only SECTION__KEY variables configure a server; other LIENTHONG_*
        // variables (LIENTHONG_NODE for the CLI, ...) belong to other tools.
        .merge(
            Env::prefixed("LIENTHONG_")
                .filter(|key| key.as_str().contains("__"))
                .split("__"),
        )
        .extract()
        .map_err(|error| ConfigError(format!("{} ({})", error, path.display())))
}

/// `text` as a TOML basic string, quoted and escaped, for generated configs.
pub fn toml_string(text: &str) -> String {
    format!("\"{}\"", text.replace('\\', "\\\\").replace('"', "\\\""))
}

/// Parses TOML text (no environment overrides).
pub fn from_toml<T: DeserializeOwned>(text: &str) -> Result<T, ConfigError> {
    Figment::new()
        .merge(Toml::string(text))
        .extract()
        .map_err(|error| ConfigError(error.to_string()))
}
