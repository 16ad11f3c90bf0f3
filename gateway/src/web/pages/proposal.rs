//! `GET /proposal-check`: the proposal check (kiểm tra trùng lặp) of every
//! province, with each similar task beside the proposal and the phrases
//! they share marked in both.

use std::sync::Arc;

use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use lienthong_proto::v1 as pb;
use lienthong_records::folding::fold_vietnamese;
use maud::{Markup, html};

use super::query_string;
use super::search::{join, years};
use crate::federation::Federation;
use crate::request_error::RequestError;
use crate::web::i18n::Text;
use crate::web::layout::{Frame, Section, error_message, error_status, page_with_status};

/// `GET /proposal-check?title=…&summary=…&field=4`.
pub async fn page(
    State(federation): State<Arc<Federation>>,
    visit: crate::web::Visit,
    RawQuery(query): RawQuery,
) -> Response {
    if let Err(to_sign_in) = visit.signed_in() {
        return to_sign_in.into_response();
    }
    let pairs: Vec<(String, String)> = form_urlencoded::parse(query.unwrap_or_default().as_bytes())
        .filter(|(_, value)| !value.trim().is_empty())
        .map(|(key, value)| (key.into_owned(), value.into_owned()))
        .collect();
    let value = |name: &str| {
        pairs
            .iter()
            .find(|(key, _)| key == name)
            .map_or("", |(_, value)| value.as_str())
    };
    let text = visit.lang.text();
    let mut status = StatusCode::OK;
    let outcome = if value("title").is_empty() {
        None
    } else {
        let api_query = query_string(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        let checked = match crate::http_api::parse_proposal_check(Some(&api_query)) {
            Err(error) => Err(federation
                .refuse_malformed(&visit.credentials, "CheckProposal", &api_query, error)
                .await),
            Ok(request) => {
                let deadline = federation.deadline(None);
                federation
                    .check_proposal(&visit.credentials, request, deadline)
                    .await
            }
        };
        match checked {
            Err(RequestError::Unauthenticated(_)) => return visit.to_sign_in(),
            Err(error) => {
                status = error_status(&error);
                Some(Err(error_message(visit.lang, &error)))
            }
            Ok(check) => Some(Ok(check)),
        }
    };
    let provinces = super::search::provinces(&federation);
    let province_name = |id: &str| super::province_name(&provinces, id);
    let proposal_text = join([value("title"), value("summary")]);
    let body = html! {
        h1 { (text.proposal_title) }
        p { (text.proposal_intro) }
        form method="get" action="/proposal-check" {
            div.field {
                label for="title" { (text.proposal_name) }
                input #title type="text" name="title" required maxlength="500" value=(value("title"));
            }
            div.field {
                label for="summary" { (text.proposal_summary) }
                textarea #summary name="summary" maxlength="20000" { (value("summary")) }
            }
            div.field {
                label for="field" { (text.proposal_field) }
                select #field name="field" {
                    option value="" { (text.any) }
                    @for (code, name) in text.field_names {
                        option value=(code) selected[value("field") == *code] {
                            @if code.len() > 1 { "\u{a0}\u{a0}" } (code) " " (name)
                        }
                    }
                }
            }
            button type="submit" { (text.proposal_button) }
        }
        @match outcome {
            None => {}
            Some(Err(message)) => p.error role="alert" { (message) },
            Some(Ok(check)) => {
                (super::node_lines(visit.lang, &check.nodes, &provinces))
                @if check.tasks.is_empty() {
                    p role="status" { (text.proposal_none) }
                }
                @for (index, similar) in check.tasks.iter().enumerate() {
                    @if let Some(task) = &similar.task {
                        (match_view(text, index, &proposal_text, task, similar.provenance.as_ref(), &province_name))
                    }
                }
            }
        }
    };
    page_with_status(
        status,
        &Frame::of(&visit),
        text.proposal_title,
        Section::Proposal,
        body,
    )
}

fn match_view(
    text: &Text,
    index: usize,
    proposal: &str,
    task: &pb::SimilarTask,
    provenance: Option<&pb::Provenance>,
    province_name: &dyn Fn(&str) -> String,
) -> Markup {
    let Some(project) = &task.project else {
        return html! {};
    };
    let heading = format!("match-{index}");
    let id = project.meta.as_ref().map_or("", |meta| meta.id.as_str());
    let task_text = join([project.title.as_str(), project.summary.as_str()]);
    html! {
        section.match aria-labelledby=(heading) {
            h2 #(heading) {
                a href=(super::record::href(id)) { (project.title) }
            }
            p.meta {
                @if let Some(provenance) = provenance {
                    span.badge.mirror[provenance.mirror.is_some()] { (province_name(&provenance.node_id)) }
                }
                (join([
                    project.code.as_str(),
                    Text::pick(&text.statuses, project.status),
                    &years(&project.actual_start, &project.actual_end, &project.planned_start, &project.planned_end),
                ]))
                " · " (text.similarity) ": " (format!("{:.0}%", task.score * 100.0))
                @if task.likely_repeat {
                    " · " strong.warning { (text.likely_repeat) }
                }
            }
            div.side-by-side {
                div {
                    h3 { (text.proposal_yours) }
                    p { (highlight(proposal, &task.shared_phrases)) }
                }
                div {
                    h3 { (text.proposal_similar) }
                    p { (highlight(&task_text, &task.shared_phrases)) }
                }
            }
            @if !task.shared_phrases.is_empty() {
                p.meta {
                    (text.shared_phrases) ": "
                    @for (n, phrase) in task.shared_phrases.iter().enumerate() {
                        @if n > 0 { ", " }
                        mark { (phrase) }
                    }
                }
            }
        }
    }
}

/// `text` with every occurrence of the phrases marked, matched ignoring
/// case and diacritics and only on whole words ("lúa" marks "Lúa" and
/// "lua", not "lựa chọn"'s neighbours inside longer words).
pub fn highlight(text: &str, phrases: &[String]) -> Markup {
    let ranges = phrase_ranges(text, phrases);
    let mut pieces: Vec<(bool, &str)> = Vec::new();
    let mut at = 0;
    for (start, end) in ranges {
        if start > at {
            pieces.push((false, &text[at..start]));
        }
        pieces.push((true, &text[start..end]));
        at = end;
    }
    if at < text.len() {
        pieces.push((false, &text[at..]));
    }
    html! {
        @for (marked, piece) in pieces {
            @if marked { mark { (piece) } } @else { (piece) }
        }
    }
}

/// Byte ranges of `text` the phrases cover, sorted and merged.
fn phrase_ranges(text: &str, phrases: &[String]) -> Vec<(usize, usize)> {
    // The folded text, and for each of its bytes the original character's
    // byte range.
    let mut folded = String::with_capacity(text.len());
    let mut origin: Vec<(usize, usize)> = Vec::with_capacity(text.len());
    for (start, character) in text.char_indices() {
        let end = start + character.len_utf8();
        let piece = fold_vietnamese(&text[start..end]);
        for _ in 0..piece.len() {
            origin.push((start, end));
        }
        folded.push_str(&piece);
    }
    let is_word = |c: Option<char>| c.is_some_and(char::is_alphanumeric);
    let mut ranges = Vec::new();
    for phrase in phrases {
        let needle = fold_vietnamese(phrase.trim());
        if needle.is_empty() {
            continue;
        }
        let mut from = 0;
        while let Some(found) = folded[from..].find(&needle) {
            let start = from + found;
            let end = start + needle.len();
            let before = folded[..start].chars().next_back();
            let after = folded[end..].chars().next();
            if !is_word(before) && !is_word(after) {
                ranges.push((origin[start].0, origin[end - 1].1));
            }
            from = start + folded[start..].chars().next().map_or(1, char::len_utf8);
        }
    }
    ranges.sort_unstable();
    let mut merged: Vec<(usize, usize)> = Vec::new();
    for (start, end) in ranges {
        match merged.last_mut() {
            Some(last) if start <= last.1 => last.1 = last.1.max(end),
            _ => merged.push((start, end)),
        }
    }
    merged
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phrases_are_marked_whatever_the_diacritics_and_case() {
        let marked = highlight(
            "Nghiên cứu chọn tạo giống LÚA chịu mặn cho vùng ven biển",
            &["chon tao giong lua".into(), "ven biển".into()],
        )
        .into_string();
        assert_eq!(
            marked,
            "Nghiên cứu <mark>chọn tạo giống LÚA</mark> chịu mặn cho vùng <mark>ven biển</mark>"
        );
    }

    #[test]
    fn only_whole_words_are_marked_and_text_is_escaped() {
        let marked = highlight("<b>lúa</b> lúamì", &["lúa".into()]).into_string();
        assert_eq!(marked, "&lt;b&gt;<mark>lúa</mark>&lt;/b&gt; lúamì");
        assert_eq!(highlight("", &["x".into()]).into_string(), "");
    }

    #[test]
    fn overlapping_phrases_make_one_mark() {
        let marked = highlight(
            "giống lúa chịu mặn",
            &["giống lúa".into(), "lúa chịu mặn".into()],
        )
        .into_string();
        assert_eq!(marked, "<mark>giống lúa chịu mặn</mark>");
    }
}
