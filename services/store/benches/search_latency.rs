//! The search engine at scale, over N sample experts on SQLite and
//! PostgreSQL: loading rate (search index included), disk per expert
//! (database and index), p50/p99 latency and CPU time per search for the
//! benchmark queries, and the process's anonymous memory (RSS without
//! mapped files).
//!
//! ```text
//! cargo bench -p lienthong-store --bench search_latency -- \
//!     --sizes 100000,1000000 --backends sqlite,postgres --iterations 2000
//! ```
//!
//! Data is generated once per (backend, size) and reused by later runs: SQLite
//! files and search indexes under `--data-dir` (default `target/bench-data`),
//! PostgreSQL databases `lienthong_bench_<size>` next to `TEST_DATABASE_URL`'s
//! database. The loading rate is printed only when the data is generated.

use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use lienthong_records::{AnyRecord, RecordKind};
use lienthong_sample::{ProvinceProfile, SampleGenerator, SampleSpec};
use lienthong_store::{Backend, SearchRequest, Store, StoreOptions};
use sqlx::Connection;

const QUERIES: &[(&str, &str)] = &[
    ("common full name", "Nguyễn Xuân Hải"),
    ("most common syllable", "nguyễn"),
    ("phrase", "nghiên cứu lúa"),
    ("quoted phrase + field filter", "\"công nghệ sinh học\""),
    ("typo", "nguyne xuan hai"),
];

struct Options {
    sizes: Vec<u64>,
    backends: Vec<Backend>,
    iterations: u64,
    data_dir: std::path::PathBuf,
    pg_url: String,
    /// Run only the queries whose label contains this.
    only: Option<String>,
}

fn options() -> Options {
    let mut options = Options {
        sizes: vec![100_000],
        backends: vec![Backend::Sqlite, Backend::Postgres],
        iterations: 500,
        data_dir: "target/bench-data".into(),
        pg_url: std::env::var("TEST_DATABASE_URL")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into()),
        only: None,
    };
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut i = 0;
    while i < args.len() {
        let value = args.get(i + 1).cloned().unwrap_or_default();
        match args[i].as_str() {
            "--sizes" => options.sizes = value.split(',').filter_map(|s| s.parse().ok()).collect(),
            "--backends" => {
                options.backends = value
                    .split(',')
                    .filter_map(|b| match b {
                        "sqlite" => Some(Backend::Sqlite),
                        "postgres" => Some(Backend::Postgres),
                        _ => None,
                    })
                    .collect()
            }
            "--iterations" => options.iterations = value.parse().unwrap_or(500),
            "--data-dir" => options.data_dir = value.into(),
            "--only" => options.only = Some(value),
            // cargo bench passes --bench; ignore what we do not know.
            _ => {
                i += 1;
                continue;
            }
        }
        i += 2;
    }
    options
}

fn index_dir(backend: Backend, size: u64, options: &Options) -> std::path::PathBuf {
    options
        .data_dir
        .join(format!("experts-{size}-{backend:?}.index").to_lowercase())
}

async fn open(backend: Backend, size: u64, options: &Options) -> Store {
    let url = match backend {
        Backend::Sqlite => format!("sqlite://{}/experts-{size}.db", options.data_dir.display()),
        Backend::Postgres => {
            let name = format!("lienthong_bench_{size}");
            let mut admin = sqlx::PgConnection::connect(&options.pg_url)
                .await
                .expect("PostgreSQL reachable");
            let exists: Option<(i32,)> =
                sqlx::query_as("SELECT 1 FROM pg_database WHERE datname = $1")
                    .bind(&name)
                    .fetch_optional(&mut admin)
                    .await
                    .expect("query pg_database");
            if exists.is_none() {
                sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
                    .execute(&mut admin)
                    .await
                    .expect("create db");
            }
            let (base, _) = options.pg_url.rsplit_once('/').expect("URL ends in /DB");
            format!("{base}/{name}")
        }
    };
    Store::open(&StoreOptions {
        url,
        node_id: "hung-yen".into(),
        max_connections: 4,
        search_index: lienthong_store::IndexLocation::Directory(index_dir(backend, size, options)),
    })
    .await
    .expect("open store")
}

/// Bytes under `path` (a file or a directory tree).
fn disk_bytes(path: &std::path::Path) -> u64 {
    match std::fs::metadata(path) {
        Ok(meta) if meta.is_dir() => std::fs::read_dir(path)
            .map(|entries| {
                entries
                    .filter_map(Result::ok)
                    .map(|entry| disk_bytes(&entry.path()))
                    .sum()
            })
            .unwrap_or(0),
        Ok(meta) => meta.len(),
        Err(_) => 0,
    }
}

/// The database's bytes on disk.
async fn database_bytes(store: &Store, backend: Backend, size: u64, options: &Options) -> u64 {
    match backend {
        Backend::Sqlite => ["", "-wal"]
            .iter()
            .map(|suffix| disk_bytes(&options.data_dir.join(format!("experts-{size}.db{suffix}"))))
            .sum(),
        Backend::Postgres => {
            let (bytes,): (i64,) = sqlx::query_as("SELECT pg_database_size(current_database())")
                .fetch_one(store.pool())
                .await
                .expect("database size");
            bytes as u64
        }
    }
}

/// (user + system CPU time of this process, anonymous resident memory), from /proc.
fn process_usage() -> (Duration, u64) {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest.split_whitespace().collect())
        .unwrap_or_default();
    // utime and stime are fields 14 and 15; after the command name, 12 and 13.
    let ticks: u64 = [11, 12]
        .iter()
        .filter_map(|&i| fields.get(i).and_then(|v| v.parse::<u64>().ok()))
        .sum();
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let anonymous_kb = status
        .lines()
        .find_map(|line| line.strip_prefix("RssAnon:"))
        .and_then(|value| value.split_whitespace().next()?.parse::<u64>().ok())
        .unwrap_or(0);
    (Duration::from_millis(ticks * 10), anonymous_kb * 1024)
}

async fn fill(store: &Store, backend: Backend, size: u64) {
    let have = store.counts(false).await.expect("counts").experts;
    if have >= size * 9 / 10 {
        return;
    }
    assert_eq!(have, 0, "partial bench database; delete it and run again");
    let mut spec = SampleSpec::sized(ProvinceProfile::hung_yen(), size);
    spec.projects = 0;
    spec.publications = 0;
    let generator = SampleGenerator::new(spec);
    // Only the writes are timed, not generating the sample.
    let mut writing = Duration::ZERO;
    let mut batch = Vec::with_capacity(2_000);
    let mut done = 0u64;
    for record in generator.records() {
        batch.push(AnyRecord::try_from(record).expect("complete record"));
        if batch.len() == 2_000 {
            done += batch.len() as u64;
            let started = Instant::now();
            store
                .upsert(std::mem::take(&mut batch))
                .await
                .expect("upsert");
            writing += started.elapsed();
            if done % 100_000 < 2_000 {
                eprintln!("  loaded {done} records, {writing:.0?} writing");
            }
        }
    }
    let started = Instant::now();
    store.upsert(batch).await.expect("upsert");
    writing += started.elapsed();
    let elapsed = writing;
    eprintln!("  loaded {size} experts in {elapsed:.1?} of writing");
    println!(
        "loading ({backend:?}): {size} experts in {:.1} s of writes (batches of 2,000) = {:.0} records/s, search index included",
        elapsed.as_secs_f64(),
        size as f64 / elapsed.as_secs_f64()
    );
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let options = options();
    std::fs::create_dir_all(&options.data_dir).expect("data dir");
    println!(
        "| backend | experts | query | hits (page 1) | of which exact name | p50 | p99 | max | CPU per search |"
    );
    println!("|---|---|---|---|---|---|---|---|---|");
    let mut footnotes = Vec::new();
    for &size in &options.sizes {
        for &backend in &options.backends {
            eprintln!("preparing {backend:?} with {size} experts");
            let store = open(backend, size, &options).await;
            fill(&store, backend, size).await;
            store.analyze().await.expect("analyze");
            let database = database_bytes(&store, backend, size, &options).await;
            let index = disk_bytes(&index_dir(backend, size, &options));
            footnotes.push(format!(
                "disk, {backend:?}, {size} experts: database {:.1} MiB + search index {:.1} MiB = {:.0} bytes per expert",
                database as f64 / 1048576.0,
                index as f64 / 1048576.0,
                (database + index) as f64 / size as f64
            ));
            // A name held by few people: the first four-syllable name from the
            // middle of the data on.
            let generator =
                SampleGenerator::new(SampleSpec::sized(ProvinceProfile::hung_yen(), size));
            let rare_name = (size / 2..size)
                .map(|i| generator.expert(i).full_name)
                .find(|name| name.split(' ').count() == 4)
                .unwrap_or_default();
            let mut queries: Vec<(&str, &str)> = vec![("rare full name", rare_name.as_str())];
            queries.extend_from_slice(QUERIES);
            for (label, query) in &queries {
                if options
                    .only
                    .as_ref()
                    .is_some_and(|only| !label.contains(only.as_str()))
                {
                    continue;
                }
                let request = SearchRequest {
                    kind: Some(RecordKind::Expert),
                    query: (*query).into(),
                    field_code_prefixes: if label.contains("filter") {
                        vec!["4".into()]
                    } else {
                        vec![]
                    },
                    page_size: 20,
                    ..Default::default()
                };
                let mut histogram =
                    Histogram::<u64>::new_with_bounds(1, 60_000_000, 3).expect("histogram");
                let mut hits = 0;
                let mut exact = 0;
                let mut cpu_at_start = process_usage().0;
                for i in 0..options.iterations + 20 {
                    if i == 20 {
                        cpu_at_start = process_usage().0;
                    }
                    let started = Instant::now();
                    let page = store.search(&request).await.expect("search");
                    let elapsed = started.elapsed();
                    hits = page.hits.len();
                    exact = page
                        .hits
                        .iter()
                        .filter(|hit| hit.rank.tier == lienthong_store::MatchTier::Exact)
                        .count();
                    if i >= 20 {
                        histogram
                            .record(elapsed.as_micros().max(1) as u64)
                            .expect("record");
                    }
                }
                let cpu = process_usage().0.saturating_sub(cpu_at_start);
                let ms =
                    |us: u64| format!("{:.3} ms", Duration::from_micros(us).as_secs_f64() * 1000.0);
                println!(
                    "| {backend:?} | {size} | {label}: `{query}` | {hits} | {exact} | {} | {} | {} | {:.0} µs |",
                    ms(histogram.value_at_quantile(0.5)),
                    ms(histogram.value_at_quantile(0.99)),
                    ms(histogram.max()),
                    cpu.as_secs_f64() * 1e6 / options.iterations as f64
                );
            }
            let (_, anonymous) = process_usage();
            footnotes.push(format!(
                "memory after the {backend:?} {size} queries: {:.0} MiB anonymous RSS (mapped index and database files not counted)",
                anonymous as f64 / 1048576.0
            ));
            store.close().await;
        }
    }
    for footnote in footnotes {
        println!("- {footnote}");
    }
}
