//! Telemetry in one place: the tracing subscriber, the Prometheus recorder,
//! and the per-RPC span, log line and metrics.

use std::collections::HashSet;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, OnceLock};
use std::task::{Context, Poll};
use std::time::Instant;

use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use tower::{Layer, Service};
use tracing::{Instrument, field};
use tracing_subscriber::EnvFilter;

use crate::config_source::{LogConfig, LogFormat};

/// Counter of finished RPCs, labelled by node, method and gRPC code.
pub const RPC_REQUESTS: &str = "lienthong_rpc_requests_total";
/// Histogram of RPC latency in seconds, labelled like [`RPC_REQUESTS`].
pub const RPC_DURATION: &str = "lienthong_rpc_duration_seconds";
/// Gauge: changes in a node's database its search index does not include yet.
pub const SEARCH_INDEX_BEHIND: &str = "lienthong_search_index_changes_behind";

/// Records how far `node`'s search index is behind its database.
pub fn record_search_index_behind(node: &str, changes: u64) {
    metrics::gauge!(SEARCH_INDEX_BEHIND, "node" => node.to_owned()).set(changes as f64);
}

/// Counter of mirrored changes applied, by followed peer.
pub const SYNC_APPLIED: &str = "lienthong_sync_changes_applied_total";
/// Counter of changes refused (spoofed origin, version going backwards), by peer.
pub const SYNC_REJECTED: &str = "lienthong_sync_changes_rejected_total";
/// Counter of failed sync calls, by peer.
pub const SYNC_ERRORS: &str = "lienthong_sync_errors_total";
/// Gauge: changes a followed peer still has to send, as of the last call.
pub const SYNC_LAG_CHANGES: &str = "lienthong_sync_lag_changes";
/// Gauge: how far the mirror is behind the peer's newest change, in seconds.
pub const SYNC_LAG_SECONDS: &str = "lienthong_sync_lag_seconds";

/// Records one applied batch from `peer`.
pub fn record_sync_batch(peer: &str, applied: u64, rejected: u64) {
    metrics::counter!(SYNC_APPLIED, "peer" => peer.to_owned()).increment(applied);
    metrics::counter!(SYNC_REJECTED, "peer" => peer.to_owned()).increment(rejected);
}

/// Records a failed sync call with `peer`.
pub fn record_sync_error(peer: &str) {
    metrics::counter!(SYNC_ERRORS, "peer" => peer.to_owned()).increment(1);
}

/// Records how far the mirror of `peer` is behind.
pub fn record_sync_lag(peer: &str, changes: u64, seconds: f64) {
    metrics::gauge!(SYNC_LAG_CHANGES, "peer" => peer.to_owned()).set(changes as f64);
    metrics::gauge!(SYNC_LAG_SECONDS, "peer" => peer.to_owned()).set(seconds);
}

/// Counter of records written through the Ingest API, by outcome.
pub const INGEST_RECORDS: &str = "lienthong_ingest_records_total";
/// Counter of ingest calls answered from their idempotency key.
pub const INGEST_REPLAYED: &str = "lienthong_ingest_replayed_total";

/// Records the outcome of one record of an ingest batch ("created",
/// "conflict", ...).
pub fn record_ingest_outcome(outcome: &str) {
    metrics::counter!(INGEST_RECORDS, "outcome" => outcome.to_owned()).increment(1);
}

/// Records an ingest call answered again from its idempotency key.
pub fn record_ingest_replayed() {
    metrics::counter!(INGEST_REPLAYED).increment(1);
}

/// Installs the process-wide tracing subscriber. Later calls do nothing, so
/// tests and the demo can start several nodes in one process.
pub fn init_tracing(log: &LogConfig) {
    let filter = EnvFilter::try_from_default_env()
        .or_else(|_| EnvFilter::try_new(&log.level))
        .unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = match log.format {
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
        LogFormat::Text => builder.try_init(),
    };
}

/// The process-wide Prometheus recorder, installed on first use.
pub fn prometheus() -> &'static PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE.get_or_init(|| {
        let builder = PrometheusBuilder::new()
            .set_buckets(&[
                0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
                10.0,
            ])
            .unwrap_or_else(|_| PrometheusBuilder::new());
        let recorder = builder.build_recorder();
        let handle = recorder.handle();
        if metrics::set_global_recorder(recorder).is_err() {
            tracing::warn!("a metrics recorder was already installed; /metrics may be empty");
        }
        handle
    })
}

/// Wraps every gRPC call in a span (`rpc`, with node, method, code and
/// elapsed_ms), logs its end, and records [`RPC_REQUESTS`] and [`RPC_DURATION`].
/// A path that is not one of the server's methods is labelled `unknown`, so
/// invented paths cannot grow the metrics.
#[derive(Clone)]
pub struct RpcTelemetryLayer {
    node: Arc<str>,
    methods: Arc<HashSet<String>>,
}

impl RpcTelemetryLayer {
    /// Telemetry labelled with this node's id, for a server answering
    /// `methods` (see [`crate::reflection::method_paths`]).
    pub fn new(node: &str, methods: Arc<HashSet<String>>) -> Self {
        prometheus();
        RpcTelemetryLayer {
            node: node.into(),
            methods,
        }
    }
}

impl<S> Layer<S> for RpcTelemetryLayer {
    type Service = RpcTelemetry<S>;

    fn layer(&self, inner: S) -> Self::Service {
        RpcTelemetry {
            inner,
            node: self.node.clone(),
            methods: self.methods.clone(),
        }
    }
}

/// The service [`RpcTelemetryLayer`] builds.
#[derive(Clone)]
pub struct RpcTelemetry<S> {
    inner: S,
    node: Arc<str>,
    methods: Arc<HashSet<String>>,
}

impl<S, ReqBody, ResBody> Service<http::Request<ReqBody>> for RpcTelemetry<S>
where
    S: Service<http::Request<ReqBody>, Response = http::Response<ResBody>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    ReqBody: Send + 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Self::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<ReqBody>) -> Self::Future {
        // The clone that was polled ready serves this call.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let node = self.node.clone();
        let path = request.uri().path();
        let method = if self.methods.contains(path) {
            path.to_owned()
        } else {
            "unknown".to_owned()
        };
        let span = tracing::info_span!("rpc", node = %node, method = %method, code = field::Empty, elapsed_ms = field::Empty);
        Box::pin(async move {
            let started = Instant::now();
            let result = inner.call(request).instrument(span.clone()).await;
            let elapsed = started.elapsed();
            let code = match &result {
                Ok(response) => response
                    .headers()
                    .get("grpc-status")
                    .and_then(|value| value.to_str().ok())
                    .and_then(|value| value.parse::<i32>().ok())
                    .map_or(tonic::Code::Ok, tonic::Code::from_i32),
                Err(_) => tonic::Code::Internal,
            };
            let code_name = format!("{code:?}");
            span.record("code", code_name.as_str());
            span.record("elapsed_ms", elapsed.as_secs_f64() * 1000.0);
            let labels = [
                ("node", node.to_string()),
                ("method", method),
                ("code", code_name),
            ];
            metrics::counter!(RPC_REQUESTS, &labels).increment(1);
            metrics::histogram!(RPC_DURATION, &labels).record(elapsed.as_secs_f64());
            span.in_scope(|| tracing::debug!("rpc finished"));
            result
        })
    }
}
