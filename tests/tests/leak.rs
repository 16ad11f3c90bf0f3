//! The leak test: canary values planted in internal records, in classified
//! records, and in the contact details of experts who did not consent, and
//! the ids of hidden records, which shared records name as team members,
//! authors and source projects (reference canaries). A few
//! hundred randomized queries go through the gateway (gRPC and HTTPS, as
//! officer and administrator) and straight to the nodes (as a peer granted
//! every personal field). No answer may ever hold a canary, and every request
//! must be in the audit logs. Then the audit logs are tampered with, and
//! `verify` must notice. Hưng Yên runs on SQLite, Nam Định on PostgreSQL.

use lienthong_audit::ChainProblem;
use lienthong_gateway::auth::UserRole;
use lienthong_proto::v1 as pb;
use lienthong_records::AnyRecord;
use lienthong_tests::secure::{
    SecureGateway, SecureNode, TestPki, audit_entries, gateway_client, https_get, node_client,
};
use lienthong_tests::{TestDatabase, is_shareable, load, sample_records};
use rand::{Rng, SeedableRng};

const POLICY: &str = r#"
[[grant]]
peers = ["gateway:national", "system:prober"]
rpcs = ["info", "search", "get", "statistics", "changes"]
kinds = ["expert", "project", "publication", "organization"]
personal_fields = ["email", "phone", "birth_year"]
"#;

/// Every canary contains this (compared case-insensitively).
const CANARY: &str = "canaryleak";
const CANARY_PHONE: &str = "0999000";

/// Sample records with canaries planted; returns the records and the ids of
/// the records that must never leave.
fn planted(node: &str) -> (Vec<AnyRecord>, Vec<String>) {
    let mut records = sample_records(node, 300);
    let mut hidden = Vec::new();
    let (mut experts, mut projects, mut publications) = (0, 0, 0);
    for record in &mut records {
        let id = record
            .meta()
            .map(|meta| meta.id.clone())
            .unwrap_or_default();
        match record {
            AnyRecord::Expert(expert) => {
                experts += 1;
                if experts % 10 == 0 {
                    // Internal: nothing of it may leave.
                    let meta = expert.meta.get_or_insert_default();
                    meta.visibility = pb::Visibility::Internal as i32;
                    meta.classification = pb::Classification::Normal as i32;
                    expert.full_name = format!("Nguyễn Văn {CANARY}{experts}");
                    expert.specialization = format!("lúa {CANARY}");
                    hidden.push(id);
                } else if experts % 3 == 0 {
                    // Shared, but without consent: no contact details.
                    let meta = expert.meta.get_or_insert_default();
                    meta.visibility = pb::Visibility::Federation as i32;
                    meta.classification = pb::Classification::Normal as i32;
                    expert.contact_sharing_consent = false;
                    expert.contact = Some(pb::ContactDetails {
                        email: format!("{CANARY}{experts}@example.vn"),
                        phone: format!("{CANARY_PHONE}{experts:03}"),
                    });
                } else if experts % 3 == 1 {
                    // Shared with consent: officers see this contact.
                    let meta = expert.meta.get_or_insert_default();
                    meta.visibility = pb::Visibility::Federation as i32;
                    meta.classification = pb::Classification::Normal as i32;
                    expert.contact_sharing_consent = true;
                    expert.contact = Some(pb::ContactDetails {
                        email: format!("consented{experts}@example.vn"),
                        phone: String::new(),
                    });
                }
            }
            AnyRecord::Project(project) => {
                projects += 1;
                if projects % 4 == 0 {
                    let meta = project.meta.get_or_insert_default();
                    meta.visibility = pb::Visibility::Federation as i32;
                    meta.classification = [
                        pb::Classification::Confidential,
                        pb::Classification::Secret,
                        pb::Classification::TopSecret,
                    ][projects % 3] as i32;
                    project.title = format!("Nghiên cứu lúa {CANARY} mật {projects}");
                    hidden.push(id);
                }
            }
            AnyRecord::Publication(publication) => {
                publications += 1;
                if publications % 5 == 0 {
                    let meta = publication.meta.get_or_insert_default();
                    meta.visibility = pb::Visibility::Internal as i32;
                    publication.title = format!("Giống lúa {CANARY} {publications}");
                    hidden.push(id);
                }
            }
            AnyRecord::Organization(_) => {}
        }
    }
    (records, hidden)
}

/// How many shareable records in `store` name one of `hidden`.
async fn records_naming(store: &lienthong_store::Store, hidden: &[String]) -> usize {
    let mut naming = 0;
    for kind in lienthong_records::RecordKind::ALL {
        let mut after = 0;
        loop {
            let (records, last) = store.scan(kind, after, 1_000).await.expect("scan");
            if last == after {
                break;
            }
            after = last;
            naming += records
                .iter()
                .filter(|record| is_shareable(record))
                .filter(|record| {
                    record
                        .references()
                        .iter()
                        .any(|id| hidden.iter().any(|hidden| hidden == id))
                })
                .count();
        }
    }
    naming
}

fn leaks(text: &str) -> bool {
    let lower = without_latencies(&text.to_lowercase());
    lower.contains(CANARY) || lower.contains(CANARY_PHONE)
}

/// `text` without the latencies the gateway reports per node: their digits
/// ("latencyMs":1.9209990000000001) can spell the phone canary by chance.
fn without_latencies(text: &str) -> String {
    let mut kept = String::with_capacity(text.len());
    let mut rest = text;
    loop {
        let at = ["latencyms\":", "latency_ms\":"]
            .iter()
            .filter_map(|key| rest.find(key))
            .min();
        let Some(at) = at else { break };
        let (before, after) = rest.split_at(at);
        kept.push_str(before);
        let number_start = after.find(':').map_or(after.len(), |colon| colon + 1);
        let number_end = after[number_start..]
            .find(|c: char| !(c.is_ascii_digit() || ".e-+".contains(c)))
            .map_or(after.len(), |end| number_start + end);
        rest = &after[number_end..];
    }
    kept.push_str(rest);
    kept
}

fn assert_clean(what: &str, text: &str) {
    assert!(!leaks(text), "a canary leaked through {what}: {text}");
}

/// No answer names a hidden record, not even by id in a reference.
fn assert_no_reference(what: &str, text: &str, hidden_ids: &[String]) {
    for id in hidden_ids {
        assert!(
            !text.contains(&format!("\"{id}\"")),
            "{what} names the hidden record {id}: {text}"
        );
    }
}

fn random_request(rng: &mut impl Rng) -> pb::SearchRequest {
    const WORDS: [&str; 12] = [
        "",
        "nguyen",
        "nguyễn văn",
        "lúa",
        "\"nghiên cứu lúa\"",
        CANARY,
        "canaryleak1",
        "0999000",
        "example.vn",
        "mật",
        "giống lúa",
        "tran thi",
    ];
    let mut filters = pb::SearchFilters::default();
    if rng.random_bool(0.3) {
        filters
            .field_code_prefixes
            .push(rng.random_range(1..=6).to_string());
    }
    pb::SearchRequest {
        query: WORDS[rng.random_range(0..WORDS.len())].to_owned(),
        filters: Some(filters),
        page_size: rng.random_range(1..=100),
        page_token: String::new(),
        include_mirrors: rng.random_bool(0.5),
    }
}

fn http_path(kind: &str, request: &pb::SearchRequest) -> String {
    let mut query = form_urlencoded::Serializer::new(String::new());
    query.append_pair("q", &request.query);
    query.append_pair("page_size", &request.page_size.to_string());
    for field in &request
        .filters
        .as_ref()
        .expect("filters")
        .field_code_prefixes
    {
        query.append_pair("field", field);
    }
    format!("/api/v1/{kind}?{}", query.finish())
}

fn federated(request: &pb::SearchRequest) -> pb::FederatedSearchRequest {
    pb::FederatedSearchRequest {
        query: request.query.clone(),
        filters: request.filters.clone(),
        page_size: request.page_size,
        ..Default::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_canary_ever_leaves_and_every_request_is_audited() {
    let pki = TestPki::new();
    let hung_yen_db = TestDatabase::sqlite();
    let nam_dinh_db = match TestDatabase::postgres().await {
        Some(database) => database,
        None => TestDatabase::sqlite(),
    };
    let hung_yen = SecureNode::start(&pki, "hung-yen", &hung_yen_db, POLICY).await;
    let nam_dinh = SecureNode::start(&pki, "nam-dinh", &nam_dinh_db, POLICY).await;
    let mut hidden_ids = Vec::new();
    let mut shareable_experts = 0;
    for node in [&hung_yen, &nam_dinh] {
        let (records, hidden) = planted(&node.node_id);
        shareable_experts += records
            .iter()
            .filter(|r| matches!(r, AnyRecord::Expert(_)) && is_shareable(r))
            .count() as u64;
        load(&node.store, records).await;
        // The canaries are really there: the test can fail.
        for id in &hidden {
            let stored = node.store.get(id).await.expect("get").expect("planted");
            assert!(!stored.shareable, "{id}");
            assert!(leaks(
                &serde_json::to_string(&pb::Record::from(stored.record)).expect("json")
            ));
        }
        // Shared records name hidden ones: the reference canaries are there.
        let stored_references = records_naming(&node.store, &hidden).await;
        assert!(
            stored_references > 20,
            "{}: only {stored_references} shared records name a hidden one",
            node.node_id
        );
        hidden_ids.extend(hidden);
    }
    assert!(hidden_ids.len() > 40, "{}", hidden_ids.len());

    let gateway = SecureGateway::start(
        &pki,
        &[("hung-yen", hung_yen.url()), ("nam-dinh", nam_dinh.url())],
        "[auth]\nrequests_per_minute = 1000000\nburst = 100000\n",
    )
    .await;
    let gateway_db = gateway.database().await;
    let officer = gateway.token("officer", UserRole::Officer).await;
    let admin = gateway.token("admin", UserRole::Admin).await;
    let (prober, _) = pki.issue("system:prober");
    let ca = pki.dir().join("ca.crt");

    let mut gateway_grpc = gateway_client(&gateway.url(), &prober).await;
    let mut direct = [
        node_client(&hung_yen.url(), &prober).await,
        node_client(&nam_dinh.url(), &prober).await,
    ];
    let bearer = |token: &str| {
        tonic::metadata::MetadataValue::try_from(format!("Bearer {token}")).expect("metadata")
    };

    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(91_2025);
    let mut gateway_requests = 0usize;
    let mut direct_requests = [0usize; 2];
    let mut consented_contacts_seen = 0usize;
    for round in 0..60 {
        let request = random_request(&mut rng);
        let token = if round % 2 == 0 { &officer } else { &admin };

        // Through the gateway, over gRPC.
        let mut call = tonic::Request::new(federated(&request));
        call.metadata_mut().insert("authorization", bearer(token));
        let experts = gateway_grpc
            .search_experts(call)
            .await
            .expect("federated experts")
            .into_inner();
        gateway_requests += 1;
        let text = serde_json::to_string(&experts).expect("json");
        assert_clean("gateway gRPC experts", &text);
        assert_no_reference("gateway gRPC experts", &text, &hidden_ids);
        consented_contacts_seen += text.matches("consented").count();
        let mut call = tonic::Request::new(federated(&request));
        call.metadata_mut().insert("authorization", bearer(token));
        let projects = gateway_grpc
            .search_projects(call)
            .await
            .expect("federated projects")
            .into_inner();
        gateway_requests += 1;
        let text = serde_json::to_string(&projects).expect("json");
        assert_clean("gateway gRPC projects", &text);
        assert_no_reference("gateway gRPC projects", &text, &hidden_ids);

        // Through the gateway, over HTTPS.
        let kind = ["experts", "projects", "publications"][round % 3];
        let (code, body) = https_get(
            gateway.http_addr,
            &ca,
            &http_path(kind, &request),
            Some(token),
        )
        .await;
        gateway_requests += 1;
        assert_eq!(code, 200, "{body}");
        assert_clean("gateway HTTPS", &body);
        assert_no_reference("gateway HTTPS", &body, &hidden_ids);

        // Straight to a node, as a peer granted every personal field.
        let which = round % 2;
        let node = &mut direct[which];
        let texts = [
            serde_json::to_string(
                &node
                    .search_experts(request.clone())
                    .await
                    .expect("experts")
                    .into_inner(),
            ),
            serde_json::to_string(
                &node
                    .search_projects(request.clone())
                    .await
                    .expect("projects")
                    .into_inner(),
            ),
            serde_json::to_string(
                &node
                    .search_publications(request.clone())
                    .await
                    .expect("publications")
                    .into_inner(),
            ),
        ];
        direct_requests[which] += 3;
        for text in texts {
            let text = text.expect("json");
            assert_clean("a node's search", &text);
            assert_no_reference("a node's search", &text, &hidden_ids);
        }
    }

    // Asking for hidden records by id: not found, everywhere.
    for id in hidden_ids.iter().step_by(4) {
        let which = usize::from(id.starts_with("nam-dinh"));
        let kind = id.split(':').nth(1).expect("kind");
        let request = pb::GetRequest { id: id.clone() };
        let direct_result = match kind {
            "expert" => direct[which]
                .get_expert(request)
                .await
                .map(|r| serde_json::to_string(&r.into_inner())),
            "project" => direct[which]
                .get_project(request)
                .await
                .map(|r| serde_json::to_string(&r.into_inner())),
            _ => direct[which]
                .get_publication(request)
                .await
                .map(|r| serde_json::to_string(&r.into_inner())),
        };
        direct_requests[which] += 1;
        let status = direct_result.expect_err("hidden records are not found");
        assert_eq!(status.code(), tonic::Code::NotFound, "{id}");
        assert_clean("a node's refusal", status.message());

        let (code, body) = https_get(
            gateway.http_addr,
            &ca,
            &format!("/api/v1/records/{id}"),
            Some(&admin),
        )
        .await;
        gateway_requests += 1;
        assert_eq!(code, 404, "{id}: {body}");
        assert_clean("the gateway's refusal", &body);
    }

    // The whole change feed of each node: no canary, and no hidden record at
    // all, not even as a deletion. Each batch is one audit entry.
    for (which, node) in direct.iter_mut().enumerate() {
        let mut cursor = String::new();
        let mut delivered = 0;
        loop {
            let mut stream = node
                .list_changes(pb::ListChangesRequest {
                    after: cursor.clone(),
                    kinds: Vec::new(),
                    limit: 100,
                    ..Default::default()
                })
                .await
                .expect("feed")
                .into_inner();
            let mut caught_up = false;
            while let Some(batch) = stream.message().await.expect("batch") {
                direct_requests[which] += 1;
                delivered += batch.changes.len();
                let text = serde_json::to_string(&batch).expect("json");
                assert_clean("a node's change feed", &text);
                assert_no_reference("a node's change feed", &text, &hidden_ids);
                cursor = batch.cursor;
                caught_up = batch.caught_up;
            }
            if caught_up {
                break;
            }
        }
        assert!(
            delivered > 100,
            "the feed delivered only {delivered} changes"
        );
    }

    // Statistics count only what is shared.
    let (code, body) = https_get(gateway.http_addr, &ca, "/api/v1/statistics", Some(&admin)).await;
    gateway_requests += 1;
    assert_eq!(code, 200, "{body}");
    assert_clean("statistics", &body);
    let statistics: serde_json::Value = serde_json::from_str(&body).expect("JSON");
    let experts_total = statistics["total"]["kinds"]
        .as_array()
        .expect("kinds")
        .iter()
        .find(|kind| kind["kind"] == "expert")
        .expect("experts")["total"]
        .as_str()
        .expect("total")
        .parse::<u64>()
        .expect("number");
    assert_eq!(experts_total, shareable_experts);

    // Officers did see the contacts experts agreed to share.
    assert!(
        consented_contacts_seen > 0,
        "no consented contact was ever shown"
    );

    // Every request is in the audit logs: the gateway's for its own, each
    // node's for the direct ones (the gateway's calls are there too).
    let entries = audit_entries(&gateway_db).await;
    assert_eq!(entries.len(), gateway_requests, "gateway audit entries");
    assert!(
        entries
            .iter()
            .all(|entry| entry.end_user == "officer" || entry.end_user == "admin")
    );
    for (node, sent) in [&hung_yen, &nam_dinh].into_iter().zip(direct_requests) {
        let entries = audit_entries(node.store.pool()).await;
        let direct = entries
            .iter()
            .filter(|entry| entry.peer == "system:prober")
            .count();
        assert_eq!(direct, sent, "{} direct audit entries", node.node_id);
        assert!(
            entries
                .iter()
                .any(|entry| entry.peer == "gateway:national" && entry.end_user == "officer"),
            "{}: the gateway's calls name the user",
            node.node_id
        );
        for entry in &entries {
            for id in &entry.record_ids {
                assert!(!hidden_ids.contains(id), "audit says {id} was returned");
            }
        }
    }

    // Tampering with a node's log is caught, on both backends.
    for node in [&hung_yen, &nam_dinh] {
        let pool = node.store.pool();
        assert_eq!(
            lienthong_audit::verify(pool).await.expect("verify").problem,
            None
        );
        let exec = |sql: &'static str| async move {
            sqlx::query(sql).execute(pool).await.expect("tamper");
        };
        exec("UPDATE audit_log SET end_user = 'nobody' WHERE seq = 5").await;
        assert_eq!(
            lienthong_audit::verify(pool).await.expect("verify").problem,
            Some(ChainProblem::Edited { seq: 5 }),
            "{}",
            node.node_id
        );
        exec("DELETE FROM audit_log WHERE seq <= 5").await;
        exec("DELETE FROM audit_log WHERE seq = 9").await;
        assert_eq!(
            lienthong_audit::verify(pool).await.expect("verify").problem,
            Some(ChainProblem::Deleted { after: 0, seq: 6 }),
            "{}",
            node.node_id
        );
    }
}

#[test]
fn node_latencies_cannot_spell_a_canary() {
    let answer = r#"{"nodes":[{"latencyMs":1.9209990000000001}],"hits":[]}"#;
    assert!(!leaks(answer));
    let leaked = r#"{"latencyMs":2.5,"phone":"0999000042"}"#;
    assert!(leaks(leaked));
}
