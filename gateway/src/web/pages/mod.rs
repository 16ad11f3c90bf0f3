//! One module per page.

pub mod federation;
pub mod proposal;
pub mod record;
pub mod search;
pub mod sign_in;
pub mod statistics;
pub mod users;

use axum::extract::RawQuery;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use lienthong_proto::v1 as pb;
use maud::{Markup, html};

use super::i18n::Lang;
use super::session::{LANG_COOKIE, Visit, local_path, redirect, set_cookie};

/// `/`: the search page for the signed-in, else the sign-in page.
pub async fn home(visit: Visit) -> Response {
    match visit.signed_in() {
        Ok(_) => redirect("/search"),
        Err(to_sign_in) => to_sign_in.into_response(),
    }
}

/// `GET /language?to=en&next=/search?q=…`: remembers the language (a
/// preference cookie, no server state) and goes back.
pub async fn language(RawQuery(query): RawQuery) -> Response {
    let mut to = Lang::Vi;
    let mut next = "/search".to_owned();
    for (key, value) in form_urlencoded::parse(query.unwrap_or_default().as_bytes()) {
        match key.as_ref() {
            "to" => to = Lang::parse(&value),
            "next" => next = local_path(&value),
            _ => {}
        }
    }
    let mut response = redirect(&next);
    response.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(LANG_COOKIE, to.code(), 365 * 24 * 3600),
    );
    response
}

/// The query string `pairs` make.
pub fn query_string<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> String {
    let mut serializer = form_urlencoded::Serializer::new(String::new());
    for (key, value) in pairs {
        serializer.append_pair(key, value);
    }
    serializer.finish()
}

/// One line per province: answered or not.
pub fn node_lines(lang: Lang, nodes: &[pb::NodeStatus], provinces: &[(String, String)]) -> Markup {
    let text = lang.text();
    html! {
        ul.meta {
            @for node in nodes {
                @let ok = node.outcome == pb::NodeOutcome::Ok as i32;
                @let name = province_name(provinces, &node.node_id);
                li data-node=(node.node_id) {
                    (name) ": "
                    span class=(if ok { "outcome-ok" } else { "outcome-down" }) { (text.outcome(node.outcome)) }
                    " (" ((text.milliseconds)(node.latency_ms)) ")"
                }
            }
        }
    }
}

/// A province's display name, or its id when the gateway does not know it.
pub fn province_name(provinces: &[(String, String)], id: &str) -> String {
    provinces
        .iter()
        .find(|(known, _)| known == id)
        .map_or_else(|| id.to_owned(), |(_, name)| name.clone())
}
