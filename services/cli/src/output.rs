//! Readable tables for people, JSON (the protobuf JSON mapping) for scripts.

use comfy_table::presets::UTF8_FULL_CONDENSED;
use comfy_table::{ContentArrangement, Table};
use lienthong_proto::v1 as pb;
use lienthong_records::labels;

/// Prints `value` as pretty JSON, or the table `table` builds, then the
/// footer it returns.
pub fn print<T: serde::Serialize>(
    value: &T,
    json: bool,
    table: impl FnOnce() -> (Table, String),
) -> anyhow::Result<()> {
    if json {
        println!("{}", serde_json::to_string_pretty(value)?);
    } else {
        let (table, footer) = table();
        println!("{table}");
        if !footer.is_empty() {
            println!("{footer}");
        }
    }
    Ok(())
}

fn table(header: &[&str]) -> Table {
    let mut table = Table::new();
    table
        .load_preset(UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_header(header);
    table
}

fn footer(hits: usize, next_page_token: &str) -> String {
    if next_page_token.is_empty() {
        format!("{hits} hit(s); no more pages")
    } else {
        format!("{hits} hit(s); next page: --page-token {next_page_token}")
    }
}

fn score(rank: Option<&pb::HitRank>) -> String {
    rank.map_or(String::new(), |rank| format!("{:.1}", rank.score))
}

fn meta_id(meta: Option<&pb::RecordMeta>) -> String {
    meta.map_or(String::new(), |meta| meta.id.clone())
}

pub fn experts_table(response: &pb::SearchExpertsResponse) -> (Table, String) {
    let mut t = table(&[
        "score",
        "name",
        "title",
        "organization",
        "fields",
        "specialization",
        "id",
    ]);
    for hit in &response.hits {
        let Some(e) = &hit.expert else { continue };
        t.add_row(vec![
            score(hit.rank.as_ref()),
            e.full_name.clone(),
            labels::title_and_degree(e.academic_title, e.degree),
            e.organization_name.clone(),
            e.field_codes.join(" "),
            e.specialization.clone(),
            meta_id(e.meta.as_ref()),
        ]);
    }
    (t, footer(response.hits.len(), &response.next_page_token))
}

pub fn projects_table(response: &pb::SearchProjectsResponse) -> (Table, String) {
    let mut t = table(&[
        "score", "code", "title", "status", "level", "start", "lead", "id",
    ]);
    for hit in &response.hits {
        let Some(p) = &hit.project else { continue };
        let start = if p.actual_start.is_empty() {
            &p.planned_start
        } else {
            &p.actual_start
        };
        t.add_row(vec![
            score(hit.rank.as_ref()),
            p.code.clone(),
            p.title.clone(),
            labels::project_status(p.status).to_owned(),
            labels::management_level(p.management_level).to_owned(),
            start.get(..4).unwrap_or_default().to_owned(),
            p.lead
                .as_ref()
                .map(|lead| lead.name.clone())
                .unwrap_or_default(),
            meta_id(p.meta.as_ref()),
        ]);
    }
    (t, footer(response.hits.len(), &response.next_page_token))
}

pub fn publications_table(response: &pb::SearchPublicationsResponse) -> (Table, String) {
    let mut t = table(&["score", "title", "authors", "venue", "year", "id"]);
    for hit in &response.hits {
        let Some(p) = &hit.publication else { continue };
        let authors: Vec<&str> = p
            .authors
            .iter()
            .map(|author| author.name.as_str())
            .collect();
        t.add_row(vec![
            score(hit.rank.as_ref()),
            p.title.clone(),
            authors.join(", "),
            p.venue.clone(),
            if p.year == 0 {
                String::new()
            } else {
                p.year.to_string()
            },
            meta_id(p.meta.as_ref()),
        ]);
    }
    (t, footer(response.hits.len(), &response.next_page_token))
}

pub fn organizations_table(response: &pb::SearchOrganizationsResponse) -> (Table, String) {
    let mut t = table(&[
        "score",
        "name",
        "abbreviation",
        "province",
        "agency code",
        "id",
    ]);
    for hit in &response.hits {
        let Some(o) = &hit.organization else { continue };
        t.add_row(vec![
            score(hit.rank.as_ref()),
            o.name.clone(),
            o.abbreviation.clone(),
            o.province.clone(),
            o.agency_code.clone(),
            meta_id(o.meta.as_ref()),
        ]);
    }
    (t, footer(response.hits.len(), &response.next_page_token))
}

pub fn info_table(info: &pb::NodeInfo) -> (Table, String) {
    let mut t = table(&[
        "node",
        "name",
        "experts",
        "projects",
        "publications",
        "organizations",
        "schema",
        "version",
        "last change",
    ]);
    let counts = info.counts.unwrap_or_default();
    t.add_row(vec![
        info.node_id.clone(),
        info.display_name.clone(),
        counts.experts.to_string(),
        counts.projects.to_string(),
        counts.publications.to_string(),
        counts.organizations.to_string(),
        info.schema_version.to_string(),
        info.software_version.clone(),
        info.last_change_seq.to_string(),
    ]);
    (t, String::new())
}
