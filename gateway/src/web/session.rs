//! Who is visiting a page: their language, their session (looked up once),
//! and the checks a form post must pass (same origin, CSRF token).

use std::sync::Arc;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::i18n::Lang;
use crate::auth::sessions::same_token;
use crate::auth::{Credentials, Session};
use crate::federation::Federation;
use crate::http_api::HttpsPeer;

/// The session cookie: the browser's half of a signed-in session.
pub const SESSION_COOKIE: &str = "__Host-lienthong-session";
/// Before sign-in, the token the sign-in form must echo (double submit).
pub const FORM_COOKIE: &str = "__Host-lienthong-form";
/// The interface language, `vi` or `en`.
pub const LANG_COOKIE: &str = "__Host-lienthong-lang";

/// One page request.
pub struct Visit {
    pub lang: Lang,
    /// For the federation's operations: the connection and the session
    /// cookie.
    pub credentials: Credentials,
    /// The live session, if the cookie names one.
    pub session: Option<Session>,
    /// This page's path and query, to come back to after sign-in.
    pub here: String,
    /// The pre-session form token cookie, as sent.
    pub form_token: Option<String>,
    /// The request came from a page of this gateway (or says nothing of
    /// where it came from).
    same_origin: bool,
}

impl FromRequestParts<Arc<Federation>> for Visit {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        federation: &Arc<Federation>,
    ) -> Result<Self, Self::Rejection> {
        let peer = parts
            .extensions
            .get::<axum::extract::ConnectInfo<HttpsPeer>>()
            .map(|info| info.0.0.clone());
        let secret = cookie(&parts.headers, SESSION_COOKIE);
        // Vietnamese unless the user chose English on a page: staff
        // browsers often say English first without anyone choosing it.
        let lang = cookie(&parts.headers, LANG_COOKIE).map_or(Lang::Vi, |code| Lang::parse(&code));
        let session = match &secret {
            Some(secret) => match federation.access().session(secret, peer.as_ref()).await {
                Ok(session) => session,
                Err(error) => {
                    return Err(super::layout::error_page(lang, None, error));
                }
            },
            None => None,
        };
        let here = parts
            .uri
            .path_and_query()
            .map_or_else(|| "/".to_owned(), |path| path.as_str().to_owned());
        Ok(Visit {
            lang,
            credentials: Credentials {
                peer,
                authorization: None,
                session: secret,
            },
            session,
            here,
            form_token: cookie(&parts.headers, FORM_COOKIE),
            same_origin: same_origin(&parts.headers),
        })
    }
}

impl Visit {
    /// The signed-in session, or a redirect to the sign-in page that comes
    /// back here.
    pub fn signed_in(&self) -> Result<&Session, ToSignIn> {
        match &self.session {
            Some(session) => Ok(session),
            None => Err(ToSignIn(Box::new(self.to_sign_in()))),
        }
    }

    /// A redirect to the sign-in page, saying whether a session ended.
    pub fn to_sign_in(&self) -> Response {
        let ended = if self.credentials.session.is_some() {
            "&ended=1"
        } else {
            ""
        };
        let next: String = form_urlencoded::byte_serialize(self.here.as_bytes()).collect();
        let mut response = redirect(&format!("/sign-in?next={next}{ended}"));
        if self.credentials.session.is_some() {
            response
                .headers_mut()
                .append(header::SET_COOKIE, clear_cookie(SESSION_COOKIE));
        }
        response
    }

    /// Whether a signed-in form post may act: same origin, and the
    /// session's CSRF token.
    pub fn may_post(&self, session: &Session, sent_token: Option<&str>) -> bool {
        self.same_origin && sent_token.is_some_and(|sent| same_token(sent, &session.csrf_token))
    }

    /// Whether a form posted before sign-in may act: same origin, and the
    /// token of the form cookie.
    pub fn may_post_before_sign_in(&self, sent_token: Option<&str>) -> bool {
        self.same_origin
            && matches!(
                (sent_token, self.form_token.as_deref()),
                (Some(sent), Some(cookie)) if !cookie.is_empty() && same_token(sent, cookie)
            )
    }
}

/// The way to the sign-in page, for a visit without a session.
pub struct ToSignIn(Box<Response>);

impl IntoResponse for ToSignIn {
    fn into_response(self) -> Response {
        *self.0
    }
}

/// The named cookie's value.
pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|line| line.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value.trim().to_owned())
}

/// A `Set-Cookie` value: host-only, HTTPS only, never sent from another
/// site, out of scripts' reach.
pub fn set_cookie(name: &str, value: &str, max_age_seconds: i64) -> HeaderValue {
    let text = format!(
        "{name}={value}; Path=/; Max-Age={max_age_seconds}; Secure; HttpOnly; SameSite=Strict"
    );
    HeaderValue::from_str(&text).unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// A `Set-Cookie` value that removes the cookie.
pub fn clear_cookie(name: &str) -> HeaderValue {
    set_cookie(name, "", 0)
}

/// A 303 redirect to a path of this gateway.
pub fn redirect(to: &str) -> Response {
    let location = HeaderValue::from_str(to).unwrap_or_else(|_| HeaderValue::from_static("/"));
    (StatusCode::SEE_OTHER, [(header::LOCATION, location)]).into_response()
}

/// A `next` parameter made safe: a path on this gateway, never another
/// host (`//evil`, `/\evil`, `https://…`).
pub fn local_path(next: &str) -> String {
    let safe = next.starts_with('/')
        && !next.starts_with("//")
        && !next.starts_with("/\\")
        && !next.contains(|c: char| c.is_control() || c == '\\')
        && next.len() <= 2_000;
    if safe && !next.starts_with("/sign-in") && !next.starts_with("/sign-out") {
        next.to_owned()
    } else {
        "/search".to_owned()
    }
}

/// The fields of a posted form (at most 64 fields).
pub fn form_fields(body: &[u8]) -> Vec<(String, String)> {
    form_urlencoded::parse(body)
        .take(64)
        .map(|(key, value)| (key.into_owned(), value.into_owned()))
        .collect()
}

/// The first value of a form field.
pub fn field<'a>(fields: &'a [(String, String)], name: &str) -> Option<&'a str> {
    fields
        .iter()
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.as_str())
}

/// Browsers say where a request came from; a post from another site is
/// refused whatever it carries.
fn same_origin(headers: &HeaderMap) -> bool {
    let fetch_site = headers
        .get("sec-fetch-site")
        .and_then(|value| value.to_str().ok());
    if fetch_site.is_some_and(|site| site != "same-origin" && site != "none") {
        return false;
    }
    let Some(origin) = headers.get(header::ORIGIN) else {
        return true;
    };
    let host = headers
        .get(header::HOST)
        .and_then(|value| value.to_str().ok());
    match (origin.to_str().ok(), host) {
        (Some(origin), Some(host)) => origin == format!("https://{host}"),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_stays_on_this_gateway() {
        assert_eq!(local_path("/search?q=a"), "/search?q=a");
        for bad in [
            "//evil.example/",
            "/\\evil.example",
            "https://evil.example/",
            "",
            "/sign-out",
            "/x\r\nSet-Cookie: a=b",
            "/\t/evil.example/",
            "/\u{7f}/evil",
            "/ok\\..\\evil",
        ] {
            assert_eq!(local_path(bad), "/search", "{bad:?}");
        }
    }

    #[test]
    fn cookies_are_read_by_exact_name() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::COOKIE,
            HeaderValue::from_static("a=1; __Host-lienthong-session=s3; x__Host-lienthong-lang=en"),
        );
        assert_eq!(cookie(&headers, SESSION_COOKIE).as_deref(), Some("s3"));
        assert_eq!(cookie(&headers, LANG_COOKIE), None);
    }

    #[test]
    fn posts_from_elsewhere_are_not_same_origin() {
        let mut headers = HeaderMap::new();
        headers.insert(header::HOST, HeaderValue::from_static("127.0.0.1:8080"));
        assert!(same_origin(&headers));
        headers.insert(
            header::ORIGIN,
            HeaderValue::from_static("https://127.0.0.1:8080"),
        );
        assert!(same_origin(&headers));
        headers.insert(
            header::ORIGIN,
            HeaderValue::from_static("https://evil.example"),
        );
        assert!(!same_origin(&headers));
        headers.remove(header::ORIGIN);
        headers.insert("sec-fetch-site", HeaderValue::from_static("cross-site"));
        assert!(!same_origin(&headers));
    }
}
