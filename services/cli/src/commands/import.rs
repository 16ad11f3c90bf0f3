//! `lienthong import experts|projects|publications|organizations FILE`: a
//! department's spreadsheet into the
//! node's database, with a progress bar, a report of every row, and a
//! summary.

use std::fs::File;
use std::io::{BufWriter, Read};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use anyhow::Context;
use indicatif::{ProgressBar, ProgressStyle};
use lienthong_import::ImportError;
use lienthong_import::csv_source::CsvRows;
use lienthong_import::headers::{ExpertColumn, SheetColumn};
use lienthong_import::organization_rows::OrganizationColumn;
use lienthong_import::project_rows::ProjectColumn;
use lienthong_import::publication_rows::PublicationColumn;
use lienthong_import::report::{ReportFormat, ReportWriter, Summary};
use lienthong_import::sheet_import::{
    ImportOptions, import_experts, import_organizations, import_projects, import_publications,
};
use lienthong_import::workbook::{Workbook, is_workbook};
use lienthong_node::NodeConfig;
use lienthong_proto::v1 as pb;

use super::sample::open_store;
use crate::cli::{ImportArgs, ImportKind, ReportFormatArg, VisibilityArg};
use crate::output;

pub async fn run(args: ImportArgs) -> anyhow::Result<()> {
    let config = NodeConfig::load(&args.config)?;
    let mapping = match &args.mapping {
        Some(path) => read_mapping(path, args.kind)?,
        None => Default::default(),
    };
    let cannot = || format!("cannot import {}", args.file.display());
    let input = Input::open(&args).with_context(cannot)?;
    let store = if args.dry_run {
        open_for_dry_run(&config).await?
    } else {
        open_store(&config).await?
    };
    let report_out: Box<dyn std::io::Write> = match &args.report {
        Some(path) => {
            let same = std::fs::canonicalize(path)
                .ok()
                .zip(std::fs::canonicalize(&args.file).ok())
                .is_some_and(|(report, input)| report == input);
            anyhow::ensure!(
                !same,
                "--report {} is the file being imported; name another file for the report",
                path.display()
            );
            // The report repeats names and contact details: owner only.
            Box::new(BufWriter::new(super::records::create_private(path)?))
        }
        None => Box::new(std::io::sink()),
    };
    let format = match args.report_format {
        ReportFormatArg::Csv => ReportFormat::Csv,
        ReportFormatArg::Json => ReportFormat::JsonLines,
    };
    let mut report =
        ReportWriter::new(report_out, format, args.dry_run).context("cannot write the report")?;
    let options = ImportOptions {
        node_id: config.node.id.clone(),
        visibility: match args.visibility {
            VisibilityArg::Internal => pb::Visibility::Internal,
            VisibilityArg::Federation => pb::Visibility::Federation,
            VisibilityArg::Public => pb::Visibility::Public,
        },
        mapping,
        dry_run: args.dry_run,
        earlier_sheets: Default::default(),
    };
    let source = input.label();
    let imported = input.import(args.kind, &store, &options, &mut report).await;
    store.close().await;
    let imported = imported.with_context(cannot)?;
    let summary = imported.summary;
    report.finish().context("cannot write the report")?;
    let file = args.file.display().to_string();
    output::print(
        &serde_json::json!({
            "file": file,
            "encoding": source,
            "sheets": imported.sheets,
            "sheets_skipped": imported.sheets_skipped,
            "dry_run": args.dry_run,
            "summary": summary,
            "columns_not_imported": imported.columns_not_imported,
        }),
        args.json,
        || output::import_summary_table(&file, &source, &summary, args.dry_run),
    )?;
    if !imported.sheets_skipped.is_empty() {
        eprintln!(
            "sheets not imported (hidden, or without a header this import knows): {}; name one with --sheet to import it or to see why",
            imported.sheets_skipped.join(", ")
        );
    }
    if !imported.columns_not_imported.is_empty() {
        eprintln!(
            "columns not imported (no known header, or a second column for the same field): {}; name them in a mapping file (--mapping) to import them",
            imported.columns_not_imported.join(", ")
        );
    }
    if summary.possible_duplicates > 0 {
        eprintln!(
            "{} row(s) may be a record already held under another key (note_possible_duplicate in the report, with a score and the `lienthong merge` that would join them); nothing was merged",
            summary.possible_duplicates
        );
    }
    if summary.rejected > 0 && args.report.is_none() {
        eprintln!(
            "{} row(s) rejected; run again with --report FILE to see which and why",
            summary.rejected
        );
    }
    Ok(())
}

/// What is imported: a CSV file, or sheets of a workbook.
enum Input {
    Csv {
        rows: CsvRows,
        size: u64,
        read: Arc<AtomicU64>,
    },
    Workbook {
        workbook: Workbook,
        /// The sheets to import, and whether the user named them (a named
        /// sheet must have a header; unnamed ones without are skipped).
        sheets: Vec<String>,
        named: bool,
        /// Hidden sheets, not imported unless named with --sheet.
        hidden: Vec<String>,
    },
}

/// What the import of every sheet came to.
struct ImportedInput {
    summary: Summary,
    columns_not_imported: Vec<String>,
    sheets: Vec<String>,
    sheets_skipped: Vec<String>,
}

impl Input {
    fn open(args: &ImportArgs) -> anyhow::Result<Input> {
        if is_workbook(&args.file) {
            let workbook = Workbook::open(&args.file)?;
            let (sheets, named, hidden) = match &args.sheet {
                Some(sheet) => (vec![sheet.clone()], true, Vec::new()),
                None => {
                    let (visible, hidden) = workbook.visible_and_hidden_sheets();
                    (visible, false, hidden)
                }
            };
            return Ok(Input::Workbook {
                workbook,
                sheets,
                named,
                hidden,
            });
        }
        anyhow::ensure!(
            args.sheet.is_none(),
            "--sheet names a sheet of a workbook (.xlsx, .xls, .ods); {} is read as CSV",
            args.file.display()
        );
        let input = File::open(&args.file)?;
        let size = input.metadata().map(|meta| meta.len()).unwrap_or(0);
        let read = Arc::new(AtomicU64::new(0));
        let rows = CsvRows::open(CountingReader {
            inner: input,
            read: read.clone(),
        })?;
        Ok(Input::Csv { rows, size, read })
    }

    /// The encoding of a CSV file, or "workbook".
    fn label(&self) -> String {
        match self {
            Input::Csv { rows, .. } => rows.encoding().label().to_owned(),
            Input::Workbook { .. } => "workbook".to_owned(),
        }
    }

    async fn import<W: std::io::Write>(
        self,
        kind: ImportKind,
        store: &lienthong_store::Store,
        options: &ImportOptions,
        report: &mut ReportWriter<W>,
    ) -> anyhow::Result<ImportedInput> {
        match self {
            Input::Csv { rows, size, read } => {
                let progress = ProgressBar::new(size).with_style(
                    ProgressStyle::with_template(
                        "importing [{bar:40}] {binary_bytes}/{binary_total_bytes} ({eta})",
                    )?
                    .progress_chars("=> "),
                );
                let ticker = {
                    let progress = progress.clone();
                    tokio::spawn(async move {
                        loop {
                            progress.set_position(read.load(Ordering::Relaxed));
                            tokio::time::sleep(std::time::Duration::from_millis(200)).await;
                        }
                    })
                };
                let imported = import_kind(kind, store, rows, options, report).await;
                ticker.abort();
                progress.finish_and_clear();
                let imported = imported?;
                Ok(ImportedInput {
                    summary: imported.summary,
                    columns_not_imported: imported.columns_not_imported,
                    sheets: Vec::new(),
                    sheets_skipped: Vec::new(),
                })
            }
            Input::Workbook {
                mut workbook,
                sheets,
                named,
                hidden,
            } => {
                let progress = ProgressBar::new(sheets.len() as u64).with_style(
                    ProgressStyle::with_template("importing sheet {pos}/{len} {msg}")?,
                );
                let mut all = ImportedInput {
                    summary: Summary::default(),
                    columns_not_imported: Vec::new(),
                    sheets: Vec::new(),
                    sheets_skipped: hidden
                        .into_iter()
                        .map(|sheet| format!("{sheet} (hidden)"))
                        .collect(),
                };
                for sheet in sheets {
                    progress.set_message(sheet.clone());
                    let rows = workbook.rows(&sheet)?;
                    report.set_sheet(Some(sheet.clone()));
                    match import_kind(kind, store, rows, options, report).await {
                        Ok(imported) => {
                            all.summary.add(&imported.summary);
                            all.columns_not_imported.extend(
                                imported
                                    .columns_not_imported
                                    .into_iter()
                                    .map(|column| format!("{sheet}!{column}")),
                            );
                            all.sheets.push(sheet);
                        }
                        Err(ImportError::NoHeader { .. }) if !named => {
                            all.sheets_skipped.push(sheet);
                        }
                        Err(error) => {
                            return Err(
                                anyhow::Error::new(error).context(format!("sheet {sheet:?}"))
                            );
                        }
                    }
                    progress.inc(1);
                }
                progress.finish_and_clear();
                anyhow::ensure!(
                    !all.sheets.is_empty(),
                    "no sheet has a header of {} this import knows (sheets: {}); the header must \
                     name {} and at least one other known column, or give a mapping file \
                     (--mapping)",
                    kind.plural(),
                    all.sheets_skipped.join(", "),
                    anchor_header(kind),
                );
                Ok(all)
            }
        }
    }
}

/// The node's database for a dry run: the database alone (the search index
/// is neither opened nor caught up), and only one that exists already, so a
/// mistyped path is not created.
async fn open_for_dry_run(config: &NodeConfig) -> anyhow::Result<lienthong_store::Store> {
    let options = config.store_options();
    if let Some(path) = options.url.strip_prefix("sqlite://") {
        let path = path.split('?').next().unwrap_or(path);
        anyhow::ensure!(
            std::path::Path::new(path).exists(),
            "[database] url names {path}, which does not exist; a dry run does not create a database"
        );
    }
    Ok(lienthong_store::Store::open_database(&options).await?)
}

/// Counts the bytes read, for the progress bar.
struct CountingReader<R> {
    inner: R,
    read: Arc<AtomicU64>,
}

impl<R: Read> Read for CountingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.read.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

async fn import_kind<W: std::io::Write>(
    kind: ImportKind,
    store: &lienthong_store::Store,
    rows: impl lienthong_import::rows::RowSource,
    options: &ImportOptions,
    report: &mut ReportWriter<W>,
) -> Result<lienthong_import::sheet_import::Imported, ImportError> {
    match kind {
        ImportKind::Experts => import_experts(store, rows, options, report).await,
        ImportKind::Projects => import_projects(store, rows, options, report).await,
        ImportKind::Publications => import_publications(store, rows, options, report).await,
        ImportKind::Organizations => import_organizations(store, rows, options, report).await,
    }
}

/// The names a mapping file may give `kind`'s columns.
fn column_keys(kind: ImportKind) -> Vec<&'static str> {
    fn keys<C: SheetColumn>() -> Vec<&'static str> {
        C::ALL.iter().map(|column| column.key()).collect()
    }
    match kind {
        ImportKind::Experts => keys::<ExpertColumn>(),
        ImportKind::Projects => keys::<ProjectColumn>(),
        ImportKind::Publications => keys::<PublicationColumn>(),
        ImportKind::Organizations => keys::<OrganizationColumn>(),
    }
}

/// The column every sheet of `kind` must name, as headers write it.
fn anchor_header(kind: ImportKind) -> &'static str {
    match kind {
        ImportKind::Experts => ExpertColumn::ANCHOR_HEADER,
        ImportKind::Projects => ProjectColumn::ANCHOR_HEADER,
        ImportKind::Publications => PublicationColumn::ANCHOR_HEADER,
        ImportKind::Organizations => OrganizationColumn::ANCHOR_HEADER,
    }
}

/// A mapping file: `[columns]` header text = column name.
fn read_mapping(
    path: &std::path::Path,
    kind: ImportKind,
) -> anyhow::Result<std::collections::BTreeMap<String, String>> {
    #[derive(serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Mapping {
        columns: std::collections::BTreeMap<String, String>,
    }
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read the mapping file {}", path.display()))?;
    let mapping: Mapping = toml::from_str(&text).with_context(|| {
        format!(
            "{}: not a mapping file ([columns] \"Header\" = \"column\")",
            path.display()
        )
    })?;
    mapping
        .columns
        .into_iter()
        .map(|(header, column)| {
            let keys = column_keys(kind);
            anyhow::ensure!(
                keys.contains(&column.as_str()),
                "{}: columns.{header:?} = {column:?} names no column; use one of: {}",
                path.display(),
                keys.join(", ")
            );
            Ok((header, column))
        })
        .collect()
}
