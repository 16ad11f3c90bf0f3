//! The admin HTTP listener: Prometheus `/metrics` and `/healthz`.

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Json};
use axum::routing::get;
use lienthong_store::Store;
use serde_json::json;

/// Routes of the admin listener.
pub fn router(store: Store) -> Router {
    Router::new()
        .route("/metrics", get(metrics))
        .route("/healthz", get(healthz))
        .with_state(store)
}

async fn metrics() -> impl IntoResponse {
    (
        [(
            axum::http::header::CONTENT_TYPE,
            "text/plain; version=0.0.4",
        )],
        crate::telemetry::prometheus().render(),
    )
}

/// 200 with `{"status":"ok"}` when the database answers, 503 otherwise.
async fn healthz(State(store): State<Store>) -> impl IntoResponse {
    match store.last_change_seq().await {
        Ok(seq) => (
            StatusCode::OK,
            Json(json!({"status": "ok", "node": store.node_id(), "last_change_seq": seq})),
        ),
        Err(error) => (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(
                json!({"status": "unavailable", "node": store.node_id(), "error": error.to_string()}),
            ),
        ),
    }
}
