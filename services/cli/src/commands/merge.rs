//! `lienthong merge --keep ID --drop ID`: two records of this node found to
//! be one, joined after review; the dropped one left as a tombstone that
//! names the kept one.

use anyhow::Context;
use lienthong_import::record_merge::fill_from;
use lienthong_node::NodeConfig;
use lienthong_store::MergePlan;

use super::sample::open_store;
use crate::cli::MergeArgs;
use crate::output;

pub async fn run(args: MergeArgs) -> anyhow::Result<()> {
    let config = NodeConfig::load(&args.config)?;
    let store = open_store(&config).await?;
    let outcome = merge(&store, &args).await;
    store.close().await;
    outcome
}

async fn merge(store: &lienthong_store::Store, args: &MergeArgs) -> anyhow::Result<()> {
    let held = |id: &str, flag: &str| {
        let id = id.to_owned();
        let flag = flag.to_owned();
        async move {
            store.get(&id).await?.map(|stored| stored.record).with_context(|| {
                format!(
                    "{flag} {id}: no live record with this id on this node (see `lienthong records dump`)"
                )
            })
        }
    };
    let kept = held(&args.keep, "--keep").await?;
    let dropped = held(&args.drop, "--drop").await?;
    let (merged, taken) = fill_from(&kept, &dropped)?;
    let version = |record: &lienthong_records::AnyRecord| record.meta().map_or(0, |m| m.version);
    let plan = MergePlan {
        kept: merged,
        kept_version: version(&kept),
        dropped_id: args.drop.clone(),
        dropped_version: version(&dropped),
    };
    let written = if args.dry_run {
        None
    } else {
        Some(
            store
                .merge(plan)
                .await
                .with_context(|| format!("cannot merge {} into {}", args.drop, args.keep))?,
        )
    };
    let footer = match written {
        None => format!(
            "dry run: nothing was written; {} would take {} field(s) and {} would become a tombstone pointing to it",
            args.keep,
            taken.len(),
            args.drop
        ),
        Some(written) => format!(
            "{} is at version {} with {} field(s) taken; {} is a tombstone (version {}) pointing to it",
            args.keep,
            written.kept_version,
            taken.len(),
            args.drop,
            written.dropped_version
        ),
    };
    output::print(
        &serde_json::json!({
            "kept": args.keep,
            "dropped": args.drop,
            "dry_run": args.dry_run,
            "fields_taken": taken,
            "kept_version": written.map(|w| w.kept_version),
            "dropped_version": written.map(|w| w.dropped_version),
        }),
        args.json,
        || output::merge_table(&taken, footer),
    )
}
