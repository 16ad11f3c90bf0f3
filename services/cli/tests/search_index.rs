//! The search index as a derived structure, with the real binary killed
//! with SIGKILL at exact points: between a database commit and the index
//! commit that follows it, and in the middle of `lienthong reindex`; and a
//! node that finds its index deleted or damaged on start.
//!
//! "Answers as if it had not been killed" is checked against the same
//! database indexed from scratch in memory: same hits, same order, same
//! ranks.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use lienthong_records::RecordKind;
use lienthong_sample::{ProvinceProfile, SampleGenerator, SampleSpec};
use lienthong_store::{IndexLocation, SearchRequest, Store, StoreOptions};

mod common;

use common::{assert_success, lienthong, run, text};

const NODE: &str = "hung-yen";

struct Node {
    dir: tempfile::TempDir,
    config: PathBuf,
}

impl Node {
    fn new() -> Node {
        let dir = tempfile::tempdir().expect("tempdir");
        let config = dir.path().join("node.toml");
        std::fs::write(
            &config,
            format!(
                "[node]\nid = \"{NODE}\"\ndisplay_name = \"Sở KH&CN Hưng Yên\"\n\
                 [database]\nurl = \"sqlite://{}\"\nmax_connections = 4\n\
                 [grpc]\nlisten = \"127.0.0.1:0\"\n\
                 [admin]\nlisten = \"127.0.0.1:0\"\n",
                dir.path().join("node.db").display()
            ),
        )
        .expect("write the config");
        Node { dir, config }
    }

    fn database_url(&self) -> String {
        format!("sqlite://{}", self.dir.path().join("node.db").display())
    }

    /// Where the node keeps its index by default: beside the database.
    fn index_dir(&self) -> PathBuf {
        self.dir.path().join("node.index")
    }

    /// A JSON-lines file of about `experts` × 2 sample records.
    fn records_file(&self, experts: u64) -> PathBuf {
        let file = self.dir.path().join("records.jsonl");
        let mut out = std::io::BufWriter::new(std::fs::File::create(&file).expect("create"));
        let spec = SampleSpec::sized(ProvinceProfile::hung_yen(), experts);
        for record in SampleGenerator::new(spec).records() {
            serde_json::to_writer(&mut out, &record).expect("serialize");
            out.write_all(b"\n").expect("write");
        }
        out.flush().expect("flush");
        file
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut command = lienthong();
        command.args(args).arg("--config").arg(&self.config);
        command
    }

    fn load(&self, file: &Path) -> Command {
        let mut command = lienthong();
        command
            .args(["records", "load"])
            .arg(file)
            .arg("--config")
            .arg(&self.config);
        command
    }

    async fn open(&self, search_index: IndexLocation) -> Store {
        Store::open(&StoreOptions {
            url: self.database_url(),
            node_id: NODE.into(),
            max_connections: 2,
            search_index,
        })
        .await
        .expect("open the store")
    }
}

/// Runs `command` with fault point `fault` armed, waits until the process
/// reports it has reached it, and kills it there with SIGKILL.
async fn kill_at_fault_point(mut command: Command, fault: &str) {
    let fault = fault.to_owned();
    tokio::task::spawn_blocking(move || {
        command
            .env("LIENTHONG_FAULT", &fault)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        let mut child = command.spawn().expect("start lienthong");
        let stderr = child.stderr.take().expect("stderr");
        let marker = format!("fault point {fault} reached");
        let mut seen = Vec::new();
        let reached = BufReader::new(stderr)
            .lines()
            .map_while(Result::ok)
            .any(|line| {
                seen.push(line.clone());
                line.contains(&marker)
            });
        child.kill().expect("SIGKILL");
        let status = child.wait().expect("wait");
        assert!(reached, "the process never reached {fault}: {seen:#?}");
        assert!(!status.success(), "killed: {status}");
    })
    .await
    .expect("blocking task");
}

/// The change-log sequence number the index's last commit includes, read
/// from its `meta.json`; `None` when there is no commit yet.
fn committed_seq(index: &Path) -> Option<u64> {
    let meta = std::fs::read_to_string(index.join("meta.json")).ok()?;
    let meta: serde_json::Value = serde_json::from_str(&meta).expect("meta.json is JSON");
    let payload = meta.get("payload")?.as_str()?;
    payload
        .split(' ')
        .find_map(|part| part.strip_prefix("seq="))
        .and_then(|seq| seq.parse().ok())
}

const QUERIES: [(RecordKind, &str); 6] = [
    (RecordKind::Expert, "nguyễn"),
    (RecordKind::Expert, "nguyen thi"),
    (RecordKind::Expert, "tran van hia"),
    (RecordKind::Project, "lúa"),
    (RecordKind::Publication, "nghien cuu"),
    (RecordKind::Organization, "vien"),
];

/// Every query's first page as (id, tier, score).
async fn answers(store: &Store) -> Vec<Vec<(String, String, f64)>> {
    let mut all = Vec::new();
    for (kind, query) in QUERIES {
        let page = store
            .search(&SearchRequest {
                kind: Some(kind),
                query: query.into(),
                page_size: 100,
                ..Default::default()
            })
            .await
            .expect("search");
        all.push(
            page.hits
                .iter()
                .map(|hit| {
                    (
                        hit.record.id().to_owned(),
                        format!("{:?}", hit.rank.tier),
                        hit.rank.score,
                    )
                })
                .collect(),
        );
    }
    all
}

/// The answers of the database indexed from scratch.
async fn reference_answers(node: &Node) -> Vec<Vec<(String, String, f64)>> {
    let store = node.open(IndexLocation::Memory).await;
    let answers = answers(&store).await;
    store.close().await;
    assert!(
        answers.iter().filter(|hits| !hits.is_empty()).count() >= 4,
        "the queries must find something to compare: {answers:?}"
    );
    answers
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_process_killed_between_the_database_commit_and_the_index_commit_answers_as_if_it_had_not_been()
 {
    let node = Node::new();
    let file = node.records_file(300);
    kill_at_fault_point(node.load(&file), "after-database-commit").await;

    // The batch is in the database, and the index does not include it.
    let database = Store::open_database(&StoreOptions {
        url: node.database_url(),
        node_id: NODE.into(),
        max_connections: 1,
        search_index: IndexLocation::Memory,
    })
    .await
    .expect("open the database");
    let last_seq = database.last_change_seq().await.expect("seq");
    database.close().await;
    assert!(last_seq > 0, "the batch was committed before the kill");
    assert!(
        committed_seq(&node.index_dir()).unwrap_or(0) < last_seq,
        "the kill came before the index commit"
    );

    // Restarting replays the change log from the index's last commit.
    let expected = reference_answers(&node).await;
    let store = node.open(IndexLocation::Directory(node.index_dir())).await;
    assert_eq!(answers(&store).await, expected);
    assert_eq!(store.indexed_change_seq().await, Some(last_seq));
    store.close().await;
    assert_eq!(committed_seq(&node.index_dir()), Some(last_seq));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reindex_killed_midway_leaves_the_old_index_and_a_rerun_replaces_it() {
    let node = Node::new();
    let file = node.records_file(300);
    assert_success(&run(node.load(&file)).await, "records load");
    let expected = reference_answers(&node).await;
    let committed = committed_seq(&node.index_dir()).expect("the load committed the index");

    kill_at_fault_point(node.command(&["reindex"]), "reindex-mid-build").await;
    assert_eq!(
        committed_seq(&node.index_dir()),
        Some(committed),
        "the old index is untouched"
    );
    let store = node.open(IndexLocation::Directory(node.index_dir())).await;
    assert_eq!(
        answers(&store).await,
        expected,
        "the old index still answers"
    );

    // While a process holds the index, reindex refuses and changes nothing.
    let output = run(node.command(&["reindex"])).await;
    assert!(!output.status.success());
    assert!(
        text(&output.stderr).contains("stop the node"),
        "{}",
        text(&output.stderr)
    );
    store.close().await;
    drop(store);

    let output = run(node.command(&["reindex", "--json"])).await;
    assert_success(&output, "reindex");
    let report: serde_json::Value =
        serde_json::from_slice(&output.stdout).expect("reindex --json prints JSON");
    assert!(
        report["indexed"].as_u64().is_some_and(|n| n > 0),
        "{report}"
    );
    let leftovers: Vec<String> = std::fs::read_dir(node.dir.path())
        .expect("list")
        .filter_map(Result::ok)
        .map(|entry| entry.file_name().to_string_lossy().into_owned())
        .filter(|name| name.contains(".index."))
        .collect();
    assert!(
        leftovers.is_empty(),
        "staging directories left: {leftovers:?}"
    );
    let store = node.open(IndexLocation::Directory(node.index_dir())).await;
    assert_eq!(
        answers(&store).await,
        expected,
        "the rebuilt index answers the same"
    );
    store.close().await;
}

/// Starts the node binary and returns its log once it serves (or exits).
async fn start_node_and_read_log(node: &Node) -> String {
    let mut command = node.command(&["node", "--insecure-plaintext"]);
    command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    tokio::task::spawn_blocking(move || {
        let mut child = command.spawn().expect("start the node");
        let (tx, rx) = std::sync::mpsc::channel::<String>();
        for stream in [
            Box::new(child.stdout.take().expect("stdout")) as Box<dyn std::io::Read + Send>,
            Box::new(child.stderr.take().expect("stderr")),
        ] {
            let tx = tx.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(stream).lines().map_while(Result::ok) {
                    let _ = tx.send(line);
                }
            });
        }
        drop(tx);
        let mut log = String::new();
        while let Ok(line) = rx.recv_timeout(Duration::from_secs(60)) {
            log.push_str(&line);
            log.push('\n');
            if line.contains("node serving") {
                break;
            }
        }
        let _ = child.kill();
        let _ = child.wait();
        log
    })
    .await
    .expect("blocking task")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deleted_or_damaged_index_is_rebuilt_on_start_with_a_log_line() {
    let node = Node::new();
    let file = node.records_file(200);
    assert_success(&run(node.load(&file)).await, "records load");
    let expected = reference_answers(&node).await;

    // Deleted.
    std::fs::remove_dir_all(node.index_dir()).expect("delete the index");
    let log = start_node_and_read_log(&node).await;
    assert!(log.contains("node serving"), "{log}");
    assert!(
        log.contains("search index is missing; rebuilding it from the database"),
        "{log}"
    );
    let store = node.open(IndexLocation::Directory(node.index_dir())).await;
    assert_eq!(answers(&store).await, expected);
    store.close().await;

    // A segment file damaged (its bytes changed, its length kept).
    let segment_file = std::fs::read_dir(node.index_dir())
        .expect("list the index")
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .find(|path| path.extension().is_some_and(|ext| ext == "store"))
        .expect("a segment's record store");
    let mut bytes = std::fs::read(&segment_file).expect("read");
    let middle = bytes.len() / 2;
    for byte in &mut bytes[middle..middle + 16] {
        *byte ^= 0xff;
    }
    std::fs::write(&segment_file, bytes).expect("damage");
    let log = start_node_and_read_log(&node).await;
    assert!(log.contains("node serving"), "{log}");
    assert!(log.contains("search index cannot be used"), "{log}");
    assert!(log.contains("damaged files"), "{log}");
    let store = node.open(IndexLocation::Directory(node.index_dir())).await;
    assert_eq!(answers(&store).await, expected);
    store.close().await;

    // meta.json replaced by garbage.
    std::fs::write(node.index_dir().join("meta.json"), b"{ not json").expect("damage");
    let log = start_node_and_read_log(&node).await;
    assert!(log.contains("search index cannot be used"), "{log}");
    let store = node.open(IndexLocation::Directory(node.index_dir())).await;
    assert_eq!(answers(&store).await, expected);
    store.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_closed_store_hands_the_index_to_the_next_one_in_the_same_process() {
    let node = Node::new();
    let first = node.open(IndexLocation::Directory(node.index_dir())).await;
    let expert = |local: &str, name: &str| {
        lienthong_records::AnyRecord::Expert(lienthong_tests::hung_yen_expert(local, name))
    };
    first
        .upsert(vec![expert("A", "Nguyễn Văn An")])
        .await
        .expect("write");
    first.close().await;
    // `first` is still alive (as a loader's store is until its scope ends).
    let second = node.open(IndexLocation::Directory(node.index_dir())).await;
    assert_eq!(
        second.indexed_change_seq().await,
        Some(1),
        "the second store holds the index writer"
    );
    second
        .upsert(vec![expert("B", "Trần Thị Bình")])
        .await
        .expect("write");
    let page = second
        .search(&SearchRequest {
            kind: Some(RecordKind::Expert),
            query: "tran thi binh".into(),
            ..Default::default()
        })
        .await
        .expect("search");
    assert_eq!(page.hits.len(), 1, "the second store's write is searchable");
    second.close().await;
    drop(first);
}

/// A node started while `records load` holds the index writes the database
/// only; once the loader lets go, the node's next catch-up takes the index
/// over, so its own deletions leave the index too.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_store_that_started_while_another_held_the_index_takes_it_over_when_released() {
    let node = Node::new();
    let expert = |local: &str, name: &str| {
        lienthong_records::AnyRecord::Expert(lienthong_tests::hung_yen_expert(local, name))
    };
    let loader = node.open(IndexLocation::Directory(node.index_dir())).await;
    loader
        .upsert(vec![
            expert("A", "Nguyễn Văn An"),
            expert("B", "Trần Thị Bình"),
        ])
        .await
        .expect("write");
    let started = node.open(IndexLocation::Directory(node.index_dir())).await;
    assert_eq!(
        started.indexed_change_seq().await,
        None,
        "the loader holds it"
    );
    loader.close().await;

    started.refresh_search_index().await.expect("refresh");
    assert_eq!(started.indexed_change_seq().await, Some(2), "taken over");
    started.delete("hung-yen:expert:B").await.expect("delete");
    let search = |query: &str| SearchRequest {
        kind: Some(RecordKind::Expert),
        query: query.into(),
        ..Default::default()
    };
    assert!(
        started
            .search(&search("tran thi binh"))
            .await
            .expect("search")
            .hits
            .is_empty(),
        "the deletion reached the index"
    );
    assert_eq!(started.indexed_change_seq().await, Some(3));
    assert_eq!(
        started
            .search(&search("nguyen van an"))
            .await
            .expect("search")
            .hits
            .len(),
        1
    );
    started.close().await;
}

/// Edits after a restart replace the entries an earlier process indexed
/// (the index knows the highest position it holds, from its own segments,
/// and replaces every change at or under it), and records added after the
/// restart are found once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn edits_after_a_restart_replace_what_an_earlier_process_indexed() {
    use lienthong_records::AnyRecord;
    let node = Node::new();
    let file = node.records_file(200);
    assert_success(&run(node.load(&file)).await, "records load");
    let edit = |store: Store, round: &'static str| async move {
        let page = store
            .search(&SearchRequest {
                kind: Some(RecordKind::Expert),
                query: "nguyễn".into(),
                page_size: 10,
                ..Default::default()
            })
            .await
            .expect("search");
        assert!(!page.hits.is_empty(), "experts to edit");
        let edited: Vec<AnyRecord> = page
            .hits
            .iter()
            .map(|hit| match hit.record.clone() {
                AnyRecord::Expert(mut expert) => {
                    expert.full_name = format!("Trần Văn Hia {round}");
                    AnyRecord::Expert(expert)
                }
                other => other,
            })
            .collect();
        store.upsert(edited).await.expect("edit");
        store.close().await;
    };
    edit(
        node.open(IndexLocation::Directory(node.index_dir())).await,
        "một",
    )
    .await;
    // Another process: it learns the highest position from the index.
    edit(
        node.open(IndexLocation::Directory(node.index_dir())).await,
        "hai",
    )
    .await;
    let expected = reference_answers(&node).await;
    let store = node.open(IndexLocation::Directory(node.index_dir())).await;
    assert_eq!(answers(&store).await, expected);
    store.close().await;
}
