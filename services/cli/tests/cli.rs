//! The real `lienthong` binary, run as a child process: records dump/load,
//! search against a live node, `node` start-up checks, and a load killed with
//! SIGKILL in the middle of writing.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use lienthong_proto::v1 as pb;
use lienthong_records::folding::normalized;
use lienthong_records::{AnyRecord, RecordKind};
use lienthong_sample::{ProvinceProfile, SampleGenerator, SampleSpec};
use lienthong_store::{MatchTier, SearchRequest, Store, StoreOptions};
use lienthong_tests::{TestDatabase, TestNode, is_shareable, load, sample_records, wait_for};

mod common;

use common::{assert_success, lienthong, run, run_within, text, write_config};

const NODE: &str = "hung-yen";

fn dump(config: &Path) -> Command {
    let mut command = lienthong();
    command.args(["records", "dump", "--config"]).arg(config);
    command
}

fn load_file(file: &Path, config: &Path) -> Command {
    let mut command = lienthong();
    command
        .args(["records", "load"])
        .arg(file)
        .arg("--config")
        .arg(config);
    command
}

/// (inserted, updated, unchanged, rejected) from a load's summary line.
fn load_summary(stdout: &str) -> (u64, u64, u64, u64) {
    let line = stdout
        .lines()
        .find(|line| line.contains(" inserted, "))
        .unwrap_or_else(|| panic!("no load summary in {stdout:?}"));
    let numbers: Vec<u64> = line
        .split(", ")
        .map(|part| {
            part.split_whitespace()
                .next()
                .and_then(|n| n.parse().ok())
                .unwrap_or_else(|| panic!("summary {line:?}"))
        })
        .collect();
    assert_eq!(numbers.len(), 4, "{line:?}");
    (numbers[0], numbers[1], numbers[2], numbers[3])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dump_load_dump_gives_byte_identical_output() {
    let dir = tempfile::tempdir().expect("tempdir");
    let source = write_config(
        dir.path(),
        "source.toml",
        NODE,
        &dir.path().join("source.db"),
    );
    let target = write_config(
        dir.path(),
        "target.toml",
        NODE,
        &dir.path().join("target.db"),
    );

    let mut sample = lienthong();
    sample
        .args(["sample", "--experts", "200", "--config"])
        .arg(&source);
    assert_success(&run(sample).await, "lienthong sample");

    let first = run(dump(&source)).await;
    assert_success(&first, "first dump");
    let expected_total = SampleSpec::sized(ProvinceProfile::hung_yen(), 200).total();
    let lines: Vec<&[u8]> = first
        .stdout
        .split(|b| *b == b'\n')
        .filter(|line| !line.is_empty())
        .collect();
    assert_eq!(lines.len() as u64, expected_total, "one line per record");
    for line in &lines {
        let record: pb::Record = serde_json::from_slice(line).expect("each line is a Record");
        assert!(record.record.is_some());
    }
    let dump_file = dir.path().join("dump.jsonl");
    std::fs::write(&dump_file, &first.stdout).expect("write the dump");

    // A dump written by the command holds internal and classified records
    // and personal data: owner-only, even over a file that was readable.
    {
        use std::os::unix::fs::PermissionsExt;
        let private = dir.path().join("private.jsonl");
        std::fs::write(&private, "").expect("create");
        std::fs::set_permissions(&private, std::fs::Permissions::from_mode(0o644)).expect("chmod");
        let mut to_file = dump(&source);
        to_file.arg("--output").arg(&private);
        assert_success(&run(to_file).await, "dump to a file");
        let mode = std::fs::metadata(&private)
            .expect("stat")
            .permissions()
            .mode()
            & 0o777;
        assert_eq!(mode, 0o600, "dump file mode {mode:o}");
        assert_eq!(std::fs::read(&private).expect("read"), first.stdout);
    }

    let loaded = run(load_file(&dump_file, &target)).await;
    assert_success(&loaded, "load into the empty node");
    assert_eq!(
        load_summary(&text(&loaded.stdout)),
        (expected_total, 0, 0, 0)
    );

    let second_file = dir.path().join("second.jsonl");
    let mut second = dump(&target);
    second.arg("--output").arg(&second_file);
    assert_success(&run(second).await, "second dump");
    let second = std::fs::read(&second_file).expect("read the second dump");
    assert!(
        second == first.stdout,
        "the second dump differs from the first ({} vs {} bytes)",
        second.len(),
        first.stdout.len()
    );

    // Loading the same file again changes nothing.
    let again = run(load_file(&dump_file, &target)).await;
    assert_success(&again, "second load");
    assert_eq!(
        load_summary(&text(&again.stdout)),
        (0, 0, expected_total, 0)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn load_names_every_bad_line_and_still_loads_the_good_ones() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = write_config(dir.path(), "node.toml", NODE, &dir.path().join("node.db"));
    let meta = |id: &str| {
        format!(
            r#""meta": {{"id": "{id}", "visibility": "VISIBILITY_FEDERATION", "classification": "CLASSIFICATION_NORMAL"}}"#
        )
    };
    let lines = [
        format!(r#"{{"expert": {{{}, "fullName": "Nguyễn Xuân Hải"}}}}"#, meta("hung-yen:expert:E1")),
        r#"{"expert": {"meta": {"id": "hung-yen:expert:E9""#.to_owned(),
        format!(r#"{{"expert": {{{}, "fullName": "Đinh Văn Toàn"}}}}"#, meta("hung-yen:expert:E2")),
        format!(
            r#"{{"expert": {{{}, "fullName": "Lê Văn Màu", "favouriteColour": "xanh"}}}}"#,
            meta("hung-yen:expert:E3")
        ),
        String::new(),
        r#"{"expert": {"meta": {"id": "hung-yen:expert:E4", "classification": "CLASSIFICATION_NORMAL"}, "fullName": "Trần Ẩn"}}"#.to_owned(),
        format!(r#"{{"expert": {{{}, "fullName": "Người Nam Định"}}}}"#, meta("nam-dinh:expert:E1")),
        format!(
            r#"{{"project": {{{}, "code": "ĐT.HY.2019.01", "title": "Nghiên cứu lúa", "status": "PROJECT_STATUS_COMPLETED"}}}}"#,
            meta("hung-yen:project:P1")
        ),
    ];
    let file = dir.path().join("records.jsonl");
    std::fs::write(&file, lines.join("\n") + "\n").expect("write records");

    let output = run(load_file(&file, &config)).await;
    let stderr = text(&output.stderr);
    assert!(
        !output.status.success(),
        "a load with bad lines must fail: {stderr}"
    );
    let rejected = |line: usize| -> String {
        let marker = format!("{}:{line}: rejected: ", file.display());
        stderr
            .lines()
            .find(|l| l.starts_with(&marker))
            .unwrap_or_else(|| panic!("line {line} is not reported:\n{stderr}"))
            .to_owned()
    };
    assert!(rejected(2).contains("JSON"), "{}", rejected(2));
    assert!(rejected(4).contains("favouriteColour"), "{}", rejected(4));
    assert!(rejected(6).contains("meta.visibility"), "{}", rejected(6));
    let other_node = rejected(7);
    assert!(
        other_node.contains("meta.id") && other_node.contains("nam-dinh"),
        "{other_node}"
    );
    for good in [1, 3, 5, 8] {
        let marker = format!("{}:{good}: ", file.display());
        assert!(!stderr.contains(&marker), "line {good} reported:\n{stderr}");
    }
    assert!(stderr.contains("4 line(s) were rejected"), "{stderr}");
    assert_eq!(load_summary(&text(&output.stdout)), (3, 0, 0, 4));

    let dumped = run(dump(&config)).await;
    assert_success(&dumped, "dump");
    let ids: BTreeSet<String> = text(&dumped.stdout)
        .lines()
        .map(|line| {
            let record: pb::Record = serde_json::from_str(line).expect("record");
            AnyRecord::try_from(record).expect("record").id().to_owned()
        })
        .collect();
    assert_eq!(
        ids,
        BTreeSet::from([
            "hung-yen:expert:E1".to_owned(),
            "hung-yen:expert:E2".to_owned(),
            "hung-yen:project:P1".to_owned()
        ])
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn search_prints_json_or_a_table_and_explains_failures() {
    let database = TestDatabase::sqlite();
    let node = TestNode::start(NODE, &database).await;
    let records = sample_records(NODE, 300);
    load(&node.store, records.clone()).await;

    let mut json = lienthong();
    json.args([
        "search",
        "--insecure-plaintext",
        "experts",
        "nguyen",
        "--json",
        "--node",
        &node.url(),
    ]);
    let output = run(json).await;
    assert_success(&output, "search --json");
    let response: serde_json::Value =
        serde_json::from_slice(&output.stdout).expect("stdout is JSON");
    let hits = response["hits"].as_array().expect("hits");
    assert_eq!(hits.len(), 20, "the default page size");
    for hit in hits {
        let name = hit["expert"]["fullName"].as_str().expect("fullName");
        assert!(name.contains("Nguyễn"), "{name}");
        assert!(hit["rank"]["tier"].as_str().is_some(), "{hit}");
    }
    assert!(
        response["nextPageToken"]
            .as_str()
            .is_some_and(|t| !t.is_empty())
    );

    let wanted = records
        .iter()
        .find_map(|record| match record {
            AnyRecord::Expert(expert) if is_shareable(record) => Some(expert.clone()),
            _ => None,
        })
        .expect("a shareable expert");
    let mut table = lienthong();
    table.args([
        "search",
        "--insecure-plaintext",
        "experts",
        &wanted.full_name,
        "--node",
        &node.url(),
    ]);
    let output = run(table).await;
    assert_success(&output, "search (table)");
    let stdout = text(&output.stdout);
    assert!(stdout.contains(&wanted.full_name), "{stdout}");
    assert!(
        stdout.contains(&wanted.meta.as_ref().expect("meta").id),
        "{stdout}"
    );

    let mut too_big = lienthong();
    too_big.args([
        "search",
        "--insecure-plaintext",
        "experts",
        "nguyen",
        "--page-size",
        "500",
        "--node",
        &node.url(),
    ]);
    let output = run(too_big).await;
    assert!(!output.status.success());
    let stderr = text(&output.stderr);
    assert!(
        stderr.contains("100") && stderr.contains("page_size"),
        "{stderr}"
    );

    let unused = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = unused.local_addr().expect("addr").port();
    drop(unused);
    let mut unreachable = lienthong();
    unreachable.args([
        "search",
        "--insecure-plaintext",
        "experts",
        "nguyen",
        "--node",
        &format!("http://127.0.0.1:{port}"),
    ]);
    let output = run(unreachable).await;
    assert!(!output.status.success());
    let stderr = text(&output.stderr);
    assert!(
        stderr.contains("cannot connect to http://127.0.0.1"),
        "{stderr}"
    );
    node.stop().await.expect("clean stop");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn node_refuses_to_start_without_tls_or_insecure_plaintext_or_with_unknown_keys() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = write_config(dir.path(), "node.toml", NODE, &dir.path().join("node.db"));
    let mut command = lienthong();
    command.args(["node", "--config"]).arg(&config);
    let output = tokio::task::spawn_blocking(move || run_within(command, Duration::from_secs(60)))
        .await
        .expect("blocking task");
    assert!(!output.status.success());
    let stderr = text(&output.stderr);
    assert!(stderr.contains("--insecure-plaintext"), "{stderr}");

    let base = std::fs::read_to_string(&config).expect("config");
    for (key, toml) in [
        (
            "colour",
            base.replace("[database]", "colour = \"blue\"\n[database]"),
        ),
        ("port", base.replace("[grpc]\n", "[grpc]\nport = 7101\n")),
        (
            "telemetry",
            format!("{base}\n[telemetry]\nenabled = true\n"),
        ),
    ] {
        let path = dir.path().join(format!("{key}.toml"));
        std::fs::write(&path, toml).expect("write config");
        let mut command = lienthong();
        command
            .args(["node", "--insecure-plaintext", "--config"])
            .arg(&path);
        let output =
            tokio::task::spawn_blocking(move || run_within(command, Duration::from_secs(60)))
                .await
                .expect("blocking task");
        assert!(!output.status.success(), "{key}");
        let stderr = text(&output.stderr);
        assert!(stderr.contains(key), "{key}: {stderr}");
    }
}

/// Bytes of the SQLite database and its write-ahead log.
fn database_bytes(database: &Path) -> u64 {
    let wal = PathBuf::from(format!("{}-wal", database.display()));
    [database.to_path_buf(), wal]
        .iter()
        .filter_map(|path| std::fs::metadata(path).ok())
        .map(|meta| meta.len())
        .sum()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_load_killed_mid_write_leaves_a_consistent_store_that_a_rerun_completes() {
    let dir = tempfile::tempdir().expect("tempdir");
    let database = dir.path().join("node.db");
    let config = write_config(dir.path(), "node.toml", NODE, &database);

    // About 20,000 records.
    let spec = SampleSpec::sized(ProvinceProfile::hung_yen(), 11_300);
    let total = spec.total();
    assert!((19_000..=21_000).contains(&total), "{total}");
    let file = dir.path().join("records.jsonl");
    {
        let mut out = std::io::BufWriter::new(std::fs::File::create(&file).expect("create"));
        for record in SampleGenerator::new(spec).records() {
            serde_json::to_writer(&mut out, &record).expect("serialize");
            out.write_all(b"\n").expect("write");
        }
        out.flush().expect("flush");
    }

    let mut command = load_file(&file, &config);
    command
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let mut child: Child = command.spawn().expect("start the load");
    let started = Instant::now();
    // Wait until a few batches are committed (the file grows well past its
    // empty size), then kill the loader without warning.
    let grew = wait_for(Duration::from_secs(120), || {
        let bytes = database_bytes(&database);
        async move { bytes > 8 * 1024 * 1024 }
    })
    .await;
    let still_running = child.try_wait().expect("try_wait").is_none();
    child.kill().expect("SIGKILL");
    let status = child.wait().expect("wait");
    assert!(grew, "the database did not grow within 120 s");
    assert!(
        still_running,
        "the load finished before it could be killed ({:?}); make the file larger",
        started.elapsed()
    );
    assert!(!status.success(), "killed: {status}");

    let store = Store::open(&StoreOptions {
        url: format!("sqlite://{}", database.display()),
        node_id: NODE.into(),
        max_connections: 2,
        search_index: lienthong_store::IndexLocation::Memory,
    })
    .await
    .expect("reopen after the crash");
    let counts = store.counts(false).await.expect("counts");
    let stored = counts.organizations + counts.experts + counts.projects + counts.publications;
    let changes = store.changes(0, 1_000_000).await.expect("changes");
    eprintln!(
        "killed after {:?} with {stored} of {total} records committed",
        started.elapsed()
    );
    assert!(stored > 0, "something was committed before the kill");
    assert_eq!(changes.len() as u64, stored, "one change per stored record");
    assert_eq!(store.last_change_seq().await.expect("seq"), stored);
    assert!(
        stored % 1_000 == 0 || stored == total,
        "batches of 1,000 commit whole or not at all: {stored}"
    );

    // Every stored shareable record is searchable (only those are indexed):
    // filter-only counts match the store, and every such expert is found by
    // its exact name.
    let shareable = store.counts(true).await.expect("counts");
    let mut scanned = 0u64;
    let mut experts_by_name: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut after = 0;
    loop {
        let (records, last) = store
            .scan(RecordKind::Expert, after, 1_000)
            .await
            .expect("scan");
        if last == after {
            break;
        }
        after = last;
        for record in records {
            scanned += 1;
            let meta = record.meta().cloned().unwrap_or_default();
            if !lienthong_records::search_document::is_shareable(
                meta.visibility,
                meta.classification,
            ) {
                continue;
            }
            if let AnyRecord::Expert(expert) = &record {
                experts_by_name
                    .entry(expert.full_name.clone())
                    .or_default()
                    .insert(record.id().to_owned());
            }
        }
    }
    assert_eq!(scanned, counts.experts);
    let indexed: u64 = experts_by_name.values().map(|ids| ids.len() as u64).sum();
    assert_eq!(indexed, shareable.experts);
    for (name, ids) in &experts_by_name {
        let mut request = SearchRequest {
            kind: Some(RecordKind::Expert),
            query: name.clone(),
            page_size: 100,
            ..Default::default()
        };
        let mut exact = BTreeSet::new();
        loop {
            let page = store.search(&request).await.expect("search");
            let mut past_exact = false;
            for hit in &page.hits {
                if hit.rank.tier == MatchTier::Exact {
                    exact.insert(hit.record.id().to_owned());
                } else {
                    past_exact = true;
                }
            }
            if past_exact || page.next_page_token.is_empty() {
                break;
            }
            request.page_token = page.next_page_token;
        }
        assert!(
            ids.is_subset(&exact),
            "{name:?} ({}): {:?} not all found among {:?}",
            normalized(name),
            ids,
            exact
        );
    }
    for (kind, count) in [
        (RecordKind::Organization, shareable.organizations),
        (RecordKind::Expert, shareable.experts),
        (RecordKind::Project, shareable.projects),
        (RecordKind::Publication, shareable.publications),
    ] {
        let mut request = SearchRequest {
            kind: Some(kind),
            page_size: 100,
            ..Default::default()
        };
        let mut found = 0u64;
        loop {
            let page = store.search(&request).await.expect("search");
            found += page.hits.len() as u64;
            if page.next_page_token.is_empty() {
                break;
            }
            request.page_token = page.next_page_token;
        }
        assert_eq!(found, count, "{kind}: search finds what the store holds");
    }
    store.close().await;

    // Loading the whole file again completes the job.
    let rerun = run(load_file(&file, &config)).await;
    assert_success(&rerun, "the second load");
    let (inserted, updated, unchanged, rejected) = load_summary(&text(&rerun.stdout));
    assert_eq!((updated, rejected), (0, 0));
    assert_eq!(inserted + unchanged, total);
    assert_eq!(unchanged, stored, "what survived the crash is unchanged");

    let store = Store::open(&StoreOptions {
        url: format!("sqlite://{}", database.display()),
        node_id: NODE.into(),
        max_connections: 2,
        search_index: lienthong_store::IndexLocation::Memory,
    })
    .await
    .expect("reopen");
    let counts = store.counts(false).await.expect("counts");
    assert_eq!(
        counts.organizations + counts.experts + counts.projects + counts.publications,
        total
    );
    assert_eq!(store.last_change_seq().await.expect("seq"), total);
    store.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn search_status_and_stats_through_the_gateway() {
    let hung_yen_db = TestDatabase::sqlite();
    let nam_dinh_db = TestDatabase::sqlite();
    let hung_yen = TestNode::start("hung-yen", &hung_yen_db).await;
    let nam_dinh = TestNode::start("nam-dinh", &nam_dinh_db).await;
    load(&hung_yen.store, sample_records("hung-yen", 200)).await;
    load(&nam_dinh.store, sample_records("nam-dinh", 200)).await;
    let gateway = lienthong_tests::federation::TestGateway::start(
        &[("hung-yen", hung_yen.url()), ("nam-dinh", nam_dinh.url())],
        "",
    )
    .await;
    let gateway_url = format!("http://{}", gateway.grpc_addr);

    let mut table = lienthong();
    table.args([
        "search",
        "--insecure-plaintext",
        "experts",
        "nguyen",
        "--gateway",
        &gateway_url,
    ]);
    let output = run(table).await;
    assert_success(&output, "search --gateway");
    let stdout = text(&output.stdout);
    assert!(stdout.contains("province"), "{stdout}");
    for line in [
        "hung-yen     Sở KH&CN hung-yen",
        "nam-dinh     Sở KH&CN nam-dinh",
    ] {
        let status_line = stdout
            .lines()
            .find(|l| l.trim_start().starts_with(line))
            .unwrap_or_else(|| panic!("no status line {line:?} in {stdout}"));
        assert!(status_line.contains(" ok "), "{status_line}");
    }

    let mut json = lienthong();
    json.args([
        "search",
        "--insecure-plaintext",
        "experts",
        "nguyen",
        "--json",
        "--only",
        "nam-dinh",
        "--gateway",
        &gateway_url,
    ]);
    let output = run(json).await;
    assert_success(&output, "search --gateway --json");
    let response: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON");
    let hits = response["hits"].as_array().expect("hits");
    assert_eq!(hits.len(), 20);
    assert!(
        hits.iter()
            .all(|hit| hit["provenance"][0]["nodeId"] == "nam-dinh")
    );
    assert_eq!(response["nodes"].as_array().expect("nodes").len(), 1);

    let mut status = lienthong();
    status.args(["status", "--insecure-plaintext", "--gateway", &gateway_url]);
    let output = run(status).await;
    assert_success(&output, "status");
    assert!(
        text(&output.stdout).contains("2 of 2 node(s) answering"),
        "{}",
        text(&output.stdout)
    );

    let mut stats = lienthong();
    stats.args([
        "stats",
        "--insecure-plaintext",
        "--json",
        "--gateway",
        &gateway_url,
    ]);
    let output = run(stats).await;
    assert_success(&output, "stats");
    let statistics: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON");
    let experts = statistics["total"]["kinds"]
        .as_array()
        .expect("kinds")
        .iter()
        .find(|kind| kind["kind"] == "expert")
        .expect("experts");
    let shared = hung_yen.store.counts(true).await.expect("counts").experts
        + nam_dinh.store.counts(true).await.expect("counts").experts;
    assert_eq!(experts["total"].as_str(), Some(shared.to_string().as_str()));

    // Organizations are per node: the gateway refuses to federate them.
    let mut organizations = lienthong();
    organizations.args([
        "search",
        "--insecure-plaintext",
        "organizations",
        "viện",
        "--gateway",
        &gateway_url,
    ]);
    let output = run(organizations).await;
    assert!(!output.status.success());
    assert!(
        text(&output.stderr).contains("--node"),
        "{}",
        text(&output.stderr)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gateway_refuses_to_start_without_tls_or_insecure_plaintext_or_with_a_bad_config() {
    let dir = tempfile::tempdir().expect("tempdir");
    let good = "[[nodes]]\nid = \"hung-yen\"\ndisplay_name = \"Sở KH&CN Hưng Yên\"\nendpoint = \"http://127.0.0.1:7101\"\n";
    let path = dir.path().join("gateway.toml");
    std::fs::write(&path, good).expect("write config");
    let mut command = lienthong();
    command.args(["gateway", "--config"]).arg(&path);
    let output = run(command).await;
    assert!(!output.status.success());
    assert!(
        text(&output.stderr).contains("--insecure-plaintext"),
        "{}",
        text(&output.stderr)
    );

    for (key, toml) in [
        (
            "nodes[0].endpoint",
            good.replace("http://127.0.0.1:7101", "127.0.0.1:7101"),
        ),
        ("nodes[0].id", good.replace("\"hung-yen\"", "\"Hưng Yên\"")),
        ("timeout", format!("[node_defaults]\ntimeout = 5\n{good}")),
    ] {
        std::fs::write(&path, toml).expect("write config");
        let mut command = lienthong();
        command
            .args(["gateway", "--insecure-plaintext", "--config"])
            .arg(&path);
        let output = run(command).await;
        assert!(!output.status.success(), "{key}");
        let stderr = text(&output.stderr);
        assert!(stderr.contains(key), "{key}: {stderr}");
    }
}
