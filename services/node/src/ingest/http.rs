//! The Ingest API as JSON on the node's HTTPS listener, for systems that
//! cannot speak gRPC: `POST /api/v1/ingest/upsert` and
//! `POST /api/v1/ingest/delete`, with the request and answer messages of
//! `lienthong.v1.Ingest` in the protobuf JSON mapping (field names in
//! lowerCamelCase, 64-bit numbers as strings).
//!
//! The caller must present a client certificate whose identity is a
//! `system:` one; anything else is refused before the body is read. Bearer
//! tokens (for harvesters) do not write. Statuses: 200 with per-record
//! results; 400 for a request that cannot be applied (the message says
//! why); 401, 403, 413, 415, 429, 503 as usual.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use lienthong_proto::v1 as pb;
use lienthong_runtime::peer_gate::client_network;
use serde::de::DeserializeOwned;
use serde_json::json;
use tonic::{Code, Status};

use super::Call;
use crate::access::{Admitted, Harvester};
use crate::harvest::{Endpoint, HarvestPeer};
use crate::policy::Operation;

pub(crate) async fn upsert(State(endpoint): State<Arc<Endpoint>>, request: Request) -> Response {
    serve::<pb::UpsertRequest>(endpoint, request, "IngestUpsert", Call::Upsert).await
}

pub(crate) async fn delete(State(endpoint): State<Arc<Endpoint>>, request: Request) -> Response {
    serve::<pb::DeleteRequest>(endpoint, request, "IngestDelete", Call::Delete).await
}

async fn serve<Body: DeserializeOwned>(
    endpoint: Arc<Endpoint>,
    request: Request,
    action: &'static str,
    call: fn(Body) -> Call,
) -> Response {
    let (_, _permit) = match endpoint.admit_caller(&request) {
        Ok(admitted) => admitted,
        Err(refused) => return refused,
    };
    // Who may write is decided, and audited, before the body is read.
    let peer = request
        .extensions()
        .get::<HarvestPeer>()
        .map(|peer| &peer.0);
    let writer = match peer.and_then(|peer| peer.identity.clone()) {
        Some(identity) => Harvester::Identified(identity),
        None => Harvester::Unknown {
            network: peer
                .and_then(|peer| peer.remote_addr)
                .map(|address| client_network(address.ip()).to_string())
                .unwrap_or_else(|| "unknown".to_owned()),
            reason: "writing needs a client certificate for system:<name> (issue one with \
                         `lienthong pki issue client NAME --role system`); bearer tokens only \
                         harvest"
                .to_owned(),
        },
    };
    let admitted = match endpoint
        .access()
        .admit_https(&writer, action, Operation::Ingest, &[])
        .await
    {
        Ok(admitted) => admitted,
        Err(status) => return error(status, None),
    };
    let json = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.starts_with("application/json"));
    if !json {
        let status = Status::invalid_argument("send the request as application/json");
        return refused(
            &endpoint,
            admitted,
            status,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
        )
        .await;
    }
    let limit = endpoint.ingest_max_request_bytes();
    let bytes = match axum::body::to_bytes(request.into_body(), limit).await {
        Ok(bytes) => bytes,
        Err(_) => {
            let status = Status::resource_exhausted(format!(
                "the request body is over {limit} bytes (ingest.max_request_bytes); send fewer \
                 records per call"
            ));
            return refused(&endpoint, admitted, status, StatusCode::PAYLOAD_TOO_LARGE).await;
        }
    };
    if let Err(status) = super::batch_gate::json_items(&bytes) {
        return refused(&endpoint, admitted, status, StatusCode::BAD_REQUEST).await;
    }
    let body: Body = match serde_json::from_slice(&bytes) {
        Ok(body) => body,
        Err(problem) => {
            let status = Status::invalid_argument(format!(
                "the body is not a {action} request in the protobuf JSON mapping: {problem}"
            ));
            return refused(&endpoint, admitted, status, StatusCode::BAD_REQUEST).await;
        }
    };
    let work_endpoint = endpoint.clone();
    let call = call(body);
    let answered = super::detached(async move {
        let result = work_endpoint.writer().apply(&admitted, call).await;
        work_endpoint.access().finish(admitted, result).await
    })
    .await;
    match answered {
        Ok(response) => (StatusCode::OK, axum::Json(response)).into_response(),
        Err(status) => error(status, None),
    }
}

/// A request refused after admission: audited like a call's error, then
/// answered with `http`.
async fn refused(
    endpoint: &Endpoint,
    admitted: Admitted,
    status: Status,
    http: StatusCode,
) -> Response {
    let status = match endpoint.access().finish::<()>(admitted, Err(status)).await {
        Err(status) => status,
        Ok(()) => Status::internal("refused"),
    };
    error(status, Some(http))
}

/// A refused call as JSON: `{"error": {"code": "INVALID_ARGUMENT", "message": ...}}`,
/// with `http` or the status its code maps to.
fn error(status: Status, http: Option<StatusCode>) -> Response {
    let mapped = match status.code() {
        Code::InvalidArgument | Code::FailedPrecondition | Code::OutOfRange => {
            StatusCode::BAD_REQUEST
        }
        Code::Unauthenticated => StatusCode::UNAUTHORIZED,
        Code::PermissionDenied => StatusCode::FORBIDDEN,
        Code::NotFound => StatusCode::NOT_FOUND,
        Code::Aborted | Code::AlreadyExists => StatusCode::CONFLICT,
        Code::ResourceExhausted => StatusCode::TOO_MANY_REQUESTS,
        Code::Unavailable | Code::DeadlineExceeded => StatusCode::SERVICE_UNAVAILABLE,
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    };
    let http = http.unwrap_or(mapped);
    let code = format!("{:?}", status.code());
    let body = json!({
        "error": {
            "code": screaming_snake(&code),
            "message": status.message(),
        }
    });
    (http, axum::Json(body)).into_response()
}

/// `InvalidArgument` → `INVALID_ARGUMENT`, as gRPC names its codes.
fn screaming_snake(name: &str) -> String {
    let mut out = String::with_capacity(name.len() + 4);
    for (index, c) in name.chars().enumerate() {
        if c.is_ascii_uppercase() && index > 0 {
            out.push('_');
        }
        out.push(c.to_ascii_uppercase());
    }
    out
}
