//! `GET /search`: one box for experts, tasks and publications, the filters,
//! the merged hits with their provinces, one line per province saying
//! whether it answered and how fast, and paging by the gateway's tokens.
//!
//! The URL holds the whole search in the JSON API's parameter names (plus
//! `kind`), so a search can be bookmarked and shared; the parameters are
//! read by the API's own parser.

use std::sync::Arc;

use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use lienthong_proto::v1 as pb;
use lienthong_records::{AnyRecord, RecordKind};
use maud::{Markup, html};

use super::query_string;
use crate::auth::UserRole;
use crate::federated_search::{FederatedPage, MergedHit};
use crate::federation::{Federation, search_action};
use crate::request_error::RequestError;
use crate::web::i18n::{Lang, Text};
use crate::web::layout::{Frame, Section, page_with_status, render};

/// The search as the URL states it.
#[derive(Debug, Clone, Default)]
pub struct SearchForm {
    pub kind: Kind,
    /// Every non-empty parameter but `kind`, in order.
    pub pairs: Vec<(String, String)>,
}

/// The three kinds one box searches.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Kind {
    #[default]
    Experts,
    Projects,
    Publications,
}

impl Kind {
    const ALL: [Kind; 3] = [Kind::Experts, Kind::Projects, Kind::Publications];

    fn parse(text: &str) -> Kind {
        match text {
            "projects" => Kind::Projects,
            "publications" => Kind::Publications,
            _ => Kind::Experts,
        }
    }

    fn code(self) -> &'static str {
        match self {
            Kind::Experts => "experts",
            Kind::Projects => "projects",
            Kind::Publications => "publications",
        }
    }

    fn record_kind(self) -> RecordKind {
        match self {
            Kind::Experts => RecordKind::Expert,
            Kind::Projects => RecordKind::Project,
            Kind::Publications => RecordKind::Publication,
        }
    }

    fn label(self, text: &Text) -> &'static str {
        text.kinds[self as usize]
    }
}

impl SearchForm {
    pub fn parse(query: Option<&str>) -> SearchForm {
        let mut form = SearchForm::default();
        for (key, value) in form_urlencoded::parse(query.unwrap_or_default().as_bytes()) {
            if key == "kind" {
                form.kind = Kind::parse(&value);
            } else if !value.trim().is_empty() {
                form.pairs.push((key.into_owned(), value.into_owned()));
            }
        }
        form
    }

    fn value(&self, name: &str) -> &str {
        self.pairs
            .iter()
            .find(|(key, _)| key == name)
            .map_or("", |(_, value)| value.as_str())
    }

    /// Whether anything was asked (a query or a filter).
    fn asked(&self) -> bool {
        self.pairs.iter().any(|(key, _)| key != "page_token")
    }

    fn has_filters(&self) -> bool {
        self.pairs
            .iter()
            .any(|(key, _)| !matches!(key.as_str(), "q" | "page_token"))
    }

    /// The JSON API's query string for this search.
    fn api_query(&self) -> String {
        query_string(self.pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())))
    }

    /// This search's URL with `page_token` replaced (or dropped).
    fn url(&self, kind: Kind, page_token: Option<&str>) -> String {
        let kept = self
            .pairs
            .iter()
            .filter(|(key, _)| key != "page_token")
            .map(|(k, v)| (k.as_str(), v.as_str()));
        let query = query_string(
            std::iter::once(("kind", kind.code()))
                .chain(kept)
                .chain(page_token.map(|token| ("page_token", token))),
        );
        format!("/search?{query}")
    }
}

/// `GET /search?kind=experts&q=nguyen+xuan+hai&field=4&…`.
pub async fn page(
    State(federation): State<Arc<Federation>>,
    visit: crate::web::Visit,
    RawQuery(query): RawQuery,
) -> Response {
    let session = match visit.signed_in() {
        Ok(session) => session,
        Err(to_sign_in) => return to_sign_in.into_response(),
    };
    let form = SearchForm::parse(query.as_deref());
    let provinces = provinces(&federation);
    let frame = Frame::of(&visit);
    let role = session.user.role;
    if !form.asked() {
        let body = search_body(&frame, role, &form, &provinces, Outcome::NotAsked);
        return page_with_status(
            StatusCode::OK,
            &frame,
            visit.lang.text().search_title,
            Section::Search,
            body,
        );
    }
    let kind = form.kind.record_kind();
    let api_query = form.api_query();
    let outcome = match crate::http_api::parse_search(Some(&api_query)) {
        Err(error) => Err(federation
            .refuse_malformed(&visit.credentials, search_action(kind), &api_query, error)
            .await),
        Ok(params) => {
            let deadline = federation.deadline(params.timeout);
            federation
                .search(&visit.credentials, kind, params.request, deadline)
                .await
        }
    };
    let (status, outcome) = match outcome {
        Ok(page) => (StatusCode::OK, Outcome::Page(page)),
        Err(RequestError::Unauthenticated(_)) => return visit.to_sign_in(),
        Err(error) => {
            let status = crate::web::layout::error_status(&error);
            (status, Outcome::Failed(error))
        }
    };
    let body = search_body(&frame, role, &form, &provinces, outcome);
    page_with_status(
        status,
        &frame,
        visit.lang.text().search_title,
        Section::Search,
        body,
    )
}

/// The province ids and names the gateway knows, in its order.
pub fn provinces(federation: &Federation) -> Vec<(String, String)> {
    federation
        .registry()
        .nodes()
        .iter()
        .map(|node| (node.settings.id.clone(), node.settings.display_name.clone()))
        .collect()
}

/// What the search came to.
pub enum Outcome {
    NotAsked,
    Page(FederatedPage),
    Failed(RequestError),
}

/// The whole results page, as the gateway renders it after the federated
/// search (the benchmark measures this).
pub fn results_page(
    frame: &Frame<'_>,
    role: UserRole,
    form: &SearchForm,
    provinces: &[(String, String)],
    page: FederatedPage,
) -> String {
    let text = frame.lang.text();
    let body = search_body(frame, role, form, provinces, Outcome::Page(page));
    render(frame, text.search_title, Section::Search, body).into_string()
}

fn search_body(
    frame: &Frame<'_>,
    role: UserRole,
    form: &SearchForm,
    provinces: &[(String, String)],
    outcome: Outcome,
) -> Markup {
    let text = frame.lang.text();
    html! {
        h1 { (text.search_title) }
        (search_form(text, role, form, provinces))
        @match outcome {
            Outcome::NotAsked => {}
            Outcome::Failed(error) => {
                p.error role="alert" { (crate::web::layout::error_message(frame.lang, &error)) }
            }
            Outcome::Page(page) => (results(frame.lang, form, provinces, page)),
        }
    }
}

fn search_form(
    text: &Text,
    role: UserRole,
    form: &SearchForm,
    provinces: &[(String, String)],
) -> Markup {
    let selected = |name: &str, value: &str| form.value(name) == value;
    html! {
        form role="search" method="get" action="/search" {
            fieldset.kinds {
                legend { (text.search_in) }
                @for kind in Kind::ALL {
                    span {
                        input type="radio" name="kind" id={ "kind-" (kind.code()) } value=(kind.code())
                            checked[form.kind == kind];
                        " "
                        label for={ "kind-" (kind.code()) } { (kind.label(text)) }
                    }
                }
            }
            div.search-box {
                div.field {
                    label for="q" { (text.search_box) }
                    input #q type="search" name="q" value=(form.value("q")) maxlength="256"
                        aria-describedby="q-hint" autocomplete="off";
                    p.hint #q-hint { (text.search_hint) }
                }
                button type="submit" { (text.search_button) }
            }
            details.filters open[form.has_filters()] {
                summary { (text.filters) }
                div.filter-grid {
                    div.field {
                        label for="field" { (text.filter_field) }
                        select #field name="field" {
                            option value="" { (text.any) }
                            @for (code, name) in text.field_names.iter().filter(|(code, _)| code.len() == 1) {
                                optgroup label={ (code) " " (name) } {
                                    option value=(code) selected[selected("field", code)] {
                                        (code) " " (name) " (" (text.all_of_field) ")"
                                    }
                                    @for (sector, sector_name) in text.field_names.iter().filter(|(sector, _)| sector.len() == 3 && sector.starts_with(code)) {
                                        option value=(sector) selected[selected("field", sector)] {
                                            (sector) " " (sector_name)
                                        }
                                    }
                                }
                            }
                        }
                    }
                    div.field {
                        label for="node" { (text.filter_province) }
                        select #node name="node" {
                            option value="" { (text.any) }
                            @for (id, name) in provinces {
                                option value=(id) selected[selected("node", id)] { (name) }
                            }
                        }
                    }
                    div.field {
                        label for="organization" { (text.filter_organization) }
                        input #organization type="text" name="organization"
                            value=(form.value("organization")) aria-describedby="organization-hint";
                        p.hint #organization-hint { (text.filter_organization_hint) }
                    }
                    div.field {
                        label for="degree" { (text.filter_degree) }
                        select #degree name="degree" {
                            option value="" { (text.any) }
                            @for (index, label) in text.degrees.iter().enumerate().skip(1) {
                                @let code = degree_code(index);
                                option value=(code) selected[selected("degree", code)] { (label) }
                            }
                        }
                    }
                    div.field {
                        label for="title" { (text.filter_title) }
                        select #title name="title" {
                            option value="" { (text.any) }
                            option value="professor" selected[selected("title", "professor")] { (text.academic_titles[1]) }
                            option value="associate_professor" selected[selected("title", "associate_professor")] { (text.academic_titles[2]) }
                        }
                    }
                    div.field {
                        label for="year_from" { (text.filter_year_from) }
                        input #year_from type="number" name="year_from" min="1900" max="2100"
                            inputmode="numeric" value=(form.value("year_from"));
                    }
                    div.field {
                        label for="year_to" { (text.filter_year_to) }
                        input #year_to type="number" name="year_to" min="1900" max="2100"
                            inputmode="numeric" value=(form.value("year_to"));
                        @if role.sees_personal_fields() {
                            p.hint { (text.filter_birth_year_note) }
                        }
                    }
                    div.field {
                        label for="status" { (text.filter_status) }
                        select #status name="status" {
                            option value="" { (text.any) }
                            @for (index, label) in text.statuses.iter().enumerate().skip(1) {
                                @let code = status_code(index);
                                option value=(code) selected[selected("status", code)] { (label) }
                            }
                        }
                    }
                    div.field {
                        label for="level" { (text.filter_level) }
                        select #level name="level" {
                            option value="" { (text.any) }
                            @for (index, label) in text.levels.iter().enumerate().skip(1) {
                                @let code = level_code(index);
                                option value=(code) selected[selected("level", code)] { (label) }
                            }
                        }
                    }
                }
                p { button type="submit" { (text.search_button) } }
            }
        }
    }
}

fn degree_code(index: usize) -> &'static str {
    [
        "",
        "doctor_of_science",
        "doctor",
        "master",
        "engineer",
        "bachelor",
        "medical_doctor",
    ][index]
}

fn status_code(index: usize) -> &'static str {
    [
        "",
        "proposed",
        "approved",
        "ongoing",
        "completed",
        "cancelled",
    ][index]
}

fn level_code(index: usize) -> &'static str {
    ["", "national", "ministry", "province", "grassroots"][index]
}

fn results(
    lang: Lang,
    form: &SearchForm,
    provinces: &[(String, String)],
    page: FederatedPage,
) -> Markup {
    let text = lang.text();
    let province_name = |id: &str| super::province_name(provinces, id);
    let first_page = form.pairs.iter().all(|(key, _)| key != "page_token");
    html! {
        div.layout {
            section aria-labelledby="results-heading" {
                h2 #results-heading { (text.results) }
                p.meta role="status" { ((text.hits_on_page)(page.hits.len())) }
                @if page.hits.is_empty() {
                    p { (text.no_results) }
                } @else {
                    ol.hits {
                        @for hit in &page.hits {
                            li { (hit_item(lang, hit, &province_name)) }
                        }
                    }
                }
                nav.pager aria-label=(text.results) {
                    @if !first_page {
                        a href=(form.url(form.kind, None)) { (text.first_page) }
                    }
                    @if page.next_page_token.is_empty() {
                        span.meta { (text.no_more_pages) }
                    } @else {
                        a rel="next" href=(form.url(form.kind, Some(&page.next_page_token))) {
                            (text.next_page) " →"
                        }
                    }
                }
            }
            aside aria-labelledby="provinces-heading" {
                h2 #provinces-heading { (text.provinces_answered) }
                div.table-scroll {
                    table.provinces {
                        thead {
                            tr {
                                th scope="col" { (text.province) }
                                th scope="col" { (text.answer) }
                                th.number scope="col" { (text.hits) }
                                th.number scope="col" { (text.time) }
                            }
                        }
                        tbody {
                            @for node in &page.nodes {
                                @let ok = node.outcome == pb::NodeOutcome::Ok as i32;
                                tr data-node=(node.node_id) {
                                    th scope="row" { (province_name(&node.node_id)) }
                                    td class=(if ok { "outcome-ok" } else { "outcome-down" }) {
                                        (if ok { "✓ " } else { "✗ " })
                                        (text.outcome(node.outcome))
                                    }
                                    td.number { (node.hits) }
                                    td.number { ((text.milliseconds)(node.latency_ms)) }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn hit_item(lang: Lang, hit: &MergedHit, province_name: &dyn Fn(&str) -> String) -> Markup {
    let text = lang.text();
    let href = super::record::href(hit.record.id());
    html! {
        article {
            @match &hit.record {
                AnyRecord::Expert(expert) => {
                    h3 {
                        a href=(href) {
                            @let prefix = lienthong_records::labels::title_and_degree(expert.academic_title, expert.degree);
                            @if !prefix.is_empty() { (prefix) " " }
                            (expert.full_name)
                        }
                    }
                    p.meta {
                        (join([expert.position.as_str(), expert.organization_name.as_str()]))
                    }
                    p.meta {
                        (join([expert.specialization.as_str(), &field_list(text, &expert.field_codes)]))
                    }
                }
                AnyRecord::Project(project) => {
                    h3 { a href=(href) { (project.title) } }
                    p.meta {
                        (join([
                            project.code.as_str(),
                            Text::pick(&text.statuses, project.status),
                            Text::pick(&text.levels, project.management_level),
                            &years(&project.actual_start, &project.actual_end, &project.planned_start, &project.planned_end),
                        ]))
                    }
                    p.meta {
                        (join([
                            project.lead.as_ref().map_or("", |lead| lead.name.as_str()),
                            project.host_organization_name.as_str(),
                        ]))
                    }
                }
                AnyRecord::Publication(publication) => {
                    h3 { a href=(href) { (publication.title) } }
                    p.meta {
                        (authors_line(publication))
                    }
                    p.meta {
                        (join([
                            publication.venue.as_str(),
                            &if publication.year == 0 { String::new() } else { publication.year.to_string() },
                        ]))
                    }
                }
                AnyRecord::Organization(organization) => {
                    h3 { a href=(href) { (organization.name) } }
                }
            }
            p.meta {
                (text.held_by) ": "
                @for provenance in &hit.provenance {
                    span.badge.mirror[provenance.mirror.is_some()] {
                        (province_name(&provenance.node_id))
                    }
                }
            }
        }
    }
}

/// "Nguyễn A, Trần B, Lê C et al."
fn authors_line(publication: &pb::Publication) -> String {
    let names: Vec<&str> = publication
        .authors
        .iter()
        .take(3)
        .map(|author| author.name.as_str())
        .collect();
    let mut line = names.join(", ");
    if publication.authors.len() > 3 {
        line.push_str(", …");
    }
    line
}

/// The non-empty parts joined by " · ".
pub fn join<'a>(parts: impl IntoIterator<Item = &'a str>) -> String {
    parts
        .into_iter()
        .filter(|part| !part.trim().is_empty())
        .collect::<Vec<_>>()
        .join(" · ")
}

/// "4010601 Trồng trọt, 4020101 Chăn nuôi".
pub fn field_list(text: &Text, codes: &[String]) -> String {
    codes
        .iter()
        .map(|code| {
            let name = text.field_name(code);
            if name.is_empty() {
                code.clone()
            } else {
                format!("{code} {name}")
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// "2021–2023" from the actual dates, else the planned ones.
pub fn years(
    actual_start: &str,
    actual_end: &str,
    planned_start: &str,
    planned_end: &str,
) -> String {
    let year = |date: &str| date.get(..4).unwrap_or_default().to_owned();
    let (start, end) = if actual_start.is_empty() {
        (year(planned_start), year(planned_end))
    } else {
        (year(actual_start), year(actual_end))
    };
    match (start.is_empty(), end.is_empty()) {
        (true, true) => String::new(),
        (false, true) => start,
        (true, false) => end,
        (false, false) if start == end => start,
        (false, false) => format!("{start}–{end}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_url_holds_the_search_and_drops_empty_fields() {
        let form = SearchForm::parse(Some(
            "kind=projects&q=l%C3%BAa&field=4&status=&year_from=&page_token=abc",
        ));
        assert_eq!(form.kind, Kind::Projects);
        assert_eq!(form.api_query(), "q=l%C3%BAa&field=4&page_token=abc");
        assert!(form.asked());
        assert!(form.has_filters());
        assert_eq!(
            form.url(Kind::Projects, Some("next")),
            "/search?kind=projects&q=l%C3%BAa&field=4&page_token=next"
        );
        assert_eq!(
            form.url(Kind::Experts, None),
            "/search?kind=experts&q=l%C3%BAa&field=4"
        );
        assert!(!SearchForm::parse(Some("kind=experts&q=")).asked());
    }

    #[test]
    fn every_filter_code_is_one_the_api_reads() {
        let mut query = String::new();
        for index in 1..7 {
            query.push_str(&format!("degree={}&", degree_code(index)));
        }
        for index in 1..6 {
            query.push_str(&format!("status={}&", status_code(index)));
        }
        for index in 1..5 {
            query.push_str(&format!("level={}&", level_code(index)));
        }
        query.push_str("title=professor&title=associate_professor");
        // Each value parses (the last degree and title win; the lists keep all).
        let params = crate::http_api::parse_search(Some(&query)).unwrap();
        let filters = params.request.filters.unwrap();
        assert_eq!(filters.statuses.len(), 5);
        assert_eq!(filters.management_levels.len(), 4);
    }

    #[test]
    fn years_prefer_what_happened() {
        assert_eq!(
            years("2021-01-01", "2023-06-30", "2020-01-01", "2022-01-01"),
            "2021–2023"
        );
        assert_eq!(years("", "", "2020-01-01", "2022-01-01"), "2020–2022");
        assert_eq!(years("2021-01-01", "", "", ""), "2021");
        assert_eq!(years("", "", "", ""), "");
    }
}
