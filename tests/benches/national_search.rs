//! A national expert search, side by side: the gateway's fan-out to 34
//! province nodes, and `quoc-gia` answering from its mirrors of the same 34
//! provinces, through a gateway of its own (as staff would search) and
//! directly. Every node is a real node in this process, on SQLite,
//! over mutual TLS; `quoc-gia` first syncs every province through its
//! `[[follow]]` entries. CPU is this process's (every node, the gateway and
//! the client), per search, one search in flight at a time.
//!
//! ```sh
//! cargo bench -p lienthong-tests --bench national_search -- --experts 2000 --searches 300
//! ```
//!
//! `--repeat N` runs the searches of each way N times over; each way starts
//! with a line "measuring: WAY" on standard error (for `perf record -p`).

use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use lienthong_proto::v1 as pb;
use lienthong_records::AnyRecord;
use lienthong_sample::{ProvinceProfile, SampleGenerator, SampleSpec};
use lienthong_tests::secure::{SecureGateway, SecureNode, TestPki, gateway_client, node_client};
use lienthong_tests::{EXPERT_QUERIES, TestDatabase, bench_argument, process_cpu_time};

/// The 34 provinces and cities after the 2025 mergers.
const PROVINCES: [&str; 34] = [
    "ha-noi",
    "hue",
    "lai-chau",
    "dien-bien",
    "son-la",
    "lang-son",
    "quang-ninh",
    "thanh-hoa",
    "nghe-an",
    "ha-tinh",
    "cao-bang",
    "tuyen-quang",
    "lao-cai",
    "thai-nguyen",
    "phu-tho",
    "bac-ninh",
    "hung-yen",
    "hai-phong",
    "ninh-binh",
    "quang-tri",
    "da-nang",
    "quang-ngai",
    "gia-lai",
    "khanh-hoa",
    "lam-dong",
    "dak-lak",
    "ho-chi-minh",
    "dong-nai",
    "tay-ninh",
    "can-tho",
    "vinh-long",
    "dong-thap",
    "ca-mau",
    "an-giang",
];

/// Each province lets the national node follow its experts and the
/// national gateway search them.
const PROVINCE_POLICY: &str = r#"
[[grant]]
peers = ["node:quoc-gia"]
rpcs = ["changes"]
kinds = ["expert"]

[[grant]]
peers = ["gateway:national"]
rpcs = ["info", "search"]
kinds = ["expert"]
"#;

/// The national node lets the gateway's identity search its public mirrors.
const NATIONAL_POLICY: &str = r#"
[[grant]]
peers = ["gateway:national"]
rpcs = ["info", "search"]
kinds = ["expert"]
public_mirrors = true
"#;

const NO_LIMITS: &str = "[limits]\npeer_requests_per_minute = 100000000\npeer_burst = 1000000\n";

/// A province's sample experts, every one public (so that the national node
/// may publish its mirrors onward, and both ways search the same records).
fn public_experts(province: &str, experts: u64) -> Vec<AnyRecord> {
    let mut spec = SampleSpec::sized(ProvinceProfile::custom(province, province, "XX"), experts);
    spec.projects = 0;
    spec.publications = 0;
    SampleGenerator::new(spec)
        .records()
        .map(|record| AnyRecord::try_from(record).expect("complete record"))
        .filter(|record| record.kind() == lienthong_records::RecordKind::Expert)
        .map(|mut record| {
            if let AnyRecord::Expert(expert) = &mut record
                && let Some(meta) = expert.meta.as_mut()
            {
                meta.visibility = pb::Visibility::Public as i32;
            }
            record
        })
        .filter(lienthong_tests::is_shareable)
        .collect()
}

struct Measured {
    histogram: Histogram<u64>,
    cpu: Duration,
    searches: u64,
    hits: u64,
}

fn row(name: &str, measured: &Measured) {
    let ms = |quantile: f64| measured.histogram.value_at_quantile(quantile) as f64 / 1_000.0;
    println!(
        "| {name} | {} | {:.1} | {:.1} ms | {:.1} ms | **{:.2} ms** |",
        measured.searches,
        measured.hits as f64 / measured.searches as f64,
        ms(0.5),
        ms(0.99),
        measured.cpu.as_secs_f64() * 1_000.0 / measured.searches as f64,
    );
}

/// `searches` searches one after another (after a warm-up), through
/// `search`, which returns the hits of one.
async fn measure<F, Fut>(searches: u64, mut search: F) -> Measured
where
    F: FnMut(u64) -> Fut,
    Fut: std::future::Future<Output = u64>,
{
    for index in 0..20 {
        search(index).await;
    }
    let mut histogram = Histogram::<u64>::new_with_bounds(1, 60_000_000, 3).expect("histogram");
    let mut hits = 0;
    let cpu_before = process_cpu_time();
    for index in 0..searches {
        let started = Instant::now();
        hits += search(index).await;
        histogram
            .record(started.elapsed().as_micros().max(1) as u64)
            .expect("record");
    }
    Measured {
        histogram,
        cpu: process_cpu_time().saturating_sub(cpu_before),
        searches,
        hits,
    }
}

fn request(index: u64) -> (String, Option<pb::SearchFilters>) {
    let (query, fields) = EXPERT_QUERIES[(index % EXPERT_QUERIES.len() as u64) as usize];
    (
        query.to_owned(),
        Some(pb::SearchFilters {
            field_code_prefixes: fields.iter().map(|field| (*field).to_owned()).collect(),
            ..Default::default()
        }),
    )
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let experts: u64 =
        bench_argument("--experts").map_or(2_000, |n| n.parse().expect("--experts N"));
    let searches: u64 =
        bench_argument("--searches").map_or(300, |n| n.parse().expect("--searches N"));
    let repeat: u64 = bench_argument("--repeat").map_or(1, |n| n.parse().expect("--repeat N"));
    let searches = searches * repeat;
    let pki = TestPki::new();

    let started = Instant::now();
    let mut databases = Vec::new();
    let mut provinces = Vec::new();
    let mut shared = 0;
    for province in PROVINCES {
        let database = TestDatabase::sqlite();
        let node =
            SecureNode::start_with(&pki, province, &database.url, PROVINCE_POLICY, NO_LIMITS).await;
        let records = public_experts(province, experts);
        shared += records.len();
        lienthong_tests::load(&node.store, records).await;
        databases.push(database);
        provinces.push(node);
    }
    eprintln!(
        "34 provinces, {shared} public experts in all, loaded in {:.1?}",
        started.elapsed()
    );

    let mut follows =
        format!("{NO_LIMITS}[sync]\ninterval_ms = 600000\nverify_interval_ms = 600000\n");
    for node in &provinces {
        follows.push_str(&format!(
            "[[follow]]\npeer = \"{}\"\nendpoint = \"{}\"\nkinds = [\"expert\"]\n",
            node.node_id,
            node.url()
        ));
    }
    let national_db = TestDatabase::sqlite();
    let syncing = Instant::now();
    let national = SecureNode::start_with(
        &pki,
        "quoc-gia",
        &national_db.url,
        NATIONAL_POLICY,
        &follows,
    )
    .await;
    let synced = lienthong_tests::wait_for(Duration::from_secs(600), || async {
        let syncs = national.store.peer_syncs().await.expect("sync status");
        syncs.len() == PROVINCES.len()
            && syncs.iter().all(|sync| !sync.caught_up_at.is_empty())
            && syncs.iter().map(|sync| sync.mirrored).sum::<u64>() == shared as u64
    })
    .await;
    assert!(synced, "quoc-gia did not mirror every province");
    // Every mirror indexed, and the index's background work settled, before
    // any CPU is counted.
    national.store.index_committed_writes().await;
    eprintln!(
        "quoc-gia mirrored and indexed all 34 in {:.1?}",
        syncing.elapsed()
    );
    tokio::time::sleep(Duration::from_secs(2)).await;

    let gateway_toml = "[node_defaults]\ntimeout_ms = 10000\nmax_concurrency = 512\n\
         [federation]\nrequest_timeout_ms = 10000\n\
         [auth]\nrequests_per_minute = 100000000\nburst = 1000000\n\
         [auth.certificate_roles]\n\"system:bench\" = \"officer\"\n";
    let nodes: Vec<(&str, String)> = provinces
        .iter()
        .map(|node| (node.node_id.as_str(), node.url()))
        .collect();
    let provinces_gateway = SecureGateway::start(&pki, &nodes, gateway_toml).await;
    let national_gateway =
        SecureGateway::start(&pki, &[("quoc-gia", national.url())], gateway_toml).await;
    let (bench_client, _) = pki.issue("system:bench");
    let (national_client, _) = pki.issue("gateway:national");
    let federation = gateway_client(&provinces_gateway.url(), &bench_client).await;
    let through_gateway = gateway_client(&national_gateway.url(), &bench_client).await;
    let direct = node_client(&national.url(), &national_client).await;

    // Through a gateway, as staff search: the fan-out to every province, or
    // one call to quoc-gia for its mirrors.
    let federated = |client: &lienthong_proto::v1::federation_client::FederationClient<
        tonic::transport::Channel,
    >,
                     include_mirrors: bool,
                     index: u64| {
        let (query, filters) = request(index);
        let mut client = client.clone();
        async move {
            let response = client
                .search_experts(pb::FederatedSearchRequest {
                    query,
                    filters,
                    page_size: 20,
                    include_mirrors,
                    ..Default::default()
                })
                .await
                .expect("federated search")
                .into_inner();
            assert!(
                response
                    .nodes
                    .iter()
                    .all(|node| node.outcome == pb::NodeOutcome::Ok as i32),
                "a node did not answer"
            );
            response.hits.len() as u64
        }
    };
    eprintln!("measuring: mirrors through the gateway");
    let mirrors_gateway = measure(searches, |index| federated(&through_gateway, true, index)).await;
    eprintln!("measuring: fan-out");
    let fan_out = measure(searches, |index| federated(&federation, false, index)).await;
    eprintln!("measuring: mirrors directly");
    let mirrors_direct = measure(searches, |index| {
        let (query, filters) = request(index);
        let mut client = direct.clone();
        async move {
            client
                .search_experts(pb::SearchRequest {
                    query,
                    filters,
                    page_size: 20,
                    include_mirrors: true,
                    ..Default::default()
                })
                .await
                .expect("search at quoc-gia")
                .into_inner()
                .hits
                .len() as u64
        }
    })
    .await;

    println!(
        "| national search, {} provinces × {experts} experts | searches | hits per search | p50 | p99 | CPU per search (all processes' work) |",
        PROVINCES.len()
    );
    println!("|---|---|---|---|---|---|");
    row("gateway fan-out to 34 province nodes", &fan_out);
    row("gateway to `quoc-gia`, from its mirrors", &mirrors_gateway);
    row("`quoc-gia` directly, from its mirrors", &mirrors_direct);
    let per_search = |measured: &Measured| measured.cpu.as_secs_f64() / measured.searches as f64;
    println!(
        "\nmirrors / fan-out CPU: 1/{:.0} through the gateway, 1/{:.0} directly",
        per_search(&fan_out) / per_search(&mirrors_gateway).max(1e-9),
        per_search(&fan_out) / per_search(&mirrors_direct).max(1e-9),
    );
}
