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

#![forbid(unsafe_code)]

pub mod breaker;
pub mod config;
pub mod federated_search;
pub mod federation;
pub mod http_api;
pub mod page_token;
pub mod registry;
pub mod request_error;
pub mod retry_budget;
pub mod service;
pub mod transport;
pub mod twins;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use lienthong_proto::v1::federation_server::FederationServer;
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
}

/// A gateway whose listeners are bound. Node channels connect on first use.
pub struct GatewayServer {
    config: GatewayConfig,
    federation: Arc<Federation>,
    grpc: TcpListener,
    http: TcpListener,
}

impl GatewayServer {
    /// Builds the node channels and binds the gRPC and HTTP listeners.
    pub async fn bind(config: GatewayConfig) -> Result<GatewayServer, GatewayError> {
        let federation = Arc::new(Federation::new(&config).map_err(GatewayError::Serve)?);
        let grpc = listen("grpc.listen", config.grpc.listen).await?;
        let http = listen("http.listen", config.http.listen).await?;
        Ok(GatewayServer {
            config,
            federation,
            grpc,
            http,
        })
    }

    /// The bound gRPC address.
    pub fn grpc_addr(&self) -> SocketAddr {
        self.grpc.local_addr().unwrap_or(self.config.grpc.listen)
    }

    /// The bound HTTP address.
    pub fn http_addr(&self) -> SocketAddr {
        self.http.local_addr().unwrap_or(self.config.http.listen)
    }

    /// Serves until `shutdown` completes, then lets in-flight requests finish.
    pub async fn serve(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Result<(), GatewayError> {
        let GatewayServer {
            config,
            federation,
            grpc,
            http,
        } = self;
        let grpc_addr = grpc.local_addr().ok();
        let http_addr = http.local_addr().ok();

        let (health, health_service) = tonic_health::server::health_reporter();
        health
            .set_serving::<FederationServer<FederationService>>()
            .await;
        let (reflection_v1, reflection_v1alpha) = lienthong_runtime::reflection::services(&[
            lienthong_proto::FILE_DESCRIPTOR_SET,
            tonic_health::pb::FILE_DESCRIPTOR_SET,
        ])
        .map_err(GatewayError::Serve)?;
        let federation_service = FederationServer::new(FederationService::new(federation.clone()))
            .max_decoding_message_size(config.grpc.max_message_bytes)
            .max_encoding_message_size(config.grpc.max_message_bytes);

        // One shutdown signal fans out to both listeners.
        let stop = lienthong_runtime::shutdown::Stop::on(shutdown);

        let http_router = http_api::router(federation.clone());
        let http_stopped = stop.clone().stopped();
        let http_task = tokio::spawn(async move {
            axum::serve(http, http_router)
                .with_graceful_shutdown(http_stopped)
                .await
        });

        tracing::info!(
            gateway = %config.gateway.id,
            grpc = ?grpc_addr,
            http = ?http_addr,
            nodes = federation.registry().nodes().len(),
            "gateway serving"
        );
        let grpc_stopped = stop.stopped();
        let health_on_stop = health.clone();
        let result = tonic::transport::Server::builder()
            .layer(lienthong_runtime::telemetry::RpcTelemetryLayer::new(
                &config.gateway.id,
            ))
            .add_service(health_service)
            .add_service(reflection_v1)
            .add_service(reflection_v1alpha)
            .add_service(federation_service)
            .serve_with_incoming_shutdown(
                lienthong_runtime::listener::grpc_incoming(grpc),
                async move {
                    grpc_stopped.await;
                    health_on_stop
                        .set_not_serving::<FederationServer<FederationService>>()
                        .await;
                    tracing::info!("gateway shutting down: finishing requests in flight");
                },
            )
            .await
            .map_err(|error| GatewayError::Serve(error.to_string()));
        match http_task.await {
            Ok(Ok(())) => {}
            Ok(Err(error)) => tracing::warn!(%error, "HTTP listener failed"),
            Err(error) => tracing::warn!(%error, "HTTP listener task failed"),
        }
        tracing::info!(gateway = %config.gateway.id, "gateway stopped");
        result
    }
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
