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
        h2 { (text.sync_title) }
        @if status.nodes.iter().all(|node| node.mirrors.is_empty()) {
            p { (text.sync_none) }
        } @else {
            div.table-scroll {
                table.sync {
                    thead {
                        tr {
                            th scope="col" { (text.follower) }
                            th scope="col" { (text.followed) }
                            th.number scope="col" { (text.mirrored) }
                            th.number scope="col" { (text.backlog) }
                            th.number scope="col" { (text.lag) }
                            th scope="col" { (text.caught_up_at) }
                            th scope="col" { (text.last_sync) }
                            th scope="col" { (text.state) }
                        }
                    }
                    tbody {
                        @for node in &status.nodes {
                            @for mirror in &node.mirrors {
                                tr data-follower=(node.node_id) data-peer=(mirror.peer) {
                                    th scope="row" { (node.display_name) }
                                    td { (mirror.peer) }
                                    td.number { (i18n::number(lang, mirror.mirrored)) }
                                    td.number { (i18n::number(lang, mirror.backlog)) }
                                    td.number { ((text.seconds)(mirror.lag_seconds)) }
                                    td { (moment(text, &mirror.caught_up_at)) }
                                    td { (moment(text, &mirror.last_sync_at)) }
                                    @if mirror.failing {
                                        td.outcome-down { (text.sync_failing) }
                                    } @else {
                                        td.outcome-ok { (text.sync_ok) }
                                    }
                                }
                            }
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

/// "05/03/2026 10:42" (UTC) from RFC 3339, or "never".
fn moment(text: &Text, rfc3339: &str) -> String {
    if rfc3339.is_empty() {
        return text.never.to_owned();
    }
    format!(
        "{} {} UTC",
        i18n::date(rfc3339),
        rfc3339.get(11..16).unwrap_or_default()
    )
}
