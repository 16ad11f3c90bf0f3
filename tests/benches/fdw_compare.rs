//! Federated rare-name search against the DBA's alternative, in one run:
//! two PostgreSQL province nodes with N experts each behind the gateway,
//! against postgres_fdw over the same two databases with a pg_trgm index on
//! the folded name. Closed loop at each concurrency; throughput, p50, p99.
//!
//! ```text
//! cargo bench -p lienthong-tests --bench fdw_compare -- --experts 100000 \
//!     --concurrency 1,8 --seconds 10
//! ```
//!
//! Databases `lienthong_fed_<node>_<N>` (nodes, each with a `fdw_experts`
//! table of id, folded name and body for the baseline) and
//! `lienthong_fdw_<N>` (the foreign tables) sit next to `TEST_DATABASE_URL`'s
//! database and are reused by later runs; search indexes live under
//! `--data-dir` (default `target/bench-data/fdw`).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use lienthong_node::{NodeConfig, NodeServer};
use lienthong_proto::v1 as pb;
use lienthong_proto::v1::federation_client::FederationClient;
use lienthong_records::folding::normalized;
use lienthong_records::{AnyRecord, RecordKind};
use lienthong_store::{IndexLocation, Store, StoreOptions};
use lienthong_tests::federation::TestGateway;
use sqlx::{Connection, Executor, PgPool};

const NODES: [&str; 2] = ["hung-yen", "nam-dinh"];
const RARE_NAME: &str = "Bùi Anh Kiên";

struct Options {
    experts: u64,
    concurrency: Vec<usize>,
    seconds: u64,
    data_dir: std::path::PathBuf,
    pg_url: String,
}

fn options() -> Options {
    let mut options = Options {
        experts: 100_000,
        concurrency: vec![1, 8],
        seconds: 10,
        data_dir: "target/bench-data/fdw".into(),
        pg_url: std::env::var("TEST_DATABASE_URL")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into()),
    };
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut i = 0;
    while i < args.len() {
        let value = args.get(i + 1).cloned().unwrap_or_default();
        match args[i].as_str() {
            "--experts" => options.experts = value.parse().expect("--experts N"),
            "--concurrency" => {
                options.concurrency = value.split(',').filter_map(|s| s.parse().ok()).collect()
            }
            "--seconds" => options.seconds = value.parse().expect("--seconds N"),
            "--data-dir" => options.data_dir = value.into(),
            _ => {
                i += 1;
                continue;
            }
        }
        i += 2;
    }
    options
}

/// Creates database `name` unless it exists; returns its URL.
async fn database(options: &Options, name: &str) -> String {
    let mut admin = sqlx::PgConnection::connect(&options.pg_url)
        .await
        .expect("PostgreSQL reachable");
    let exists: Option<(i32,)> = sqlx::query_as("SELECT 1 FROM pg_database WHERE datname = $1")
        .bind(name)
        .fetch_optional(&mut admin)
        .await
        .expect("pg_database");
    if exists.is_none() {
        admin
            .execute(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .await
            .expect("create database");
    }
    let (base, _) = options.pg_url.rsplit_once('/').expect("URL ends in /DB");
    format!("{base}/{name}")
}

fn node_database(options: &Options, id: &str) -> String {
    format!("lienthong_fed_{}_{}", id.replace('-', "_"), options.experts)
}

fn index_dir(options: &Options, id: &str) -> std::path::PathBuf {
    options
        .data_dir
        .join(format!("{id}-{}.index", options.experts))
}

/// Loads a node's experts unless a previous run did, and the baseline's
/// table of folded names with its trigram index.
async fn prepare_node(options: &Options, id: &str) -> String {
    let url = database(options, &node_database(options, id)).await;
    let store = Store::open(&StoreOptions {
        url: url.clone(),
        node_id: id.to_owned(),
        max_connections: 4,
        search_index: IndexLocation::Directory(index_dir(options, id)),
    })
    .await
    .expect("open the node store");
    if store.counts(false).await.expect("counts").experts < options.experts {
        lienthong_tests::load_sample_experts(&store, id, options.experts).await;
        eprintln!("  loaded {id}");
    }
    let pool = store.pool();
    pool.execute(
        "CREATE EXTENSION IF NOT EXISTS pg_trgm; \
         CREATE TABLE IF NOT EXISTS fdw_experts (id TEXT PRIMARY KEY, folded_name TEXT NOT NULL, body BYTEA NOT NULL)",
    )
    .await
    .expect("baseline table");
    let (rows,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM fdw_experts")
        .fetch_one(pool)
        .await
        .expect("count");
    if rows == 0 {
        let mut after = 0;
        loop {
            let (records, last) = store
                .scan(RecordKind::Expert, after, 2_000)
                .await
                .expect("scan");
            if last == after {
                break;
            }
            after = last;
            let mut ids = Vec::new();
            let mut names = Vec::new();
            let mut bodies = Vec::new();
            for record in records {
                if let AnyRecord::Expert(expert) = &record {
                    ids.push(record.id().to_owned());
                    names.push(normalized(&expert.full_name));
                    bodies.push(record.encode());
                }
            }
            let mut placeholders = Vec::new();
            for n in 0..ids.len() {
                placeholders.push(format!("(${}, ${}, ${})", n * 3 + 1, n * 3 + 2, n * 3 + 3));
            }
            let sql = format!(
                "INSERT INTO fdw_experts (id, folded_name, body) VALUES {}",
                placeholders.join(", ")
            );
            let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
            for ((id, name), body) in ids.iter().zip(&names).zip(&bodies) {
                query = query.bind(id).bind(name).bind(body.as_slice());
            }
            query.execute(pool).await.expect("insert baseline rows");
        }
    }
    pool.execute(
        "CREATE INDEX IF NOT EXISTS fdw_experts_trgm ON fdw_experts USING gin (folded_name gin_trgm_ops)",
    )
    .await
    .expect("trigram index");
    pool.execute("VACUUM ANALYZE fdw_experts")
        .await
        .expect("analyze");
    store.close().await;
    url
}

/// The database holding foreign tables over both nodes' `fdw_experts`.
async fn prepare_fdw(options: &Options) -> PgPool {
    let url = database(options, &format!("lienthong_fdw_{}", options.experts)).await;
    let pool = PgPool::connect(&url).await.expect("fdw database");
    pool.execute("CREATE EXTENSION IF NOT EXISTS postgres_fdw")
        .await
        .expect("postgres_fdw");
    for id in NODES {
        let server = id.replace('-', "_");
        let exists: Option<(i32,)> =
            sqlx::query_as("SELECT 1 FROM pg_foreign_server WHERE srvname = $1")
                .bind(&server)
                .fetch_optional(&pool)
                .await
                .expect("servers");
        if exists.is_none() {
            pool.execute(sqlx::AssertSqlSafe(format!(
                "CREATE SERVER {server} FOREIGN DATA WRAPPER postgres_fdw \
                 OPTIONS (host '127.0.0.1', port '5432', dbname '{}'); \
                 CREATE USER MAPPING FOR CURRENT_USER SERVER {server} OPTIONS (user 'postgres'); \
                 CREATE SCHEMA {server}; \
                 IMPORT FOREIGN SCHEMA public LIMIT TO (fdw_experts) FROM SERVER {server} INTO {server}",
                node_database(options, id)
            )))
            .await
            .expect("foreign server");
        }
    }
    pool
}

async fn start_node(options: &Options, id: &str, url: &str) -> String {
    let policy = options.data_dir.join("anonymous.policy.toml");
    std::fs::write(&policy, lienthong_tests::GRANT_ANONYMOUS_EVERYTHING).expect("write policy");
    let config = NodeConfig::from_toml(&format!(
        "[node]\nid = \"{id}\"\ndisplay_name = \"Sở KH&CN {id}\"\n\
         [database]\nurl = \"{url}\"\nmax_connections = 8\n\
         [search]\nindex_dir = \"{}\"\n\
         [sharing]\npolicy = \"{}\"\n\
         [grpc]\nlisten = \"127.0.0.1:0\"\nconcurrency_per_connection = 256\n\
         [admin]\nlisten = \"127.0.0.1:0\"\n\
         [limits]\npeer_requests_per_minute = 100000000\npeer_burst = 1000000\n",
        index_dir(options, id).display(),
        policy.display()
    ))
    .expect("node config");
    let server = NodeServer::bind(config, lienthong_runtime::tls::Mode::InsecurePlaintext)
        .await
        .expect("bind node");
    let address = format!("http://{}", server.grpc_addr());
    tokio::spawn(server.serve(std::future::pending()));
    address
}

#[derive(Clone)]
enum Target {
    Gateway(FederationClient<tonic::transport::Channel>),
    Fdw(PgPool),
}

impl Target {
    /// One search; the number of hits.
    async fn search(&mut self) -> usize {
        match self {
            Target::Gateway(client) => client
                .search_experts(pb::FederatedSearchRequest {
                    query: RARE_NAME.into(),
                    page_size: 20,
                    ..Default::default()
                })
                .await
                .map_or(0, |response| response.into_inner().hits.len()),
            Target::Fdw(pool) => {
                let pattern = format!("%{}%", normalized(RARE_NAME));
                sqlx::query(
                    "(SELECT id, body FROM hung_yen.fdw_experts WHERE folded_name LIKE $1) \
                     UNION ALL (SELECT id, body FROM nam_dinh.fdw_experts WHERE folded_name LIKE $1) LIMIT 20",
                )
                .bind(pattern)
                .fetch_all(&*pool)
                .await
                .map_or(0, |rows| rows.len())
            }
        }
    }
}

async fn run(
    target: &Target,
    concurrency: usize,
    duration: Duration,
) -> (f64, Histogram<u64>, usize) {
    let stop = Arc::new(AtomicBool::new(false));
    let started = Instant::now();
    let workers: Vec<_> = (0..concurrency)
        .map(|_| {
            let mut target = target.clone();
            let stop = stop.clone();
            tokio::spawn(async move {
                let mut histogram =
                    Histogram::<u64>::new_with_bounds(1, 60_000_000, 3).expect("histogram");
                let mut hits = 0;
                while !stop.load(Ordering::Relaxed) {
                    let sent = Instant::now();
                    hits = target.search().await;
                    let _ = histogram.record(sent.elapsed().as_micros().max(1) as u64);
                }
                (histogram, hits)
            })
        })
        .collect();
    tokio::time::sleep(duration).await;
    stop.store(true, Ordering::Relaxed);
    let mut histogram = Histogram::<u64>::new_with_bounds(1, 60_000_000, 3).expect("histogram");
    let mut hits = 0;
    for worker in workers {
        let (part, worker_hits) = worker.await.expect("worker");
        histogram.add(part).expect("merge");
        hits = worker_hits;
    }
    let rate = histogram.len() as f64 / started.elapsed().as_secs_f64();
    (rate, histogram, hits)
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let options = options();
    std::fs::create_dir_all(&options.data_dir).expect("data dir");
    let mut nodes = Vec::new();
    for id in NODES {
        eprintln!("preparing {id} with {} experts", options.experts);
        let url = prepare_node(&options, id).await;
        nodes.push((id, start_node(&options, id, &url).await));
    }
    let fdw = prepare_fdw(&options).await;
    let gateway = TestGateway::start(&nodes, "").await;
    let targets = [
        (
            "gateway over 2 PostgreSQL nodes",
            Target::Gateway(gateway.client().await),
        ),
        ("postgres_fdw + pg_trgm", Target::Fdw(fdw)),
    ];
    println!(
        "rare full name `{RARE_NAME}`, {} experts per node, {} s per run",
        options.experts, options.seconds
    );
    println!("| target | in flight | searches/s | p50 | p99 | hits |");
    println!("|---|---|---|---|---|---|");
    for &concurrency in &options.concurrency {
        for (label, target) in &targets {
            // Warm up, then measure.
            run(target, concurrency, Duration::from_secs(1)).await;
            let (rate, histogram, hits) =
                run(target, concurrency, Duration::from_secs(options.seconds)).await;
            let ms = |us: u64| format!("{:.2} ms", us as f64 / 1000.0);
            println!(
                "| {label} | {concurrency} | {rate:.0} | {} | {} | {hits} |",
                ms(histogram.value_at_quantile(0.5)),
                ms(histogram.value_at_quantile(0.99))
            );
        }
    }
}
