//! The Ingest API of a real node over mutual TLS, on both backends: a
//! department's system writes with expected versions, retries under
//! idempotency keys, races other writers, and is the only kind of caller
//! let in; the same calls as JSON over HTTPS.

use std::collections::BTreeMap;

use lienthong_proto::v1 as pb;
use lienthong_proto::v1::ingest_client::IngestClient;
use lienthong_records::AnyRecord;
use lienthong_runtime::tls::TlsFiles;
use lienthong_tests::oai::{self, Credentials};
use lienthong_tests::secure::{SecureNode, TestPki, audit_entries, connect};
use lienthong_tests::{TestDatabase, hung_yen_expert, hung_yen_expert_id};
use tonic::Code;
use tonic::transport::Channel;

const NODE: &str = "hung-yen";

const POLICY: &str = r#"
[[grant]]
peers = ["system:erp"]
rpcs = ["ingest"]
kinds = ["expert", "project"]

[[grant]]
peers = ["system:library"]
rpcs = ["ingest"]
kinds = ["publication"]

[[grant]]
peers = ["system:library"]
rpcs = ["search", "get"]
kinds = ["expert"]

[[grant]]
peers = ["node:*"]
rpcs = ["info", "search", "get"]
kinds = ["expert", "project", "publication", "organization"]
"#;

const OAI: &str = "[oai]\nlisten = \"127.0.0.1:0\"\nadmin_email = \"cntt@skhcn.hungyen.gov.vn\"\n";

struct Setup {
    pki: TestPki,
    _database: TestDatabase,
    node: SecureNode,
}

impl Setup {
    async fn start(database: TestDatabase) -> Setup {
        let pki = TestPki::new();
        let node = SecureNode::start_with(&pki, NODE, &database.url, POLICY, OAI).await;
        Setup {
            pki,
            _database: database,
            node,
        }
    }

    async fn client(&self, identity: &str) -> IngestClient<Channel> {
        let (files, _) = self.pki.issue(identity);
        client_with(&self.node, &files).await
    }

    async fn last_seq(&self) -> u64 {
        self.node
            .store
            .last_change_seq()
            .await
            .expect("read the change log")
    }
}

async fn client_with(node: &SecureNode, files: &TlsFiles) -> IngestClient<Channel> {
    IngestClient::new(
        connect(&node.url(), Some(files))
            .await
            .expect("connect to the node"),
    )
    .max_encoding_message_size(64 * 1024 * 1024)
}

fn expert(local: &str, name: &str) -> pb::Record {
    AnyRecord::Expert(hung_yen_expert(local, name)).into()
}

fn upsert(items: Vec<(pb::Record, Option<u64>)>) -> pb::UpsertRequest {
    pb::UpsertRequest {
        items: items
            .into_iter()
            .map(|(record, expected_version)| pb::UpsertItem {
                record: Some(record),
                expected_version,
            })
            .collect(),
        ..Default::default()
    }
}

/// (outcome, code, version) of each result.
fn outcomes(response: &pb::IngestResponse) -> Vec<(pb::IngestOutcome, Code, u64)> {
    response
        .results
        .iter()
        .map(|result| {
            (
                result.outcome(),
                Code::from_i32(result.code),
                result.version,
            )
        })
        .collect()
}

async fn stored_name(node: &SecureNode, local: &str) -> Option<String> {
    let stored = node
        .store
        .get(&hung_yen_expert_id(local))
        .await
        .expect("read the store")?;
    match stored.record {
        AnyRecord::Expert(expert) => Some(expert.full_name),
        _ => None,
    }
}

#[tokio::test]
async fn a_system_writes_only_over_the_version_it_last_saw() {
    use pb::IngestOutcome::*;
    for database in TestDatabase::each_backend().await {
        let backend = database.backend;
        let setup = Setup::start(database).await;
        let mut erp = setup.client("system:erp").await;

        let created = erp
            .upsert(upsert(vec![
                (expert("E1", "Nguyễn Văn An"), Some(0)),
                (expert("E2", "Trần Thị Bình"), None),
            ]))
            .await
            .expect("create")
            .into_inner();
        assert_eq!(
            outcomes(&created),
            [(Created, Code::Ok, 1), (Created, Code::Ok, 1)],
            "{backend:?}"
        );
        assert!(!created.replayed);

        // Creating again over a live record is a conflict naming its version.
        let again = erp
            .upsert(upsert(vec![(expert("E1", "Nguyễn Văn Ân"), Some(0))]))
            .await
            .expect("create again")
            .into_inner();
        assert_eq!(outcomes(&again), [(Conflict, Code::Aborted, 1)]);
        assert!(again.results[0].message.contains("version 1"), "{again:?}");
        assert_eq!(
            stored_name(&setup.node, "E1").await.as_deref(),
            Some("Nguyễn Văn An")
        );

        // The right version writes; the same content again writes nothing.
        let updated = erp
            .upsert(upsert(vec![(expert("E1", "Nguyễn Văn Ân"), Some(1))]))
            .await
            .expect("update")
            .into_inner();
        assert_eq!(outcomes(&updated), [(Updated, Code::Ok, 2)]);
        let seq = setup.last_seq().await;
        let same = erp
            .upsert(upsert(vec![(expert("E1", "Nguyễn Văn Ân"), Some(2))]))
            .await
            .expect("same content")
            .into_inner();
        assert_eq!(outcomes(&same), [(Unchanged, Code::Ok, 2)]);
        assert_eq!(
            setup.last_seq().await,
            seq,
            "an unchanged record moves no feed"
        );

        // A stale version, then the right one, for a deletion.
        let delete = |expected| pb::DeleteRequest {
            items: vec![pb::DeleteItem {
                id: hung_yen_expert_id("E1"),
                expected_version: Some(expected),
            }],
            ..Default::default()
        };
        let stale = erp
            .delete(delete(1))
            .await
            .expect("stale delete")
            .into_inner();
        assert_eq!(outcomes(&stale), [(Conflict, Code::Aborted, 2)]);
        assert!(stored_name(&setup.node, "E1").await.is_some());
        let deleted = erp.delete(delete(2)).await.expect("delete").into_inner();
        assert_eq!(outcomes(&deleted), [(Deleted, Code::Ok, 3)]);
        assert_eq!(stored_name(&setup.node, "E1").await, None);
        let gone = erp
            .delete(delete(3))
            .await
            .expect("delete again")
            .into_inner();
        assert_eq!(outcomes(&gone), [(Conflict, Code::Aborted, 0)]);
        let gone = erp
            .delete(pb::DeleteRequest {
                items: vec![pb::DeleteItem {
                    id: hung_yen_expert_id("E1"),
                    expected_version: None,
                }],
                ..Default::default()
            })
            .await
            .expect("delete without a version")
            .into_inner();
        assert_eq!(outcomes(&gone), [(NotFound, Code::NotFound, 0)]);

        // Each record stands on its own: a bad one fails alone, by name.
        let mut other_node = hung_yen_expert("X", "Lê Văn Cường");
        other_node.meta.as_mut().expect("meta").id = "nam-dinh:expert:X".into();
        // A NUL in a nested text field: refused alone, on PostgreSQL too.
        let mut with_nul = hung_yen_expert("E6", "Ngô Văn Sáu");
        with_nul.contact = Some(pb::ContactDetails {
            email: "sau\0@x.vn".into(),
            ..Default::default()
        });
        let mixed = erp
            .upsert(upsert(vec![
                (AnyRecord::Expert(other_node).into(), None),
                (expert("E3", "Phạm Thu Hà"), None),
                (expert("E4", ""), None),
                (AnyRecord::Expert(with_nul).into(), None),
            ]))
            .await
            .expect("mixed batch")
            .into_inner();
        assert_eq!(
            outcomes(&mixed),
            [
                (Invalid, Code::InvalidArgument, 0),
                (Created, Code::Ok, 1),
                (Invalid, Code::InvalidArgument, 0),
                (Invalid, Code::InvalidArgument, 0)
            ],
            "{backend:?}"
        );
        assert!(
            mixed.results[3].message.contains("contact.email"),
            "{mixed:?}"
        );
        assert!(mixed.results[0].message.contains("nam-dinh"), "{mixed:?}");
        assert!(mixed.results[2].message.contains("fullName"), "{mixed:?}");
        assert_eq!(stored_name(&setup.node, "E4").await, None);

        // All or nothing: one conflict and nothing is written.
        let seq = setup.last_seq().await;
        let atomic = erp
            .upsert(pb::UpsertRequest {
                atomic: true,
                ..upsert(vec![
                    (expert("E5", "Đỗ Minh Đức"), Some(0)),
                    (expert("E2", "Trần Thị Bích"), Some(7)),
                ])
            })
            .await
            .expect("atomic batch")
            .into_inner();
        assert_eq!(
            outcomes(&atomic),
            [(NotApplied, Code::Aborted, 0), (Conflict, Code::Aborted, 1)]
        );
        assert_eq!(stored_name(&setup.node, "E5").await, None);
        assert_eq!(setup.last_seq().await, seq);

        // The audit log names what was written, not what it says.
        let entries = audit_entries(setup.node.store.pool()).await;
        let writes: Vec<_> = entries
            .iter()
            .filter(|entry| entry.action == "IngestUpsert" && entry.peer == "system:erp")
            .collect();
        assert!(
            writes
                .iter()
                .any(|entry| entry.record_ids
                    == [hung_yen_expert_id("E1"), hung_yen_expert_id("E2")])
        );
        assert!(
            entries
                .iter()
                .all(|entry| !entry.request.contains("Nguyễn")),
            "record content copied into the audit log"
        );
    }
}

#[tokio::test]
async fn of_writers_expecting_the_same_version_exactly_one_wins() {
    use pb::IngestOutcome::*;
    for database in TestDatabase::each_backend().await {
        let backend = database.backend;
        let setup = Setup::start(database).await;
        let mut erp = setup.client("system:erp").await;
        erp.upsert(upsert(vec![(expert("R", "Vũ Thị Lan"), Some(0))]))
            .await
            .expect("create");
        for round in 1..=4u64 {
            let mut writers = Vec::new();
            for writer in 0..6 {
                // Each writer on a connection of its own, as separate systems.
                let mut client = setup.client("system:erp").await;
                writers.push(tokio::spawn(async move {
                    let name = format!("Vũ Thị Lan {round}-{writer}");
                    let response = client
                        .upsert(upsert(vec![(expert("R", &name), Some(round))]))
                        .await
                        .expect("racing upsert")
                        .into_inner();
                    (name, outcomes(&response)[0])
                }));
            }
            let mut winners = Vec::new();
            for writer in writers {
                let (name, outcome) = writer.await.expect("writer task");
                match outcome {
                    (Updated, Code::Ok, version) => {
                        assert_eq!(version, round + 1);
                        winners.push(name);
                    }
                    (Conflict, Code::Aborted, current) => assert_eq!(current, round + 1),
                    other => panic!("{backend:?}: unexpected outcome {other:?}"),
                }
            }
            assert_eq!(winners.len(), 1, "{backend:?} round {round}: {winners:?}");
            assert_eq!(
                stored_name(&setup.node, "R").await,
                Some(winners[0].clone())
            );
        }
    }
}

#[tokio::test]
async fn a_retried_key_is_answered_again_and_writes_once() {
    use pb::IngestOutcome::*;
    for database in TestDatabase::each_backend().await {
        let backend = database.backend;
        let setup = Setup::start(database).await;
        let mut erp = setup.client("system:erp").await;
        let request = pb::UpsertRequest {
            idempotency_key: "batch-2026-12-01-0001".into(),
            ..upsert(vec![
                (expert("K1", "Hoàng Văn Nam"), None),
                (expert("K2", "Bùi Thị Mai"), Some(0)),
            ])
        };
        let first = erp
            .upsert(request.clone())
            .await
            .expect("first")
            .into_inner();
        assert_eq!(
            outcomes(&first),
            [(Created, Code::Ok, 1), (Created, Code::Ok, 1)]
        );
        let seq = setup.last_seq().await;

        // The answer was lost; the system sends the same batch again, twice
        // at once.
        let (mut one, mut other) = (
            setup.client("system:erp").await,
            setup.client("system:erp").await,
        );
        let (a, b) = tokio::join!(one.upsert(request.clone()), other.upsert(request.clone()),);
        for retry in [a, b] {
            let retry = retry.expect("retry").into_inner();
            assert!(retry.replayed, "{backend:?}");
            assert_eq!(retry.results, first.results);
        }
        assert_eq!(setup.last_seq().await, seq, "a retry wrote again");

        // The same key for another request is refused, whole.
        let changed = pb::UpsertRequest {
            idempotency_key: request.idempotency_key.clone(),
            ..upsert(vec![(expert("K1", "Hoàng Văn Nam Anh"), None)])
        };
        let refused = erp.upsert(changed).await.expect_err("key reused");
        assert_eq!(refused.code(), Code::InvalidArgument);
        assert!(
            refused.message().contains("batch-2026-12-01-0001"),
            "{refused:?}"
        );
        let as_delete = erp
            .delete(pb::DeleteRequest {
                idempotency_key: request.idempotency_key.clone(),
                items: vec![pb::DeleteItem {
                    id: hung_yen_expert_id("K1"),
                    expected_version: None,
                }],
                atomic: false,
            })
            .await
            .expect_err("key reused for a delete");
        assert_eq!(as_delete.code(), Code::InvalidArgument);
        assert_eq!(
            stored_name(&setup.node, "K1").await.as_deref(),
            Some("Hoàng Văn Nam")
        );

        // Keys are the caller's own: another system's same key is new.
        let mut library = setup.client("system:library").await;
        let publication = pb::Publication {
            meta: Some(lienthong_tests::federation_meta("hung-yen:publication:P1")),
            title: "Giống lúa chịu mặn cho vùng ven biển".into(),
            year: 2024,
            ..Default::default()
        };
        let theirs = library
            .upsert(pb::UpsertRequest {
                idempotency_key: request.idempotency_key.clone(),
                ..upsert(vec![(AnyRecord::Publication(publication).into(), None)])
            })
            .await
            .expect("another caller's key")
            .into_inner();
        assert!(!theirs.replayed);
        assert_eq!(outcomes(&theirs), [(Created, Code::Ok, 1)]);

        // An atomic batch that failed spent no key: fixed, it goes through.
        let failing = pb::UpsertRequest {
            idempotency_key: "batch-0002".into(),
            atomic: true,
            ..upsert(vec![(expert("K3", "Ngô Quang Huy"), Some(5))])
        };
        let failed = erp.upsert(failing).await.expect("failing").into_inner();
        assert_eq!(outcomes(&failed), [(Conflict, Code::Aborted, 0)]);
        let fixed = pb::UpsertRequest {
            idempotency_key: "batch-0002".into(),
            atomic: true,
            ..upsert(vec![(expert("K3", "Ngô Quang Huy"), Some(0))])
        };
        let fixed = erp.upsert(fixed).await.expect("fixed").into_inner();
        assert_eq!(outcomes(&fixed), [(Created, Code::Ok, 1)]);
    }
}

#[tokio::test]
async fn only_a_system_with_an_ingest_grant_for_the_kind_writes() {
    let setup = Setup::start(TestDatabase::sqlite()).await;
    let seq = setup.last_seq().await;
    let one_expert = || upsert(vec![(expert("D1", "Lý Thị Hoa"), None)]);

    // A province node, trusted to read everything, may not write.
    let mut peer = setup.client("node:nam-dinh").await;
    let refused = peer.upsert(one_expert()).await.expect_err("a node writes");
    assert_eq!(refused.code(), Code::PermissionDenied);
    assert!(refused.message().contains("system:<name>"), "{refused:?}");

    // A system without a grant.
    let mut stranger = setup.client("system:other").await;
    let refused = stranger.upsert(one_expert()).await.expect_err("no grant");
    assert_eq!(refused.code(), Code::PermissionDenied);

    // A system may read experts but write only publications: reading does
    // not carry over into writing.
    let mut library = setup.client("system:library").await;
    let refused = library.upsert(one_expert()).await.expect_err("wrong kind");
    assert_eq!(refused.code(), Code::PermissionDenied);
    assert!(refused.message().contains("expert"), "{refused:?}");
    let refused = library
        .delete(pb::DeleteRequest {
            items: vec![pb::DeleteItem {
                id: hung_yen_expert_id("D1"),
                expected_version: None,
            }],
            ..Default::default()
        })
        .await
        .expect_err("deleting a kind not granted");
    assert_eq!(refused.code(), Code::PermissionDenied);

    // A certificate of another federation is turned away at the handshake.
    let outsider = TestPki::new();
    let (foreign, _) = outsider.issue("system:erp");
    assert!(
        connect(&setup.node.url(), Some(&foreign)).await.is_err()
            || IngestClient::new(
                connect(&setup.node.url(), Some(&foreign))
                    .await
                    .expect("connected")
            )
            .upsert(one_expert())
            .await
            .is_err()
    );
    assert_eq!(setup.last_seq().await, seq, "a refused caller wrote");
}

#[tokio::test]
async fn a_large_request_from_anyone_but_a_system_is_refused_unread() {
    let setup = Setup::start(TestDatabase::sqlite()).await;
    // Over the 16 MiB ingest limit: a system's request is refused by size,
    // after its body is read; a node's is refused for who it is, first.
    let big = pb::UpsertRequest {
        idempotency_key: "big".into(),
        ..upsert(vec![(
            expert("B", &"Nguyễn Văn Bảo ".repeat(1_400_000)),
            None,
        )])
    };
    for caller in ["node:nam-dinh", "system:other"] {
        let mut client = setup.client(caller).await;
        let refused = client.upsert(big.clone()).await.expect_err("a big request");
        assert_eq!(
            refused.code(),
            Code::PermissionDenied,
            "{caller}: {refused:?}"
        );
    }
    let mut erp = setup.client("system:erp").await;
    let refused = erp.upsert(big).await.expect_err("a system's big request");
    assert_eq!(refused.code(), Code::ResourceExhausted, "{refused:?}");
    assert!(
        refused.message().contains("ingest.max_request_bytes"),
        "{refused:?}"
    );

    // Empty items cost two bytes each on the wire and far more decoded:
    // counted before decoding.
    let empty_items = pb::UpsertRequest {
        items: vec![pb::UpsertItem::default(); 1_001],
        ..Default::default()
    };
    let refused = erp
        .upsert(empty_items)
        .await
        .expect_err("1,001 empty items");
    assert_eq!(refused.code(), Code::InvalidArgument);
    assert!(
        refused.message().contains("over the limit of 1000"),
        "{refused:?}"
    );

    // Batch limits and keys are checked before anything is written.
    let too_many = upsert(
        (0..1_001)
            .map(|n| (expert(&format!("M{n}"), "Mai Văn Tú"), None))
            .collect(),
    );
    let refused = erp.upsert(too_many).await.expect_err("1,001 records");
    assert_eq!(refused.code(), Code::InvalidArgument);
    assert!(refused.message().contains("1000"), "{refused:?}");
    let refused = erp.upsert(upsert(vec![])).await.expect_err("empty");
    assert_eq!(refused.code(), Code::InvalidArgument);
    for key in ["has space", &"k".repeat(129), "khóa"] {
        let refused = erp
            .upsert(pb::UpsertRequest {
                idempotency_key: key.to_owned(),
                ..upsert(vec![(expert("M", "Mai Văn Tú"), None)])
            })
            .await
            .expect_err("bad key");
        assert_eq!(refused.code(), Code::InvalidArgument, "{key}");
        assert!(refused.message().contains("idempotency_key"));
    }
    let refused = erp
        .upsert(pb::UpsertRequest {
            items: vec![pb::UpsertItem {
                record: None,
                expected_version: None,
            }],
            ..Default::default()
        })
        .await
        .expect_err("no record");
    assert!(refused.message().contains("items[0].record"), "{refused:?}");
    assert_eq!(stored_name(&setup.node, "M").await, None);
}

#[tokio::test]
async fn the_same_calls_work_as_json_over_https() {
    let setup = Setup::start(TestDatabase::sqlite()).await;
    let oai_addr = setup.node.oai_addr.expect("the HTTPS listener");
    let ca = setup.node.tls.ca_bundle.clone();
    let (erp, _) = setup.pki.issue("system:erp");
    let (peer, _) = setup.pki.issue("node:nam-dinh");
    let post = |credentials, path: &'static str, content_type: &'static str, body: String| {
        let ca = ca.clone();
        async move { oai::post(oai_addr, &ca, credentials, path, content_type, &body).await }
    };
    let body = serde_json::json!({
        "idempotencyKey": "json-1",
        "items": [
            {"record": {"expert": {
                "meta": {"id": "hung-yen:expert:J1", "visibility": "VISIBILITY_FEDERATION",
                         "classification": "CLASSIFICATION_NORMAL"},
                "fullName": "Nguyễn Thị Thu"}},
             "expectedVersion": "0"}
        ]
    })
    .to_string();

    let answer = post(
        Credentials::Certificate(&erp),
        "/api/v1/ingest/upsert",
        "application/json",
        body.clone(),
    )
    .await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    let json: serde_json::Value = serde_json::from_str(&answer.body).expect("JSON answer");
    assert_eq!(json["results"][0]["outcome"], "INGEST_OUTCOME_CREATED");
    assert_eq!(json["results"][0]["version"], "1");
    assert_eq!(
        stored_name(&setup.node, "J1").await.as_deref(),
        Some("Nguyễn Thị Thu")
    );

    // A retry over HTTPS is a retry, whichever form sent the first.
    let again = post(
        Credentials::Certificate(&erp),
        "/api/v1/ingest/upsert",
        "application/json",
        body.clone(),
    )
    .await;
    let json: serde_json::Value = serde_json::from_str(&again.body).expect("JSON answer");
    assert_eq!(json["replayed"], true, "{}", again.body);

    let stale = serde_json::json!({
        "items": [{"id": "hung-yen:expert:J1", "expectedVersion": "7"}]
    })
    .to_string();
    let answer = post(
        Credentials::Certificate(&erp),
        "/api/v1/ingest/delete",
        "application/json",
        stale,
    )
    .await;
    let json: serde_json::Value = serde_json::from_str(&answer.body).expect("JSON answer");
    assert_eq!(json["results"][0]["outcome"], "INGEST_OUTCOME_CONFLICT");
    assert_eq!(json["results"][0]["code"], 10);

    let refusals: BTreeMap<&str, (u16, &str)> = [
        ("no certificate", (401, "client certificate")),
        ("node certificate", (403, "node:nam-dinh")),
        ("not JSON", (415, "application/json")),
        ("malformed", (400, "protobuf JSON")),
    ]
    .into_iter()
    .collect();
    for (case, (status, says)) in refusals {
        let answer = match case {
            "no certificate" => {
                post(
                    Credentials::None,
                    "/api/v1/ingest/upsert",
                    "application/json",
                    body.clone(),
                )
                .await
            }
            "node certificate" => {
                post(
                    Credentials::Certificate(&peer),
                    "/api/v1/ingest/upsert",
                    "application/json",
                    body.clone(),
                )
                .await
            }
            "not JSON" => {
                post(
                    Credentials::Certificate(&erp),
                    "/api/v1/ingest/upsert",
                    "text/csv",
                    body.clone(),
                )
                .await
            }
            _ => {
                post(
                    Credentials::Certificate(&erp),
                    "/api/v1/ingest/upsert",
                    "application/json",
                    "{\"items\": [{\"record\": 5}]}".into(),
                )
                .await
            }
        };
        assert_eq!(answer.status, status, "{case}: {}", answer.body);
        assert!(answer.body.contains(says), "{case}: {}", answer.body);
    }
}
