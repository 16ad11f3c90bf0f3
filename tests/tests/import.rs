//! `lienthong import`: the fixture sheets under `tests/fixtures/import/`
//! (made by `make_fixtures.py` with Python's codecs and glibc's iconv) in
//! every encoding departments send, each checked against its exact report;
//! a second import of the same sheet writes nothing; a dry run writes
//! nothing at all; columns the sheet lacks keep what the store holds. On
//! SQLite and PostgreSQL.
//!
//! Set `LIENTHONG_BLESS=1` to rewrite the expected reports from what the
//! import now says (then read the diff before committing it).

use std::path::{Path, PathBuf};

use lienthong_import::csv_source::{CsvRows, FileEncoding};
use lienthong_import::legacy_encoding::LegacyEncoding;
use lienthong_import::report::{ReportFormat, ReportWriter, Summary};
use lienthong_import::sheet_import::{
    ImportOptions, import_experts, import_organizations, import_projects, import_publications,
};
use lienthong_import::workbook::Workbook;
use lienthong_proto::v1 as pb;
use lienthong_records::AnyRecord;
use lienthong_store::Store;
use lienthong_tests::TestDatabase;

const NODE: &str = "hung-yen";

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/import")
        .join(name)
}

fn options(dry_run: bool) -> ImportOptions {
    ImportOptions {
        node_id: NODE.into(),
        visibility: pb::Visibility::Federation,
        mapping: Default::default(),
        dry_run,
        earlier_sheets: Default::default(),
    }
}

/// Imports `name` and returns the file's encoding, the summary and the CSV
/// report.
async fn import(store: &Store, name: &str, dry_run: bool) -> (FileEncoding, Summary, String) {
    let file = std::fs::File::open(fixture(name)).expect("fixture");
    let rows = CsvRows::open(file).expect("readable");
    let encoding = rows.encoding();
    let mut report = ReportWriter::new(Vec::new(), ReportFormat::Csv, dry_run).expect("report");
    let summary = import_experts(store, rows, &options(dry_run), &mut report)
        .await
        .expect("import")
        .summary;
    let text = String::from_utf8(report.finish().expect("finish")).expect("utf-8 report");
    (encoding, summary, text)
}

/// The report must equal `<name>.expected.csv`.
fn assert_report(name: &str, report: &str) {
    let expected_path = fixture(&format!("{name}.expected.csv"));
    if std::env::var_os("LIENTHONG_BLESS").is_some() {
        std::fs::write(&expected_path, report).expect("bless");
    }
    let expected = std::fs::read_to_string(&expected_path).expect("expected report");
    assert_eq!(
        report, expected,
        "{name}: the report differs from {expected_path:?}"
    );
}

async fn experts(store: &Store) -> Vec<pb::Expert> {
    let mut found = Vec::new();
    let mut after = 0;
    loop {
        let (page, last) = store
            .scan(lienthong_records::RecordKind::Expert, after, 500)
            .await
            .expect("scan");
        if page.is_empty() {
            break;
        }
        after = last;
        found.extend(page.into_iter().filter_map(|record| match record {
            AnyRecord::Expert(expert) => Some(expert),
            _ => None,
        }));
    }
    found.sort_by(|a, b| a.full_name.cmp(&b.full_name));
    found
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_encoding_reads_to_the_same_experts_and_the_exact_report() {
    for database in TestDatabase::each_backend().await {
        let backend = database.backend;
        let mut imported = Vec::new();
        for (name, encoding) in [
            (
                "experts-tcvn3.csv",
                FileEncoding::Legacy(LegacyEncoding::Tcvn3),
            ),
            (
                "experts-viscii.csv",
                FileEncoding::Legacy(LegacyEncoding::Viscii),
            ),
            (
                "experts-cp1258.csv",
                FileEncoding::Legacy(LegacyEncoding::Windows1258),
            ),
            ("experts-vni.csv", FileEncoding::Legacy(LegacyEncoding::Vni)),
            ("experts-utf16.txt", FileEncoding::Utf16LittleEndian),
            ("experts-merged-header.csv", FileEncoding::Utf8WithMark),
        ] {
            // Each into a database of its own.
            let database = if backend == lienthong_store::Backend::Sqlite {
                TestDatabase::sqlite()
            } else {
                TestDatabase::postgres().await.expect("PostgreSQL")
            };
            let store = database.open_store(NODE).await;
            let (found, summary, report) = import(&store, name, false).await;
            assert_eq!(found, encoding, "{backend:?} {name}: encoding");
            assert_eq!(
                (summary.rows, summary.rejected),
                (4, 0),
                "{backend:?} {name}: {report}"
            );
            assert_report(name, &report);
            imported.push((name, experts(&store).await));
            store.close().await;
        }
        let (first_name, first) = &imported[0];
        assert_eq!(first.len(), 4);
        assert!(first.iter().any(|e| e.full_name == "Trần Thị Thuỷ"));
        for (name, experts) in &imported[1..] {
            let strip = |experts: &[pb::Expert]| -> Vec<pb::Expert> {
                experts
                    .iter()
                    .cloned()
                    .map(|mut e| {
                        e.meta = None;
                        e
                    })
                    .collect()
            };
            assert_eq!(
                strip(experts),
                strip(first),
                "{backend:?}: {name} reads to other experts than {first_name}"
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn workbooks_read_to_the_same_experts_as_the_csv_files() {
    let strip = |experts: Vec<pb::Expert>| -> Vec<pb::Expert> {
        experts
            .into_iter()
            .map(|mut expert| {
                expert.meta = None;
                expert
            })
            .collect()
    };
    let database = TestDatabase::sqlite();
    let store = database.open_store(NODE).await;
    import(&store, "experts-tcvn3.csv", false).await;
    let from_csv = strip(experts(&store).await);
    store.close().await;

    for name in ["experts.xlsx", "experts.ods"] {
        let database = TestDatabase::sqlite();
        let store = database.open_store(NODE).await;
        let mut workbook = Workbook::open(&fixture(name)).expect("a workbook");
        // The XLSX keeps an old copy of the list in a hidden sheet.
        let hidden: &[&str] = if name.ends_with(".xlsx") {
            &["Bản cũ"]
        } else {
            &[]
        };
        assert_eq!(
            workbook.visible_and_hidden_sheets(),
            (
                vec!["Ghi chú".to_owned(), "Chuyên gia".to_owned()],
                hidden.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>()
            ),
            "{name}"
        );
        let mut report = ReportWriter::new(Vec::new(), ReportFormat::Csv, false).expect("report");
        // The notes sheet has no header of experts.
        let notes = workbook.rows("Ghi chú").expect("the notes sheet");
        let refused = import_experts(&store, notes, &options(false), &mut report).await;
        assert!(
            matches!(refused, Err(lienthong_import::ImportError::NoHeader { .. })),
            "{name}: {:?}",
            refused.map(|imported| imported.summary)
        );
        report.set_sheet(Some("Chuyên gia".into()));
        let rows = workbook.rows("Chuyên gia").expect("the experts' sheet");
        let summary = import_experts(&store, rows, &options(false), &mut report)
            .await
            .expect("import")
            .summary;
        assert_eq!((summary.rows, summary.rejected), (4, 0), "{name}");
        let report = String::from_utf8(report.finish().expect("finish")).expect("utf-8");
        assert_report(name, &report);
        assert_eq!(
            strip(experts(&store).await),
            from_csv,
            "{name} reads to other experts than the CSV"
        );
        assert!(matches!(
            workbook.rows("Chuyen gia"),
            Err(lienthong_import::ImportError::NoSuchSheet { .. })
        ));
        store.close().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_damaged_sheet_is_cleaned_and_every_row_accounted_for() {
    for database in TestDatabase::each_backend().await {
        let backend = database.backend;
        let store = database.open_store(NODE).await;

        // A dry run decides everything and writes nothing.
        let (_, dry, dry_report) = import(&store, "experts-utf8.csv", true).await;
        assert_eq!(store.counts(false).await.expect("counts").experts, 0);
        assert_eq!(dry.inserted, 6, "{backend:?}: {dry_report}");

        let (encoding, summary, report) = import(&store, "experts-utf8.csv", false).await;
        assert_eq!(encoding, FileEncoding::Utf8);
        assert_report("experts-utf8.csv", &report);
        assert_eq!(
            (
                summary.rows,
                summary.accepted + summary.fixed,
                summary.rejected
            ),
            (17, 6, 11),
            "{backend:?}: {report}"
        );
        // The signatures and the signer under them are not experts.
        assert!(
            report.contains("the signatures at the sheet's foot"),
            "{report}"
        );
        assert!(!report.contains("Nguyễn Thị Lập"));
        let held = experts(&store).await;
        let names: Vec<&str> = held.iter().map(|e| e.full_name.as_str()).collect();
        assert_eq!(
            names,
            [
                "Lê Quang Hải",
                "Nguyễn Văn Đức",
                "Phạm Thị Hoà",
                "Trần Thị Thuỷ",
                "Vũ Thị Lan",
                "Đỗ Minh Tuấn"
            ],
            "{backend:?}"
        );
        let lan = held
            .iter()
            .find(|e| e.full_name == "Vũ Thị Lan")
            .expect("Lan");
        assert_eq!(lan.organization_name, "Viện Công nghệ sinh học");
        assert_eq!(
            lan.academic_title,
            pb::AcademicTitle::AssociateProfessor as i32
        );
        assert_eq!(lan.degree, pb::Degree::Doctor as i32);
        let tuan = held
            .iter()
            .find(|e| e.full_name == "Đỗ Minh Tuấn")
            .expect("Tuấn");
        assert_eq!(
            tuan.birth_year, 1980,
            "Excel serial 29221 is 1 January 1980"
        );
        let thuy = held
            .iter()
            .find(|e| e.full_name == "Trần Thị Thuỷ")
            .expect("Thuỷ");
        assert_eq!(thuy.birth_year, 1975, "only the year of 5/3/1975 is kept");

        // The same sheet again: found by natural key, nothing written.
        let before = store.last_change_seq().await.expect("seq");
        let (_, again, _) = import(&store, "experts-utf8.csv", false).await;
        assert_eq!(
            (again.inserted, again.updated, again.unchanged),
            (0, 0, 6),
            "{backend:?}"
        );
        assert_eq!(
            store.last_change_seq().await.expect("seq"),
            before,
            "{backend:?}"
        );

        // What the sheet has no column for stays as the store holds it.
        let mut edited = held
            .iter()
            .find(|e| e.full_name == "Nguyễn Văn Đức")
            .expect("Đức")
            .clone();
        edited.identifiers.get_or_insert_default().scopus_author_id = "57000000001".into();
        edited.contact_sharing_consent = true;
        store
            .upsert(vec![AnyRecord::Expert(edited)])
            .await
            .expect("edit");
        let (_, third, _) = import(&store, "experts-utf8.csv", false).await;
        assert_eq!(third.unchanged, 6, "{backend:?}");
        let duc = experts(&store)
            .await
            .into_iter()
            .find(|e| e.full_name == "Nguyễn Văn Đức")
            .expect("Đức");
        assert_eq!(
            duc.identifiers.map(|ids| ids.scopus_author_id).as_deref(),
            Some("57000000001"),
            "{backend:?}"
        );
        assert!(duc.contact_sharing_consent);
        store.close().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_quote_never_closed_stops_the_import_before_it_swallows_rows() {
    let database = TestDatabase::sqlite();
    let store = database.open_store(NODE).await;
    // Line 3 opens a quote that nothing closes: every later row would be
    // one cell of it.
    let mut sheet = String::from("Họ và tên,Năm sinh,Chuyên ngành\nNguyễn Văn An,1970,Hoá học\n");
    sheet.push_str("Trần Thị Bình,1975,\"Sinh học phân tử\n");
    for n in 0..300 {
        sheet.push_str(&format!("Người thứ {n},1980,Vật lý\n"));
    }
    let rows = CsvRows::open(std::io::Cursor::new(sheet.into_bytes())).expect("readable");
    let mut report = ReportWriter::new(Vec::new(), ReportFormat::Csv, false).expect("report");
    let error = import_experts(&store, rows, &options(false), &mut report)
        .await
        .expect_err("a runaway quote");
    let message = error.to_string();
    assert!(message.contains("line 3, column 3"), "{message}");
    assert!(message.contains("never closed"), "{message}");
    store.close().await;
}

async fn import_text(store: &Store, text: &str) -> (Summary, String) {
    let rows = CsvRows::open(std::io::Cursor::new(text.as_bytes().to_vec())).expect("readable");
    let mut report = ReportWriter::new(Vec::new(), ReportFormat::Csv, false).expect("report");
    let summary = import_experts(store, rows, &options(false), &mut report)
        .await
        .expect("import")
        .summary;
    let text = String::from_utf8(report.finish().expect("finish")).expect("utf-8 report");
    (summary, text)
}

/// Attacks on what a re-import may do: bring back a record someone deleted,
/// erase stored values with blank cells, or merge two people whose names
/// differ only in a diacritic.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reimport_neither_revives_deleted_people_nor_erases_nor_merges_namesakes() {
    for database in TestDatabase::each_backend().await {
        let backend = database.backend;
        let store = database.open_store(NODE).await;
        let sheet = "Họ và tên,Năm sinh,Đơn vị công tác,Email\n\
                     Nguyễn Thị Thu,1980,Sở Y tế,thu@syt.vn\n\
                     Nguyễn Thị Thư,1980,Sở Y tế,thu2@syt.vn\n";
        let (summary, report) = import_text(&store, sheet).await;
        assert_eq!(
            (summary.inserted, summary.rejected),
            (2, 0),
            "{backend:?}: Thu and Thư are two people: {report}"
        );

        // A blank cell in a later sheet erases nothing.
        let blank = "Họ và tên,Năm sinh,Đơn vị công tác,Email\n\
                     Nguyễn Thị Thu,1980,Sở Y tế,\n";
        let (summary, _) = import_text(&store, blank).await;
        assert_eq!(summary.unchanged, 1, "{backend:?}");
        let thu = experts(&store)
            .await
            .into_iter()
            .find(|e| e.full_name == "Nguyễn Thị Thu")
            .expect("Thu");
        assert_eq!(thu.contact.map(|c| c.email).as_deref(), Some("thu@syt.vn"));

        // Deleted here, she is not brought back by the sheet.
        let id = thu.meta.expect("meta").id;
        store.delete(&id).await.expect("delete");
        let (summary, report) = import_text(&store, sheet).await;
        assert_eq!(
            (summary.inserted, summary.unchanged, summary.rejected),
            (0, 1, 1),
            "{backend:?}: {report}"
        );
        assert!(report.contains("was deleted on this node"), "{report}");
        assert!(
            store.get(&id).await.expect("get").is_none(),
            "{backend:?}: still deleted"
        );
        store.close().await;
    }
}

/// Columns nothing is read from are named, not dropped silently.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn columns_not_imported_are_named() {
    let database = TestDatabase::sqlite();
    let store = database.open_store(NODE).await;
    let sheet = "Họ và tên,Năm sinh,Đơn vị,Cơ quan,Sở thích\nLê Văn Bình,1975,Sở KH&CN,UBND tỉnh,cờ tướng\n";
    let rows = CsvRows::open(std::io::Cursor::new(sheet.as_bytes().to_vec())).expect("readable");
    let mut report = ReportWriter::new(Vec::new(), ReportFormat::Csv, false).expect("report");
    let imported = import_experts(&store, rows, &options(false), &mut report)
        .await
        .expect("import");
    assert_eq!(
        imported.columns_not_imported,
        vec![
            "Cơ quan (a second organization column)".to_owned(),
            "Sở thích".to_owned()
        ]
    );
    let held = experts(&store).await;
    assert_eq!(
        held[0].organization_name, "Sở KH&CN",
        "the first column is read"
    );
    store.close().await;
}

async fn projects(store: &Store) -> Vec<pb::Project> {
    let (page, _) = store
        .scan(lienthong_records::RecordKind::Project, 0, 500)
        .await
        .expect("scan");
    let mut found: Vec<pb::Project> = page
        .into_iter()
        .filter_map(|record| match record {
            AnyRecord::Project(project) => Some(project),
            _ => None,
        })
        .collect();
    found.sort_by(|a, b| a.code.cmp(&b.code));
    found
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_catalog_of_tasks_is_read_with_its_money_levels_and_results() {
    for database in TestDatabase::each_backend().await {
        let backend = database.backend;
        let store = database.open_store(NODE).await;
        let import_once = async || {
            let rows =
                CsvRows::open(std::fs::File::open(fixture("projects-utf8.csv")).expect("fixture"))
                    .expect("readable");
            let mut report =
                ReportWriter::new(Vec::new(), ReportFormat::Csv, false).expect("report");
            let summary = import_projects(&store, rows, &options(false), &mut report)
                .await
                .expect("import")
                .summary;
            (
                summary,
                String::from_utf8(report.finish().expect("finish")).expect("utf-8"),
            )
        };
        let (summary, report) = import_once().await;
        assert_report("projects-utf8.csv", &report);
        assert_eq!(
            (summary.rows, summary.inserted, summary.rejected),
            (10, 3, 7),
            "{backend:?}: {report}"
        );
        let held = projects(&store).await;
        let codes: Vec<&str> = held.iter().map(|p| p.code.as_str()).collect();
        assert_eq!(
            codes,
            ["DA-03/2018", "ĐT.07/2019", "ĐT.12/2020"],
            "{backend:?}"
        );
        let rice = &held[1];
        assert_eq!(rice.total_budget_vnd, 1_250_000_000, "1.250 triệu");
        assert_eq!(rice.status, pb::ProjectStatus::Completed as i32);
        assert_eq!(rice.acceptance_grade, pb::AcceptanceGrade::Good as i32);
        assert_eq!(rice.management_level, pb::ManagementLevel::Province as i32);
        assert_eq!(
            (rice.planned_start.as_str(), rice.planned_end.as_str()),
            ("2019-01-01", "2021-12-31")
        );
        assert_eq!(
            rice.lead.as_ref().map(|l| l.name.as_str()),
            Some("Lê Quang Hải")
        );
        let mushrooms = &held[2];
        assert_eq!(mushrooms.total_budget_vnd, 1_250_000_000, "1,25 tỷ");
        assert_eq!(mushrooms.host_organization_name, "Viện Công nghệ sinh học");
        assert_eq!(mushrooms.field_codes, ["4"]);
        let longan = &held[0];
        assert_eq!(longan.total_budget_vnd, 850_000_000, "850tr");
        assert_eq!(longan.acceptance_grade, pb::AcceptanceGrade::Fail as i32);
        assert_eq!(
            longan.management_level,
            pb::ManagementLevel::Grassroots as i32
        );

        // Again: the same tasks, nothing written.
        let seq = store.last_change_seq().await.expect("seq");
        let (again, _) = import_once().await;
        assert_eq!((again.unchanged, again.inserted, again.updated), (3, 0, 0));
        assert_eq!(store.last_change_seq().await.expect("seq"), seq);
        store.close().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_province_merged_in_2025_is_noted_and_kept_as_written() {
    let database = TestDatabase::sqlite();
    let store = database.open_store(NODE).await;
    let (summary, report) = import_text(
        &store,
        "Họ và tên,Năm sinh,Đơn vị công tác\n\
         Nguyễn Văn An,1970,Sở KH&CN tỉnh Thái Bình\n\
         Trần Văn Bình,1971,Sở KH&CN Hưng Yên\n",
    )
    .await;
    // A note changes nothing: the row is accepted as it was.
    assert_eq!((summary.accepted, summary.fixed), (2, 0), "{report}");
    assert!(
        report.contains("note_province_merged_2025")
            && report.contains("Thái Bình is part of Hưng Yên since 1 July 2025"),
        "{report}"
    );
    let held = experts(&store).await;
    assert_eq!(held[0].organization_name, "Sở KH&CN tỉnh Thái Bình");
    store.close().await;
}

/// Imports the fixture `name` as `kind`; the summary and the CSV report.
async fn import_fixture(
    store: &Store,
    name: &str,
    kind: lienthong_records::RecordKind,
) -> (Summary, String) {
    use lienthong_records::RecordKind;
    let rows =
        CsvRows::open(std::fs::File::open(fixture(name)).expect("fixture")).expect("readable");
    let mut report = ReportWriter::new(Vec::new(), ReportFormat::Csv, false).expect("report");
    let options = options(false);
    let imported = match kind {
        RecordKind::Expert => import_experts(store, rows, &options, &mut report).await,
        RecordKind::Project => import_projects(store, rows, &options, &mut report).await,
        RecordKind::Publication => import_publications(store, rows, &options, &mut report).await,
        RecordKind::Organization => import_organizations(store, rows, &options, &mut report).await,
    };
    let summary = imported.expect("import").summary;
    (
        summary,
        String::from_utf8(report.finish().expect("finish")).expect("utf-8"),
    )
}

/// Every record of `kind` the store holds.
async fn held(store: &Store, kind: lienthong_records::RecordKind) -> Vec<AnyRecord> {
    store.scan(kind, 0, 500).await.expect("scan").0
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_list_of_papers_is_read_with_its_authors_dois_and_languages() {
    use lienthong_records::RecordKind;
    for database in TestDatabase::each_backend().await {
        let backend = database.backend;
        let store = database.open_store(NODE).await;
        let name = "publications-utf8.csv";
        let (summary, report) = import_fixture(&store, name, RecordKind::Publication).await;
        assert_report(name, &report);
        assert_eq!(
            (summary.rows, summary.inserted, summary.rejected),
            (8, 4, 4),
            "{backend:?}: {report}"
        );
        let mut papers: Vec<pb::Publication> = held(&store, RecordKind::Publication)
            .await
            .into_iter()
            .filter_map(|record| match record {
                AnyRecord::Publication(paper) => Some(paper),
                _ => None,
            })
            .collect();
        papers.sort_by_key(|paper| paper.year);
        let [fish, mushrooms, rice, landraces] = &papers[..] else {
            panic!("{backend:?}: four papers, not {papers:?}");
        };
        assert_eq!(fish.doi, "", "a placeholder is no DOI");
        assert_eq!(
            mushrooms.title, "Nghiên cứu quy trình sản xuất nấm ăn",
            "TCVN3 damage restored"
        );
        assert_eq!(mushrooms.doi, "");
        assert_eq!(rice.doi, "10.31817/vjas.2021.19.3.05", "the link dropped");
        assert_eq!(rice.pages, "45-52");
        assert_eq!(rice.language, "vi");
        let authors: Vec<&str> = rice.authors.iter().map(|a| a.name.as_str()).collect();
        assert_eq!(authors, ["Lê Quang Hải", "Phạm Thị Hoà"], "titles dropped");
        assert_eq!(landraces.year, 2022, "2022.0 is 2022");
        let authors: Vec<&str> = landraces.authors.iter().map(|a| a.name.as_str()).collect();
        assert_eq!(authors, ["Smith, J.", "Lê Quang Hải"]);
        assert_eq!(landraces.language, "en");

        // Again: the same papers, nothing written.
        let seq = store.last_change_seq().await.expect("seq");
        let (again, _) = import_fixture(&store, name, RecordKind::Publication).await;
        assert_eq!((again.unchanged, again.inserted, again.updated), (4, 0, 0));
        assert_eq!(store.last_change_seq().await.expect("seq"), seq);
        store.close().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_list_of_organizations_is_read_with_types_codes_and_merged_provinces() {
    use lienthong_records::RecordKind;
    for database in TestDatabase::each_backend().await {
        let backend = database.backend;
        let store = database.open_store(NODE).await;
        let name = "organizations-utf8.csv";
        let (summary, report) = import_fixture(&store, name, RecordKind::Organization).await;
        assert_report(name, &report);
        assert_eq!(
            (summary.rows, summary.inserted, summary.rejected),
            (7, 4, 3),
            "{backend:?}: {report}"
        );
        let organizations: Vec<pb::Organization> = held(&store, RecordKind::Organization)
            .await
            .into_iter()
            .filter_map(|record| match record {
                AnyRecord::Organization(organization) => Some(organization),
                _ => None,
            })
            .collect();
        let named = |prefix: &str| {
            organizations
                .iter()
                .find(|organization| organization.name.starts_with(prefix))
                .unwrap_or_else(|| panic!("{backend:?}: no {prefix} in {organizations:?}"))
        };
        let university = named("Trường Đại học Sư phạm");
        assert_eq!(university.agency_code, "000.00.31.H33");
        assert_eq!(
            university.organization_type,
            pb::OrganizationType::University as i32
        );
        let institute = named("Viện Công nghệ sinh học");
        assert_eq!(
            institute.organization_type,
            pb::OrganizationType::ResearchInstitute as i32,
            "VNI text saved as Unicode restored"
        );
        assert_eq!(
            named("Sở Khoa học").province,
            "Thái Bình",
            "kept as written"
        );
        assert!(report.contains("legacy_vni"), "{report}");
        assert!(
            report.contains("Thái Bình is part of Hưng Yên since 1 July 2025"),
            "{report}"
        );
        store.close().await;
    }
}

/// The id a report line gives for the row at `line`.
fn id_at(report: &str, line: u64) -> String {
    report
        .lines()
        .find_map(|row| {
            let mut cells = row.split(',');
            (cells.next()? == line.to_string()).then(|| cells.nth(1).map(str::to_owned))?
        })
        .unwrap_or_else(|| panic!("no line {line} in {report}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_person_under_another_key_is_suggested_then_merged_after_review() {
    use lienthong_import::record_merge::fill_from;
    use lienthong_store::MergePlan;
    for database in TestDatabase::each_backend().await {
        let backend = database.backend;
        let store = database.open_store(NODE).await;
        let (_, first) = import_text(
            &store,
            "Họ và tên,Năm sinh,Đơn vị công tác,Học vị\n\
             Nguyễn Văn Đức,1968,Viện Công nghệ sinh học,\n",
        )
        .await;
        let kept = id_at(&first, 2);
        // The same man without diacritics and without his birth year; a
        // namesake twenty years younger; two rows of one woman in one file.
        let second_sheet = "Họ và tên,Năm sinh,Đơn vị công tác,Học vị\n\
             Nguyen Van Duc,,Viện Công nghệ sinh học,TS.\n\
             Nguyễn Văn Đức,1988,Viện Công nghệ sinh học,\n\
             Phạm Thị Hoà,1979,Sở Y tế Hưng Yên,\n\
             Pham Thi Hoa,1979,Sở Y tế,\n";
        let (summary, report) = import_text(&store, second_sheet).await;
        // The namesake is listed too: against the row without a birth year,
        // which could be either man.
        assert_eq!(
            (summary.inserted, summary.possible_duplicates),
            (4, 3),
            "{backend:?}: {report}"
        );
        let dropped = id_at(&report, 2);
        let suggestion = format!("lienthong merge --keep {kept} --drop {dropped}");
        assert!(report.contains(&suggestion), "{report}");
        assert!(
            report.contains(&format!("note_possible_duplicate,{kept},\"similarity 0.85")),
            "{report}"
        );
        assert!(
            report.contains(&format!(
                "lienthong merge --keep {} --drop {}",
                id_at(&report, 4),
                id_at(&report, 5)
            )),
            "within the file: {report}"
        );
        // Nothing was merged by the import.
        assert!(store.get(&dropped).await.expect("get").is_some());

        // The reviewed merge: the kept record takes the degree it lacked.
        let held = |id: String| {
            let store = &store;
            async move { store.get(&id).await.expect("get").expect("live").record }
        };
        let (keep_record, drop_record) = (held(kept.clone()).await, held(dropped.clone()).await);
        let (merged, taken) = fill_from(&keep_record, &drop_record).expect("merge");
        assert_eq!(
            taken.iter().map(|t| t.field.as_str()).collect::<Vec<_>>(),
            ["degree"]
        );
        let version = |record: &AnyRecord| record.meta().map_or(0, |m| m.version);
        let plan = MergePlan {
            kept: merged,
            kept_version: version(&keep_record),
            dropped_id: dropped.clone(),
            dropped_version: version(&drop_record),
        };
        // Reviewed at an older version: refused, nothing written.
        let stale = MergePlan {
            kept_version: version(&keep_record) + 7,
            ..plan.clone()
        };
        let refused = store.merge(stale).await.expect_err("stale review");
        assert!(refused.to_string().contains("changed since"), "{refused}");
        assert!(store.get(&dropped).await.expect("get").is_some());

        let written = store.merge(plan).await.expect("merged");
        assert_eq!(written.kept_version, version(&keep_record) + 1);
        assert!(store.get(&dropped).await.expect("get").is_none());
        assert_eq!(
            store
                .merged_into(&dropped)
                .await
                .expect("redirect")
                .map(|merged| merged.kept),
            Some(kept.clone())
        );
        let AnyRecord::Expert(now) = held(kept.clone()).await else {
            panic!("an expert");
        };
        assert_eq!(now.degree, pb::Degree::Doctor as i32);
        assert_eq!(now.organization_name, "Viện Công nghệ sinh học");

        // The sheet again: its row for the dropped record says where it went.
        let (_, again) = import_text(&store, second_sheet).await;
        assert!(
            again.contains(&format!("was merged into {kept}")),
            "{backend:?}: {again}"
        );

        // Brought back (records load, ingest) and deleted again: a plain
        // deletion, which leads nowhere.
        store
            .upsert(vec![drop_record.clone()])
            .await
            .expect("re-created");
        assert_eq!(store.merged_into(&dropped).await.expect("read"), None);
        store.delete(&dropped).await.expect("deleted");
        assert_eq!(store.merged_into(&dropped).await.expect("read"), None);
        store.close().await;
    }
}

/// Imports `path` (CSV or XLSX) as `kind`; the summary and the report.
async fn import_path(
    store: &Store,
    path: &Path,
    kind: lienthong_records::RecordKind,
) -> (Summary, String) {
    use lienthong_records::RecordKind;
    let mut report = ReportWriter::new(Vec::new(), ReportFormat::Csv, false).expect("report");
    let options = options(false);
    macro_rules! import_as {
        ($rows:expr) => {
            match kind {
                RecordKind::Expert => import_experts(store, $rows, &options, &mut report).await,
                RecordKind::Project => import_projects(store, $rows, &options, &mut report).await,
                RecordKind::Publication => {
                    import_publications(store, $rows, &options, &mut report).await
                }
                RecordKind::Organization => {
                    import_organizations(store, $rows, &options, &mut report).await
                }
            }
        };
    }
    let imported = if path.extension().is_some_and(|e| e == "xlsx") {
        let mut workbook = Workbook::open(path).expect("workbook");
        let sheet = workbook.sheet_names()[0].clone();
        import_as!(workbook.rows(&sheet).expect("sheet"))
    } else {
        import_as!(CsvRows::open(std::fs::File::open(path).expect("file")).expect("readable"))
    };
    let summary = imported.expect("import").summary;
    (
        summary,
        String::from_utf8(report.finish().expect("finish")).expect("utf-8"),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_export_imported_back_changes_nothing_and_an_edited_row_updates_its_record() {
    use lienthong_import::export::{ExportFormat, ExportOptions, export_records};
    use lienthong_records::RecordKind;
    for database in TestDatabase::each_backend().await {
        let backend = database.backend;
        let store = database.open_store(NODE).await;
        lienthong_tests::load(&store, lienthong_tests::sample_records(NODE, 60)).await;
        let dir = tempfile::tempdir().expect("tempdir");
        for kind in RecordKind::ALL {
            for format in [ExportFormat::Csv, ExportFormat::Xlsx] {
                let path = dir.path().join(format!(
                    "{kind}.{}",
                    if format == ExportFormat::Csv {
                        "csv"
                    } else {
                        "xlsx"
                    }
                ));
                let options = ExportOptions {
                    kind,
                    format,
                    include_contact: true,
                    include_classified: true,
                };
                let file = std::fs::File::create(&path).expect("create");
                let exported = export_records(&store, &options, file, |_| {})
                    .await
                    .expect("export");
                assert!(exported.records > 0, "{backend:?} {kind}");
                let seq = store.last_change_seq().await.expect("seq");
                let (summary, report) = import_path(&store, &path, kind).await;
                assert_eq!(
                    (summary.unchanged, summary.rejected, summary.inserted),
                    (exported.records, 0, 0),
                    "{backend:?} {kind} {format:?}: {report}"
                );
                assert_eq!(store.last_change_seq().await.expect("seq"), seq);
            }
        }

        // One name corrected in the sheet: that record, and only it, changes.
        let path = dir.path().join("expert.csv");
        let text = std::fs::read_to_string(&path).expect("export");
        let second = text.lines().nth(2).expect("a second expert");
        let id = second.split(',').next().expect("id").to_owned();
        let old_name = second.split(',').nth(1).expect("name").to_owned();
        let edited = text.replacen(second, &second.replacen(&old_name, "Đào Duy Anh", 1), 1);
        std::fs::write(&path, edited).expect("edit");
        let (summary, report) = import_path(&store, &path, RecordKind::Expert).await;
        assert_eq!((summary.updated, summary.inserted), (1, 0), "{report}");
        let AnyRecord::Expert(expert) = store.get(&id).await.expect("get").expect("live").record
        else {
            panic!("an expert");
        };
        assert_eq!(expert.full_name, "Đào Duy Anh", "{backend:?}");

        // A row naming another node's record is refused, not written there.
        std::fs::write(
            &path,
            "Mã hồ sơ,Họ và tên,Năm sinh\nnam-dinh:expert:E1,Trần Văn Bình,1970\n",
        )
        .expect("write");
        let (summary, report) = import_path(&store, &path, RecordKind::Expert).await;
        assert_eq!(summary.rejected, 1, "{report}");
        assert!(
            report.contains("does not name a record of kind expert on this node"),
            "{report}"
        );
        // Nor may a row claim an id of this node that no record has.
        std::fs::write(
            &path,
            "Mã hồ sơ,Họ và tên,Năm sinh\nhung-yen:expert:x00000000deadbeef,Trần Văn Bình,1970\n",
        )
        .expect("write");
        let (summary, report) = import_path(&store, &path, RecordKind::Expert).await;
        assert_eq!((summary.rejected, summary.inserted), (1, 0), "{report}");
        assert!(report.contains("leave the cell empty"), "{report}");
        store.close().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_person_repeated_in_a_later_sheet_of_one_workbook_is_reported_not_merged() {
    let database = TestDatabase::sqlite();
    let store = database.open_store(NODE).await;
    // One import of two sheets shares what the first sheet gave.
    let options = options(false);
    let mut report = ReportWriter::new(Vec::new(), ReportFormat::Csv, false).expect("report");
    for (sheet, text) in [
        (
            "Viện",
            "Họ và tên,Năm sinh,Đơn vị công tác\nNguyễn Văn An,1970,Viện A\n",
        ),
        (
            "Trường",
            "Họ và tên,Năm sinh,Đơn vị công tác\nTrần Thị Bình,1980,Trường B\nNGUYỄN VĂN AN,1970,Viện A\n",
        ),
    ] {
        report.set_sheet(Some(sheet.into()));
        let rows = CsvRows::open(std::io::Cursor::new(text.as_bytes().to_vec())).expect("rows");
        import_experts(&store, rows, &options, &mut report)
            .await
            .expect("import");
    }
    let report = String::from_utf8(report.finish().expect("finish")).expect("utf-8");
    assert!(
        report.contains("Trường!3,rejected,,,,,,,\"the same person as Viện!2 "),
        "{report}"
    );
    assert_eq!(experts(&store).await.len(), 2, "{report}");

    // A row the store refuses is no first occurrence: the same person,
    // written correctly in a later sheet, is imported.
    let mut report = ReportWriter::new(Vec::new(), ReportFormat::Csv, false).expect("report");
    let options = self::options(false);
    for (sheet, specialization) in [("Cũ", "Hoá\u{1}học"), ("Mới", "Hoá học")] {
        report.set_sheet(Some(sheet.into()));
        let text = format!(
            "Họ và tên,Năm sinh,Đơn vị công tác,Chuyên ngành\nLê Thị Cúc,1975,Viện C,{specialization}\n"
        );
        let rows = CsvRows::open(std::io::Cursor::new(text.into_bytes())).expect("rows");
        import_experts(&store, rows, &options, &mut report)
            .await
            .expect("import");
    }
    let report = String::from_utf8(report.finish().expect("finish")).expect("utf-8");
    assert!(report.contains("Cũ!2,rejected"), "{report}");
    assert!(report.contains("Mới!2,accepted"), "{report}");
    assert_eq!(experts(&store).await.len(), 3, "{report}");
    store.close().await;
}
