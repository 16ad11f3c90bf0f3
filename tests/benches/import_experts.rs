//! Importing a department's CSV of experts, or its catalog of tasks, into
//! SQLite: rows per second with full validation, cleaning, natural-key
//! matching, folding and search indexing, and the process's peak memory,
//! for sheets of several sizes (memory should not grow with the file). Also
//! a second import of the same sheet (every row unchanged).
//!
//! ```text
//! cargo bench -p lienthong-tests --bench import_experts -- --rows 100000,1000000
//! cargo bench -p lienthong-tests --bench import_experts -- --kind projects --rows 100000
//! ```

use std::io::Write;
use std::time::Instant;

use lienthong_import::csv_source::CsvRows;
use lienthong_import::report::{ReportFormat, ReportWriter};
use lienthong_import::sheet_import::{ImportOptions, import_experts, import_projects};
use lienthong_proto::v1 as pb;
use lienthong_sample::{ProvinceProfile, SampleGenerator, SampleSpec};
use lienthong_store::{IndexLocation, Store, StoreOptions};

fn rows_option() -> Vec<u64> {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|arg| arg == "--rows")
        .and_then(|at| args.get(at + 1))
        .map(|value| value.split(',').filter_map(|n| n.parse().ok()).collect())
        .unwrap_or_else(|| vec![100_000])
}

/// A line of /proc/self/status, in MiB.
fn status_mib(key: &str) -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find_map(|line| line.strip_prefix(key))
        .and_then(|value| value.split_whitespace().next()?.parse::<f64>().ok())
        .unwrap_or(0.0)
        / 1024.0
}

/// The highest anonymous resident memory (the process's own, without the
/// mapped database and index files) seen since the last call, sampled every
/// 20 ms.
fn watch_anonymous_memory() -> impl Fn() -> f64 {
    let peak = std::sync::Arc::new(std::sync::Mutex::new(0.0f64));
    let sampled = peak.clone();
    std::thread::spawn(move || {
        loop {
            let now = status_mib("RssAnon:");
            if let Ok(mut peak) = sampled.lock() {
                *peak = peak.max(now);
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
    });
    move || {
        peak.lock()
            .map(|mut peak| std::mem::replace(&mut *peak, 0.0))
            .unwrap_or(0.0)
    }
}

/// A sheet as departments keep them: a title-cased header, a row number,
/// titles in one column, full birth dates.
fn write_sheet(path: &std::path::Path, rows: u64) {
    let mut spec = SampleSpec::sized(ProvinceProfile::hung_yen(), rows);
    spec.projects = 0;
    spec.publications = 0;
    let generator = SampleGenerator::new(spec);
    let mut out = std::io::BufWriter::new(std::fs::File::create(path).expect("create"));
    writeln!(
        out,
        "STT,Họ và tên,Ngày sinh,Học hàm học vị,Đơn vị công tác,Chuyên ngành,Lĩnh vực,Email"
    )
    .expect("write");
    let quote = |text: &str| format!("\"{}\"", text.replace('"', "\"\""));
    for index in 0..rows {
        let expert = generator.expert(index);
        let title =
            lienthong_records::labels::title_and_degree(expert.academic_title, expert.degree);
        writeln!(
            out,
            "{},{},{}/{}/{},{},{},{},{},{}",
            index + 1,
            quote(&expert.full_name),
            index % 28 + 1,
            index % 12 + 1,
            expert.birth_year,
            quote(&title),
            quote(&expert.organization_name),
            quote(&expert.specialization),
            expert.field_codes.join(";"),
            expert.contact.map(|c| c.email).unwrap_or_default(),
        )
        .expect("write");
    }
    out.flush().expect("flush");
}

/// A catalog of tasks as departments keep it: code, title, leader, host,
/// level, period, budget in millions under a "(triệu đồng)" header, status
/// and acceptance result, field codes.
fn write_catalog(path: &std::path::Path, rows: u64) {
    let mut spec = SampleSpec::sized(ProvinceProfile::hung_yen(), rows);
    spec.projects = rows;
    spec.publications = 0;
    let generator = SampleGenerator::new(spec);
    let mut out = std::io::BufWriter::new(std::fs::File::create(path).expect("create"));
    writeln!(
        out,
        "STT,Mã số,Tên nhiệm vụ,Chủ nhiệm,Tổ chức chủ trì,Cấp quản lý,Thời gian thực hiện,\
         Kinh phí (triệu đồng),Tình trạng,Kết quả nghiệm thu,Lĩnh vực"
    )
    .expect("write");
    let quote = |text: &str| format!("\"{}\"", text.replace('"', "\"\""));
    for index in 0..rows {
        let project = generator.project(index);
        let level = match project.management_level() {
            pb::ManagementLevel::National => "Nhà nước",
            pb::ManagementLevel::Ministry => "Bộ",
            pb::ManagementLevel::Grassroots => "Cơ sở",
            _ => "Tỉnh",
        };
        let status = match project.status() {
            pb::ProjectStatus::Proposed => "đề xuất",
            pb::ProjectStatus::Approved => "đã phê duyệt",
            pb::ProjectStatus::Ongoing => "đang thực hiện",
            pb::ProjectStatus::Cancelled => "đã hủy",
            _ => "đã nghiệm thu",
        };
        let grade = match project.acceptance_grade() {
            pb::AcceptanceGrade::Excellent => "Xuất sắc",
            pb::AcceptanceGrade::Good => "Khá",
            pb::AcceptanceGrade::Pass => "Đạt",
            pb::AcceptanceGrade::Fail => "Không đạt",
            _ => "",
        };
        let year = |date: &str| date.get(..4).unwrap_or("").to_owned();
        let millions = project.total_budget_vnd / 1_000_000;
        writeln!(
            out,
            "{},{},{},{},{},{},{} - {},{},{},{},{}",
            index + 1,
            quote(&project.code),
            quote(&project.title),
            quote(&project.lead.map(|lead| lead.name).unwrap_or_default()),
            quote(&project.host_organization_name),
            level,
            year(&project.planned_start),
            year(&project.planned_end),
            // Dots group thousands, as Vietnamese sheets show numbers.
            quote(
                &millions
                    .to_string()
                    .as_bytes()
                    .rchunks(3)
                    .rev()
                    .map(|g| std::str::from_utf8(g).unwrap_or(""))
                    .collect::<Vec<_>>()
                    .join(".")
            ),
            status,
            grade,
            project.field_codes.join(";"),
        )
        .expect("write");
    }
    out.flush().expect("flush");
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let projects = lienthong_tests::bench_argument("--kind").as_deref() == Some("projects");
    let peak_anonymous = watch_anonymous_memory();
    println!(
        "| rows | file | pass | seconds | rows/s | accepted+fixed | rejected | peak own memory | peak RSS so far |"
    );
    println!("|---|---|---|---|---|---|---|---|---|");
    for rows in rows_option() {
        let dir = tempfile::tempdir().expect("tempdir");
        let sheet = dir.path().join("sheet.csv");
        if projects {
            write_catalog(&sheet, rows);
        } else {
            write_sheet(&sheet, rows);
        }
        let size = std::fs::metadata(&sheet).map(|m| m.len()).unwrap_or(0);
        let store = Store::open(&StoreOptions {
            url: format!("sqlite://{}", dir.path().join("node.db").display()),
            node_id: "hung-yen".into(),
            max_connections: 4,
            search_index: IndexLocation::Directory(dir.path().join("node.index")),
        })
        .await
        .expect("store");
        let options = ImportOptions {
            node_id: "hung-yen".into(),
            visibility: pb::Visibility::Federation,
            mapping: Default::default(),
            dry_run: false,
            earlier_sheets: Default::default(),
        };
        for pass in ["first", "again"] {
            let rows_in = CsvRows::open(std::fs::File::open(&sheet).expect("open")).expect("csv");
            let report_file = std::fs::File::create(dir.path().join("report.csv")).expect("report");
            let mut report = ReportWriter::new(
                std::io::BufWriter::new(report_file),
                ReportFormat::Csv,
                false,
            )
            .expect("report");
            peak_anonymous();
            let started = Instant::now();
            let imported = if projects {
                import_projects(&store, rows_in, &options, &mut report).await
            } else {
                import_experts(&store, rows_in, &options, &mut report).await
            };
            let summary = imported.expect("import").summary;
            report.finish().expect("flush report");
            let seconds = started.elapsed().as_secs_f64();
            println!(
                "| {rows} | {:.1} MiB | {pass} | {seconds:.1} | {:.0} | {} | {} | {:.0} MiB | {:.0} MiB |",
                size as f64 / 1048576.0,
                rows as f64 / seconds,
                summary.accepted + summary.fixed,
                summary.rejected,
                peak_anonymous(),
                status_mib("VmHWM:")
            );
            if pass == "first" {
                // Why rows were rejected, by kind of reason.
                let report =
                    std::fs::read_to_string(dir.path().join("report.csv")).unwrap_or_default();
                let mut reasons = std::collections::BTreeMap::<String, u64>::new();
                // A rejection line ends with its reason; fix lines of rejected rows end in a comma.
                for line in report
                    .lines()
                    .filter(|line| line.contains(",rejected,") && !line.ends_with(','))
                {
                    let reason = [
                        "the same person",
                        "the same task code",
                        "not a period",
                        "not an amount",
                        "not a year",
                        "not a field code",
                        "not one e-mail",
                    ]
                    .into_iter()
                    .find(|known| line.contains(known))
                    .unwrap_or("other")
                    .to_owned();
                    *reasons.entry(reason).or_default() += 1;
                }
                for (reason, count) in reasons {
                    eprintln!("  rejected {count}: {reason}");
                }
            }
        }
        store.close().await;
    }
}
