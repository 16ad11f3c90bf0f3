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

/// What an import did, as a table.
pub fn import_summary_table(
    file: &str,
    encoding: &str,
    summary: &lienthong_import::report::Summary,
    dry_run: bool,
) -> (Table, String) {
    let mut table = table(&[
        "rows",
        "accepted",
        "fixed",
        "rejected",
        "fixes",
        "inserted",
        "updated",
        "unchanged",
        "possible duplicates",
    ]);
    table.add_row(vec![
        summary.rows.to_string(),
        summary.accepted.to_string(),
        summary.fixed.to_string(),
        summary.rejected.to_string(),
        summary.fixes.to_string(),
        summary.inserted.to_string(),
        summary.updated.to_string(),
        summary.unchanged.to_string(),
        summary.possible_duplicates.to_string(),
    ]);
    let what = if dry_run {
        "dry run: nothing was written; inserted and updated say what an import would do"
    } else {
        "written"
    };
    (table, format!("{file} ({encoding}); {what}"))
}

/// What an export wrote, as a table.
pub fn export_table(file: &str, exported: &lienthong_import::export::Exported) -> (Table, String) {
    let mut table = table(&["records written", "classified left out"]);
    table.add_row(vec![
        exported.records.to_string(),
        exported.classified_left_out.to_string(),
    ]);
    (
        table,
        format!(
            "{file}: import it back with `lienthong import` after editing; each row updates its record"
        ),
    )
}

/// The fields a merge takes from the dropped record, as a table.
pub fn merge_table(
    taken: &[lienthong_import::record_merge::FieldTaken],
    footer: String,
) -> (Table, String) {
    let mut table = table(&["field taken from the dropped record", "value"]);
    for field in taken {
        table.add_row(vec![field.field.clone(), field.value.clone()]);
    }
    (table, footer)
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

/// One hit to show: its rank, the record, and, for federated results, where
/// it came from.
pub struct Row<'a, R> {
    pub rank: Option<&'a pb::HitRank>,
    pub record: &'a R,
    pub provenance: Option<&'a [pb::Provenance]>,
}

/// Rows of a node's page.
pub fn node_rows<'a, H, R>(
    hits: &'a [H],
    split: impl Fn(&'a H) -> (Option<&'a pb::HitRank>, Option<&'a R>),
) -> Vec<Row<'a, R>> {
    hits.iter()
        .filter_map(|hit| {
            let (rank, record) = split(hit);
            Some(Row {
                rank,
                record: record?,
                provenance: None,
            })
        })
        .collect()
}

/// Rows of a federated page.
pub fn federated_rows<'a, H, R>(
    hits: &'a [H],
    split: impl Fn(&'a H) -> (Option<&'a pb::HitRank>, Option<&'a R>, &'a [pb::Provenance]),
) -> Vec<Row<'a, R>> {
    hits.iter()
        .filter_map(|hit| {
            let (rank, record, provenance) = split(hit);
            Some(Row {
                rank,
                record: record?,
                provenance: Some(provenance),
            })
        })
        .collect()
}

/// A table whose first columns are the score and, for federated rows, the province.
fn hit_table<R>(rows: &[Row<'_, R>], header: &[&str]) -> Table {
    let federated = rows.iter().any(|row| row.provenance.is_some());
    let mut columns = vec!["score"];
    if federated {
        columns.push("province");
    }
    columns.extend_from_slice(header);
    table(&columns)
}

fn leading_cells<R>(row: &Row<'_, R>) -> Vec<String> {
    let mut cells = vec![score(row.rank)];
    if let Some(provenance) = row.provenance {
        let nodes: Vec<&str> = provenance.iter().map(|p| p.node_id.as_str()).collect();
        cells.push(nodes.join(" + "));
    }
    cells
}

pub fn experts_table(rows: &[Row<'_, pb::Expert>], next_page_token: &str) -> (Table, String) {
    let mut t = hit_table(
        rows,
        &[
            "name",
            "title",
            "organization",
            "fields",
            "specialization",
            "id",
        ],
    );
    for row in rows {
        let e = row.record;
        let mut cells = leading_cells(row);
        cells.extend([
            e.full_name.clone(),
            labels::title_and_degree(e.academic_title, e.degree),
            e.organization_name.clone(),
            e.field_codes.join(" "),
            e.specialization.clone(),
            meta_id(e.meta.as_ref()),
        ]);
        t.add_row(cells);
    }
    (t, footer(rows.len(), next_page_token))
}

pub fn projects_table(rows: &[Row<'_, pb::Project>], next_page_token: &str) -> (Table, String) {
    let mut t = hit_table(
        rows,
        &["code", "title", "status", "level", "start", "lead", "id"],
    );
    for row in rows {
        let p = row.record;
        let start = if p.actual_start.is_empty() {
            &p.planned_start
        } else {
            &p.actual_start
        };
        let mut cells = leading_cells(row);
        cells.extend([
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
        t.add_row(cells);
    }
    (t, footer(rows.len(), next_page_token))
}

pub fn publications_table(
    rows: &[Row<'_, pb::Publication>],
    next_page_token: &str,
) -> (Table, String) {
    let mut t = hit_table(rows, &["title", "authors", "venue", "year", "id"]);
    for row in rows {
        let p = row.record;
        let authors: Vec<&str> = p
            .authors
            .iter()
            .map(|author| author.name.as_str())
            .collect();
        let mut cells = leading_cells(row);
        cells.extend([
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
        t.add_row(cells);
    }
    (t, footer(rows.len(), next_page_token))
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

fn outcome_label(outcome: i32) -> &'static str {
    match pb::NodeOutcome::try_from(outcome) {
        Ok(pb::NodeOutcome::Ok) => "ok",
        Ok(pb::NodeOutcome::Timeout) => "TIMEOUT",
        Ok(pb::NodeOutcome::Unavailable) => "UNAVAILABLE",
        Ok(pb::NodeOutcome::Error) => "ERROR",
        _ => "?",
    }
}

/// One line per node: how it fared in a federated search.
pub fn node_status_lines(nodes: &[pb::NodeStatus]) -> String {
    status_lines(nodes, true)
}

/// One line per node; `with_hits` for searches, where hit counts mean something.
fn status_lines(nodes: &[pb::NodeStatus], with_hits: bool) -> String {
    nodes
        .iter()
        .map(|node| {
            let hits = if with_hits {
                format!("{:>4} hit(s)", node.hits)
            } else {
                String::new()
            };
            let mut line = format!(
                "  {:<12} {:<22} {:<11} {hits} {:>8.1} ms",
                node.node_id,
                node.display_name,
                outcome_label(node.outcome),
                node.latency_ms
            );
            if !node.message.is_empty() {
                line.push_str("  ");
                line.push_str(&node.message);
            }
            line
        })
        .collect::<Vec<_>>()
        .join("\n")
}

pub fn federation_status_table(status: &pb::FederationStatus) -> (Table, String) {
    let mut t = table(&[
        "node",
        "name",
        "endpoint",
        "health",
        "breaker",
        "experts",
        "projects",
        "publications",
        "version",
        "schema",
        "info ms",
        "last call ms",
    ]);
    for node in &status.nodes {
        let counts = node.counts.unwrap_or_default();
        let breaker = match pb::BreakerState::try_from(node.breaker) {
            Ok(pb::BreakerState::Open) => "OPEN",
            Ok(pb::BreakerState::HalfOpen) => "half-open",
            _ => "closed",
        };
        let mut health = outcome_label(node.outcome).to_owned();
        if !node.message.is_empty() {
            health = format!("{health}: {}", node.message);
        }
        t.add_row(vec![
            node.node_id.clone(),
            node.display_name.clone(),
            node.endpoint.clone(),
            health,
            breaker.to_owned(),
            counts.experts.to_string(),
            counts.projects.to_string(),
            counts.publications.to_string(),
            node.software_version.clone(),
            node.schema_version.to_string(),
            format!("{:.1}", node.latency_ms),
            format!("{:.1}", node.last_call_latency_ms),
        ]);
    }
    (
        t,
        format!(
            "{} of {} node(s) answering; gateway {}{}",
            status.nodes_ok,
            status.nodes.len(),
            status.software_version,
            mirror_lines(status)
        ),
    )
}

/// One line per mirror a node keeps of a peer: how far behind it is.
fn mirror_lines(status: &pb::FederationStatus) -> String {
    let mut lines = String::new();
    for node in &status.nodes {
        for mirror in &node.mirrors {
            lines.push_str(&format!(
                "\nsync {} <- {}: {} mirrored, {} change(s) behind, {:.0} s lag, caught up {}{}",
                node.node_id,
                mirror.peer,
                mirror.mirrored,
                mirror.backlog,
                mirror.lag_seconds,
                if mirror.caught_up_at.is_empty() {
                    "never"
                } else {
                    mirror.caught_up_at.as_str()
                },
                if mirror.failing {
                    "; the last sync call failed"
                } else {
                    ""
                }
            ));
        }
    }
    lines
}

pub fn statistics_table(statistics: &pb::FederatedStatistics) -> (Table, String) {
    let mut t = table(&[
        "province",
        "kind",
        "total",
        "by field",
        "by status",
        "by level",
    ]);
    let join = |counts: &[pb::CountByKey], label: &dyn Fn(&str) -> String| {
        counts
            .iter()
            .map(|count| format!("{} {}", label(&count.key), count.count))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let plain = |key: &str| key.to_owned();
    let status = |key: &str| {
        pb::ProjectStatus::from_str_name(key).map_or(key.to_owned(), |status| {
            labels::project_status(status as i32).to_owned()
        })
    };
    let level = |key: &str| {
        pb::ManagementLevel::from_str_name(key).map_or(key.to_owned(), |level| {
            labels::management_level(level as i32).to_owned()
        })
    };
    for province in statistics.provinces.iter().chain(statistics.total.as_ref()) {
        for kind in &province.kinds {
            t.add_row(vec![
                province.node_id.clone(),
                kind.kind.clone(),
                kind.total.to_string(),
                join(&kind.by_field, &plain),
                join(&kind.by_status, &status),
                join(&kind.by_management_level, &level),
            ]);
        }
    }
    (
        t,
        format!(
            "counts by year: add --json\n{}",
            status_lines(&statistics.nodes, false)
        ),
    )
}

/// Gateway tokens, without secrets.
pub fn tokens_table(tokens: &[lienthong_gateway::auth::TokenInfo]) -> (Table, String) {
    let mut t = table(&["id", "user", "role", "created", "expires", "state"]);
    for token in tokens {
        let state = if token.revoked_at.is_some() {
            "revoked"
        } else {
            "active (unless expired)"
        };
        t.add_row(vec![
            token.id.clone(),
            token.user.clone(),
            token.role.to_string(),
            token.created_at.clone(),
            token.expires_at.clone().unwrap_or_else(|| "never".into()),
            state.to_owned(),
        ]);
    }
    (t, format!("{} token(s)", tokens.len()))
}

/// Web users.
pub fn users_table(users: &[lienthong_gateway::auth::UserInfo]) -> (Table, String) {
    let mut t = table(&["user", "role", "created", "state"]);
    let now = lienthong_audit::format_time(time::OffsetDateTime::now_utc());
    for user in users {
        let state = match (&user.disabled_at, &user.locked_until) {
            (Some(at), _) => format!("disabled since {at}"),
            (None, Some(until)) if until.as_str() > now.as_str() => format!("locked until {until}"),
            _ => "active".to_owned(),
        };
        t.add_row(vec![
            user.name.clone(),
            user.role.to_string(),
            user.created_at.clone(),
            state,
        ]);
    }
    (t, format!("{} user(s)", users.len()))
}

/// Certificates a PKI issued.
pub fn certificates_table(certificates: &[lienthong_pki::IssuedCertificate]) -> (Table, String) {
    let mut t = table(&["serial", "identity", "hosts", "valid until", "revoked"]);
    for certificate in certificates {
        t.add_row(vec![
            certificate.serial.clone(),
            certificate.identity.to_string(),
            certificate.hosts.join(", "),
            certificate.not_after.clone(),
            certificate.revoked_at.clone().unwrap_or_default(),
        ]);
    }
    (t, format!("{} certificate(s)", certificates.len()))
}

/// The result of `audit verify`.
pub fn verification_table(report: &lienthong_audit::Verification) -> (Table, String) {
    let mut t = table(&[
        "entries checked",
        "pruned before checkpoint",
        "head",
        "chain",
    ]);
    let head = report.head.as_ref().map_or_else(
        || "(empty)".to_owned(),
        |head| format!("entry {} {}", head.seq, head.hash),
    );
    let chain = match &report.problem {
        None => "intact".to_owned(),
        Some(problem) => format!("BROKEN: {problem}"),
    };
    t.add_row(vec![
        report.entries.to_string(),
        report.pruned.to_string(),
        head,
        chain,
    ]);
    (t, String::new())
}
