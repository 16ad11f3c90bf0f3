//! The web pages department staff use: sign in, search, records, the
//! proposal check, statistics, and, for administrators, the federation's
//! status and the user list. Server-rendered HTML on the gateway's HTTPS
//! listener, beside the JSON API, calling the same [`Federation`]
//! operations (search, policy, paging and audit are theirs, not the
//! pages').
//!
//! - No script at all: every page works with JavaScript off, and the
//!   Content-Security-Policy allows none. The one stylesheet is embedded in
//!   the binary ([`assets`]).
//! - Signed-in pages carry a session cookie (`__Host-`, HttpOnly, Secure,
//!   SameSite=Strict); every form that changes something also carries the
//!   session's CSRF token, and posts from another origin are refused.
//! - Labels and messages live in [`i18n`] (Vietnamese, then English).

pub mod assets;
pub mod i18n;
mod layout;
mod pages;
mod session;
mod svg_chart;

use std::sync::Arc;

use axum::Router;
use axum::extract::Request;
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::Response;
use axum::routing::get;

use crate::federation::Federation;

pub use layout::Frame;
pub use pages::search::{SearchForm, results_page};
pub use session::Visit;

/// The Content-Security-Policy of every answer of the HTTP listener: no
/// scripts, no frames, styles and images from the gateway only, forms post
/// back to it only.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; style-src 'self'; \
     img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// Routes of the web pages.
pub fn router() -> Router<Arc<Federation>> {
    Router::new()
        .route("/", get(pages::home))
        .route(
            "/sign-in",
            get(pages::sign_in::form).post(pages::sign_in::with_password),
        )
        .route(
            "/sign-in/certificate",
            axum::routing::post(pages::sign_in::with_certificate),
        )
        .route("/sign-out", axum::routing::post(pages::sign_in::sign_out))
        .route("/language", get(pages::language))
        .route("/search", get(pages::search::page))
        .route("/records/{id}", get(pages::record::page))
        .route("/proposal-check", get(pages::proposal::page))
        .route("/statistics", get(pages::statistics::page))
        .route("/statistics.csv", get(pages::statistics::csv))
        .route("/federation", get(pages::federation::page))
        .route(
            "/admin/users",
            get(pages::users::page).post(pages::users::change),
        )
        .route("/assets/{name}", get(assets::serve))
        // The largest form is the users page's: a few short fields.
        .layer(axum::extract::DefaultBodyLimit::max(FORM_LIMIT_BYTES))
}

/// The largest form body a page accepts.
pub const FORM_LIMIT_BYTES: usize = 16 * 1024;

/// Adds the security headers to every answer of the HTTP listener (pages
/// and API alike).
pub async fn security_headers(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    let set = |headers: &mut axum::http::HeaderMap, name, value: &'static str| {
        headers.insert(name, HeaderValue::from_static(value));
    };
    set(
        headers,
        header::CONTENT_SECURITY_POLICY,
        CONTENT_SECURITY_POLICY,
    );
    set(
        headers,
        header::STRICT_TRANSPORT_SECURITY,
        "max-age=31536000; includeSubDomains",
    );
    set(headers, header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    set(headers, header::X_FRAME_OPTIONS, "DENY");
    // Not "no-referrer": with it, browsers send "Origin: null" on form
    // posts, and the same-origin check could not tell them from forgeries.
    set(headers, header::REFERRER_POLICY, "same-origin");
    set(
        headers,
        header::HeaderName::from_static("permissions-policy"),
        "camera=(), microphone=(), geolocation=(), payment=()",
    );
    set(
        headers,
        header::HeaderName::from_static("cross-origin-opener-policy"),
        "same-origin",
    );
    if !headers.contains_key(header::CACHE_CONTROL) {
        // Answers carry records and names: no shared or disk cache.
        set(headers, header::CACHE_CONTROL, "no-store");
    }
    response
}
