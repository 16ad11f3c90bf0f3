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

#[cfg(test)]
mod tests {
    use super::*;

    /// A colour of the stylesheet's `:root`, e.g. `--ink`.
    fn colour(name: &str) -> (f64, f64, f64) {
        let declaration = format!("{name}: #");
        let at = STYLESHEET
            .find(&declaration)
            .unwrap_or_else(|| panic!("{name} is not in :root"))
            + declaration.len();
        let hex = &STYLESHEET[at..at + 6];
        let channel = |index: usize| {
            let value = f64::from(u8::from_str_radix(&hex[index..index + 2], 16).unwrap()) / 255.0;
            if value <= 0.039_28 {
                value / 12.92
            } else {
                ((value + 0.055) / 1.055).powf(2.4)
            }
        };
        (channel(0), channel(2), channel(4))
    }

    /// The WCAG contrast ratio of two of the stylesheet's colours.
    fn contrast(a: &str, b: &str) -> f64 {
        let luminance = |(r, g, b): (f64, f64, f64)| 0.2126 * r + 0.7152 * g + 0.0722 * b;
        let (x, y) = (luminance(colour(a)), luminance(colour(b)));
        (x.max(y) + 0.05) / (x.min(y) + 0.05)
    }

    #[test]
    fn text_colours_keep_wcag_aa_contrast() {
        // Text on its backgrounds: at least 4.5:1.
        for (text, background) in [
            ("--ink", "--paper"),
            ("--muted", "--paper"),
            ("--muted", "--wash"),
            ("--brand", "--paper"),
            ("--brand", "--wash"),
            ("--brand-ink", "--brand"),
            ("--ok", "--paper"),
            ("--bad", "--paper"),
            ("--warn", "--paper"),
            ("--ink", "--mark"),
        ] {
            let ratio = contrast(text, background);
            assert!(ratio >= 4.5, "{text} on {background}: {ratio:.2}:1");
        }
        // The focus ring against what it surrounds: at least 3:1.
        for background in ["--paper", "--wash"] {
            let ratio = contrast("--focus", background);
            assert!(ratio >= 3.0, "--focus on {background}: {ratio:.2}:1");
        }
    }

    #[test]
    fn assets_are_served_under_their_hashed_names_only() {
        assert!(stylesheet_path().starts_with("/assets/lienthong."));
        assert!(stylesheet_path().ends_with(".css"));
        assert_ne!(stylesheet_path(), "/assets/lienthong.css");
        assert!(icon_path().ends_with(".svg"));
        // The stylesheet needs nothing the policy forbids: no imports, no
        // fonts or images from elsewhere.
        assert!(!STYLESHEET.contains("@import"));
        assert!(!STYLESHEET.contains("url("));
    }
}
