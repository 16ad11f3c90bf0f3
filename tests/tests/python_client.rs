//! The Python ingest client (`clients/python`) against a real node over
//! mutual TLS: a management system's table pushed with expected versions,
//! pushed again without writing, a conflict with another writer reported and
//! left for the operator, a deletion carried over.
//!
//! Runs with the Python of `LIENTHONG_INGEST_PYTHON` (CI's venv) or
//! `python3`, when it has grpcio and grpcio-tools; otherwise skipped with a
//! notice, unless `LIENTHONG_REQUIRE_GRPCIO` is set.

use std::path::{Path, PathBuf};
use std::process::Command;

use lienthong_proto::v1 as pb;
use lienthong_proto::v1::ingest_client::IngestClient;
use lienthong_records::AnyRecord;
use lienthong_runtime::tls::TlsFiles;
use lienthong_tests::secure::{SecureNode, TestPki, connect};
use lienthong_tests::{TestDatabase, hung_yen_expert, hung_yen_expert_id};

const POLICY: &str = r#"
[[grant]]
peers = ["system:erp", "system:portal"]
rpcs = ["ingest"]
kinds = ["expert"]
"#;

fn python() -> Option<String> {
    let python = std::env::var("LIENTHONG_INGEST_PYTHON").unwrap_or_else(|_| "python3".into());
    let ready = Command::new(&python)
        .args(["-c", "import grpc, grpc_tools"])
        .output()
        .is_ok_and(|output| output.status.success());
    if ready {
        return Some(python);
    }
    assert!(
        std::env::var_os("LIENTHONG_REQUIRE_GRPCIO").is_none(),
        "LIENTHONG_REQUIRE_GRPCIO is set but {python} cannot import grpc and grpc_tools"
    );
    eprintln!("notice: grpcio (Python) not installed; the Python client test is skipped");
    None
}

fn clients_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../clients/python")
}

/// Runs SQL on the management system's database, with Python's sqlite3.
fn management_sql(python: &str, database: &Path, sql: &str) {
    let status = Command::new(python)
        .args([
            "-c",
            "import sqlite3, sys; db = sqlite3.connect(sys.argv[1]); \
             db.executescript(sys.argv[2]); db.commit()",
        ])
        .arg(database)
        .arg(sql)
        .status()
        .expect("run python");
    assert!(status.success(), "management database: {sql}");
}

fn management_rows(python: &str, database: &Path) -> Vec<(String, i64, i64)> {
    let output = Command::new(python)
        .args([
            "-c",
            "import json, sqlite3, sys; db = sqlite3.connect(sys.argv[1]); \
             print(json.dumps(db.execute('SELECT ma, phien_ban_nut, can_dong_bo \
             FROM chuyen_gia ORDER BY ma').fetchall()))",
        ])
        .arg(database)
        .output()
        .expect("run python");
    serde_json::from_slice(&output.stdout).expect("rows as JSON")
}

struct Sync {
    python: String,
    node: String,
    files: TlsFiles,
    database: PathBuf,
    cache: PathBuf,
}

impl Sync {
    /// Runs `sync_experts.py`; its exit code and JSON summary.
    async fn run(&self) -> (i32, serde_json::Value) {
        let mut command = Command::new(&self.python);
        command
            .arg(clients_dir().join("sync_experts.py"))
            .args(["--target", &self.node])
            .arg("--ca")
            .arg(&self.files.ca_bundle)
            .arg("--cert")
            .arg(&self.files.certificate)
            .arg("--key")
            .arg(&self.files.private_key)
            .args(["--node", "hung-yen", "--server-name", "localhost"])
            .arg("--database")
            .arg(&self.database)
            .env("XDG_CACHE_HOME", &self.cache);
        let output = tokio::task::spawn_blocking(move || command.output())
            .await
            .expect("the client's thread")
            .expect("run the Python client");
        let stdout = String::from_utf8_lossy(&output.stdout);
        let summary = serde_json::from_str(stdout.trim()).unwrap_or_else(|_| {
            panic!(
                "no JSON summary: {stdout}\n{}",
                String::from_utf8_lossy(&output.stderr)
            )
        });
        (output.status.code().unwrap_or(-1), summary)
    }
}

async fn name_at_node(node: &SecureNode, local: &str) -> Option<String> {
    match node
        .store
        .get(&hung_yen_expert_id(local))
        .await
        .expect("read")?
        .record
    {
        AnyRecord::Expert(expert) => Some(expert.full_name),
        _ => None,
    }
}

#[tokio::test]
async fn a_management_system_keeps_its_node_current_through_the_python_client() {
    let Some(python) = python() else { return };
    let pki = TestPki::new();
    let database = TestDatabase::sqlite();
    let node = SecureNode::start(&pki, "hung-yen", &database, POLICY).await;
    let (files, _) = pki.issue("system:erp");
    let work = tempfile::tempdir().expect("temporary directory");
    let sync = Sync {
        python: python.clone(),
        node: node.grpc_addr.to_string(),
        files,
        database: work.path().join("erp.sqlite3"),
        cache: work.path().join("cache"),
    };
    management_sql(
        &python,
        &sync.database,
        "CREATE TABLE chuyen_gia (ma TEXT PRIMARY KEY, ho_ten TEXT NOT NULL, hoc_vi TEXT, \
           don_vi TEXT, email TEXT, chia_se INTEGER NOT NULL DEFAULT 1, \
           da_xoa INTEGER NOT NULL DEFAULT 0, phien_ban_nut INTEGER NOT NULL DEFAULT 0, \
           phien_ban_ht INTEGER NOT NULL DEFAULT 1, can_dong_bo INTEGER NOT NULL DEFAULT 1);
         INSERT INTO chuyen_gia (ma, ho_ten, hoc_vi, don_vi, email, chia_se) VALUES
           ('E1', 'Nguyễn Văn An', 'TS.', 'Viện Lúa', 'an@vienlua.vn', 1),
           ('E2', 'Trần Thị Bình', 'ThS', 'Sở KH&CN Hưng Yên', NULL, 0),
           ('E3', 'Lê Đức Cường', NULL, NULL, NULL, 1);
         INSERT INTO chuyen_gia (ma, ho_ten, da_xoa) VALUES ('E4', 'Bỏ đi', 1);",
    );

    let (code, summary) = sync.run().await;
    assert_eq!(code, 0, "{summary}");
    assert_eq!(summary["created"], 3, "{summary}");
    assert_eq!(
        name_at_node(&node, "E1").await.as_deref(),
        Some("Nguyễn Văn An")
    );
    assert_eq!(name_at_node(&node, "E4").await, None);
    assert_eq!(
        management_rows(&python, &sync.database),
        [
            ("E1".to_owned(), 1, 0),
            ("E2".to_owned(), 1, 0),
            ("E3".to_owned(), 1, 0),
            ("E4".to_owned(), 0, 0)
        ]
    );
    match node
        .store
        .get(&hung_yen_expert_id("E1"))
        .await
        .expect("read")
    {
        Some(stored) => match stored.record {
            AnyRecord::Expert(expert) => {
                assert_eq!(expert.degree(), pb::Degree::Doctor);
                assert_eq!(expert.contact.expect("contact").email, "an@vienlua.vn");
            }
            other => panic!("{other:?}"),
        },
        None => panic!("E1 not stored"),
    }

    // Nothing changed: nothing is sent, nothing moves.
    let seq = node.store.last_change_seq().await.expect("seq");
    let (code, summary) = sync.run().await;
    assert_eq!(
        (code, &summary["created"], &summary["updated"]),
        (0, &0.into(), &0.into())
    );
    assert_eq!(node.store.last_change_seq().await.expect("seq"), seq);

    // Someone else changes E2 at the node; the system changes E1 and E2.
    let (portal, _) = pki.issue("system:portal");
    let mut other = IngestClient::new(connect(&node.url(), Some(&portal)).await.expect("connect"));
    let mut changed = hung_yen_expert("E2", "Trần Thị Bình (cổng)");
    changed.meta.as_mut().expect("meta").visibility = pb::Visibility::Internal as i32;
    other
        .upsert(pb::UpsertRequest {
            items: vec![pb::UpsertItem {
                record: Some(AnyRecord::Expert(changed).into()),
                expected_version: Some(1),
            }],
            ..Default::default()
        })
        .await
        .expect("the other writer");
    management_sql(
        &python,
        &sync.database,
        "UPDATE chuyen_gia SET ho_ten = 'Nguyễn Văn Ân', can_dong_bo = 1, \
           phien_ban_ht = phien_ban_ht + 1 WHERE ma = 'E1';
         UPDATE chuyen_gia SET ho_ten = 'Trần Thị Bính', can_dong_bo = 1, \
           phien_ban_ht = phien_ban_ht + 1 WHERE ma = 'E2';",
    );
    let (code, summary) = sync.run().await;
    assert_eq!(code, 3, "{summary}");
    assert_eq!(summary["updated"], 1, "{summary}");
    assert_eq!(
        summary["conflicts"],
        serde_json::json!([{"id": hung_yen_expert_id("E2"), "current_version": 2}])
    );
    assert_eq!(
        name_at_node(&node, "E1").await.as_deref(),
        Some("Nguyễn Văn Ân")
    );
    assert_eq!(
        name_at_node(&node, "E2").await.as_deref(),
        Some("Trần Thị Bình (cổng)"),
        "the conflicting write must not overwrite the other writer's"
    );
    let rows = management_rows(&python, &sync.database);
    assert_eq!(rows[0], ("E1".to_owned(), 2, 0));
    assert_eq!(
        rows[1],
        ("E2".to_owned(), 1, 1),
        "a refused row stays to push"
    );

    // A deletion in the system is a deletion at the node.
    management_sql(
        &python,
        &sync.database,
        "UPDATE chuyen_gia SET da_xoa = 1, can_dong_bo = 1 WHERE ma = 'E3';",
    );
    let (_, summary) = sync.run().await;
    assert_eq!(summary["deleted"], 1, "{summary}");
    assert_eq!(name_at_node(&node, "E3").await, None);

    // A push cut short after the node deleted it: sending the deletion
    // again finds it done, and the row is settled.
    management_sql(
        &python,
        &sync.database,
        "UPDATE chuyen_gia SET can_dong_bo = 1 WHERE ma = 'E3';",
    );
    let (_, summary) = sync.run().await;
    assert_eq!(summary["deleted"], 1, "{summary}");
    let rows = management_rows(&python, &sync.database);
    assert_eq!(rows[2].2, 0, "the deleted row is settled: {rows:?}");
}
