//! Transport security, in one place: every server and client TLS
//! configuration in the federation is built here.
//!
//! - Mutual TLS with rustls, TLS 1.2 and 1.3 only, and ring as the one crypto
//!   provider.
//! - Peers are checked against the configured CA bundle and CRLs at every
//!   handshake ([`WebPkiClientVerifier`] on servers, [`WebPkiServerVerifier`]
//!   on clients), so a revoked certificate is refused on its next connection.
//! - [`Tls::watch`] reloads certificates, keys and CRLs when their files change
//!   or on SIGHUP, without a restart; a reload that fails keeps the last good
//!   configuration and logs why.
//! - Plaintext is [`Transport::InsecurePlaintext`], which only the explicit
//!   `--insecure-plaintext` flag selects, and which logs a warning at start and
//!   on every connection.

mod accept;
mod connect;

use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use rustls::RootCertStore;
use rustls::crypto::CryptoProvider;
use rustls::server::WebPkiClientVerifier;
use rustls::{ClientConfig, ServerConfig, client::WebPkiServerVerifier};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, CertificateRevocationListDer, PrivateKeyDer};
use serde::Deserialize;

pub use accept::{Connection, Incoming, PeerInfo, incoming};
pub use connect::{ExpectedServer, NodeConnector};

use crate::config_source::toml_string;
use crate::identity::{PeerIdentity, PeerRole};

/// Where the TLS material lives: the `[tls]` section of node and gateway
/// configs. Relative paths are relative to the working directory.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct TlsFiles {
    /// PEM bundle of the CAs whose certificates are trusted (the federation
    /// root from `lienthong pki init`, or the deployment's own).
    pub ca_bundle: PathBuf,
    /// PEM certificate chain of this server or client, leaf first.
    pub certificate: PathBuf,
    /// PEM private key of `certificate` (PKCS#8, PKCS#1 or SEC1).
    pub private_key: PathBuf,
    /// PEM CRLs checked at every handshake. Empty means no revocation checks.
    #[serde(default)]
    pub crls: Vec<PathBuf>,
    /// How often the files are checked for changes, in seconds.
    #[serde(default = "default_reload_interval")]
    pub reload_interval_seconds: f64,
}

fn default_reload_interval() -> f64 {
    10.0
}

impl TlsFiles {
    /// The files `lienthong pki` writes for `identity` under `dir`.
    pub fn in_pki_dir(dir: &Path, identity: &PeerIdentity) -> TlsFiles {
        let stem = dir.join(identity.role.as_str()).join(&identity.name);
        TlsFiles {
            ca_bundle: dir.join("ca.crt"),
            certificate: stem.with_extension("crt"),
            private_key: stem.with_extension("key"),
            crls: vec![dir.join("crl.pem")],
            reload_interval_seconds: default_reload_interval(),
        }
    }

    /// The `[tls]` section naming these files, for generated configs.
    pub fn to_toml(&self) -> String {
        let toml_path = |path: &Path| toml_string(&path.display().to_string());
        let crls: Vec<String> = self.crls.iter().map(|crl| toml_path(crl)).collect();
        format!(
            "[tls]\nca_bundle = {}\ncertificate = {}\nprivate_key = {}\ncrls = [{}]\n\
             reload_interval_seconds = {}\n",
            toml_path(&self.ca_bundle),
            toml_path(&self.certificate),
            toml_path(&self.private_key),
            crls.join(", "),
            self.reload_interval_seconds
        )
    }

    /// Refuses an interval that is not a number of seconds between 0.05 and
    /// one day (NaN, infinity, zero or negative would stop or spin the watcher).
    fn check_reload_interval(&self) -> Result<(), TlsError> {
        let seconds = self.reload_interval_seconds;
        if seconds.is_finite() && (0.05..=86_400.0).contains(&seconds) {
            Ok(())
        } else {
            Err(TlsError::Config(format!(
                "tls.reload_interval_seconds = {seconds} is not between 0.05 and 86400; \
                 set a number of seconds such as 10"
            )))
        }
    }

    fn all_paths(&self) -> impl Iterator<Item = &Path> {
        [&self.ca_bundle, &self.certificate, &self.private_key]
            .into_iter()
            .chain(&self.crls)
            .map(PathBuf::as_path)
    }
}

/// Why TLS material could not be loaded. Each names the config key and file.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("tls.{key}: cannot read {path}: {source}")]
    Read {
        key: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("tls.{key}: {path} {problem}")]
    Content {
        key: &'static str,
        path: PathBuf,
        problem: String,
    },
    #[error("tls: {0}")]
    Config(String),
}

/// Which server a listener is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServerKind {
    /// gRPC (HTTP/2): every client presents a certificate from a trusted CA.
    Grpc,
    /// The gateway's HTTPS API (HTTP/1.1): a client certificate is optional,
    /// since people authenticate with tokens there.
    Https,
}

/// The identity a server's own certificate must carry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequiredIdentity {
    pub role: PeerRole,
    /// A particular name (a node's id), or any name of the role.
    pub name: Option<String>,
}

impl RequiredIdentity {
    fn check(&self, identity: Option<&PeerIdentity>) -> Result<(), String> {
        let matches = identity.is_some_and(|identity| {
            identity.role == self.role
                && self.name.as_ref().is_none_or(|name| *name == identity.name)
        });
        if matches {
            return Ok(());
        }
        let wanted = match &self.name {
            Some(name) => format!("{}:{name}", self.role),
            None => format!("{}:<name>", self.role),
        };
        let found =
            identity.map_or_else(|| "no federation identity".to_owned(), ToString::to_string);
        Err(format!(
            "is for {found}, but this server must be {wanted}; issue one with \
             `lienthong pki issue {} {}`",
            self.role,
            self.name.as_deref().unwrap_or("NAME")
        ))
    }
}

/// What the operator asked for on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// The default: mutual TLS with the `[tls]` files.
    MutualTls,
    /// `--insecure-plaintext`: development only.
    InsecurePlaintext,
}

/// How a listener or channel carries bytes.
#[derive(Clone)]
pub enum Transport {
    MutualTls(Tls),
    /// Only behind `--insecure-plaintext`: no encryption, no peer identity.
    InsecurePlaintext,
}

impl Transport {
    /// Loads `files` for mutual TLS, or plaintext when `mode` says so
    /// (logging the warning). Mutual TLS without files is a config error
    /// naming the `[tls]` section.
    /// With `required`, the own certificate must carry that identity, at
    /// start and at every reload (a reload to another identity is refused).
    pub fn from_settings(
        files: Option<&TlsFiles>,
        mode: Mode,
        required: Option<RequiredIdentity>,
    ) -> Result<Transport, TlsError> {
        match (files, mode) {
            (_, Mode::InsecurePlaintext) => {
                warn_plaintext("starting");
                Ok(Transport::InsecurePlaintext)
            }
            (Some(files), Mode::MutualTls) => {
                files.check_reload_interval()?;
                Ok(Transport::MutualTls(Tls::load_as(files, required)?))
            }
            (None, Mode::MutualTls) => Err(TlsError::Config(
                "the [tls] section is missing: set tls.ca_bundle, tls.certificate and \
                 tls.private_key (see `lienthong pki --help`), or pass --insecure-plaintext \
                 for a development setup without encryption"
                    .into(),
            )),
        }
    }

    /// The TLS handle to watch for reloads; `None` in plaintext.
    pub fn tls(&self) -> Option<&Tls> {
        match self {
            Transport::MutualTls(tls) => Some(tls),
            Transport::InsecurePlaintext => None,
        }
    }
}

/// Logs the plaintext warning; called at start and for every connection.
pub(crate) fn warn_plaintext(when: &str) {
    tracing::warn!(
        when,
        "INSECURE PLAINTEXT: no encryption and no peer authentication (--insecure-plaintext); \
         never use this outside a development machine"
    );
}

/// TLS configurations built from one reading of the files.
pub struct TlsContext {
    /// For gRPC listeners: client certificate required, ALPN h2.
    pub grpc_server: Arc<ServerConfig>,
    /// For the HTTPS API: client certificate optional, ALPN http/1.1.
    pub https_server: Arc<ServerConfig>,
    /// For channels to nodes: presents the own certificate, ALPN h2.
    pub client: Arc<ClientConfig>,
}

/// The current TLS configuration, replaced in place by reloads.
#[derive(Clone)]
pub struct Tls {
    files: Arc<TlsFiles>,
    required: Option<RequiredIdentity>,
    current: Arc<RwLock<Arc<TlsContext>>>,
}

impl Tls {
    /// Reads and checks every file once.
    pub fn load(files: &TlsFiles) -> Result<Tls, TlsError> {
        Tls::load_as(files, None)
    }

    /// Reads and checks every file once; the own certificate must carry
    /// `required`, now and at every reload.
    pub fn load_as(files: &TlsFiles, required: Option<RequiredIdentity>) -> Result<Tls, TlsError> {
        let context = build_context(files, required.as_ref())?;
        Ok(Tls {
            files: Arc::new(files.clone()),
            required,
            current: Arc::new(RwLock::new(Arc::new(context))),
        })
    }

    /// The server configuration new connections to a `kind` listener use.
    pub fn server_config(&self, kind: ServerKind) -> Arc<ServerConfig> {
        let context = self.current();
        match kind {
            ServerKind::Grpc => context.grpc_server.clone(),
            ServerKind::Https => context.https_server.clone(),
        }
    }

    /// The configuration new handshakes use.
    pub fn current(&self) -> Arc<TlsContext> {
        match self.current.read() {
            Ok(guard) => guard.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// Reads the files again; on success new handshakes use them.
    pub fn reload(&self) -> Result<(), TlsError> {
        let context = build_context(&self.files, self.required.as_ref())?;
        let mut guard = match self.current.write() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        };
        *guard = Arc::new(context);
        Ok(())
    }

    /// Reloads whenever a file's content changes (checked every
    /// `reload_interval_seconds`) or the process receives SIGHUP. Stops when
    /// the returned handle is aborted or the runtime shuts down.
    pub fn watch(&self) -> tokio::task::JoinHandle<()> {
        let tls = self.clone();
        // Checked when the files were loaded; the fallback keeps a bad value
        // that slipped past from ever panicking here.
        let seconds = self.files.reload_interval_seconds;
        let interval = Duration::try_from_secs_f64(seconds.clamp(0.05, 86_400.0))
            .unwrap_or(Duration::from_secs(10));
        tokio::spawn(async move {
            let mut seen = tls.fingerprint();
            let mut hangup = hangup_signal();
            let mut ticker = tokio::time::interval(interval);
            ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                let forced = tokio::select! {
                    _ = ticker.tick() => false,
                    Some(()) = recv_hangup(&mut hangup) => true,
                };
                let now = tls.fingerprint();
                if !forced && now == seen {
                    continue;
                }
                seen = now;
                match tls.reload() {
                    Ok(()) => tracing::info!(forced, "TLS certificates, key and CRLs reloaded"),
                    Err(error) => tracing::error!(
                        %error,
                        "TLS reload failed; still using the previous certificates and CRLs"
                    ),
                }
            }
        })
    }

    /// A digest of every file's content (missing files count as empty).
    fn fingerprint(&self) -> Vec<u8> {
        let mut context = ring::digest::Context::new(&ring::digest::SHA256);
        for path in self.files.all_paths() {
            let content = std::fs::read(path).unwrap_or_default();
            context.update(&(content.len() as u64).to_le_bytes());
            context.update(&content);
        }
        context.finish().as_ref().to_vec()
    }
}

#[cfg(unix)]
type Hangup = Option<tokio::signal::unix::Signal>;
#[cfg(not(unix))]
type Hangup = Option<()>;

#[cfg(unix)]
fn hangup_signal() -> Hangup {
    tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()).ok()
}
#[cfg(not(unix))]
fn hangup_signal() -> Hangup {
    None
}

#[cfg(unix)]
async fn recv_hangup(hangup: &mut Hangup) -> Option<()> {
    match hangup {
        Some(signal) => signal.recv().await,
        None => std::future::pending().await,
    }
}
#[cfg(not(unix))]
async fn recv_hangup(_hangup: &mut Hangup) -> Option<()> {
    std::future::pending().await
}

/// The one crypto provider: ring.
pub fn crypto_provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

const VERSIONS: &[&rustls::SupportedProtocolVersion] =
    &[&rustls::version::TLS13, &rustls::version::TLS12];

fn build_context(
    files: &TlsFiles,
    required: Option<&RequiredIdentity>,
) -> Result<TlsContext, TlsError> {
    let roots = Arc::new(read_roots(&files.ca_bundle)?);
    let chain = read_chain(&files.certificate)?;
    let key = read_key(&files.private_key)?;
    let mut crls = Vec::new();
    for path in &files.crls {
        crls.extend(read_crls(path)?);
    }
    let identity = chain.first().and_then(identity_of);
    if let Some(required) = required {
        required
            .check(identity.as_ref())
            .map_err(|problem| TlsError::Content {
                key: "certificate",
                path: files.certificate.clone(),
                problem,
            })?;
    }
    let provider = crypto_provider();
    let config_error =
        |what: &str, error: &dyn std::fmt::Display| TlsError::Config(format!("{what}: {error}"));
    let key_error = |problem: String| TlsError::Content {
        key: "private_key",
        path: files.private_key.clone(),
        problem,
    };

    let server = |client_certificate: ServerKind, alpn: &[u8]| {
        let mut verifier =
            WebPkiClientVerifier::builder_with_provider(roots.clone(), provider.clone())
                .with_crls(crls.clone())
                .enforce_revocation_expiration();
        if client_certificate == ServerKind::Https {
            verifier = verifier.allow_unauthenticated();
        }
        let verifier = verifier
            .build()
            .map_err(|e| config_error("client certificate verifier", &e))?;
        let mut config = ServerConfig::builder_with_provider(provider.clone())
            .with_protocol_versions(VERSIONS)
            .map_err(|e| config_error("protocol versions", &e))?
            .with_client_cert_verifier(verifier)
            .with_single_cert(chain.clone(), key.clone_key())
            .map_err(|error| {
                key_error(format!(
                    "does not match tls.certificate or is unusable: {error}"
                ))
            })?;
        config.alpn_protocols = vec![alpn.to_vec()];
        Ok::<_, TlsError>(Arc::new(config))
    };
    let grpc_server = server(ServerKind::Grpc, b"h2")?;
    let https_server = server(ServerKind::Https, b"http/1.1")?;

    let server_verifier = WebPkiServerVerifier::builder_with_provider(roots, provider.clone())
        .with_crls(crls)
        .enforce_revocation_expiration()
        .build()
        .map_err(|e| config_error("server certificate verifier", &e))?;
    let mut client = ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(VERSIONS)
        .map_err(|e| config_error("protocol versions", &e))?
        .with_webpki_verifier(server_verifier)
        .with_client_auth_cert(chain, key)
        .map_err(|error| key_error(format!("cannot be used as a client certificate: {error}")))?;
    client.alpn_protocols = vec![b"h2".to_vec()];

    Ok(TlsContext {
        grpc_server,
        https_server,
        client: Arc::new(client),
    })
}

fn read(key: &'static str, path: &Path) -> Result<Vec<u8>, TlsError> {
    std::fs::read(path).map_err(|source| TlsError::Read {
        key,
        path: path.to_owned(),
        source,
    })
}

fn content_error(key: &'static str, path: &Path, problem: impl Into<String>) -> TlsError {
    TlsError::Content {
        key,
        path: path.to_owned(),
        problem: problem.into(),
    }
}

fn read_certificates(
    key: &'static str,
    path: &Path,
) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let pem = read(key, path)?;
    let certificates = CertificateDer::pem_slice_iter(&pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|error| content_error(key, path, format!("is not valid PEM: {error}")))?;
    if certificates.is_empty() {
        return Err(content_error(
            key,
            path,
            "holds no \"BEGIN CERTIFICATE\" block",
        ));
    }
    Ok(certificates)
}

fn read_roots(path: &Path) -> Result<RootCertStore, TlsError> {
    let mut roots = RootCertStore::empty();
    for certificate in read_certificates("ca_bundle", path)? {
        roots.add(certificate).map_err(|error| {
            content_error(
                "ca_bundle",
                path,
                format!("holds an unusable CA certificate: {error}"),
            )
        })?;
    }
    Ok(roots)
}

fn read_chain(path: &Path) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    read_certificates("certificate", path)
}

fn read_key(path: &Path) -> Result<PrivateKeyDer<'static>, TlsError> {
    let pem = read("private_key", path)?;
    PrivateKeyDer::from_pem_slice(&pem).map_err(|error| {
        content_error(
            "private_key",
            path,
            format!("holds no usable PEM private key: {error}"),
        )
    })
}

fn read_crls(path: &Path) -> Result<Vec<CertificateRevocationListDer<'static>>, TlsError> {
    let pem = read("crls", path)?;
    let crls = CertificateRevocationListDer::pem_slice_iter(&pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|error| content_error("crls", path, format!("is not valid PEM: {error}")))?;
    if crls.is_empty() {
        return Err(content_error(
            "crls",
            path,
            "holds no \"BEGIN X509 CRL\" block",
        ));
    }
    for crl in &crls {
        warn_if_stale(path, crl);
    }
    Ok(crls)
}

/// An expired CRL makes every handshake fail (revocation status unknown is
/// refused), so say so a week ahead, and loudly once it has happened.
fn warn_if_stale(path: &Path, crl: &CertificateRevocationListDer<'_>) {
    let Ok((_, parsed)) = x509_parser::parse_x509_crl(crl.as_ref()) else {
        return;
    };
    let Some(next_update) = parsed.next_update() else {
        return;
    };
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |since| since.as_secs() as i64);
    let left = next_update.timestamp() - now;
    if left <= 0 {
        tracing::error!(
            crl = %path.display(),
            "the CRL has expired: every TLS handshake is refused until a fresh one is installed \
             (lienthong pki crl)"
        );
    } else if left < 7 * 24 * 3600 {
        tracing::warn!(
            crl = %path.display(),
            days_left = left / (24 * 3600),
            "the CRL expires soon: write and distribute a fresh one (lienthong pki crl)"
        );
    }
}

/// The federation identity in a certificate's SAN URIs, if it has exactly one.
pub fn identity_of(certificate: &CertificateDer<'_>) -> Option<PeerIdentity> {
    use x509_parser::prelude::{FromDer, GeneralName, X509Certificate};
    let (_, parsed) = X509Certificate::from_der(certificate.as_ref()).ok()?;
    let names = parsed.subject_alternative_name().ok()??;
    let mut identities = names
        .value
        .general_names
        .iter()
        .filter_map(|name| match name {
            GeneralName::URI(uri) => PeerIdentity::from_uri(uri),
            _ => None,
        });
    let first = identities.next()?;
    identities.next().is_none().then_some(first)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reload_interval_that_is_not_a_time_is_refused_by_name() {
        for bad in ["nan", "inf", "0.0", "-1.0", "1e9"] {
            let text = format!(
                "ca_bundle = \"ca.crt\"\ncertificate = \"a.crt\"\nprivate_key = \"a.key\"\n\
                 reload_interval_seconds = {bad}\n"
            );
            let files: TlsFiles = toml::from_str(&text).expect("parses as TOML");
            let error = Transport::from_settings(Some(&files), Mode::MutualTls, None)
                .err()
                .expect("refused");
            assert!(
                error.to_string().contains("tls.reload_interval_seconds"),
                "{bad}: {error}"
            );
        }
    }
}
