//! `lienthong sync run` killed with SIGKILL at random points during a first
//! sync, over mutual TLS against a real node, and restarted: every change is
//! applied exactly once in the end (the applied count equals the records
//! shared), and the mirror holds exactly the origin's shared records at
//! their versions.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use lienthong_proto::v1 as pb;
use lienthong_records::{AnyRecord, RecordKind};
use lienthong_store::{IndexLocation, Store, StoreOptions};
use lienthong_tests::secure::{SecureNode, TestPki};
use lienthong_tests::{TestDatabase, federation_meta, load};

mod common;

use common::{assert_success, lienthong, run, text};

const ORIGIN_POLICY: &str = r#"
[[grant]]
peers = ["node:hung-yen"]
rpcs = ["info", "changes"]
kinds = ["project"]
"#;

fn project(n: usize) -> AnyRecord {
    let mut meta = federation_meta(&format!("nam-dinh:project:P{n}"));
    if n.is_multiple_of(10) {
        meta.visibility = pb::Visibility::Internal as i32;
    }
    AnyRecord::Project(pb::Project {
        meta: Some(meta),
        code: format!("ĐT.{n}/2024"),
        title: format!("Nghiên cứu chọn tạo giống lúa chịu mặn số {n} cho vùng ven biển Nam Định"),
        summary:
            "Đề tài nghiên cứu, đánh giá và tuyển chọn giống lúa thích ứng với biến đổi khí hậu. "
                .repeat(2),
        status: pb::ProjectStatus::Completed as i32,
        ..Default::default()
    })
}

/// Enough records, in small calls, that a sync outlasts 20 kills.
const RECORDS: usize = 20_000;
const KILLS: usize = 20;

async fn shared_versions(origin: &Store) -> BTreeMap<String, u64> {
    let mut shared = BTreeMap::new();
    let mut after = 0;
    loop {
        let (records, last) = origin
            .scan(RecordKind::Project, after, 1000)
            .await
            .expect("scan");
        for record in records {
            let meta = record.meta().expect("meta");
            if meta.visibility == pb::Visibility::Federation as i32 {
                shared.insert(meta.id.clone(), meta.version);
            }
        }
        if last == after {
            return shared;
        }
        after = last;
    }
}

/// A pseudo-random number from the clock (no extra dependency needed).
fn random_below(limit: u64) -> u64 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    u64::from(nanos.wrapping_mul(2_654_435_761)) % limit
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sync_killed_at_random_points_loses_and_repeats_nothing() {
    let pki = TestPki::new();
    let origin_db = TestDatabase::sqlite();
    let origin = SecureNode::start(&pki, "nam-dinh", &origin_db, ORIGIN_POLICY).await;
    load(&origin.store, (0..RECORDS).map(project).collect()).await;
    let want = shared_versions(&origin.store).await;
    assert_eq!(want.len(), RECORDS * 9 / 10);

    let dir = tempfile::tempdir().expect("tempdir");
    let (tls, _) = pki.issue("node:hung-yen");
    let database_url = format!("sqlite://{}", dir.path().join("hung-yen.db").display());
    let config: PathBuf = dir.path().join("hung-yen.toml");
    std::fs::write(
        &config,
        format!(
            "[node]\nid = \"hung-yen\"\ndisplay_name = \"Sở KH&CN Hưng Yên\"\n\
             [database]\nurl = \"{database_url}\"\n{}\
             [[follow]]\npeer = \"nam-dinh\"\nendpoint = \"{}\"\n\
             [sync]\nchanges_per_call = 25\n",
            tls.to_toml(),
            origin.url()
        ),
    )
    .expect("write the config");

    let mut killed_mid_sync = 0;
    let mut finished = false;
    while killed_mid_sync < KILLS && !finished {
        let mut child = lienthong()
            .args(["sync", "run", "--config"])
            .arg(&config)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start lienthong sync run");
        tokio::time::sleep(Duration::from_millis(100 + random_below(400))).await;
        if child.try_wait().expect("poll").is_none() {
            child.kill().expect("SIGKILL");
            killed_mid_sync += 1;
        } else {
            finished = true;
        }
        let output = child.wait_with_output().expect("wait");
        if output.status.code() == Some(1) {
            panic!("sync run failed: {}", text(&output.stderr));
        }
    }
    let output = run({
        let mut command = lienthong();
        command
            .args(["sync", "run", "--json", "--config"])
            .arg(&config);
        command
    })
    .await;
    assert_success(&output, "the last sync run");

    let follower = Store::open(&StoreOptions {
        url: database_url,
        node_id: "hung-yen".into(),
        max_connections: 2,
        search_index: IndexLocation::Memory,
    })
    .await
    .expect("open the follower's store");
    let mirrored: BTreeMap<String, u64> = follower
        .mirrored_versions("nam-dinh", RecordKind::Project)
        .await
        .expect("mirrors")
        .into_iter()
        .collect();
    assert_eq!(mirrored.len(), want.len(), "{killed_mid_sync} kills");
    assert!(mirrored == want, "the mirror differs from the origin");
    let status = follower.peer_sync("nam-dinh").await.expect("status");
    assert_eq!(
        status.applied,
        want.len() as u64,
        "every change applied exactly once over {killed_mid_sync} kills"
    );
    assert_eq!(
        killed_mid_sync, KILLS,
        "the sync finished after {killed_mid_sync} kills; the test proves little with fewer"
    );

    // The mirror goes wrong behind the subscriber's back: rows lost, one set
    // back, one the origin never had. The next run's catalog comparison
    // finds the ranges that differ and repairs them.
    for statement in [
        "DELETE FROM mirrors WHERE id IN ('nam-dinh:project:P1', 'nam-dinh:project:P777', 'nam-dinh:project:P15001')",
        "UPDATE mirrors SET version = 0 WHERE id = 'nam-dinh:project:P9999'",
        "INSERT INTO mirrors (id, origin, kind, version, public, changed_at, received_at, generation, seq, doc, body) \
         SELECT 'nam-dinh:project:GHOST', origin, kind, version, public, changed_at, received_at, generation, seq, \
         (SELECT MAX(doc) + 1000000 FROM mirrors), body FROM mirrors LIMIT 1",
    ] {
        sqlx::query(statement)
            .execute(follower.pool())
            .await
            .expect("tamper with the mirror");
    }
    follower.close().await;
    let output = run({
        let mut command = lienthong();
        command
            .args(["sync", "run", "--json", "--config"])
            .arg(&config);
        command
    })
    .await;
    assert_success(&output, "the repairing sync run");
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON report");
    let verify = &report[0]["verify"];
    assert!(verify["ranges_differing"].as_u64() > Some(0), "{report}");
    assert_eq!(verify["repaired"].as_u64(), Some(4), "{report}");
    assert_eq!(verify["removed"].as_u64(), Some(1), "{report}");
    let follower = Store::open(&StoreOptions {
        url: format!("sqlite://{}", dir.path().join("hung-yen.db").display()),
        node_id: "hung-yen".into(),
        max_connections: 2,
        search_index: IndexLocation::Memory,
    })
    .await
    .expect("open the follower's store");
    let repaired: BTreeMap<String, u64> = follower
        .mirrored_versions("nam-dinh", RecordKind::Project)
        .await
        .expect("mirrors")
        .into_iter()
        .collect();
    assert!(
        repaired == want,
        "the repaired mirror differs from the origin"
    );
    follower.close().await;

    let status = run({
        let mut command = lienthong();
        command.args(["sync", "status", "--config"]).arg(&config);
        command
    })
    .await;
    assert_success(&status, "sync status");
    let table = text(&status.stdout);
    assert!(
        table.contains("nam-dinh") && table.contains(&want.len().to_string()),
        "{table}"
    );
}
