//! What the web pages cost beyond the federated search they show.
//!
//! 1. **Render alone**: the results page (20 expert hits from two provinces,
//!    the filters, the province lines) rendered in-process, many times.
//! 2. **Through the gateway**, side by side in one run over real HTTPS to a
//!    gateway in front of two real nodes (SQLite): the JSON API's search
//!    (`/api/v1/experts`, bearer token) and the results page (`/search`,
//!    session cookie) for the same queries, alternating. The difference is
//!    what the page adds: its session lookups and rendering.
//! 3. **Weight**: the results page, its stylesheet and icon, in bytes, and
//!    every address the page refers to (all on the gateway itself).
//!
//! ```text
//! cargo bench -p lienthong-tests --bench web_pages -- --experts 2000 --rounds 300
//! ```

use std::time::Instant;

use hdrhistogram::Histogram;
use lienthong_gateway::auth::{Session, SessionSource, UserRole};
use lienthong_gateway::federated_search::{FederatedPage, MergedHit};
use lienthong_gateway::web::{Frame, SearchForm, results_page};
use lienthong_proto::v1 as pb;
use lienthong_records::AnyRecord;
use lienthong_tests::web::WebFederation;
use lienthong_tests::{bench_argument, sample_records};

const QUERIES: &[&str] = &[
    "nguyen",
    "nguyen xuan hai",
    "tran thi huong",
    "lua",
    "cong nghe sinh hoc",
    "pham",
];

fn millis(histogram: &Histogram<u64>, quantile: f64) -> f64 {
    histogram.value_at_quantile(quantile) as f64 / 1000.0
}

/// A results page as the gateway merges it: 20 experts, two provinces.
fn merged_page() -> FederatedPage {
    let hits: Vec<MergedHit> = sample_records("hung-yen", 40)
        .into_iter()
        .chain(sample_records("nam-dinh", 40))
        .filter(|record| matches!(record, AnyRecord::Expert(_)))
        .take(20)
        .map(|record| {
            let id = record.id().to_owned();
            let node = id.split(':').next().unwrap_or_default().to_owned();
            MergedHit {
                record,
                rank: pb::HitRank::default(),
                provenance: vec![pb::Provenance {
                    node_id: node,
                    record_id: id,
                    mirror: None,
                }],
            }
        })
        .collect();
    let nodes = ["hung-yen", "nam-dinh"]
        .iter()
        .map(|node| pb::NodeStatus {
            node_id: (*node).to_owned(),
            display_name: format!("Sở KH&CN {node}"),
            outcome: pb::NodeOutcome::Ok as i32,
            latency_ms: 4.2,
            hits: 10,
            message: String::new(),
        })
        .collect();
    FederatedPage {
        hits,
        next_page_token: "x".repeat(200),
        nodes,
    }
}

fn render_alone(rounds: usize) -> usize {
    let page = merged_page();
    let session = Session {
        user: lienthong_gateway::auth::EndUser {
            name: "can-bo".into(),
            role: UserRole::Officer,
        },
        source: SessionSource::Password,
        csrf_token: "t".repeat(32),
        expires_at: String::new(),
    };
    let frame = Frame {
        lang: lienthong_gateway::web::i18n::Lang::Vi,
        session: Some(&session),
        here: "/search?kind=experts&q=nguyen",
    };
    let form = SearchForm::parse(Some("kind=experts&q=nguyen&field=4&node=hung-yen"));
    let provinces = vec![
        ("hung-yen".to_owned(), "Sở KH&CN Hưng Yên".to_owned()),
        ("nam-dinh".to_owned(), "Sở KH&CN Nam Định".to_owned()),
    ];
    let mut histogram = Histogram::<u64>::new(3).expect("histogram");
    let mut bytes = 0;
    for _ in 0..rounds {
        let page = page.clone();
        let started = Instant::now();
        let html = results_page(&frame, UserRole::Officer, &form, &provinces, page);
        let elapsed = started.elapsed();
        bytes = html.len();
        histogram
            .record(elapsed.as_micros().max(1) as u64)
            .expect("record");
    }
    println!(
        "| render alone (in-process) | {rounds} | {:.3} | {:.3} | {:.3} | {} |",
        millis(&histogram, 0.5),
        millis(&histogram, 0.99),
        millis(&histogram, 0.999),
        bytes
    );
    bytes
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let experts: u64 = bench_argument("--experts")
        .and_then(|value| value.parse().ok())
        .unwrap_or(2_000);
    let rounds: usize = bench_argument("--rounds")
        .and_then(|value| value.parse().ok())
        .unwrap_or(300);
    println!("# web pages: {experts} sample experts per province, {rounds} rounds per path\n");
    println!("| path | requests | p50 ms | p99 ms | p99.9 ms | page bytes |");
    println!("|---|---|---|---|---|---|");
    let html_bytes = render_alone(rounds * 20);

    // A token and a session may make more requests than staff ever would.
    let federation = WebFederation::start(
        experts,
        Vec::new(),
        "[auth]\nrequests_per_minute = 1000000\nburst = 100000\n",
    )
    .await;
    let token = federation
        .gateway
        .token("bench-api", UserRole::Officer)
        .await;
    let mut browser = federation.signed_in("bench-web", UserRole::Officer).await;
    let (mut api, mut web) = (
        Histogram::<u64>::new(3).expect("histogram"),
        Histogram::<u64>::new(3).expect("histogram"),
    );
    let mut page_bytes = 0;
    let authorization = vec![("Authorization", format!("Bearer {token}"))];
    for round in 0..rounds + 20 {
        let query: String =
            form_urlencoded::byte_serialize(QUERIES[round % QUERIES.len()].as_bytes()).collect();
        let started = Instant::now();
        let answer = browser
            .request(
                "GET",
                &format!("/api/v1/experts?q={query}&page_size=20"),
                &authorization,
                "",
            )
            .await;
        let api_time = started.elapsed();
        assert_eq!(answer.status, 200, "{}", answer.body);
        let started = Instant::now();
        let answer = browser
            .get(&format!("/search?kind=experts&q={query}&page_size=20"))
            .await;
        let web_time = started.elapsed();
        assert_eq!(answer.status, 200, "{}", answer.body);
        // The first rounds warm the connections, caches and indexes.
        if round >= 20 {
            api.record(api_time.as_micros() as u64).expect("record");
            web.record(web_time.as_micros() as u64).expect("record");
            page_bytes = page_bytes.max(answer.body.len());
        }
    }
    println!(
        "| JSON API /api/v1/experts (HTTPS) | {rounds} | {:.2} | {:.2} | {:.2} | |",
        millis(&api, 0.5),
        millis(&api, 0.99),
        millis(&api, 0.999)
    );
    println!(
        "| results page /search (HTTPS) | {rounds} | {:.2} | {:.2} | {:.2} | {page_bytes} |",
        millis(&web, 0.5),
        millis(&web, 0.99),
        millis(&web, 0.999)
    );
    println!(
        "| page minus API (p50, p99) | | {:.2} | {:.2} | | |",
        millis(&web, 0.5) - millis(&api, 0.5),
        millis(&web, 0.99) - millis(&api, 0.99)
    );

    let page = browser.get("/search?kind=experts&q=nguyen").await.body;
    let mut total = page.len();
    let mut addresses = Vec::new();
    for attribute in ["href=\"", "src=\"", "action=\""] {
        for rest in page.split(attribute).skip(1) {
            let address = rest
                .split('"')
                .next()
                .unwrap_or_default()
                .replace("&amp;", "&");
            if address.starts_with("/assets/") && !addresses.contains(&address) {
                total += browser.get(&address).await.body.len();
            }
            addresses.push(address);
        }
    }
    let elsewhere: Vec<&String> = addresses
        .iter()
        .filter(|address| {
            // A path on the gateway, or a place on the page itself.
            let local = (address.starts_with('/') && !address.starts_with("//"))
                || address.starts_with('#');
            !local
        })
        .collect();
    println!(
        "\nweight: results page {} bytes (rendered alone: {html_bytes}), with stylesheet and icon \
         {total} bytes; {} addresses referred to, {} of them on another host {elsewhere:?}",
        page.len(),
        addresses.len(),
        elsewhere.len()
    );
}
