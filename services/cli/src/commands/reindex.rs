//! `lienthong reindex`: rebuild a node's search index from its database.

use std::time::Instant;

use anyhow::Context;
use indicatif::{ProgressBar, ProgressStyle};
use lienthong_node::NodeConfig;
use lienthong_store::Store;

use crate::cli::ReindexArgs;

pub async fn run(args: ReindexArgs) -> anyhow::Result<()> {
    let config = NodeConfig::load(&args.config)?;
    let directory = config.search_index_dir().context(
        "this node keeps its search index in memory (an in-memory database); there is nothing to rebuild",
    )?;
    let store = Store::open_database(&config.store_options()).await?;
    let progress = ProgressBar::new(0).with_style(
        ProgressStyle::with_template(
            "indexing [{bar:40}] {human_pos}/{human_len} records ({per_sec}, {eta})",
        )?
        .progress_chars("=> "),
    );
    let started = Instant::now();
    let indexed = store
        .rebuild_search_index(&directory, &mut |done, to_do| {
            progress.set_length(to_do);
            progress.set_position(done);
        })
        .await;
    progress.finish_and_clear();
    store.close().await;
    let indexed = indexed?;
    let seconds = started.elapsed().as_secs_f64();
    if args.json {
        println!(
            "{}",
            serde_json::json!({
                "node": config.node.id,
                "index": directory.display().to_string(),
                "indexed": indexed,
                "seconds": seconds,
            })
        );
    } else {
        println!(
            "rebuilt the search index of node {} in {}: {indexed} shareable records in {seconds:.1} s",
            config.node.id,
            directory.display()
        );
    }
    Ok(())
}
