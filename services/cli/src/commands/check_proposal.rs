//! `lienthong check-proposal`: a proposed task against the completed and
//! ongoing tasks a node holds and mirrors (kiểm tra trùng lặp).

use anyhow::Context;
use comfy_table::Table;
use comfy_table::presets::UTF8_FULL_CONDENSED;
use lienthong_node::NodeConfig;
use lienthong_proto::v1 as pb;
use lienthong_store::search::LIKELY_REPEAT;
use lienthong_store::{MirrorScope, ProposalCheck, Store};

use crate::cli::CheckProposalArgs;

pub async fn run(args: CheckProposalArgs) -> anyhow::Result<()> {
    let config = NodeConfig::load(&args.config)?;
    let summary = match &args.summary {
        Some(path) => std::fs::read_to_string(path).with_context(|| {
            format!(
                "cannot read --summary {} (a UTF-8 text file is expected)",
                path.display()
            )
        })?,
        None => String::new(),
    };
    let store = Store::open(&config.store_options()).await?;
    let result = store
        .check_proposal(&ProposalCheck {
            title: args.title.clone(),
            summary,
            field_code_prefix: args.field.clone().unwrap_or_default(),
            limit: args.limit,
            // The department's own staff: every mirror it holds.
            mirrors: MirrorScope::All,
        })
        .await;
    store.close().await;
    let tasks: Vec<pb::SimilarTask> = result?.into_iter().map(Into::into).collect();
    if args.json {
        println!("{}", serde_json::to_string_pretty(&tasks)?);
        return Ok(());
    }
    if tasks.is_empty() {
        println!(
            "no completed or ongoing task held at {} resembles this proposal",
            config.node.id
        );
        return Ok(());
    }
    let mut table = Table::new();
    table.load_preset(UTF8_FULL_CONDENSED).set_header([
        "score",
        "repeat?",
        "task",
        "from",
        "status",
        "shared phrases",
    ]);
    for task in &tasks {
        let project = task.project.clone().unwrap_or_default();
        let id = project
            .meta
            .as_ref()
            .map(|meta| meta.id.as_str())
            .unwrap_or_default();
        let from = match &task.mirror {
            Some(mirror) => format!(
                "{} (mirror, synced {})",
                mirror.origin_node_id,
                if mirror.synced_at.is_empty() {
                    "never"
                } else {
                    &mirror.synced_at
                }
            ),
            None => format!("{} (own)", config.node.id),
        };
        let status = pb::ProjectStatus::try_from(project.status)
            .map(|status| {
                status
                    .as_str_name()
                    .trim_start_matches("PROJECT_STATUS_")
                    .to_lowercase()
            })
            .unwrap_or_default();
        table.add_row([
            format!("{:.2}", task.score),
            if task.likely_repeat { "likely" } else { "" }.to_owned(),
            format!("{}\n{id}", project.title),
            from,
            status,
            task.shared_phrases.join("; "),
        ]);
    }
    println!("{table}");
    let likely = tasks.iter().filter(|task| task.likely_repeat).count();
    println!(
        "{} similar task(s); {likely} likely repeat(s) (score {LIKELY_REPEAT} or more)",
        tasks.len()
    );
    Ok(())
}
