//! Following a peer: real nodes over mutual TLS, one following the other's
//! change feed into its mirrors, on each backend.

use std::collections::BTreeMap;
use std::time::Duration;

use lienthong_proto::v1 as pb;
use lienthong_records::{AnyRecord, RecordKind};
use lienthong_store::{MirrorBatch, MirrorChange, MirrorScope, SearchRequest, Store};
use lienthong_tests::secure::{SecureNode, TestPki};
use lienthong_tests::{TestDatabase, federation_meta, load, wait_for};

/// Nam Định shares its tasks with Hưng Yên's feed.
const ORIGIN_POLICY: &str = r#"
[[grant]]
peers = ["node:hung-yen"]
rpcs = ["info", "changes"]
kinds = ["project"]
"#;

fn project(local: &str, title: &str) -> AnyRecord {
    AnyRecord::Project(pb::Project {
        meta: Some(federation_meta(&format!("nam-dinh:project:{local}"))),
        code: local.into(),
        title: title.into(),
        status: pb::ProjectStatus::Completed as i32,
        ..Default::default()
    })
}

/// (id, version) of every shareable project at the origin.
async fn shared_projects(origin: &Store) -> BTreeMap<String, u64> {
    let mut shared = BTreeMap::new();
    let mut after = 0;
    loop {
        let (records, last) = origin
            .scan(RecordKind::Project, after, 500)
            .await
            .expect("scan");
        for record in records {
            let stored = origin.get(record.id()).await.expect("get").expect("live");
            if stored.shareable {
                shared.insert(
                    record.id().to_owned(),
                    record.meta().map_or(0, |meta| meta.version),
                );
            }
        }
        if last == after {
            return shared;
        }
        after = last;
    }
}

async fn mirrored(store: &Store) -> BTreeMap<String, u64> {
    store
        .mirrored_versions("nam-dinh", RecordKind::Project)
        .await
        .expect("mirrors")
        .into_iter()
        .collect()
}

/// Ids of the projects a search for "lúa" finds at `store`, each with the
/// origin of its mirror ("" for the node's own).
async fn found(store: &Store, mirrors: MirrorScope) -> BTreeMap<String, String> {
    let page = store
        .search(&SearchRequest {
            kind: Some(RecordKind::Project),
            query: "lúa".into(),
            page_size: 100,
            caller: "test".into(),
            mirrors,
            ..Default::default()
        })
        .await
        .expect("search");
    page.hits
        .into_iter()
        .map(|hit| {
            let origin = hit.mirror.map(|mirror| mirror.origin).unwrap_or_default();
            (hit.record.id().to_owned(), origin)
        })
        .collect()
}

async fn converges(origin: &Store, follower: &Store) -> bool {
    let want = shared_projects(origin).await;
    wait_for(Duration::from_secs(20), || async {
        mirrored(follower).await == want
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_follower_mirrors_the_peers_shared_tasks_and_their_withdrawals() {
    let pki = TestPki::new();
    for database in TestDatabase::each_backend().await {
        let backend = database.backend;
        let origin_db = TestDatabase::sqlite();
        let origin = SecureNode::start(&pki, "nam-dinh", &origin_db, ORIGIN_POLICY).await;
        let mut records: Vec<AnyRecord> = (0..40)
            .map(|n| project(&format!("P{n}"), &format!("Đề tài số {n} về lúa")))
            .collect();
        for record in records.iter_mut().step_by(5) {
            record.meta_mut().visibility = pb::Visibility::Internal as i32;
        }
        records[6].meta_mut().visibility = pb::Visibility::Public as i32;
        load(&origin.store, records).await;

        let follow = format!(
            "[[follow]]\npeer = \"nam-dinh\"\nendpoint = \"{}\"\n[sync]\ninterval_ms = 50\nchanges_per_call = 7\n",
            origin.url()
        );
        let follower = SecureNode::start_with(&pki, "hung-yen", &database.url, "", &follow).await;
        assert!(
            converges(&origin.store, &follower.store).await,
            "{backend:?}: the mirror never matched: {} of {}",
            mirrored(&follower.store).await.len(),
            shared_projects(&origin.store).await.len()
        );
        assert_eq!(mirrored(&follower.store).await.len(), 32, "{backend:?}");

        // The mirrors are searchable, tagged with their origin, and only
        // when a search asks for them; one is public at the origin.
        assert!(
            wait_for(Duration::from_secs(10), || async {
                found(&follower.store, MirrorScope::All).await.len() == 32
            })
            .await,
            "{backend:?}: the mirrors never became searchable"
        );
        let hits = found(&follower.store, MirrorScope::All).await;
        assert!(hits.values().all(|origin| origin == "nam-dinh"), "{hits:?}");
        assert!(found(&follower.store, MirrorScope::None).await.is_empty());
        assert_eq!(
            found(&follower.store, MirrorScope::Public)
                .await
                .into_keys()
                .collect::<Vec<_>>(),
            ["nam-dinh:project:P6"]
        );

        let mirror = follower
            .store
            .get_mirror("nam-dinh:project:P1")
            .await
            .expect("get")
            .expect("mirrored");
        assert_eq!(mirror.origin, "nam-dinh");
        assert!(!mirror.changed_at.is_empty() && !mirror.received_at.is_empty());
        assert!(
            follower
                .store
                .get("nam-dinh:project:P1")
                .await
                .expect("get")
                .is_none(),
            "{backend:?}: mirrors are not the node's own records"
        );

        // Withdrawals propagate: a deletion, a task made internal, one
        // classified; and an edit.
        origin
            .store
            .delete("nam-dinh:project:P1")
            .await
            .expect("delete");
        let mut internal = project("P2", "Đề tài số 2 về lúa");
        internal.meta_mut().visibility = pb::Visibility::Internal as i32;
        let mut classified = project("P3", "Đề tài số 3 về lúa");
        classified.meta_mut().classification = pb::Classification::Secret as i32;
        load(
            &origin.store,
            vec![internal, classified, project("P4", "Đề tài số 4 (sửa)")],
        )
        .await;
        assert!(
            converges(&origin.store, &follower.store).await,
            "{backend:?}: withdrawals did not reach the mirror"
        );
        let mirrors = mirrored(&follower.store).await;
        assert_eq!(mirrors.len(), 29, "{backend:?}");
        // The index follows: the withdrawn are not found, nor the edited
        // task, whose new title no longer holds the word.
        assert!(
            wait_for(Duration::from_secs(10), || async {
                found(&follower.store, MirrorScope::All).await.len() == 28
            })
            .await,
            "{backend:?}: the index never followed the withdrawals and the edit"
        );
        let hits = found(&follower.store, MirrorScope::All).await;
        for gone in ["P1", "P2", "P3", "P4"] {
            assert!(
                !hits.contains_key(&format!("nam-dinh:project:{gone}")),
                "{backend:?}: {gone} is still found"
            );
        }
        // A withdrawn mirror keeps no body; the node's figures are its own.
        let emptied = match backend {
            lienthong_store::Backend::Sqlite => "length(body) = 0",
            lienthong_store::Backend::Postgres => "body::text = '{}'",
        };
        let (kept,): (i64,) = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT COUNT(*) FROM mirrors WHERE deleted = 1 AND NOT ({emptied})"
        )))
        .fetch_one(follower.store.pool())
        .await
        .expect("count tombstones");
        assert_eq!(kept, 0, "{backend:?}: withdrawn mirrors keep their bodies");
        let figures = follower
            .store
            .statistics(RecordKind::Project)
            .await
            .expect("statistics");
        assert!(
            figures.by_status.is_empty() && figures.by_field.is_empty(),
            "{backend:?}: mirrors counted as the node's own: {figures:?}"
        );
        assert_eq!(mirrors.get("nam-dinh:project:P4"), Some(&2));

        let status = follower.store.peer_sync("nam-dinh").await.expect("status");
        assert_eq!(status.mirrored, 29);
        assert!(!status.caught_up_at.is_empty());
        assert_eq!(status.backlog, 0, "{backend:?}: caught up, nothing left");
        assert_eq!(status.rejected, 0);
        assert!(status.last_error.is_empty(), "{}", status.last_error);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_change_from_the_wrong_origin_or_going_backwards_is_rejected() {
    for database in TestDatabase::each_backend().await {
        let backend = database.backend;
        let store = database.open_store("hung-yen").await;
        let change = |record: AnyRecord| MirrorChange {
            record,
            deleted: false,
            changed_at: "2026-11-30T00:00:00Z".into(),
        };
        let mut current = project("P1", "Đề tài");
        current.meta_mut().version = 3;
        let applied = store
            .apply_mirror_batch(
                "nam-dinh",
                "",
                MirrorBatch {
                    epoch: "e1".into(),
                    changes: vec![change(current)],
                    cursor: "c1".into(),
                    caught_up: true,
                    ..Default::default()
                },
            )
            .await
            .expect("apply");
        assert_eq!((applied.applied, applied.rejected.len()), (1, 0));

        // Thái Bình's record sent by Nam Định; and P1 at an older version.
        let mut spoofed = project("X", "Giả mạo");
        spoofed.meta_mut().id = "thai-binh:project:X".into();
        let mut older = project("P1", "Đề tài cũ");
        older.meta_mut().version = 2;
        let applied = store
            .apply_mirror_batch(
                "nam-dinh",
                "c1",
                MirrorBatch {
                    epoch: "e1".into(),
                    changes: vec![change(spoofed), change(older)],
                    cursor: "c2".into(),
                    caught_up: true,
                    ..Default::default()
                },
            )
            .await
            .expect("apply");
        assert_eq!(applied.applied, 0, "{backend:?}");
        let reasons: Vec<&str> = applied.rejected.iter().map(|r| r.reason.as_str()).collect();
        assert!(reasons[0].contains("thai-binh"), "{backend:?}: {reasons:?}");
        assert!(reasons[1].contains("backwards"), "{backend:?}: {reasons:?}");
        assert!(
            store
                .get_mirror("thai-binh:project:X")
                .await
                .expect("get")
                .is_none()
        );
        let kept = store
            .get_mirror("nam-dinh:project:P1")
            .await
            .expect("get")
            .expect("kept");
        assert_eq!(kept.record.meta().map(|meta| meta.version), Some(3));
        let status = store.peer_sync("nam-dinh").await.expect("status");
        assert_eq!(
            (status.applied, status.rejected, status.cursor.as_str()),
            (1, 2, "c2")
        );

        // A second process applying from a stale cursor is turned away, and
        // nothing it carried is applied.
        let stale = store
            .apply_mirror_batch(
                "nam-dinh",
                "c1",
                MirrorBatch {
                    epoch: "e1".into(),
                    changes: vec![change(project("P7", "Từ tiến trình khác"))],
                    cursor: "c9".into(),
                    caught_up: true,
                    ..Default::default()
                },
            )
            .await;
        assert!(
            matches!(stale, Err(lienthong_store::StoreError::Conflict(_))),
            "{backend:?}: {stale:?}"
        );
        assert!(
            store
                .get_mirror("nam-dinh:project:P7")
                .await
                .expect("get")
                .is_none()
        );

        // A restarted feed that no longer delivers P1 removes it once it has
        // caught up, not before.
        let applied = store
            .apply_mirror_batch(
                "nam-dinh",
                "c2",
                MirrorBatch {
                    epoch: "e2".into(),
                    restart: true,
                    changes: vec![change(project("P9", "Đề tài mới"))],
                    cursor: "c3".into(),
                    caught_up: false,
                    ..Default::default()
                },
            )
            .await
            .expect("apply");
        assert_eq!(applied.swept, 0);
        assert!(
            store
                .get_mirror("nam-dinh:project:P1")
                .await
                .expect("get")
                .is_some()
        );
        let applied = store
            .apply_mirror_batch(
                "nam-dinh",
                "c3",
                MirrorBatch {
                    epoch: "e2".into(),
                    cursor: "c4".into(),
                    caught_up: true,
                    ..Default::default()
                },
            )
            .await
            .expect("apply");
        assert_eq!(applied.swept, 1, "{backend:?}");
        assert!(
            store
                .get_mirror("nam-dinh:project:P1")
                .await
                .expect("get")
                .is_none()
        );
        assert!(
            store
                .get_mirror("nam-dinh:project:P9")
                .await
                .expect("get")
                .is_some()
        );
    }
}

/// The national node follows Nam Định and lets the gateway (not Hưng Yên)
/// have its mirrors of Nam Định's public tasks.
const NATIONAL_POLICY: &str = r#"
[[grant]]
peers = ["gateway:national"]
rpcs = ["search"]
kinds = ["project"]
public_mirrors = true

[[grant]]
peers = ["node:hung-yen"]
rpcs = ["search"]
kinds = ["project"]
"#;

/// Nam Định shares its tasks with the national node's feed and the gateway.
const ORIGIN_FOR_NATIONAL: &str = r#"
[[grant]]
peers = ["node:quoc-gia"]
rpcs = ["changes"]
kinds = ["project"]

[[grant]]
peers = ["gateway:national"]
rpcs = ["search"]
kinds = ["project"]
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn public_mirrors_go_onward_only_where_granted_and_stand_in_for_an_origin_that_is_down() {
    use lienthong_gateway::auth::UserRole;
    use lienthong_tests::secure::{SecureGateway, gateway_client, https_get, node_client};

    let pki = TestPki::new();
    let origin_db = TestDatabase::sqlite();
    let origin = SecureNode::start(&pki, "nam-dinh", &origin_db, ORIGIN_FOR_NATIONAL).await;
    let mut records: Vec<AnyRecord> = (0..10)
        .map(|n| project(&format!("P{n}"), &format!("Giống lúa chịu mặn số {n}")))
        .collect();
    for record in records.iter_mut().take(5) {
        record.meta_mut().visibility = pb::Visibility::Public as i32;
    }
    load(&origin.store, records).await;

    let national_db = TestDatabase::sqlite();
    let follow = format!(
        "[[follow]]\npeer = \"nam-dinh\"\nendpoint = \"{}\"\n[sync]\ninterval_ms = 50\n",
        origin.url()
    );
    let national =
        SecureNode::start_with(&pki, "quoc-gia", &national_db.url, NATIONAL_POLICY, &follow).await;
    assert!(
        wait_for(Duration::from_secs(20), || async {
            found(&national.store, MirrorScope::All).await.len() == 10
        })
        .await,
        "the national node never mirrored Nam Định's tasks"
    );

    let search = |include_mirrors: bool| pb::SearchRequest {
        query: "lúa chịu mặn".into(),
        page_size: 50,
        include_mirrors,
        ..Default::default()
    };
    let onward = |response: pb::SearchProjectsResponse| -> Vec<(String, String)> {
        response
            .hits
            .into_iter()
            .map(|hit| {
                let id = hit.project.and_then(|p| p.meta).map(|m| m.id);
                let origin = hit.mirror.map(|m| m.origin_node_id);
                (id.unwrap_or_default(), origin.unwrap_or_default())
            })
            .collect()
    };
    // A grant without public_mirrors: nothing mirrored goes onward.
    let (hung_yen, _) = pki.issue("node:hung-yen");
    let mut client = node_client(&national.url(), &hung_yen).await;
    let answer = client.search_projects(search(true)).await.expect("search");
    assert!(onward(answer.into_inner()).is_empty());
    // With it: the public ones, tagged with their origin; and only when asked.
    let (gateway_files, _) = pki.issue("gateway:national");
    let mut client = node_client(&national.url(), &gateway_files).await;
    let answer = client.search_projects(search(false)).await.expect("search");
    assert!(onward(answer.into_inner()).is_empty());
    let answer = client.search_projects(search(true)).await.expect("search");
    let mut served = onward(answer.into_inner());
    served.sort();
    let public: Vec<(String, String)> = (0..5)
        .map(|n| (format!("nam-dinh:project:P{n}"), "nam-dinh".to_owned()))
        .collect();
    assert_eq!(served, public);
    // The proposal check follows the same rule.
    let proposal = pb::ProposalCheckRequest {
        title: "Giong lua chiu man".into(),
        include_mirrors: true,
        ..Default::default()
    };
    let checked = client
        .check_proposal(proposal.clone())
        .await
        .expect("proposal check")
        .into_inner();
    assert_eq!(checked.tasks.len(), 5, "{checked:?}");
    assert!(checked.tasks.iter().all(|task| {
        task.mirror
            .as_ref()
            .is_some_and(|mirror| mirror.origin_node_id == "nam-dinh")
    }));
    let mut client = node_client(&national.url(), &hung_yen).await;
    let checked = client
        .check_proposal(proposal)
        .await
        .expect("proposal check")
        .into_inner();
    assert!(checked.tasks.is_empty(), "{checked:?}");

    // Through the gateway: while Nam Định answers, its own hits, each once;
    // when it is down, the national node's mirrors stand in.
    let gateway = SecureGateway::start(
        &pki,
        &[("nam-dinh", origin.url()), ("quoc-gia", national.url())],
        "",
    )
    .await;
    let officer = gateway.token("tran.thi.binh", UserRole::Officer).await;
    let (staff, _) = pki.issue("staff:tran-thi-binh");
    let mut client = gateway_client(&gateway.url(), &staff).await;
    let federated = |officer: &str| {
        let mut request = tonic::Request::new(pb::FederatedSearchRequest {
            query: "lúa chịu mặn".into(),
            page_size: 50,
            include_mirrors: true,
            ..Default::default()
        });
        request.metadata_mut().insert(
            "authorization",
            format!("Bearer {officer}").parse().expect("header"),
        );
        request
    };
    let page = client
        .search_projects(federated(&officer))
        .await
        .expect("federated search")
        .into_inner();
    assert_eq!(page.hits.len(), 10, "each task once, from its origin");
    let ca = pki.dir().join("ca.crt");
    let path = "/api/v1/proposal-check?title=gi%E1%BB%91ng+l%C3%BAa+ch%E1%BB%8Bu+m%E1%BA%B7n&include_mirrors=true";
    let (code, body) = https_get(gateway.http_addr, &ca, path, Some(&officer)).await;
    assert_eq!(code, 200, "{body}");
    let checked: serde_json::Value = serde_json::from_str(&body).expect("JSON");
    let tasks = checked["tasks"].as_array().expect("tasks");
    assert_eq!(tasks.len(), 10, "each task once, from its origin: {body}");
    assert!(
        tasks
            .iter()
            .all(|task| task["provenance"]["nodeId"] == "nam-dinh"),
        "{body}"
    );
    for (query, names) in [
        ("summary=x", "title"),
        ("title=lua&field=4a", "field"),
        ("title=nghien%20cuu%20ung%20dung%20giai%20phap", "title"),
    ] {
        let path = format!("/api/v1/proposal-check?{query}");
        let (code, body) = https_get(gateway.http_addr, &ca, &path, Some(&officer)).await;
        assert_eq!(code, 400, "{body}");
        assert!(body.contains(names), "{body}");
    }
    assert!(page.hits.iter().all(|hit| hit.provenance.len() == 1
        && hit.provenance[0].node_id == "nam-dinh"
        && hit.provenance[0].mirror.is_none()));

    drop(origin);
    assert!(
        wait_for(Duration::from_secs(20), || async {
            let page = client
                .clone()
                .search_projects(federated(&officer))
                .await
                .expect("federated search")
                .into_inner();
            page.hits.len() == 5
                && page.hits.iter().all(|hit| {
                    let provenance = &hit.provenance[0];
                    provenance.node_id == "quoc-gia"
                        && provenance.mirror.as_ref().is_some_and(|mirror| {
                            mirror.origin_node_id == "nam-dinh" && !mirror.synced_at.is_empty()
                        })
                })
        })
        .await,
        "with Nam Định down, the national node's public mirrors did not stand in"
    );
    let (code, body) = https_get(gateway.http_addr, &ca, path, Some(&officer)).await;
    assert_eq!(code, 200, "{body}");
    let checked: serde_json::Value = serde_json::from_str(&body).expect("JSON");
    let tasks = checked["tasks"].as_array().expect("tasks");
    assert_eq!(tasks.len(), 5, "the public mirrors stand in: {body}");
    assert!(
        tasks
            .iter()
            .all(|task| task["provenance"]["nodeId"] == "quoc-gia"
                && task["provenance"]["mirror"]["originNodeId"] == "nam-dinh"),
        "{body}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_peer_that_goes_down_mid_sync_and_comes_back_under_a_new_epoch_is_followed_to_the_end() {
    let pki = TestPki::new();
    let origin_db = TestDatabase::sqlite();
    let origin = SecureNode::start(&pki, "nam-dinh", &origin_db, ORIGIN_POLICY).await;
    let address = origin.grpc_addr;
    load(
        &origin.store,
        (0..4_000)
            .map(|n| project(&format!("P{n}"), &format!("Đề tài số {n} về lúa")))
            .collect(),
    )
    .await;
    let total = shared_projects(&origin.store).await.len();

    let follower_db = TestDatabase::sqlite();
    let follow = format!(
        "[[follow]]\npeer = \"nam-dinh\"\nendpoint = \"{}\"\n\
         [sync]\ninterval_ms = 20\nchanges_per_call = 100\nmax_backoff_ms = 200\n\
         [sync.breaker]\nfailure_threshold = 100\ncool_down_ms = 100\n",
        origin.url()
    );
    let follower = SecureNode::start_with(&pki, "hung-yen", &follower_db.url, "", &follow).await;
    assert!(
        wait_for(Duration::from_secs(20), || async {
            !mirrored(&follower.store).await.is_empty()
        })
        .await,
        "the sync never started"
    );

    // The peer goes down mid-sync.
    drop(origin);
    assert!(
        wait_for(Duration::from_secs(20), || async {
            let status = follower.store.peer_sync("nam-dinh").await.expect("status");
            !status.last_error.is_empty()
        })
        .await,
        "the follower never noticed the peer was down"
    );
    let before = follower.store.peer_sync("nam-dinh").await.expect("status");
    assert!(
        (before.mirrored as usize) < total,
        "the sync finished before the peer went down ({} of {total}); nothing was tested",
        before.mirrored
    );

    // While down, it is restored (a new feed epoch) and withdraws tasks.
    let store = origin_db.open_store("nam-dinh").await;
    store
        .start_new_feed_epoch("restored from a backup")
        .await
        .expect("new epoch");
    for n in 0..10 {
        store
            .delete(&format!("nam-dinh:project:P{n}"))
            .await
            .expect("delete");
    }
    store.close().await;

    // It comes back at the same address.
    let mut back = None;
    let started = std::time::Instant::now();
    while back.is_none() && started.elapsed() < Duration::from_secs(20) {
        match SecureNode::try_start_at(
            &pki,
            "nam-dinh",
            &origin_db.url,
            ORIGIN_POLICY,
            "",
            &address.to_string(),
        )
        .await
        {
            Ok(node) => back = Some(node),
            Err(_) => tokio::time::sleep(Duration::from_millis(200)).await,
        }
    }
    let origin = back.expect("the peer could not come back on its address");
    assert!(
        converges(&origin.store, &follower.store).await,
        "after the outage and the new epoch the mirror never matched: {} of {}",
        mirrored(&follower.store).await.len(),
        shared_projects(&origin.store).await.len()
    );
    assert_eq!(mirrored(&follower.store).await.len(), total - 10);
    let after = follower.store.peer_sync("nam-dinh").await.expect("status");
    assert!(
        after.generation > before.generation,
        "the new epoch restarted the sync"
    );
    assert!(after.last_error.is_empty(), "{}", after.last_error);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mirrored_organization_hit_names_its_origin() {
    use lienthong_tests::secure::node_client;
    let pki = TestPki::new();
    let origin_db = TestDatabase::sqlite();
    let origin = SecureNode::start(
        &pki,
        "nam-dinh",
        &origin_db,
        "[[grant]]\npeers = [\"node:hung-yen\"]\nrpcs = [\"changes\"]\nkinds = [\"organization\"]\n",
    )
    .await;
    let organization = |local: &str, name: &str| {
        let mut meta = federation_meta(&format!("nam-dinh:organization:{local}"));
        meta.visibility = pb::Visibility::Public as i32;
        AnyRecord::Organization(pb::Organization {
            meta: Some(meta),
            name: name.into(),
            ..Default::default()
        })
    };
    load(
        &origin.store,
        vec![
            organization("TTUD", "Trung tâm Ứng dụng tiến bộ khoa học và công nghệ"),
            organization("VLUA", "Viện Nghiên cứu lúa ven biển"),
        ],
    )
    .await;
    let follower_db = TestDatabase::sqlite();
    let follower = SecureNode::start_with(
        &pki,
        "hung-yen",
        &follower_db.url,
        "[[grant]]\npeers = [\"gateway:national\"]\nrpcs = [\"search\"]\n\
         kinds = [\"organization\"]\npublic_mirrors = true\n",
        &format!(
            "[[follow]]\npeer = \"nam-dinh\"\nendpoint = \"{}\"\nkinds = [\"organization\"]\n\
             [sync]\ninterval_ms = 50\n",
            origin.url()
        ),
    )
    .await;
    // Hưng Yên's own institute matches the same search and is no mirror.
    let mut own_meta = federation_meta("hung-yen:organization:VLUA");
    own_meta.visibility = pb::Visibility::Public as i32;
    load(
        &follower.store,
        vec![AnyRecord::Organization(pb::Organization {
            meta: Some(own_meta),
            name: "Viện Nghiên cứu lúa Hưng Yên".into(),
            ..Default::default()
        })],
    )
    .await;
    let (files, _) = pki.issue("gateway:national");
    let mut client = node_client(&follower.url(), &files).await;
    let search = |include_mirrors: bool| pb::SearchRequest {
        query: "viện nghiên cứu lúa".into(),
        page_size: 10,
        include_mirrors,
        ..Default::default()
    };
    let id = |hit: &pb::OrganizationHit| {
        hit.organization
            .as_ref()
            .and_then(|o| o.meta.as_ref())
            .map(|m| m.id.clone())
            .unwrap_or_default()
    };
    let mirrored_id = "nam-dinh:organization:VLUA";
    let mut hits = Vec::new();
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while !hits.iter().any(|hit| id(hit) == mirrored_id) {
        assert!(
            std::time::Instant::now() < deadline,
            "the mirrored organization was never found: {hits:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
        hits = client
            .search_organizations(search(true))
            .await
            .expect("search with mirrors")
            .into_inner()
            .hits;
    }
    let own = hits
        .iter()
        .find(|hit| id(hit) == "hung-yen:organization:VLUA")
        .expect("the own institute is found too");
    assert!(own.mirror.is_none(), "an own hit is no mirror: {own:?}");
    let hit = hits
        .iter()
        .find(|hit| id(hit) == mirrored_id)
        .expect("the mirror");
    let mirror = hit
        .mirror
        .as_ref()
        .expect("a mirrored hit carries its origin");
    assert_eq!(mirror.origin_node_id, "nam-dinh");
    assert!(
        !mirror.changed_at.is_empty() && !mirror.synced_at.is_empty(),
        "{mirror:?}"
    );
    let own_only = client
        .search_organizations(search(false))
        .await
        .expect("search without mirrors")
        .into_inner();
    let own_ids: Vec<String> = own_only.hits.iter().map(id).collect();
    assert_eq!(
        own_ids,
        ["hung-yen:organization:VLUA"],
        "without mirrors, only its own"
    );
}

/// A failure on the follower's side in the middle of a call (here another
/// process moving the sync on under it) ends the call at once with that
/// error, rather than waiting for the rest of the call to arrive or for the
/// call's deadline, and is not blamed on the peer.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_local_failure_mid_call_ends_the_call_at_once_with_its_own_error() {
    use lienthong_node::NodeConfig;
    use lienthong_node::subscriber::Subscriber;
    use lienthong_runtime::tls::{Mode, Transport};
    let pki = TestPki::new();
    let origin_db = TestDatabase::sqlite();
    let origin = SecureNode::start(&pki, "nam-dinh", &origin_db, ORIGIN_POLICY).await;
    // 5,000 tasks: one call of 10 batches of 500, many more than the
    // read-ahead.
    load(
        &origin.store,
        (0..5_000)
            .map(|n| project(&format!("P{n}"), &format!("Nghiên cứu số {n}")))
            .collect(),
    )
    .await;
    let follower_db = TestDatabase::sqlite();
    let (tls, _) = pki.issue("node:hung-yen");
    let config = NodeConfig::from_toml(&format!(
        "[node]\nid = \"hung-yen\"\ndisplay_name = \"Sở KH&CN Hưng Yên\"\n\
         [database]\nurl = \"{}\"\n{}\n\
         [sync]\nchanges_per_call = 5000\ncall_timeout_ms = 60000\n\
         [[follow]]\npeer = \"nam-dinh\"\nendpoint = \"{}\"\n",
        follower_db.url,
        tls.to_toml(),
        origin.url()
    ))
    .expect("follower config");
    let store = follower_db.open_store("hung-yen").await;
    let transport =
        Transport::from_settings(config.tls.as_ref(), Mode::MutualTls, None).expect("transport");
    let (audit, _audit_task) = lienthong_audit::start(store.pool(), &config.audit)
        .await
        .expect("audit");
    let subscriber = Subscriber::new(&config, store.clone(), &transport, audit)
        .expect("subscriber")
        .expect("a followed peer");
    // Another process: a connection of its own, not one of the follower's
    // pool (which the follower's own work may hold at that moment).
    let mut other_process = {
        use sqlx::Connection;
        sqlx::AnyConnection::connect(&follower_db.url)
            .await
            .expect("a second connection")
    };
    let handle = tokio::runtime::Handle::current();
    let mut moved = false;
    let started = std::time::Instant::now();
    let outcome = subscriber
        .sync_peer("nam-dinh", &mut |progress| {
            // After the first batch, another process moves the sync on.
            if !moved && progress.applied > 0 {
                moved = true;
                tokio::task::block_in_place(|| {
                    handle.block_on(async {
                        sqlx::query("UPDATE sync_peers SET cursor = 'moved elsewhere'")
                            .execute(&mut other_process)
                            .await
                            .expect("move the cursor")
                    })
                });
            }
        })
        .await;
    let error = outcome.expect_err("the call must fail");
    assert!(error.contains("moved on under this call"), "{error}");
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "the call waited {:?} after failing",
        started.elapsed()
    );
    let sync = store.peer_sync("nam-dinh").await.expect("sync status");
    assert_eq!(
        sync.applied, 500,
        "only the first batch was applied: {sync:?}"
    );
    assert!(
        sync.last_error.contains("moved on under this call"),
        "the local error is what the status shows: {sync:?}"
    );
}
