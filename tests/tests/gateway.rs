//! The federation gateway in front of real province nodes, over real sockets:
//! merged ranking, pagination, per-node statuses when a node is down, slow or
//! failing, deadlines, cancellation, circuit breaking, twins across provinces,
//! and the HTTP API answering as gRPC does.

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use lienthong_proto::v1 as pb;
use lienthong_records::AnyRecord;
use lienthong_tests::federation::{FaultyNode, TestGateway};
use lienthong_tests::{TestDatabase, http_get, load, sample_records, wait_for};
use tonic::Code;

/// Hưng Yên on SQLite and Nam Định on PostgreSQL (SQLite when PostgreSQL is
/// not required and absent): one federation over both backends.
async fn two_provinces(experts: u64) -> (Vec<TestDatabase>, FaultyNode, FaultyNode) {
    let hung_yen_db = TestDatabase::sqlite();
    let nam_dinh_db = match TestDatabase::postgres().await {
        Some(database) => database,
        None => TestDatabase::sqlite(),
    };
    let hung_yen = FaultyNode::start("hung-yen", &hung_yen_db).await;
    let nam_dinh = FaultyNode::start("nam-dinh", &nam_dinh_db).await;
    load(&hung_yen.store, sample_records("hung-yen", experts)).await;
    load(&nam_dinh.store, sample_records("nam-dinh", experts)).await;
    (vec![hung_yen_db, nam_dinh_db], hung_yen, nam_dinh)
}

fn nodes<'a>(list: &[&'a FaultyNode]) -> Vec<(&'a str, String)> {
    list.iter()
        .map(|node| (node.node_id.as_str(), node.url()))
        .collect()
}

fn request(query: &str, page_size: u32) -> pb::FederatedSearchRequest {
    pb::FederatedSearchRequest {
        query: query.into(),
        page_size,
        ..Default::default()
    }
}

fn expert_id(hit: &pb::FederatedExpertHit) -> String {
    hit.expert
        .as_ref()
        .and_then(|expert| expert.meta.as_ref())
        .map(|meta| meta.id.clone())
        .unwrap_or_default()
}

fn status_of<'a>(nodes: &'a [pb::NodeStatus], id: &str) -> &'a pb::NodeStatus {
    nodes
        .iter()
        .find(|node| node.node_id == id)
        .unwrap_or_else(|| panic!("no status for {id} in {nodes:?}"))
}

/// Every (id, score) a node returns for `query`, in its order, by paging it directly.
async fn direct_hits(node: &FaultyNode, query: &str) -> Vec<(String, f64)> {
    let channel = tonic::transport::Channel::from_shared(node.url())
        .expect("node url")
        .connect()
        .await
        .expect("connect to the node");
    let mut client = lienthong_proto::v1::province_node_client::ProvinceNodeClient::new(channel);
    let mut hits = Vec::new();
    let mut token = String::new();
    loop {
        let page = client
            .search_experts(pb::SearchRequest {
                query: query.into(),
                page_size: 100,
                page_token: token,
                ..Default::default()
            })
            .await
            .expect("direct search")
            .into_inner();
        for hit in page.hits {
            let id = hit.expert.and_then(|e| e.meta).expect("hit with id").id;
            hits.push((id, hit.rank.expect("ranked hit").score));
        }
        if page.next_page_token.is_empty() {
            return hits;
        }
        token = page.next_page_token;
    }
}

/// Every hit of a federated expert search, following tokens.
async fn all_pages(
    gateway: &TestGateway,
    query: &str,
    page_size: u32,
) -> (Vec<pb::FederatedExpertHit>, usize) {
    let mut client = gateway.client().await;
    let mut hits = Vec::new();
    let mut token = String::new();
    let mut pages = 0;
    loop {
        let mut search = request(query, page_size);
        search.page_token = token;
        let page = client
            .search_experts(search)
            .await
            .expect("federated search")
            .into_inner();
        pages += 1;
        assert!(page.hits.len() <= page_size as usize);
        for node in &page.nodes {
            assert_eq!(node.outcome, pb::NodeOutcome::Ok as i32, "{node:?}");
        }
        hits.extend(page.hits);
        if page.next_page_token.is_empty() {
            return (hits, pages);
        }
        assert!(pages < 10_000, "paging does not end");
        token = page.next_page_token;
    }
}

#[tokio::test]
async fn pages_merge_every_province_in_one_ranking_without_duplicates_or_gaps() {
    let (_databases, hung_yen, nam_dinh) = two_provinces(400).await;
    let gateway = TestGateway::start(&nodes(&[&hung_yen, &nam_dinh]), "").await;
    for query in ["nguyen", "\"nghiên cứu\"", "thi"] {
        let expected: Vec<Vec<(String, f64)>> = vec![
            direct_hits(&hung_yen, query).await,
            direct_hits(&nam_dinh, query).await,
        ];
        let total: usize = expected.iter().map(Vec::len).sum();
        assert!(total > 30, "the query {query} should match many experts");

        let (one_page, _) = all_pages(&gateway, query, 100).await;
        let (small_pages, pages) = all_pages(&gateway, query, 7).await;
        assert!(pages >= total / 7, "{pages} pages for {total} hits");
        // Page size does not change the order.
        let ids = |hits: &[pb::FederatedExpertHit]| hits.iter().map(expert_id).collect::<Vec<_>>();
        assert_eq!(ids(&one_page), ids(&small_pages), "query {query}");

        // Every record a node returns appears exactly once: as a hit or as a
        // twin merged into one.
        let mut seen: HashMap<String, usize> = HashMap::new();
        for hit in &small_pages {
            assert_eq!(hit.provenance[0].record_id, expert_id(hit));
            for provenance in &hit.provenance {
                assert!(
                    provenance
                        .record_id
                        .starts_with(&format!("{}:", provenance.node_id))
                );
                *seen.entry(provenance.record_id.clone()).or_default() += 1;
            }
        }
        let duplicates: Vec<_> = seen.iter().filter(|(_, count)| **count > 1).collect();
        assert!(
            duplicates.is_empty(),
            "duplicates for {query}: {duplicates:?}"
        );
        let wanted: HashSet<&String> = expected.iter().flatten().map(|(id, _)| id).collect();
        let got: HashSet<&String> = seen.keys().collect();
        assert_eq!(wanted, got, "gaps or strangers for {query}");

        // One ranking: scores never rise; each node's own order is kept; equal
        // scores interleave the provinces.
        let scores: Vec<f64> = small_pages
            .iter()
            .map(|hit| hit.rank.as_ref().unwrap().score)
            .collect();
        assert!(
            scores.windows(2).all(|pair| pair[0] >= pair[1]),
            "{query}: {scores:?}"
        );
        for (index, node) in ["hung-yen", "nam-dinh"].iter().enumerate() {
            let merged_order: Vec<&String> = small_pages
                .iter()
                .filter(|hit| hit.provenance[0].node_id == *node)
                .map(|hit| &hit.provenance[0].record_id)
                .collect();
            let direct_order: Vec<&String> = expected[index]
                .iter()
                .map(|(id, _)| id)
                .filter(|id| merged_order.contains(id))
                .collect();
            assert_eq!(merged_order, direct_order, "{node} order for {query}");
        }
        let top_score = scores[0];
        let top: Vec<&str> = small_pages
            .iter()
            .take_while(|hit| hit.rank.as_ref().unwrap().score == top_score)
            .take(4)
            .map(|hit| hit.provenance[0].node_id.as_str())
            .collect();
        if expected
            .iter()
            .all(|hits| hits.iter().filter(|(_, s)| *s == top_score).count() >= 2)
        {
            assert_eq!(
                top,
                ["hung-yen", "nam-dinh", "hung-yen", "nam-dinh"],
                "{query}"
            );
        }
    }
}

#[tokio::test]
async fn a_province_that_is_down_is_reported_and_the_rest_answer() {
    let (_databases, hung_yen, nam_dinh) = two_provinces(200).await;
    // A port with nothing listening.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let closed_url = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let mut list = nodes(&[&hung_yen, &nam_dinh]);
    list.push(("ha-nam", closed_url));
    let gateway = TestGateway::start(&list, "[node_defaults]\ntimeout_ms = 1000\n").await;
    let mut client = gateway.client().await;

    let started = Instant::now();
    let page = client
        .search_experts(request("nguyen", 20))
        .await
        .unwrap()
        .into_inner();
    assert!(started.elapsed() < Duration::from_millis(1500));
    assert_eq!(page.hits.len(), 20);
    let down = status_of(&page.nodes, "ha-nam");
    assert_eq!(
        down.outcome,
        pb::NodeOutcome::Unavailable as i32,
        "{down:?}"
    );
    assert!(!down.message.is_empty());
    assert_eq!(down.hits, 0);
    for id in ["hung-yen", "nam-dinh"] {
        let up = status_of(&page.nodes, id);
        assert_eq!(up.outcome, pb::NodeOutcome::Ok as i32);
        assert!(up.hits > 0);
    }
    assert!(
        page.hits
            .iter()
            .all(|hit| hit.provenance[0].node_id != "ha-nam")
    );

    // The failed node stays reported on later pages and paging still ends.
    let mut search = request("nguyen", 20);
    search.page_token = page.next_page_token.clone();
    let next = client.search_experts(search).await.unwrap().into_inner();
    let still_down = status_of(&next.nodes, "ha-nam");
    assert_eq!(still_down.outcome, pb::NodeOutcome::Unavailable as i32);
    assert!(
        still_down.message.contains("earlier page"),
        "{still_down:?}"
    );

    // All-or-nothing refuses the same query.
    let mut strict = request("nguyen", 20);
    strict.require_all_nodes = true;
    let refused = client.search_experts(strict).await.unwrap_err();
    assert_eq!(refused.code(), Code::Unavailable);
    assert!(
        refused.message().contains("ha-nam"),
        "{}",
        refused.message()
    );
}

#[tokio::test]
async fn a_slow_province_times_out_within_its_deadline() {
    let (_databases, hung_yen, nam_dinh) = two_provinces(200).await;
    let gateway = TestGateway::start(
        &nodes(&[&hung_yen, &nam_dinh]),
        "[node_defaults]\ntimeout_ms = 300\n",
    )
    .await;
    let mut client = gateway.client().await;
    nam_dinh.faults.delay(Duration::from_secs(3));

    let started = Instant::now();
    let page = client
        .search_experts(request("nguyen", 10))
        .await
        .unwrap()
        .into_inner();
    let elapsed = started.elapsed();
    assert!(elapsed >= Duration::from_millis(300), "{elapsed:?}");
    assert!(elapsed < Duration::from_millis(800), "{elapsed:?}");
    let slow = status_of(&page.nodes, "nam-dinh");
    assert_eq!(slow.outcome, pb::NodeOutcome::Timeout as i32, "{slow:?}");
    assert!(
        slow.latency_ms >= 290.0 && slow.latency_ms < 700.0,
        "{slow:?}"
    );
    assert_eq!(
        status_of(&page.nodes, "hung-yen").outcome,
        pb::NodeOutcome::Ok as i32
    );
    assert_eq!(page.hits.len(), 10);
    assert!(
        page.hits
            .iter()
            .all(|hit| hit.provenance[0].node_id == "hung-yen")
    );

    // The client's own deadline, shorter than the node deadline, wins: the
    // gateway answers in time with what it has.
    let gateway = TestGateway::start(
        &nodes(&[&hung_yen, &nam_dinh]),
        "[node_defaults]\ntimeout_ms = 10000\n",
    )
    .await;
    let mut client = gateway.client().await;
    let mut search = tonic::Request::new(request("nguyen", 10));
    search.set_timeout(Duration::from_millis(500));
    let started = Instant::now();
    let page = client.search_experts(search).await.unwrap().into_inner();
    assert!(
        started.elapsed() < Duration::from_millis(600),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(
        status_of(&page.nodes, "nam-dinh").outcome,
        pb::NodeOutcome::Timeout as i32
    );
}

#[tokio::test]
async fn a_province_returning_errors_is_reported_and_client_errors_fail_the_request() {
    let (_databases, hung_yen, nam_dinh) = two_provinces(200).await;
    let gateway = TestGateway::start(&nodes(&[&hung_yen, &nam_dinh]), "").await;
    let mut client = gateway.client().await;
    hung_yen.faults.fail(Code::Internal);

    let page = client
        .search_experts(request("nguyen", 10))
        .await
        .unwrap()
        .into_inner();
    let failing = status_of(&page.nodes, "hung-yen");
    assert_eq!(
        failing.outcome,
        pb::NodeOutcome::Error as i32,
        "{failing:?}"
    );
    assert!(failing.message.contains("injected failure"), "{failing:?}");
    assert_eq!(page.hits.len(), 10);
    assert!(
        page.hits
            .iter()
            .all(|hit| hit.provenance[0].node_id == "nam-dinh")
    );
    hung_yen.faults.heal();

    // A request the nodes refuse is the caller's error, said once.
    let refused = client
        .search_experts(request(&"từ ".repeat(40), 10))
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::ResourceExhausted, "{refused:?}");
    let too_big = client
        .search_experts(request("nguyen", 500))
        .await
        .unwrap_err();
    assert_eq!(too_big.code(), Code::ResourceExhausted);
    let mut unknown = request("nguyen", 10);
    unknown.nodes = vec!["ha-noi".into()];
    let unknown = client.search_experts(unknown).await.unwrap_err();
    assert_eq!(unknown.code(), Code::InvalidArgument);
    assert!(
        unknown.message().contains("hung-yen, nam-dinh"),
        "{}",
        unknown.message()
    );
    let mut forged = request("nguyen", 10);
    forged.page_token = "g1.eyJmIjoxfQ".into();
    assert_eq!(
        client.search_experts(forged).await.unwrap_err().code(),
        Code::InvalidArgument
    );
}

#[tokio::test]
async fn a_client_that_cancels_cancels_the_node_calls() {
    let (_databases, hung_yen, nam_dinh) = two_provinces(50).await;
    let gateway = TestGateway::start(
        &nodes(&[&hung_yen, &nam_dinh]),
        "[node_defaults]\ntimeout_ms = 20000\n[federation]\nrequest_timeout_ms = 20000\n",
    )
    .await;
    let mut client = gateway.client().await;
    hung_yen.faults.delay(Duration::from_secs(10));
    nam_dinh.faults.delay(Duration::from_secs(10));

    let call = tokio::spawn(async move { client.search_experts(request("nguyen", 10)).await });
    assert!(
        wait_for(Duration::from_secs(5), || async {
            hung_yen.faults.started() == 1 && nam_dinh.faults.started() == 1
        })
        .await,
        "both nodes should be asked"
    );
    call.abort();
    assert!(
        wait_for(Duration::from_secs(3), || async {
            hung_yen.faults.cancelled() == 1 && nam_dinh.faults.cancelled() == 1
        })
        .await,
        "cancellation should reach both nodes: {} and {}",
        hung_yen.faults.cancelled(),
        nam_dinh.faults.cancelled()
    );
}

#[tokio::test]
async fn a_failing_province_is_skipped_by_its_breaker_then_recovers() {
    let (_databases, hung_yen, nam_dinh) = two_provinces(100).await;
    let gateway = TestGateway::start(
        &nodes(&[&hung_yen, &nam_dinh]),
        "[breaker]\nfailure_threshold = 3\ncool_down_ms = 400\n",
    )
    .await;
    let mut client = gateway.client().await;
    nam_dinh.faults.fail(Code::Internal);
    for _ in 0..3 {
        let page = client
            .search_experts(request("nguyen", 5))
            .await
            .unwrap()
            .into_inner();
        assert_eq!(
            status_of(&page.nodes, "nam-dinh").outcome,
            pb::NodeOutcome::Error as i32
        );
    }
    let asked = nam_dinh.faults.started();

    // Open: the node is not asked at all, and the answer says why.
    let page = client
        .search_experts(request("nguyen", 5))
        .await
        .unwrap()
        .into_inner();
    let skipped = status_of(&page.nodes, "nam-dinh");
    assert_eq!(skipped.outcome, pb::NodeOutcome::Unavailable as i32);
    assert!(skipped.message.contains("circuit breaker"), "{skipped:?}");
    assert!(skipped.latency_ms < 50.0, "{skipped:?}");
    assert_eq!(nam_dinh.faults.started(), asked);
    let status = client
        .status(pb::FederationStatusRequest {})
        .await
        .unwrap()
        .into_inner();
    let health = status
        .nodes
        .iter()
        .find(|node| node.node_id == "nam-dinh")
        .unwrap();
    assert_eq!(health.breaker, pb::BreakerState::Open as i32);

    // Healed and cooled down: one trial call closes the breaker again.
    nam_dinh.faults.heal();
    tokio::time::sleep(Duration::from_millis(450)).await;
    let page = client
        .search_experts(request("nguyen", 5))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        status_of(&page.nodes, "nam-dinh").outcome,
        pb::NodeOutcome::Ok as i32
    );
    assert!(nam_dinh.faults.started() > asked);
    let page = client
        .search_experts(request("nguyen", 5))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        status_of(&page.nodes, "nam-dinh").outcome,
        pb::NodeOutcome::Ok as i32
    );
}

#[tokio::test]
async fn an_unreachable_answer_is_retried_within_the_budget() {
    let (_databases, hung_yen, nam_dinh) = two_provinces(50).await;
    let gateway = TestGateway::start(&nodes(&[&hung_yen, &nam_dinh]), "").await;
    let mut client = gateway.client().await;
    nam_dinh.faults.fail_next(Code::Unavailable, 1);
    let page = client
        .search_experts(request("nguyen", 5))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        status_of(&page.nodes, "nam-dinh").outcome,
        pb::NodeOutcome::Ok as i32
    );
    assert_eq!(nam_dinh.faults.started(), 2, "one failure, one retry");

    // Server errors are not retried.
    nam_dinh.faults.fail_next(Code::Internal, 1);
    let page = client
        .search_experts(request("nguyen", 5))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        status_of(&page.nodes, "nam-dinh").outcome,
        pb::NodeOutcome::Error as i32
    );
    assert_eq!(nam_dinh.faults.started(), 3);
}

fn twin(
    node: &str,
    local: &str,
    name: &str,
    year: u32,
    organization: &str,
    orcid: &str,
) -> AnyRecord {
    AnyRecord::Expert(pb::Expert {
        meta: Some(lienthong_tests::federation_meta(&format!(
            "{node}:expert:{local}"
        ))),
        full_name: name.into(),
        birth_year: year,
        organization_name: organization.into(),
        identifiers: Some(pb::ExpertIdentifiers {
            orcid: orcid.into(),
            ..Default::default()
        }),
        ..Default::default()
    })
}

#[tokio::test]
async fn one_expert_registered_by_two_provinces_is_one_hit_with_both_provenances() {
    let (_databases, hung_yen, nam_dinh) = two_provinces(0).await;
    load(
        &hung_yen.store,
        vec![
            twin(
                "hung-yen",
                "T1",
                "Trần Quốc Vượng",
                1968,
                "Viện Di truyền Nông nghiệp",
                "",
            ),
            twin(
                "hung-yen",
                "T2",
                "Lê Thị Mận",
                1980,
                "Trường Đại học Nông nghiệp",
                "0000-0002-1825-0097",
            ),
            twin("hung-yen", "T3", "Phạm Văn Đồng", 1970, "Viện Cơ điện", ""),
            twin(
                "hung-yen",
                "T4",
                "Đỗ Minh Châu",
                1979,
                "Viện Lúa",
                "0000-0001-5109-3700",
            ),
        ],
    )
    .await;
    load(
        &nam_dinh.store,
        vec![
            // Same folded name, birth year and organization.
            twin(
                "nam-dinh",
                "X9",
                "TRAN QUOC VUONG",
                1968,
                "Vien Di truyen Nong nghiep",
                "",
            ),
            // Same ORCID, written as a URL, other spelling of the name.
            twin(
                "nam-dinh",
                "X8",
                "Le T. Man",
                0,
                "",
                "https://orcid.org/0000-0002-1825-0097",
            ),
            // Same name, other birth year: another person.
            twin("nam-dinh", "X7", "Phạm Văn Đồng", 1971, "Viện Cơ điện", ""),
            // An ORCID on one side only: name, birth year and organization decide.
            twin("nam-dinh", "X6", "Do Minh Chau", 1979, "Vien Lua", ""),
        ],
    )
    .await;
    let gateway = TestGateway::start(&nodes(&[&hung_yen, &nam_dinh]), "").await;
    let mut client = gateway.client().await;

    let provenance = |hit: &pb::FederatedExpertHit| {
        hit.provenance
            .iter()
            .map(|p| p.record_id.clone())
            .collect::<Vec<_>>()
    };
    let page = client
        .search_experts(request("tran quoc vuong", 10))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(page.hits.len(), 1, "{:?}", page.hits);
    assert_eq!(
        provenance(&page.hits[0]),
        ["hung-yen:expert:T1", "nam-dinh:expert:X9"]
    );
    let page = client
        .search_experts(request("mận", 10))
        .await
        .unwrap()
        .into_inner();
    // Names within one edit ("Văn") follow in the typo tier.
    let exact: Vec<&pb::FederatedExpertHit> = page
        .hits
        .iter()
        .filter(|hit| hit.rank.as_ref().unwrap().tier != pb::MatchTier::Typo as i32)
        .collect();
    assert_eq!(exact.len(), 1, "{exact:?}");
    assert_eq!(
        provenance(exact[0]),
        ["hung-yen:expert:T2", "nam-dinh:expert:X8"]
    );
    let page = client
        .search_experts(request("phạm văn đồng", 10))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        page.hits.len(),
        2,
        "different birth years are different people"
    );
    let page = client
        .search_experts(request("đỗ minh châu", 10))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(page.hits.len(), 1, "{:?}", page.hits);
    assert_eq!(
        provenance(&page.hits[0]),
        ["hung-yen:expert:T4", "nam-dinh:expert:X6"]
    );

    // A twin merged on one page does not come back on the next.
    let mut seen = Vec::new();
    let mut token = String::new();
    loop {
        let mut search = request("", 1);
        search.filters = Some(pb::SearchFilters {
            year_from: 1960,
            year_to: 1969,
            ..Default::default()
        });
        search.page_token = token;
        let page = client.search_experts(search).await.unwrap().into_inner();
        for hit in &page.hits {
            seen.extend(provenance(hit));
        }
        if page.next_page_token.is_empty() {
            break;
        }
        token = page.next_page_token;
    }
    assert_eq!(seen, ["hung-yen:expert:T1", "nam-dinh:expert:X9"]);
}

#[tokio::test]
async fn get_status_and_statistics_come_from_the_right_provinces() {
    let (_databases, hung_yen, nam_dinh) = two_provinces(120).await;
    let gateway = TestGateway::start(&nodes(&[&hung_yen, &nam_dinh]), "").await;
    let mut client = gateway.client().await;

    let record = client
        .get_record(pb::GetRequest {
            id: "nam-dinh:expert:E0000003".into(),
        })
        .await
        .unwrap()
        .into_inner();
    let Some(pb::record::Record::Expert(expert)) = record.record else {
        panic!("an expert");
    };
    let stored = nam_dinh
        .store
        .get("nam-dinh:expert:E0000003")
        .await
        .unwrap();
    if let Some(stored) = stored.filter(|stored| stored.shareable) {
        let AnyRecord::Expert(mut stored) = stored.record else {
            panic!("an expert");
        };
        // Contact details go out only for experts who consented.
        lienthong_node::disclosure::PersonalFields::ALL.apply(&mut stored);
        assert_eq!(expert, stored);
    }
    for (id, code) in [
        ("ha-noi:expert:E1", Code::NotFound),
        ("not an id", Code::InvalidArgument),
        ("hung-yen:expert:NOPE", Code::NotFound),
    ] {
        let error = client
            .get_record(pb::GetRequest { id: id.into() })
            .await
            .unwrap_err();
        assert_eq!(error.code(), code, "{id}: {error:?}");
    }

    let status = client
        .status(pb::FederationStatusRequest {})
        .await
        .unwrap()
        .into_inner();
    assert_eq!(status.nodes_ok, 2);
    for (health, node) in status.nodes.iter().zip([&hung_yen, &nam_dinh]) {
        assert_eq!(health.node_id, node.node_id);
        let counts = node.store.counts(true).await.unwrap();
        assert_eq!(health.counts.unwrap().experts, counts.experts);
        assert!(health.schema_version > 0);
        assert_eq!(health.breaker, pb::BreakerState::Closed as i32);
    }

    let statistics = client
        .statistics(pb::FederatedStatisticsRequest::default())
        .await
        .unwrap()
        .into_inner();
    assert_eq!(statistics.provinces.len(), 2);
    let total = statistics.total.unwrap();
    let experts_total = total
        .kinds
        .iter()
        .find(|kind| kind.kind == "expert")
        .unwrap();
    let shared = hung_yen.store.counts(true).await.unwrap().experts
        + nam_dinh.store.counts(true).await.unwrap().experts;
    assert_eq!(experts_total.total, shared);
    let by_year: u64 = experts_total.by_year.iter().map(|count| count.count).sum();
    assert!(by_year <= shared && by_year > 0);
    let projects = total
        .kinds
        .iter()
        .find(|kind| kind.kind == "project")
        .unwrap();
    let by_status: u64 = projects.by_status.iter().map(|count| count.count).sum();
    assert_eq!(by_status, projects.total, "every project has one status");
    for kind in &total.kinds {
        let per_province: u64 = statistics
            .provinces
            .iter()
            .flat_map(|province| &province.kinds)
            .filter(|other| other.kind == kind.kind)
            .map(|other| other.total)
            .sum();
        assert_eq!(kind.total, per_province);
    }
}

#[tokio::test]
async fn the_http_api_answers_as_grpc_does() {
    let (_databases, hung_yen, nam_dinh) = two_provinces(150).await;
    let gateway = TestGateway::start(&nodes(&[&hung_yen, &nam_dinh]), "").await;
    let mut client = gateway.client().await;

    let mut search = request("nguyễn", 5);
    search.filters = Some(pb::SearchFilters {
        field_code_prefixes: vec!["3".into(), "4".into()],
        ..Default::default()
    });
    let grpc = client.search_experts(search).await.unwrap().into_inner();
    let (code, body) = http_get(
        gateway.http_addr,
        "/api/v1/experts?q=nguy%E1%BB%85n&field=3&field=4&page_size=5",
    )
    .await
    .unwrap();
    assert_eq!(code, 200, "{body}");
    let http: pb::FederatedExpertsResponse = serde_json::from_str(&body).unwrap();
    // Page tokens are sealed afresh each time: equal answers, different
    // tokens (both present).
    let strip = |mut response: pb::FederatedExpertsResponse| {
        for node in &mut response.nodes {
            node.latency_ms = 0.0;
        }
        assert!(!response.next_page_token.is_empty());
        response.next_page_token.clear();
        response
    };
    assert_eq!(strip(http), strip(grpc.clone()));

    // The next page through HTTP, with the token gRPC gave.
    let (code, body) = http_get(
        gateway.http_addr,
        &format!(
            "/api/v1/experts?q=nguy%E1%BB%85n&field=3&field=4&page_size=5&page_token={}",
            grpc.next_page_token
        ),
    )
    .await
    .unwrap();
    assert_eq!(code, 200, "{body}");
    let second: pb::FederatedExpertsResponse = serde_json::from_str(&body).unwrap();
    let first_ids: HashSet<String> = grpc.hits.iter().map(expert_id).collect();
    assert!(
        second
            .hits
            .iter()
            .all(|hit| !first_ids.contains(&expert_id(hit)))
    );

    let id = expert_id(&grpc.hits[0]);
    let (code, body) = http_get(gateway.http_addr, &format!("/api/v1/records/{id}"))
        .await
        .unwrap();
    assert_eq!(code, 200);
    let record: pb::Record = serde_json::from_str(&body).unwrap();
    let from_grpc = client
        .get_record(pb::GetRequest { id })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(record, from_grpc);

    for (path, status, code) in [
        ("/api/v1/experts?page_size=1000", 400, "RESOURCE_EXHAUSTED"),
        ("/api/v1/projects?status=finished", 400, "INVALID_ARGUMENT"),
        ("/api/v1/records/ha-noi:expert:E1", 404, "NOT_FOUND"),
        ("/api/v1/nothing", 404, "NOT_FOUND"),
    ] {
        let (got, body) = http_get(gateway.http_addr, path).await.unwrap();
        assert_eq!(got, status, "{path}: {body}");
        let error: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(error["error"]["code"], code, "{path}: {body}");
        assert!(
            error["error"]["message"]
                .as_str()
                .is_some_and(|m| !m.is_empty())
        );
    }

    let (code, body) = http_get(gateway.http_addr, "/api/v1/status").await.unwrap();
    assert_eq!(code, 200);
    let status: pb::FederationStatus = serde_json::from_str(&body).unwrap();
    assert_eq!(status.nodes_ok, 2);
    let (code, body) = http_get(gateway.http_addr, "/api/v1/statistics?node=hung-yen")
        .await
        .unwrap();
    assert_eq!(code, 200);
    let statistics: pb::FederatedStatistics = serde_json::from_str(&body).unwrap();
    assert_eq!(statistics.provinces.len(), 1);
    let (code, body) = http_get(gateway.http_addr, "/api/v1/openapi.json")
        .await
        .unwrap();
    assert_eq!(code, 200);
    assert!(body.contains("\"openapi\""));

    // Metrics are on the admin listener, not the public API.
    let (code, _) = http_get(gateway.http_addr, "/metrics").await.unwrap();
    assert_eq!(code, 404);
    let (code, metrics) = http_get(gateway.admin_addr, "/metrics").await.unwrap();
    assert_eq!(code, 200);
    for name in [
        "lienthong_gateway_node_calls_total",
        "lienthong_gateway_node_call_seconds",
        "lienthong_gateway_node_up",
        "lienthong_gateway_breaker_state",
        "lienthong_http_requests_total",
    ] {
        assert!(metrics.contains(name), "{name} missing from /metrics");
    }
}

#[tokio::test]
async fn the_gateway_port_serves_health_and_reflection() {
    use tonic_health::pb::HealthCheckRequest;
    use tonic_health::pb::health_check_response::ServingStatus;
    use tonic_health::pb::health_client::HealthClient;
    use tonic_reflection::pb::v1;
    let (_databases, hung_yen, nam_dinh) = two_provinces(0).await;
    let gateway = TestGateway::start(&nodes(&[&hung_yen, &nam_dinh]), "").await;
    let channel = tonic::transport::Channel::from_shared(format!("http://{}", gateway.grpc_addr))
        .expect("url")
        .connect()
        .await
        .expect("connect");
    let response = HealthClient::new(channel.clone())
        .check(HealthCheckRequest {
            service: "lienthong.v1.Federation".into(),
        })
        .await
        .expect("Check")
        .into_inner();
    assert_eq!(response.status(), ServingStatus::Serving);

    let request = v1::ServerReflectionRequest {
        host: String::new(),
        message_request: Some(v1::server_reflection_request::MessageRequest::ListServices(
            String::new(),
        )),
    };
    let mut responses = v1::server_reflection_client::ServerReflectionClient::new(channel)
        .server_reflection_info(tokio_stream::iter([request]))
        .await
        .expect("reflection")
        .into_inner();
    let listed = responses
        .message()
        .await
        .expect("response")
        .expect("one")
        .message_response;
    let Some(v1::server_reflection_response::MessageResponse::ListServicesResponse(list)) = listed
    else {
        panic!("expected a service list, got {listed:?}");
    };
    let names: Vec<String> = list.service.into_iter().map(|s| s.name).collect();
    assert!(
        names.iter().any(|n| n == "lienthong.v1.Federation"),
        "{names:?}"
    );
}

#[tokio::test]
async fn calls_over_a_node_concurrency_limit_wait_only_within_their_deadline() {
    let (_databases, hung_yen, nam_dinh) = two_provinces(50).await;
    let gateway = TestGateway::start(
        &nodes(&[&hung_yen, &nam_dinh]),
        "[node_defaults]\ntimeout_ms = 400\nmax_concurrency = 1\n",
    )
    .await;
    hung_yen.faults.delay(Duration::from_millis(250));
    let first = {
        let mut client = gateway.client().await;
        tokio::spawn(async move { client.search_experts(request("nguyen", 5)).await })
    };
    assert!(
        wait_for(Duration::from_secs(3), || async {
            hung_yen.faults.started() == 1
        })
        .await,
        "the first call reaches the node"
    );
    let mut client = gateway.client().await;
    let started = Instant::now();
    let second = client
        .search_experts(request("nguyen", 5))
        .await
        .unwrap()
        .into_inner();
    // The second call waited for the only slot, got it when the first call
    // finished (~250 ms), and then ran out of its 400 ms at the node.
    let waited = started.elapsed();
    assert!(waited < Duration::from_millis(700), "{waited:?}");
    let first = first.await.unwrap().unwrap().into_inner();
    assert_eq!(
        status_of(&first.nodes, "hung-yen").outcome,
        pb::NodeOutcome::Ok as i32
    );
    let limited = status_of(&second.nodes, "hung-yen");
    assert_eq!(
        limited.outcome,
        pb::NodeOutcome::Timeout as i32,
        "{limited:?}"
    );
    assert_eq!(
        status_of(&second.nodes, "nam-dinh").outcome,
        pb::NodeOutcome::Ok as i32
    );
    // Never more than one call at the node at a time.
    assert!(hung_yen.faults.started() <= 2);
}

#[tokio::test]
async fn a_node_hit_cursor_resumes_right_after_that_hit() {
    let (_databases, hung_yen, nam_dinh) = two_provinces(300).await;
    for node in [&hung_yen, &nam_dinh] {
        let channel = tonic::transport::Channel::from_shared(node.url())
            .expect("url")
            .connect()
            .await
            .expect("connect");
        let mut client =
            lienthong_proto::v1::province_node_client::ProvinceNodeClient::new(channel);
        let search = |page_size: u32, page_token: String| pb::SearchRequest {
            query: "nguyen thi".into(),
            page_size,
            page_token,
            ..Default::default()
        };
        let ids = |hits: &[pb::ExpertHit]| {
            hits.iter()
                .map(|hit| {
                    hit.expert
                        .as_ref()
                        .unwrap()
                        .meta
                        .as_ref()
                        .unwrap()
                        .id
                        .clone()
                })
                .collect::<Vec<_>>()
        };
        let page = client
            .search_experts(search(30, String::new()))
            .await
            .unwrap()
            .into_inner();
        assert_eq!(page.hits.len(), 30);
        // The page's best rank still to come bounds what follows.
        let next_rank = page.next_page_rank.expect("a rank for the next page");
        assert!(next_rank.score <= page.hits[29].rank.as_ref().unwrap().score);
        for cut in [0, 6, 17] {
            let resumed = client
                .search_experts(search(10, page.hits[cut].cursor.clone()))
                .await
                .unwrap()
                .into_inner();
            let expected = ids(&page.hits[cut + 1..]);
            let got = ids(&resumed.hits);
            assert_eq!(
                got[..],
                expected[..got.len().min(expected.len())],
                "cut {cut}"
            );
            assert!(!got.is_empty());
        }
        // A cursor is bound to its query like a page token.
        let mut other = search(10, page.hits[3].cursor.clone());
        other.query = "tran".into();
        assert_eq!(
            client.search_experts(other).await.unwrap_err().code(),
            Code::InvalidArgument
        );
    }
}

#[tokio::test]
async fn project_and_publication_searches_answer_alike_over_http_and_grpc() {
    let (_databases, hung_yen, nam_dinh) = two_provinces(200).await;
    let gateway = TestGateway::start(&nodes(&[&hung_yen, &nam_dinh]), "").await;
    let mut client = gateway.client().await;
    // Latencies differ, and page tokens are sealed afresh each time.
    let zero_latency = |nodes: &mut Vec<pb::NodeStatus>, token: &mut String| {
        for node in nodes {
            node.latency_ms = 0.0;
        }
        token.clear();
    };

    let mut projects = request("nghiên cứu", 10);
    projects.filters = Some(pb::SearchFilters {
        statuses: vec![pb::ProjectStatus::Completed as i32],
        management_levels: vec![pb::ManagementLevel::Province as i32],
        ..Default::default()
    });
    let mut grpc = client.search_projects(projects).await.unwrap().into_inner();
    assert!(!grpc.hits.is_empty());
    for hit in &grpc.hits {
        let project = hit.project.as_ref().unwrap();
        assert_eq!(project.status, pb::ProjectStatus::Completed as i32);
        assert_eq!(
            project.management_level,
            pb::ManagementLevel::Province as i32
        );
    }
    let (code, body) = http_get(
        gateway.http_addr,
        "/api/v1/projects?q=nghi%C3%AAn%20c%E1%BB%A9u&status=completed&level=province&page_size=10",
    )
    .await
    .unwrap();
    assert_eq!(code, 200, "{body}");
    let mut http: pb::FederatedProjectsResponse = serde_json::from_str(&body).unwrap();
    zero_latency(&mut grpc.nodes, &mut grpc.next_page_token);
    zero_latency(&mut http.nodes, &mut http.next_page_token);
    assert_eq!(http, grpc);

    let mut publications = request("lúa", 10);
    publications.nodes = vec!["nam-dinh".into()];
    let mut grpc = client
        .search_publications(publications)
        .await
        .unwrap()
        .into_inner();
    assert!(
        grpc.hits
            .iter()
            .all(|hit| hit.provenance[0].node_id == "nam-dinh")
    );
    let (code, body) = http_get(
        gateway.http_addr,
        "/api/v1/publications?q=l%C3%BAa&page_size=10&node=nam-dinh",
    )
    .await
    .unwrap();
    assert_eq!(code, 200, "{body}");
    let mut http: pb::FederatedPublicationsResponse = serde_json::from_str(&body).unwrap();
    zero_latency(&mut grpc.nodes, &mut grpc.next_page_token);
    zero_latency(&mut http.nodes, &mut http.next_page_token);
    assert_eq!(http, grpc);
    assert_eq!(http.nodes.len(), 1);
}

#[tokio::test]
async fn clients_with_tiny_deadlines_cannot_open_the_breakers() {
    let (_databases, hung_yen, nam_dinh) = two_provinces(50).await;
    let gateway = TestGateway::start(
        &nodes(&[&hung_yen, &nam_dinh]),
        "[breaker]\nfailure_threshold = 2\ncool_down_ms = 60000\n",
    )
    .await;
    let mut client = gateway.client().await;
    hung_yen.faults.delay(Duration::from_millis(50));
    for _ in 0..5 {
        let mut hurried = tonic::Request::new(request("nguyen", 5));
        hurried.set_timeout(Duration::from_millis(20));
        let _ = client.search_experts(hurried).await;
        let (code, _) = http_get(gateway.http_addr, "/api/v1/experts?q=nguyen&timeout_ms=1")
            .await
            .unwrap();
        assert_eq!(code, 200);
    }
    // All-or-nothing with no time at all is refused, not answered empty.
    let (code, body) = http_get(
        gateway.http_addr,
        "/api/v1/experts?q=nguyen&timeout_ms=1&require_all_nodes=true",
    )
    .await
    .unwrap();
    assert_eq!(code, 503, "{body}");
    hung_yen.faults.heal();
    let page = client
        .search_experts(request("nguyen", 5))
        .await
        .unwrap()
        .into_inner();
    for node in &page.nodes {
        assert_eq!(node.outcome, pb::NodeOutcome::Ok as i32, "{node:?}");
    }
    let status = client
        .status(pb::FederationStatusRequest {})
        .await
        .unwrap()
        .into_inner();
    assert!(
        status
            .nodes
            .iter()
            .all(|node| node.breaker == pb::BreakerState::Closed as i32)
    );
}
