//! `GET /api/v1/figures`: the reporting figures provinces owe the national
//! system: records counted by top-level field, year, status and management
//! level, per province. A province node reports its own shareable records;
//! the national node (an aggregator) reports each province it follows from
//! its mirrors, and its own records if it holds any.
//!
//! For identified callers (a client certificate, or a harvester token) whose
//! grants include `"statistics"`, of the kinds granted; audited like every
//! request. Birth years of experts are counted only where the policy
//! discloses birth years to the caller (and mirrors carry none).

use std::sync::Arc;

use axum::Json;
use axum::extract::{RawQuery, Request, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use lienthong_proto::v1::{ManagementLevel, ProjectStatus};
use lienthong_records::RecordKind;
use lienthong_store::KindStatistics;
use serde_json::{Map, Value, json};

use super::{Endpoint, form_pairs, refusal};
use crate::policy::Operation;

pub(crate) async fn figures(
    State(endpoint): State<Arc<Endpoint>>,
    RawQuery(query): RawQuery,
    request: Request,
) -> Response {
    let (caller, _permit) = match endpoint.admit_caller(&request) {
        Ok(admitted) => admitted,
        Err(refused) => return refused,
    };
    let arguments = form_pairs(query.as_deref().unwrap_or_default().as_bytes());
    let admitted = match endpoint
        .access
        .admit_https(&caller, "Figures", Operation::Statistics, &arguments)
        .await
    {
        Ok(admitted) => admitted,
        Err(status) => return refusal(&status),
    };
    let kinds: Vec<RecordKind> = admitted.disclosure.kinds().iter().copied().collect();
    let mut provinces = Vec::new();
    let store = &endpoint.store;
    let result: Result<(), lienthong_store::StoreError> = async {
        let own = store.counts(true).await?;
        let holds_own = own.experts + own.projects + own.publications + own.organizations > 0;
        if endpoint.provinces.is_empty() || holds_own {
            let mut by_kind = Map::new();
            for kind in &kinds {
                let mut statistics = store.statistics(*kind).await?;
                if !admitted.disclosure.discloses_years_of(*kind) {
                    statistics.by_year.clear();
                }
                by_kind.insert(kind.as_str().to_owned(), figures_json(&statistics));
            }
            provinces.push(json!({
                "province": endpoint.node_id,
                "source": "own records",
                "kinds": by_kind,
            }));
        }
        for province in &endpoint.provinces {
            let mut by_kind = Map::new();
            for kind in &kinds {
                let statistics = store.mirror_statistics(*kind, province).await?;
                by_kind.insert(kind.as_str().to_owned(), figures_json(&statistics));
            }
            provinces.push(json!({
                "province": province,
                "source": "mirrors",
                "kinds": by_kind,
            }));
        }
        Ok(())
    }
    .await;
    let answered = result
        .map(|()| {
            let body = json!({
                "node": endpoint.node_id,
                "generatedAt": lienthong_oai::response::utc_datestamp(
                    time::OffsetDateTime::now_utc()
                ),
                "provinces": provinces,
            });
            (body, Vec::new())
        })
        .map_err(|error| {
            tracing::error!(%error, "reporting figures failed");
            tonic::Status::unavailable("the figures cannot be counted now; try again later")
        });
    match endpoint.access.finish(admitted, answered).await {
        Ok(body) => (
            StatusCode::OK,
            [(header::CACHE_CONTROL, "no-store")],
            Json(body),
        )
            .into_response(),
        Err(status) => refusal(&status),
    }
}

fn figures_json(statistics: &KindStatistics) -> Value {
    let counts = |pairs: Vec<(String, u64)>| -> Value {
        Value::Object(
            pairs
                .into_iter()
                .map(|(key, count)| (key, Value::from(count)))
                .collect(),
        )
    };
    let enum_name =
        |name: &str, prefix: &str| name.strip_prefix(prefix).unwrap_or(name).to_lowercase();
    json!({
        "total": statistics.total,
        "byField": counts(statistics.by_field.clone()),
        "byYear": counts(statistics.by_year.iter().map(|(year, n)| (year.to_string(), *n)).collect()),
        "byStatus": counts(statistics.by_status.iter().filter_map(|(value, n)| {
            let name = ProjectStatus::try_from(*value).ok()?.as_str_name();
            Some((enum_name(name, "PROJECT_STATUS_"), *n))
        }).collect()),
        "byManagementLevel": counts(statistics.by_management_level.iter().filter_map(|(value, n)| {
            let name = ManagementLevel::try_from(*value).ok()?.as_str_name();
            Some((enum_name(name, "MANAGEMENT_LEVEL_"), *n))
        }).collect()),
    })
}
