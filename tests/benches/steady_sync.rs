//! Steady-state sync lag: an origin node takes new completed tasks at a fixed
//! rate while a follower node follows it over mutual TLS, both as deployed
//! (`[[follow]]`, the subscriber's own polling), in this process. The lag of
//! a task is the time from when its write was due (on the fixed schedule,
//! so an origin that falls behind adds its delay) to when its mirror is in
//! the follower's database, seen by polling the follower every 5 ms. The
//! follower's search index takes it in at the end of that sync call, after
//! this lag ends; that step is not in the figure.
//!
//! ```sh
//! cargo bench -p lienthong-tests --bench steady_sync -- --rate 1000 --seconds 30
//! ```

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use lienthong_store::Backend;
use lienthong_tests::secure::{SecureNode, TestPki};
use lienthong_tests::{TestDatabase, bench_argument, bench_backends, bulk_task};

const ORIGIN_POLICY: &str = r#"
[[grant]]
peers = ["node:hung-yen"]
rpcs = ["changes"]
kinds = ["project"]
"#;

/// Writes per second are sent as this many batches per second.
const TICKS_PER_SECOND: u64 = 10;

async fn one_run(backend: Backend, rate: u64, seconds: u64, interval_ms: u64, pki: &TestPki) {
    let origin_db = TestDatabase::of(backend).await;
    let origin = SecureNode::start(pki, "nam-dinh", &origin_db, ORIGIN_POLICY).await;
    let follower_db = TestDatabase::of(backend).await;
    let follow = format!(
        "[[follow]]\npeer = \"nam-dinh\"\nendpoint = \"{}\"\n[sync]\ninterval_ms = {interval_ms}\n",
        origin.url()
    );
    let follower = SecureNode::start_with(pki, "hung-yen", &follower_db.url, "", &follow).await;

    // When each task was written (just before the origin's upsert), by number.
    let written: Arc<Mutex<HashMap<usize, Instant>>> = Arc::default();
    let per_tick = (rate / TICKS_PER_SECOND).max(1) as usize;
    let total = per_tick * (seconds * TICKS_PER_SECOND) as usize;
    let writer = {
        let written = written.clone();
        let store = origin.store.clone();
        tokio::spawn(async move {
            let tick = Duration::from_millis(1_000 / TICKS_PER_SECOND);
            let mut ticks = tokio::time::interval(tick);
            let started = Instant::now();
            for (index, first) in (0..total).step_by(per_tick).enumerate() {
                ticks.tick().await;
                let batch: Vec<_> = (first..first + per_tick)
                    .map(|n| bulk_task("nam-dinh", n))
                    .collect();
                let due = started + tick * index as u32;
                written
                    .lock()
                    .expect("written")
                    .extend((first..first + per_tick).map(|n| (n, due)));
                store.upsert(batch).await.expect("write at the origin");
            }
            started.elapsed()
        })
    };

    let mut lag = Histogram::<u64>::new_with_bounds(1, 600_000_000, 3).expect("histogram");
    let mut seen_seq = 0i64;
    let mut seen = 0usize;
    let deadline = Instant::now() + Duration::from_secs(seconds + 60);
    while seen < total && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(5)).await;
        let rows: Vec<(String, i64)> =
            sqlx::query_as("SELECT id, seq FROM mirrors WHERE seq > $1 AND deleted = 0")
                .bind(seen_seq)
                .fetch_all(follower.store.pool())
                .await
                .expect("poll the follower's mirrors");
        let now = Instant::now();
        let written = written.lock().expect("written");
        for (id, seq) in rows {
            seen_seq = seen_seq.max(seq);
            let n: usize = id
                .rsplit_once(":P")
                .and_then(|(_, n)| n.parse().ok())
                .expect("a bulk task id");
            if let Some(at) = written.get(&n) {
                lag.record((now - *at).as_micros().max(1) as u64)
                    .expect("record the lag");
                seen += 1;
            }
        }
    }
    let writing = writer.await.expect("writer");
    let ms = |quantile: f64| lag.value_at_quantile(quantile) as f64 / 1_000.0;
    println!(
        "| {backend:?} → {backend:?} | {rate}/s ({per_tick} every {} ms) | {:.0}/s | {interval_ms} ms | {seen} of {total} | {:.0} ms | {:.0} ms | **{:.0} ms** | {:.0} ms |",
        1_000 / TICKS_PER_SECOND,
        total as f64 / writing.as_secs_f64(),
        ms(0.5),
        ms(0.9),
        ms(0.99),
        lag.max() as f64 / 1_000.0,
    );
    drop(follower);
    drop(origin);
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let rate: u64 = bench_argument("--rate").map_or(1_000, |n| n.parse().expect("--rate N"));
    let seconds: u64 = bench_argument("--seconds").map_or(30, |n| n.parse().expect("--seconds N"));
    let interval_ms: u64 =
        bench_argument("--interval-ms").map_or(100, |n| n.parse().expect("--interval-ms N"));
    let backends = bench_backends();
    let pki = TestPki::new();
    println!(
        "| origin → follower | offered | written | follower polls every | mirrored | p50 lag | p90 | p99 | max |"
    );
    println!("|---|---|---|---|---|---|---|---|---|");
    for backend in backends {
        one_run(backend, rate, seconds, interval_ms, &pki).await;
    }
}
