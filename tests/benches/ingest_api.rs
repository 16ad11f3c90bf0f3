//! The Ingest API over mutual TLS: records per second of batched upserts of
//! experts from a department's system, into SQLite and into PostgreSQL, and
//! the latency of one batch; beside it the store's own write path in-process
//! (`Store::upsert` of the same batches), which shows what the API adds.
//!
//! Passes: `create` (new records, expecting version 0, one client), `update`
//! (every record changed, expecting version 1, four clients at once),
//! `resend` (the same again: every record unchanged), `keyed` (new records
//! under idempotency keys).
//!
//! ```text
//! cargo bench -p lienthong-tests --bench ingest_api -- --records 20000 [--backend sqlite]
//! ```

use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use lienthong_proto::v1 as pb;
use lienthong_proto::v1::ingest_client::IngestClient;
use lienthong_records::AnyRecord;
use lienthong_store::Backend;
use lienthong_tests::secure::{SecureNode, TestPki, connect};
use lienthong_tests::{TestDatabase, bench_argument, bench_backends, sample_records};
use tonic::transport::Channel;

const NODE: &str = "hung-yen";
const BATCH: usize = 1_000;
const POLICY: &str = r#"
[[grant]]
peers = ["system:erp"]
rpcs = ["ingest"]
kinds = ["expert", "project", "publication", "organization"]
"#;

struct Pass {
    records: usize,
    elapsed: Duration,
    batches: Histogram<u64>,
}

impl Pass {
    fn row(&self, backend: Backend, path: &str, pass: &str, clients: usize) {
        println!(
            "| {backend:?} | {path} | {pass} | {clients} | {} | {:.2} | {:.0} | {:.1} | {:.1} |",
            self.records,
            self.elapsed.as_secs_f64(),
            self.records as f64 / self.elapsed.as_secs_f64(),
            self.batches.value_at_quantile(0.5) as f64 / 1000.0,
            self.batches.value_at_quantile(0.99) as f64 / 1000.0,
        );
    }
}

fn batches(records: &[AnyRecord], change: Option<&str>) -> Vec<Vec<AnyRecord>> {
    records
        .chunks(BATCH)
        .map(|chunk| {
            chunk
                .iter()
                .cloned()
                .map(|mut record| {
                    record.meta_mut().version = 0;
                    if let (Some(suffix), AnyRecord::Expert(expert)) = (change, &mut record) {
                        expert.position.push_str(suffix);
                    }
                    record
                })
                .collect()
        })
        .collect()
}

fn request(batch: &[AnyRecord], expected: Option<u64>, key: Option<String>) -> pb::UpsertRequest {
    pb::UpsertRequest {
        idempotency_key: key.unwrap_or_default(),
        items: batch
            .iter()
            .map(|record| pb::UpsertItem {
                record: Some(record.clone().into()),
                // Experts are written with a check, the rest without.
                expected_version: matches!(record, AnyRecord::Expert(_))
                    .then_some(expected)
                    .flatten(),
            })
            .collect(),
        atomic: false,
    }
}

/// Sends `batches` from `clients` connections at once (client n takes every
/// n-th batch); every record must come out as `want`.
async fn send(
    clients: &[IngestClient<Channel>],
    batches: &[Vec<AnyRecord>],
    expected: Option<u64>,
    keyed: bool,
    want: &[pb::IngestOutcome],
) -> Pass {
    let started = Instant::now();
    let mut tasks = Vec::new();
    for (n, client) in clients.iter().enumerate() {
        let mut client = client.clone();
        let mine: Vec<pb::UpsertRequest> = batches
            .iter()
            .enumerate()
            .filter(|(index, _)| index % clients.len() == n)
            .map(|(index, batch)| request(batch, expected, keyed.then(|| format!("bench-{index}"))))
            .collect();
        let want = want.to_vec();
        tasks.push(tokio::spawn(async move {
            let mut latencies = Histogram::<u64>::new(3).expect("histogram");
            for request in mine {
                let sent = Instant::now();
                let response = client.upsert(request).await.expect("upsert").into_inner();
                latencies
                    .record(sent.elapsed().as_micros() as u64)
                    .expect("record");
                for result in &response.results {
                    assert!(
                        want.contains(&result.outcome()),
                        "{:?}: {}",
                        result.outcome(),
                        result.message
                    );
                }
            }
            latencies
        }));
    }
    let mut all = Histogram::<u64>::new(3).expect("histogram");
    for task in tasks {
        all.add(task.await.expect("client task")).expect("merge");
    }
    Pass {
        records: batches.iter().map(Vec::len).sum(),
        elapsed: started.elapsed(),
        batches: all,
    }
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let records: u64 = bench_argument("--records")
        .and_then(|n| n.parse().ok())
        .unwrap_or(20_000);
    let mut sample = sample_records(NODE, records);
    // Organizations first, so experts' references resolve as in a real push.
    sample.sort_by_key(|record| !matches!(record, AnyRecord::Organization(_)));
    println!(
        "| backend | path | pass | clients | records | seconds | records/s | batch p50 ms | batch p99 ms |"
    );
    println!("|---|---|---|---|---|---|---|---|---|");
    for backend in bench_backends() {
        use pb::IngestOutcome::*;
        // The API, over mTLS.
        let database = TestDatabase::of(backend).await;
        let pki = TestPki::new();
        let node = SecureNode::start(&pki, NODE, &database, POLICY).await;
        let (files, _) = pki.issue("system:erp");
        let mut clients = Vec::new();
        for _ in 0..4 {
            let channel = connect(&node.url(), Some(&files)).await.expect("connect");
            clients.push(IngestClient::new(channel).max_encoding_message_size(64 << 20));
        }
        let created = batches(&sample, None);
        send(&clients[..1], &created, Some(0), false, &[Created])
            .await
            .row(backend, "gRPC mTLS", "create", 1);
        let changed = batches(&sample, Some(" (cập nhật)"));
        send(&clients, &changed, Some(1), false, &[Updated, Unchanged])
            .await
            .row(backend, "gRPC mTLS", "update", 4);
        send(&clients, &changed, None, false, &[Unchanged])
            .await
            .row(backend, "gRPC mTLS", "resend", 4);
        drop(clients);
        drop(node);

        // A fresh node, keyed batches.
        let database = TestDatabase::of(backend).await;
        let node = SecureNode::start(&pki, NODE, &database, POLICY).await;
        let channel = connect(&node.url(), Some(&files)).await.expect("connect");
        let keyed_client = [IngestClient::new(channel).max_encoding_message_size(64 << 20)];
        send(&keyed_client, &created, Some(0), true, &[Created])
            .await
            .row(backend, "gRPC mTLS", "keyed", 1);
        drop(node);

        // The store's own write path, in-process, same batches.
        let database = TestDatabase::of(backend).await;
        let store = database.open_store(NODE).await;
        for (pass, batches) in [
            ("create", &created),
            ("update", &changed),
            ("resend", &changed),
        ] {
            let started = Instant::now();
            let mut latencies = Histogram::<u64>::new(3).expect("histogram");
            for batch in batches.iter() {
                let sent = Instant::now();
                let report = store.upsert(batch.clone()).await.expect("upsert");
                assert!(report.rejected.is_empty());
                latencies
                    .record(sent.elapsed().as_micros() as u64)
                    .expect("record");
            }
            Pass {
                records: batches.iter().map(Vec::len).sum(),
                elapsed: started.elapsed(),
                batches: latencies,
            }
            .row(backend, "Store::upsert", pass, 1);
        }
        store.close().await;
    }
}
