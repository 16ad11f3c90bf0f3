//! `/admin/users`: the web users, their roles and states; administrators
//! add users, change roles, set passwords, and disable or enable accounts.
//! Every change is a form post with the session's CSRF token, audited as
//! `ChangeUser`, and ends the changed user's sessions.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use maud::{Markup, html};

use crate::access::UserChange;
use crate::auth::{Session, UserInfo, UserRole};
use crate::federation::Federation;
use crate::request_error::RequestError;
use crate::web::i18n::{self, Lang};
use crate::web::layout::{
    Frame, Section, error_message, error_page, error_status, form_refused, page_with_status,
};
use crate::web::session::{field, form_fields, redirect};

const ROLES: [UserRole; 3] = [UserRole::Viewer, UserRole::Officer, UserRole::Admin];

/// `GET /admin/users`.
pub async fn page(
    State(federation): State<Arc<Federation>>,
    visit: crate::web::Visit,
    RawQuery(query): RawQuery,
) -> Response {
    let saved = form_urlencoded::parse(query.unwrap_or_default().as_bytes())
        .find(|(key, _)| key == "saved")
        .map(|(_, name)| name.into_owned());
    render(&federation, &visit, saved.map(Ok), StatusCode::OK).await
}

async fn render(
    federation: &Federation,
    visit: &crate::web::Visit,
    outcome: Option<Result<String, String>>,
    status: StatusCode,
) -> Response {
    let session = match visit.signed_in() {
        Ok(session) => session,
        Err(to_sign_in) => return to_sign_in.into_response(),
    };
    let users = match federation.access().list_users(&visit.credentials).await {
        Ok(users) => users,
        Err(RequestError::Unauthenticated(_)) => return visit.to_sign_in(),
        Err(error) => return error_page(visit.lang, Some(session), error),
    };
    let text = visit.lang.text();
    let body = html! {
        h1 { (text.users_title) }
        @match &outcome {
            // Only a user who exists is said to be saved.
            Some(Ok(name)) if users.iter().any(|user| &user.name == name) => {
                p.notice role="status" { ((text.user_saved)(name)) }
            }
            Some(Ok(_)) => {}
            Some(Err(message)) => p.error role="alert" { (message) },
            None => {}
        }
        div.table-scroll {
            table {
                thead {
                    tr {
                        th scope="col" { (text.user_name) }
                        th scope="col" { (text.role) }
                        th scope="col" { (text.state) }
                        th scope="col" { (text.created) }
                        th scope="col" { (text.change_role) }
                    }
                }
                tbody {
                    @for user in &users {
                        (user_row(visit.lang, session, user))
                    }
                }
            }
        }
        h2 { (text.add_user) }
        form method="post" action="/admin/users" {
            input type="hidden" name="csrf" value=(session.csrf_token);
            input type="hidden" name="action" value="create";
            div.field {
                label for="new-name" { (text.user_name) }
                input #new-name type="text" name="name" required maxlength="64" autocomplete="off"
                    autocapitalize="none" spellcheck="false";
            }
            div.field {
                label for="new-role" { (text.role) }
                (role_select("new-role", UserRole::Viewer, visit.lang))
            }
            div.field {
                label for="new-password" { (text.password) }
                input #new-password type="password" name="password" required minlength="12"
                    maxlength="256" autocomplete="new-password" aria-describedby="password-rule";
                p.hint #password-rule { (text.password_rule) }
            }
            button type="submit" { (text.add_user) }
        }
    };
    page_with_status(
        status,
        &Frame::of(visit),
        text.users_title,
        Section::Users,
        body,
    )
}

fn role_select(id: &str, current: UserRole, lang: Lang) -> Markup {
    let text = lang.text();
    html! {
        select id=(id) name="role" {
            @for role in ROLES {
                option value=(role.as_str()) selected[role == current] { (text.role(role)) }
            }
        }
    }
}

fn user_row(lang: Lang, session: &Session, user: &UserInfo) -> Markup {
    let text = lang.text();
    let own = user.name == session.user.name;
    let now = lienthong_audit::format_time(time::OffsetDateTime::now_utc());
    let locked = user
        .locked_until
        .as_deref()
        .filter(|until| *until > now.as_str());
    let hidden = |action: &str| {
        html! {
            input type="hidden" name="csrf" value=(session.csrf_token);
            input type="hidden" name="action" value=(action);
            input type="hidden" name="name" value=(user.name);
        }
    };
    let slug: String = user
        .name
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    html! {
        tr {
            th scope="row" { (user.name) }
            td { (text.role(user.role)) }
            td {
                @if user.disabled_at.is_some() {
                    span.outcome-down { (text.disabled) }
                } @else if let Some(until) = locked {
                    span.warning { (text.locked_until) " " (i18n::date(until)) " " (until.get(11..16).unwrap_or_default()) }
                } @else {
                    (text.active)
                }
            }
            td { (i18n::date(&user.created_at)) }
            td.users-actions {
                @if !own {
                    form method="post" action="/admin/users" {
                        (hidden("set_role"))
                        label.visually-hidden for={ "role-" (slug) } { (text.change_role) }
                        (role_select(&format!("role-{slug}"), user.role, lang))
                        button.secondary type="submit" { (text.change_role) }
                    }
                }
                form method="post" action="/admin/users" {
                    (hidden("set_password"))
                    label for={ "password-" (slug) } { (text.new_password) }
                    input id={ "password-" (slug) } type="password" name="password" required
                        minlength="12" maxlength="256" autocomplete="new-password";
                    button.secondary type="submit" { (text.set_password) }
                }
                @if !own {
                    form method="post" action="/admin/users" {
                        @if user.disabled_at.is_some() || locked.is_some() {
                            (hidden("enable"))
                            button.secondary type="submit" { (text.enable) }
                        } @else {
                            (hidden("disable"))
                            button.secondary type="submit" { (text.disable) }
                        }
                    }
                }
            }
        }
    }
}

/// `POST /admin/users`: one change.
pub async fn change(
    State(federation): State<Arc<Federation>>,
    visit: crate::web::Visit,
    body: Bytes,
) -> Response {
    let session = match visit.signed_in() {
        Ok(session) => session,
        Err(to_sign_in) => return to_sign_in.into_response(),
    };
    let fields = form_fields(&body);
    if !visit.may_post(session, field(&fields, "csrf")) {
        return form_refused(&Frame::of(&visit));
    }
    let name = field(&fields, "name").unwrap_or_default().trim().to_owned();
    let password = field(&fields, "password").unwrap_or_default().to_owned();
    let role = field(&fields, "role").map(str::parse::<UserRole>);
    let change = match (field(&fields, "action").unwrap_or_default(), role) {
        ("create", Some(Ok(role))) => Ok(UserChange::Create {
            name,
            role,
            password,
        }),
        ("set_role", Some(Ok(role))) => Ok(UserChange::SetRole { name, role }),
        ("set_password", _) => Ok(UserChange::SetPassword { name, password }),
        ("disable", _) => Ok(UserChange::Disable { name }),
        ("enable", _) => Ok(UserChange::Enable { name }),
        (_, Some(Err(message))) => Err(RequestError::InvalidArgument(message)),
        ("create" | "set_role", None) => Err(RequestError::InvalidArgument(
            "choose a role: viewer, officer or admin".into(),
        )),
        (action, _) => Err(RequestError::InvalidArgument(format!(
            "unknown action {action:?}; use create, set_role, set_password, disable or enable"
        ))),
    };
    let changed = match change {
        Ok(change) => {
            federation
                .access()
                .change_user(&visit.credentials, change)
                .await
        }
        Err(error) => Err(error),
    };
    match changed {
        Ok(user) => {
            let name: String = form_urlencoded::byte_serialize(user.name.as_bytes()).collect();
            redirect(&format!("/admin/users?saved={name}"))
        }
        Err(RequestError::Unauthenticated(_)) => visit.to_sign_in(),
        Err(error) => {
            let status = error_status(&error);
            let message = error_message(visit.lang, &error);
            render(&federation, &visit, Some(Err(message)), status).await
        }
    }
}
