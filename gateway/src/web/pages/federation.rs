//! `GET /federation`: every node's health, version, shared record counts,
//! change position and circuit breaker, asked now. Administrators only
//! (the operation itself refuses other roles).

use std::sync::Arc;

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use lienthong_proto::v1 as pb;
use maud::html;

use crate::federation::Federation;
use crate::request_error::RequestError;
use crate::web::i18n::{self, Text};
use crate::web::layout::{self, Frame, Section, error_page};

pub async fn page(State(federation): State<Arc<Federation>>, visit: crate::web::Visit) -> Response {
    let session = match visit.signed_in() {
        Ok(session) => session,
        Err(to_sign_in) => return to_sign_in.into_response(),
    };
    let deadline = federation.deadline(None);
    let status = match federation.status(&visit.credentials, deadline).await {
        Ok(status) => status,
        Err(RequestError::Unauthenticated(_)) => return visit.to_sign_in(),
        Err(error) => return error_page(visit.lang, Some(session), error),
    };
    let lang = visit.lang;
    let text = lang.text();
    let body = html! {
        h1 { (text.federation_title) }
        p role="status" { ((text.nodes_ok)(status.nodes_ok, status.nodes.len())) " · " (text.software) " " (status.software_version) }
        div.table-scroll {
            table {
                thead {
                    tr {
                        th scope="col" { (text.province) }
                        th scope="col" { (text.endpoint) }
                        th scope="col" { (text.health) }
                        th scope="col" { (text.breaker) }
                        th.number scope="col" { (text.time) }
                        th.number scope="col" { (text.last_call) }
                        th scope="col" { (text.software) }
                        th.number scope="col" { (text.records) }
                        th.number scope="col" { (text.last_change) }
                    }
                }
                tbody {
                    @for node in &status.nodes {
                        @let ok = node.outcome == pb::NodeOutcome::Ok as i32;
                        @let counts = node.counts.unwrap_or_default();
                        tr data-node=(node.node_id) {
                            th scope="row" { (node.display_name) br; span.meta { (node.node_id) } }
                            td { (node.endpoint) }
                            td class=(if ok { "outcome-ok" } else { "outcome-down" }) {
                                (text.outcome(node.outcome))
                                @if !ok && !node.message.is_empty() { br; span.meta { (node.message) } }
                            }
                            td { (Text::pick(&text.breakers, node.breaker)) }
                            td.number { ((text.milliseconds)(node.latency_ms)) }
                            td.number { ((text.milliseconds)(node.last_call_latency_ms)) }
                            td { (node.software_version) }
                            td.number {
                                (i18n::number(lang, counts.experts + counts.projects + counts.publications + counts.organizations))
                            }
                            td.number { (i18n::number(lang, node.last_change_seq)) }
                        }
                    }
                }
            }
        }
    };
    layout::page(
        &Frame::of(&visit),
        text.federation_title,
        Section::Federation,
        body,
    )
}
