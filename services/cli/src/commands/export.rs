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
    // Written beside the target and renamed over it at the end: a failed
    // export never leaves half a file under the name asked for.
    let partial = args.output.with_extension("partial");
    let file = std::fs::File::create(&partial)
        .with_context(|| format!("cannot create {}", partial.display()))?;
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
    let exported = match exported {
        Ok(exported) => exported,
        Err(error) => {
            let _ = std::fs::remove_file(&partial);
            return Err(error)
                .with_context(|| format!("cannot export to {}", args.output.display()));
        }
    };
    std::fs::rename(&partial, &args.output)
        .with_context(|| format!("cannot write {}", args.output.display()))?;
    let file = args.output.display().to_string();
    output::print(
        &serde_json::json!({ "file": file, "kind": kind.as_str(), "exported": exported }),
        args.json,
        || output::export_table(&file, &exported),
    )
}
