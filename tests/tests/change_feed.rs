//! The change feed (`ListChanges`) between real nodes over mutual TLS: what a
//! subscriber receives, what it never learns, and when the feed restarts.

use std::collections::{BTreeMap, BTreeSet};

use lienthong_proto::v1 as pb;
use lienthong_proto::v1::province_node_client::ProvinceNodeClient;
use lienthong_records::AnyRecord;
use lienthong_tests::secure::{SecureNode, TestPki, node_client};
use lienthong_tests::{TestDatabase, federation_meta, load};
use tonic::Code;
use tonic::transport::Channel;

/// Nam Định may follow Hưng Yên's experts and projects, without personal
/// fields; the prober may search but not follow.
const POLICY: &str = r#"
[[grant]]
peers = ["node:nam-dinh"]
rpcs = ["info", "changes"]
kinds = ["expert", "project"]

[[grant]]
peers = ["system:prober"]
rpcs = ["search"]
kinds = ["expert", "project"]

# Granted for get only: neither the kind nor the personal fields may flow
# into Nam Định's feed.
[[grant]]
peers = ["node:nam-dinh"]
rpcs = ["get"]
kinds = ["organization"]
personal_fields = ["email", "phone", "birth_year"]
"#;

/// As [`POLICY`], with birth years granted to Nam Định.
const POLICY_WITH_BIRTH_YEARS: &str = r#"
[[grant]]
peers = ["node:nam-dinh"]
rpcs = ["info", "changes"]
kinds = ["expert", "project"]
personal_fields = ["birth_year"]
"#;

fn expert_id(local: &str) -> String {
    format!("hung-yen:expert:{local}")
}

fn shared_expert(local: &str, name: &str) -> AnyRecord {
    AnyRecord::Expert(pb::Expert {
        meta: Some(federation_meta(&expert_id(local))),
        full_name: name.into(),
        birth_year: 1970,
        contact_sharing_consent: true,
        contact: Some(pb::ContactDetails {
            email: format!("{local}@example.vn"),
            phone: "0912 000 000".into(),
        }),
        ..Default::default()
    })
}

fn hidden(mut record: AnyRecord, visibility: pb::Visibility) -> AnyRecord {
    record.meta_mut().visibility = visibility as i32;
    record
}

fn project(local: &str, title: &str, lead: &str) -> AnyRecord {
    AnyRecord::Project(pb::Project {
        meta: Some(federation_meta(&format!("hung-yen:project:{local}"))),
        code: local.into(),
        title: title.into(),
        status: pb::ProjectStatus::Completed as i32,
        lead: Some(pb::ProjectPerson {
            name: "Chủ nhiệm".into(),
            expert_id: expert_id(lead),
            role: pb::ProjectRole::Lead as i32,
        }),
        ..Default::default()
    })
}

/// Everything a subscriber got in one or more calls.
#[derive(Default)]
struct Pulled {
    changes: Vec<pb::RecordChange>,
    batches: Vec<pb::ChangeBatch>,
    cursor: String,
}

impl Pulled {
    fn id(change: &pb::RecordChange) -> String {
        let record = AnyRecord::try_from(change.record.clone().expect("record")).expect("kind");
        record.id().to_owned()
    }

    /// Latest state per id: `Some(version)` live, `None` deleted.
    fn state(&self) -> BTreeMap<String, Option<u64>> {
        let mut state = BTreeMap::new();
        for change in &self.changes {
            let record = AnyRecord::try_from(change.record.clone().expect("record")).expect("kind");
            let version = record.meta().map_or(0, |meta| meta.version);
            state.insert(record.id().to_owned(), (!change.deleted).then_some(version));
        }
        state
    }
}

/// Follows the feed from `after` until caught up, `limit` changes per call.
async fn pull(
    client: &mut ProvinceNodeClient<Channel>,
    after: &str,
    kinds: &[&str],
    limit: u32,
) -> Result<Pulled, tonic::Status> {
    let mut pulled = Pulled {
        cursor: after.to_owned(),
        ..Default::default()
    };
    loop {
        let mut stream = client
            .list_changes(pb::ListChangesRequest {
                after: pulled.cursor.clone(),
                kinds: kinds.iter().map(|kind| (*kind).to_owned()).collect(),
                limit,
                ..Default::default()
            })
            .await?
            .into_inner();
        let mut caught_up = false;
        while let Some(batch) = stream.message().await? {
            pulled.changes.extend(batch.changes.iter().cloned());
            pulled.cursor = batch.cursor.clone();
            caught_up = batch.caught_up;
            pulled.batches.push(batch);
        }
        if caught_up {
            return Ok(pulled);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_subscriber_gets_each_shared_record_once_as_its_policy_allows() {
    let pki = TestPki::new();
    for database in TestDatabase::each_backend().await {
        let backend = database.backend;
        let node = SecureNode::start(&pki, "hung-yen", &database, POLICY).await;
        let mut records = vec![
            shared_expert("E1", "Nguyễn Xuân Hải"),
            shared_expert("E2", "Đinh Thị Thủy"),
            hidden(shared_expert("E3", "Trần Nội Bộ"), pb::Visibility::Internal),
            project("P1", "Giống lúa chịu mặn", "E3"),
            project("P2", "Nuôi tôm sinh thái", "E1"),
        ];
        let mut secret = project("P3", "Đề tài mật", "E1");
        secret.meta_mut().classification = pb::Classification::Confidential as i32;
        records.push(secret);
        records.push(AnyRecord::Organization(pb::Organization {
            meta: Some(federation_meta("hung-yen:organization:O1")),
            name: "Viện Lúa".into(),
            ..Default::default()
        }));
        load(&node.store, records).await;

        let (files, _) = pki.issue("node:nam-dinh");
        let mut client = node_client(&node.url(), &files).await;
        // Two changes per call: the cursor carries the rest.
        let pulled = pull(&mut client, "", &[], 2).await.expect("feed");
        let ids: Vec<String> = pulled.changes.iter().map(Pulled::id).collect();
        assert_eq!(
            ids.iter().cloned().collect::<BTreeSet<_>>(),
            BTreeSet::from([
                expert_id("E1"),
                expert_id("E2"),
                "hung-yen:project:P1".to_owned(),
                "hung-yen:project:P2".to_owned(),
            ]),
            "{backend:?}: shared experts and projects, nothing hidden, no organization"
        );
        assert_eq!(ids.len(), 4, "{backend:?}: each once: {ids:?}");
        assert!(pulled.changes.iter().all(|change| !change.deleted));
        for change in &pulled.changes {
            match AnyRecord::try_from(change.record.clone().expect("record")).expect("kind") {
                AnyRecord::Expert(expert) => {
                    assert_eq!(expert.birth_year, 0, "{backend:?}: birth year withheld");
                    assert_eq!(expert.contact, None, "{backend:?}: contact withheld");
                }
                AnyRecord::Project(project) => {
                    let lead = project.lead.expect("lead").expert_id;
                    if project.code == "P1" {
                        assert_eq!(lead, "", "{backend:?}: the internal lead is blanked");
                    } else {
                        assert_eq!(lead, expert_id("E1"));
                    }
                }
                other => panic!("{backend:?}: {other:?} is not granted"),
            }
        }
        let first = &pulled.batches[0];
        assert_eq!(
            first.backlog, 2,
            "{backend:?}: four to come, two in this batch"
        );
        assert!(!first.restart);
        assert!(pulled.batches.last().expect("batch").caught_up);

        // Only the kinds asked for; a kind not granted is refused by name.
        let experts = pull(&mut client, "", &["expert"], 100)
            .await
            .expect("experts");
        assert_eq!(experts.changes.len(), 2, "{backend:?}");
        let refused = pull(&mut client, "", &["organization"], 100)
            .await
            .err()
            .expect("organization refused");
        assert_eq!(refused.code(), Code::PermissionDenied, "{backend:?}");
        assert!(
            refused.message().contains("organization"),
            "{}",
            refused.message()
        );
        // The same cursor for other kinds is a mistake the caller is told of.
        let mismatch = pull(&mut client, &experts.cursor, &["project"], 100)
            .await
            .err()
            .expect("kinds differ");
        assert_eq!(mismatch.code(), Code::InvalidArgument, "{backend:?}");

        // A peer granted search but not changes may not follow.
        let (prober, _) = pki.issue("system:prober");
        let mut prober = node_client(&node.url(), &prober).await;
        let denied = pull(&mut prober, "", &[], 100).await.err().expect("denied");
        assert_eq!(denied.code(), Code::PermissionDenied, "{backend:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn withdrawn_records_come_as_deletions_and_hidden_changes_leave_no_trace() {
    let pki = TestPki::new();
    for database in TestDatabase::each_backend().await {
        let backend = database.backend;
        let node = SecureNode::start(&pki, "hung-yen", &database, POLICY).await;
        load(
            &node.store,
            vec![
                shared_expert("E1", "Nguyễn Xuân Hải"),
                shared_expert("E2", "Đinh Thị Thủy"),
                shared_expert("E3", "Lê Văn Tám"),
                hidden(shared_expert("E9", "Trần Nội Bộ"), pb::Visibility::Internal),
                project("P1", "Giống lúa chịu mặn", "E1"),
            ],
        )
        .await;
        let (files, _) = pki.issue("node:nam-dinh");
        let mut client = node_client(&node.url(), &files).await;
        let synced = pull(&mut client, "", &[], 100).await.expect("feed");
        assert_eq!(synced.changes.len(), 4, "{backend:?}");

        // Changes to a record never shared: nothing at all, not even a
        // deletion, and the next call looks the same as with no change.
        for round in 0..3 {
            let mut again = hidden(
                shared_expert("E9", &format!("Trần Nội Bộ {round}")),
                pb::Visibility::Internal,
            );
            again.meta_mut().version = 0;
            load(&node.store, vec![again]).await;
        }
        let quiet = pull(&mut client, &synced.cursor, &[], 100)
            .await
            .expect("feed");
        assert!(quiet.changes.is_empty(), "{backend:?}: {:?}", quiet.changes);
        assert_eq!(quiet.batches.len(), 1);
        assert_eq!(
            quiet.batches[0].backlog, 0,
            "{backend:?}: hidden changes are not counted"
        );

        // E1 becomes internal, E2 is deleted, P1 becomes classified, E3 changes.
        load(
            &node.store,
            vec![
                hidden(
                    shared_expert("E1", "Nguyễn Xuân Hải"),
                    pb::Visibility::Internal,
                ),
                {
                    let mut p1 = project("P1", "Giống lúa chịu mặn", "E1");
                    p1.meta_mut().classification = pb::Classification::Secret as i32;
                    p1
                },
                shared_expert("E3", "Lê Văn Tám (đã sửa)"),
            ],
        )
        .await;
        node.store.delete(&expert_id("E2")).await.expect("delete");
        let update = pull(&mut client, &quiet.cursor, &[], 100)
            .await
            .expect("feed");
        let mut state = synced.state();
        state.extend(update.state());
        assert_eq!(
            state,
            BTreeMap::from([
                (expert_id("E1"), None),
                (expert_id("E2"), None),
                (expert_id("E3"), Some(2)),
                ("hung-yen:project:P1".to_owned(), None),
            ]),
            "{backend:?}"
        );
        // Edits to a withdrawn record, and its deletion while hidden, are
        // hidden changes too: nothing comes, nothing is counted.
        for round in 0..3 {
            load(
                &node.store,
                vec![hidden(
                    shared_expert("E1", &format!("Nguyễn Xuân Hải {round}")),
                    pb::Visibility::Internal,
                )],
            )
            .await;
        }
        let hidden_edits = pull(&mut client, &update.cursor, &[], 100)
            .await
            .expect("feed");
        assert!(
            hidden_edits.changes.is_empty(),
            "{backend:?}: {:?}",
            hidden_edits.changes
        );
        assert_eq!(hidden_edits.batches[0].backlog, 0, "{backend:?}");
        // A new subscriber gets no deletions for records withdrawn before it
        // came: it holds none of them.
        let fresh = pull(&mut client, "", &[], 100).await.expect("feed");
        assert!(
            fresh.changes.iter().all(|change| !change.deleted),
            "{backend:?}: {:?}",
            fresh.changes
        );
        assert_eq!(fresh.changes.len(), 1, "{backend:?}: only E3 is shared now");
        for change in update.changes.iter().filter(|change| change.deleted) {
            let record = AnyRecord::try_from(change.record.clone().expect("record")).expect("kind");
            let text = format!("{record:?}");
            assert!(
                !text.contains("Nguyễn") && !text.contains("lúa"),
                "{backend:?}: a deletion carries the id and version only: {text}"
            );
            assert!(record.meta().is_some_and(|meta| meta.version >= 2));
        }
    }
}

/// A feed read while writers commit never skips a change: a reader that
/// follows until caught up, after the writers stop, holds exactly the final
/// state.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_subscriber_reading_during_writes_misses_nothing() {
    let pki = TestPki::new();
    for database in TestDatabase::each_backend().await {
        let backend = database.backend;
        let node = SecureNode::start(&pki, "hung-yen", &database, POLICY).await;
        let (files, _) = pki.issue("node:nam-dinh");
        let mut client = node_client(&node.url(), &files).await;
        let writers: Vec<_> = (0..4)
            .map(|writer| {
                let store = node.store.clone();
                tokio::spawn(async move {
                    for round in 0..15 {
                        let batch = (0..5)
                            .map(|n| {
                                shared_expert(
                                    &format!("W{writer}-{}", (round * 5 + n) % 40),
                                    &format!("Chuyên gia {writer} {round} {n}"),
                                )
                            })
                            .collect();
                        store.upsert(batch).await.expect("upsert");
                    }
                })
            })
            .collect();
        let mut cursor = String::new();
        let mut state = BTreeMap::new();
        let mut writing = true;
        while writing {
            writing = !writers.iter().all(|writer| writer.is_finished());
            let pulled = pull(&mut client, &cursor, &[], 7).await.expect("feed");
            state.extend(pulled.state());
            cursor = pulled.cursor;
        }
        let pulled = pull(&mut client, &cursor, &[], 7).await.expect("feed");
        state.extend(pulled.state());
        let mut expected = BTreeMap::new();
        for writer in 0..4 {
            for n in 0..40 {
                let id = expert_id(&format!("W{writer}-{n}"));
                if let Some(stored) = node.store.get(&id).await.expect("get") {
                    let version = stored.record.meta().map_or(0, |meta| meta.version);
                    expected.insert(id, Some(version));
                }
            }
        }
        assert_eq!(expected.len(), 160, "{backend:?}");
        assert_eq!(state, expected, "{backend:?}");
    }
}

/// A new sharing policy and a database restored from a backup both give a
/// new epoch, and the feed starts over; a cursor this node never issued
/// starts over too.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_policy_or_a_restored_database_restarts_the_feed() {
    let pki = TestPki::new();
    let database = TestDatabase::sqlite();
    let path = database
        .url
        .strip_prefix("sqlite://")
        .expect("sqlite url")
        .to_owned();
    let backup = format!("{path}.backup");
    let (files, _) = pki.issue("node:nam-dinh");

    let node = SecureNode::start(&pki, "hung-yen", &database, POLICY).await;
    load(
        &node.store,
        vec![
            shared_expert("E1", "Nguyễn Xuân Hải"),
            shared_expert("E2", "Đinh Thị Thủy"),
        ],
    )
    .await;
    sqlx::query(sqlx::AssertSqlSafe(format!("VACUUM INTO '{backup}'")))
        .execute(node.store.pool())
        .await
        .expect("back up");
    load(&node.store, vec![shared_expert("E3", "Lê Văn Tám")]).await;
    let mut client = node_client(&node.url(), &files).await;
    let synced = pull(&mut client, "", &[], 100).await.expect("feed");
    assert_eq!(synced.changes.len(), 3);
    let epoch = synced.batches[0].epoch.clone();

    let forged = pull(&mut client, "f1.bm90IGEgY3Vyc29y", &[], 100)
        .await
        .expect("feed");
    assert!(forged.batches[0].restart);
    assert!(
        forged.batches[0]
            .restart_reason
            .contains("not issued by this node"),
        "{}",
        forged.batches[0].restart_reason
    );
    assert_eq!(
        forged.changes.len(),
        3,
        "a restart delivers everything again"
    );

    // The same database under a policy that shows Nam Định more.
    stop(node).await;
    let node = SecureNode::start(&pki, "hung-yen", &database, POLICY_WITH_BIRTH_YEARS).await;
    let mut client = node_client(&node.url(), &files).await;
    let widened = pull(&mut client, &synced.cursor, &[], 100)
        .await
        .expect("feed");
    assert!(widened.batches[0].restart, "a new policy restarts the feed");
    assert_ne!(widened.batches[0].epoch, epoch);
    assert_eq!(widened.changes.len(), 3);
    assert!(widened.changes.iter().all(|change| {
        matches!(
            AnyRecord::try_from(change.record.clone().expect("record")),
            Ok(AnyRecord::Expert(expert)) if expert.birth_year == 1970
        )
    }));
    let quiet = pull(&mut client, &widened.cursor, &[], 100)
        .await
        .expect("feed");
    assert!(!quiet.batches[0].restart && quiet.changes.is_empty());

    // The database goes back to the backup, from before E3.
    stop(node).await;
    for suffix in ["-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{path}{suffix}"));
    }
    std::fs::rename(&backup, &path).expect("restore the backup");
    let node = SecureNode::start(&pki, "hung-yen", &database, POLICY_WITH_BIRTH_YEARS).await;
    let mut client = node_client(&node.url(), &files).await;
    let restored = pull(&mut client, &quiet.cursor, &[], 100)
        .await
        .expect("feed");
    assert!(
        restored.batches[0].restart,
        "the cursor is past the restored log: {:?}",
        restored.batches[0]
    );
    assert_eq!(
        restored.state().keys().cloned().collect::<Vec<_>>(),
        vec![expert_id("E1"), expert_id("E2")],
        "the restored node's records, from the start"
    );
    // Writes after the restore reach the subscriber under the new epoch.
    load(&node.store, vec![shared_expert("E4", "Phạm Văn Bốn")]).await;
    let after = pull(&mut client, &restored.cursor, &[], 100)
        .await
        .expect("feed");
    assert!(!after.batches[0].restart);
    assert_eq!(
        after.changes.iter().map(Pulled::id).collect::<Vec<_>>(),
        vec![expert_id("E4")]
    );
}

/// Stops a node and waits until it no longer accepts connections (it closes
/// its database as it stops).
async fn stop(node: SecureNode) {
    let address = node.grpc_addr;
    drop(node);
    for _ in 0..200 {
        if tokio::net::TcpStream::connect(address).await.is_err() {
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    panic!("the node at {address} did not stop");
}
