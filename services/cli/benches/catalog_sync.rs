//! Full sync of a province's completed-task catalog to another node, over
//! mutual TLS: the origin is a real node (in this process), the follower is
//! `lienthong sync run` (its own process, whose peak RSS is sampled).
//!
//! ```sh
//! cargo bench -p lienthong --bench catalog_sync -- --records 200000 --logical-replication
//! ```
//!
//! `--backend sqlite|postgres` runs one backend; `--follower-connections N`
//! sizes the follower's connection pool (default 8, as a node's). The peak
//! anonymous memory is the largest of samples taken every 25 ms.
//!
//! Prints, per backend: loading the origin, the sync (records/s), the
//! catalog comparison that follows it, the follower's peak RSS and peak
//! anonymous memory (its own, apart from mapped index files), and checks that
//! the mirrors are searchable when `sync run` ends. The logical replication
//! baseline is `tests/benches/logical_replication.sh`.

use std::path::Path;
use std::time::{Duration, Instant};

use lienthong_records::{AnyRecord, RecordKind};
use lienthong_store::Backend;
use lienthong_store::{IndexLocation, MirrorScope, SearchRequest, Store, StoreOptions};
use lienthong_tests::secure::{SecureNode, TestPki};
use lienthong_tests::{TestDatabase, bench_argument, bench_backends, bulk_task};

const ORIGIN_POLICY: &str = r#"
[[grant]]
peers = ["node:hung-yen"]
rpcs = ["changes"]
kinds = ["project"]
"#;

/// The change-log number the search index's last commit includes, from its
/// `meta.json` payload ("lienthong-search format=N node=ID seq=N").
fn indexed_seq(index: &Path) -> Option<i64> {
    let meta: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(index.join("meta.json")).ok()?).ok()?;
    meta["payload"]
        .as_str()?
        .split(' ')
        .find_map(|part| part.strip_prefix("seq="))?
        .parse()
        .ok()
}

/// A field of a running process's `/proc/PID/status`, in KiB: `VmHWM`
/// (peak RSS) or `RssAnon` (its own memory now, apart from mapped files such
/// as the search index's segments, which the kernel can drop).
fn status_kib(pid: u32, field: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|line| line.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
}

async fn one_run(backend: Backend, records: usize, connections: u32, pki: &TestPki, dir: &Path) {
    let origin_db = TestDatabase::of(backend).await;
    let origin = SecureNode::start(pki, "nam-dinh", &origin_db, ORIGIN_POLICY).await;
    let loading = Instant::now();
    let mut bytes = 0usize;
    for start in (0..records).step_by(5_000) {
        let batch: Vec<AnyRecord> = (start..(start + 5_000).min(records))
            .map(|n| bulk_task("nam-dinh", n))
            .collect();
        bytes += batch
            .iter()
            .map(|record| record.encode().len())
            .sum::<usize>();
        let report = origin.store.upsert(batch).await.expect("load the origin");
        assert!(report.rejected.is_empty(), "{:?}", report.rejected);
    }
    let loaded_in = loading.elapsed();

    let follower_db = TestDatabase::of(backend).await;
    let (tls, _) = pki.issue("node:hung-yen");
    let index = dir.join(format!("{backend:?}-follower.index"));
    let config = dir.join(format!("{backend:?}-follower.toml"));
    std::fs::write(
        &config,
        format!(
            "[node]\nid = \"hung-yen\"\ndisplay_name = \"Sở KH&CN Hưng Yên\"\n\
             [database]\nurl = \"{}\"\nmax_connections = {connections}\n[search]\nindex_dir = \"{}\"\n{}\
             [[follow]]\npeer = \"nam-dinh\"\nendpoint = \"{}\"\n",
            follower_db.url,
            index.display(),
            tls.to_toml(),
            origin.url()
        ),
    )
    .expect("write the follower's config");

    let started = Instant::now();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_lienthong"))
        .args(["sync", "run", "--json", "--config"])
        .arg(&config)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("start lienthong sync run");
    let pid = child.id();
    let (mut peak, mut peak_anon) = (0, 0);
    let output = loop {
        if let Some(rss) = status_kib(pid, "VmHWM") {
            peak = peak.max(rss);
        }
        if let Some(anon) = status_kib(pid, "RssAnon") {
            peak_anon = peak_anon.max(anon);
        }
        if child.try_wait().expect("poll").is_some() {
            break child.wait_with_output().expect("output");
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    };
    let wall = started.elapsed();
    assert!(
        output.status.success(),
        "sync run failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON");
    let sync_seconds = report[0]["sync_seconds"].as_f64().expect("sync_seconds");
    let verify_seconds = report[0]["verify_seconds"]
        .as_f64()
        .expect("verify_seconds");
    let applied = report[0]["sync"]["applied"].as_u64().expect("applied");
    assert_eq!(applied as usize, records, "{report}");

    // The mirrors are searchable as `sync run` leaves them: its last index
    // commit includes the last change (read before opening the store, which
    // would catch the index up itself).
    let indexed = indexed_seq(&index);
    let follower = Store::open(&StoreOptions {
        url: follower_db.url.clone(),
        node_id: "hung-yen".into(),
        max_connections: 2,
        search_index: IndexLocation::Directory(index.clone()),
    })
    .await
    .expect("open the follower");
    let last_change = follower.last_change_seq().await.expect("last change") as i64;
    assert_eq!(
        indexed,
        Some(last_change),
        "sync run returned before indexing every change"
    );
    let last = records - 1;
    let page = follower
        .search(&SearchRequest {
            kind: Some(RecordKind::Project),
            query: format!("T{last}"),
            page_size: 5,
            caller: "bench".into(),
            mirrors: MirrorScope::All,
            ..Default::default()
        })
        .await
        .expect("search the mirrors");
    assert!(
        page.hits
            .iter()
            .any(|hit| hit.record.id() == format!("nam-dinh:project:P{last}")),
        "the last task mirrored is not searchable"
    );
    follower.close().await;
    println!(
        "| {backend:?} → {backend:?} | {records} | {:.0} B | {:.1} s | {:.1} s | **{:.0}** | {:.1} s | {:.1} s | {} MiB | {} MiB |",
        bytes as f64 / records as f64,
        loaded_in.as_secs_f64(),
        sync_seconds,
        records as f64 / sync_seconds,
        verify_seconds,
        wall.as_secs_f64(),
        peak / 1024,
        peak_anon / 1024
    );
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let records: usize =
        bench_argument("--records").map_or(200_000, |n| n.parse().expect("--records N"));
    // The follower's database connections (the node's default is 8).
    let connections: u32 = bench_argument("--follower-connections")
        .map_or(8, |n| n.parse().expect("--follower-connections N"));
    let backends = bench_backends();
    let pki = TestPki::new();
    let dir = tempfile::tempdir().expect("tempdir");
    println!(
        "| origin → follower | tasks | size (protobuf) | load origin | sync | tasks/s | compare catalogs | sync run wall | follower peak RSS | follower peak RssAnon |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|");
    for backend in backends {
        one_run(backend, records, connections, &pki, dir.path()).await;
    }
    if std::env::args().any(|arg| arg == "--logical-replication") {
        let script = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../tests/benches/logical_replication.sh"
        );
        let output = std::process::Command::new(script)
            .arg(records.to_string())
            .output()
            .expect("run the logical replication baseline");
        print!("{}", String::from_utf8_lossy(&output.stdout));
        if !output.status.success() {
            eprintln!("{}", String::from_utf8_lossy(&output.stderr));
        }
    }
}
