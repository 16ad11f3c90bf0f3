//! `lienthong records load|dump`.

use std::fs::File;
use std::io::{BufReader, BufWriter};

use anyhow::Context;
use indicatif::{ProgressBar, ProgressStyle};
use lienthong_node::NodeConfig;
use lienthong_node::record_files::{dump_jsonl, load_jsonl};
use lienthong_records::RecordKind;

use super::sample::open_store;
use crate::cli::{RecordsArgs, RecordsCommand};

pub async fn run(args: RecordsArgs) -> anyhow::Result<()> {
    match args.command {
        RecordsCommand::Load { file, config } => {
            let config = NodeConfig::load(&config)?;
            let input =
                File::open(&file).with_context(|| format!("cannot open {}", file.display()))?;
            let size = input.metadata().map(|m| m.len()).unwrap_or(0);
            let store = open_store(&config).await?;
            let progress = ProgressBar::new(size).with_style(
                ProgressStyle::with_template(
                    "loading [{bar:40}] {binary_bytes}/{binary_total_bytes} ({eta})",
                )?
                .progress_chars("=> "),
            );
            let report = load_jsonl(&store, BufReader::new(input), |bytes| {
                progress.set_position(bytes)
            })
            .await?;
            progress.finish_and_clear();
            for rejection in &report.rejected {
                eprintln!(
                    "{}:{}: rejected: {}",
                    file.display(),
                    rejection.line,
                    rejection.reason
                );
            }
            println!(
                "{} inserted, {} updated, {} unchanged, {} rejected",
                report.inserted,
                report.updated,
                report.unchanged,
                report.rejected.len()
            );
            store.close().await;
            if !report.rejected.is_empty() {
                anyhow::bail!(
                    "{} line(s) were rejected; fix them and load the file again (loading is idempotent)",
                    report.rejected.len()
                );
            }
            Ok(())
        }
        RecordsCommand::Dump { config, output } => {
            let config = NodeConfig::load(&config)?;
            // A dump reads the database alone; the search index is not needed.
            let store = lienthong_store::Store::open_database(&config.store_options()).await?;
            let written = match output {
                Some(path) => {
                    let file = create_private(&path)?;
                    let written =
                        dump_jsonl(&store, &RecordKind::ALL, &mut BufWriter::new(file)).await?;
                    eprintln!("wrote {written} records to {}", path.display());
                    written
                }
                None => dump_jsonl(&store, &RecordKind::ALL, &mut std::io::stdout().lock()).await?,
            };
            store.close().await;
            let _ = written;
            Ok(())
        }
    }
}

/// Creates (or truncates) a file readable by its owner only: a dump holds
/// every record, internal and classified ones and personal data included;
/// an import report repeats names and contact details.
pub(crate) fn create_private(path: &std::path::Path) -> anyhow::Result<File> {
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    let file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("cannot create {}", path.display()))?;
    // An existing file keeps its mode through open(); narrow it too.
    file.set_permissions(std::fs::Permissions::from_mode(0o600))
        .with_context(|| format!("cannot make {} private (mode 0600)", path.display()))?;
    Ok(file)
}
