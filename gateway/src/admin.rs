//! The admin HTTP listener: Prometheus `/metrics` and `/healthz`, on their
//! own address (loopback by default), apart from the public HTTPS API.

use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Json};
use axum::routing::get;
use serde_json::json;

use crate::federation::Federation;

/// Routes of the admin listener.
pub fn router(federation: Arc<Federation>) -> Router {
    Router::new()
        .route("/metrics", get(metrics))
        .route("/healthz", get(healthz))
        .with_state(federation)
}

async fn metrics() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        lienthong_runtime::telemetry::prometheus().render(),
    )
}

/// The gateway process is up; node health is at `/api/v1/status`.
async fn healthz(State(federation): State<Arc<Federation>>) -> Json<serde_json::Value> {
    Json(json!({"status": "ok", "nodes": federation.registry().nodes().len()}))
}
