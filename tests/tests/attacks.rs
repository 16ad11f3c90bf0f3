//! The federation under attack. Each test is one finding of the security
//! review, written as the attack an outsider, a federation peer or a token
//! holder would make, over real TLS and real sockets, with the bound the
//! software must hold it to. (The argon2 burst has its own file, since it
//! measures the process's memory.)

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use lienthong_audit::ChainProblem;
use lienthong_gateway::auth::UserRole;
use lienthong_node::policy::{Operation, SharingPolicy};
use lienthong_proto::v1 as pb;
use lienthong_records::{AnyRecord, RecordKind};
use lienthong_runtime::identity::PeerIdentity;
use lienthong_tests::secure::{
    SecureGateway, SecureNode, TestPki, audit_entries, connect, gateway_client, https_get,
    https_status_from, node_client, raw_client_config, raw_tls,
};
use lienthong_tests::{TestDatabase, http_get, hung_yen_expert, load, sample_records, wait_for};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tonic::Code;

const EVERYTHING_FOR_THE_GATEWAY: &str = r#"
[[grant]]
peers = ["gateway:national"]
rpcs = ["info", "search", "get", "statistics"]
kinds = ["expert", "project", "publication", "organization"]
personal_fields = ["email", "phone", "birth_year"]

[[grant]]
peers = ["node:*"]
rpcs = ["info", "search", "get"]
kinds = ["expert", "project", "publication", "organization"]
"#;

const HUNG_YEN_POLICY: &str = include_str!("../../deploy/policies/hung-yen.toml");
const NAM_DINH_POLICY: &str = include_str!("../../deploy/policies/nam-dinh.toml");

fn bearer(token: &str) -> tonic::metadata::MetadataValue<tonic::metadata::Ascii> {
    format!("Bearer {token}").parse().expect("metadata")
}

/// The sizes of what an audit log holds: entries, and bytes of request and
/// detail text.
async fn audit_size(pool: &sqlx::AnyPool) -> (usize, usize) {
    let entries = audit_entries(pool).await;
    let bytes = entries
        .iter()
        .map(|entry| entry.request.len() + entry.detail.len())
        .sum();
    (entries.len(), bytes)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_of_refused_requests_costs_the_audit_log_a_bounded_amount() {
    let pki = TestPki::new();
    let database = TestDatabase::sqlite();
    let node = SecureNode::start(&pki, "hung-yen", &database, EVERYTHING_FOR_THE_GATEWAY).await;
    let gateway = SecureGateway::start(&pki, &[("hung-yen", node.url())], "").await;
    let ca = pki.dir().join("ca.crt");
    let huge_query = "lúa".repeat(7_000); // 21 KB of UTF-8
    let encoded: String = form_urlencoded::byte_serialize(huge_query.as_bytes()).collect();
    let requests = 200;

    // Outsiders at the gateway's HTTPS API: no token, and a made-up one.
    let mut statuses = BTreeSet::new();
    for round in 0..requests {
        let authorization = if round % 2 == 0 {
            String::new()
        } else {
            "Authorization: Bearer lt_madeup_notasecret\r\n".to_owned()
        };
        let request = format!(
            "GET /api/v1/experts?q={encoded} HTTP/1.1\r\nHost: 127.0.0.1\r\n{authorization}\
             Connection: close\r\n\r\n"
        );
        let status = https_status_from("127.0.0.1", gateway.http_addr, &ca, &request)
            .await
            .expect("an answer");
        statuses.insert(status);
    }
    assert!(
        statuses.iter().all(|status| [401, 429].contains(status)),
        "{statuses:?}"
    );
    let (entries, bytes) = audit_size(&gateway.database().await).await;
    // One full entry for the source's first refusal (its request cut to
    // 2 KB), and the rest counted at the end of the interval.
    assert!(
        entries <= 2,
        "{entries} audit entries for {requests} refusals"
    );
    assert!(
        bytes <= 6 * 1024,
        "{bytes} bytes of audit text for {requests} refusals"
    );
    let first = &audit_entries(&gateway.database().await).await[0];
    assert!(
        first.request.contains("sha256"),
        "a cut request keeps its digest: {}",
        first.request
    );

    // A federation peer the node's policy refuses, with the same query.
    let (stranger, _) = pki.issue("system:stranger");
    let mut client = node_client(&node.url(), &stranger).await;
    for _ in 0..requests {
        let status = client
            .search_experts(pb::SearchRequest {
                query: huge_query.clone(),
                ..Default::default()
            })
            .await
            .expect_err("refused by policy");
        assert_eq!(status.code(), Code::PermissionDenied, "{status:?}");
    }
    let (entries, bytes) = audit_size(node.store.pool()).await;
    assert!(
        entries <= 2,
        "{entries} node audit entries for {requests} refusals"
    );
    assert!(bytes <= 6 * 1024, "{bytes} bytes of node audit text");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn half_sent_requests_hold_neither_the_https_api_nor_its_shutdown() {
    let pki = TestPki::new();
    let database = TestDatabase::sqlite();
    let node = SecureNode::start(&pki, "hung-yen", &database, EVERYTHING_FOR_THE_GATEWAY).await;
    let ca = pki.dir().join("ca.crt");
    let gateway = SecureGateway::start(
        &pki,
        &[("hung-yen", node.url())],
        "[limits]\nhttp_header_read_timeout_ms = 1000\nmax_connections_per_address = 40\n",
    )
    .await;

    // An attacker opens more connections than its address may hold, and
    // sends half a request on each.
    let mut held = Vec::new();
    for _ in 0..60 {
        let config = raw_client_config(&ca, None, &[b"http/1.1"]);
        if let Ok(mut stream) = raw_tls(gateway.http_addr, config).await
            && stream
                .write_all(b"GET /api/v1/experts?q=a HTTP/1.1\r\nHost: 127.0.0.1\r\n")
                .await
                .is_ok()
        {
            held.push(stream);
        }
    }
    // Someone else is served at once.
    let started = Instant::now();
    let status = https_status_from(
        "127.0.0.2",
        gateway.http_addr,
        &ca,
        "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n",
    )
    .await
    .expect("served while the attacker holds connections");
    assert_eq!(status, 200);
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "served after {:?}",
        started.elapsed()
    );
    // The half-sent requests are cut once the header-read time is over.
    let mut closed = 0;
    for stream in &mut held {
        let mut byte = [0u8; 512];
        match tokio::time::timeout(Duration::from_secs(3), stream.read(&mut byte)).await {
            Ok(Ok(_)) | Ok(Err(_)) => closed += 1,
            Err(_) => {}
        }
    }
    assert_eq!(closed, held.len(), "held connections left open");

    // A keep-alive connection that answered once and then sends nothing is
    // closed after the same time.
    let config = raw_client_config(&ca, None, &[b"http/1.1"]);
    let mut idle = raw_tls(gateway.http_addr, config).await.expect("connect");
    idle.write_all(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        .await
        .expect("send");
    let mut response = vec![0u8; 4096];
    let read = idle.read(&mut response).await.expect("an answer");
    assert!(String::from_utf8_lossy(&response[..read]).starts_with("HTTP/1.1 200"));
    let idle_closed = tokio::time::timeout(Duration::from_secs(4), async {
        loop {
            match idle.read(&mut response).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
        }
    })
    .await;
    assert!(
        idle_closed.is_ok(),
        "an idle keep-alive connection was kept"
    );

    // Shutdown does not wait for clients that never finish their request.
    let slow = SecureGateway::start(
        &pki,
        &[("hung-yen", node.url())],
        "[limits]\nshutdown_grace_ms = 1000\n",
    )
    .await;
    let mut stalled = Vec::new();
    for _ in 0..10 {
        let config = raw_client_config(&ca, None, &[b"http/1.1"]);
        let mut stream = raw_tls(slow.http_addr, config).await.expect("connect");
        stream
            .write_all(b"GET /api/v1/experts?q=a HTTP/1.1\r\n")
            .await
            .expect("send");
        stalled.push(stream);
    }
    let took = slow
        .shut_down(Duration::from_secs(8))
        .await
        .expect("the gateway stopped while clients held connections");
    assert!(took < Duration::from_secs(4), "shutdown took {took:?}");
    drop(stalled);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revoked_certificate_loses_its_open_connection_within_the_maximum_age() {
    let pki = TestPki::new();
    let database = TestDatabase::sqlite();
    let node = SecureNode::start_with(
        &pki,
        "hung-yen",
        &database.url,
        EVERYTHING_FOR_THE_GATEWAY,
        "[limits]\nmax_connection_age_ms = 1500\nmax_connection_age_grace_ms = 500\n",
    )
    .await;
    let (peer, serial) = pki.issue("node:nam-dinh");
    // One connection, opened before the revocation and kept.
    let mut client = node_client(&node.url(), &peer).await;
    client
        .info(pb::InfoRequest {})
        .await
        .expect("valid before revocation");
    pki.pki.revoke(&serial).expect("revoke");
    let revoked = Instant::now();
    let cut = wait_for(Duration::from_secs(6), || {
        let mut client = client.clone();
        async move { client.info(pb::InfoRequest {}).await.is_err() }
    })
    .await;
    assert!(
        cut,
        "the revoked certificate's connection still answered {:?} after revocation",
        revoked.elapsed()
    );
    // Age 1.5 s + grace 0.5 s + CRL reload + reconnect.
    assert!(
        revoked.elapsed() < Duration::from_secs(4),
        "{:?}",
        revoked.elapsed()
    );
}

/// Browses every record of `kind` a peer may search, following page tokens.
async fn browse(
    client: &mut lienthong_proto::v1::province_node_client::ProvinceNodeClient<
        tonic::transport::Channel,
    >,
    kind: RecordKind,
) -> Vec<AnyRecord> {
    let mut out = Vec::new();
    let mut request = pb::SearchRequest {
        page_size: 100,
        ..Default::default()
    };
    loop {
        let (records, next): (Vec<AnyRecord>, String) = match kind {
            RecordKind::Expert => {
                let page = client
                    .search_experts(request.clone())
                    .await
                    .expect("experts");
                let page = page.into_inner();
                (
                    page.hits
                        .into_iter()
                        .filter_map(|h| h.expert)
                        .map(AnyRecord::Expert)
                        .collect(),
                    page.next_page_token,
                )
            }
            RecordKind::Project => {
                let page = client
                    .search_projects(request.clone())
                    .await
                    .expect("projects");
                let page = page.into_inner();
                (
                    page.hits
                        .into_iter()
                        .filter_map(|h| h.project)
                        .map(AnyRecord::Project)
                        .collect(),
                    page.next_page_token,
                )
            }
            RecordKind::Publication => {
                let page = client
                    .search_publications(request.clone())
                    .await
                    .expect("publications");
                let page = page.into_inner();
                (
                    page.hits
                        .into_iter()
                        .filter_map(|h| h.publication)
                        .map(AnyRecord::Publication)
                        .collect(),
                    page.next_page_token,
                )
            }
            RecordKind::Organization => {
                let page = client
                    .search_organizations(request.clone())
                    .await
                    .expect("organizations");
                let page = page.into_inner();
                (
                    page.hits
                        .into_iter()
                        .filter_map(|h| h.organization)
                        .map(AnyRecord::Organization)
                        .collect(),
                    page.next_page_token,
                )
            }
        };
        out.extend(records);
        if next.is_empty() {
            return out;
        }
        request.page_token = next;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_shared_record_names_a_record_its_reader_may_not_see() {
    let pki = TestPki::new();
    let hung_yen_db = TestDatabase::sqlite();
    let nam_dinh_db = match TestDatabase::postgres().await {
        Some(database) => database,
        None => TestDatabase::sqlite(),
    };
    let provinces = [
        ("hung-yen", &hung_yen_db, HUNG_YEN_POLICY),
        ("nam-dinh", &nam_dinh_db, NAM_DINH_POLICY),
    ];
    let mut references_checked = 0;
    let mut references_blanked = 0;
    for (node_id, database, policy_text) in provinces {
        let node = SecureNode::start(&pki, node_id, database, policy_text).await;
        let records = sample_records(node_id, 300);
        load(&node.store, records).await;
        let policy = SharingPolicy::parse(policy_text).expect("the deploy policy");
        // Every peer the deploy policies name, and a province they grant by
        // role.
        let peers = [
            "gateway:national",
            "system:national-sti",
            "node:hung-yen",
            "node:nam-dinh",
        ];
        for peer in peers.into_iter().filter(|peer| !peer.ends_with(node_id)) {
            let identity: PeerIdentity = peer.parse().expect("identity");
            let permissions = policy.permissions(Some(&identity));
            if permissions.check(peer, Operation::Search, None).is_err() {
                continue;
            }
            let (files, _) = pki.issue(peer);
            let mut client = node_client(&node.url(), &files).await;
            for kind in permissions.kinds.iter().copied() {
                for record in browse(&mut client, kind).await {
                    let stored = node
                        .store
                        .get(record.id())
                        .await
                        .expect("get")
                        .expect("a record that exists");
                    references_blanked +=
                        stored.record.references().len() - record.references().len();
                    for id in record.references() {
                        references_checked += 1;
                        let target = node.store.get(id).await.expect("get");
                        let visible = target.as_ref().is_some_and(|target| {
                            target.shareable && permissions.kinds.contains(&target.record.kind())
                        });
                        assert!(
                            visible,
                            "{node_id} showed {peer} {} naming {id}, which {peer} may not see",
                            record.id()
                        );
                    }
                }
            }
            // Filtering by an organization the peer may not see finds nothing.
            if permissions.kinds.contains(&RecordKind::Project)
                && !permissions.kinds.contains(&RecordKind::Organization)
            {
                let page = client
                    .search_projects(pb::SearchRequest {
                        filters: Some(pb::SearchFilters {
                            organization_id: format!("{node_id}:organization:O00000"),
                            ..Default::default()
                        }),
                        ..Default::default()
                    })
                    .await
                    .expect("search")
                    .into_inner();
                assert!(
                    page.hits.is_empty(),
                    "{peer} filtered by a hidden organization"
                );
            }
        }
    }
    assert!(
        references_checked > 500,
        "only {references_checked} references checked"
    );
    assert!(
        references_blanked > 50,
        "only {references_blanked} references blanked"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refusals_by_one_province_never_open_its_breaker() {
    let pki = TestPki::new();
    let hung_yen_db = TestDatabase::sqlite();
    let nam_dinh_db = TestDatabase::sqlite();
    let hung_yen = SecureNode::start(&pki, "hung-yen", &hung_yen_db, HUNG_YEN_POLICY).await;
    let nam_dinh = SecureNode::start(&pki, "nam-dinh", &nam_dinh_db, NAM_DINH_POLICY).await;
    load(&hung_yen.store, sample_records("hung-yen", 50)).await;
    load(&nam_dinh.store, sample_records("nam-dinh", 50)).await;
    let gateway = SecureGateway::start(
        &pki,
        &[("hung-yen", hung_yen.url()), ("nam-dinh", nam_dinh.url())],
        "[breaker]\nfailure_threshold = 5\ncool_down_ms = 60000\n",
    )
    .await;
    let officer = gateway.token("tran.thi.binh", UserRole::Officer).await;
    let (staff, _) = pki.issue("staff:tran-thi-binh");
    let mut client = gateway_client(&gateway.url(), &staff).await;
    let search = |year_from: u32| {
        let mut request = tonic::Request::new(pb::FederatedSearchRequest {
            query: "nguyen".into(),
            filters: Some(pb::SearchFilters {
                year_from,
                ..Default::default()
            }),
            page_size: 5,
            ..Default::default()
        });
        request
            .metadata_mut()
            .insert("authorization", bearer(&officer));
        request
    };
    // Nam Định does not disclose birth years: it refuses each of these.
    for _ in 0..8 {
        let page = client
            .search_experts(search(1970))
            .await
            .expect("an answer")
            .into_inner();
        let nam_dinh_status = &page.nodes[1];
        assert_eq!(nam_dinh_status.outcome, pb::NodeOutcome::Error as i32);
        assert!(
            nam_dinh_status.message.contains("PermissionDenied"),
            "{nam_dinh_status:?}"
        );
    }
    // Every user is still served by Nam Định.
    let page = client
        .search_experts(search(0))
        .await
        .expect("an answer")
        .into_inner();
    assert_eq!(
        page.nodes[1].outcome,
        pb::NodeOutcome::Ok as i32,
        "{:?}",
        page.nodes[1]
    );
}

/// A unary call to an arbitrary path.
async fn call_path(
    channel: tonic::transport::Channel,
    path: &str,
) -> Result<pb::NodeInfo, tonic::Status> {
    let mut grpc = tonic::client::Grpc::new(channel);
    grpc.ready()
        .await
        .map_err(|error| tonic::Status::unavailable(error.to_string()))?;
    let codec = tonic_prost::ProstCodec::<pb::InfoRequest, pb::NodeInfo>::default();
    grpc.unary(
        tonic::Request::new(pb::InfoRequest {}),
        path.parse().expect("path"),
        codec,
    )
    .await
    .map(tonic::Response::into_inner)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invented_methods_grow_no_metrics_and_health_has_a_budget() {
    let pki = TestPki::new();
    let database = TestDatabase::sqlite();
    let node = SecureNode::start_with(
        &pki,
        "hung-yen",
        &database.url,
        EVERYTHING_FOR_THE_GATEWAY,
        "[limits]\npeer_requests_per_minute = 600\npeer_burst = 400\n",
    )
    .await;
    let gateway = SecureGateway::start(&pki, &[("hung-yen", node.url())], "").await;
    let (peer, _) = pki.issue("node:nam-dinh");
    for (server, url, admin) in [
        ("node", node.url(), node.admin_addr),
        ("gateway", gateway.url(), gateway.admin_addr),
    ] {
        let channel = connect(&url, Some(&peer)).await.expect("connect");
        let (_, before) = http_get(admin, "/metrics").await.expect("metrics");
        for n in 0..300 {
            let path = format!("/lienthong.v1.ProvinceNode/Invented{n}");
            let status = call_path(channel.clone(), &path)
                .await
                .expect_err("no such method");
            assert_eq!(status.code(), Code::Unimplemented, "{server}: {status:?}");
        }
        let (_, after) = http_get(admin, "/metrics").await.expect("metrics");
        assert!(
            !after.contains("Invented"),
            "{server}: invented paths in /metrics"
        );
        assert!(
            after.len() < before.len() + 4_096,
            "{server}: /metrics grew from {} to {} bytes",
            before.len(),
            after.len()
        );
    }
    // The node audits them (counted per peer).
    let entries = audit_entries(node.store.pool()).await;
    assert!(
        entries
            .iter()
            .any(|entry| entry.peer == "node:nam-dinh" && entry.action == "unknown"),
        "unknown methods are audited"
    );
    // The gateway's metrics are not on its public port.
    let ca = pki.dir().join("ca.crt");
    let (code, _) = https_get(gateway.http_addr, &ca, "/metrics", None).await;
    assert_ne!(code, 200);

    // Health checks are open but budgeted per peer: past the burst (which
    // the calls above used up), they are refused.
    let channel = connect(&node.url(), Some(&peer)).await.expect("connect");
    let mut health = tonic_health::pb::health_client::HealthClient::new(channel);
    let mut refused = 0;
    for _ in 0..150 {
        if let Err(status) = health
            .check(tonic_health::pb::HealthCheckRequest::default())
            .await
        {
            assert_eq!(status.code(), Code::ResourceExhausted, "{status:?}");
            refused += 1;
        }
    }
    assert!(refused > 0, "health checks have no budget");
}

/// The bytes inside a sealed token (after its prefix), and the token with
/// the last of them changed.
fn altered(token: &str) -> String {
    let (prefix, body) = token.split_once('.').expect("a prefixed token");
    let mut bytes = URL_SAFE_NO_PAD.decode(body).expect("base64");
    let last = bytes.len() - 1;
    bytes[last] ^= 0x01;
    format!("{prefix}.{}", URL_SAFE_NO_PAD.encode(bytes))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn page_tokens_cannot_be_forged_replayed_or_made_to_count_hidden_rows() {
    let pki = TestPki::new();
    let with_hidden_db = TestDatabase::sqlite();
    let without_db = TestDatabase::sqlite();
    let with_hidden = SecureNode::start(
        &pki,
        "hung-yen",
        &with_hidden_db,
        EVERYTHING_FOR_THE_GATEWAY,
    )
    .await;
    let without =
        SecureNode::start(&pki, "hung-yen", &without_db, EVERYTHING_FOR_THE_GATEWAY).await;
    // 2,500 internal experts named like the 40 shared ones, written first
    // (so they come first in storage order).
    let hidden: Vec<AnyRecord> = (0..2_500)
        .map(|n| {
            let mut expert = hung_yen_expert(&format!("H{n:05}"), &format!("Nguyễn Văn Ẩn {n}"));
            if let Some(meta) = expert.meta.as_mut() {
                meta.visibility = pb::Visibility::Internal as i32;
            }
            AnyRecord::Expert(expert)
        })
        .collect();
    let shared: Vec<AnyRecord> = (0..40)
        .map(|n| {
            AnyRecord::Expert(hung_yen_expert(
                &format!("S{n:03}"),
                &format!("Nguyễn Văn Hiện {n}"),
            ))
        })
        .collect();
    load(&with_hidden.store, hidden).await;
    load(&with_hidden.store, shared.clone()).await;
    load(&without.store, shared).await;

    let (peer, _) = pki.issue("node:nam-dinh");
    let pages = |url: String| {
        let peer = peer.clone();
        async move {
            let mut client = node_client(&url, &peer).await;
            let mut request = pb::SearchRequest {
                query: "nguyen van".into(),
                page_size: 10,
                ..Default::default()
            };
            let mut pages: Vec<Vec<String>> = Vec::new();
            let mut tokens = Vec::new();
            loop {
                let page = client
                    .search_experts(request.clone())
                    .await
                    .expect("search")
                    .into_inner();
                pages.push(
                    page.hits
                        .iter()
                        .filter_map(|hit| hit.expert.as_ref())
                        .map(|expert| expert.meta.as_ref().expect("meta").id.clone())
                        .collect(),
                );
                if page.next_page_token.is_empty() {
                    return (pages, tokens);
                }
                tokens.push(page.next_page_token.clone());
                request.page_token = page.next_page_token;
            }
        }
    };
    let (seen_with_hidden, tokens) = pages(with_hidden.url()).await;
    let (seen_without, _) = pages(without.url()).await;
    // Pages reach exactly as far with or without the hidden records: full
    // pages of shared experts from the first page on.
    assert_eq!(seen_with_hidden, seen_without);
    let sizes: Vec<usize> = seen_with_hidden.iter().map(Vec::len).collect();
    assert_eq!(sizes[..4], [10, 10, 10, 10], "{sizes:?}");
    assert_eq!(sizes.iter().sum::<usize>(), 40, "{sizes:?}");

    let mut client = node_client(&with_hidden.url(), &peer).await;
    let next = |token: String| pb::SearchRequest {
        query: "nguyen van".into(),
        page_size: 10,
        page_token: token,
        ..Default::default()
    };
    // A token changed by one bit is refused.
    let status = client
        .search_experts(next(altered(&tokens[0])))
        .await
        .expect_err("an altered token");
    assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");
    // Another caller cannot use it.
    let (gateway, _) = pki.issue("gateway:national");
    let status = node_client(&with_hidden.url(), &gateway)
        .await
        .search_experts(next(tokens[0].clone()))
        .await
        .expect_err("another caller's token");
    assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");
    // Another node's token means nothing here.
    let (_, other_tokens) = pages(without.url()).await;
    let status = client
        .search_experts(next(other_tokens[0].clone()))
        .await
        .expect_err("another node's token");
    assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");
    // The token's own caller may replay it (reloading a page).
    client
        .search_experts(next(tokens[0].clone()))
        .await
        .expect("the same caller, the same page");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cut_audit_log_stays_cut_across_a_restart() {
    for database in TestDatabase::each_backend().await {
        let backend = database.backend;
        let pki = TestPki::new();
        let node = SecureNode::start(&pki, "hung-yen", &database, EVERYTHING_FOR_THE_GATEWAY).await;
        let (peer, _) = pki.issue("node:nam-dinh");
        let mut client = node_client(&node.url(), &peer).await;
        for _ in 0..5 {
            client.info(pb::InfoRequest {}).await.expect("info");
        }
        let pool = lienthong_store::connect(&database.url, 2)
            .await
            .expect("open the node's database")
            .0;
        if backend == lienthong_store::Backend::Sqlite {
            // Entries are on disk before the answer: FULL sync on the log.
            let (mode,): (i64,) = sqlx::query_as("PRAGMA audit.synchronous")
                .fetch_one(&pool)
                .await
                .expect("pragma");
            assert_eq!(mode, 2, "{backend:?}: audit.synchronous is not FULL");
        }
        drop(client);
        drop(node);
        // Someone deletes the newest entries.
        sqlx::query("DELETE FROM audit_log WHERE seq > (SELECT MAX(seq) - 2 FROM audit_log)")
            .execute(&pool)
            .await
            .expect("delete the tail");
        let truncated = |verification: lienthong_audit::Verification| {
            matches!(verification.problem, Some(ChainProblem::Truncated { .. }))
        };
        assert!(truncated(
            lienthong_audit::verify(&pool).await.expect("verify")
        ));

        // The node restarts: it refuses to append over the gap and says why.
        let restarted = SecureNode::try_start(
            &pki,
            "hung-yen",
            &database.url,
            EVERYTHING_FOR_THE_GATEWAY,
            "",
        )
        .await;
        let Err(error) = restarted else {
            panic!("{backend:?}: a node over a cut log must not serve");
        };
        assert!(error.contains("head anchor"), "{backend:?}: {error}");
        assert!(
            truncated(lienthong_audit::verify(&pool).await.expect("verify")),
            "{backend:?}: the cut is still reported after the restart"
        );

        // Deleting the anchor too, or the whole log, is noticed as well.
        let restart = || {
            SecureNode::try_start(
                &pki,
                "hung-yen",
                &database.url,
                EVERYTHING_FOR_THE_GATEWAY,
                "",
            )
        };
        sqlx::query("DELETE FROM audit_anchor WHERE name = 'head'")
            .execute(&pool)
            .await
            .expect("delete the anchor");
        let Err(error) = restart().await else {
            panic!("{backend:?}: a log without its anchor must not be continued");
        };
        assert!(error.contains("anchor is missing"), "{backend:?}: {error}");
        sqlx::query("DELETE FROM audit_log")
            .execute(&pool)
            .await
            .expect("delete the log");
        let Err(error) = restart().await else {
            panic!("{backend:?}: a deleted log must not be started afresh");
        };
        assert!(error.contains("held one before"), "{backend:?}: {error}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn info_reveals_nothing_of_hidden_writes_and_unknown_kinds() {
    let pki = TestPki::new();
    let database = TestDatabase::sqlite();
    let node = SecureNode::start(&pki, "nam-dinh", &database, NAM_DINH_POLICY).await;
    load(&node.store, sample_records("nam-dinh", 50)).await;
    let (peer, _) = pki.issue("node:hung-yen");
    let mut client = node_client(&node.url(), &peer).await;
    let before = client
        .info(pb::InfoRequest {})
        .await
        .expect("info")
        .into_inner();
    // The gateway is granted experts: it sees one change below, not two.
    let (gateway, _) = pki.issue("gateway:national");
    let mut gateway_client = node_client(&node.url(), &gateway).await;
    let gateway_before = gateway_client
        .info(pb::InfoRequest {})
        .await
        .expect("info")
        .into_inner();
    // Writes to a hidden record and to a kind Hưng Yên may not see.
    let mut hidden_expert = hung_yen_expert("X1", "Nguyễn Văn Nội Bộ");
    hidden_expert.meta = Some(lienthong_tests::federation_meta("nam-dinh:expert:X1"));
    let mut shared_expert = hidden_expert.clone();
    shared_expert.meta = Some(lienthong_tests::federation_meta("nam-dinh:expert:X2"));
    if let Some(meta) = hidden_expert.meta.as_mut() {
        meta.visibility = pb::Visibility::Internal as i32;
    }
    node.store
        .upsert(vec![
            AnyRecord::Expert(hidden_expert),
            AnyRecord::Expert(shared_expert),
        ])
        .await
        .expect("write");
    let after = client
        .info(pb::InfoRequest {})
        .await
        .expect("info")
        .into_inner();
    assert_eq!(after.last_change_seq, before.last_change_seq);
    assert_eq!(after.counts, before.counts);
    let gateway_after = gateway_client
        .info(pb::InfoRequest {})
        .await
        .expect("info")
        .into_inner();
    assert_eq!(
        gateway_after.last_change_seq,
        gateway_before.last_change_seq + 1,
        "only the shared expert's write counts"
    );
}
