//! `lienthong import` through the real binary: the summary as a table and as
//! JSON, a dry run that writes nothing, the report file, mapping files and
//! their errors, and an import killed with SIGKILL mid-write that a second
//! run finishes with the same report.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use lienthong_sample::{ProvinceProfile, SampleGenerator, SampleSpec};
use lienthong_store::{Store, StoreOptions};
use lienthong_tests::wait_for;

mod common;

use common::{assert_success, lienthong, run_within, text, write_config};

const NODE: &str = "hung-yen";

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/fixtures/import")
        .join(name)
}

async fn expert_count(database: &Path) -> u64 {
    let store = Store::open_database(&StoreOptions {
        url: format!("sqlite://{}", database.display()),
        node_id: NODE.into(),
        max_connections: 1,
        search_index: lienthong_store::IndexLocation::Memory,
    })
    .await
    .expect("open");
    let count = store.counts(false).await.expect("counts").experts;
    store.close().await;
    count
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn import_reports_every_row_and_a_dry_run_writes_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let database = dir.path().join("node.db");
    let config = write_config(dir.path(), "node.toml", NODE, &database);
    let report = dir.path().join("report.csv");
    // The node's database exists (a dry run does not create one).
    assert_eq!(expert_count(&database).await, 0);

    let mut dry = lienthong();
    dry.args(["import", "experts"])
        .arg(fixture("experts-utf8.csv"))
        .arg("--config")
        .arg(&config)
        .args(["--dry-run", "--json", "--report"])
        .arg(&report);
    let output = run_within(dry, Duration::from_secs(60));
    assert_success(&output, "dry run");
    let summary: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON");
    assert_eq!(summary["dry_run"], true);
    assert_eq!(summary["encoding"], "UTF-8");
    assert_eq!(summary["summary"]["rows"], 17);
    assert_eq!(summary["summary"]["rejected"], 11);
    assert_eq!(summary["summary"]["inserted"], 6);
    assert_eq!(expert_count(&database).await, 0, "a dry run writes nothing");
    let dry_report = std::fs::read_to_string(&report).expect("report");
    assert!(dry_report.contains(",would insert,"), "{dry_report}");

    let mut real = lienthong();
    real.args(["import", "experts"])
        .arg(fixture("experts-utf8.csv"))
        .arg("--config")
        .arg(&config)
        .arg("--report")
        .arg(&report);
    let output = run_within(real, Duration::from_secs(60));
    assert_success(&output, "import");
    let table = text(&output.stdout);
    assert!(
        table.contains("rejected") && table.contains("experts-utf8.csv (UTF-8); written"),
        "{table}"
    );
    assert_eq!(expert_count(&database).await, 6);
    let written = std::fs::read_to_string(&report).expect("report");
    assert!(
        written.contains(",fixed,") && written.contains(",inserted,"),
        "{written}"
    );
    assert!(
        written.contains("8,rejected,,,Họ và tên,,,,empty; every expert needs a name"),
        "{written}"
    );

    // The report repeats personal data: owner only.
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&report)
        .expect("report")
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600, "report mode {mode:o}");

    // A dry run against a database that does not exist refuses, creating nothing.
    let missing = dir.path().join("missing");
    std::fs::create_dir(&missing).expect("dir");
    let missing_database = missing.join("typo.db");
    let missing_config = write_config(&missing, "node.toml", NODE, &missing_database);
    let mut dry_missing = lienthong();
    dry_missing
        .args(["import", "experts"])
        .arg(fixture("experts-utf8.csv"))
        .arg("--config")
        .arg(&missing_config)
        .arg("--dry-run");
    let output = run_within(dry_missing, Duration::from_secs(60));
    assert!(!output.status.success());
    assert!(
        text(&output.stderr).contains("does not exist"),
        "{}",
        text(&output.stderr)
    );
    assert!(!missing_database.exists(), "a dry run created the database");

    // The report cannot overwrite the sheet being imported.
    let copy = dir.path().join("copy.csv");
    std::fs::copy(fixture("experts-utf8.csv"), &copy).expect("copy");
    let mut onto_itself = lienthong();
    onto_itself
        .args(["import", "experts"])
        .arg(&copy)
        .arg("--config")
        .arg(&config)
        .arg("--report")
        .arg(&copy);
    let output = run_within(onto_itself, Duration::from_secs(60));
    assert!(!output.status.success());
    assert_eq!(
        std::fs::read(&copy).expect("copy"),
        std::fs::read(fixture("experts-utf8.csv")).expect("fixture"),
        "the sheet was overwritten"
    );

    // A mapping that names no column is refused, naming the key.
    let mapping = dir.path().join("columns.toml");
    std::fs::write(&mapping, "[columns]\n\"Tên cán bộ\" = \"ten\"\n").expect("mapping");
    let mut bad = lienthong();
    bad.args(["import", "experts"])
        .arg(fixture("experts-utf8.csv"))
        .arg("--config")
        .arg(&config)
        .arg("--mapping")
        .arg(&mapping);
    let output = run_within(bad, Duration::from_secs(60));
    assert!(!output.status.success());
    let message = text(&output.stderr);
    assert!(
        message.contains("columns.\"Tên cán bộ\" = \"ten\" names no column")
            && message.contains("full_name"),
        "{message}"
    );

    // A file that is no Vietnamese text in any encoding is refused, saying how to fix it.
    let noise = dir.path().join("noise.csv");
    std::fs::write(
        &noise,
        (0..4000u32)
            .map(|i| (i * 7919 % 251) as u8 | 0x80)
            .collect::<Vec<u8>>(),
    )
    .expect("noise");
    let mut refused = lienthong();
    refused
        .args(["import", "experts"])
        .arg(&noise)
        .arg("--config")
        .arg(&config);
    let output = run_within(refused, Duration::from_secs(60));
    assert!(!output.status.success());
    assert!(
        text(&output.stderr).contains("save it as UTF-8"),
        "{}",
        text(&output.stderr)
    );
}

/// (line, status, record id, fixes and rejection) of each report line: the
/// report without what the store did.
/// Each row's line, status, record and fixes. Which rows may be a record
/// already held depends on what the store held when each row was first
/// written, so those notes are left out.
fn decisions(report: &str) -> Vec<String> {
    let mut rows: Vec<(String, Vec<String>)> = Vec::new();
    for line in report.lines() {
        let cells: Vec<&str> = line.splitn(5, ',').collect();
        let row = format!("{},{},{}", cells[0], cells[1], cells[2]);
        // A row without fixes has its cells empty ("…,,,,").
        let rest = cells.get(4).unwrap_or(&"");
        let fix = (!line.contains(",note_possible_duplicate,") && !rest.chars().all(|c| c == ','))
            .then(|| rest.to_string());
        match rows.last_mut() {
            Some((last, fixes)) if *last == row => fixes.extend(fix),
            _ => rows.push((row, fix.into_iter().collect())),
        }
    }
    rows.into_iter()
        .map(|(row, fixes)| format!("{row}: {}", fixes.join(" | ")))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_import_killed_mid_write_is_finished_by_running_it_again() {
    let dir = tempfile::tempdir().expect("tempdir");
    let database = dir.path().join("node.db");
    let config = write_config(dir.path(), "node.toml", NODE, &database);

    // 60,000 experts from the sample generator, as a department's sheet.
    let sheet = dir.path().join("chuyen-gia.csv");
    {
        let mut spec = SampleSpec::sized(ProvinceProfile::hung_yen(), 60_000);
        spec.projects = 0;
        spec.publications = 0;
        let generator = SampleGenerator::new(spec);
        let mut out = std::io::BufWriter::new(std::fs::File::create(&sheet).expect("create"));
        writeln!(
            out,
            "STT,Họ và tên,Năm sinh,Đơn vị công tác,Chuyên ngành,Lĩnh vực"
        )
        .expect("write");
        for index in 0..60_000 {
            let expert = generator.expert(index);
            let quote = |text: &str| format!("\"{}\"", text.replace('"', "\"\""));
            writeln!(
                out,
                "{},{},{},{},{},{}",
                index + 1,
                quote(&expert.full_name),
                expert.birth_year,
                quote(&expert.organization_name),
                quote(&expert.specialization),
                expert.field_codes.join(";"),
            )
            .expect("write");
        }
        out.flush().expect("flush");
    }
    let import = |report: &Path| {
        let mut command = lienthong();
        command
            .args(["import", "experts"])
            .arg(&sheet)
            .arg("--config")
            .arg(&config)
            .arg("--report")
            .arg(report);
        command
    };

    let mut first = import(&dir.path().join("killed.csv"));
    first
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let mut child = first.spawn().expect("start the import");
    let grew = wait_for(Duration::from_secs(120), || {
        let bytes = std::fs::metadata(&database).map(|m| m.len()).unwrap_or(0);
        async move { bytes > 4 * 1024 * 1024 }
    })
    .await;
    let still_running = child.try_wait().expect("try_wait").is_none();
    child.kill().expect("SIGKILL");
    let _ = child.wait();
    assert!(grew, "the database did not grow within 120 s");
    assert!(
        still_running,
        "the import finished before it could be killed; make the sheet larger"
    );
    let committed = expert_count(&database).await;
    assert!(committed > 0 && committed < 60_000, "{committed}");

    let finished = dir.path().join("finished.csv");
    let output = run_within(import(&finished), Duration::from_secs(600));
    assert_success(&output, "the import run again");
    let duplicates_in_sample = 60_000 - expert_count(&database).await;

    // A fresh import of the same sheet decides every row the same way.
    let fresh_database = dir.path().join("fresh.db");
    let fresh_dir = dir.path().join("fresh");
    std::fs::create_dir(&fresh_dir).expect("dir");
    let fresh_config = write_config(&fresh_dir, "node.toml", NODE, &fresh_database);
    let fresh_report = dir.path().join("fresh.csv");
    let mut fresh = lienthong();
    fresh
        .args(["import", "experts"])
        .arg(&sheet)
        .arg("--config")
        .arg(&fresh_config)
        .arg("--report")
        .arg(&fresh_report);
    assert_success(&run_within(fresh, Duration::from_secs(600)), "fresh import");
    let finished = std::fs::read_to_string(&finished).expect("report");
    let fresh = std::fs::read_to_string(&fresh_report).expect("report");
    assert_eq!(decisions(&finished), decisions(&fresh));
    assert_eq!(
        expert_count(&fresh_database).await,
        60_000 - duplicates_in_sample,
        "the rerun holds what a single import holds"
    );
    // Rows, not report lines: a row with several fixes or notes has a line
    // for each.
    let unchanged = finished
        .lines()
        .filter(|line| line.contains(",unchanged,"))
        .filter_map(|line| line.split(',').next())
        .collect::<std::collections::BTreeSet<_>>()
        .len() as u64;
    assert_eq!(
        unchanged, committed,
        "the rows written before the kill are unchanged"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_workbook_is_imported_sheet_by_sheet() {
    let dir = tempfile::tempdir().expect("tempdir");
    let database = dir.path().join("node.db");
    let config = write_config(dir.path(), "node.toml", NODE, &database);
    expert_count(&database).await;
    let report = dir.path().join("report.json");

    let mut every_sheet = lienthong();
    every_sheet
        .args(["import", "experts"])
        .arg(fixture("experts.xlsx"))
        .arg("--config")
        .arg(&config)
        .args(["--json", "--report-format", "json", "--report"])
        .arg(&report);
    let output = run_within(every_sheet, Duration::from_secs(60));
    assert_success(&output, "workbook import");
    let summary: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON");
    assert_eq!(summary["sheets"], serde_json::json!(["Chuyên gia"]));
    // The hidden old copy is not imported; the notes sheet has no header.
    assert_eq!(
        summary["sheets_skipped"],
        serde_json::json!(["Bản cũ (hidden)", "Ghi chú"])
    );
    assert_eq!(summary["summary"]["inserted"], 4);
    assert!(
        text(&output.stderr).contains("Ghi chú"),
        "{}",
        text(&output.stderr)
    );
    let first: serde_json::Value = serde_json::from_str(
        std::fs::read_to_string(&report)
            .expect("report")
            .lines()
            .next()
            .expect("a row"),
    )
    .expect("a JSON line");
    assert_eq!(
        (&first["sheet"], &first["line"]),
        (&"Chuyên gia".into(), &2.into())
    );
    assert_eq!(expert_count(&database).await, 4);

    // The ODS of the same sheet finds the same four people.
    let mut again = lienthong();
    again
        .args(["import", "experts"])
        .arg(fixture("experts.ods"))
        .arg("--config")
        .arg(&config)
        .args(["--sheet", "Chuyên gia", "--json"]);
    let output = run_within(again, Duration::from_secs(60));
    assert_success(&output, "ODS import");
    let summary: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON");
    assert_eq!(summary["summary"]["unchanged"], 4, "{summary}");

    for (file, sheet, says) in [
        (
            "experts.xlsx",
            "Chuyen gia",
            "its sheets are: Ghi chú, Chuyên gia, Bản cũ",
        ),
        ("experts.xlsx", "Ghi chú", "no header row"),
        (
            "experts-utf8.csv",
            "Chuyên gia",
            "--sheet names a sheet of a workbook",
        ),
    ] {
        let mut wrong = lienthong();
        wrong
            .args(["import", "experts"])
            .arg(fixture(file))
            .arg("--config")
            .arg(&config)
            .args(["--sheet", sheet]);
        let output = run_within(wrong, Duration::from_secs(60));
        assert!(!output.status.success(), "{file} --sheet {sheet}");
        assert!(
            text(&output.stderr).contains(says),
            "{file} --sheet {sheet}: {}",
            text(&output.stderr)
        );
    }
    // A file named .xlsx that is not one.
    let fake = dir.path().join("not-a-workbook.xlsx");
    std::fs::write(&fake, "Họ và tên,Năm sinh\nNguyễn Văn An,1970\n").expect("write");
    let mut fake_import = lienthong();
    fake_import
        .args(["import", "experts"])
        .arg(&fake)
        .arg("--config")
        .arg(&config);
    let output = run_within(fake_import, Duration::from_secs(60));
    assert!(!output.status.success());
    assert!(
        text(&output.stderr).contains("CSV UTF-8"),
        "{}",
        text(&output.stderr)
    );
    assert_eq!(expert_count(&database).await, 4);
}

/// A CSV of experts in `dir`.
fn sheet(dir: &Path, name: &str, rows: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(
        &path,
        format!("Họ và tên,Năm sinh,Đơn vị công tác,Email\n{rows}"),
    )
    .expect("sheet");
    path
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_suggested_merge_is_shown_by_a_dry_run_then_applied_and_checked() {
    let dir = tempfile::tempdir().expect("tempdir");
    let database = dir.path().join("node.db");
    let config = write_config(dir.path(), "node.toml", NODE, &database);
    let import = |file: PathBuf| {
        let mut command = lienthong();
        command
            .args(["import", "experts"])
            .arg(file)
            .arg("--config")
            .arg(&config)
            .args(["--json", "--report"])
            .arg(dir.path().join("report.csv"));
        let output = run_within(command, Duration::from_secs(60));
        assert_success(&output, "import");
        let summary: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON");
        let report = std::fs::read_to_string(dir.path().join("report.csv")).expect("report");
        (summary, report, text(&output.stderr))
    };
    import(sheet(
        dir.path(),
        "a.csv",
        "Nguyễn Văn Đức,1968,Viện Công nghệ sinh học,\n",
    ));
    let (summary, report, notice) = import(sheet(
        dir.path(),
        "b.csv",
        "Nguyen Van Duc,,Viện Công nghệ sinh học,duc@vien.vn\n",
    ));
    assert_eq!(summary["summary"]["possible_duplicates"], 1, "{report}");
    assert!(notice.contains("nothing was merged"), "{notice}");
    // The command the report suggests, as written there.
    let suggested = report
        .split("after review: ")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("a suggested merge")
        .to_owned();
    let words: Vec<&str> = suggested.split(' ').collect();
    assert_eq!(&words[..4], ["lienthong", "merge", "--keep", words[3]]);
    let (keep, drop) = (words[3].to_owned(), words[5].to_owned());

    let merge = |extra: &[&str]| {
        let mut command = lienthong();
        command
            .args(["merge", "--keep", &keep, "--drop", &drop, "--config"])
            .arg(&config)
            .args(extra);
        run_within(command, Duration::from_secs(60))
    };
    let dry = merge(&["--dry-run"]);
    assert_success(&dry, "merge --dry-run");
    let table = text(&dry.stdout);
    assert!(
        table.contains("contact") && table.contains("duc@vien.vn"),
        "{table}"
    );
    assert!(table.contains("dry run: nothing was written"), "{table}");
    assert_eq!(expert_count(&database).await, 2, "a dry run merges nothing");

    let applied = merge(&["--json"]);
    assert_success(&applied, "merge");
    let outcome: serde_json::Value = serde_json::from_slice(&applied.stdout).expect("JSON");
    assert_eq!(outcome["kept_version"], 2);
    assert_eq!(expert_count(&database).await, 1);
    // Again: the dropped record is a tombstone now; nothing to merge.
    let again = merge(&[]);
    assert!(!again.status.success());
    let error = text(&again.stderr);
    assert!(
        error.contains("--drop") && error.contains("no live record"),
        "{error}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_exported_sheet_imports_back_without_a_change() {
    let dir = tempfile::tempdir().expect("tempdir");
    let database = dir.path().join("node.db");
    let config = write_config(dir.path(), "node.toml", NODE, &database);
    let mut import = lienthong();
    import
        .args(["import", "experts"])
        .arg(fixture("experts-utf8.csv"))
        .arg("--config")
        .arg(&config);
    assert_success(&run_within(import, Duration::from_secs(60)), "import");

    for name in ["chuyen-gia.xlsx", "chuyen-gia.csv"] {
        let output_path = dir.path().join(name);
        let mut export = lienthong();
        export
            .args(["export", "experts", "--json", "--config"])
            .arg(&config)
            .arg("--output")
            .arg(&output_path);
        let output = run_within(export, Duration::from_secs(60));
        assert_success(&output, "export");
        let outcome: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON");
        assert_eq!(outcome["exported"]["records"], 6, "{outcome}");
        let leftovers: Vec<_> = std::fs::read_dir(dir.path())
            .expect("dir")
            .filter_map(Result::ok)
            .filter(|entry| {
                entry
                    .file_name()
                    .to_string_lossy()
                    .starts_with(".lienthong-export")
            })
            .collect();
        assert!(leftovers.is_empty(), "{leftovers:?}");
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&output_path)
                .expect("file")
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600, "readable by its owner only");
        }

        let mut again = lienthong();
        again
            .args(["import", "experts", "--json"])
            .arg(&output_path)
            .arg("--config")
            .arg(&config);
        let output = run_within(again, Duration::from_secs(60));
        assert_success(&output, "import the export");
        let summary: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON");
        assert_eq!(summary["summary"]["unchanged"], 6, "{summary}");
        assert_eq!(summary["summary"]["rejected"], 0, "{summary}");
    }

    // A directory is no file to write.
    let mut into_directory = lienthong();
    into_directory
        .args(["export", "experts", "--format", "csv", "--config"])
        .arg(&config)
        .arg("--output")
        .arg(dir.path());
    let output = run_within(into_directory, Duration::from_secs(60));
    assert!(!output.status.success());
    assert!(
        text(&output.stderr).contains("is a directory"),
        "{}",
        text(&output.stderr)
    );

    // A file name that says no format is refused, naming the flags.
    let mut unknown = lienthong();
    unknown
        .args(["export", "experts", "--config"])
        .arg(&config)
        .arg("--output")
        .arg(dir.path().join("chuyen-gia.txt"));
    let output = run_within(unknown, Duration::from_secs(60));
    assert!(!output.status.success());
    let error = text(&output.stderr);
    assert!(error.contains("--format csv|xlsx"), "{error}");
}
