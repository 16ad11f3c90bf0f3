//! The province node: a gRPC service (tonic) over the node's own store,
//! served over mutual TLS, with a deny-by-default sharing policy, a
//! tamper-evident audit log, health checking, server reflection (v1 and
//! v1alpha), Prometheus metrics, `/healthz`, and graceful shutdown.
//!
//! [`NodeServer::bind`] opens the store and binds both listeners, reporting the
//! addresses it got (so tests can ask for port 0); [`NodeServer::serve`] runs
//! until the shutdown future completes, lets in-flight calls finish, and closes
//! the database.

#![forbid(unsafe_code)]

pub mod access;
pub mod admin;
pub mod change_feed;
pub mod config;
pub mod disclosure;
pub mod harvest;
pub mod ingest;
pub mod policy;
pub mod record_files;
pub mod service;
pub mod status;
pub mod subscriber;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use lienthong_proto::v1::ingest_server::IngestServer;
use lienthong_proto::v1::province_node_server::ProvinceNodeServer;
use lienthong_runtime::identity::PeerRole;
use lienthong_runtime::tls::{Mode, RequiredIdentity, ServerKind, Transport};
use lienthong_store::Store;
use tokio::net::TcpListener;

use crate::policy::SharingPolicy;

pub use config::NodeConfig;
pub use lienthong_runtime::{shutdown_signal, telemetry};

/// Why a node could not start or stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum NodeError {
    #[error(transparent)]
    Config(#[from] config::ConfigError),
    #[error("database: {0}")]
    Store(#[from] lienthong_store::StoreError),
    #[error(transparent)]
    Tls(#[from] lienthong_runtime::tls::TlsError),
    #[error(transparent)]
    Policy(#[from] policy::PolicyError),
    #[error(transparent)]
    Audit(#[from] lienthong_audit::AuditError),
    #[error("cannot listen on {address} ({key}): {source}")]
    Bind {
        key: &'static str,
        address: SocketAddr,
        source: std::io::Error,
    },
    #[error("gRPC server failed: {0}")]
    Serve(String),
}

/// A node whose store is open and whose listeners are bound.
pub struct NodeServer {
    config: NodeConfig,
    store: Store,
    transport: Transport,
    policy: SharingPolicy,
    audit: lienthong_audit::AuditWriter,
    audit_task: tokio::task::JoinHandle<()>,
    grpc: TcpListener,
    admin: TcpListener,
    /// The OAI-PMH listener, when `[oai]` is configured.
    oai: Option<TcpListener>,
}

impl NodeServer {
    /// Loads the TLS material and the sharing policy, opens the store
    /// (creating and migrating it if needed), starts the audit log and binds
    /// the gRPC and admin listeners.
    pub async fn bind(config: NodeConfig, mode: Mode) -> Result<NodeServer, NodeError> {
        let required = RequiredIdentity {
            role: PeerRole::Node,
            name: Some(config.node.id.clone()),
        };
        let transport = Transport::from_settings(config.tls.as_ref(), mode, Some(required))?;
        let policy = match &config.sharing.policy {
            Some(path) => SharingPolicy::load(path)?,
            None => {
                tracing::warn!(
                    "no sharing.policy configured: every call from another party is refused"
                );
                SharingPolicy::deny_all()
            }
        };
        let store = Store::open(&config.store_options()).await?;
        // A log that cannot be continued (cut, or edited at its end) stops
        // the node here, before it listens.
        let (audit, audit_task) = lienthong_audit::start(store.pool(), &config.audit).await?;
        let grpc = listen("grpc.listen", config.grpc.listen).await?;
        let admin = listen("admin.listen", config.admin.listen).await?;
        let oai = match &config.oai {
            Some(oai) => Some(listen("oai.listen", oai.listen).await?),
            None => None,
        };
        Ok(NodeServer {
            config,
            store,
            transport,
            policy,
            audit,
            audit_task,
            grpc,
            admin,
            oai,
        })
    }

    /// The bound gRPC address.
    pub fn grpc_addr(&self) -> SocketAddr {
        self.grpc.local_addr().unwrap_or(self.config.grpc.listen)
    }

    /// The bound admin HTTP address.
    pub fn admin_addr(&self) -> SocketAddr {
        self.admin.local_addr().unwrap_or(self.config.admin.listen)
    }

    /// The bound OAI-PMH (HTTPS) address, when `[oai]` is configured.
    pub fn oai_addr(&self) -> Option<SocketAddr> {
        self.oai.as_ref().and_then(|oai| oai.local_addr().ok())
    }

    /// The node's store.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// Serves until `shutdown` completes, then stops accepting calls, lets the
    /// ones in flight finish, and closes the database.
    pub async fn serve(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Result<(), NodeError> {
        let NodeServer {
            config,
            store,
            transport,
            policy,
            audit,
            audit_task,
            grpc,
            admin,
            oai,
        } = self;
        let refusals =
            lienthong_audit::RefusalLog::start(audit.clone(), config.audit.refusal_interval());
        let retention =
            lienthong_audit::spawn_retention(store.pool().clone(), config.audit.retention_days);
        let index_refresh = spawn_index_refresh(
            store.clone(),
            config.node.id.clone(),
            config.search.refresh_ms,
        );
        let tls_watch = transport.tls().map(|tls| tls.watch());
        let node_id = config.node.id.clone();
        let grpc_addr = grpc.local_addr().ok();
        let admin_addr = admin.local_addr().ok();

        let (health, health_service) = tonic_health::server::health_reporter();
        health
            .set_serving::<ProvinceNodeServer<service::NodeService>>()
            .await;
        let descriptor_sets = [
            lienthong_proto::FILE_DESCRIPTOR_SET,
            tonic_health::pb::FILE_DESCRIPTOR_SET,
        ];
        let served = [
            "lienthong.v1.ProvinceNode",
            "lienthong.v1.Ingest",
            "grpc.health.v1.Health",
        ];
        let (reflection_v1, reflection_v1alpha) =
            lienthong_runtime::reflection::services(&descriptor_sets, &served)
                .map_err(NodeError::Serve)?;
        let methods = Arc::new(
            lienthong_runtime::reflection::method_paths(&descriptor_sets, &served)
                .map_err(NodeError::Serve)?,
        );
        let subscriber =
            subscriber::Subscriber::new(&config, store.clone(), &transport, audit.clone())
                .map_err(NodeError::Serve)?;
        let ingest_policy = policy.clone();
        let access = access::Access::new(policy, audit, refusals.clone());
        let node_service_access = access.clone();
        let peer_gate = peer_gate(
            &config.limits,
            methods.clone(),
            access.refusals().clone(),
            ingest_policy,
        );
        let ingest_service = ingest::batch_gate::BatchGate::new(
            IngestServer::new(ingest::IngestService::new(
                ingest::Writer::new(store.clone()),
                access.clone(),
            ))
            .max_decoding_message_size(config.ingest.max_request_bytes)
            .max_encoding_message_size(config.grpc.max_message_bytes),
            config.ingest.max_request_bytes,
        );
        let node_service = ProvinceNodeServer::new(service::NodeService::new(
            store.clone(),
            config.node.display_name.clone(),
            access,
        ))
        .max_decoding_message_size(config.limits.grpc_max_request_bytes)
        .max_encoding_message_size(config.grpc.max_message_bytes);

        // One shutdown signal fans out to both listeners.
        let stop = lienthong_runtime::shutdown::Stop::on(shutdown);

        let admin_router = admin::router(store.clone());
        let admin_stopped = stop.clone().stopped();
        let admin_task = tokio::spawn(async move {
            axum::serve(admin, admin_router)
                .with_graceful_shutdown(admin_stopped)
                .await
        });

        let oai_task = match (oai, &config.oai) {
            (Some(listener), Some(oai_config)) => {
                let endpoint = Arc::new(harvest::Endpoint::new(
                    &config,
                    oai_config,
                    store.clone(),
                    node_service_access.clone(),
                ));
                tracing::info!(
                    oai = ?listener.local_addr().ok(),
                    base_url = %oai_config.base_url(),
                    "serving OAI-PMH"
                );
                Some(spawn_oai(
                    listener,
                    endpoint,
                    transport.clone(),
                    config.limits.clone(),
                    stop.clone().stopped(),
                ))
            }
            _ => None,
        };

        let following = subscriber.map(|subscriber| {
            tracing::info!(peers = ?subscriber.peers(), "following peers' change feeds");
            tokio::spawn(subscriber.run(stop.clone().stopped()))
        });

        tracing::info!(node = %node_id, grpc = ?grpc_addr, admin = ?admin_addr, "node serving");
        let grpc_stopped = stop.clone().stopped();
        let health_on_stop = health.clone();
        let limits = &config.limits;
        let serving = limits
            .grpc_server()
            .timeout(Duration::from_millis(config.grpc.request_timeout_ms))
            .concurrency_limit_per_connection(config.grpc.concurrency_per_connection)
            .layer(telemetry::RpcTelemetryLayer::new(&node_id, methods))
            .layer(peer_gate)
            .add_service(health_service)
            .add_service(reflection_v1)
            .add_service(reflection_v1alpha)
            .add_service(node_service)
            .add_service(ingest_service)
            .serve_with_incoming_shutdown(
                lienthong_runtime::tls::incoming(grpc, transport, ServerKind::Grpc, limits),
                async move {
                    grpc_stopped.await;
                    health_on_stop
                        .set_not_serving::<ProvinceNodeServer<service::NodeService>>()
                        .await;
                    tracing::info!("shutting down: finishing calls in flight");
                },
            );
        let result = lienthong_runtime::shutdown::within_grace(
            serving,
            stop.stopped(),
            limits.shutdown_grace(),
        )
        .await
        .unwrap_or(Ok(()))
        .map_err(|error| NodeError::Serve(error.to_string()));
        if let Some(following) = following {
            let _ = following.await;
        }
        // The service (and with it every other audit writer handle) is gone:
        // write the counted refusals and the last entries before closing the
        // database. Calls cut at the end of the grace may still hold a
        // handle: wait that long.
        lienthong_audit::finish(refusals, audit_task, limits.shutdown_grace()).await;
        retention.abort();
        index_refresh.abort();
        if let Some(watch) = tls_watch {
            watch.abort();
        }
        if let Some(oai_task) = oai_task
            && let Err(error) = oai_task.await
        {
            tracing::warn!(%error, "OAI-PMH listener task failed");
        }
        match admin_task.await {
            Ok(Ok(())) => {}
            Ok(Err(error)) => tracing::warn!(%error, "admin listener failed"),
            Err(error) => tracing::warn!(%error, "admin listener task failed"),
        }
        if tokio::time::timeout(config.limits.shutdown_grace(), store.close())
            .await
            .is_err()
        {
            tracing::warn!("database connections still in use after the shutdown grace");
        }
        tracing::info!(node = %node_id, "node stopped; database closed");
        result
    }
}

/// The per-peer budget, the unknown-method refusal, and the Ingest service
/// kept to systems with an ingest grant (refused before their request is
/// read), in front of every call; refusals are audited through `refusals`.
fn peer_gate(
    limits: &lienthong_runtime::limits::ServerLimits,
    methods: Arc<std::collections::HashSet<String>>,
    refusals: lienthong_audit::RefusalLog,
    ingest_policy: SharingPolicy,
) -> lienthong_runtime::peer_gate::PeerGateLayer {
    lienthong_runtime::peer_gate::PeerGateLayer::new(
        limits,
        methods,
        lienthong_runtime::peer_gate::Budgeted::Every,
        refusals.hook(),
    )
    .reserve(
        ingest::SERVICE_PATH,
        "the department's own systems (system:<name>) the sharing policy grants \"ingest\"",
        move |identity| {
            identity.role == PeerRole::System
                && ingest_policy
                    .permissions_through(Some(identity), Some(policy::Operation::Ingest))
                    .operations
                    .contains(&policy::Operation::Ingest)
        },
    )
}

/// Indexes, every `refresh_ms`, what other processes wrote to the database
/// (the node's own writes are indexed as they finish), and reports how far
/// the index is behind (`lienthong_search_index_changes_behind`).
fn spawn_index_refresh(
    store: Store,
    node_id: String,
    refresh_ms: u64,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval(Duration::from_millis(refresh_ms));
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticks.tick().await;
            if let Err(error) = store.refresh_search_index().await {
                tracing::warn!(%error, "search index refresh failed; retrying");
            }
            // Only the process that writes the index knows what it includes.
            if let (Ok(last), Some(indexed)) = (
                store.last_change_seq().await,
                store.indexed_change_seq().await,
            ) {
                lienthong_runtime::telemetry::record_search_index_behind(
                    &node_id,
                    last.saturating_sub(indexed),
                );
            }
        }
    })
}

/// Serves the OAI-PMH endpoint on `listener` (HTTPS, client certificates
/// optional) until `stop` completes.
fn spawn_oai(
    listener: TcpListener,
    endpoint: Arc<harvest::Endpoint>,
    transport: Transport,
    limits: lienthong_runtime::limits::ServerLimits,
    stop: impl Future<Output = ()> + Send + 'static,
) -> tokio::task::JoinHandle<()> {
    let router = harvest::router(endpoint);
    let incoming =
        lienthong_runtime::tls::incoming(listener, transport, ServerKind::Https, &limits);
    tokio::spawn(async move {
        lienthong_runtime::http_server::serve(
            incoming,
            &limits,
            |peer| {
                let peer = harvest::HarvestPeer(peer.clone());
                tower::ServiceExt::map_request(
                    router.clone(),
                    move |mut request: axum::extract::Request<hyper::body::Incoming>| {
                        request.extensions_mut().insert(peer.clone());
                        request
                    },
                )
            },
            stop,
        )
        .await;
    })
}

/// Binds `address`; an error names the config key that set it.
async fn listen(key: &'static str, address: SocketAddr) -> Result<TcpListener, NodeError> {
    TcpListener::bind(address)
        .await
        .map_err(|source| NodeError::Bind {
            key,
            address,
            source,
        })
}
