//! The federation gateway of Liên thông.
//!
//! It asks every province node in parallel, merges their ranked answers (nodes
//! score hits on a common scale, see `lienthong.v1.HitRank`), and reports per
//! node whether it answered. It speaks to nodes only over gRPC, never to their
//! databases.
//!
//! - [`config`]: the node registry and limits.
//! - [`transport`]: every channel to a node is built there.
//! - [`registry`]: one call to one node (breaker, concurrency limit, deadline,
//!   retries) and the parallel fan-out.
//! - [`federated_search`]: merging pages from many nodes; [`twins`]: when two
//!   provinces' records are one.
//! - [`federation`]: the operations; [`service`] serves them over gRPC and
//!   [`http_api`] over HTTP/JSON.
//! - [`web`]: the pages department staff use, over the same operations.
//! - [`auth`]: tokens, web users and sessions, certificate users, roles and
//!   rate limits;
//!   [`access`]: admission, the user's identity sent to nodes, and the audit
//!   log.

#![forbid(unsafe_code)]

pub mod access;
pub use lienthong_peer_client::{breaker, registry, retry_budget, transport};
pub mod admin;
pub mod auth;
pub mod config;
pub mod federated_search;
pub mod federation;
pub mod http_api;
pub mod page_token;
pub mod request_error;
pub mod service;
pub mod twins;
pub mod web;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use lienthong_proto::v1::federation_server::FederationServer;
use lienthong_runtime::identity::PeerRole;
use lienthong_runtime::tls::{Mode, RequiredIdentity, ServerKind, Transport};
use tokio::net::TcpListener;

pub use config::GatewayConfig;
use federation::Federation;
use service::FederationService;

/// Why the gateway could not start or stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum GatewayError {
    #[error(transparent)]
    Config(#[from] config::ConfigError),
    #[error("cannot listen on {address} ({key}): {source}")]
    Bind {
        key: &'static str,
        address: SocketAddr,
        source: std::io::Error,
    },
    #[error("gateway failed: {0}")]
    Serve(String),
    #[error(transparent)]
    Tls(#[from] lienthong_runtime::tls::TlsError),
    #[error("gateway database: {0}")]
    Database(String),
}

/// A gateway whose listeners are bound. Node channels connect on first use.
pub struct GatewayServer {
    config: GatewayConfig,
    federation: Arc<Federation>,
    transport: Transport,
    database: sqlx::AnyPool,
    audit_task: tokio::task::JoinHandle<()>,
    grpc: TcpListener,
    http: TcpListener,
    admin: TcpListener,
}

impl GatewayServer {
    /// Loads the TLS material, opens the gateway's database (tokens and audit
    /// log), builds the node channels and binds the gRPC and HTTP listeners.
    pub async fn bind(config: GatewayConfig, mode: Mode) -> Result<GatewayServer, GatewayError> {
        let required = RequiredIdentity {
            role: PeerRole::Gateway,
            name: None,
        };
        let transport = Transport::from_settings(config.tls.as_ref(), mode, Some(required))?;
        let database = open_database(&config).await?;
        let tokens = auth::TokenStore::open(database.clone())
            .await
            .map_err(|error| GatewayError::Database(error.to_string()))?;
        let users = auth::UserStore::open(database.clone())
            .await
            .map_err(|error| GatewayError::Database(error.to_string()))?;
        let lifetime = config
            .auth
            .session_lifetime()
            .map_err(|message| GatewayError::Config(config::ConfigError(message)))?;
        let sessions = auth::SessionStore::open(database.clone(), lifetime)
            .await
            .map_err(|error| GatewayError::Database(error.to_string()))?;
        let authenticator = auth::Authenticator::new(
            tokens,
            users,
            sessions,
            &config.auth,
            matches!(transport, Transport::InsecurePlaintext),
        )
        .map_err(|message| GatewayError::Config(config::ConfigError(message)))?;
        let (audit, audit_task) = lienthong_audit::start(&database, &config.audit)
            .await
            .map_err(|error| GatewayError::Database(error.to_string()))?;
        let refusals =
            lienthong_audit::RefusalLog::start(audit.clone(), config.audit.refusal_interval());
        let access = access::GatewayAccess::new(authenticator, audit, refusals, database.clone());
        let secret = lienthong_store::server_secret(&database, "page_tokens")
            .await
            .map_err(|error| GatewayError::Database(error.to_string()))?;
        let seal = lienthong_store::TokenSeal::new(&secret);
        let federation = Arc::new(
            Federation::new(&config, &transport, access, seal).map_err(GatewayError::Serve)?,
        );
        let grpc = listen("grpc.listen", config.grpc.listen).await?;
        let http = listen("http.listen", config.http.listen).await?;
        let admin = listen("admin.listen", config.admin.listen).await?;
        Ok(GatewayServer {
            config,
            federation,
            transport,
            database,
            audit_task,
            grpc,
            http,
            admin,
        })
    }

    /// The gateway's database (tokens and the audit log).
    pub fn database(&self) -> &sqlx::AnyPool {
        &self.database
    }

    /// The bound gRPC address.
    pub fn grpc_addr(&self) -> SocketAddr {
        self.grpc.local_addr().unwrap_or(self.config.grpc.listen)
    }

    /// The bound HTTP address.
    pub fn http_addr(&self) -> SocketAddr {
        self.http.local_addr().unwrap_or(self.config.http.listen)
    }

    /// The bound admin HTTP address (`/metrics`, `/healthz`).
    pub fn admin_addr(&self) -> SocketAddr {
        self.admin.local_addr().unwrap_or(self.config.admin.listen)
    }

    /// Serves until `shutdown` completes, then lets in-flight requests finish
    /// within `limits.shutdown_grace_ms`.
    pub async fn serve(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Result<(), GatewayError> {
        let GatewayServer {
            config,
            federation,
            transport,
            database,
            audit_task,
            grpc,
            http,
            admin,
        } = self;
        let limits = config.limits.clone();
        let tls_watch = transport.tls().map(|tls| tls.watch());
        let retention =
            lienthong_audit::spawn_retention(database.clone(), config.audit.retention_days);
        let session_purge = spawn_session_purge(federation.access().sessions().clone());
        let grpc_addr = grpc.local_addr().ok();
        let http_addr = http.local_addr().ok();
        let admin_addr = admin.local_addr().ok();

        let (health, health_service) = tonic_health::server::health_reporter();
        health
            .set_serving::<FederationServer<FederationService>>()
            .await;
        let descriptor_sets = [
            lienthong_proto::FILE_DESCRIPTOR_SET,
            tonic_health::pb::FILE_DESCRIPTOR_SET,
        ];
        let served = ["lienthong.v1.Federation", "grpc.health.v1.Health"];
        let (reflection_v1, reflection_v1alpha) =
            lienthong_runtime::reflection::services(&descriptor_sets, &served)
                .map_err(GatewayError::Serve)?;
        let methods = Arc::new(
            lienthong_runtime::reflection::method_paths(&descriptor_sets, &served)
                .map_err(GatewayError::Serve)?,
        );
        let federation_service = FederationServer::new(FederationService::new(federation.clone()))
            .max_decoding_message_size(config.limits.grpc_max_request_bytes)
            .max_encoding_message_size(config.grpc.max_message_bytes);

        // One shutdown signal fans out to every listener.
        let stop = lienthong_runtime::shutdown::Stop::on(shutdown);

        let http_router = http_api::router(federation.clone());
        let http_incoming =
            lienthong_runtime::tls::incoming(http, transport.clone(), ServerKind::Https, &limits);
        let http_stopped = stop.clone().stopped();
        let http_limits = limits.clone();
        let http_task = tokio::spawn(async move {
            lienthong_runtime::http_server::serve(
                http_incoming,
                &http_limits,
                |peer| {
                    let peer = axum::extract::ConnectInfo(http_api::HttpsPeer(peer.clone()));
                    tower::ServiceExt::map_request(
                        http_router.clone(),
                        move |mut request: axum::extract::Request<hyper::body::Incoming>| {
                            request.extensions_mut().insert(peer.clone());
                            request
                        },
                    )
                },
                http_stopped,
            )
            .await
        });

        let admin_router = admin::router(federation.clone());
        let admin_stopped = stop.clone().stopped();
        let admin_task = tokio::spawn(async move {
            axum::serve(admin, admin_router)
                .with_graceful_shutdown(admin_stopped)
                .await
        });

        tracing::info!(
            gateway = %config.gateway.id,
            grpc = ?grpc_addr,
            http = ?http_addr,
            admin = ?admin_addr,
            nodes = federation.registry().nodes().len(),
            "gateway serving"
        );
        let peer_gate = peer_gate(
            &limits,
            methods.clone(),
            federation.access().refusals().clone(),
        );
        let grpc_stopped = stop.clone().stopped();
        let health_on_stop = health.clone();
        // A request runs at most its federation deadline, plus a margin to
        // answer with what it has; a client that never finishes sending one
        // is cut then too.
        let request_timeout =
            std::time::Duration::from_millis(config.federation.request_timeout_ms + 1_000);
        let serving = limits
            .grpc_server()
            .timeout(request_timeout)
            .layer(lienthong_runtime::telemetry::RpcTelemetryLayer::new(
                &config.gateway.id,
                methods,
            ))
            .layer(peer_gate)
            .add_service(health_service)
            .add_service(reflection_v1)
            .add_service(reflection_v1alpha)
            .add_service(federation_service)
            .serve_with_incoming_shutdown(
                lienthong_runtime::tls::incoming(grpc, transport, ServerKind::Grpc, &limits),
                async move {
                    grpc_stopped.await;
                    health_on_stop
                        .set_not_serving::<FederationServer<FederationService>>()
                        .await;
                    tracing::info!("gateway shutting down: finishing requests in flight");
                },
            );
        let result = lienthong_runtime::shutdown::within_grace(
            serving,
            stop.stopped(),
            limits.shutdown_grace(),
        )
        .await
        .unwrap_or(Ok(()))
        .map_err(|error| GatewayError::Serve(error.to_string()));
        if let Err(error) = http_task.await {
            tracing::warn!(%error, "HTTP listener task failed");
        }
        match tokio::time::timeout(limits.shutdown_grace(), admin_task).await {
            Ok(Ok(Ok(()))) => {}
            Ok(Ok(Err(error))) => tracing::warn!(%error, "admin listener failed"),
            Ok(Err(error)) => tracing::warn!(%error, "admin listener task failed"),
            Err(_) => tracing::warn!("admin listener still open after the shutdown grace"),
        }
        // The servers are gone, and with them every other audit writer
        // handle: write the counted refusals and the last entries (at most
        // the grace) before closing the database.
        let refusals = federation.access().refusals().clone();
        drop(federation);
        lienthong_audit::finish(refusals, audit_task, limits.shutdown_grace()).await;
        retention.abort();
        session_purge.abort();
        if let Some(watch) = tls_watch {
            watch.abort();
        }
        if tokio::time::timeout(limits.shutdown_grace(), database.close())
            .await
            .is_err()
        {
            tracing::warn!("database connections still in use after the shutdown grace");
        }
        tracing::info!(gateway = %config.gateway.id, "gateway stopped");
        result
    }
}

/// Health, reflection and invented paths draw on a budget per peer; the
/// federation's own calls are limited per user in `[auth]`. Refusals are
/// audited through `refusals`.
fn peer_gate(
    limits: &lienthong_runtime::limits::ServerLimits,
    methods: Arc<std::collections::HashSet<String>>,
    refusals: lienthong_audit::RefusalLog,
) -> lienthong_runtime::peer_gate::PeerGateLayer {
    lienthong_runtime::peer_gate::PeerGateLayer::new(
        limits,
        methods,
        lienthong_runtime::peer_gate::Budgeted::AllBut("/lienthong.v1.Federation/".into()),
        refusals.hook(),
    )
}

/// Removes ended web sessions every ten minutes.
fn spawn_session_purge(sessions: auth::SessionStore) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut every = tokio::time::interval(std::time::Duration::from_secs(600));
        loop {
            every.tick().await;
            match sessions.purge_expired().await {
                Ok(0) => {}
                Ok(removed) => tracing::info!(removed, "ended web sessions removed"),
                Err(error) => tracing::warn!(%error, "cannot remove ended web sessions"),
            }
        }
    })
}

async fn open_database(config: &GatewayConfig) -> Result<sqlx::AnyPool, GatewayError> {
    let (pool, _) = lienthong_store::connect(config.database.url.expose(), 4)
        .await
        .map_err(|error| GatewayError::Database(error.to_string()))?;
    Ok(pool)
}

/// Binds `address`; an error names the config key that set it.
async fn listen(key: &'static str, address: SocketAddr) -> Result<TcpListener, GatewayError> {
    TcpListener::bind(address)
        .await
        .map_err(|source| GatewayError::Bind {
            key,
            address,
            source,
        })
}
