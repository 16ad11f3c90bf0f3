//! The store's write path on each backend: versions, tombstones, the change
//! log, validation, index maintenance, node ownership, durability and
//! concurrent writers.

use std::collections::{BTreeSet, HashMap};

use lienthong_proto::v1 as pb;
use lienthong_records::{AnyRecord, RecordError, RecordKind};
use lienthong_store::{Change, SearchRequest, Store, StoreError, StoreOptions};
use lienthong_tests::{TestDatabase, federation_meta};

const NODE: &str = "hung-yen";

use lienthong_tests::{hung_yen_expert as expert, hung_yen_expert_id as expert_id};

fn any(expert: pb::Expert) -> AnyRecord {
    AnyRecord::Expert(expert)
}

async fn stored_expert(store: &Store, local: &str) -> Option<pb::Expert> {
    match store.get(&expert_id(local)).await.expect("get") {
        Some(stored) => match stored.record {
            AnyRecord::Expert(expert) => Some(expert),
            other => panic!("{local} came back as {other:?}"),
        },
        None => None,
    }
}

fn meta(expert: &pb::Expert) -> &pb::RecordMeta {
    expert.meta.as_ref().expect("stored records have meta")
}

async fn all_changes(store: &Store) -> Vec<Change> {
    store.changes(0, 100_000).await.expect("changes")
}

/// Ids of every expert the node itself can find for `query`.
async fn found(store: &Store, query: &str) -> BTreeSet<String> {
    let mut request = SearchRequest {
        kind: Some(RecordKind::Expert),
        query: query.into(),
        page_size: 100,
        ..Default::default()
    };
    let mut ids = BTreeSet::new();
    loop {
        let page = store.search(&request).await.expect("search");
        ids.extend(page.hits.iter().map(|hit| hit.record.id().to_owned()));
        if page.next_page_token.is_empty() {
            return ids;
        }
        request.page_token = page.next_page_token;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upsert_versions_new_changed_and_identical_records() {
    let past = "2020-01-01T00:00:00Z";
    for database in TestDatabase::each_backend().await {
        let backend = database.backend;
        let store = database.open_store(NODE).await;

        // A new record without a version gets version 1 and timestamps.
        let fresh = expert("E1", "Nguyễn Xuân Hải");
        let report = store
            .upsert(vec![any(fresh.clone())])
            .await
            .expect("upsert");
        assert_eq!(
            (report.inserted, report.updated, report.unchanged),
            (1, 0, 0),
            "{backend:?}"
        );
        let stored = stored_expert(&store, "E1").await.expect("stored");
        assert_eq!(meta(&stored).version, 1, "{backend:?}");
        assert!(!meta(&stored).created_at.is_empty(), "{backend:?}");
        assert_eq!(meta(&stored).created_at, meta(&stored).updated_at);

        // A new record that carries a version and timestamps keeps them.
        let mut carried = expert("E2", "Trần Thị Bình");
        {
            let m = carried.meta.as_mut().expect("meta");
            m.version = 7;
            m.created_at = past.into();
            m.updated_at = "2021-06-30T12:00:00Z".into();
        }
        store
            .upsert(vec![any(carried.clone())])
            .await
            .expect("upsert");
        let stored = stored_expert(&store, "E2").await.expect("stored");
        assert_eq!(stored, carried, "{backend:?}: stored as given");

        let seq_before = store.last_change_seq().await.expect("seq");
        let changes_before = all_changes(&store).await.len();
        assert_eq!(seq_before, 2, "{backend:?}");
        assert_eq!(changes_before, 2, "{backend:?}");

        // The same records again, as first given and as read back: unchanged.
        let read_back = stored_expert(&store, "E1").await.expect("stored");
        let report = store
            .upsert(vec![
                any(fresh.clone()),
                any(carried.clone()),
                any(read_back),
            ])
            .await
            .expect("upsert");
        assert_eq!(
            (report.inserted, report.updated, report.unchanged),
            (0, 0, 3),
            "{backend:?}"
        );
        assert_eq!(
            meta(&stored_expert(&store, "E1").await.expect("stored")).version,
            1
        );
        assert_eq!(store.last_change_seq().await.expect("seq"), seq_before);
        assert_eq!(all_changes(&store).await.len(), changes_before);

        // A changed record: next version, fresh updated_at, created_at kept.
        let changed = pb::Expert {
            specialization: "Thủy sản".into(),
            ..carried.clone()
        };
        let report = store.upsert(vec![any(changed)]).await.expect("upsert");
        assert_eq!(
            (report.inserted, report.updated, report.unchanged),
            (0, 1, 0),
            "{backend:?}"
        );
        let stored = stored_expert(&store, "E2").await.expect("stored");
        assert_eq!(meta(&stored).version, 8, "{backend:?}");
        assert_eq!(meta(&stored).created_at, past, "{backend:?}");
        assert!(
            meta(&stored).updated_at.as_str() > "2021-06-30T12:00:00Z",
            "{backend:?}: updated_at {}",
            meta(&stored).updated_at
        );
        assert_eq!(stored.specialization, "Thủy sản");
        let changes = all_changes(&store).await;
        assert_eq!(changes.len(), changes_before + 1, "{backend:?}");
        let last = changes.last().expect("a change");
        assert_eq!(
            (last.record_id.as_str(), last.version, last.deleted),
            (expert_id("E2").as_str(), 8, false)
        );
        assert_eq!(last.changed_at, meta(&stored).updated_at);

        // Changing E1 twice bumps it twice.
        for (n, position) in ["Giảng viên", "Giảng viên chính"].into_iter().enumerate() {
            store
                .upsert(vec![any(pb::Expert {
                    position: position.into(),
                    ..fresh.clone()
                })])
                .await
                .expect("upsert");
            let stored = stored_expert(&store, "E1").await.expect("stored");
            assert_eq!(meta(&stored).version, 2 + n as u64, "{backend:?}");
        }
        store.close().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delete_leaves_a_tombstone_and_a_later_upsert_revives_the_record() {
    for database in TestDatabase::each_backend().await {
        let backend = database.backend;
        let store = database.open_store(NODE).await;
        let record = expert("E1", "Phạm Văn Đồng");
        store
            .upsert(vec![any(record.clone()), any(expert("E2", "Lê Thị Hoa"))])
            .await
            .expect("upsert");
        assert_eq!(found(&store, "pham van dong").await.len(), 1);

        let version = store.delete(&expert_id("E1")).await.expect("delete");
        assert_eq!(version, 2, "{backend:?}");
        assert!(stored_expert(&store, "E1").await.is_none(), "{backend:?}");
        assert!(stored_expert(&store, "E2").await.is_some(), "{backend:?}");
        assert_eq!(store.counts(false).await.expect("counts").experts, 1);
        assert!(
            found(&store, "pham van dong").await.is_empty(),
            "{backend:?}"
        );
        assert!(found(&store, "dong").await.is_empty(), "{backend:?}");
        let changes = all_changes(&store).await;
        let last = changes.last().expect("a change");
        assert_eq!(
            (
                last.record_id.as_str(),
                last.kind,
                last.version,
                last.deleted
            ),
            (expert_id("E1").as_str(), RecordKind::Expert, 2, true),
            "{backend:?}"
        );
        assert_eq!(store.last_change_seq().await.expect("seq"), last.seq);

        for id in [expert_id("E1"), expert_id("NOPE")] {
            match store.delete(&id).await {
                Err(StoreError::NotFound(missing)) => assert_eq!(missing, id),
                other => panic!("{backend:?}: deleting {id} again gave {other:?}"),
            }
        }
        assert_eq!(
            all_changes(&store).await.len(),
            changes.len(),
            "{backend:?}: failed deletes log nothing"
        );

        let report = store
            .upsert(vec![any(record.clone())])
            .await
            .expect("revive");
        assert_eq!(report.inserted + report.updated, 1, "{backend:?}");
        let revived = stored_expert(&store, "E1").await.expect("revived");
        assert_eq!(meta(&revived).version, 3, "{backend:?}");
        assert_eq!(revived.full_name, record.full_name);
        assert_eq!(
            found(&store, "pham van dong").await,
            BTreeSet::from([expert_id("E1")]),
            "{backend:?}"
        );
        let last = all_changes(&store).await.pop().expect("a change");
        assert_eq!(
            (last.record_id.as_str(), last.version, last.deleted),
            (expert_id("E1").as_str(), 3, false),
            "{backend:?}"
        );
        store.close().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_change_log_has_one_entry_per_change_in_commit_order() {
    for database in TestDatabase::each_backend().await {
        let backend = database.backend;
        let store = database.open_store(NODE).await;
        assert_eq!(store.last_change_seq().await.expect("seq"), 0);
        assert!(all_changes(&store).await.is_empty());

        let a = expert("A", "Nguyễn Văn A");
        let c = expert("C", "Nguyễn Văn C");
        store
            .upsert(vec![
                any(a.clone()),
                any(expert("B", "Nguyễn Văn B")),
                any(c.clone()),
            ])
            .await
            .expect("batch");
        store
            .upsert(vec![any(pb::Expert {
                position: "Chuyên viên".into(),
                ..a
            })])
            .await
            .expect("change A");
        store.delete(&expert_id("B")).await.expect("delete B");
        store.upsert(vec![any(c)]).await.expect("C unchanged");
        store
            .upsert(vec![any(expert("D", "Nguyễn Văn D"))])
            .await
            .expect("insert D");

        let expected = [
            ("A", 1, false),
            ("B", 1, false),
            ("C", 1, false),
            ("A", 2, false),
            ("B", 2, true),
            ("D", 1, false),
        ];
        let changes = all_changes(&store).await;
        let got: Vec<(String, u64, bool)> = changes
            .iter()
            .map(|c| (c.record_id.clone(), c.version, c.deleted))
            .collect();
        let want: Vec<(String, u64, bool)> = expected
            .iter()
            .map(|(local, version, deleted)| (expert_id(local), *version, *deleted))
            .collect();
        assert_eq!(got, want, "{backend:?}");
        let seqs: Vec<u64> = changes.iter().map(|c| c.seq).collect();
        assert_eq!(seqs, (1..=6).collect::<Vec<u64>>(), "{backend:?}");
        assert_eq!(store.last_change_seq().await.expect("seq"), 6);

        // Paging by `after`.
        let page = store.changes(2, 2).await.expect("changes");
        assert_eq!(
            page.iter().map(|c| c.seq).collect::<Vec<_>>(),
            [3, 4],
            "{backend:?}"
        );
        assert!(store.changes(6, 10).await.expect("changes").is_empty());
        let mut after = 0;
        let mut paged = Vec::new();
        loop {
            let page = store.changes(after, 4).await.expect("changes");
            let Some(last) = page.last() else { break };
            after = last.seq;
            assert!(page.len() <= 4);
            paged.extend(page);
        }
        assert_eq!(paged, changes, "{backend:?}: paging gives the whole log");
        store.close().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_repeated_id_within_one_batch_is_applied_in_order() {
    for database in TestDatabase::each_backend().await {
        let backend = database.backend;
        let store = database.open_store(NODE).await;
        store
            .upsert(vec![
                any(expert("E1", "Tên Cũ")),
                any(expert("E2", "Người Khác")),
                any(expert("E1", "Tên Mới")),
            ])
            .await
            .expect("upsert");
        let stored = stored_expert(&store, "E1").await.expect("stored");
        assert_eq!(stored.full_name, "Tên Mới", "{backend:?}");
        let last_for_e1 = all_changes(&store)
            .await
            .into_iter()
            .rfind(|c| c.record_id == expert_id("E1"))
            .expect("E1 logged");
        assert_eq!(last_for_e1.version, meta(&stored).version, "{backend:?}");
        assert!(found(&store, "ten cu").await.is_empty(), "{backend:?}");
        assert_eq!(found(&store, "ten moi").await.len(), 1, "{backend:?}");
        store.close().await;
    }
}

fn field_of(error: &RecordError) -> &str {
    let RecordError::Invalid { field, .. } = error;
    field
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_records_are_reported_by_index_and_field_and_the_rest_are_written() {
    let mut no_visibility = expert("NV", "Không Rõ");
    no_visibility.meta.as_mut().expect("meta").visibility = 0;
    let bad_project = pb::Project {
        meta: Some(federation_meta(&format!("{NODE}:project:P1"))),
        code: "ĐT.HY.2019.01".into(),
        title: "Nghiên cứu lúa".into(),
        status: pb::ProjectStatus::Ongoing as i32,
        planned_start: "2019-13-01".into(),
        ..Default::default()
    };
    let batch = vec![
        any(expert("OK1", "Nguyễn Văn Hợp")),
        any(expert("EMPTY", " ")),
        any(pb::Expert {
            meta: Some(federation_meta("nam-dinh:expert:E1")),
            ..expert("X", "Người Nam Định")
        }),
        any(expert("OK2", "Trần Thị Lệ")),
        any(pb::Expert {
            field_codes: vec!["7123".into()],
            ..expert("CODE", "Lê Văn Mã")
        }),
        any(no_visibility),
        AnyRecord::Project(bad_project),
        any(pb::Expert {
            meta: Some(federation_meta(&format!("{NODE}:project:E9"))),
            ..expert("KIND", "Sai Loại")
        }),
    ];
    let expected = [
        (1, "fullName"),
        (2, "meta.id"),
        (4, "fieldCodes"),
        (5, "meta.visibility"),
        (6, "plannedStart"),
        (7, "meta.id"),
    ];
    for database in TestDatabase::each_backend().await {
        let backend = database.backend;
        let store = database.open_store(NODE).await;
        let report = store.upsert(batch.clone()).await.expect("upsert");
        assert_eq!(report.inserted, 2, "{backend:?}");
        let got: Vec<(usize, &str)> = report
            .rejected
            .iter()
            .map(|r| (r.index, field_of(&r.error)))
            .collect();
        assert_eq!(got, expected, "{backend:?}");
        for rejection in &report.rejected {
            let message = rejection.error.to_string();
            assert!(
                message.contains(field_of(&rejection.error)),
                "{backend:?}: {message}"
            );
            assert_eq!(rejection.id, batch[rejection.index].id());
        }
        let other_node = report
            .rejected
            .iter()
            .find(|r| r.index == 2)
            .expect("other node rejected");
        assert!(
            other_node.error.to_string().contains("nam-dinh"),
            "{}",
            other_node.error
        );
        assert!(stored_expert(&store, "OK1").await.is_some(), "{backend:?}");
        assert!(stored_expert(&store, "OK2").await.is_some(), "{backend:?}");
        for local in ["EMPTY", "CODE", "NV"] {
            assert!(stored_expert(&store, local).await.is_none(), "{local}");
        }
        assert!(
            store
                .get("nam-dinh:expert:E1")
                .await
                .expect("get")
                .is_none()
        );
        assert!(
            store
                .get(&format!("{NODE}:project:P1"))
                .await
                .expect("get")
                .is_none()
        );
        assert_eq!(all_changes(&store).await.len(), 2, "{backend:?}");

        // A batch of nothing but invalid records writes nothing and does not fail.
        let report = store
            .upsert(vec![any(expert("EMPTY", ""))])
            .await
            .expect("upsert");
        assert_eq!(report.rejected.len(), 1);
        assert_eq!(store.last_change_seq().await.expect("seq"), 2);
        store.close().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn updating_a_record_removes_its_old_search_terms() {
    for database in TestDatabase::each_backend().await {
        let backend = database.backend;
        let store = database.open_store(NODE).await;
        store
            .upsert(vec![
                any(pb::Expert {
                    specialization: "Nuôi trồng thủy sản".into(),
                    field_codes: vec!["4050101".into()],
                    ..expert("E1", "Trần Văn A")
                }),
                any(expert("E2", "Trần Thị Khác")),
            ])
            .await
            .expect("upsert");
        assert!(found(&store, "tran").await.contains(&expert_id("E1")));
        assert_eq!(found(&store, "thuy san").await.len(), 1);

        store
            .upsert(vec![any(pb::Expert {
                specialization: "Lâm nghiệp".into(),
                field_codes: vec!["4020101".into()],
                ..expert("E1", "Lê Văn B")
            })])
            .await
            .expect("rename");
        assert_eq!(
            found(&store, "tran").await,
            BTreeSet::from([expert_id("E2")]),
            "{backend:?}"
        );
        assert!(found(&store, "tran van a").await.is_empty(), "{backend:?}");
        assert!(found(&store, "thuy san").await.is_empty(), "{backend:?}");
        assert_eq!(
            found(&store, "le van b").await,
            BTreeSet::from([expert_id("E1")])
        );
        assert_eq!(
            found(&store, "lam nghiep").await,
            BTreeSet::from([expert_id("E1")])
        );
        let by_field = |prefix: &str| SearchRequest {
            kind: Some(RecordKind::Expert),
            field_code_prefixes: vec![prefix.into()],
            ..Default::default()
        };
        assert!(
            store
                .search(&by_field("405"))
                .await
                .expect("search")
                .hits
                .is_empty(),
            "{backend:?}: old field code"
        );
        assert_eq!(
            store
                .search(&by_field("402"))
                .await
                .expect("search")
                .hits
                .len(),
            1
        );
        store.close().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn search_stays_exact_through_updates_deletes_and_revivals() {
    for database in TestDatabase::each_backend().await {
        let backend = database.backend;
        let store = database.open_store(NODE).await;
        let ids = |locals: &[&str]| -> BTreeSet<String> {
            locals.iter().map(|local| expert_id(local)).collect()
        };
        store
            .upsert(vec![
                any(expert("A", "Nguyễn Văn Một")),
                any(expert("B", "Nguyễn Văn Hai")),
                any(expert("C", "Nguyễn Thị Ba")),
            ])
            .await
            .expect("upsert");
        assert_eq!(found(&store, "nguyen").await, ids(&["A", "B", "C"]));

        store.delete(&expert_id("A")).await.expect("delete A");
        store
            .upsert(vec![any(expert("B", "Trần Văn Hai"))])
            .await
            .expect("rename B");
        assert_eq!(found(&store, "nguyen").await, ids(&["C"]), "{backend:?}");
        assert_eq!(found(&store, "tran").await, ids(&["B"]), "{backend:?}");
        assert_eq!(found(&store, "van").await, ids(&["B"]), "{backend:?}");

        // Every record with the word gone, then one back: found again.
        store.delete(&expert_id("C")).await.expect("delete C");
        assert!(found(&store, "nguyen").await.is_empty(), "{backend:?}");
        store
            .upsert(vec![any(expert("A", "Nguyễn Văn Một"))])
            .await
            .expect("revive A");
        assert_eq!(found(&store, "nguyen").await, ids(&["A"]), "{backend:?}");
        assert_eq!(found(&store, "nguyen van mot").await, ids(&["A"]));
        assert_eq!(found(&store, "van").await, ids(&["A", "B"]), "{backend:?}");

        // The same id twice in one batch, then back to the first name.
        store
            .upsert(vec![
                any(expert("C", "Nguyễn Thị Ba")),
                any(expert("C", "Lê Thị Ba")),
                any(expert("C", "Nguyễn Thị Ba")),
            ])
            .await
            .expect("batch");
        assert_eq!(
            found(&store, "nguyen").await,
            ids(&["A", "C"]),
            "{backend:?}"
        );
        assert!(found(&store, "le thi").await.is_empty(), "{backend:?}");
        assert_eq!(found(&store, "thi ba").await, ids(&["C"]), "{backend:?}");
        store.close().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_belongs_to_one_node_and_keeps_its_data_across_reopening() {
    for database in TestDatabase::each_backend().await {
        let backend = database.backend;
        let store = database.open_store(NODE).await;
        store
            .upsert(vec![
                any(expert("E1", "Nguyễn Xuân Hải")),
                any(expert("E2", "Đinh Văn Toàn")),
            ])
            .await
            .expect("upsert");
        store.delete(&expert_id("E2")).await.expect("delete");
        let seq = store.last_change_seq().await.expect("seq");
        let counts = store.counts(false).await.expect("counts");
        let e1 = stored_expert(&store, "E1").await.expect("stored");
        store.close().await;

        let other = Store::open(&StoreOptions {
            url: database.url.clone(),
            node_id: "nam-dinh".into(),
            max_connections: 2,
            search_index: lienthong_store::IndexLocation::Memory,
        })
        .await;
        match other {
            Err(StoreError::Config(message)) => {
                assert!(message.contains("node.id"), "{backend:?}: {message}");
                assert!(message.contains("hung-yen"), "{backend:?}: {message}");
            }
            Err(other) => panic!("{backend:?}: wrong error {other:?}"),
            Ok(_) => panic!("{backend:?}: nam-dinh opened hung-yen's database"),
        }

        let reopened = database.open_store(NODE).await;
        assert_eq!(reopened.last_change_seq().await.expect("seq"), seq);
        assert_eq!(reopened.counts(false).await.expect("counts"), counts);
        assert_eq!(stored_expert(&reopened, "E1").await, Some(e1));
        assert!(stored_expert(&reopened, "E2").await.is_none());
        assert_eq!(
            found(&reopened, "nguyen xuan hai").await,
            BTreeSet::from([expert_id("E1")]),
            "{backend:?}"
        );
        assert_eq!(all_changes(&reopened).await.len(), 3);
        reopened.close().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_writers_all_land_with_gap_free_distinct_sequence_numbers() {
    const TASKS: usize = 4;
    const PER_TASK: usize = 50;
    for database in TestDatabase::each_backend().await {
        let backend = database.backend;
        let store = database.open_store(NODE).await;
        let mut tasks = Vec::new();
        for task in 0..TASKS {
            let store = store.clone();
            tasks.push(tokio::spawn(async move {
                for i in 0..PER_TASK {
                    let record =
                        expert(&format!("T{task}N{i:03}"), &format!("Người {task} số {i}"));
                    let report = store.upsert(vec![any(record)]).await.expect("upsert");
                    assert_eq!(report.inserted, 1);
                }
            }));
        }
        for task in tasks {
            task.await.expect("writer task");
        }
        let total = (TASKS * PER_TASK) as u64;
        assert_eq!(
            store.counts(false).await.expect("counts").experts,
            total,
            "{backend:?}"
        );
        let changes = all_changes(&store).await;
        let seqs: Vec<u64> = changes.iter().map(|c| c.seq).collect();
        assert_eq!(seqs, (1..=total).collect::<Vec<u64>>(), "{backend:?}");
        assert_eq!(store.last_change_seq().await.expect("seq"), total);
        let ids: BTreeSet<&str> = changes.iter().map(|c| c.record_id.as_str()).collect();
        assert_eq!(ids.len() as u64, total, "{backend:?}: one entry per record");
        // Each writer's records appear in the order it wrote them.
        let mut last_seen: HashMap<String, usize> = HashMap::new();
        for change in &changes {
            let local = change.record_id.rsplit(':').next().expect("local part");
            let (task, number) = local[1..].split_once('N').expect("T<task>N<i>");
            let number: usize = number.parse().expect("number");
            if let Some(previous) = last_seen.insert(task.to_owned(), number) {
                assert!(previous < number, "{backend:?}: task {task} out of order");
            }
        }
        store.close().await;
    }
}

/// On PostgreSQL a DBA reads records with plain SQL: `body` is `jsonb`, and
/// the `report_*` views give each kind's main columns for live records,
/// without contact details. Bodies an earlier version kept as protobuf are
/// converted when the store opens.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_records_are_readable_with_plain_sql() {
    use sqlx::{Connection, Row};
    let Some(database) = TestDatabase::postgres().await else {
        return;
    };
    let store = database.open_store(NODE).await;
    let mut hai = expert("E1", "Nguyễn Xuân Hải");
    hai.birth_year = 1975;
    hai.degree = pb::Degree::Doctor as i32;
    hai.field_codes = vec!["1".into(), "2".into()];
    hai.contact = Some(pb::ContactDetails {
        email: "hai@example.vn".into(),
        phone: "0912 345 678".into(),
    });
    let project = pb::Project {
        meta: Some(federation_meta("hung-yen:project:DT-01")),
        code: "ĐT.01/2024".into(),
        title: "Chọn tạo giống lúa chịu mặn".into(),
        status: pb::ProjectStatus::Completed as i32,
        total_budget_vnd: 12_500_000_000,
        ..Default::default()
    };
    store
        .upsert(vec![
            any(hai.clone()),
            any(expert("E2", "Đinh Văn Toàn")),
            AnyRecord::Project(project),
        ])
        .await
        .expect("upsert");
    store.delete(&expert_id("E2")).await.expect("delete");

    let mut sql = sqlx::PgConnection::connect(&database.url)
        .await
        .expect("connect");
    let row = sqlx::query(
        "SELECT full_name, degree, field_codes, visibility, created_at IS NOT NULL AS dated \
         FROM report_experts WHERE id = $1",
    )
    .bind(expert_id("E1"))
    .fetch_one(&mut sql)
    .await
    .expect("report_experts has the live expert");
    assert_eq!(row.get::<String, _>("full_name"), "Nguyễn Xuân Hải");
    assert_eq!(row.get::<String, _>("degree"), "DEGREE_DOCTOR");
    assert_eq!(row.get::<Vec<String>, _>("field_codes"), vec!["1", "2"]);
    assert_eq!(row.get::<String, _>("visibility"), "VISIBILITY_FEDERATION");
    assert!(row.get::<bool, _>("dated"));
    let deleted: i64 = sqlx::query_scalar("SELECT count(*) FROM report_experts WHERE id = $1")
        .bind(expert_id("E2"))
        .fetch_one(&mut sql)
        .await
        .expect("count");
    assert_eq!(deleted, 0, "a tombstone is not a live record");
    let contact_columns: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM information_schema.columns WHERE table_name = 'report_experts' \
         AND (column_name LIKE '%email%' OR column_name LIKE '%phone%' OR column_name LIKE '%birth%')",
    )
    .fetch_one(&mut sql)
    .await
    .expect("columns");
    assert_eq!(
        contact_columns, 0,
        "the report view leaves contact details out"
    );
    let (code, budget): (String, String) = sqlx::query_as(
        "SELECT code, total_budget_vnd::text FROM report_projects WHERE status = 'PROJECT_STATUS_COMPLETED'",
    )
    .fetch_one(&mut sql)
    .await
    .expect("report_projects");
    assert_eq!(code, "ĐT.01/2024");
    assert_eq!(budget, "12500000000");
    let email: String =
        sqlx::query_scalar("SELECT body->'contact'->>'email' FROM records WHERE id = $1")
            .bind(expert_id("E1"))
            .fetch_one(&mut sql)
            .await
            .expect("the body is jsonb");
    assert_eq!(email, "hai@example.vn");

    // A database written by an earlier version: the body as protobuf bytes,
    // in the column migration 0006 moved it to.
    let stored = stored_expert(&store, "E1").await.expect("stored");
    store.close().await;
    sqlx::query("ALTER TABLE records ADD COLUMN body_protobuf bytea")
        .execute(&mut sql)
        .await
        .expect("add the old column");
    sqlx::query("UPDATE records SET body_protobuf = $1, body = NULL WHERE id = $2")
        .bind(any(stored.clone()).encode())
        .bind(expert_id("E1"))
        .execute(&mut sql)
        .await
        .expect("store the old form");
    let reopened = database.open_store(NODE).await;
    assert_eq!(stored_expert(&reopened, "E1").await, Some(stored));
    let left: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM information_schema.columns \
         WHERE table_name = 'records' AND column_name = 'body_protobuf'",
    )
    .fetch_one(&mut sql)
    .await
    .expect("columns");
    assert_eq!(left, 0, "the converted column is dropped");
    let name: String = sqlx::query_scalar("SELECT full_name FROM report_experts WHERE id = $1")
        .bind(expert_id("E1"))
        .fetch_one(&mut sql)
        .await
        .expect("converted body in the view");
    assert_eq!(name, "Nguyễn Xuân Hải");
    reopened.close().await;
}
