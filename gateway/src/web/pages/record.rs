//! `GET /records/{id}`: every field the origin node shares with this user,
//! the provinces that hold the record (as the search's twin merge finds
//! them), and links to the records it names. Personal fields come only to
//! roles that may see them; the gateway and the node withhold them from
//! the others before this page sees the record.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use lienthong_proto::v1 as pb;
use lienthong_records::{AnyRecord, RecordKind};
use maud::{Markup, html};

use super::search::{field_list, join, years};
use crate::federation::Federation;
use crate::request_error::RequestError;
use crate::web::i18n::{self, Lang, Text};
use crate::web::layout::{self, Frame, Section, error_page};

/// The page of a record.
pub fn href(id: &str) -> String {
    // Ids read as they are ("hung-yen:expert:E0000042"); anything else in
    // them is percent-encoded.
    let mut path = String::from("/records/");
    for byte in id.bytes() {
        if byte.is_ascii_alphanumeric() || b":-._~".contains(&byte) {
            path.push(char::from(byte));
        } else {
            path.push_str(&format!("%{byte:02X}"));
        }
    }
    path
}

/// `GET /records/{id}`.
pub async fn page(
    State(federation): State<Arc<Federation>>,
    visit: crate::web::Visit,
    Path(id): Path<String>,
) -> Response {
    let session = match visit.signed_in() {
        Ok(session) => session,
        Err(to_sign_in) => return to_sign_in.into_response(),
    };
    let deadline = federation.deadline(None);
    let record = match federation.get(&visit.credentials, &id, deadline).await {
        Ok(record) => record,
        Err(RequestError::Unauthenticated(_)) => return visit.to_sign_in(),
        Err(error) => return error_page(visit.lang, Some(session), error),
    };
    let Ok(record) = AnyRecord::try_from(record) else {
        return error_page(
            visit.lang,
            Some(session),
            RequestError::NotFound(format!("no record {id}")),
        );
    };
    let provenance = provenance(&federation, &visit, &record).await;
    let provinces = super::search::provinces(&federation);
    let province_name = |node: &str| super::province_name(&provinces, node);
    let text = visit.lang.text();
    let title = record_title(&record);
    let body = html! {
        p.meta { (kind_label(text, &record)) }
        h1 { (title) }
        (fields(visit.lang, &record, session.user.role.sees_personal_fields()))
        section aria-labelledby="provenance-heading" {
            h2 #provenance-heading { (text.provenance) }
            ul {
                @for (index, held) in provenance.iter().enumerate() {
                    li {
                        span.badge.mirror[held.mirror.is_some()] { (province_name(&held.node_id)) }
                        " "
                        @if held.record_id == record.id() {
                            (held.record_id)
                        } @else {
                            a href=(href(&held.record_id)) { (held.record_id) }
                        }
                        " — "
                        @if held.mirror.is_some() {
                            (text.provenance_mirror)
                        } @else if index == 0 {
                            (text.provenance_origin)
                        } @else {
                            (text.provenance_twin)
                        }
                    }
                }
            }
        }
    };
    layout::page(&Frame::of(&visit), &title, Section::Search, body)
}

/// The provinces holding this record: the twins the federated search
/// merges with it, found by searching for its name or title. Only the
/// record's own node when the search finds nothing more (or fails).
async fn provenance(
    federation: &Federation,
    visit: &crate::web::Visit,
    record: &AnyRecord,
) -> Vec<pb::Provenance> {
    let own = vec![pb::Provenance {
        node_id: record.id().split(':').next().unwrap_or_default().to_owned(),
        record_id: record.id().to_owned(),
        mirror: None,
    }];
    let kind = record.kind();
    if kind == RecordKind::Organization {
        return own;
    }
    // The first words of the name, as the search box takes them.
    let title = record_title(record);
    let words: Vec<&str> = title.split_whitespace().take(12).collect();
    let request = pb::FederatedSearchRequest {
        query: words.join(" "),
        page_size: 20,
        ..Default::default()
    };
    let deadline = federation.deadline(None);
    match federation
        .search(&visit.credentials, kind, request, deadline)
        .await
    {
        Ok(page) => page
            .hits
            .into_iter()
            .find(|hit| {
                hit.provenance
                    .iter()
                    .any(|held| held.record_id == record.id())
            })
            .map_or(own, |hit| hit.provenance),
        Err(_) => own,
    }
}

fn record_title(record: &AnyRecord) -> String {
    match record {
        AnyRecord::Expert(expert) => expert.full_name.clone(),
        AnyRecord::Project(project) => project.title.clone(),
        AnyRecord::Publication(publication) => publication.title.clone(),
        AnyRecord::Organization(organization) => organization.name.clone(),
    }
}

fn kind_label(text: &Text, record: &AnyRecord) -> &'static str {
    match record.kind() {
        RecordKind::Expert => text.kinds[0],
        RecordKind::Project => text.kinds[1],
        RecordKind::Publication => text.kinds[2],
        RecordKind::Organization => text.organization,
    }
}

/// One `dt`/`dd` pair, left out when the value is empty.
fn row(label: &str, value: impl AsRef<str>) -> Markup {
    let value = value.as_ref();
    html! {
        @if !value.trim().is_empty() {
            dt { (label) }
            dd { (value) }
        }
    }
}

/// A `dt`/`dd` pair whose value links to a record, or plain text without id.
fn linked(label: &str, name: &str, id: &str) -> Markup {
    html! {
        @if !name.trim().is_empty() || !id.is_empty() {
            dt { (label) }
            dd { (person_or_record(name, id)) }
        }
    }
}

fn person_or_record(name: &str, id: &str) -> Markup {
    let shown = if name.trim().is_empty() { id } else { name };
    html! {
        @if id.is_empty() { (shown) } @else { a href=(href(id)) { (shown) } }
    }
}

/// A link to the experts of an organization.
fn organization_search(text: &Text, id: &str) -> Markup {
    let query = super::query_string([("kind", "experts"), ("organization", id)]);
    html! {
        @if !id.is_empty() {
            " (" a href={ "/search?" (query) } { (text.experts_here) } ")"
        }
    }
}

fn fields(lang: Lang, record: &AnyRecord, sees_personal: bool) -> Markup {
    let text = lang.text();
    let meta = record.meta();
    html! {
        dl.record {
            @match record {
                AnyRecord::Expert(expert) => {
                    (row(text.full_name, &expert.full_name))
                    (row(text.title_degree, join([
                        Text::pick(&text.academic_titles, expert.academic_title),
                        Text::pick(&text.degrees, expert.degree),
                    ])))
                    (row(text.gender, Text::pick(&text.genders, expert.gender)))
                    @if sees_personal && expert.birth_year != 0 {
                        (row(text.birth_year, expert.birth_year.to_string()))
                    }
                    (row(text.position, &expert.position))
                    @if !expert.organization_name.is_empty() {
                        dt { (text.organization) }
                        dd {
                            (expert.organization_name)
                            (organization_search(text, &expert.organization_id))
                        }
                    }
                    (row(text.fields_of_science, field_list(text, &expert.field_codes)))
                    (row(text.specialization, &expert.specialization))
                    (row(text.keywords, expert.keywords.join(", ")))
                    @if let Some(ids) = &expert.identifiers {
                        (row(text.identifiers, join([
                            prefixed("ORCID ", &ids.orcid).as_str(),
                            prefixed("Scopus ", &ids.scopus_author_id).as_str(),
                            prefixed("ResearcherID ", &ids.researcher_id).as_str(),
                        ])))
                    }
                    @if sees_personal {
                        @if let Some(contact) = &expert.contact {
                            (row(text.email, &contact.email))
                            (row(text.phone, &contact.phone))
                        } @else if !expert.contact_sharing_consent {
                            dt { (text.email) }
                            dd.meta { (text.contact_no_consent) }
                        }
                    }
                }
                AnyRecord::Project(project) => {
                    (row(text.code, &project.code))
                    (row(text.task_title, &project.title))
                    (row(text.status, Text::pick(&text.statuses, project.status)))
                    (row(text.management_level, Text::pick(&text.levels, project.management_level)))
                    @if let Some(lead) = &project.lead {
                        (linked(text.lead, &lead.name, &lead.expert_id))
                    }
                    @if !project.members.is_empty() {
                        dt { (text.team) }
                        dd {
                            ul {
                                @for member in &project.members {
                                    li { (person_or_record(&member.name, &member.expert_id)) }
                                }
                            }
                        }
                    }
                    @if !project.host_organization_name.is_empty() {
                        dt { (text.host_organization) }
                        dd {
                            (project.host_organization_name)
                            (organization_search(text, &project.host_organization_id))
                        }
                    }
                    (row(text.managing_agency, &project.managing_agency))
                    (row(text.fields_of_science, field_list(text, &project.field_codes)))
                    (row(text.period, period(project)))
                    @if project.total_budget_vnd != 0 {
                        (row(text.budget, format!("{} đ", i18n::number(lang, project.total_budget_vnd))))
                    }
                    @if project.state_budget_vnd != 0 {
                        (row(text.state_budget, format!("{} đ", i18n::number(lang, project.state_budget_vnd))))
                    }
                    (row(text.acceptance, join([
                        &i18n::date(&project.acceptance_date),
                        Text::pick(&text.grades, project.acceptance_grade),
                    ])))
                    (row(text.objectives, &project.objectives))
                    (row(text.summary, &project.summary))
                    (row(text.keywords, project.keywords.join(", ")))
                }
                AnyRecord::Publication(publication) => {
                    (row(text.task_title, &publication.title))
                    @if !publication.authors.is_empty() {
                        dt { (text.authors) }
                        dd {
                            ul {
                                @for author in &publication.authors {
                                    li { (person_or_record(&author.name, &author.expert_id)) }
                                }
                            }
                        }
                    }
                    (row(text.venue, join([
                        publication.venue.as_str(),
                        publication.volume.as_str(),
                        &if publication.issue.is_empty() { String::new() } else { format!("({})", publication.issue) },
                        publication.pages.as_str(),
                    ])))
                    @if publication.year != 0 {
                        (row(text.year, publication.year.to_string()))
                    }
                    (row(text.doi, &publication.doi))
                    (row(text.fields_of_science, field_list(text, &publication.field_codes)))
                    (row(text.abstract_, &publication.r#abstract))
                    (row(text.keywords, publication.keywords.join(", ")))
                    @if !publication.project_id.is_empty() {
                        (linked(text.from_task, "", &publication.project_id))
                    }
                }
                AnyRecord::Organization(organization) => {
                    (row(text.organization, &organization.name))
                    (row(text.abbreviation, &organization.abbreviation))
                    (row(text.organization_type, Text::pick(&text.organization_types, organization.organization_type)))
                    (row(text.province, &organization.province))
                    (row(text.agency_code, &organization.agency_code))
                    dt { (text.experts_here) }
                    dd { (organization_search(text, organization.meta.as_ref().map_or("", |meta| meta.id.as_str()))) }
                }
            }
            (row(text.record_id, record.id()))
            @if let Some(meta) = meta {
                (row(text.updated, i18n::date(&meta.updated_at)))
            }
        }
        @if !sees_personal && record.kind() == RecordKind::Expert {
            p.notice { (text.personal_withheld) }
        }
    }
}

fn prefixed(prefix: &str, value: &str) -> String {
    if value.trim().is_empty() {
        String::new()
    } else {
        format!("{prefix}{value}")
    }
}

fn period(project: &pb::Project) -> String {
    let (start, end) = if project.actual_start.is_empty() {
        (&project.planned_start, &project.planned_end)
    } else {
        (&project.actual_start, &project.actual_end)
    };
    match (start.is_empty(), end.is_empty()) {
        (false, false) => format!("{} – {}", i18n::date(start), i18n::date(end)),
        _ => years(
            &project.actual_start,
            &project.actual_end,
            &project.planned_start,
            &project.planned_end,
        ),
    }
}
