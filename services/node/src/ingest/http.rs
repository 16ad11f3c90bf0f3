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
use lienthong_runtime::identity::PeerRole;
use serde::de::DeserializeOwned;
use serde_json::json;
use tonic::{Code, Status};

use super::{IngestArguments, Writer};
use crate::access::{Admitted, Harvester};
use crate::harvest::{Endpoint, HarvestPeer};
use crate::policy::Operation;

pub(crate) async fn upsert(State(endpoint): State<Arc<Endpoint>>, request: Request) -> Response {
    serve(
        endpoint,
        request,
        "IngestUpsert",
        async |writer, admitted, caller, body: pb::UpsertRequest| {
            writer.upsert(admitted, caller, body).await
        },
    )
    .await
}

pub(crate) async fn delete(State(endpoint): State<Arc<Endpoint>>, request: Request) -> Response {
    serve(
        endpoint,
        request,
        "IngestDelete",
        async |writer, admitted, caller, body: pb::DeleteRequest| {
            writer.delete(admitted, caller, body).await
        },
    )
    .await
}

async fn serve<Body: DeserializeOwned + IngestArguments>(
    endpoint: Arc<Endpoint>,
    request: Request,
    action: &'static str,
    apply: impl AsyncFnOnce(
        &Writer,
        &Admitted,
        &str,
        Body,
    ) -> Result<(pb::IngestResponse, Vec<String>), Status>,
) -> Response {
    let (_, _permit) = match endpoint.admit_caller(&request) {
        Ok(admitted) => admitted,
        Err(refused) => return refused,
    };
    let identity = request
        .extensions()
        .get::<HarvestPeer>()
        .and_then(|peer| peer.0.identity.clone());
    let identity = match identity {
        Some(identity) if identity.role == PeerRole::System => identity,
        Some(identity) => {
            return error(Status::permission_denied(format!(
                "{identity} may not write to this node: the ingest API is for the department's \
                 own systems (certificates for system:<name>)"
            )));
        }
        None => {
            return error(Status::unauthenticated(
                "writing needs a client certificate for system:<name> (issue one with \
                 `lienthong pki issue --role system`); bearer tokens only harvest",
            ));
        }
    };
    let json = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.starts_with("application/json"));
    if !json {
        return (
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "send the request as application/json\n",
        )
            .into_response();
    }
    let limit = endpoint.ingest_max_request_bytes();
    let bytes = match axum::body::to_bytes(request.into_body(), limit).await {
        Ok(bytes) => bytes,
        Err(_) => {
            return (
                StatusCode::PAYLOAD_TOO_LARGE,
                format!(
                    "the request body is over {limit} bytes (ingest.max_request_bytes); \
                     send fewer records per call\n"
                ),
            )
                .into_response();
        }
    };
    let body: Body = match serde_json::from_slice(&bytes) {
        Ok(body) => body,
        Err(problem) => {
            return error(Status::invalid_argument(format!(
                "the body is not a {action} request in the protobuf JSON mapping: {problem}"
            )));
        }
    };
    let caller = identity.to_string();
    let admitted = match endpoint
        .access()
        .admit_https(
            &Harvester::Identified(identity),
            action,
            Operation::Ingest,
            &body.audited(),
        )
        .await
    {
        Ok(admitted) => admitted,
        Err(status) => return error(status),
    };
    let result = apply(endpoint.writer(), &admitted, &caller, body).await;
    match endpoint.access().finish(admitted, result).await {
        Ok(response) => (StatusCode::OK, axum::Json(response)).into_response(),
        Err(status) => error(status),
    }
}

/// A refused call as JSON: `{"error": {"code": "INVALID_ARGUMENT", "message": ...}}`.
fn error(status: Status) -> Response {
    let http = match status.code() {
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
