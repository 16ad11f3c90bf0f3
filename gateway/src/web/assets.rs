//! The stylesheet and icon, embedded in the binary and served under names
//! that carry a hash of their content, so browsers may keep them for a year
//! and still see a new release at once.

use std::sync::LazyLock;

use axum::extract::Path;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

/// The one stylesheet.
pub const STYLESHEET: &str = include_str!("../../assets/lienthong.css");
/// The icon.
pub const ICON: &str = include_str!("../../assets/icon.svg");

struct Asset {
    path: String,
    body: &'static str,
    content_type: &'static str,
}

static ASSETS: LazyLock<[Asset; 2]> = LazyLock::new(|| {
    [
        asset("lienthong", "css", STYLESHEET, "text/css; charset=utf-8"),
        asset("icon", "svg", ICON, "image/svg+xml"),
    ]
});

fn asset(stem: &str, extension: &str, body: &'static str, content_type: &'static str) -> Asset {
    let hash = crate::page_token::fingerprint(&[body.as_bytes()]);
    Asset {
        path: format!(
            "/assets/{stem}.{:012x}.{extension}",
            hash & 0xffff_ffff_ffff
        ),
        body,
        content_type,
    }
}

/// Where pages link the stylesheet.
pub fn stylesheet_path() -> &'static str {
    &ASSETS[0].path
}

/// Where pages link the icon.
pub fn icon_path() -> &'static str {
    &ASSETS[1].path
}

/// `GET /assets/{name}`.
pub async fn serve(Path(name): Path<String>) -> Response {
    let wanted = format!("/assets/{name}");
    match ASSETS.iter().find(|asset| asset.path == wanted) {
        Some(asset) => (
            [
                (header::CONTENT_TYPE, asset.content_type),
                (header::CACHE_CONTROL, "public, max-age=31536000, immutable"),
            ],
            asset.body,
        )
            .into_response(),
        None => (StatusCode::NOT_FOUND, "no such asset").into_response(),
    }
}
