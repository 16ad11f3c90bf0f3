//! The province node over real gRPC and HTTP: Info, Get*, health checking,
//! reflection, /healthz and /metrics, message limits, graceful shutdown, and
//! what a client sees when the node is down.

use std::time::Duration;

use lienthong_proto::v1 as pb;
use lienthong_records::{AnyRecord, RecordKind};
use lienthong_store::SearchRequest;
use lienthong_tests::{
    TestDatabase, TestNode, federation_meta, http_get, is_shareable, load, sample_records,
};
use tonic::Code;
use tonic::transport::Channel;

const NODE: &str = "hung-yen";

/// Shareable sample records per kind: (organizations, experts, projects, publications).
fn shareable_counts(records: &[AnyRecord]) -> (u64, u64, u64, u64) {
    let count = |kind: RecordKind| {
        records
            .iter()
            .filter(|r| r.kind() == kind && is_shareable(r))
            .count() as u64
    };
    (
        count(RecordKind::Organization),
        count(RecordKind::Expert),
        count(RecordKind::Project),
        count(RecordKind::Publication),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn info_reports_identity_shareable_counts_schema_and_last_change() {
    let records = sample_records(NODE, 200);
    let (organizations, experts, projects, publications) = shareable_counts(&records);
    let everything = records.len() as u64;
    assert!(
        shareable_counts(&records) != {
            let all = |kind| records.iter().filter(|r| r.kind() == kind).count() as u64;
            (
                all(RecordKind::Organization),
                all(RecordKind::Expert),
                all(RecordKind::Project),
                all(RecordKind::Publication),
            )
        },
        "the sample must hold records that are not shareable"
    );
    for database in TestDatabase::each_backend().await {
        let backend = database.backend;
        let node = TestNode::start(NODE, &database).await;
        let mut client = node.client().await;
        let empty = client
            .info(pb::InfoRequest {})
            .await
            .expect("Info")
            .into_inner();
        assert_eq!(
            empty.counts,
            Some(pb::RecordCounts::default()),
            "{backend:?}"
        );
        assert_eq!(empty.last_change_seq, 0);

        load(&node.store, records.clone()).await;
        let info = client
            .info(pb::InfoRequest {})
            .await
            .expect("Info")
            .into_inner();
        assert_eq!(info.node_id, NODE, "{backend:?}");
        assert_eq!(info.display_name, format!("Sở KH&CN {NODE}"));
        assert_eq!(
            info.counts,
            Some(pb::RecordCounts {
                experts,
                projects,
                publications,
                organizations,
            }),
            "{backend:?}"
        );
        assert!(
            info.schema_version >= 1,
            "{backend:?}: {}",
            info.schema_version
        );
        assert!(!info.software_version.is_empty());
        // The changes the caller could see: one per shareable record loaded.
        let last_shared = records.iter().filter(|r| is_shareable(r)).count() as u64;
        assert!(last_shared < everything, "the sample has hidden records");
        assert_eq!(info.last_change_seq, last_shared, "{backend:?}");

        // A write to a hidden record does not move it (it would tell that
        // hidden records exist and when they change).
        let mut hidden = records
            .iter()
            .find(|r| r.kind() == RecordKind::Expert && !is_shareable(r))
            .expect("a hidden expert")
            .clone();
        if let AnyRecord::Expert(expert) = &mut hidden {
            expert.keywords.push("cập nhật nội bộ".into());
        }
        node.store.upsert(vec![hidden]).await.expect("update");
        let info = client
            .info(pb::InfoRequest {})
            .await
            .expect("Info")
            .into_inner();
        assert_eq!(info.last_change_seq, last_shared, "{backend:?}");

        // A delete shows in both the counts and the change sequence.
        let shared_expert = records
            .iter()
            .find(|r| r.kind() == RecordKind::Expert && is_shareable(r))
            .expect("a shareable expert");
        node.store.delete(shared_expert.id()).await.expect("delete");
        let info = client
            .info(pb::InfoRequest {})
            .await
            .expect("Info")
            .into_inner();
        assert_eq!(info.counts.expect("counts").experts, experts - 1);
        // The delete of a shared record is one more visible change; the
        // hidden update before it was none.
        assert_eq!(info.last_change_seq, last_shared + 1, "{backend:?}");
        node.stop().await.expect("clean stop");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_returns_each_kind_and_refuses_unknown_malformed_or_misrouted_ids() {
    let records = sample_records(NODE, 100);
    let first_shared = |kind: RecordKind| {
        records
            .iter()
            .find(|r| r.kind() == kind && is_shareable(r))
            .cloned()
            .expect("a shareable record of each kind")
    };
    for database in TestDatabase::each_backend().await {
        let backend = database.backend;
        let node = TestNode::start(NODE, &database).await;
        load(&node.store, records.clone()).await;
        let mut client = node.client().await;

        let AnyRecord::Expert(mut expert) = first_shared(RecordKind::Expert) else {
            unreachable!()
        };
        // Contact details go out only for experts who consented.
        lienthong_node::disclosure::PersonalFields::ALL.apply(&mut expert);
        let id = expert.meta.as_ref().expect("meta").id.clone();
        let got = client
            .get_expert(pb::GetRequest { id })
            .await
            .expect("GetExpert")
            .into_inner();
        assert_eq!(got, expert, "{backend:?}");

        let AnyRecord::Project(project) = first_shared(RecordKind::Project) else {
            unreachable!()
        };
        let project_id = project.meta.as_ref().expect("meta").id.clone();
        let got = client
            .get_project(pb::GetRequest {
                id: project_id.clone(),
            })
            .await
            .expect("GetProject")
            .into_inner();
        assert_eq!(got, project, "{backend:?}");

        let AnyRecord::Publication(publication) = first_shared(RecordKind::Publication) else {
            unreachable!()
        };
        let id = publication.meta.as_ref().expect("meta").id.clone();
        let got = client
            .get_publication(pb::GetRequest { id })
            .await
            .expect("GetPublication")
            .into_inner();
        assert_eq!(got, publication, "{backend:?}");

        let AnyRecord::Organization(organization) = first_shared(RecordKind::Organization) else {
            unreachable!()
        };
        let organization_id = organization.meta.as_ref().expect("meta").id.clone();
        let got = client
            .get_organization(pb::GetRequest {
                id: organization_id.clone(),
            })
            .await
            .expect("GetOrganization")
            .into_inner();
        assert_eq!(got, organization, "{backend:?}");

        for unknown in [
            format!("{NODE}:expert:E9999999"),
            "nam-dinh:expert:E0000001".to_owned(),
        ] {
            let status = client
                .get_expert(pb::GetRequest {
                    id: unknown.clone(),
                })
                .await
                .expect_err("unknown id");
            assert_eq!(status.code(), Code::NotFound, "{backend:?} {unknown}");
        }
        for malformed in [
            "",
            "E0000001",
            "hung-yen:person:1",
            "Hưng Yên:expert:1",
            "hung-yen:expert:a b",
        ] {
            let status = client
                .get_expert(pb::GetRequest {
                    id: malformed.into(),
                })
                .await
                .expect_err("malformed id");
            assert_eq!(
                status.code(),
                Code::InvalidArgument,
                "{backend:?} {malformed:?}"
            );
        }
        let status = client
            .get_expert(pb::GetRequest { id: project_id })
            .await
            .expect_err("a project id");
        assert_eq!(status.code(), Code::InvalidArgument, "{backend:?}");
        assert!(
            status.message().contains("GetProject"),
            "{backend:?}: {}",
            status.message()
        );
        let status = client
            .get_publication(pb::GetRequest {
                id: organization_id,
            })
            .await
            .expect_err("an organization id");
        assert_eq!(status.code(), Code::InvalidArgument);
        assert!(
            status.message().contains("GetOrganization"),
            "{}",
            status.message()
        );
        node.stop().await.expect("clean stop");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_check_reports_the_node_service_serving() {
    use tonic_health::pb::HealthCheckRequest;
    use tonic_health::pb::health_check_response::ServingStatus;
    use tonic_health::pb::health_client::HealthClient;
    for database in TestDatabase::each_backend().await {
        let node = TestNode::start(NODE, &database).await;
        let mut health = HealthClient::new(node.channel().await);
        let response = health
            .check(HealthCheckRequest {
                service: "lienthong.v1.ProvinceNode".into(),
            })
            .await
            .expect("Check")
            .into_inner();
        assert_eq!(response.status(), ServingStatus::Serving);
        let status = health
            .check(HealthCheckRequest {
                service: "lienthong.v1.NoSuchService".into(),
            })
            .await
            .expect_err("unknown service");
        assert_eq!(status.code(), Code::NotFound);
        node.stop().await.expect("clean stop");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reflection_lists_the_node_service_on_v1_and_v1alpha() {
    use tonic_reflection::pb::{v1, v1alpha};
    let database = TestDatabase::sqlite();
    let node = TestNode::start(NODE, &database).await;

    let mut client =
        v1::server_reflection_client::ServerReflectionClient::new(node.channel().await);
    let requests = [
        v1::server_reflection_request::MessageRequest::ListServices(String::new()),
        v1::server_reflection_request::MessageRequest::FileContainingSymbol(
            "lienthong.v1.ProvinceNode".into(),
        ),
    ]
    .map(|message| v1::ServerReflectionRequest {
        host: String::new(),
        message_request: Some(message),
    });
    let mut responses = client
        .server_reflection_info(tokio_stream::iter(requests))
        .await
        .expect("v1 reflection")
        .into_inner();
    let listed = responses
        .message()
        .await
        .expect("v1 response")
        .expect("a first response")
        .message_response;
    let Some(v1::server_reflection_response::MessageResponse::ListServicesResponse(list)) = listed
    else {
        panic!("v1: expected a service list, got {listed:?}");
    };
    let names: Vec<String> = list.service.into_iter().map(|s| s.name).collect();
    assert!(
        names.iter().any(|n| n == "lienthong.v1.ProvinceNode"),
        "v1: {names:?}"
    );
    assert!(
        names.iter().any(|n| n == "grpc.health.v1.Health"),
        "v1: {names:?}"
    );
    let file = responses
        .message()
        .await
        .expect("v1 response")
        .expect("a second response")
        .message_response;
    let Some(v1::server_reflection_response::MessageResponse::FileDescriptorResponse(files)) = file
    else {
        panic!("v1: expected file descriptors, got {file:?}");
    };
    assert!(!files.file_descriptor_proto.is_empty());

    let mut client =
        v1alpha::server_reflection_client::ServerReflectionClient::new(node.channel().await);
    let request = v1alpha::ServerReflectionRequest {
        host: String::new(),
        message_request: Some(
            v1alpha::server_reflection_request::MessageRequest::ListServices(String::new()),
        ),
    };
    let mut responses = client
        .server_reflection_info(tokio_stream::iter([request]))
        .await
        .expect("v1alpha reflection")
        .into_inner();
    let listed = responses
        .message()
        .await
        .expect("v1alpha response")
        .expect("a response")
        .message_response;
    let Some(v1alpha::server_reflection_response::MessageResponse::ListServicesResponse(list)) =
        listed
    else {
        panic!("v1alpha: expected a service list, got {listed:?}");
    };
    let names: Vec<String> = list.service.into_iter().map(|s| s.name).collect();
    assert!(
        names.iter().any(|n| n == "lienthong.v1.ProvinceNode"),
        "v1alpha: {names:?}"
    );
    node.stop().await.expect("clean stop");
}

/// The value of the Prometheus sample whose line starts with `name{` and
/// contains every one of `labels`, or `None`.
fn metric_value(metrics: &str, name: &str, labels: &[&str]) -> Option<f64> {
    metrics
        .lines()
        .filter(|line| line.starts_with(&format!("{name}{{")))
        .find(|line| labels.iter().all(|label| line.contains(label)))
        .and_then(|line| line.rsplit(' ').next())
        .and_then(|value| value.parse().ok())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_listener_reports_health_and_rpc_metrics() {
    // A node id of its own, so that other tests' calls do not move its counters.
    const METRICS_NODE: &str = "metrics-test";
    for database in TestDatabase::each_backend().await {
        let backend = database.backend;
        let node = TestNode::start(METRICS_NODE, &database).await;
        let (status, body) = http_get(node.admin_addr, "/healthz")
            .await
            .expect("GET /healthz");
        assert_eq!(status, 200, "{backend:?}: {body}");
        let health: serde_json::Value = serde_json::from_str(&body).expect("JSON body");
        assert_eq!(health["status"], "ok", "{body}");
        assert_eq!(health["node"], METRICS_NODE, "{body}");

        // The search index's lag is reported once the refresher has run.
        let admin = node.admin_addr;
        let lag_reported =
            lienthong_tests::wait_for(std::time::Duration::from_secs(5), || async move {
                http_get(admin, "/metrics").await.is_ok_and(|(_, body)| {
                    body.lines().any(|line| {
                        line.starts_with("lienthong_search_index_changes_behind{")
                            && line.contains(&format!("node=\"{METRICS_NODE}\""))
                            && line.ends_with(" 0")
                    })
                })
            })
            .await;
        assert!(lag_reported, "{backend:?}: the index lag gauge is exported");
        let (_, before) = http_get(node.admin_addr, "/metrics")
            .await
            .expect("GET /metrics");
        let method = "method=\"/lienthong.v1.ProvinceNode/SearchExperts\"";
        let node_label = format!("node=\"{METRICS_NODE}\"");
        let ok_labels = [node_label.as_str(), method, "code=\"Ok\""];
        let invalid_labels = [node_label.as_str(), method, "code=\"InvalidArgument\""];
        let ok_before =
            metric_value(&before, "lienthong_rpc_requests_total", &ok_labels).unwrap_or(0.0);
        let invalid_before =
            metric_value(&before, "lienthong_rpc_requests_total", &invalid_labels).unwrap_or(0.0);

        let mut client = node.client().await;
        for query in ["nguyen", "tran"] {
            client
                .search_experts(pb::SearchRequest {
                    query: query.into(),
                    ..Default::default()
                })
                .await
                .expect("search");
        }
        let status = client
            .search_experts(pb::SearchRequest {
                filters: Some(pb::SearchFilters {
                    field_code_prefixes: vec!["4a".into()],
                    ..Default::default()
                }),
                ..Default::default()
            })
            .await
            .expect_err("bad field code");
        assert_eq!(status.code(), Code::InvalidArgument);

        let (status, metrics) = http_get(node.admin_addr, "/metrics")
            .await
            .expect("GET /metrics");
        assert_eq!(status, 200);
        let ok_after = metric_value(&metrics, "lienthong_rpc_requests_total", &ok_labels);
        assert_eq!(
            ok_after,
            Some(ok_before + 2.0),
            "{backend:?}: successful searches counted:\n{metrics}"
        );
        let invalid_after = metric_value(&metrics, "lienthong_rpc_requests_total", &invalid_labels);
        assert_eq!(
            invalid_after,
            Some(invalid_before + 1.0),
            "{backend:?}: the invalid search counted under its code:\n{metrics}"
        );
        assert!(
            metrics.contains("lienthong_rpc_duration_seconds"),
            "{backend:?}: latency histogram"
        );
        let (status, _) = http_get(node.admin_addr, "/no-such-page")
            .await
            .expect("GET");
        assert_eq!(status, 404);
        node.stop().await.expect("clean stop");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn messages_over_the_size_limit_are_refused_and_the_node_keeps_serving() {
    for database in TestDatabase::each_backend().await {
        let backend = database.backend;
        let node = TestNode::start_with(NODE, &database, "max_message_bytes = 65536").await;
        // Experts whose search hits together exceed 64 KiB.
        let long_text = "Nghiên cứu ứng dụng công nghệ sinh học trong nông nghiệp. ".repeat(40);
        let experts: Vec<AnyRecord> = (0..60)
            .map(|i| {
                AnyRecord::Expert(pb::Expert {
                    meta: Some(federation_meta(&format!("{NODE}:expert:BIG{i}"))),
                    full_name: format!("Nguyễn Văn Số {i}"),
                    specialization: long_text.clone(),
                    ..Default::default()
                })
            })
            .collect();
        load(&node.store, experts).await;
        let mut client = node.client().await;

        let status = client
            .search_experts(pb::SearchRequest {
                query: "x".repeat(100_000),
                ..Default::default()
            })
            .await
            .expect_err("a 100 kB request");
        assert!(
            matches!(status.code(), Code::OutOfRange | Code::ResourceExhausted),
            "{backend:?}: {status:?}"
        );

        let status = tokio::time::timeout(
            Duration::from_secs(30),
            client.search_experts(pb::SearchRequest {
                query: "nguyen".into(),
                page_size: 60,
                ..Default::default()
            }),
        )
        .await
        .expect("no hang")
        .expect_err("a response over 64 kB");
        assert!(
            matches!(status.code(), Code::OutOfRange | Code::ResourceExhausted),
            "{backend:?}: {status:?}"
        );

        // Still serving, on the same connection and on a new one.
        for client in [&mut client, &mut node.client().await] {
            let response = client
                .search_experts(pb::SearchRequest {
                    query: "nguyen van so 7".into(),
                    page_size: 5,
                    ..Default::default()
                })
                .await
                .expect("small search")
                .into_inner();
            assert_eq!(
                response.hits[0].expert.as_ref().expect("expert").full_name,
                "Nguyễn Văn Số 7"
            );
        }
        node.stop().await.expect("clean stop");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn graceful_shutdown_refuses_new_connections_and_leaves_the_data_intact() {
    for database in TestDatabase::each_backend().await {
        let backend = database.backend;
        let node = TestNode::start(NODE, &database).await;
        load(&node.store, sample_records(NODE, 150)).await;
        let mut client = node.client().await;
        let before = client
            .info(pb::InfoRequest {})
            .await
            .expect("Info")
            .into_inner();
        let (grpc, admin) = (node.grpc_addr, node.admin_addr);
        let all_counts = node.store.counts(false).await.expect("counts");
        let search = SearchRequest {
            kind: Some(RecordKind::Expert),
            query: "nguyen".into(),
            page_size: 100,
            ..Default::default()
        };
        let hits_before: Vec<String> = node
            .store
            .search(&search)
            .await
            .expect("search")
            .hits
            .iter()
            .map(|hit| hit.record.id().to_owned())
            .collect();

        tokio::time::timeout(Duration::from_secs(30), node.stop())
            .await
            .expect("the node stops in time")
            .expect("stop returns Ok");

        for (what, addr) in [("gRPC", grpc), ("admin", admin)] {
            let connected =
                tokio::time::timeout(Duration::from_secs(5), tokio::net::TcpStream::connect(addr))
                    .await
                    .expect("connect answers at once");
            assert!(
                connected.is_err(),
                "{backend:?}: {what} still accepts connections"
            );
        }
        let status = tokio::time::timeout(Duration::from_secs(10), client.info(pb::InfoRequest {}))
            .await
            .expect("no hang")
            .expect_err("the old connection is closed");
        assert_eq!(status.code(), Code::Unavailable, "{backend:?}: {status:?}");

        let reopened = database.open_store(NODE).await;
        assert_eq!(reopened.counts(false).await.expect("counts"), all_counts);
        assert_eq!(
            reopened
                .last_shareable_change_seq(&RecordKind::ALL)
                .await
                .expect("seq"),
            before.last_change_seq,
            "{backend:?}"
        );
        let hits_after: Vec<String> = reopened
            .search(&search)
            .await
            .expect("search")
            .hits
            .iter()
            .map(|hit| hit.record.id().to_owned())
            .collect();
        assert_eq!(hits_after, hits_before, "{backend:?}");
        reopened.close().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_of_a_stopped_node_gets_unavailable_without_hanging() {
    let database = TestDatabase::sqlite();
    let node = TestNode::start(NODE, &database).await;
    let url = node.url();
    node.stop().await.expect("clean stop");

    let endpoint = Channel::from_shared(url)
        .expect("url")
        .connect_timeout(Duration::from_secs(2));
    let connected = tokio::time::timeout(Duration::from_secs(10), endpoint.connect())
        .await
        .expect("connect gives up in time");
    assert!(connected.is_err(), "connected to a stopped node");

    let mut client = pb::province_node_client::ProvinceNodeClient::new(endpoint.connect_lazy());
    let status = tokio::time::timeout(Duration::from_secs(10), client.info(pb::InfoRequest {}))
        .await
        .expect("the call gives up in time")
        .expect_err("a stopped node answers nothing");
    assert_eq!(status.code(), Code::Unavailable, "{status:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_merged_record_answers_with_the_one_it_joined_unless_either_is_hidden() {
    use lienthong_import::record_merge::fill_from;
    use lienthong_store::MergePlan;
    let records = sample_records(NODE, 100);
    let experts: Vec<&AnyRecord> = records
        .iter()
        .filter(|r| r.kind() == RecordKind::Expert)
        .collect();
    let shared: Vec<&AnyRecord> = experts
        .iter()
        .copied()
        .filter(|r| is_shareable(r))
        .collect();
    let hidden: Vec<&AnyRecord> = experts
        .iter()
        .copied()
        .filter(|r| !is_shareable(r))
        .collect();
    let hidden_kept = hidden[0];
    let hidden_dropped = hidden[1];
    let database = TestDatabase::sqlite();
    let node = TestNode::start(NODE, &database).await;
    load(&node.store, records.clone()).await;
    let merge = |keep: &AnyRecord, drop: &AnyRecord| {
        let (merged, _) = fill_from(keep, drop).expect("one kind");
        MergePlan {
            kept: merged,
            kept_version: keep.meta().map_or(0, |m| m.version),
            dropped_id: drop.id().to_owned(),
            dropped_version: drop.meta().map_or(0, |m| m.version),
        }
    };
    node.store
        .merge(merge(shared[0], shared[1]))
        .await
        .expect("merge two shared experts");
    node.store
        .merge(merge(hidden_kept, shared[2]))
        .await
        .expect("merge a shared expert into a hidden one");
    // A hidden record merged into a shared one (the store takes the plan
    // as given; `fill_from` would refuse to copy its content over).
    node.store
        .merge(MergePlan {
            kept: shared[3].clone(),
            kept_version: shared[3].meta().map_or(0, |m| m.version),
            dropped_id: hidden_dropped.id().to_owned(),
            dropped_version: hidden_dropped.meta().map_or(0, |m| m.version),
        })
        .await
        .expect("merge a hidden expert into a shared one");
    let mut client = node.client().await;
    let got = client
        .get_expert(pb::GetRequest {
            id: shared[1].id().to_owned(),
        })
        .await
        .expect("the dropped id answers")
        .into_inner();
    assert_eq!(
        got.meta.map(|m| m.id).as_deref(),
        Some(shared[0].id()),
        "with the kept record, under its own id"
    );
    // The kept record is internal: the old id is as unknown as any other,
    // and the answer names neither the merge nor the hidden record.
    let refused = client
        .get_expert(pb::GetRequest {
            id: shared[2].id().to_owned(),
        })
        .await
        .expect_err("hidden");
    assert_eq!(refused.code(), Code::NotFound);
    assert!(!refused.message().contains(hidden_kept.id()), "{refused:?}");
    assert!(!refused.message().contains("merge"), "{refused:?}");
    // The hidden record's old id leads nowhere: no one learns it existed,
    // nor that it is the shared one.
    let unknown = client
        .get_expert(pb::GetRequest {
            id: hidden_dropped.id().to_owned(),
        })
        .await
        .expect_err("a hidden record's id");
    assert_eq!(unknown.code(), Code::NotFound);
    assert!(!unknown.message().contains(shared[3].id()), "{unknown:?}");
    node.stop().await.expect("clean stop");
}
