//! Security over real sockets and real TLS: which connections are refused
//! (no certificate, another CA, expired, not yet valid, revoked while
//! running), who may call what (peer roles, end-user identity, tokens, user
//! roles, rate limits), and that every call is audited.

use std::time::Duration;

use lienthong_audit::Outcome;
use lienthong_gateway::auth::{TokenStore, UserRole};
use lienthong_pki::IssueRequest;
use lienthong_proto::v1 as pb;
use lienthong_runtime::tls::TlsFiles;
use lienthong_tests::secure::{
    SecureGateway, SecureNode, TestPki, audit_entries, connect, gateway_client, https_get,
    node_client, raw_client_config, raw_tls,
};
use lienthong_tests::{TestDatabase, load, sample_records, wait_for};
use time::OffsetDateTime;
use tonic::Code;

/// What the security tests' nodes share, with whom.
const POLICY: &str = r#"
[[grant]]
peers = ["gateway:national", "system:prober"]
rpcs = ["info", "search", "get", "statistics"]
kinds = ["expert", "project", "publication", "organization"]
personal_fields = ["email", "phone", "birth_year"]

[[grant]]
peers = ["node:*"]
rpcs = ["info", "search", "get"]
kinds = ["expert", "project", "publication", "organization"]
"#;

async fn info(url: &str, files: Option<&TlsFiles>) -> Result<pb::NodeInfo, String> {
    let channel = connect(url, files)
        .await
        .map_err(|error| format!("connect: {error:?}"))?;
    let mut client = lienthong_proto::v1::province_node_client::ProvinceNodeClient::new(channel);
    client
        .info(pb::InfoRequest {})
        .await
        .map(tonic::Response::into_inner)
        .map_err(|status| format!("{:?}: {}", status.code(), status.message()))
}

/// A TLS handshake presenting `client` (or no certificate), then an HTTP/2
/// preface: true only if the server answers.
async fn answers(
    address: std::net::SocketAddr,
    ca: &std::path::Path,
    client: Option<&TlsFiles>,
) -> bool {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let config = raw_client_config(ca, client, &[b"h2"]);
    let Ok(mut stream) = raw_tls(address, config).await else {
        return false;
    };
    if stream
        .write_all(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\x00\x00\x00\x04\x00\x00\x00\x00\x00")
        .await
        .is_err()
    {
        return false;
    }
    let mut buffer = [0u8; 64];
    matches!(
        tokio::time::timeout(Duration::from_secs(5), stream.read(&mut buffer)).await,
        Ok(Ok(n)) if n > 0
    )
}

fn issue_with_validity(
    pki: &TestPki,
    identity: &str,
    not_before: OffsetDateTime,
    not_after: OffsetDateTime,
) -> TlsFiles {
    pki.issue_request(IssueRequest {
        identity: identity.parse().expect("identity"),
        hosts: Vec::new(),
        not_before,
        not_after,
    })
    .0
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nodes_and_the_gateway_refuse_connections_without_a_valid_certificate() {
    let pki = TestPki::new();
    let other_ca = TestPki::new();
    let database = TestDatabase::sqlite();
    let node = SecureNode::start(&pki, "hung-yen", &database, POLICY).await;
    let gateway = SecureGateway::start(&pki, &[("hung-yen", node.url())], "").await;
    let (prober, _) = pki.issue("system:prober");
    let now = OffsetDateTime::now_utc();
    let expired = issue_with_validity(
        &pki,
        "system:prober",
        now - time::Duration::days(30),
        now - time::Duration::days(1),
    );
    let not_yet_valid = issue_with_validity(
        &pki,
        "system:prober",
        now + time::Duration::days(1),
        now + time::Duration::days(30),
    );
    let (foreign, _) = other_ca.issue("system:prober");
    // The foreign certificate presented with our CA bundle (so the client
    // trusts the server, and only the server's check can refuse it).
    let foreign = TlsFiles {
        ca_bundle: prober.ca_bundle.clone(),
        ..foreign
    };

    // The right certificate works: the tests below can fail.
    info(&node.url(), Some(&prober))
        .await
        .expect("a valid certificate is accepted");

    for (what, files) in [
        ("a certificate from another CA", &foreign),
        ("an expired certificate", &expired),
        ("a certificate not yet valid", &not_yet_valid),
    ] {
        let refused = info(&node.url(), Some(files)).await;
        assert!(refused.is_err(), "the node accepted {what}: {refused:?}");
        let channel = connect(&gateway.url(), Some(files)).await;
        let answered = match channel {
            Ok(channel) => lienthong_proto::v1::federation_client::FederationClient::new(channel)
                .statistics(pb::FederatedStatisticsRequest::default())
                .await
                .is_ok(),
            Err(_) => false,
        };
        assert!(!answered, "the gateway's gRPC accepted {what}");
    }
    assert!(
        answers(node.grpc_addr, &prober.ca_bundle, Some(&prober)).await,
        "the raw handshake works with a certificate"
    );
    assert!(
        !answers(node.grpc_addr, &prober.ca_bundle, None).await,
        "the node answered a client without a certificate"
    );
    assert!(
        !answers(gateway.grpc_addr, &prober.ca_bundle, None).await,
        "the gateway's gRPC answered a client without a certificate"
    );
    // Plaintext to a TLS port gets nowhere either.
    let plaintext = info(&node.url().replace("https://", "http://"), None).await;
    assert!(plaintext.is_err(), "{plaintext:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revoked_certificate_is_refused_without_a_restart() {
    let pki = TestPki::new();
    let database = TestDatabase::sqlite();
    let node = SecureNode::start(&pki, "hung-yen", &database, POLICY).await;
    let gateway = SecureGateway::start(
        &pki,
        &[("hung-yen", node.url())],
        "[auth.certificate_roles]\n\"system:prober\" = \"viewer\"\n",
    )
    .await;
    let (prober, serial) = pki.issue("system:prober");
    let (other, _) = pki.issue("node:nam-dinh");
    let gateway_answers = |files: TlsFiles| {
        let url = gateway.url();
        async move {
            match connect(&url, Some(&files)).await {
                Ok(channel) => {
                    lienthong_proto::v1::federation_client::FederationClient::new(channel)
                        .statistics(pb::FederatedStatisticsRequest::default())
                        .await
                        .is_ok()
                }
                Err(_) => false,
            }
        }
    };
    info(&node.url(), Some(&prober))
        .await
        .expect("valid before revocation");
    assert!(
        gateway_answers(prober.clone()).await,
        "the gateway accepts it before revocation"
    );

    pki.pki.revoke(&serial).expect("revoke");
    let refused = wait_for(Duration::from_secs(10), || async {
        info(&node.url(), Some(&prober)).await.is_err() && !gateway_answers(prober.clone()).await
    })
    .await;
    assert!(
        refused,
        "the revoked certificate was still accepted 10 s after the CRL changed"
    );
    // Only that certificate: another one still works.
    info(&node.url(), Some(&other))
        .await
        .expect("an unrevoked certificate still works");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_gateway_refuses_a_node_that_presents_another_identity() {
    let pki = TestPki::new();
    let database = TestDatabase::sqlite();
    let nam_dinh = SecureNode::start(&pki, "nam-dinh", &database, POLICY).await;
    // The registry says hung-yen lives where nam-dinh answers.
    let (admin, _) = pki.issue("system:prober");
    let gateway = SecureGateway::start(
        &pki,
        &[("hung-yen", nam_dinh.url())],
        "[auth.certificate_roles]\n\"system:prober\" = \"admin\"\n",
    )
    .await;
    let status = gateway_client(&gateway.url(), &admin)
        .await
        .status(pb::FederationStatusRequest {})
        .await
        .expect("status")
        .into_inner();
    let node = &status.nodes[0];
    assert_ne!(node.outcome, pb::NodeOutcome::Ok as i32, "{node:?}");
    assert!(
        node.message.contains("expected node:hung-yen"),
        "{}",
        node.message
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn peers_get_what_the_policy_grants_and_only_gateways_act_for_users() {
    let pki = TestPki::new();
    let database = TestDatabase::sqlite();
    let node = SecureNode::start_with(
        &pki,
        "hung-yen",
        &database.url,
        POLICY,
        "[audit]\nrefusal_interval_seconds = 1\n",
    )
    .await;
    load(&node.store, sample_records("hung-yen", 50)).await;
    let (staff, _) = pki.issue("staff:an");
    let (peer_node, _) = pki.issue("node:nam-dinh");
    let (gateway, _) = pki.issue("gateway:national");

    // A certificate from the CA without a federation identity is nobody:
    // refused, even though plaintext callers ("insecure-anonymous") might be
    // granted something.
    let nobody = pki.issue_without_identity();
    let status = node_client(&node.url(), &nobody)
        .await
        .info(pb::InfoRequest {})
        .await
        .expect_err("no identity, no answer");
    assert_eq!(status.code(), Code::Unauthenticated, "{status:?}");

    // A staff certificate is not a peer: the node's RPCs are refused.
    let status = node_client(&node.url(), &staff)
        .await
        .search_experts(pb::SearchRequest {
            query: "nguyen".into(),
            ..Default::default()
        })
        .await
        .expect_err("staff may not search the node");
    assert_eq!(status.code(), Code::PermissionDenied, "{status:?}");
    assert!(
        status.message().contains("staff:an"),
        "{}",
        status.message()
    );

    // A node may search, but not call statistics (not granted).
    let mut client = node_client(&node.url(), &peer_node).await;
    client
        .search_experts(pb::SearchRequest {
            query: "nguyen".into(),
            ..Default::default()
        })
        .await
        .expect("a node may search");
    let status = client
        .statistics(pb::StatisticsRequest {})
        .await
        .expect_err("statistics are not granted to nodes");
    assert_eq!(status.code(), Code::PermissionDenied);

    // Year filters on experts select by birth year: not for callers that
    // may not see it.
    let status = client
        .search_experts(pb::SearchRequest {
            filters: Some(pb::SearchFilters {
                year_from: 1970,
                year_to: 1970,
                ..Default::default()
            }),
            ..Default::default()
        })
        .await
        .expect_err("no birth-year probing");
    assert_eq!(status.code(), Code::PermissionDenied, "{status:?}");

    // A node saying it acts for an end user is refused.
    let mut request = tonic::Request::new(pb::InfoRequest {});
    request
        .metadata_mut()
        .insert("x-lienthong-end-user", "mallory".parse().expect("metadata"));
    let status = client
        .info(request)
        .await
        .expect_err("only gateways act for users");
    assert_eq!(status.code(), Code::PermissionDenied);
    assert!(status.message().contains("gateway"), "{}", status.message());

    // The gateway may, and the node's audit log names the user.
    let mut request = tonic::Request::new(pb::InfoRequest {});
    request.metadata_mut().insert(
        "x-lienthong-end-user",
        "nguyen.van.an".parse().expect("metadata"),
    );
    request.metadata_mut().insert(
        "x-lienthong-end-user-role",
        "officer".parse().expect("metadata"),
    );
    node_client(&node.url(), &gateway)
        .await
        .info(request)
        .await
        .expect("a gateway acts for a user");

    // Each caller's first refusal is written in full; node:nam-dinh's next
    // two (whatever end user it claims) are counted and written once the
    // interval ends.
    tokio::time::sleep(std::time::Duration::from_millis(2_500)).await;
    let entries = audit_entries(node.store.pool()).await;
    let denied: Vec<_> = entries
        .iter()
        .filter(|entry| entry.outcome == Outcome::Denied)
        .map(|entry| (entry.peer.as_str(), entry.action.as_str()))
        .collect();
    assert_eq!(
        denied,
        [
            ("unidentified certificate", "Info"),
            ("staff:an", "SearchExperts"),
            ("node:nam-dinh", "Statistics"),
            ("node:nam-dinh", "refusals"),
        ]
    );
    let counted: serde_json::Value = serde_json::from_str(
        &entries
            .iter()
            .find(|entry| entry.action == "refusals")
            .expect("counted refusals")
            .request,
    )
    .expect("JSON");
    assert_eq!(counted["count"], 2, "{counted}");
    assert_eq!(counted["by_action"]["SearchExperts"], 1, "{counted}");
    assert_eq!(counted["by_action"]["Info"], 1, "{counted}");
    let last = entries
        .iter()
        .rfind(|entry| entry.outcome == Outcome::Ok)
        .expect("entries");
    assert_eq!(
        (last.peer.as_str(), last.end_user.as_str(), last.outcome),
        ("gateway:national", "nguyen.van.an", Outcome::Ok)
    );
    assert!(
        lienthong_audit::verify(node.store.pool())
            .await
            .expect("verify")
            .problem
            .is_none()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_that_are_wrong_expired_or_revoked_are_refused_and_roles_apply() {
    let pki = TestPki::new();
    let database = TestDatabase::sqlite();
    let node = SecureNode::start(&pki, "hung-yen", &database, POLICY).await;
    load(&node.store, sample_records("hung-yen", 100)).await;
    let gateway = SecureGateway::start(
        &pki,
        &[("hung-yen", node.url())],
        "[auth]\ntoken_cache_seconds = 0\n",
    )
    .await;
    let viewer = gateway.token("viewer.user", UserRole::Viewer).await;
    let officer = gateway.token("officer.user", UserRole::Officer).await;
    let admin = gateway.token("admin.user", UserRole::Admin).await;
    let tokens = TokenStore::open(gateway.database().await)
        .await
        .expect("tokens");
    let (expired, _) = tokens
        .create(
            "late.user",
            UserRole::Admin,
            Some(time::Duration::seconds(-1)),
        )
        .await
        .expect("token");
    let (revoked, revoked_info) = tokens
        .create("gone.user", UserRole::Admin, None)
        .await
        .expect("token");
    let ca = pki.dir().join("ca.crt");
    let http = gateway.http_addr;
    let search = "/api/v1/experts?q=nguyen&page_size=50";

    let (code, body) = https_get(http, &ca, search, Some(&revoked)).await;
    assert_eq!(code, 200, "{body}");
    tokens.revoke(&revoked_info.id).await.expect("revoke");

    let wrong = format!("{}x", &viewer[..viewer.len() - 1]);
    for (what, token) in [
        ("no token", None),
        ("a wrong token", Some(wrong.as_str())),
        ("an expired token", Some(expired.as_str())),
        ("a revoked token", Some(revoked.as_str())),
        ("not a token", Some("hello")),
    ] {
        let (code, body) = https_get(http, &ca, search, token).await;
        assert_eq!(code, 401, "{what}: {body}");
        assert!(body.contains("UNAUTHENTICATED"), "{what}: {body}");
    }

    // A malformed request says nothing to a caller without credentials.
    let (code, body) = https_get(http, &ca, "/api/v1/experts?bogus=1", None).await;
    assert_eq!(code, 401, "{body}");
    let (code, body) = https_get(http, &ca, "/api/v1/experts?bogus=1", Some(&viewer)).await;
    assert_eq!(code, 400, "{body}");

    // Viewers never see personal fields; officers see what the node shares.
    let personal = |body: &str| -> usize {
        let page: serde_json::Value = serde_json::from_str(body).expect("JSON");
        page["hits"]
            .as_array()
            .expect("hits")
            .iter()
            .filter(|hit| {
                hit["expert"].get("birthYear").is_some() || hit["expert"].get("contact").is_some()
            })
            .count()
    };
    let (code, body) = https_get(http, &ca, search, Some(&viewer)).await;
    assert_eq!(code, 200, "{body}");
    assert_eq!(personal(&body), 0, "a viewer saw personal fields: {body}");
    let (code, body) = https_get(http, &ca, search, Some(&officer)).await;
    assert_eq!(code, 200, "{body}");
    assert!(
        personal(&body) > 0,
        "an officer saw no personal fields: {body}"
    );

    // Nor read them as a histogram.
    let birth_years = |body: &str| -> usize {
        let statistics: serde_json::Value = serde_json::from_str(body).expect("JSON");
        statistics["provinces"]
            .as_array()
            .expect("provinces")
            .iter()
            .flat_map(|province| province["kinds"].as_array().cloned().unwrap_or_default())
            .filter(|kind| kind["kind"] == "expert")
            .map(|kind| kind["byYear"].as_array().map_or(0, Vec::len))
            .sum()
    };
    let (_, body) = https_get(http, &ca, "/api/v1/statistics", Some(&viewer)).await;
    assert_eq!(birth_years(&body), 0, "a viewer saw birth years: {body}");
    let (_, body) = https_get(http, &ca, "/api/v1/statistics", Some(&officer)).await;
    assert!(
        birth_years(&body) > 0,
        "an officer saw no birth years: {body}"
    );

    // Nor may viewers select experts by birth year.
    let by_year = "/api/v1/experts?year_from=1970&year_to=1975";
    let (code, body) = https_get(http, &ca, by_year, Some(&viewer)).await;
    assert_eq!(code, 403, "{body}");
    let (code, body) = https_get(http, &ca, by_year, Some(&officer)).await;
    assert_eq!(code, 200, "{body}");

    // Federation status and audit summaries are for administrators.
    for path in ["/api/v1/status", "/api/v1/audit/summary"] {
        for token in [&viewer, &officer] {
            let (code, body) = https_get(http, &ca, path, Some(token)).await;
            assert_eq!(code, 403, "{path}: {body}");
        }
        let (code, body) = https_get(http, &ca, path, Some(&admin)).await;
        assert_eq!(code, 200, "{path}: {body}");
    }
    let (_, body) = https_get(http, &ca, "/api/v1/audit/summary", Some(&admin)).await;
    let summary: serde_json::Value = serde_json::from_str(&body).expect("JSON");
    assert!(
        summary["by_outcome"]
            .as_array()
            .expect("outcomes")
            .iter()
            .any(|pair| pair[0] == "denied"),
        "{summary}"
    );

    // Each node's audit log says which user the gateway asked for.
    let entries = audit_entries(node.store.pool()).await;
    for user in ["viewer.user", "officer.user"] {
        assert!(
            entries.iter().any(|entry| entry.end_user == user),
            "{user} missing from the node's audit log"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_user_has_a_rate_limit() {
    let pki = TestPki::new();
    let database = TestDatabase::sqlite();
    let node = SecureNode::start(&pki, "hung-yen", &database, POLICY).await;
    let gateway = SecureGateway::start(
        &pki,
        &[("hung-yen", node.url())],
        "[auth]\nrequests_per_minute = 6\nburst = 3\nfailures_per_minute = 6\nfailure_burst = 3\n",
    )
    .await;
    let first = gateway.token("first", UserRole::Viewer).await;
    let second = gateway.token("second", UserRole::Viewer).await;
    let ca = pki.dir().join("ca.crt");
    let path = "/api/v1/experts?q=nguyen";
    for _ in 0..3 {
        let (code, body) = https_get(gateway.http_addr, &ca, path, Some(&first)).await;
        assert_eq!(code, 200, "{body}");
    }
    let (code, body) = https_get(gateway.http_addr, &ca, path, Some(&first)).await;
    assert_eq!(code, 429, "{body}");
    assert!(body.contains("first"), "{body}");
    let (code, body) = https_get(gateway.http_addr, &ca, path, Some(&second)).await;
    assert_eq!(code, 200, "another user is not limited: {body}");

    // Guessing tokens is limited per address: after the burst of failures,
    // even a valid token from that address waits.
    let wrong = format!("{}x", &second[..second.len() - 1]);
    for _ in 0..3 {
        let (code, body) = https_get(gateway.http_addr, &ca, path, Some(&wrong)).await;
        assert_eq!(code, 401, "{body}");
    }
    let (code, body) = https_get(gateway.http_addr, &ca, path, Some(&wrong)).await;
    assert_eq!(code, 429, "{body}");
    assert!(body.contains("failed authentications"), "{body}");
}

/// The leaf certificate the server at `address` presents.
async fn served_certificate(address: std::net::SocketAddr, client: &TlsFiles) -> Vec<u8> {
    let config = raw_client_config(&client.ca_bundle, Some(client), &[b"h2"]);
    let stream = raw_tls(address, config).await.expect("handshake");
    stream
        .get_ref()
        .1
        .peer_certificates()
        .expect("server certificate")[0]
        .as_ref()
        .to_vec()
}

fn certificate_der(path: &std::path::Path) -> Vec<u8> {
    use rustls_pki_types::pem::PemObject;
    rustls_pki_types::CertificateDer::from_pem_file(path)
        .expect("certificate")
        .as_ref()
        .to_vec()
}

/// Replaces `target` with `source`'s content the way deployment tools do:
/// written beside, then renamed over.
fn replace_file(source: &std::path::Path, target: &std::path::Path) {
    let temporary = target.with_extension("incoming");
    std::fs::copy(source, &temporary).expect("copy");
    std::fs::rename(&temporary, target).expect("rename");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rotated_certificate_is_served_without_a_restart_and_a_bad_one_is_not() {
    let pki = TestPki::new();
    let database = TestDatabase::sqlite();
    let node = SecureNode::start(&pki, "hung-yen", &database, POLICY).await;
    let (prober, _) = pki.issue("system:prober");
    assert_eq!(
        served_certificate(node.grpc_addr, &prober).await,
        certificate_der(&node.tls.certificate)
    );

    // A broken key is refused at reload: the node keeps serving the old pair.
    let original_key = std::fs::read(&node.tls.private_key).expect("key");
    let broken = node.tls.private_key.with_extension("broken");
    std::fs::write(
        &broken,
        b"-----BEGIN PRIVATE KEY-----\nbm9wZQ==\n-----END PRIVATE KEY-----\n",
    )
    .expect("write");
    replace_file(&broken, &node.tls.private_key);
    tokio::time::sleep(Duration::from_millis(500)).await;
    info(&node.url(), Some(&prober))
        .await
        .expect("still serving after a failed reload");
    let kept = node.tls.private_key.with_extension("kept");
    std::fs::write(&kept, original_key).expect("write");
    replace_file(&kept, &node.tls.private_key);

    // A rotated pair is picked up while running.
    let (rotated, _) = pki.issue("node:hung-yen");
    let new_certificate = certificate_der(&rotated.certificate);
    replace_file(&rotated.private_key, &node.tls.private_key);
    replace_file(&rotated.certificate, &node.tls.certificate);
    let served = wait_for(Duration::from_secs(10), || async {
        served_certificate(node.grpc_addr, &prober).await == new_certificate
    })
    .await;
    assert!(served, "the rotated certificate was not served within 10 s");
    info(&node.url(), Some(&prober))
        .await
        .expect("calls work with the rotated certificate");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn servers_refuse_to_start_with_a_certificate_for_someone_else() {
    let pki = TestPki::new();
    let database = TestDatabase::sqlite();
    let (other_node, _) = pki.issue("node:nam-dinh");
    let config = lienthong_node::NodeConfig::from_toml(&format!(
        "[node]\nid = \"hung-yen\"\ndisplay_name = \"Sở KH&CN Hưng Yên\"\n\
         [database]\nurl = \"{}\"\n[grpc]\nlisten = \"127.0.0.1:0\"\n\
         [admin]\nlisten = \"127.0.0.1:0\"\n{}",
        database.url,
        other_node.to_toml()
    ))
    .expect("config");
    let error = lienthong_node::NodeServer::bind(config, lienthong_runtime::tls::Mode::MutualTls)
        .await
        .err()
        .expect("a node with another node's certificate must not start")
        .to_string();
    assert!(
        error.contains("tls.certificate") && error.contains("node:hung-yen"),
        "{error}"
    );

    let (staff, _) = pki.issue("staff:an");
    let config = lienthong_gateway::GatewayConfig::from_toml(&format!(
        "[grpc]\nlisten = \"127.0.0.1:0\"\n[http]\nlisten = \"127.0.0.1:0\"\n[admin]\nlisten = \"127.0.0.1:0\"\n\
         [database]\nurl = \"sqlite://{}\"\n{}\n\
         [[nodes]]\nid = \"hung-yen\"\ndisplay_name = \"Hưng Yên\"\nendpoint = \"https://127.0.0.1:1\"\n",
        pki.dir().join("gateway.db").display(),
        staff.to_toml()
    ))
    .expect("config");
    let error =
        lienthong_gateway::GatewayServer::bind(config, lienthong_runtime::tls::Mode::MutualTls)
            .await
            .err()
            .expect("a gateway with a staff certificate must not start")
            .to_string();
    assert!(error.contains("gateway:"), "{error}");
}
