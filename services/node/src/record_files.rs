//! Records in and out as JSON lines, in the contract's canonical JSON form
//! (the protobuf JSON mapping of `lienthong.v1.Record`), one record per line.

use std::io::{BufRead, Write};

use lienthong_proto::v1::Record;
use lienthong_records::{AnyRecord, RecordKind};
use lienthong_store::{Store, StoreError, WriteReport};

/// Records per write transaction when loading.
pub const LOAD_BATCH: usize = 1_000;

/// A line that was not loaded, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineRejection {
    /// 1-based line number in the input.
    pub line: usize,
    pub reason: String,
}

/// What a load did.
#[derive(Debug, Default, Clone)]
pub struct LoadReport {
    pub inserted: u64,
    pub updated: u64,
    pub unchanged: u64,
    pub rejected: Vec<LineRejection>,
}

impl LoadReport {
    fn absorb(&mut self, report: WriteReport, line_numbers: &[usize]) {
        self.inserted += report.inserted;
        self.updated += report.updated;
        self.unchanged += report.unchanged;
        for rejection in report.rejected {
            let line = line_numbers.get(rejection.index).copied().unwrap_or(0);
            self.rejected.push(LineRejection {
                line,
                reason: rejection.error.to_string(),
            });
        }
    }
}

/// Parses one JSON line into a record.
pub fn parse_line(line: &str) -> Result<AnyRecord, String> {
    let record: Record = serde_json::from_str(line)
        .map_err(|error| format!("not a lienthong.v1.Record in JSON: {error}"))?;
    AnyRecord::try_from(record).map_err(|error| error.to_string())
}

/// Upserts every record of `input` in batches of [`LOAD_BATCH`], one
/// transaction each. Blank lines are skipped; bad lines are reported and
/// skipped. `progress` is called with the bytes read so far after each batch.
pub async fn load_jsonl(
    store: &Store,
    input: impl BufRead,
    mut progress: impl FnMut(u64),
) -> Result<LoadReport, StoreError> {
    let mut report = LoadReport::default();
    let mut batch = Vec::with_capacity(LOAD_BATCH);
    let mut batch_lines = Vec::with_capacity(LOAD_BATCH);
    let mut bytes = 0u64;
    for (index, line) in input.lines().enumerate() {
        let number = index + 1;
        let line = match line {
            Ok(line) => line,
            Err(error) => {
                report.rejected.push(LineRejection {
                    line: number,
                    reason: format!("cannot read the line: {error}"),
                });
                continue;
            }
        };
        bytes += line.len() as u64 + 1;
        if line.trim().is_empty() {
            continue;
        }
        match parse_line(&line) {
            Ok(record) => {
                batch.push(record);
                batch_lines.push(number);
            }
            Err(reason) => report.rejected.push(LineRejection {
                line: number,
                reason,
            }),
        }
        if batch.len() == LOAD_BATCH {
            let written = store.upsert(std::mem::take(&mut batch)).await?;
            report.absorb(written, &batch_lines);
            batch_lines.clear();
            progress(bytes);
        }
    }
    if !batch.is_empty() {
        let written = store.upsert(batch).await?;
        report.absorb(written, &batch_lines);
    }
    progress(bytes);
    report.rejected.sort_by_key(|rejection| rejection.line);
    Ok(report)
}

/// Writes every live record as JSON lines: organizations, experts, projects,
/// then publications, each in storage order. Returns how many were written.
pub async fn dump_jsonl(
    store: &Store,
    kinds: &[RecordKind],
    output: &mut impl Write,
) -> Result<u64, DumpError> {
    let mut written = 0;
    for kind in kinds {
        let mut after = 0;
        loop {
            let (records, last) = store.scan(*kind, after, 1_000).await?;
            if last == after {
                break;
            }
            after = last;
            for record in records {
                let line = serde_json::to_string(&Record::from(record))
                    .map_err(|error| DumpError::Io(error.into()))?;
                writeln!(output, "{line}")?;
                written += 1;
            }
        }
    }
    output.flush()?;
    Ok(written)
}

/// Why a dump stopped.
#[derive(Debug, thiserror::Error)]
pub enum DumpError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("cannot write the dump: {0}")]
    Io(#[from] std::io::Error),
}
