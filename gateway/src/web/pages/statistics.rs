//! `GET /statistics`: experts, tasks and publications by field, year,
//! status and management level, for one province or all, as SVG bar
//! charts or tables; `GET /statistics.csv` gives every figure as CSV.

use std::sync::Arc;

use axum::extract::{RawQuery, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use lienthong_proto::v1 as pb;
use maud::{Markup, html};

use crate::federation::Federation;
use crate::request_error::RequestError;
use crate::web::i18n::{self, Lang, Text};
use crate::web::layout::{self, Frame, Section, error_page};
use crate::web::svg_chart::{Bar, bar_chart};

/// The choices the page's form makes.
struct Choice {
    /// A province's node id, or "" for all.
    node: String,
    /// "expert", "project" or "publication".
    kind: String,
    table: bool,
}

impl Choice {
    fn parse(query: Option<&str>) -> Choice {
        let mut choice = Choice {
            node: String::new(),
            kind: "project".into(),
            table: false,
        };
        for (key, value) in form_urlencoded::parse(query.unwrap_or_default().as_bytes()) {
            match key.as_ref() {
                "node" => choice.node = value.into_owned(),
                "kind" if KINDS.contains(&value.as_ref()) => choice.kind = value.into_owned(),
                "view" => choice.table = value == "table",
                _ => {}
            }
        }
        choice
    }
}

const KINDS: [&str; 3] = ["expert", "project", "publication"];

async fn fetch(
    federation: &Federation,
    visit: &crate::web::Visit,
) -> Result<pb::FederatedStatistics, RequestError> {
    let deadline = federation.deadline(None);
    federation
        .statistics(
            &visit.credentials,
            pb::FederatedStatisticsRequest::default(),
            deadline,
        )
        .await
}

/// `GET /statistics?node=hung-yen&kind=project&view=chart`.
pub async fn page(
    State(federation): State<Arc<Federation>>,
    visit: crate::web::Visit,
    RawQuery(query): RawQuery,
) -> Response {
    let session = match visit.signed_in() {
        Ok(session) => session,
        Err(to_sign_in) => return to_sign_in.into_response(),
    };
    let choice = Choice::parse(query.as_deref());
    let statistics = match fetch(&federation, &visit).await {
        Ok(statistics) => statistics,
        Err(RequestError::Unauthenticated(_)) => return visit.to_sign_in(),
        Err(error) => return error_page(visit.lang, Some(session), error),
    };
    let provinces = super::search::provinces(&federation);
    let text = visit.lang.text();
    let place_name = if choice.node.is_empty() {
        text.statistics_all.to_owned()
    } else {
        super::province_name(&provinces, &choice.node)
    };
    let figures = if choice.node.is_empty() {
        statistics.total.as_ref()
    } else {
        statistics
            .provinces
            .iter()
            .find(|province| province.node_id == choice.node)
    };
    let kind_index = KINDS
        .iter()
        .position(|kind| *kind == choice.kind)
        .unwrap_or(1);
    let kind_figures =
        figures.and_then(|figures| figures.kinds.iter().find(|kind| kind.kind == choice.kind));
    let body = html! {
        h1 { (text.statistics_title) }
        form.view-switch method="get" action="/statistics" {
            div.field {
                label for="node" { (text.filter_province) }
                select #node name="node" {
                    option value="" { (text.statistics_all) }
                    @for (id, name) in &provinces {
                        option value=(id) selected[*id == choice.node] { (name) }
                    }
                }
            }
            div.field {
                label for="kind" { (text.record_kind) }
                select #kind name="kind" {
                    @for (index, kind) in KINDS.iter().enumerate() {
                        option value=(kind) selected[*kind == choice.kind] { (text.statistics_kind[index]) }
                    }
                }
            }
            fieldset.choice {
                legend { (text.show) }
                span {
                    input #view-chart type="radio" name="view" value="chart" checked[!choice.table];
                    " " label for="view-chart" { (text.view_chart) }
                }
                span {
                    input #view-table type="radio" name="view" value="table" checked[choice.table];
                    " " label for="view-table" { (text.view_table) }
                }
            }
            button type="submit" { (text.show) }
        }
        p { a href="/statistics.csv" download { (text.download_csv) } }
        (super::node_lines(visit.lang, &statistics.nodes, &provinces))
        @match kind_figures {
            None => p { (text.no_results) },
            Some(figures) => {
                h2 { (text.statistics_kind[kind_index]) " — " (place_name) ": " (i18n::number(visit.lang, figures.total)) }
                div.charts {
                    @for (dimension, title, counts) in dimensions(text, figures) {
                        @if !counts.is_empty() {
                            section {
                                h3 { (title) }
                                @let bars = bars(text, dimension, counts);
                                @if choice.table {
                                    (table(visit.lang, title, &bars))
                                } @else {
                                    (bar_chart(
                                        &format!("chart-{dimension}"),
                                        &(text.chart_of)(title, &place_name),
                                        &bars,
                                        |count| i18n::number(visit.lang, count),
                                    ))
                                }
                            }
                        }
                    }
                }
            }
        }
    };
    layout::page(
        &Frame::of(&visit),
        text.statistics_title,
        Section::Statistics,
        body,
    )
}

/// The dimensions of one kind's figures: (code, title, counts).
fn dimensions<'a>(
    text: &'static Text,
    figures: &'a pb::KindStatistics,
) -> [(&'static str, &'static str, &'a [pb::CountByKey]); 4] {
    [
        ("field", text.by_field, &figures.by_field),
        ("year", text.by_year, &figures.by_year),
        ("status", text.by_status, &figures.by_status),
        ("level", text.by_level, &figures.by_management_level),
    ]
}

/// Bars in a stable order (fields and years by key; statuses and levels in
/// their enum order), with readable labels.
fn bars(text: &Text, dimension: &str, counts: &[pb::CountByKey]) -> Vec<Bar> {
    let mut sorted: Vec<&pb::CountByKey> = counts.iter().collect();
    sorted.sort_by_key(|count| match dimension {
        "status" => format!(
            "{:02}",
            pb::ProjectStatus::from_str_name(&count.key).map_or(99, |status| status as i32)
        ),
        "level" => format!(
            "{:02}",
            pb::ManagementLevel::from_str_name(&count.key).map_or(99, |level| level as i32)
        ),
        _ => count.key.clone(),
    });
    sorted
        .into_iter()
        .map(|count| Bar {
            label: label(text, dimension, &count.key),
            count: count.count,
        })
        .collect()
}

fn label(text: &Text, dimension: &str, key: &str) -> String {
    let named = match dimension {
        "field" => text.field_name(key),
        "status" => pb::ProjectStatus::from_str_name(key)
            .map_or("", |status| Text::pick(&text.statuses, status as i32)),
        "level" => pb::ManagementLevel::from_str_name(key)
            .map_or("", |level| Text::pick(&text.levels, level as i32)),
        _ => "",
    };
    match (dimension, named.is_empty()) {
        (_, true) => key.to_owned(),
        ("field", false) => format!("{key} {named}"),
        _ => named.to_owned(),
    }
}

fn table(lang: Lang, title: &str, bars: &[Bar]) -> Markup {
    let text = lang.text();
    let total: u64 = bars.iter().map(|bar| bar.count).sum();
    html! {
        div.table-scroll {
            table {
                caption { (title) }
                thead { tr { th scope="col" { (title) } th.number scope="col" { (text.count) } } }
                tbody {
                    @for bar in bars {
                        tr { th scope="row" { (bar.label) } td.number { (i18n::number(lang, bar.count)) } }
                    }
                }
                tfoot { tr { th scope="row" { (text.total) } td.number { (i18n::number(lang, total)) } } }
            }
        }
    }
}

/// `GET /statistics.csv`: every figure of every province and the total,
/// one row each: `province,kind,dimension,key,label,count`.
pub async fn csv(State(federation): State<Arc<Federation>>, visit: crate::web::Visit) -> Response {
    let session = match visit.signed_in() {
        Ok(session) => session,
        Err(to_sign_in) => return to_sign_in.into_response(),
    };
    let statistics = match fetch(&federation, &visit).await {
        Ok(statistics) => statistics,
        Err(RequestError::Unauthenticated(_)) => return visit.to_sign_in(),
        Err(error) => return error_page(visit.lang, Some(session), error),
    };
    let text = visit.lang.text();
    // A byte-order mark, so that spreadsheet programs read UTF-8.
    let mut out = String::from("\u{feff}province,kind,dimension,key,label,count\r\n");
    let places = statistics.provinces.iter().chain(statistics.total.as_ref());
    for place in places {
        for kind in &place.kinds {
            for (dimension, _, counts) in dimensions(text, kind) {
                for count in counts {
                    let cells = [
                        place.node_id.as_str(),
                        kind.kind.as_str(),
                        dimension,
                        count.key.as_str(),
                        &label(text, dimension, &count.key),
                    ];
                    for cell in cells {
                        out.push_str(&csv_cell(cell));
                        out.push(',');
                    }
                    out.push_str(&count.count.to_string());
                    out.push_str("\r\n");
                }
            }
        }
    }
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"lienthong-thong-ke.csv\"",
            ),
        ],
        out,
    )
        .into_response()
}

/// A CSV cell: quoted when needed, and never read as a formula by a
/// spreadsheet (values come from nodes).
fn csv_cell(value: &str) -> String {
    let guarded = if value.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{value}")
    } else {
        value.to_owned()
    };
    // ";" too: spreadsheets in comma-decimal locales split on it.
    if guarded.contains([',', ';', '"', '\n', '\r']) {
        format!("\"{}\"", guarded.replace('"', "\"\""))
    } else {
        guarded
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_cells_are_quoted_and_never_formulas() {
        assert_eq!(csv_cell("hung-yen"), "hung-yen");
        assert_eq!(csv_cell("a,b"), "\"a,b\"");
        assert_eq!(csv_cell("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_cell("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        assert_eq!(csv_cell("x;=1+1"), "\"x;=1+1\"");
    }

    #[test]
    fn bars_follow_the_enum_order_with_labels() {
        let counts = [
            pb::CountByKey {
                key: "PROJECT_STATUS_COMPLETED".into(),
                count: 3,
            },
            pb::CountByKey {
                key: "PROJECT_STATUS_PROPOSED".into(),
                count: 1,
            },
        ];
        let bars = bars(&crate::web::i18n::VI, "status", &counts);
        assert_eq!(bars[0].label, "Đề xuất");
        assert_eq!(bars[1].label, "Đã nghiệm thu");
        assert_eq!(
            label(&crate::web::i18n::VI, "field", "4"),
            "4 Khoa học nông nghiệp"
        );
        assert_eq!(label(&crate::web::i18n::VI, "year", "2021"), "2021");
    }
}
