//! What the search engine adds to matching: relevance within a tier (field
//! weights, the query's own diacritics, a stable tie-break), a typo tier,
//! words typed with Telex or VNI keys in the wrong mode, the words each hit
//! matched, and pages that neither repeat nor skip a record while others
//! are written. On each backend, through `Store::search` and over gRPC.

use std::collections::HashSet;

use lienthong_proto::v1 as pb;
use lienthong_records::{AnyRecord, RecordKind};
use lienthong_store::{MatchTier, SearchRequest, Store};
use lienthong_tests::{TestDatabase, TestNode, hung_yen_expert as expert};

const NODE: &str = "hung-yen";

fn experts(records: Vec<pb::Expert>) -> Vec<AnyRecord> {
    records.into_iter().map(AnyRecord::Expert).collect()
}

async fn put(store: &Store, records: Vec<pb::Expert>) {
    let report = store.upsert(experts(records)).await.expect("upsert");
    assert!(report.rejected.is_empty(), "{:?}", report.rejected);
}

fn search(query: &str) -> SearchRequest {
    SearchRequest {
        kind: Some(RecordKind::Expert),
        query: query.into(),
        page_size: 50,
        ..Default::default()
    }
}

/// (local id, tier) of the first page, best first.
async fn ranked(store: &Store, query: &str) -> Vec<(String, MatchTier)> {
    store
        .search(&search(query))
        .await
        .expect("search")
        .hits
        .into_iter()
        .map(|hit| {
            let id = hit
                .record
                .id()
                .rsplit(':')
                .next()
                .unwrap_or_default()
                .to_owned();
            (id, hit.rank.tier)
        })
        .collect()
}

fn local_ids(ranked: &[(String, MatchTier)]) -> Vec<&str> {
    ranked.iter().map(|(id, _)| id.as_str()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_name_outranks_keywords_and_the_querys_diacritics_outrank_other_spellings() {
    for database in TestDatabase::each_backend().await {
        let backend = database.backend;
        let store = database.open_store(NODE).await;
        put(
            &store,
            vec![
                // Written first, so storage order alone would put them first.
                pb::Expert {
                    keywords: vec!["suy dinh dưỡng".into(), "thuỷ sản".into()],
                    ..expert("LE", "Lê Thị Thủy")
                },
                pb::Expert {
                    position: "Nghiên cứu lúa lai".into(),
                    ..expert("POS", "Trần Văn Bình")
                },
                expert("DINH2", "Dinh Văn Nam"),
                expert("DINH", "Đinh Thị Thuỷ"),
                pb::Expert {
                    specialization: "Nghiên cứu lúa lai".into(),
                    ..expert("SPEC", "Hoàng Văn Cường")
                },
            ],
        )
        .await;

        // The whole name wins; the keyword match comes after every name match.
        let hits = ranked(&store, "đinh thị thuỷ").await;
        assert_eq!(
            hits[0],
            ("DINH".to_owned(), MatchTier::Exact),
            "{backend:?}: {hits:?}"
        );
        let le = hits
            .iter()
            .position(|(id, _)| id == "LE")
            .expect("LE matches in text");
        assert!(le > 0, "{backend:?}: {hits:?}");

        // Same tier (the phrase in other text): specialization over position.
        let hits = ranked(&store, "lúa lai").await;
        assert_eq!(
            local_ids(&hits)[..2],
            ["SPEC", "POS"],
            "{backend:?}: {hits:?}"
        );
        assert!(
            hits[..2]
                .iter()
                .all(|(_, tier)| *tier == MatchTier::TextPhrase)
        );

        // "đinh" with its stroke: Đinh first, though Dinh was written first.
        let hits = ranked(&store, "đinh").await;
        assert_eq!(
            local_ids(&hits)[..2],
            ["DINH", "DINH2"],
            "{backend:?}: {hits:?}"
        );
        // Without diacritics both spellings are alike: storage order decides.
        let hits = ranked(&store, "dinh").await;
        assert_eq!(
            local_ids(&hits)[..2],
            ["DINH2", "DINH"],
            "{backend:?}: {hits:?}"
        );
        store.close().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_word_finds_names_within_one_edit_and_short_or_known_words_stay_as_typed() {
    for database in TestDatabase::each_backend().await {
        let backend = database.backend;
        let node = TestNode::start(NODE, &database).await;
        put(
            &node.store,
            vec![
                expert("HAI", "Nguyễn Xuân Hải"),
                expert("XUAN", "Nguyễn Xuân"),
                expert("HA", "Nguyễn Hà"),
                expert("HAO", "Nguyễn Hảo"),
            ],
        )
        .await;

        // "hia" is in no record: read as within one edit ("hai", a swap).
        let hits = ranked(&node.store, "nguyen xuan hia").await;
        assert_eq!(
            hits,
            [("HAI".to_owned(), MatchTier::Typo)],
            "{backend:?}: a swap is one edit"
        );
        // Below every match of the words as typed.
        let hits = ranked(&node.store, "nguyen xuan").await;
        assert_eq!(local_ids(&hits)[0], "XUAN", "{backend:?}: {hits:?}");
        assert!(hits.iter().all(|(_, tier)| *tier != MatchTier::Typo));
        // Two-letter words match exactly or not at all: "ha" is not "hai"
        // or "hao". A word some record holds is taken as typed: "hao" is
        // not corrected to "hai".
        let hits = ranked(&node.store, "nguyen ha").await;
        assert_eq!(local_ids(&hits), ["HA"], "{backend:?}: {hits:?}");
        let hits = ranked(&node.store, "nguyen hao").await;
        assert_eq!(local_ids(&hits), ["HAO"], "{backend:?}: {hits:?}");
        // Whether a word is corrected reveals nothing of records the caller
        // cannot search: other kinds, hidden records, withdrawn ones.
        let report = node
            .store
            .upsert(vec![AnyRecord::Project(pb::Project {
                meta: Some(lienthong_tests::federation_meta("hung-yen:project:P1")),
                code: "ĐT.HY.1".into(),
                title: "Nghiên cứu hia".into(),
                status: pb::ProjectStatus::Completed as i32,
                ..Default::default()
            })])
            .await
            .expect("project");
        assert!(report.rejected.is_empty(), "{:?}", report.rejected);
        let hidden = pb::Expert {
            meta: Some(pb::RecordMeta {
                visibility: pb::Visibility::Internal as i32,
                ..lienthong_tests::federation_meta("hung-yen:expert:HIDDEN")
            }),
            full_name: "Hia Thị Ẩn".into(),
            ..Default::default()
        };
        put(&node.store, vec![hidden]).await;
        put(&node.store, vec![expert("GONE", "Lê Hia")]).await;
        put(
            &node.store,
            vec![pb::Expert {
                meta: Some(pb::RecordMeta {
                    visibility: pb::Visibility::Internal as i32,
                    ..lienthong_tests::federation_meta("hung-yen:expert:GONE")
                }),
                full_name: "Lê Hia".into(),
                ..Default::default()
            }],
        )
        .await;
        let hits = ranked(&node.store, "nguyen xuan hia").await;
        assert_eq!(
            hits,
            [("HAI".to_owned(), MatchTier::Typo)],
            "{backend:?}: still corrected"
        );
        // Another record with the word makes it known: no correction then.
        put(&node.store, vec![expert("HIA", "Nguyễn Xuân Hia")]).await;
        let hits = ranked(&node.store, "nguyen xuan hia").await;
        assert_eq!(hits, [("HIA".to_owned(), MatchTier::Exact)], "{backend:?}");
        node.store
            .delete("hung-yen:expert:HIA")
            .await
            .expect("delete");

        // Over gRPC: the tier, the shared-scale score below every exact
        // match, and the words that matched for highlighting.
        let mut client = node.client().await;
        let response = client
            .search_experts(pb::SearchRequest {
                query: "nguyen xuan hia".into(),
                page_size: 10,
                ..Default::default()
            })
            .await
            .expect("SearchExperts")
            .into_inner();
        let ranks: Vec<pb::HitRank> = response
            .hits
            .iter()
            .map(|hit| hit.rank.clone().expect("rank"))
            .collect();
        assert_eq!(ranks.len(), 1, "{backend:?}: {ranks:?}");
        assert_eq!(ranks[0].tier, pb::MatchTier::Typo as i32);
        assert!(ranks[0].score < 0.3, "below every exact tier's band");
        assert_eq!(
            ranks[0].matched_words,
            ["nguyen", "xuan", "hai"],
            "{backend:?}: the record's own word is named, not the query's"
        );
        node.stop().await.expect("clean stop");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn words_typed_with_telex_or_vni_keys_find_what_was_meant() {
    for database in TestDatabase::each_backend().await {
        let backend = database.backend;
        let store = database.open_store(NODE).await;
        put(
            &store,
            vec![
                expert("HAI", "Nguyễn Xuân Hải"),
                expert("DUC", "Trương Đình Đức"),
                expert("OTHER", "Phạm Thị Lan"),
            ],
        )
        .await;
        for query in [
            "nguyeenx xuaan hair",
            "nguye64n xua6n ha3i",
            "NGUYEENX Xuaan hai",
        ] {
            let hits = ranked(&store, query).await;
            assert_eq!(
                hits.first(),
                Some(&("HAI".to_owned(), MatchTier::Exact)),
                "{backend:?}: {query:?} gives {hits:?}"
            );
        }
        let hits = ranked(&store, "truwowng ddinhf dduwcs").await;
        assert_eq!(
            hits.first(),
            Some(&("DUC".to_owned(), MatchTier::Exact)),
            "{backend:?}: {hits:?}"
        );
        // A word that is already a syllable is taken as typed.
        assert!(
            ranked(&store, "lan")
                .await
                .iter()
                .all(|(id, _)| id == "OTHER")
        );
        store.close().await;
    }
}

/// Pages through "nguyen" while other writers insert new Nguyễns, rename
/// others and delete some: every record that existed before the walk and was
/// not touched during it is returned exactly once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_neither_repeat_nor_skip_unchanged_records_while_others_are_written() {
    for database in TestDatabase::each_backend().await {
        let backend = database.backend;
        let store = database.open_store(NODE).await;
        let names = [
            "Nguyễn Văn An",
            "Nguyễn Thị Bình",
            "Trần Nguyễn Hải",
            "Lê Văn Nguyên",
            "Nguyễn Xuân Đức",
        ];
        // Some mention the name in their keywords too: relevance varies.
        let before: Vec<pb::Expert> = (0..300)
            .map(|i| pb::Expert {
                keywords: if i % 7 == 0 {
                    vec!["Nguyễn triều".into()]
                } else {
                    vec![]
                },
                ..expert(&format!("B{i}"), names[i % names.len()])
            })
            .collect();
        put(&store, before.clone()).await;
        // Every tenth record is rewritten or deleted during the walk.
        let touched: HashSet<String> = (0..300)
            .filter(|i| i % 10 == 0)
            .map(|i| format!("B{i}"))
            .collect();

        let mut request = SearchRequest {
            page_size: 7,
            ..search("nguyen")
        };
        let mut seen: Vec<String> = Vec::new();
        let mut scores: Vec<f64> = Vec::new();
        let mut page_number = 0;
        loop {
            let page = store.search(&request).await.expect("search");
            scores.extend(page.hits.iter().map(|hit| hit.rank.score));
            seen.extend(page.hits.iter().map(|hit| {
                hit.record
                    .id()
                    .rsplit(':')
                    .next()
                    .unwrap_or_default()
                    .to_owned()
            }));
            // Writes between pages: new matches, renamed and deleted ones.
            let writes: Vec<pb::Expert> = (0..5)
                .map(|n| expert(&format!("N{page_number}_{n}"), "Nguyễn Văn Mới"))
                .chain(
                    touched
                        .iter()
                        .filter(|id| id.len() % 3 == page_number % 3)
                        .take(2)
                        .map(|id| expert(id, "Nguyễn Đổi Tên")),
                )
                .collect();
            put(&store, writes).await;
            if page_number % 4 == 0
                && let Some(id) = touched.iter().nth(page_number / 4)
            {
                let _ = store.delete(&format!("{NODE}:expert:{id}")).await;
            }
            page_number += 1;
            if page.next_page_token.is_empty() {
                break;
            }
            assert!(page_number < 500, "{backend:?}: paging does not end");
            request.page_token = page.next_page_token;
        }
        assert!(
            scores.windows(2).all(|pair| pair[0] >= pair[1]),
            "{backend:?}: hits come best first across pages: {scores:?}"
        );
        assert!(
            scores.iter().any(|score| *score > scores[scores.len() - 1]),
            "{backend:?}: the test needs hits of different relevance"
        );
        // A record rewritten during the walk may move to a later page and
        // be met again; every other one comes once.
        let unchanged: Vec<&String> = seen.iter().filter(|id| !touched.contains(*id)).collect();
        let distinct: HashSet<&String> = unchanged.iter().copied().collect();
        assert_eq!(
            distinct.len(),
            unchanged.len(),
            "{backend:?}: an unchanged record came twice"
        );
        for record in &before {
            let local = record
                .meta
                .as_ref()
                .expect("meta")
                .id
                .rsplit(':')
                .next()
                .unwrap_or_default()
                .to_owned();
            if !touched.contains(&local) {
                assert!(
                    distinct.contains(&local),
                    "{backend:?}: unchanged {local} was skipped"
                );
            }
        }
        store.close().await;
    }
}

/// Equally relevant hits come in database order, also when a later write
/// rewrote some of the first records (their index entries are then added
/// after newer records' ones): the index keeps each segment sorted by
/// position, which lets the walk stop at the first page's last tie. Checked
/// for a tier walked match by match (the exact name) and for one ranked
/// before its phrase is checked (a phrase of the name), before and after the
/// segments are merged.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ties_come_in_database_order_after_early_records_are_rewritten() {
    for database in TestDatabase::each_backend().await {
        let backend = database.backend;
        let store = database.open_store(NODE).await;
        let name = "Nguyễn Văn Cường";
        put(
            &store,
            (0..100)
                .map(|i| expert(&format!("B{i:03}"), name))
                .collect(),
        )
        .await;
        // Each batch writes a new record first, then rewrites early ones.
        for (batch, rewritten) in [[7, 3], [15, 1], [9, 0]].iter().enumerate() {
            let mut writes = vec![expert(&format!("N{batch}"), name)];
            writes.extend(rewritten.iter().map(|i| pb::Expert {
                position: format!("Phó trưởng phòng {batch}"),
                ..expert(&format!("B{i:03}"), name)
            }));
            put(&store, writes).await;
        }
        let expected: Vec<String> = (0..10).map(|i| format!("B{i:03}")).collect();
        for stage in ["as written", "merged"] {
            for query in [name, "văn cường"] {
                let first_page: Vec<String> = store
                    .search(&SearchRequest {
                        page_size: 10,
                        ..search(query)
                    })
                    .await
                    .expect("search")
                    .hits
                    .iter()
                    .map(|hit| {
                        hit.record
                            .id()
                            .rsplit(':')
                            .next()
                            .unwrap_or_default()
                            .to_owned()
                    })
                    .collect();
                assert_eq!(
                    first_page, expected,
                    "{backend:?}, {stage}, {query:?}: ties in database order"
                );
            }
            store.analyze().await.expect("merge the index");
        }
        // Paging a phrase (ranked before its phrase is checked) in pages of 7
        // gives what pages of 100 give.
        let mut walks = Vec::new();
        for page_size in [7, 100] {
            let mut request = SearchRequest {
                page_size,
                ..search("văn cường")
            };
            let mut ids = Vec::new();
            loop {
                let page = store.search(&request).await.expect("search");
                ids.extend(page.hits.iter().map(|hit| hit.record.id().to_owned()));
                if page.next_page_token.is_empty() {
                    break;
                }
                request.page_token = page.next_page_token;
            }
            walks.push(ids);
        }
        assert_eq!(walks[1].len(), 103, "{backend:?}");
        assert_eq!(
            walks[0], walks[1],
            "{backend:?}: pages of 7 against pages of 100"
        );
        store.close().await;
    }
}
