//! The frame every page shares: language, skip link, header with the
//! sections the user's role may open, the account box, main and footer
//! landmarks; and the error page.

use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use maud::{DOCTYPE, Markup, html};

use super::assets;
use super::i18n::Lang;
use super::session::Visit;
use crate::auth::{Session, UserRole};
use crate::request_error::RequestError;

/// The sections in the header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Section {
    None,
    Search,
    Proposal,
    Statistics,
    Federation,
    Users,
}

/// What the frame needs to know of the visit.
pub struct Frame<'a> {
    pub lang: Lang,
    pub session: Option<&'a Session>,
    pub here: &'a str,
}

impl<'a> Frame<'a> {
    pub fn of(visit: &'a Visit) -> Frame<'a> {
        Frame {
            lang: visit.lang,
            session: visit.session.as_ref(),
            here: &visit.here,
        }
    }
}

/// A whole page, 200 OK.
pub fn page(frame: &Frame<'_>, title: &str, section: Section, body: Markup) -> Response {
    page_with_status(StatusCode::OK, frame, title, section, body)
}

/// A whole page with `status`.
pub fn page_with_status(
    status: StatusCode,
    frame: &Frame<'_>,
    title: &str,
    section: Section,
    body: Markup,
) -> Response {
    let html = render(frame, title, section, body);
    (
        status,
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        html.into_string(),
    )
        .into_response()
}

/// The markup of a whole page.
pub fn render(frame: &Frame<'_>, title: &str, section: Section, body: Markup) -> Markup {
    let text = frame.lang.text();
    let role = frame.session.map(|session| session.user.role);
    let nav = |target: Section, href: &str, label: &str| {
        html! {
            li { a href=(href) aria-current=[(section == target).then_some("page")] { (label) } }
        }
    };
    let other = match frame.lang {
        Lang::Vi => Lang::En,
        Lang::En => Lang::Vi,
    };
    let next: String = form_urlencoded::byte_serialize(frame.here.as_bytes()).collect();
    html! {
        (DOCTYPE)
        html lang=(frame.lang.code()) {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " — " (text.app_name) }
                link rel="stylesheet" href=(assets::stylesheet_path());
                link rel="icon" href=(assets::icon_path()) type="image/svg+xml";
            }
            body {
                a.skip href="#main" { (text.skip_to_content) }
                header.top {
                    div.brand {
                        a.name href="/search" { (text.app_name) }
                        span.tagline { (text.app_tagline) }
                    }
                    @if let Some(role) = role {
                        nav aria-label=(text.nav_label) {
                            ul {
                                (nav(Section::Search, "/search", text.nav_search))
                                (nav(Section::Proposal, "/proposal-check", text.nav_proposal))
                                (nav(Section::Statistics, "/statistics", text.nav_statistics))
                                @if role >= UserRole::Admin {
                                    (nav(Section::Federation, "/federation", text.nav_federation))
                                    (nav(Section::Users, "/admin/users", text.nav_users))
                                }
                            }
                        }
                    }
                    div.account {
                        @if let Some(session) = frame.session {
                            span.who {
                                (text.signed_in_as) " "
                                strong { (session.user.name) }
                                " (" (text.role(session.user.role)) ")"
                            }
                            form.inline method="post" action="/sign-out" {
                                input type="hidden" name="csrf" value=(session.csrf_token);
                                button type="submit" { (text.sign_out) }
                            }
                        }
                        a.language href={ "/language?to=" (other.code()) "&next=" (next) }
                            lang=(other.code()) hreflang=(other.code())
                            title=(text.other_language_name) { (text.other_language) }
                    }
                }
                main #main tabindex="-1" {
                    (body)
                }
                footer.bottom { p { (text.footer) } }
            }
        }
    }
}

/// The page for a failed operation: the status that fits, and a message
/// in the user's language. Failures of nodes and the gateway itself are
/// described without their internals.
pub fn error_page(lang: Lang, session: Option<&Session>, error: RequestError) -> Response {
    let text = lang.text();
    let frame = Frame {
        lang,
        session,
        here: "/search",
    };
    let body = html! {
        h1 { (text.error_title) }
        p.error role="alert" { (error_message(lang, &error)) }
        p { a href="/search" { (text.back_to_search) } }
    };
    page_with_status(
        error_status(&error),
        &frame,
        text.error_title,
        Section::None,
        body,
    )
}

/// The HTTP status a failed operation's page answers with.
pub fn error_status(error: &RequestError) -> StatusCode {
    describe(Lang::Vi.text(), error).0
}

/// What a page says of a failed operation, in the user's language: what to
/// fix for a malformed request, the kind of failure otherwise.
pub fn error_message(lang: Lang, error: &RequestError) -> String {
    let (_, message, detail) = describe(lang.text(), error);
    match detail {
        Some(detail) => format!("{message} {detail}"),
        None => message.to_owned(),
    }
}

fn describe(
    text: &'static super::i18n::Text,
    error: &RequestError,
) -> (StatusCode, &'static str, Option<String>) {
    match error {
        RequestError::InvalidArgument(detail) | RequestError::LimitExceeded(detail) => (
            StatusCode::BAD_REQUEST,
            text.error_bad_request,
            Some(detail.clone()),
        ),
        RequestError::NotFound(_) => (StatusCode::NOT_FOUND, text.error_not_found, None),
        RequestError::PermissionDenied(_) => (StatusCode::FORBIDDEN, text.error_forbidden, None),
        RequestError::Unauthenticated(_) => (StatusCode::UNAUTHORIZED, text.session_ended, None),
        RequestError::RateLimited(_) => {
            (StatusCode::TOO_MANY_REQUESTS, text.error_rate_limited, None)
        }
        RequestError::Unavailable(_) | RequestError::DeadlineExceeded(_) => (
            StatusCode::SERVICE_UNAVAILABLE,
            text.error_unavailable,
            None,
        ),
        RequestError::RefusedByNode { refusal, .. } => match refusal.code() {
            tonic::Code::NotFound => (StatusCode::NOT_FOUND, text.error_not_found, None),
            tonic::Code::PermissionDenied | tonic::Code::Unauthenticated => {
                (StatusCode::FORBIDDEN, text.error_forbidden, None)
            }
            tonic::Code::InvalidArgument => (
                StatusCode::BAD_REQUEST,
                text.error_bad_request,
                Some(refusal.message().to_owned()),
            ),
            _ => (StatusCode::BAD_GATEWAY, text.error_unavailable, None),
        },
    }
}

/// The page for a form post without its CSRF token or from another origin:
/// 403, nothing done.
pub fn form_refused(frame: &Frame<'_>) -> Response {
    let text = frame.lang.text();
    let body = html! {
        h1 { (text.error_title) }
        p.error role="alert" { (text.form_expired) }
        p { a href="/search" { (text.back_to_search) } }
    };
    page_with_status(
        StatusCode::FORBIDDEN,
        frame,
        text.error_title,
        Section::None,
        body,
    )
}
