//! `lienthong audit`: verify, export and prune the audit log of a node or
//! the gateway, in the database its configuration names.

use std::io::Write;
use std::path::Path;

use anyhow::{Context, bail};
use serde::Deserialize;

use crate::cli::{AuditArgs, AuditCommand};
use crate::output;

/// Only the `[database]` of a node or gateway configuration.
#[derive(Deserialize)]
struct DatabaseOnly {
    #[serde(default)]
    database: Option<DatabaseUrl>,
}

#[derive(Deserialize)]
struct DatabaseUrl {
    url: Option<lienthong_runtime::config_source::Secret>,
}

async fn open(config: &Path) -> anyhow::Result<sqlx::AnyPool> {
    let parsed: DatabaseOnly = lienthong_runtime::config_source::load(config)?;
    let url = parsed
        .database
        .and_then(|database| database.url)
        .map_or_else(
            || lienthong_gateway::config::DEFAULT_DATABASE_URL.to_owned(),
            |url| url.expose().to_owned(),
        );
    let (pool, _) = lienthong_store::connect(&url, 2)
        .await
        .with_context(|| format!("the database of {}", config.display()))?;
    Ok(pool)
}

pub async fn run(args: AuditArgs) -> anyhow::Result<()> {
    match args.command {
        AuditCommand::Verify { config, json } => {
            let pool = open(&config).await?;
            let report = lienthong_audit::verify(&pool).await?;
            output::print(&report, json, || output::verification_table(&report))?;
            if let Some(problem) = &report.problem {
                bail!("the audit log of {} is broken: {problem}", config.display());
            }
        }
        AuditCommand::Export {
            config,
            since,
            output,
        } => {
            let pool = open(&config).await?;
            let written = match output {
                Some(path) => {
                    let file = std::fs::File::create(&path)
                        .with_context(|| format!("cannot create {}", path.display()))?;
                    let mut out = std::io::BufWriter::new(file);
                    let written =
                        lienthong_audit::export(&pool, since.as_deref(), &mut out).await?;
                    out.flush()?;
                    written
                }
                None => {
                    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
                    lienthong_audit::export(&pool, since.as_deref(), &mut out).await?
                }
            };
            eprintln!("exported {written} audit entries");
        }
        AuditCommand::Prune {
            config,
            older_than_days,
        } => {
            let pool = open(&config).await?;
            let cutoff =
                time::OffsetDateTime::now_utc() - time::Duration::days(i64::from(older_than_days));
            let pruned = lienthong_audit::prune(&pool, cutoff).await?;
            match &pruned.checkpoint {
                Some(checkpoint) => println!(
                    "pruned {} entries; checkpoint: entry {} {}",
                    pruned.deleted, checkpoint.seq, checkpoint.hash
                ),
                None => println!("nothing to prune"),
            }
        }
    }
    Ok(())
}
