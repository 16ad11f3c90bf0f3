//! The OAI-PMH endpoint (`/oai`), on an HTTPS listener of its own where a
//! client certificate is optional, as harvesters are plain HTTPS clients.
//!
//! Every request, in this order:
//! 1. is counted against its client network's budget (or its identity's,
//!    once known): `oai.requests_per_minute`, `oai.burst`;
//! 2. is identified: a client certificate's identity, a bearer token from
//!    `[[oai.harvester]]` (compared by its SHA-256, in constant time), or
//!    none (an anonymous harvester, `"public"` in the sharing policy);
//! 3. is admitted by the sharing policy (grants naming `"harvest"`, or
//!    `"public"`) and audited, one entry per request, with the ids of the
//!    records it returns;
//! 4. is answered from the store through the same disclosure decision as
//!    every gRPC call (an anonymous harvester sees public records only).
//!
//! Protocol errors answer HTTP 200 with the OAI-PMH error, as the protocol
//! requires; refusals of the harvester itself are HTTP 401, 403 or 429.
//!
//! The same listener serves the reporting figures the national system
//! collects (`GET /api/v1/figures`, [`figures`]), to identified callers the
//! policy grants `"statistics"`, and the JSON form of the Ingest API
//! (`POST /api/v1/ingest/upsert|delete`, [`crate::ingest::http`]) to the
//! department's own systems.

mod answer;
mod figures;
mod resumption;

use std::sync::Arc;

use axum::Router;
use axum::extract::{RawQuery, Request, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use lienthong_runtime::identity::PeerIdentity;
use lienthong_runtime::rate_limit::RateLimiter;
use lienthong_runtime::tls::PeerInfo;
use lienthong_store::{Audience, Store};

use crate::access::{Access, Harvester};
use crate::config::{NodeConfig, NodeRole, OaiConfig};
use crate::policy::Operation;

/// The largest POST body taken: the arguments of any request fit in far less.
const MAX_FORM_BYTES: usize = 16 * 1024;

/// The peer of an HTTPS connection, set by the listener.
#[derive(Clone, Debug)]
pub struct HarvestPeer(pub PeerInfo);

/// What the endpoint serves from, and how.
pub struct Endpoint {
    store: Store,
    access: Access,
    node_id: String,
    base_url: String,
    repository_identifier: String,
    repository_name: String,
    admin_email: String,
    page_size: u32,
    token_lifetime_seconds: u64,
    /// Origins with a set of their own: the provinces a national node follows.
    provinces: Vec<String>,
    tokens: Vec<(PeerIdentity, [u8; 32])>,
    limiter: RateLimiter,
    /// Requests answered at once.
    permits: Arc<tokio::sync::Semaphore>,
    /// The JSON form of the Ingest API, served on the same listener.
    writer: crate::ingest::Writer,
    ingest_max_request_bytes: usize,
}

impl Endpoint {
    pub fn new(config: &NodeConfig, oai: &OaiConfig, store: Store, access: Access) -> Endpoint {
        let provinces = match config.node.role {
            NodeRole::Aggregator => config
                .follow
                .iter()
                .map(|follow| follow.peer.clone())
                .collect(),
            NodeRole::Province => Vec::new(),
        };
        let tokens = oai
            .harvester
            .iter()
            .filter_map(|harvester| {
                let identity = harvester.identity.parse().ok()?;
                let mut hash = [0u8; 32];
                for (index, byte) in hash.iter_mut().enumerate() {
                    let pair = harvester.token_sha256.get(index * 2..index * 2 + 2)?;
                    *byte = u8::from_str_radix(pair, 16).ok()?;
                }
                Some((identity, hash))
            })
            .collect();
        Endpoint {
            store: store.clone(),
            access,
            node_id: config.node.id.clone(),
            base_url: oai.base_url(),
            repository_identifier: oai.repository_identifier(&config.node.id),
            repository_name: oai
                .repository_name
                .clone()
                .unwrap_or_else(|| config.node.display_name.clone()),
            admin_email: oai.admin_email.clone(),
            page_size: oai.page_size,
            token_lifetime_seconds: oai.resumption_token_lifetime_seconds,
            provinces,
            tokens,
            limiter: RateLimiter::new(oai.requests_per_minute, oai.burst),
            permits: Arc::new(tokio::sync::Semaphore::new(
                oai.max_concurrent_requests as usize,
            )),
            writer: crate::ingest::Writer::new(store.clone()),
            ingest_max_request_bytes: config.ingest.max_request_bytes,
        }
    }

    pub(crate) fn access(&self) -> &Access {
        &self.access
    }

    pub(crate) fn writer(&self) -> &crate::ingest::Writer {
        &self.writer
    }

    pub(crate) fn ingest_max_request_bytes(&self) -> usize {
        self.ingest_max_request_bytes
    }

    /// `oai:<repository>:<record id>`.
    fn oai_identifier(&self, id: &str) -> String {
        format!("oai:{}:{id}", self.repository_identifier)
    }

    /// The record id an OAI identifier of this repository names.
    fn record_id<'a>(&self, identifier: &'a str) -> Option<&'a str> {
        identifier
            .strip_prefix("oai:")?
            .strip_prefix(self.repository_identifier.as_str())?
            .strip_prefix(':')
    }

    /// Who sent a request, from its connection and `Authorization` header.
    fn harvester(&self, peer: Option<&PeerInfo>, headers: &HeaderMap) -> Harvester {
        let network = peer
            .and_then(|peer| peer.remote_addr)
            .map(|address| lienthong_runtime::peer_gate::client_network(address.ip()).to_string())
            .unwrap_or_else(|| "unknown".to_owned());
        if let Some(identity) = peer.and_then(|peer| peer.identity.clone()) {
            return Harvester::Identified(identity);
        }
        if let Some(authorization) = headers.get(header::AUTHORIZATION) {
            let token = authorization
                .to_str()
                .ok()
                .and_then(|value| value.strip_prefix("Bearer "))
                .map(str::trim)
                .unwrap_or_default();
            let digest = ring::digest::digest(&ring::digest::SHA256, token.as_bytes());
            // Every configured hash is compared, whichever matches.
            let mut found = None;
            for (identity, hash) in &self.tokens {
                let difference = digest
                    .as_ref()
                    .iter()
                    .zip(hash)
                    .fold(0u8, |difference, (a, b)| difference | (a ^ b));
                if difference == 0 {
                    found = Some(identity.clone());
                }
            }
            return match found {
                Some(identity) if !token.is_empty() => Harvester::Identified(identity),
                _ => Harvester::Unknown {
                    network,
                    reason: "the bearer token is not one this node issued to a harvester; \
                             ask the node's administrators for one, or harvest without it \
                             (public records only)"
                        .into(),
                },
            };
        }
        Harvester::Public { network }
    }
}

impl Endpoint {
    /// Identifies the sender of `request`, takes one request from its
    /// budget and a place among the requests answered at once; otherwise
    /// the answer to send instead (HTTP 429 or 503, with Retry-After).
    #[allow(clippy::result_large_err)]
    pub(crate) fn admit_caller(
        &self,
        request: &Request,
    ) -> Result<(Harvester, tokio::sync::OwnedSemaphorePermit), Response> {
        let peer = request
            .extensions()
            .get::<HarvestPeer>()
            .map(|peer| peer.0.clone());
        let harvester = self.harvester(peer.as_ref(), request.headers());
        let budget_key = match &harvester {
            Harvester::Identified(identity) => identity.to_string(),
            Harvester::Public { network } | Harvester::Unknown { network, .. } => network.clone(),
        };
        if let Err(wait) = self.limiter.admit(&budget_key) {
            let seconds = wait.as_secs().max(1).to_string();
            return Err((
                StatusCode::TOO_MANY_REQUESTS,
                [(header::RETRY_AFTER, seconds)],
                "too many requests from this network; wait and retry (Retry-After)\n",
            )
                .into_response());
        }
        let Ok(permit) = self.permits.clone().try_acquire_owned() else {
            return Err((
                StatusCode::SERVICE_UNAVAILABLE,
                [(header::RETRY_AFTER, "1".to_owned())],
                "the repository is answering as many requests as it can; retry shortly\n",
            )
                .into_response());
        };
        Ok((harvester, permit))
    }
}

/// The routes of the OAI-PMH listener.
pub fn router(endpoint: Arc<Endpoint>) -> Router {
    Router::new()
        .route("/oai", any(oai))
        .route("/api/v1/figures", axum::routing::get(figures::figures))
        .route(
            "/api/v1/ingest/upsert",
            axum::routing::post(crate::ingest::http::upsert),
        )
        .route(
            "/api/v1/ingest/delete",
            axum::routing::post(crate::ingest::http::delete),
        )
        .fallback(|| async {
            (
                StatusCode::NOT_FOUND,
                "not found: the OAI-PMH endpoint is /oai\n",
            )
        })
        .with_state(endpoint)
}

pub(crate) async fn oai(
    State(endpoint): State<Arc<Endpoint>>,
    RawQuery(query): RawQuery,
    request: Request,
) -> Response {
    let method = request.method().clone();
    let headers = request.headers().clone();
    let (harvester, _permit) = match endpoint.admit_caller(&request) {
        Ok(admitted) => admitted,
        Err(refused) => return refused,
    };
    let arguments = match method {
        Method::GET | Method::HEAD => form_pairs(query.as_deref().unwrap_or_default().as_bytes()),
        Method::POST => {
            let form = headers
                .get(header::CONTENT_TYPE)
                .and_then(|value| value.to_str().ok())
                .is_some_and(|value| value.starts_with("application/x-www-form-urlencoded"));
            if !form {
                return (
                    StatusCode::UNSUPPORTED_MEDIA_TYPE,
                    "POST the arguments as application/x-www-form-urlencoded\n",
                )
                    .into_response();
            }
            match axum::body::to_bytes(request.into_body(), MAX_FORM_BYTES).await {
                Ok(body) => form_pairs(&body),
                Err(_) => {
                    return (
                        StatusCode::PAYLOAD_TOO_LARGE,
                        "the request body is over 16 KiB; OAI-PMH arguments are far smaller\n",
                    )
                        .into_response();
                }
            }
        }
        _ => {
            return (
                StatusCode::METHOD_NOT_ALLOWED,
                [(header::ALLOW, "GET, POST")],
                "OAI-PMH takes GET and POST\n",
            )
                .into_response();
        }
    };
    let admitted = match endpoint
        .access
        .admit_https(&harvester, "Harvest", Operation::Harvest, &arguments)
        .await
    {
        Ok(admitted) => admitted,
        Err(status) => return refusal(&status),
    };
    let (audience, who) = match &harvester {
        Harvester::Identified(identity) => (Audience::Federation, identity.to_string()),
        _ => (Audience::Public, crate::policy::PUBLIC.to_owned()),
    };
    let harvest = answer::Harvest {
        endpoint: &endpoint,
        disclosure: &admitted.disclosure,
        audience,
        who,
    };
    let answered = harvest
        .answer(&arguments)
        .await
        .map(|answer| (answer.xml, answer.record_ids))
        .map_err(|error| {
            tracing::error!(%error, "OAI-PMH request failed");
            tonic::Status::unavailable("the repository cannot answer now; try again later")
        });
    match endpoint.access.finish(admitted, answered).await {
        Ok(xml) => (
            StatusCode::OK,
            [(header::CONTENT_TYPE, lienthong_oai::response::CONTENT_TYPE)],
            xml,
        )
            .into_response(),
        Err(status) => refusal(&status),
    }
}

/// The arguments of a query string or form body, decoded.
pub(crate) fn form_pairs(bytes: &[u8]) -> Vec<(String, String)> {
    form_urlencoded::parse(bytes)
        .map(|(key, value)| (key.into_owned(), value.into_owned()))
        .collect()
}

/// A refusal of the harvester itself, as plain text.
pub(crate) fn refusal(status: &tonic::Status) -> Response {
    let code = match status.code() {
        tonic::Code::Unauthenticated => StatusCode::UNAUTHORIZED,
        tonic::Code::PermissionDenied => StatusCode::FORBIDDEN,
        _ => StatusCode::SERVICE_UNAVAILABLE,
    };
    let mut text = status.message().to_owned();
    text.push('\n');
    (
        code,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        text,
    )
        .into_response()
}
