//! Load generator for federated search: expert searches to one node directly,
//! to the gateway over 2 nodes, and to the gateway over 8 nodes (plaintext,
//! audited); `gateway-2-unaudited` is the gateway over 2 nodes with every
//! audit log off, to measure what auditing costs; `gateway-2-mtls` is the
//! gateway over 2 nodes with mutual TLS on every hop, as deployed. Closed loop
//! (`--concurrency`: workers that send the next search when the last one
//! returns) gives throughput and latency at each concurrency level; open loop
//! (`--rates`: searches sent on a fixed schedule, latency counted from the
//! scheduled send time) compares latency at the same offered load. Everything
//! runs on this machine, over real loopback sockets: nodes on SQLite, the
//! gateway, and the load generator.
//!
//! ```text
//! cargo bench -p lienthong-tests --bench federation_load -- \
//!     --experts 100000 --concurrency 1,4,16,64 --rates 200,500 --seconds 10
//! ```
//!
//! Node databases (experts only) are generated once under `--data-dir`
//! (default `target/bench-data/federation`) and reused.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use lienthong_node::{NodeConfig, NodeServer};
use lienthong_proto::v1 as pb;
use lienthong_proto::v1::federation_client::FederationClient;
use lienthong_proto::v1::province_node_client::ProvinceNodeClient;
use lienthong_store::{Store, StoreOptions};
use lienthong_tests::federation::TestGateway;
use lienthong_tests::secure::{SecureGateway, SecureNode, TestPki, gateway_client};
use lienthong_tests::{EXPERT_QUERIES, process_cpu_time};
use tonic::transport::Channel;

/// The mTLS nodes' sharing policy: the gateway gets what deploy/ grants it.
const BENCH_POLICY: &str = r#"
[[grant]]
peers = ["gateway:national"]
rpcs = ["info", "search", "get", "statistics"]
kinds = ["expert", "project", "publication", "organization"]
personal_fields = ["email", "phone", "birth_year"]
"#;

/// Province node ids; the first two are the pilot pair.
const NODE_IDS: [&str; 8] = [
    "hung-yen",
    "nam-dinh",
    "thai-binh",
    "ha-nam",
    "ninh-binh",
    "hai-duong",
    "bac-ninh",
    "ha-noi",
];

struct Options {
    experts: u64,
    concurrency: Vec<usize>,
    rates: Vec<u32>,
    seconds: u64,
    data_dir: std::path::PathBuf,
    scenarios: Vec<String>,
}

fn options() -> Options {
    let mut options = Options {
        experts: 100_000,
        concurrency: vec![1, 4, 16, 64],
        rates: Vec::new(),
        seconds: 10,
        data_dir: "target/bench-data/federation".into(),
        scenarios: ["direct", "gateway-2", "gateway-8"]
            .map(String::from)
            .to_vec(),
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
            "--rates" => options.rates = value.split(',').filter_map(|s| s.parse().ok()).collect(),
            "--seconds" => options.seconds = value.parse().expect("--seconds N"),
            "--data-dir" => options.data_dir = value.into(),
            "--scenarios" => options.scenarios = value.split(',').map(String::from).collect(),
            _ => {
                i += 1;
                continue;
            }
        }
        i += 2;
    }
    options
}

fn database_url(options: &Options, id: &str) -> String {
    format!(
        "sqlite://{}/{id}-{}.db",
        options.data_dir.display(),
        options.experts
    )
}

/// A copy of a node's database for a second node server, so two audited
/// servers never append to one audit log (one writer per log).
fn private_copy(options: &Options, id: &str, suffix: &str) -> String {
    let file = |name: String| options.data_dir.join(name);
    let original = file(format!("{id}-{}.db", options.experts));
    let copy = file(format!("{id}-{}-{suffix}.db", options.experts));
    for extension in ["-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{extension}", copy.display()));
    }
    std::fs::copy(&original, &copy).expect("copy the node database");
    format!("sqlite://{}", copy.display())
}

/// Generates a node's experts unless a previous run did.
async fn prepare(options: &Options, id: &str) {
    let store = Store::open(&StoreOptions {
        url: database_url(options, id),
        node_id: id.to_owned(),
        max_connections: 2,
        search_index: lienthong_store::IndexLocation::Memory,
    })
    .await
    .expect("open the bench database");
    let have = store.counts(false).await.expect("counts").experts;
    if have < options.experts {
        assert_eq!(
            have, 0,
            "partial bench database for {id}; delete it and run again"
        );
        let started = Instant::now();
        lienthong_tests::load_sample_experts(&store, id, options.experts).await;
        eprintln!(
            "  generated {id}: {} experts in {:.0?}",
            options.experts,
            started.elapsed()
        );
    }
    store.close().await;
}

async fn start_node(options: &Options, id: &str, audited: bool) -> String {
    let policy = options.data_dir.join("anonymous.policy.toml");
    std::fs::write(&policy, lienthong_tests::GRANT_ANONYMOUS_EVERYTHING).expect("write policy");
    let config = NodeConfig::from_toml(&format!(
        "[node]\nid = \"{id}\"\ndisplay_name = \"Sở KH&CN {id}\"\n\
         [database]\nurl = \"{}\"\nmax_connections = 8\n\
         [sharing]\npolicy = \"{}\"\n\
         [grpc]\nlisten = \"127.0.0.1:0\"\nconcurrency_per_connection = 256\n\
         [admin]\nlisten = \"127.0.0.1:0\"\n[audit]\nenabled = {audited}\n\
         [limits]\npeer_requests_per_minute = 100000000\npeer_burst = 1000000\n",
        database_url(options, id),
        policy.display()
    ))
    .expect("node config");
    let server = NodeServer::bind(config, lienthong_runtime::tls::Mode::InsecurePlaintext)
        .await
        .expect("bind node");
    let url = format!("http://{}", server.grpc_addr());
    tokio::spawn(server.serve(std::future::pending()));
    url
}

async fn channel(url: &str) -> Channel {
    Channel::from_shared(url.to_owned())
        .expect("url")
        .tcp_nodelay(true)
        .connect()
        .await
        .expect("connect")
}

fn search_request(index: u64) -> (String, Vec<String>) {
    let (query, fields) = EXPERT_QUERIES[(index % EXPERT_QUERIES.len() as u64) as usize];
    (
        query.to_owned(),
        fields.iter().map(|f| (*f).to_owned()).collect(),
    )
}

#[derive(Clone)]
enum Target {
    Node(ProvinceNodeClient<Channel>),
    Gateway(FederationClient<Channel>),
}

impl Target {
    async fn search(&mut self, index: u64) -> bool {
        let (query, fields) = search_request(index);
        let filters = Some(pb::SearchFilters {
            field_code_prefixes: fields,
            ..Default::default()
        });
        match self {
            Target::Node(client) => client
                .search_experts(pb::SearchRequest {
                    query,
                    filters,
                    page_size: 20,
                    page_token: String::new(),
                    include_mirrors: false,
                })
                .await
                .is_ok_and(|response| !response.get_ref().hits.is_empty()),
            Target::Gateway(client) => client
                .search_experts(pb::FederatedSearchRequest {
                    query,
                    filters,
                    page_size: 20,
                    ..Default::default()
                })
                .await
                .is_ok_and(|response| {
                    let response = response.get_ref();
                    !response.hits.is_empty()
                        && response
                            .nodes
                            .iter()
                            .all(|node| node.outcome == pb::NodeOutcome::Ok as i32)
                }),
        }
    }
}

struct Run {
    requests: u64,
    failures: u64,
    histogram: Histogram<u64>,
    elapsed: Duration,
    cpu: Duration,
}

/// `concurrency` closed-loop workers over `targets` (round robin) for `seconds`.
async fn run(targets: &[Target], concurrency: usize, duration: Duration) -> Run {
    let stop = Arc::new(AtomicBool::new(false));
    let next = Arc::new(AtomicU64::new(0));
    let failures = Arc::new(AtomicU64::new(0));
    let cpu_before = process_cpu_time();
    let started = Instant::now();
    let workers: Vec<_> = (0..concurrency)
        .map(|worker| {
            let mut target = targets[worker % targets.len()].clone();
            let (stop, next, failures) = (stop.clone(), next.clone(), failures.clone());
            tokio::spawn(async move {
                let mut histogram =
                    Histogram::<u64>::new_with_bounds(1, 60_000_000, 3).expect("histogram");
                while !stop.load(Ordering::Relaxed) {
                    let index = next.fetch_add(1, Ordering::Relaxed);
                    let sent = Instant::now();
                    if !target.search(index).await {
                        failures.fetch_add(1, Ordering::Relaxed);
                    }
                    let _ = histogram.record(sent.elapsed().as_micros().max(1) as u64);
                }
                histogram
            })
        })
        .collect();
    tokio::time::sleep(duration).await;
    stop.store(true, Ordering::Relaxed);
    let mut histogram = Histogram::<u64>::new_with_bounds(1, 60_000_000, 3).expect("histogram");
    for worker in workers {
        histogram.add(worker.await.expect("worker")).expect("merge");
    }
    Run {
        requests: histogram.len(),
        failures: failures.load(Ordering::Relaxed),
        histogram,
        elapsed: started.elapsed(),
        cpu: process_cpu_time().saturating_sub(cpu_before),
    }
}

/// Searches sent at `rate` per second for `duration`, whatever the answers'
/// pace; latency counts from each search's scheduled send time, so a backlog
/// shows up as latency instead of slowing the senders (no coordinated omission).
async fn run_at_rate(targets: &[Target], rate: u32, duration: Duration) -> Run {
    let failures = Arc::new(AtomicU64::new(0));
    let cpu_before = process_cpu_time();
    let started = Instant::now();
    let mut ticker = tokio::time::interval(Duration::from_secs_f64(1.0 / f64::from(rate)));
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let mut sent = Vec::new();
    let mut index = 0u64;
    while started.elapsed() < duration {
        let scheduled = ticker.tick().await;
        let mut target = targets[(index % targets.len() as u64) as usize].clone();
        let failures = failures.clone();
        sent.push(tokio::spawn(async move {
            if !target.search(index).await {
                failures.fetch_add(1, Ordering::Relaxed);
            }
            scheduled.elapsed()
        }));
        index += 1;
    }
    let mut histogram = Histogram::<u64>::new_with_bounds(1, 60_000_000, 3).expect("histogram");
    for request in sent {
        let latency = request.await.expect("request task");
        let _ = histogram.record(latency.as_micros().max(1) as u64);
    }
    Run {
        requests: histogram.len(),
        failures: failures.load(Ordering::Relaxed),
        histogram,
        elapsed: started.elapsed(),
        cpu: process_cpu_time().saturating_sub(cpu_before),
    }
}

fn print_row(name: &str, load: String, result: &Run) {
    let throughput = result.requests as f64 / result.elapsed.as_secs_f64();
    println!(
        "| {name} | {load} | {throughput:.0} | {:.2} | {:.2} | {:.0} | {} |",
        result.histogram.value_at_quantile(0.50) as f64 / 1000.0,
        result.histogram.value_at_quantile(0.99) as f64 / 1000.0,
        result.cpu.as_micros() as f64 / result.requests.max(1) as f64,
        result.failures
    );
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let options = options();
    std::fs::create_dir_all(&options.data_dir).expect("data dir");
    let wanted_nodes = if options.scenarios.iter().any(|s| s == "gateway-8") {
        8
    } else {
        2
    };
    eprintln!(
        "preparing {wanted_nodes} node databases of {} experts",
        options.experts
    );
    for id in &NODE_IDS[..wanted_nodes] {
        prepare(&options, id).await;
    }
    let mut urls = Vec::new();
    for id in &NODE_IDS[..wanted_nodes] {
        urls.push((*id, start_node(&options, id, true).await));
    }
    let wants = |name: &str| options.scenarios.iter().any(|s| s == name);
    let mut unaudited_urls = Vec::new();
    if wants("gateway-2-unaudited") {
        for id in &NODE_IDS[..2] {
            unaudited_urls.push((*id, start_node(&options, id, false).await));
        }
    }
    let pki = TestPki::new();
    let (bench_client, _) = pki.issue("system:bench");
    let mut secure_nodes = Vec::new();
    if wants("gateway-2-mtls") {
        for id in &NODE_IDS[..2] {
            secure_nodes.push(
                SecureNode::start_with(
                    &pki,
                    id,
                    &private_copy(&options, id, "mtls"),
                    BENCH_POLICY,
                    "",
                )
                .await,
            );
        }
    }
    let gateway_toml = "[node_defaults]\ntimeout_ms = 10000\nmax_concurrency = 512\n\
                        [federation]\nrequest_timeout_ms = 10000\n";
    let mut targets: Vec<(String, Vec<Target>)> = Vec::new();
    // Kept alive until the end of the run.
    let mut gateways = Vec::new();
    let mut secure_gateways = Vec::new();
    for scenario in &options.scenarios {
        let label = scenario.replace("gateway-", "gateway over ");
        let mut pool = Vec::new();
        match scenario.as_str() {
            "direct" => {
                for (id, url) in &urls[..2] {
                    let pool = vec![Target::Node(ProvinceNodeClient::new(channel(url).await)); 1];
                    targets.push((format!("node {id}"), pool));
                }
                continue;
            }
            "gateway-2-mtls" => {
                let nodes: Vec<(&str, String)> = secure_nodes
                    .iter()
                    .map(|node| (node.node_id.as_str(), node.url()))
                    .collect();
                let gateway = SecureGateway::start(
                    &pki,
                    &nodes,
                    &format!(
                        "{gateway_toml}[auth]\nrequests_per_minute = 100000000\nburst = 1000000\n\
                         [auth.certificate_roles]\n\"system:bench\" = \"officer\"\n"
                    ),
                )
                .await;
                for _ in 0..4 {
                    pool.push(Target::Gateway(
                        gateway_client(&gateway.url(), &bench_client).await,
                    ));
                }
                secure_gateways.push(gateway);
            }
            "gateway-2-unaudited" => {
                let gateway = TestGateway::start(
                    &unaudited_urls,
                    &format!("{gateway_toml}[audit]\nenabled = false\n"),
                )
                .await;
                let url = format!("http://{}", gateway.grpc_addr);
                for _ in 0..4 {
                    pool.push(Target::Gateway(FederationClient::new(channel(&url).await)));
                }
                gateways.push(gateway);
            }
            other => {
                let count: usize = other
                    .strip_prefix("gateway-")
                    .and_then(|count| count.parse().ok())
                    .expect("scenarios: direct, gateway-N, gateway-2-unaudited, gateway-2-mtls");
                let nodes: Vec<(&str, String)> = urls[..count]
                    .iter()
                    .map(|(id, url)| (*id, url.clone()))
                    .collect();
                let gateway = TestGateway::start(&nodes, gateway_toml).await;
                let url = format!("http://{}", gateway.grpc_addr);
                for _ in 0..4 {
                    pool.push(Target::Gateway(FederationClient::new(channel(&url).await)));
                }
                gateways.push(gateway);
            }
        }
        targets.push((format!("{label} nodes"), pool));
    }
    let duration = Duration::from_secs(options.seconds);
    for (_, pool) in &targets {
        // Warm caches and connections.
        let _ = run(pool, 4, Duration::from_secs(1)).await;
    }
    if !options.concurrency.is_empty() {
        println!(
            "| target | concurrency | searches/s | p50 ms | p99 ms | CPU µs/search | failed |"
        );
        println!("|---|---:|---:|---:|---:|---:|---:|");
        for (name, pool) in &targets {
            for &concurrency in &options.concurrency {
                let result = run(pool, concurrency, duration).await;
                print_row(name, concurrency.to_string(), &result);
            }
        }
    }
    if !options.rates.is_empty() {
        println!();
        println!(
            "| target | offered searches/s | answered/s | p50 ms | p99 ms | CPU µs/search | failed |"
        );
        println!("|---|---:|---:|---:|---:|---:|---:|");
        for &rate in &options.rates {
            for (name, pool) in &targets {
                let result = run_at_rate(pool, rate, duration).await;
                print_row(name, rate.to_string(), &result);
            }
        }
    }
}
