//! `lienthong export KIND --output FILE`: a node's records as the sheet
//! `lienthong import` reads, with a progress bar.

use anyhow::Context;
use indicatif::{ProgressBar, ProgressStyle};
use lienthong_import::export::{ExportFormat, ExportOptions, export_records};
use lienthong_node::NodeConfig;
use lienthong_records::RecordKind;

use super::sample::open_store;
use crate::cli::{ExportArgs, ExportFormatArg, ImportKind};
use crate::output;

pub async fn run(args: ExportArgs) -> anyhow::Result<()> {
    let format = match args.format {
        Some(ExportFormatArg::Csv) => ExportFormat::Csv,
        Some(ExportFormatArg::Xlsx) => ExportFormat::Xlsx,
        None => match args
            .output
            .extension()
            .and_then(|extension| extension.to_str())
            .map(str::to_ascii_lowercase)
            .as_deref()
        {
            Some("csv") => ExportFormat::Csv,
            Some("xlsx") => ExportFormat::Xlsx,
            _ => anyhow::bail!(
                "--output {}: name a .csv or .xlsx file, or say which with --format csv|xlsx",
                args.output.display()
            ),
        },
    };
    let kind = match args.kind {
        ImportKind::Experts => RecordKind::Expert,
        ImportKind::Projects => RecordKind::Project,
        ImportKind::Publications => RecordKind::Publication,
        ImportKind::Organizations => RecordKind::Organization,
    };
    let config = NodeConfig::load(&args.config)?;
    let store = open_store(&config).await?;
    let total = store.counts(false).await?.of(kind);
    // Written to a new file of its own beside the target (readable by its
    // owner only: it may hold personal data) and renamed over the target
    // at the end, so a failed export leaves nothing under the name asked
    // for, and nothing behind.
    let directory = match args.output.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
        _ => std::path::PathBuf::from("."),
    };
    anyhow::ensure!(
        !args.output.is_dir(),
        "--output {} is a directory; name the file to write in it",
        args.output.display()
    );
    let partial = tempfile::Builder::new()
        .prefix(".lienthong-export-")
        .tempfile_in(&directory)
        .with_context(|| format!("cannot write in {}", directory.display()))?;
    let file = partial
        .reopen()
        .with_context(|| format!("cannot write in {}", directory.display()))?;
    let progress = ProgressBar::new(total).with_style(
        ProgressStyle::with_template("exporting [{bar:40}] {pos}/{len} {msg} ({eta})")?
            .progress_chars("=> "),
    );
    let options = ExportOptions {
        kind,
        format,
        include_contact: args.include_contact,
        include_classified: args.include_classified,
    };
    let exported = export_records(&store, &options, std::io::BufWriter::new(file), |done| {
        progress.set_position(done)
    })
    .await;
    progress.finish_and_clear();
    store.close().await;
    // On an error the temporary file is removed as `partial` is dropped.
    let exported =
        exported.with_context(|| format!("cannot export to {}", args.output.display()))?;
    partial
        .persist(&args.output)
        .with_context(|| format!("cannot write {}", args.output.display()))?;
    let file = args.output.display().to_string();
    output::print(
        &serde_json::json!({ "file": file, "kind": kind.as_str(), "exported": exported }),
        args.json,
        || output::export_table(&file, &exported),
    )
}
