//! `lienthong sync status|run|reset`: the node's subscriptions to its peers'
//! change feeds, for operators.

use anyhow::{Context, bail};
use comfy_table::Table;
use comfy_table::presets::UTF8_FULL_CONDENSED;
use indicatif::{ProgressBar, ProgressStyle};
use lienthong_node::NodeConfig;
use lienthong_node::subscriber::Subscriber;
use lienthong_runtime::tls::{Mode, Transport};
use lienthong_store::{PeerSync, Store};

use crate::cli::{SyncArgs, SyncCommand};

pub async fn run(args: SyncArgs) -> anyhow::Result<()> {
    match args.command {
        SyncCommand::Status { config, json } => status(&NodeConfig::load(&config)?, json).await,
        SyncCommand::Run {
            config,
            peer,
            insecure_plaintext,
            json,
        } => {
            let mode = if insecure_plaintext {
                Mode::InsecurePlaintext
            } else {
                Mode::MutualTls
            };
            sync_once(&NodeConfig::load(&config)?, peer.as_deref(), mode, json).await
        }
        SyncCommand::Reset { peer, config } => reset(&NodeConfig::load(&config)?, &peer).await,
    }
}

/// Opens the node's store; with `exclusive`, refuses while the node runs
/// (it holds the search index, and follows its peers itself).
async fn open(config: &NodeConfig, exclusive: bool) -> anyhow::Result<Store> {
    let store = Store::open(&config.store_options()).await?;
    let runs_elsewhere =
        config.search_index_dir().is_some() && store.indexed_change_seq().await.is_none();
    if exclusive && runs_elsewhere {
        store.close().await;
        bail!(
            "node {} is running (it holds its search index) and follows its peers itself; \
             stop it first, or see `lienthong sync status`",
            config.node.id
        );
    }
    Ok(store)
}

async fn status(config: &NodeConfig, json: bool) -> anyhow::Result<()> {
    let store = open(config, false).await?;
    let mut syncs = store.peer_syncs().await?;
    store.close().await;
    // Followed peers never synced yet show too.
    for follow in &config.follow {
        if !syncs.iter().any(|sync| sync.peer == follow.peer) {
            syncs.push(PeerSync {
                peer: follow.peer.clone(),
                ..Default::default()
            });
        }
    }
    if json {
        println!("{}", serde_json::to_string_pretty(&syncs)?);
        return Ok(());
    }
    let mut table = Table::new();
    table.load_preset(UTF8_FULL_CONDENSED).set_header([
        "peer",
        "mirrored",
        "applied",
        "rejected",
        "lag (changes)",
        "lag (s)",
        "caught up at",
        "last error",
    ]);
    for sync in &syncs {
        table.add_row([
            sync.peer.clone(),
            sync.mirrored.to_string(),
            sync.applied.to_string(),
            sync.rejected.to_string(),
            sync.backlog.to_string(),
            format!("{:.0}", sync.lag_seconds()),
            if sync.caught_up_at.is_empty() {
                "never".to_owned()
            } else {
                sync.caught_up_at.clone()
            },
            sync.last_error.clone(),
        ]);
    }
    println!("{table}");
    if syncs.is_empty() {
        println!("no peers followed; add [[follow]] entries to the node's config");
    }
    Ok(())
}

async fn sync_once(
    config: &NodeConfig,
    peer: Option<&str>,
    mode: Mode,
    json: bool,
) -> anyhow::Result<()> {
    if config.follow.is_empty() {
        bail!(
            "node {} follows no peers; add [[follow]] entries to its config",
            config.node.id
        );
    }
    if let Some(peer) = peer
        && !config.follow.iter().any(|follow| follow.peer == peer)
    {
        let followed: Vec<&str> = config.follow.iter().map(|f| f.peer.as_str()).collect();
        bail!(
            "--peer {peer}: not followed; the config follows {}",
            followed.join(", ")
        );
    }
    let transport = Transport::from_settings(config.tls.as_ref(), mode, None)?;
    let store = open(config, true).await?;
    let (audit, audit_task) = lienthong_audit::start(store.pool(), &config.audit).await?;
    let subscriber = Subscriber::new(config, store.clone(), &transport, audit)
        .map_err(anyhow::Error::msg)?
        .context("no peers followed")?;
    let bar = ProgressBar::new(0).with_style(
        ProgressStyle::with_template(
            "{prefix}: [{bar:40}] {human_pos}/{human_len} changes ({per_sec}, {eta})",
        )?
        .progress_chars("=> "),
    );
    let peers: Vec<String> = match peer {
        Some(peer) => vec![peer.to_owned()],
        None => subscriber.peers(),
    };
    let mut outcomes = Vec::new();
    for peer in peers {
        bar.set_prefix(peer.clone());
        bar.set_position(0);
        let started = std::time::Instant::now();
        let outcome = subscriber
            .sync_peer(&peer, &mut |progress| {
                bar.set_length(progress.applied + progress.remaining);
                bar.set_position(progress.applied);
            })
            .await;
        // Caught up: compare with the peer's catalog and repair what differs.
        let synced_in = started.elapsed().as_secs_f64();
        let outcome = match outcome {
            Ok(synced) => match subscriber.verify_peer(&peer).await {
                Ok(verify) => Ok((synced, verify)),
                Err(error) => Err(error),
            },
            Err(error) => Err(error),
        };
        let seconds = (synced_in, started.elapsed().as_secs_f64() - synced_in);
        outcomes.push((peer, outcome, seconds));
    }
    bar.finish_and_clear();
    // The last writer handle goes with the subscriber: the audit writer
    // commits what it holds and ends.
    drop(subscriber);
    if tokio::time::timeout(std::time::Duration::from_secs(10), audit_task)
        .await
        .is_err()
    {
        tracing::warn!("the audit log was still writing at exit");
    }
    store.close().await;
    let failed = outcomes
        .iter()
        .filter(|(_, outcome, _)| outcome.is_err())
        .count();
    if json {
        let report: Vec<serde_json::Value> = outcomes
            .iter()
            .map(
                |(peer, outcome, (sync_seconds, verify_seconds))| match outcome {
                    Ok((synced, verify)) => serde_json::json!({
                        "peer": peer,
                        "sync": synced,
                        "verify": verify,
                        "sync_seconds": sync_seconds,
                        "verify_seconds": verify_seconds,
                    }),
                    Err(error) => serde_json::json!({"peer": peer, "error": error}),
                },
            )
            .collect();
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        for (peer, outcome, _) in &outcomes {
            match outcome {
                Ok((outcome, verify)) => println!(
                    "{peer}: caught up; {} change(s) applied, {} rejected, {} removed{}; \
                     catalog compared in {} range(s): {}",
                    outcome.applied,
                    outcome.rejected,
                    outcome.swept,
                    if outcome.restarted {
                        " (the peer's feed restarted)"
                    } else {
                        ""
                    },
                    verify.ranges_compared,
                    if verify.ranges_differing == 0 {
                        "the mirror matches".to_owned()
                    } else {
                        format!(
                            "{} differed; {} record(s) fetched again, {} removed{}",
                            verify.ranges_differing,
                            verify.repaired,
                            verify.removed,
                            if verify.restarted {
                                ", feed restarted"
                            } else {
                                ""
                            }
                        )
                    }
                ),
                Err(error) => println!("{peer}: FAILED: {error}"),
            }
        }
    }
    if failed > 0 {
        bail!("{failed} peer(s) could not be synced");
    }
    Ok(())
}

async fn reset(config: &NodeConfig, peer: &str) -> anyhow::Result<()> {
    let store = open(config, true).await?;
    let removed = store.reset_peer(peer).await;
    store.close().await;
    println!(
        "{peer}: {} mirrored record(s) removed; the next sync starts from the beginning",
        removed?
    );
    Ok(())
}
