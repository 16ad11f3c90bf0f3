//! Harness for security tests: a federation PKI in a temporary directory,
//! nodes and a gateway over mutual TLS with real certificates, and clients
//! presenting whichever certificate a test chooses.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use lienthong_gateway::{GatewayConfig, GatewayServer};
use lienthong_node::{NodeConfig, NodeServer};
use lienthong_pki::{IssueRequest, Pki};
use lienthong_proto::v1::federation_client::FederationClient;
use lienthong_proto::v1::province_node_client::ProvinceNodeClient;
use lienthong_runtime::identity::PeerIdentity;
use lienthong_runtime::tls::{Mode, NodeConnector, Tls, TlsFiles, Transport};
use lienthong_store::Store;
use tokio::sync::oneshot;
use tonic::transport::{Channel, Endpoint};

use crate::TestDatabase;

/// How often test servers look for changed certificates and CRLs.
pub const RELOAD_SECONDS: f64 = 0.1;

/// A federation CA in a temporary directory.
pub struct TestPki {
    pub pki: Pki,
    dir: tempfile::TempDir,
}

impl TestPki {
    pub fn new() -> TestPki {
        let dir = tempfile::tempdir().expect("temporary directory");
        let pki = Pki::init(dir.path(), "Test federation CA", 30).expect("create the CA");
        TestPki { pki, dir }
    }

    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// Issues a certificate valid now for `identity` (`node:hung-yen`), for
    /// localhost and 127.0.0.1; returns its files and serial.
    pub fn issue(&self, identity: &str) -> (TlsFiles, String) {
        let identity: PeerIdentity = identity.parse().expect("identity");
        self.issue_request(IssueRequest::for_days(identity, hosts(), 30))
    }

    /// Issues per `request`; returns its files and serial.
    pub fn issue_request(&self, request: IssueRequest) -> (TlsFiles, String) {
        let issued = self.pki.issue(&request).expect("issue");
        let mut files = TlsFiles::in_pki_dir(self.dir(), &request.identity);
        files.reload_interval_seconds = RELOAD_SECONDS;
        // Keep each issued pair apart, so a later issue for the same identity
        // (a rotation, an expired twin) does not replace this one's files.
        let serial = issued.certificate.serial.clone();
        let keep = |path: &Path| -> PathBuf {
            let kept = path.with_extension(format!(
                "{}.{}",
                &serial[..8],
                path.extension()
                    .and_then(|e| e.to_str())
                    .unwrap_or_default()
            ));
            std::fs::copy(path, &kept).expect("copy issued file");
            kept
        };
        files.certificate = keep(&issued.certificate_path);
        files.private_key = keep(&issued.key_path);
        (files, serial)
    }

    /// A certificate from this CA that carries no federation identity (a
    /// DNS name only), as another PKI might issue.
    pub fn issue_without_identity(&self) -> TlsFiles {
        let ca_key = rcgen::KeyPair::from_pem(
            &std::fs::read_to_string(self.dir().join("ca.key")).expect("CA key"),
        )
        .expect("CA key");
        let issuer = rcgen::Issuer::from_ca_cert_pem(
            &std::fs::read_to_string(self.dir().join("ca.crt")).expect("CA certificate"),
            &ca_key,
        )
        .expect("issuer");
        let key = rcgen::KeyPair::generate().expect("key");
        let mut params =
            rcgen::CertificateParams::new(vec!["somebody.example".to_owned()]).expect("params");
        params.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ClientAuth];
        let certificate = params.signed_by(&key, &issuer).expect("sign");
        let certificate_path = self.dir().join("no-identity.crt");
        let key_path = self.dir().join("no-identity.key");
        std::fs::write(&certificate_path, certificate.pem()).expect("write");
        std::fs::write(&key_path, key.serialize_pem()).expect("write");
        TlsFiles {
            ca_bundle: self.dir().join("ca.crt"),
            certificate: certificate_path,
            private_key: key_path,
            crls: vec![self.dir().join("crl.pem")],
            reload_interval_seconds: RELOAD_SECONDS,
        }
    }
}

impl Default for TestPki {
    fn default() -> Self {
        TestPki::new()
    }
}

/// The hosts test server certificates cover.
pub fn hosts() -> Vec<String> {
    vec!["localhost".into(), "127.0.0.1".into()]
}

/// A node over mutual TLS with a given sharing policy.
pub struct SecureNode {
    pub node_id: String,
    pub grpc_addr: SocketAddr,
    /// `/metrics` and `/healthz`.
    pub admin_addr: SocketAddr,
    /// The OAI-PMH (HTTPS) listener, when the node was started with `[oai]`.
    pub oai_addr: Option<SocketAddr>,
    pub store: Store,
    /// The TLS files the node serves with (rewrite them to rotate).
    pub tls: TlsFiles,
    stop: Option<oneshot::Sender<()>>,
    _policy: tempfile::TempPath,
    _search_index: tempfile::TempDir,
}

impl SecureNode {
    pub async fn start(
        pki: &TestPki,
        node_id: &str,
        database: &TestDatabase,
        policy: &str,
    ) -> SecureNode {
        SecureNode::start_with(pki, node_id, &database.url, policy, "").await
    }

    /// As [`SecureNode::start`], over the database at `database_url`, with
    /// `extra_toml` added to the config.
    pub async fn start_with(
        pki: &TestPki,
        node_id: &str,
        database_url: &str,
        policy: &str,
        extra_toml: &str,
    ) -> SecureNode {
        SecureNode::try_start(pki, node_id, database_url, policy, extra_toml)
            .await
            .expect("start the secure node")
    }

    /// As [`SecureNode::start_with`], returning why the node would not start.
    pub async fn try_start(
        pki: &TestPki,
        node_id: &str,
        database_url: &str,
        policy: &str,
        extra_toml: &str,
    ) -> Result<SecureNode, String> {
        SecureNode::try_start_at(
            pki,
            node_id,
            database_url,
            policy,
            extra_toml,
            "127.0.0.1:0",
        )
        .await
    }

    /// As [`SecureNode::start_with`], in the aggregator role (the national
    /// node): `extra_toml` must follow at least one peer.
    pub async fn start_aggregator(
        pki: &TestPki,
        node_id: &str,
        database_url: &str,
        policy: &str,
        extra_toml: &str,
    ) -> SecureNode {
        SecureNode::launch(
            pki,
            node_id,
            database_url,
            policy,
            extra_toml,
            "127.0.0.1:0",
            "role = \"aggregator\"\n",
        )
        .await
        .expect("start the aggregator")
    }

    /// As [`SecureNode::try_start`], listening on `listen` (to come back on
    /// the same address after a stop).
    pub async fn try_start_at(
        pki: &TestPki,
        node_id: &str,
        database_url: &str,
        policy: &str,
        extra_toml: &str,
        listen: &str,
    ) -> Result<SecureNode, String> {
        SecureNode::launch(pki, node_id, database_url, policy, extra_toml, listen, "").await
    }

    async fn launch(
        pki: &TestPki,
        node_id: &str,
        database_url: &str,
        policy: &str,
        extra_toml: &str,
        listen: &str,
        node_keys: &str,
    ) -> Result<SecureNode, String> {
        let (files, _) = pki.issue(&format!("node:{node_id}"));
        let policy = crate::policy_file(policy);
        let (search_index, search_toml) = crate::search_index_section();
        let config = NodeConfig::from_toml(&format!(
            "[node]\nid = \"{node_id}\"\ndisplay_name = \"Sở KH&CN {node_id}\"\n{node_keys}\
             [database]\nurl = \"{}\"\nmax_connections = 4\n\
             [sharing]\npolicy = \"{}\"\n{search_toml}\
             [grpc]\nlisten = \"{listen}\"\nconcurrency_per_connection = 256\n\
             [admin]\nlisten = \"127.0.0.1:0\"\n{}\n{extra_toml}",
            database_url,
            policy.display(),
            files.to_toml()
        ))
        .expect("secure node config");
        let server = NodeServer::bind(config, Mode::MutualTls)
            .await
            .map_err(|error| error.to_string())?;
        let (grpc_addr, admin_addr, oai_addr, store) = (
            server.grpc_addr(),
            server.admin_addr(),
            server.oai_addr(),
            server.store().clone(),
        );
        let (stop, stopped) = oneshot::channel();
        tokio::spawn(server.serve(async move {
            let _ = stopped.await;
        }));
        Ok(SecureNode {
            node_id: node_id.to_owned(),
            grpc_addr,
            admin_addr,
            oai_addr,
            store,
            tls: files,
            stop: Some(stop),
            _policy: policy,
            _search_index: search_index,
        })
    }

    pub fn url(&self) -> String {
        format!("https://{}", self.grpc_addr)
    }
}

impl Drop for SecureNode {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// The gateway over mutual TLS, identity `gateway:national`.
pub struct SecureGateway {
    pub grpc_addr: SocketAddr,
    pub http_addr: SocketAddr,
    /// `/metrics` and `/healthz`.
    pub admin_addr: SocketAddr,
    pub database_url: String,
    stop: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<Result<(), lienthong_gateway::GatewayError>>>,
    _dir: tempfile::TempDir,
}

impl SecureGateway {
    /// A gateway over `nodes` (id, https URL) with `extra_toml` added.
    pub async fn start(pki: &TestPki, nodes: &[(&str, String)], extra_toml: &str) -> SecureGateway {
        let (files, _) = pki.issue("gateway:national");
        let dir = tempfile::tempdir().expect("temporary directory");
        let database_url = format!("sqlite://{}", dir.path().join("gateway.db").display());
        let mut toml = format!(
            "[gateway]\nid = \"national\"\n[grpc]\nlisten = \"127.0.0.1:0\"\n\
             [http]\nlisten = \"127.0.0.1:0\"\n[admin]\nlisten = \"127.0.0.1:0\"\n[database]\nurl = \"{database_url}\"\n\
             {}\n{extra_toml}\n",
            files.to_toml()
        );
        for (id, url) in nodes {
            toml.push_str(&format!(
                "[[nodes]]\nid = \"{id}\"\ndisplay_name = \"Sở KH&CN {id}\"\nendpoint = \"{url}\"\n"
            ));
        }
        let config = GatewayConfig::from_toml(&toml).expect("secure gateway config");
        let server = GatewayServer::bind(config, Mode::MutualTls)
            .await
            .expect("bind the secure gateway");
        let (grpc_addr, http_addr, admin_addr) =
            (server.grpc_addr(), server.http_addr(), server.admin_addr());
        let (stop, stopped) = oneshot::channel();
        let task = tokio::spawn(server.serve(async move {
            let _ = stopped.await;
        }));
        SecureGateway {
            grpc_addr,
            http_addr,
            admin_addr,
            database_url,
            stop: Some(stop),
            task: Some(task),
            _dir: dir,
        }
    }

    pub fn url(&self) -> String {
        format!("https://{}", self.grpc_addr)
    }

    /// Signals shutdown and waits (up to `limit`) for the gateway to stop;
    /// returns how long it took, or `None` if it was still running.
    pub async fn shut_down(mut self, limit: std::time::Duration) -> Option<std::time::Duration> {
        let started = std::time::Instant::now();
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let task = self.task.take()?;
        match tokio::time::timeout(limit, task).await {
            Ok(_) => Some(started.elapsed()),
            Err(_) => None,
        }
    }

    /// A token that does not expire for `user` with `role`.
    pub async fn token(&self, user: &str, role: lienthong_gateway::auth::UserRole) -> String {
        lienthong_gateway::auth::TokenStore::open(self.database().await)
            .await
            .expect("token table")
            .create(user, role, None)
            .await
            .expect("create a token")
            .0
    }

    /// The gateway's database, e.g. to create tokens or read its audit log.
    pub async fn database(&self) -> sqlx::AnyPool {
        lienthong_store::connect(&self.database_url, 2)
            .await
            .expect("open the gateway database")
            .0
    }
}

impl Drop for SecureGateway {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// A channel to `url` presenting `files` (or plaintext when `None`).
/// Connection errors (refused handshakes) are returned, not panicked on.
pub async fn connect(
    url: &str,
    files: Option<&TlsFiles>,
) -> Result<Channel, tonic::transport::Error> {
    let transport = match files {
        Some(files) => Transport::MutualTls(Tls::load(files).expect("client TLS files")),
        None => Transport::InsecurePlaintext,
    };
    Endpoint::from_shared(url.to_owned())
        .expect("url")
        .connect_timeout(std::time::Duration::from_secs(5))
        .connect_with_connector(NodeConnector::new(transport, None))
        .await
}

/// A node client presenting `files`.
pub async fn node_client(url: &str, files: &TlsFiles) -> ProvinceNodeClient<Channel> {
    ProvinceNodeClient::new(
        connect(url, Some(files))
            .await
            .expect("connect to the node"),
    )
}

/// A gateway client presenting `files`.
pub async fn gateway_client(url: &str, files: &TlsFiles) -> FederationClient<Channel> {
    FederationClient::new(
        connect(url, Some(files))
            .await
            .expect("connect to the gateway"),
    )
}

/// A rustls client configuration trusting `ca`, presenting `client` (or no
/// certificate), offering `alpn`: for tests that speak TLS by hand.
pub fn raw_client_config(
    ca: &Path,
    client: Option<&TlsFiles>,
    alpn: &[&[u8]],
) -> Arc<rustls::ClientConfig> {
    use rustls_pki_types::pem::PemObject;
    let mut roots = rustls::RootCertStore::empty();
    for certificate in rustls_pki_types::CertificateDer::pem_file_iter(ca).expect("CA") {
        roots
            .add(certificate.expect("CA certificate"))
            .expect("add CA");
    }
    let builder =
        rustls::ClientConfig::builder_with_provider(lienthong_runtime::tls::crypto_provider())
            .with_safe_default_protocol_versions()
            .expect("versions")
            .with_root_certificates(roots);
    let mut config = match client {
        None => builder.with_no_client_auth(),
        Some(files) => builder
            .with_client_auth_cert(
                rustls_pki_types::CertificateDer::pem_file_iter(&files.certificate)
                    .expect("certificate")
                    .map(|certificate| certificate.expect("certificate"))
                    .collect(),
                rustls_pki_types::PrivateKeyDer::from_pem_file(&files.private_key).expect("key"),
            )
            .expect("client certificate"),
    };
    config.alpn_protocols = alpn.iter().map(|protocol| protocol.to_vec()).collect();
    Arc::new(config)
}

/// A TLS connection to `address` (as 127.0.0.1) with `config`.
pub async fn raw_tls(
    address: SocketAddr,
    config: Arc<rustls::ClientConfig>,
) -> std::io::Result<tokio_rustls::client::TlsStream<tokio::net::TcpStream>> {
    let tcp = tokio::net::TcpStream::connect(address).await?;
    let name = rustls_pki_types::ServerName::try_from("127.0.0.1").expect("name");
    tokio_rustls::TlsConnector::from(config)
        .connect(name, tcp)
        .await
}

/// An HTTPS GET to the gateway's API without a client certificate;
/// returns the status code and body.
pub async fn https_get(
    address: SocketAddr,
    ca_bundle: &Path,
    path: &str,
    bearer: Option<&str>,
) -> (u16, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    let config = raw_client_config(ca_bundle, None, &[b"http/1.1"]);
    let mut stream = raw_tls(address, config).await.expect("TLS handshake");
    let authorization = bearer
        .map(|token| format!("Authorization: Bearer {token}\r\n"))
        .unwrap_or_default();
    let request = format!(
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{authorization}Connection: close\r\n\r\n"
    );
    stream.write_all(request.as_bytes()).await.expect("send");
    let mut response = Vec::new();
    let _ = stream.read_to_end(&mut response).await;
    let text = String::from_utf8_lossy(&response).into_owned();
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .expect("HTTP status line");
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, body)| body.to_owned())
        .unwrap_or_default();
    (status, body)
}

/// An HTTPS request sent from `source` (a loopback address), without a
/// client certificate; returns the status code.
pub async fn https_status_from(
    source: &str,
    address: SocketAddr,
    ca: &std::path::Path,
    request: &str,
) -> std::io::Result<u16> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    let socket = tokio::net::TcpSocket::new_v4()?;
    socket.bind(format!("{source}:0").parse().expect("address"))?;
    let tcp = socket.connect(address).await?;
    let name = rustls_pki_types::ServerName::try_from("127.0.0.1").expect("name");
    let mut stream = tokio_rustls::TlsConnector::from(raw_client_config(ca, None, &[b"http/1.1"]))
        .connect(name, tcp)
        .await?;
    stream.write_all(request.as_bytes()).await?;
    let mut response = Vec::new();
    let _ = stream.read_to_end(&mut response).await;
    let text = String::from_utf8_lossy(&response);
    text.split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .ok_or_else(|| std::io::Error::other(format!("no status line in {text:?}")))
}

/// Every entry of the audit log in `pool`, oldest first.
pub async fn audit_entries(pool: &sqlx::AnyPool) -> Vec<lienthong_audit::StoredEntry> {
    let mut out = Vec::new();
    lienthong_audit::export(pool, None, &mut out)
        .await
        .expect("export the audit log");
    String::from_utf8(out)
        .expect("utf-8")
        .lines()
        .map(|line| serde_json::from_str(line).expect("an audit entry"))
        .collect()
}
