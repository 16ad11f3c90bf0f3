//! The HTTP/JSON API, for web pages and scripts. Same operations and
//! semantics as the gRPC service, bodies in the protobuf JSON mapping, errors
//! as `{"error": {"code": "INVALID_ARGUMENT", "message": "..."}}`.
//!
//! `GET /api/v1/experts?q=nguyen&field=4&page_size=20&page_token=...` and the
//! same for projects and publications; `GET /api/v1/records/{id}`,
//! `/api/v1/statistics`, `/api/v1/status`; the OpenAPI description at
//! `/api/v1/openapi.json`; `/metrics` and `/healthz`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{MatchedPath, Path, RawQuery, Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Json, Response};
use axum::routing::get;
use lienthong_proto::v1 as pb;
use lienthong_records::RecordKind;
use serde_json::json;
use tonic::{Code, Status};

use crate::auth::Credentials;
use crate::federation::Federation;
use crate::request_error::RequestError;
use crate::service::{experts_response, projects_response, publications_response};

/// Counter of HTTP requests, by route and status code.
pub const HTTP_REQUESTS: &str = "lienthong_http_requests_total";
/// Histogram of HTTP request latency in seconds, by route.
pub const HTTP_DURATION: &str = "lienthong_http_request_duration_seconds";

/// The OpenAPI 3.1 description of this API.
pub const OPENAPI: &str = include_str!("../openapi.json");

/// Routes of the gateway's HTTPS listener: this API and the web pages
/// ([`crate::web`]).
pub fn router(federation: Arc<Federation>) -> Router {
    Router::new()
        .route("/api/v1/experts", get(search_experts))
        .route("/api/v1/projects", get(search_projects))
        .route("/api/v1/publications", get(search_publications))
        .route("/api/v1/records/{id}", get(get_record))
        .route("/api/v1/statistics", get(statistics))
        .route("/api/v1/proposal-check", get(check_proposal))
        .route("/api/v1/status", get(status))
        .route("/api/v1/audit/summary", get(audit_summary))
        .route("/api/v1/openapi.json", get(openapi))
        .route("/healthz", get(healthz))
        .merge(crate::web::router())
        .fallback(not_found)
        .layer(middleware::from_fn(crate::web::security_headers))
        .layer(middleware::from_fn(record_metrics))
        .with_state(federation)
}

/// An error in the API's JSON shape.
pub struct ApiError {
    status: Status,
    rate_limited: bool,
}

impl From<RequestError> for ApiError {
    fn from(error: RequestError) -> Self {
        let rate_limited = matches!(error, RequestError::RateLimited(_));
        ApiError {
            status: error.into(),
            rate_limited,
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = match self.status.code() {
            _ if self.rate_limited => StatusCode::TOO_MANY_REQUESTS,
            Code::InvalidArgument
            | Code::OutOfRange
            | Code::ResourceExhausted
            | Code::FailedPrecondition => StatusCode::BAD_REQUEST,
            Code::NotFound => StatusCode::NOT_FOUND,
            Code::PermissionDenied => StatusCode::FORBIDDEN,
            Code::Unauthenticated => StatusCode::UNAUTHORIZED,
            Code::DeadlineExceeded => StatusCode::GATEWAY_TIMEOUT,
            Code::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            _ => StatusCode::INTERNAL_SERVER_ERROR,
        };
        let code = code_name(self.status.code());
        let body = json!({"error": {"code": code, "message": self.status.message()}});
        (status, Json(body)).into_response()
    }
}

/// The gRPC code's canonical name, e.g. "INVALID_ARGUMENT".
fn code_name(code: Code) -> String {
    let camel = format!("{code:?}");
    let mut name = String::with_capacity(camel.len() + 4);
    for (index, character) in camel.chars().enumerate() {
        if character.is_uppercase() && index > 0 {
            name.push('_');
        }
        name.push(character.to_ascii_uppercase());
    }
    name
}

/// Query parameters of a search, parsed from a raw query string so that
/// repeated keys (`field=1&field=4`) work.
#[derive(Debug, Default)]
pub(crate) struct SearchParams {
    pub(crate) request: pb::FederatedSearchRequest,
    pub(crate) timeout: Option<Duration>,
}

pub(crate) fn parse_search(query: Option<&str>) -> Result<SearchParams, RequestError> {
    let mut params = SearchParams::default();
    let request = &mut params.request;
    let filters = request.filters.get_or_insert_with(Default::default);
    let bad = |key: &str, value: &str, expected: &str| {
        RequestError::InvalidArgument(format!(
            "query parameter {key}={value:?}: expected {expected}"
        ))
    };
    for (key, value) in form_urlencoded::parse(query.unwrap_or_default().as_bytes()) {
        let value = value.as_ref();
        match key.as_ref() {
            "q" => request.query = value.to_owned(),
            "field" => filters.field_code_prefixes.push(value.to_owned()),
            "organization" => filters.organization_id = value.to_owned(),
            "title" => {
                filters.academic_title =
                    enum_value(value, "ACADEMIC_TITLE_", pb::AcademicTitle::from_str_name)
                        .ok_or_else(|| bad("title", value, "professor or associate_professor"))?
            }
            "degree" => {
                filters.degree = enum_value(value, "DEGREE_", pb::Degree::from_str_name)
                    .ok_or_else(|| bad("degree", value, "a degree such as doctor or master"))?
            }
            "year_from" => {
                filters.year_from = value
                    .parse()
                    .map_err(|_| bad("year_from", value, "a year"))?
            }
            "year_to" => {
                filters.year_to = value.parse().map_err(|_| bad("year_to", value, "a year"))?
            }
            "status" => filters.statuses.push(
                enum_value(value, "PROJECT_STATUS_", pb::ProjectStatus::from_str_name).ok_or_else(
                    || {
                        bad(
                            "status",
                            value,
                            "proposed, approved, ongoing, completed or cancelled",
                        )
                    },
                )?,
            ),
            "level" => filters.management_levels.push(
                enum_value(
                    value,
                    "MANAGEMENT_LEVEL_",
                    pb::ManagementLevel::from_str_name,
                )
                .ok_or_else(|| bad("level", value, "national, ministry, province or grassroots"))?,
            ),
            "page_size" => {
                request.page_size = value
                    .parse()
                    .map_err(|_| bad("page_size", value, "a number from 1 to 100"))?
            }
            "page_token" => request.page_token = value.to_owned(),
            "node" => request.nodes.push(value.to_owned()),
            "require_all_nodes" => {
                request.require_all_nodes = value
                    .parse()
                    .map_err(|_| bad("require_all_nodes", value, "true or false"))?
            }
            "include_mirrors" => {
                request.include_mirrors = value
                    .parse()
                    .map_err(|_| bad("include_mirrors", value, "true or false"))?
            }
            "timeout_ms" => {
                let millis: u64 = value
                    .parse()
                    .map_err(|_| bad("timeout_ms", value, "milliseconds"))?;
                params.timeout = Some(Duration::from_millis(millis));
            }
            other => {
                return Err(RequestError::InvalidArgument(format!(
                    "unknown query parameter {other:?}; known: q, field, organization, title, degree, year_from, year_to, status, level, page_size, page_token, node, require_all_nodes, include_mirrors, timeout_ms"
                )));
            }
        }
    }
    Ok(params)
}

/// "completed", "COMPLETED" or "PROJECT_STATUS_COMPLETED" alike.
fn enum_value<E: Into<i32>>(
    value: &str,
    prefix: &str,
    from_name: fn(&str) -> Option<E>,
) -> Option<i32> {
    let upper = value.trim().to_uppercase().replace('-', "_");
    from_name(&upper)
        .or_else(|| from_name(&format!("{prefix}{upper}")))
        .map(Into::into)
        .filter(|number| *number != 0)
}

/// The peer of an HTTPS connection, set by the gateway's listener.
#[derive(Clone, Debug)]
pub struct HttpsPeer(pub lienthong_runtime::tls::PeerInfo);

/// Who sent an HTTP request: the connection's peer (with its client
/// certificate, if any) and the `Authorization` header.
pub struct Caller(Credentials);

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for Caller {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        _state: &S,
    ) -> Result<Self, Self::Rejection> {
        let peer = parts
            .extensions
            .get::<axum::extract::ConnectInfo<HttpsPeer>>()
            .map(|info| info.0.0.clone());
        let authorization = parts
            .headers
            .get(header::AUTHORIZATION)
            .map(|value| value.to_str().unwrap_or_default().to_owned());
        Ok(Caller(Credentials {
            peer,
            authorization,
            session: None,
        }))
    }
}

async fn search(
    federation: &Federation,
    caller: &Caller,
    kind: RecordKind,
    query: Option<String>,
) -> Result<crate::federated_search::FederatedPage, ApiError> {
    let action = crate::federation::search_action(kind);
    let params = parsed(
        federation,
        caller,
        action,
        &query,
        parse_search(query.as_deref()),
    )
    .await?;
    let deadline = federation.deadline(params.timeout);
    Ok(federation
        .search(&caller.0, kind, params.request, deadline)
        .await?)
}

async fn search_experts(
    State(federation): State<Arc<Federation>>,
    caller: Caller,
    RawQuery(query): RawQuery,
) -> Result<Json<pb::FederatedExpertsResponse>, ApiError> {
    let page = search(&federation, &caller, RecordKind::Expert, query).await?;
    Ok(Json(experts_response(page)))
}

async fn search_projects(
    State(federation): State<Arc<Federation>>,
    caller: Caller,
    RawQuery(query): RawQuery,
) -> Result<Json<pb::FederatedProjectsResponse>, ApiError> {
    let page = search(&federation, &caller, RecordKind::Project, query).await?;
    Ok(Json(projects_response(page)))
}

async fn search_publications(
    State(federation): State<Arc<Federation>>,
    caller: Caller,
    RawQuery(query): RawQuery,
) -> Result<Json<pb::FederatedPublicationsResponse>, ApiError> {
    let page = search(&federation, &caller, RecordKind::Publication, query).await?;
    Ok(Json(publications_response(page)))
}

async fn get_record(
    State(federation): State<Arc<Federation>>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<pb::Record>, ApiError> {
    let deadline = federation.deadline(None);
    Ok(Json(federation.get(&caller.0, &id, deadline).await?))
}

/// `parsed` when the query parsed; otherwise the refusal, after the caller
/// is authenticated and the refusal audited.
async fn parsed<T>(
    federation: &Federation,
    caller: &Caller,
    action: &'static str,
    query: &Option<String>,
    parsed: Result<T, RequestError>,
) -> Result<T, ApiError> {
    match parsed {
        Ok(value) => Ok(value),
        Err(error) => {
            let sent = query.as_deref().unwrap_or_default();
            Err(federation
                .refuse_malformed(&caller.0, action, sent, error)
                .await
                .into())
        }
    }
}

/// `title=...&summary=...&field=4&limit=20&include_mirrors=true&node=...`.
pub(crate) fn parse_proposal_check(
    query: Option<&str>,
) -> Result<pb::FederatedProposalCheckRequest, RequestError> {
    let mut request = pb::FederatedProposalCheckRequest::default();
    for (key, value) in form_urlencoded::parse(query.unwrap_or_default().as_bytes()) {
        let bad = |expected: &str| {
            RequestError::InvalidArgument(format!(
                "query parameter {key}={value:?}: expected {expected}"
            ))
        };
        match key.as_ref() {
            "title" => request.title = value.clone().into_owned(),
            "summary" => request.summary = value.clone().into_owned(),
            "field" => request.field_code = value.clone().into_owned(),
            "limit" => request.limit = value.parse().map_err(|_| bad("a number from 1 to 100"))?,
            "include_mirrors" => {
                request.include_mirrors = value.parse().map_err(|_| bad("true or false"))?
            }
            "node" => request.nodes.push(value.clone().into_owned()),
            other => {
                return Err(RequestError::InvalidArgument(format!(
                    "unknown query parameter {other:?}; known: title, summary, field, limit, \
                     include_mirrors, node"
                )));
            }
        }
    }
    Ok(request)
}

/// `GET /api/v1/proposal-check?title=...`: completed and ongoing tasks of
/// every province resembling a proposed one (kiểm tra trùng lặp).
async fn check_proposal(
    State(federation): State<Arc<Federation>>,
    caller: Caller,
    RawQuery(query): RawQuery,
) -> Result<Json<pb::FederatedProposalCheck>, ApiError> {
    let parse = parse_proposal_check(query.as_deref());
    let request = parsed(&federation, &caller, "CheckProposal", &query, parse).await?;
    let deadline = federation.deadline(None);
    Ok(Json(
        federation
            .check_proposal(&caller.0, request, deadline)
            .await?,
    ))
}

pub(crate) fn parse_statistics(
    query: Option<&str>,
) -> Result<pb::FederatedStatisticsRequest, RequestError> {
    let mut request = pb::FederatedStatisticsRequest::default();
    for (key, value) in form_urlencoded::parse(query.unwrap_or_default().as_bytes()) {
        match key.as_ref() {
            "node" => request.nodes.push(value.into_owned()),
            other => {
                return Err(RequestError::InvalidArgument(format!(
                    "unknown query parameter {other:?}; known: node"
                )));
            }
        }
    }
    Ok(request)
}

async fn statistics(
    State(federation): State<Arc<Federation>>,
    caller: Caller,
    RawQuery(query): RawQuery,
) -> Result<Json<pb::FederatedStatistics>, ApiError> {
    let parse = parse_statistics(query.as_deref());
    let request = parsed(&federation, &caller, "Statistics", &query, parse).await?;
    let deadline = federation.deadline(None);
    Ok(Json(
        federation.statistics(&caller.0, request, deadline).await?,
    ))
}

async fn status(
    State(federation): State<Arc<Federation>>,
    caller: Caller,
) -> Result<Json<pb::FederationStatus>, ApiError> {
    let deadline = federation.deadline(None);
    Ok(Json(federation.status(&caller.0, deadline).await?))
}

/// `hours=N` (1 to 8784, default 24).
fn parse_hours(query: Option<&str>) -> Result<i64, RequestError> {
    let mut hours: i64 = 24;
    for (key, value) in form_urlencoded::parse(query.unwrap_or_default().as_bytes()) {
        match key.as_ref() {
            "hours" => {
                hours = value
                    .parse()
                    .ok()
                    .filter(|h| (1..=24 * 366).contains(h))
                    .ok_or_else(|| {
                        RequestError::InvalidArgument(format!(
                            "query parameter hours={value:?}: expected a whole number of hours \
                             from 1 to 8784"
                        ))
                    })?
            }
            other => {
                return Err(RequestError::InvalidArgument(format!(
                    "unknown query parameter {other:?}; known: hours"
                )));
            }
        }
    }
    Ok(hours)
}

/// `GET /api/v1/audit/summary?hours=24`: the gateway's audit entries by
/// outcome and by user. Administrators only.
async fn audit_summary(
    State(federation): State<Arc<Federation>>,
    caller: Caller,
    RawQuery(query): RawQuery,
) -> Result<Json<lienthong_audit::Summary>, ApiError> {
    let parse = parse_hours(query.as_deref());
    let hours = parsed(&federation, &caller, "AuditSummary", &query, parse).await?;
    let since = time::OffsetDateTime::now_utc() - time::Duration::hours(hours);
    Ok(Json(federation.audit_summary(&caller.0, since).await?))
}

async fn openapi() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "application/json")], OPENAPI)
}

/// The gateway process is up; node health is at `/api/v1/status`.
async fn healthz(State(federation): State<Arc<Federation>>) -> Json<serde_json::Value> {
    Json(json!({"status": "ok", "nodes": federation.registry().nodes().len()}))
}

async fn not_found() -> ApiError {
    ApiError::from(RequestError::NotFound(
        "no such route; see /api/v1/openapi.json for the API".into(),
    ))
}

async fn record_metrics(request: Request, next: Next) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |path| path.as_str().to_owned());
    let started = Instant::now();
    let response = next.run(request).await;
    let status = response.status().as_u16().to_string();
    metrics::counter!(HTTP_REQUESTS, "route" => route.clone(), "status" => status).increment(1);
    metrics::histogram!(HTTP_DURATION, "route" => route).record(started.elapsed().as_secs_f64());
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn search_parameters_parse_and_name_what_is_wrong() {
        let params = parse_search(Some(
            "q=nguy%E1%BB%85n&field=1&field=4&status=completed&level=PROJECT_STATUS_X&page_size=5",
        ));
        assert!(params.unwrap_err().to_string().contains("level"));
        let params = parse_search(Some(
            "q=l%C3%BAa&field=1&field=4&status=completed&level=province&node=hung-yen",
        ))
        .unwrap();
        let filters = params.request.filters.unwrap();
        assert_eq!(params.request.query, "lúa");
        assert_eq!(filters.field_code_prefixes, ["1", "4"]);
        assert_eq!(filters.statuses, [pb::ProjectStatus::Completed as i32]);
        assert_eq!(
            filters.management_levels,
            [pb::ManagementLevel::Province as i32]
        );
        assert_eq!(params.request.nodes, ["hung-yen"]);
        assert!(
            parse_search(Some("qq=1"))
                .unwrap_err()
                .to_string()
                .contains("qq")
        );
        assert!(
            parse_search(Some("page_size=many"))
                .unwrap_err()
                .to_string()
                .contains("page_size")
        );
    }

    #[test]
    fn code_names_are_canonical() {
        assert_eq!(code_name(Code::InvalidArgument), "INVALID_ARGUMENT");
        assert_eq!(code_name(Code::NotFound), "NOT_FOUND");
    }

    #[test]
    fn the_openapi_description_covers_every_route() {
        let document: serde_json::Value = serde_json::from_str(OPENAPI).unwrap();
        let paths = document["paths"].as_object().unwrap();
        // Every API route the router above declares.
        let routes: Vec<&str> = include_str!("http_api.rs")
            .split(".route(\"")
            .skip(1)
            .filter_map(|rest| rest.split('"').next())
            .filter(|route| route.starts_with("/api/v1/") && *route != "/api/v1/openapi.json")
            .collect();
        assert!(routes.len() >= 7, "{routes:?}");
        for route in routes {
            assert!(
                paths.contains_key(route),
                "{route} is missing from openapi.json"
            );
        }
    }
}
