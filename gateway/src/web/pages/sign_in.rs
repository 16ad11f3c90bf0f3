//! Sign-in (name and password, or client certificate) and sign-out.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{StatusCode, header};
use axum::response::Response;
use maud::html;

use crate::federation::Federation;
use crate::request_error::RequestError;
use crate::web::layout::{Frame, Section, error_page, form_refused, page_with_status};
use crate::web::session::{
    FORM_COOKIE, SESSION_COOKIE, Visit, clear_cookie, field, form_fields, local_path, redirect,
    set_cookie,
};

/// What the sign-in page says above the form.
enum Notice {
    None,
    SessionEnded,
    SignedOut,
    Refused,
    TooMany,
    FormExpired,
}

/// `GET /sign-in?next=…`.
pub async fn form(visit: Visit, RawQuery(query): RawQuery) -> Response {
    let mut next = "/search".to_owned();
    let mut notice = Notice::None;
    for (key, value) in form_urlencoded::parse(query.unwrap_or_default().as_bytes()) {
        match key.as_ref() {
            "next" => next = local_path(&value),
            "ended" => notice = Notice::SessionEnded,
            "out" => notice = Notice::SignedOut,
            _ => {}
        }
    }
    if visit.session.is_some() {
        return redirect(&next);
    }
    render(&visit, &next, notice, StatusCode::OK)
}

/// The sign-in page, with a fresh form token when the browser has none.
fn render(visit: &Visit, next: &str, notice: Notice, status: StatusCode) -> Response {
    let text = visit.lang.text();
    let (token, new_token) = match visit
        .form_token
        .as_deref()
        .filter(|token| token.len() >= 32)
    {
        Some(token) => (token.to_owned(), false),
        None => (new_form_token(), true),
    };
    let message = match notice {
        Notice::None => None,
        Notice::SessionEnded => Some(("notice", text.session_ended)),
        Notice::SignedOut => Some(("notice", text.signed_out)),
        Notice::Refused => Some(("error", text.sign_in_refused)),
        Notice::TooMany => Some(("error", text.sign_in_too_many)),
        Notice::FormExpired => Some(("error", text.form_expired)),
    };
    let body = html! {
        div.sign-in {
            h1 { (text.sign_in_title) }
            @if let Some((class, message)) = message {
                p class=(class) role=(if class == "error" { "alert" } else { "status" }) { (message) }
            }
            form method="post" action="/sign-in" {
                input type="hidden" name="csrf" value=(token);
                input type="hidden" name="next" value=(next);
                div.field {
                    label for="user" { (text.user_name) }
                    input #user type="text" name="user" autocomplete="username" required
                        autocapitalize="none" spellcheck="false" maxlength="64";
                }
                div.field {
                    label for="password" { (text.password) }
                    input #password type="password" name="password" autocomplete="current-password"
                        required maxlength="256";
                }
                button type="submit" { (text.sign_in) }
            }
            h2 { (text.sign_in_with_certificate) }
            p.hint { (text.certificate_hint) }
            form method="post" action="/sign-in/certificate" {
                input type="hidden" name="csrf" value=(token);
                input type="hidden" name="next" value=(next);
                button.secondary type="submit" { (text.sign_in_with_certificate) }
            }
        }
    };
    let frame = Frame::of(visit);
    let mut response = page_with_status(status, &frame, text.sign_in_title, Section::None, body);
    if new_token {
        response
            .headers_mut()
            .append(header::SET_COOKIE, set_cookie(FORM_COOKIE, &token, 3600));
    }
    response
}

fn new_form_token() -> String {
    // Without randomness no form token: the form is then refused (403).
    crate::auth::tokens::random_token().unwrap_or_default()
}

/// A sign-in form as posted.
struct PostedForm {
    fields: Vec<(String, String)>,
    /// Where to go after signing in (a path on the gateway).
    next: String,
}

/// The sign-in form, if it carries the form token and comes from the
/// gateway's own page; else the page saying so.
fn posted_form(visit: &Visit, body: &[u8]) -> Result<PostedForm, Box<Response>> {
    let fields = form_fields(body);
    let next = local_path(field(&fields, "next").unwrap_or("/search"));
    if visit.may_post_before_sign_in(field(&fields, "csrf")) {
        Ok(PostedForm { fields, next })
    } else {
        Err(Box::new(render(
            visit,
            &next,
            Notice::FormExpired,
            StatusCode::FORBIDDEN,
        )))
    }
}

/// `POST /sign-in`: name and password.
pub async fn with_password(
    State(federation): State<Arc<Federation>>,
    visit: Visit,
    body: Bytes,
) -> Response {
    let PostedForm { fields, next } = match posted_form(&visit, &body) {
        Ok(form) => form,
        Err(refused) => return *refused,
    };
    let user = field(&fields, "user").unwrap_or_default().trim();
    let password = field(&fields, "password").unwrap_or_default();
    let peer = visit.credentials.peer.as_ref();
    let signed_in = federation
        .access()
        .sign_in_with_password(peer, user, password)
        .await;
    finish_sign_in(&visit, &next, signed_in, &federation).await
}

/// `POST /sign-in/certificate`: the client certificate of the connection.
pub async fn with_certificate(
    State(federation): State<Arc<Federation>>,
    visit: Visit,
    body: Bytes,
) -> Response {
    let next = match posted_form(&visit, &body) {
        Ok(form) => form.next,
        Err(refused) => return *refused,
    };
    let peer = visit.credentials.peer.as_ref();
    let signed_in = federation.access().sign_in_with_certificate(peer).await;
    finish_sign_in(&visit, &next, signed_in, &federation).await
}

async fn finish_sign_in(
    visit: &Visit,
    next: &str,
    signed_in: Result<crate::access::SignedIn, RequestError>,
    federation: &Federation,
) -> Response {
    match signed_in {
        Ok(signed_in) => {
            // A session the browser held before ends with this sign-in.
            if let Some(previous) = &visit.credentials.session
                && let Err(error) = federation.access().sessions().delete(previous).await
            {
                tracing::warn!(%error, "cannot end the previous session");
            }
            let lifetime = federation.access().sessions().lifetime();
            let mut response = redirect(next);
            let headers = response.headers_mut();
            headers.append(
                header::SET_COOKIE,
                set_cookie(
                    SESSION_COOKIE,
                    &signed_in.secret,
                    lifetime.absolute.whole_seconds(),
                ),
            );
            // The pre-session token has served; a new one comes with the
            // next sign-in page.
            headers.append(header::SET_COOKIE, clear_cookie(FORM_COOKIE));
            response
        }
        Err(RequestError::Unauthenticated(_)) => {
            render(visit, next, Notice::Refused, StatusCode::UNAUTHORIZED)
        }
        Err(RequestError::RateLimited(_)) => {
            render(visit, next, Notice::TooMany, StatusCode::TOO_MANY_REQUESTS)
        }
        Err(error) => error_page(visit.lang, None, error),
    }
}

/// `POST /sign-out`.
pub async fn sign_out(
    State(federation): State<Arc<Federation>>,
    visit: Visit,
    body: Bytes,
) -> Response {
    let fields = form_fields(&body);
    let Some(session) = &visit.session else {
        return visit.to_sign_in();
    };
    if !visit.may_post(session, field(&fields, "csrf")) {
        return form_refused(&Frame::of(&visit));
    }
    if let Err(error) = federation.access().sign_out(&visit.credentials).await {
        return error_page(visit.lang, visit.session.as_ref(), error);
    }
    let mut response = redirect("/sign-in?out=1");
    response
        .headers_mut()
        .append(header::SET_COOKIE, clear_cookie(SESSION_COOKIE));
    response
}
