//! Vietnamese-aware search: folding, match tiers, phrases, filters, paging,
//! limits and visibility, through `Store::search` and over real gRPC, on each
//! backend. Every test builds its own small records so expectations are exact.

use std::collections::{BTreeSet, HashSet};

use lienthong_proto::v1 as pb;
use lienthong_proto::v1::province_node_client::ProvinceNodeClient;
use lienthong_records::folding::tokens;
use lienthong_records::{AnyRecord, RecordKind};
use lienthong_store::{MatchTier, SearchRequest, Store, StoreError};
use lienthong_tests::{
    TestDatabase, TestNode, federation_meta, is_shareable, load, sample_records,
};
use tonic::Code;
use tonic::transport::Channel;

const NODE: &str = "hung-yen";

use lienthong_tests::{hung_yen_expert as expert, hung_yen_expert_id as expert_id};

fn project(local: &str, title: &str, status: pb::ProjectStatus) -> pb::Project {
    pb::Project {
        meta: Some(federation_meta(&format!("{NODE}:project:{local}"))),
        code: format!("ĐT.HY.{local}"),
        title: title.into(),
        status: status as i32,
        ..Default::default()
    }
}

/// Upserts `records` and checks that none was refused.
async fn put(store: &Store, records: Vec<AnyRecord>) {
    let report = store.upsert(records).await.expect("upsert");
    assert!(report.rejected.is_empty(), "{:?}", report.rejected);
}

fn experts(records: Vec<pb::Expert>) -> Vec<AnyRecord> {
    records.into_iter().map(AnyRecord::Expert).collect()
}

/// A shareable-only expert search for `query` with page size 100.
fn expert_search(query: &str) -> SearchRequest {
    SearchRequest {
        kind: Some(RecordKind::Expert),
        query: query.into(),
        page_size: 100,
        ..Default::default()
    }
}

/// Every hit of `request`, following page tokens to the end.
async fn all_hits(store: &Store, request: &SearchRequest) -> Vec<(String, MatchTier)> {
    let mut request = request.clone();
    let mut hits = Vec::new();
    for _ in 0..1_000 {
        let page = store.search(&request).await.expect("search");
        hits.extend(
            page.hits
                .iter()
                .map(|hit| (hit.record.id().to_owned(), hit.rank.tier)),
        );
        if page.next_page_token.is_empty() {
            return hits;
        }
        request.page_token = page.next_page_token;
    }
    panic!("paging did not end after 1,000 pages");
}

/// The ids of every hit that matches each word (every tier but typos).
async fn ids(store: &Store, request: &SearchRequest) -> Vec<String> {
    all_hits(store, request)
        .await
        .into_iter()
        .filter(|(_, tier)| *tier != MatchTier::Typo)
        .map(|(id, _)| id)
        .collect()
}

async fn id_set(store: &Store, request: &SearchRequest) -> BTreeSet<String> {
    ids(store, request).await.into_iter().collect()
}

fn set(ids: &[&str]) -> BTreeSet<String> {
    ids.iter().map(|local| expert_id(local)).collect()
}

/// Every expert hit of a gRPC search, following page tokens to the end.
async fn grpc_expert_hits(
    client: &mut ProvinceNodeClient<Channel>,
    request: pb::SearchRequest,
) -> Vec<(String, pb::MatchTier, f64)> {
    let mut request = request;
    let mut hits = Vec::new();
    for _ in 0..1_000 {
        let response = client
            .search_experts(request.clone())
            .await
            .expect("SearchExperts")
            .into_inner();
        for hit in response.hits {
            let expert = hit.expert.expect("hit carries the expert");
            let rank = hit.rank.expect("hit carries its rank");
            hits.push((
                expert.meta.expect("expert meta").id,
                pb::MatchTier::try_from(rank.tier).expect("known tier"),
                rank.score,
            ));
        }
        if response.next_page_token.is_empty() {
            return hits;
        }
        request.page_token = response.next_page_token;
    }
    panic!("paging did not end after 1,000 pages");
}

async fn grpc_expert_ids(
    client: &mut ProvinceNodeClient<Channel>,
    request: pb::SearchRequest,
) -> Vec<String> {
    grpc_expert_hits(client, request)
        .await
        .into_iter()
        .filter(|(_, tier, _)| *tier != pb::MatchTier::Typo)
        .map(|(id, _, _)| id)
        .collect()
}

fn grpc_query(query: &str) -> pb::SearchRequest {
    pb::SearchRequest {
        query: query.into(),
        page_size: 100,
        ..Default::default()
    }
}

fn to_pb_tier(tier: MatchTier) -> pb::MatchTier {
    match tier {
        MatchTier::Exact => pb::MatchTier::Exact,
        MatchTier::NamePhrase => pb::MatchTier::NamePhrase,
        MatchTier::NameWords => pb::MatchTier::NameWords,
        MatchTier::TextPhrase => pb::MatchTier::TextPhrase,
        MatchTier::TextWords => pb::MatchTier::TextWords,
        MatchTier::Typo => pb::MatchTier::Typo,
        MatchTier::FilterOnly => pb::MatchTier::FilterOnly,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn any_case_diacritics_or_normal_form_finds_the_same_name() {
    // "Nguyễn Xuân Hải" written decomposed (NFD) by hand: base letters followed
    // by combining circumflex, tilde and hook above.
    let nfd = "Nguye\u{0302}\u{0303}n Xua\u{0302}n Ha\u{0309}i";
    assert_ne!(
        nfd, "Nguyễn Xuân Hải",
        "the test needs a really decomposed form"
    );
    assert!(nfd.contains('\u{0302}'));
    for database in TestDatabase::each_backend().await {
        let backend = database.backend;
        let node = TestNode::start(NODE, &database).await;
        put(
            &node.store,
            experts(vec![
                expert("E1", "Nguyễn Xuân Hải"),
                expert("E2", "Nguyễn Văn Hải"),
                expert("E3", "Trần Xuân Hải"),
                expert("E4", nfd),
                expert("E5", "Nguyễn Xuân Hà"),
            ]),
        )
        .await;
        let expected: Vec<(String, MatchTier)> = vec![
            (expert_id("E1"), MatchTier::Exact),
            (expert_id("E4"), MatchTier::Exact),
        ];
        let mut client = node.client().await;
        for query in ["nguyen xuan hai", "Nguyễn Xuân Hải", "NGUYEN XUAN HAI", nfd] {
            let mut hits: Vec<(String, MatchTier)> = all_hits(&node.store, &expert_search(query))
                .await
                .into_iter()
                .filter(|(_, tier)| *tier != MatchTier::Typo)
                .collect();
            hits.sort();
            assert_eq!(hits, expected, "{backend:?} store, query {query:?}");
            let mut over_grpc = grpc_expert_hits(&mut client, grpc_query(query)).await;
            over_grpc.sort_by(|a, b| a.0.cmp(&b.0));
            let over_grpc: Vec<(String, pb::MatchTier)> = over_grpc
                .into_iter()
                .filter(|(_, tier, _)| *tier != pb::MatchTier::Typo)
                .map(|(id, tier, _)| (id, tier))
                .collect();
            assert_eq!(
                over_grpc,
                vec![
                    (expert_id("E1"), pb::MatchTier::Exact),
                    (expert_id("E4"), pb::MatchTier::Exact)
                ],
                "{backend:?} gRPC, query {query:?}"
            );
        }
        node.stop().await.expect("clean stop");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn d_with_stroke_and_old_or_new_tone_placement_match() {
    for database in TestDatabase::each_backend().await {
        let backend = database.backend;
        let node = TestNode::start(NODE, &database).await;
        put(
            &node.store,
            experts(vec![
                expert("D1", "Đinh Văn Toàn"),
                // Old tone placement (hoà, thuỷ) and new (hòa, thủy).
                expert("H1", "Nguyễn Thị Ho\u{00e0}"),
                expert("H2", "Lê Thị H\u{00f2}a"),
                expert("T1", "Phạm Thu Thu\u{1ef7}"),
                expert("T2", "Vũ Thị Th\u{1ee7}y"),
                // Other words that share letters but are not the same word.
                expert("X1", "Đỗ Văn Hoàng"),
                expert("X2", "Trần Thị Thu Hoan"),
            ]),
        )
        .await;
        let mut client = node.client().await;
        let cases: [(&str, &[&str]); 7] = [
            ("dinh", &["D1"]),
            ("ĐINH", &["D1"]),
            ("đinh văn toàn", &["D1"]),
            ("ho\u{00e0}", &["H1", "H2"]),
            ("h\u{00f2}a", &["H1", "H2"]),
            ("thu\u{1ef7}", &["T1", "T2"]),
            ("th\u{1ee7}y", &["T1", "T2"]),
        ];
        for (query, expected) in cases {
            assert_eq!(
                id_set(&node.store, &expert_search(query)).await,
                set(expected),
                "{backend:?} store, query {query:?}"
            );
            let over_grpc: BTreeSet<String> = grpc_expert_ids(&mut client, grpc_query(query))
                .await
                .into_iter()
                .collect();
            assert_eq!(
                over_grpc,
                set(expected),
                "{backend:?} gRPC, query {query:?}"
            );
        }
        node.stop().await.expect("clean stop");
    }
}

/// One expert per match tier of "nguyen xuan hai", stored in reverse rank order
/// so that storage order cannot pass for ranking, plus one that must not match.
fn one_expert_per_tier() -> Vec<pb::Expert> {
    vec![
        pb::Expert {
            specialization: "Hải dương học".into(),
            keywords: vec!["Nguyễn triều".into(), "mùa xuân".into()],
            ..expert("TW", "Lê Thị Hồng")
        },
        pb::Expert {
            specialization: "Kế thừa phương pháp của Nguyễn Xuân Hải".into(),
            ..expert("TP", "Trần Văn Bình")
        },
        expert("NW", "Nguyễn Hải Xuân"),
        expert("NP", "Nguyễn Xuân Hải Đăng"),
        expert("EX", "Nguyễn Xuân Hải"),
        pb::Expert {
            specialization: "Hải sản".into(),
            ..expert("NO", "Nguyễn Văn Hải")
        },
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hits_rank_exact_then_name_phrase_then_name_words_then_text_phrase_then_text_words() {
    let expected = vec![
        (expert_id("EX"), MatchTier::Exact),
        (expert_id("NP"), MatchTier::NamePhrase),
        (expert_id("NW"), MatchTier::NameWords),
        (expert_id("TP"), MatchTier::TextPhrase),
        (expert_id("TW"), MatchTier::TextWords),
    ];
    for database in TestDatabase::each_backend().await {
        let backend = database.backend;
        let node = TestNode::start(NODE, &database).await;
        put(&node.store, experts(one_expert_per_tier())).await;
        let store_hits = all_hits(&node.store, &expert_search("nguyen xuan hai")).await;
        assert_eq!(store_hits, expected, "{backend:?} store");

        let mut client = node.client().await;
        let over_grpc = grpc_expert_hits(&mut client, grpc_query("Nguyễn Xuân Hải")).await;
        let got: Vec<(String, pb::MatchTier)> = over_grpc
            .iter()
            .map(|(id, tier, _)| (id.clone(), *tier))
            .collect();
        let want: Vec<(String, pb::MatchTier)> = expected
            .iter()
            .map(|(id, tier)| (id.clone(), to_pb_tier(*tier)))
            .collect();
        assert_eq!(got, want, "{backend:?} gRPC");
        let scores: Vec<f64> = over_grpc.iter().map(|(_, _, score)| *score).collect();
        assert!(
            scores.iter().all(|score| *score > 0.0 && *score <= 1.0),
            "{backend:?}: scores in (0, 1]: {scores:?}"
        );
        assert!(
            scores.windows(2).all(|pair| pair[0] > pair[1]),
            "{backend:?}: a better tier scores higher: {scores:?}"
        );
        node.stop().await.expect("clean stop");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_quoted_phrase_must_appear_as_a_phrase() {
    for database in TestDatabase::each_backend().await {
        let backend = database.backend;
        let node = TestNode::start(NODE, &database).await;
        put(
            &node.store,
            experts(vec![
                pb::Expert {
                    specialization: "Nghiên cứu lúa lai".into(),
                    ..expert("P1", "Nguyễn Văn An")
                },
                pb::Expert {
                    specialization: "Nghiên cứu giống ngô và lúa".into(),
                    ..expert("P2", "Trần Thị Bình")
                },
            ]),
        )
        .await;
        let quoted = "\"nghiên cứu lúa\"";
        assert_eq!(
            all_hits(&node.store, &expert_search(quoted)).await,
            vec![(expert_id("P1"), MatchTier::TextPhrase)],
            "{backend:?} store"
        );
        // Without the quotes both match: the quotes are what excludes P2.
        assert_eq!(
            all_hits(&node.store, &expert_search("nghiên cứu lúa")).await,
            vec![
                (expert_id("P1"), MatchTier::TextPhrase),
                (expert_id("P2"), MatchTier::TextWords)
            ],
            "{backend:?} store, unquoted"
        );
        // A quoted phrase plus a loose word: both must hold.
        assert_eq!(
            id_set(&node.store, &expert_search("\"nghien cuu\" ngo")).await,
            set(&["P2"]),
            "{backend:?} store, phrase and word"
        );
        let mut client = node.client().await;
        assert_eq!(
            grpc_expert_ids(&mut client, grpc_query(quoted)).await,
            vec![expert_id("P1")],
            "{backend:?} gRPC"
        );
        node.stop().await.expect("clean stop");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn field_code_prefixes_match_circular_24_and_legacy_codes() {
    for database in TestDatabase::each_backend().await {
        let backend = database.backend;
        let node = TestNode::start(NODE, &database).await;
        put(
            &node.store,
            experts(vec![
                pb::Expert {
                    field_codes: vec!["4010101".into()],
                    ..expert("NEW", "Nguyễn Văn An")
                },
                pb::Expert {
                    field_codes: vec!["40101".into()],
                    ..expert("OLD", "Trần Văn Bình")
                },
                pb::Expert {
                    field_codes: vec!["1010101".into()],
                    ..expert("MATH", "Nguyễn Thị Cúc")
                },
            ]),
        )
        .await;
        let by_prefixes = |prefixes: &[&str], query: &str| SearchRequest {
            field_code_prefixes: prefixes.iter().map(|p| (*p).to_owned()).collect(),
            ..expert_search(query)
        };
        let cases: [(&[&str], &str, &[&str]); 8] = [
            (&["4"], "", &["NEW", "OLD"]),
            (&["401"], "", &["NEW", "OLD"]),
            (&["40101"], "", &["NEW", "OLD"]),
            (&["4010101"], "", &["NEW"]),
            (&["5"], "", &[]),
            (&["5", "1"], "", &["MATH"]),
            (&["4", "1"], "", &["NEW", "OLD", "MATH"]),
            (&["4"], "nguyen", &["NEW"]),
        ];
        for (prefixes, query, expected) in cases {
            assert_eq!(
                id_set(&node.store, &by_prefixes(prefixes, query)).await,
                set(expected),
                "{backend:?} prefixes {prefixes:?} query {query:?}"
            );
        }
        let filter_only = all_hits(&node.store, &by_prefixes(&["4"], "")).await;
        assert!(
            filter_only
                .iter()
                .all(|(_, tier)| *tier == MatchTier::FilterOnly),
            "{backend:?}: {filter_only:?}"
        );
        let mut client = node.client().await;
        let over_grpc: BTreeSet<String> = grpc_expert_ids(
            &mut client,
            pb::SearchRequest {
                filters: Some(pb::SearchFilters {
                    field_code_prefixes: vec!["401".into()],
                    ..Default::default()
                }),
                ..grpc_query("")
            },
        )
        .await
        .into_iter()
        .collect();
        assert_eq!(over_grpc, set(&["NEW", "OLD"]), "{backend:?} gRPC");
        node.stop().await.expect("clean stop");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn organization_degree_title_and_inclusive_year_filters() {
    let o1 = format!("{NODE}:organization:O1");
    let o2 = format!("{NODE}:organization:O2");
    for database in TestDatabase::each_backend().await {
        let backend = database.backend;
        let node = TestNode::start(NODE, &database).await;
        // The organizations exist and are shared: a filter by one a caller
        // may not see matches nothing (see the disclosure tests).
        let organizations = [&o1, &o2]
            .into_iter()
            .map(|id| {
                AnyRecord::Organization(pb::Organization {
                    meta: Some(federation_meta(id)),
                    name: format!("Viện {id}"),
                    ..Default::default()
                })
            })
            .collect();
        put(&node.store, organizations).await;
        put(
            &node.store,
            experts(vec![
                pb::Expert {
                    organization_id: o1.clone(),
                    degree: pb::Degree::Doctor as i32,
                    academic_title: pb::AcademicTitle::AssociateProfessor as i32,
                    birth_year: 1970,
                    ..expert("X1", "Nguyễn Văn An")
                },
                pb::Expert {
                    organization_id: o2.clone(),
                    degree: pb::Degree::Master as i32,
                    birth_year: 1975,
                    ..expert("X2", "Nguyễn Thị Bình")
                },
                pb::Expert {
                    organization_id: o1.clone(),
                    degree: pb::Degree::Master as i32,
                    academic_title: pb::AcademicTitle::Professor as i32,
                    birth_year: 1980,
                    ..expert("X3", "Trần Văn Cường")
                },
                pb::Expert {
                    degree: pb::Degree::Doctor as i32,
                    ..expert("X4", "Lê Thị Dung")
                },
            ]),
        )
        .await;
        let base = expert_search("");
        let cases: Vec<(&str, SearchRequest, &[&str])> = vec![
            (
                "organization O1",
                SearchRequest {
                    organization_id: o1.clone(),
                    ..base.clone()
                },
                &["X1", "X3"],
            ),
            (
                "degree master",
                SearchRequest {
                    degree: pb::Degree::Master as i32,
                    ..base.clone()
                },
                &["X2", "X3"],
            ),
            (
                "title professor",
                SearchRequest {
                    academic_title: pb::AcademicTitle::Professor as i32,
                    ..base.clone()
                },
                &["X3"],
            ),
            (
                "degree doctor and title associate professor",
                SearchRequest {
                    degree: pb::Degree::Doctor as i32,
                    academic_title: pb::AcademicTitle::AssociateProfessor as i32,
                    ..base.clone()
                },
                &["X1"],
            ),
            (
                "years 1975-1980",
                SearchRequest {
                    year_from: 1975,
                    year_to: 1980,
                    ..base.clone()
                },
                &["X2", "X3"],
            ),
            (
                "year 1975 only",
                SearchRequest {
                    year_from: 1975,
                    year_to: 1975,
                    ..base.clone()
                },
                &["X2"],
            ),
            (
                "from 1971",
                SearchRequest {
                    year_from: 1971,
                    ..base.clone()
                },
                &["X2", "X3"],
            ),
            (
                "up to 1970",
                SearchRequest {
                    year_to: 1970,
                    ..base.clone()
                },
                &["X1"],
            ),
            (
                "nguyen at O1",
                SearchRequest {
                    organization_id: o1.clone(),
                    ..expert_search("nguyen")
                },
                &["X1"],
            ),
            (
                "van with a master's degree",
                SearchRequest {
                    degree: pb::Degree::Master as i32,
                    ..expert_search("văn")
                },
                &["X3"],
            ),
            (
                "thi born 1971-1990",
                SearchRequest {
                    year_from: 1971,
                    year_to: 1990,
                    ..expert_search("thi")
                },
                &["X2"],
            ),
            (
                "no filters, no text",
                base.clone(),
                &["X1", "X2", "X3", "X4"],
            ),
        ];
        for (name, request, expected) in &cases {
            assert_eq!(
                id_set(&node.store, request).await,
                set(expected),
                "{backend:?}: {name}"
            );
        }
        let mut client = node.client().await;
        let over_grpc = grpc_expert_hits(
            &mut client,
            pb::SearchRequest {
                filters: Some(pb::SearchFilters {
                    organization_id: o1.clone(),
                    degree: pb::Degree::Master as i32,
                    year_from: 1980,
                    year_to: 1980,
                    ..Default::default()
                }),
                ..grpc_query("")
            },
        )
        .await;
        assert_eq!(over_grpc.len(), 1, "{backend:?}: {over_grpc:?}");
        assert_eq!(over_grpc[0].0, expert_id("X3"));
        assert_eq!(over_grpc[0].1, pb::MatchTier::FilterOnly);
        let with_text: BTreeSet<String> = grpc_expert_ids(
            &mut client,
            pb::SearchRequest {
                filters: Some(pb::SearchFilters {
                    academic_title: pb::AcademicTitle::AssociateProfessor as i32,
                    ..Default::default()
                }),
                ..grpc_query("nguyen")
            },
        )
        .await
        .into_iter()
        .collect();
        assert_eq!(with_text, set(&["X1"]), "{backend:?} gRPC");
        node.stop().await.expect("clean stop");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn project_status_and_level_filters_accept_any_listed_value() {
    use pb::{ManagementLevel as L, ProjectStatus as S};
    let projects = [
        pb::Project {
            management_level: L::Province as i32,
            actual_start: "2019-03-01".into(),
            ..project("P1", "Nghiên cứu lúa chịu mặn", S::Completed)
        },
        pb::Project {
            management_level: L::National as i32,
            planned_start: "2021-01-15".into(),
            ..project("P2", "Ứng dụng công nghệ sinh học", S::Ongoing)
        },
        pb::Project {
            management_level: L::Province as i32,
            planned_start: "2024-06-01".into(),
            ..project("P3", "Nghiên cứu giống nhãn lồng", S::Approved)
        },
        pb::Project {
            management_level: L::Grassroots as i32,
            planned_start: "2020-01-01".into(),
            ..project("P4", "Bảo tồn làng nghề", S::Cancelled)
        },
    ];
    let pid = |local: &str| format!("{NODE}:project:{local}");
    let pset = |locals: &[&str]| -> BTreeSet<String> { locals.iter().map(|l| pid(l)).collect() };
    for database in TestDatabase::each_backend().await {
        let backend = database.backend;
        let node = TestNode::start(NODE, &database).await;
        put(
            &node.store,
            projects.iter().cloned().map(AnyRecord::Project).collect(),
        )
        .await;
        let base = SearchRequest {
            kind: Some(RecordKind::Project),
            ..expert_search("")
        };
        let cases: Vec<(SearchRequest, &[&str])> = vec![
            (
                SearchRequest {
                    statuses: vec![S::Completed as i32],
                    ..base.clone()
                },
                &["P1"],
            ),
            (
                SearchRequest {
                    statuses: vec![S::Completed as i32, S::Ongoing as i32],
                    ..base.clone()
                },
                &["P1", "P2"],
            ),
            (
                SearchRequest {
                    management_levels: vec![L::Province as i32],
                    ..base.clone()
                },
                &["P1", "P3"],
            ),
            (
                SearchRequest {
                    management_levels: vec![L::National as i32, L::Grassroots as i32],
                    ..base.clone()
                },
                &["P2", "P4"],
            ),
            (
                SearchRequest {
                    statuses: vec![S::Completed as i32, S::Approved as i32],
                    management_levels: vec![L::Province as i32],
                    ..base.clone()
                },
                &["P1", "P3"],
            ),
            (
                SearchRequest {
                    statuses: vec![S::Ongoing as i32],
                    management_levels: vec![L::Province as i32],
                    ..base.clone()
                },
                &[],
            ),
            (
                SearchRequest {
                    statuses: vec![S::Completed as i32, S::Approved as i32],
                    query: "nghien cuu".into(),
                    ..base.clone()
                },
                &["P1", "P3"],
            ),
            (
                SearchRequest {
                    statuses: vec![S::Approved as i32],
                    query: "nghien cuu".into(),
                    ..base.clone()
                },
                &["P3"],
            ),
            (
                // Start year: actual start when known, else planned start.
                SearchRequest {
                    year_from: 2019,
                    year_to: 2020,
                    ..base.clone()
                },
                &["P1", "P4"],
            ),
        ];
        for (request, expected) in &cases {
            assert_eq!(
                ids(&node.store, request)
                    .await
                    .into_iter()
                    .collect::<BTreeSet<_>>(),
                pset(expected),
                "{backend:?}: {request:?}"
            );
        }
        let mut client = node.client().await;
        let response = client
            .search_projects(pb::SearchRequest {
                filters: Some(pb::SearchFilters {
                    statuses: vec![S::Ongoing as i32, S::Cancelled as i32],
                    ..Default::default()
                }),
                ..grpc_query("")
            })
            .await
            .expect("SearchProjects")
            .into_inner();
        let got: BTreeSet<String> = response
            .hits
            .into_iter()
            .map(|hit| hit.project.expect("project").meta.expect("meta").id)
            .collect();
        assert_eq!(got, pset(&["P2", "P4"]), "{backend:?} gRPC");
        node.stop().await.expect("clean stop");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn publications_and_organizations_are_searchable_over_grpc() {
    let publication = |local: &str, title: &str, year: u32| pb::Publication {
        meta: Some(federation_meta(&format!("{NODE}:publication:{local}"))),
        title: title.into(),
        year,
        ..Default::default()
    };
    for database in TestDatabase::each_backend().await {
        let backend = database.backend;
        let node = TestNode::start(NODE, &database).await;
        put(
            &node.store,
            vec![
                AnyRecord::Publication(publication("B1", "Đánh giá giống lúa", 2018)),
                AnyRecord::Publication(publication("B2", "Đánh giá giống ngô", 2020)),
                AnyRecord::Publication(publication("B3", "Đánh giá giống nhãn", 2022)),
                AnyRecord::Organization(pb::Organization {
                    meta: Some(federation_meta(&format!("{NODE}:organization:O1"))),
                    name: "Sở Khoa học và Công nghệ Hưng Yên".into(),
                    abbreviation: "SKHCN-HY".into(),
                    agency_code: "H31.15".into(),
                    ..Default::default()
                }),
                AnyRecord::Organization(pb::Organization {
                    meta: Some(federation_meta(&format!("{NODE}:organization:O2"))),
                    name: "Trường Đại học Sư phạm Kỹ thuật Hưng Yên".into(),
                    ..Default::default()
                }),
            ],
        )
        .await;
        let mut client = node.client().await;
        let response = client
            .search_publications(pb::SearchRequest {
                filters: Some(pb::SearchFilters {
                    year_from: 2019,
                    year_to: 2022,
                    ..Default::default()
                }),
                ..grpc_query("danh gia giong")
            })
            .await
            .expect("SearchPublications")
            .into_inner();
        let got: Vec<String> = response
            .hits
            .into_iter()
            .map(|hit| hit.publication.expect("publication").meta.expect("meta").id)
            .collect();
        assert_eq!(
            got,
            vec![
                format!("{NODE}:publication:B2"),
                format!("{NODE}:publication:B3")
            ],
            "{backend:?}"
        );
        for (query, expected) in [
            ("skhcn", "O1"),
            ("H31.15", "O1"),
            ("su pham ky thuat", "O2"),
            ("hưng yên", "O1"),
        ] {
            let response = client
                .search_organizations(grpc_query(query))
                .await
                .expect("SearchOrganizations")
                .into_inner();
            let first = response
                .hits
                .first()
                .and_then(|hit| hit.organization.as_ref())
                .and_then(|organization| organization.meta.as_ref())
                .map(|meta| meta.id.clone());
            assert_eq!(
                first,
                Some(format!("{NODE}:organization:{expected}")),
                "{backend:?}: {query:?}"
            );
        }
        node.stop().await.expect("clean stop");
    }
}

/// Whether any non-name searchable field of an expert contains `word`,
/// folded: the "elsewhere" of the contract's ranking tiers.
fn word_elsewhere(expert: &pb::Expert, word: &str) -> bool {
    let mut fields: Vec<&str> = vec![
        &expert.specialization,
        &expert.position,
        &expert.organization_name,
    ];
    fields.extend(expert.keywords.iter().map(String::as_str));
    if let Some(ids) = &expert.identifiers {
        fields.extend([
            ids.orcid.as_str(),
            ids.scopus_author_id.as_str(),
            ids.researcher_id.as_str(),
        ]);
    }
    fields
        .iter()
        .any(|field| tokens(field).iter().any(|token| token == word))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn paging_through_nguyen_visits_every_match_exactly_once() {
    let records = sample_records(NODE, 300);
    // Expected sets, computed from the input with the folding function alone.
    let mut in_name = BTreeSet::new();
    let mut elsewhere_only = BTreeSet::new();
    for record in &records {
        let AnyRecord::Expert(expert) = record else {
            continue;
        };
        if !is_shareable(record) {
            continue;
        }
        let id = record.id().to_owned();
        if tokens(&expert.full_name).iter().any(|t| t == "nguyen") {
            in_name.insert(id);
        } else if word_elsewhere(expert, "nguyen") {
            elsewhere_only.insert(id);
        }
    }
    assert!(
        in_name.len() > 50,
        "the sample must give many pages: {}",
        in_name.len()
    );
    for database in TestDatabase::each_backend().await {
        let backend = database.backend;
        let node = TestNode::start(NODE, &database).await;
        load(&node.store, records.clone()).await;

        let mut request = SearchRequest {
            page_size: 7,
            ..expert_search("nguyen")
        };
        let mut pages = Vec::new();
        loop {
            let page = node.store.search(&request).await.expect("search");
            pages.push(
                page.hits
                    .iter()
                    .map(|hit| (hit.record.id().to_owned(), hit.rank.tier))
                    .collect::<Vec<_>>(),
            );
            if page.next_page_token.is_empty() {
                break;
            }
            assert!(pages.len() < 200, "{backend:?}: paging does not end");
            request.page_token = page.next_page_token;
        }
        let (last, full) = pages.split_last().expect("one page at least");
        assert!(
            full.iter().all(|page| page.len() == 7),
            "{backend:?}: every page but the last is full"
        );
        assert!(last.len() <= 7);
        let hits: Vec<(String, MatchTier)> = pages.concat();
        let distinct: HashSet<&String> = hits.iter().map(|(id, _)| id).collect();
        assert_eq!(distinct.len(), hits.len(), "{backend:?}: an id came twice");
        // Names within one edit of "nguyen" follow in the typo tier, last.
        let typos = hits
            .iter()
            .filter(|(_, tier)| *tier == MatchTier::Typo)
            .count();
        assert!(
            hits[hits.len() - typos..]
                .iter()
                .all(|(_, tier)| *tier == MatchTier::Typo),
            "{backend:?}: typo hits come last"
        );
        let hits: Vec<(String, MatchTier)> = hits
            .into_iter()
            .filter(|(_, tier)| *tier != MatchTier::Typo)
            .collect();
        let name_hits: BTreeSet<String> = hits
            .iter()
            .filter(|(_, tier)| matches!(tier, MatchTier::Exact | MatchTier::NamePhrase))
            .map(|(id, _)| id.clone())
            .collect();
        let text_hits: BTreeSet<String> = hits
            .iter()
            .filter(|(_, tier)| *tier == MatchTier::TextPhrase)
            .map(|(id, _)| id.clone())
            .collect();
        assert_eq!(name_hits, in_name, "{backend:?}: name matches");
        assert_eq!(text_hits, elsewhere_only, "{backend:?}: other-text matches");
        assert_eq!(
            hits.len(),
            in_name.len() + elsewhere_only.len(),
            "{backend:?}: no other tier"
        );

        // The same walk over gRPC, with pages of 7.
        let mut client = node.client().await;
        let over_grpc = grpc_expert_ids(
            &mut client,
            pb::SearchRequest {
                page_size: 7,
                ..grpc_query("NGUYEN")
            },
        )
        .await;
        let expected: Vec<String> = hits.iter().map(|(id, _)| id.clone()).collect();
        assert_eq!(over_grpc, expected, "{backend:?} gRPC");
        node.stop().await.expect("clean stop");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn small_pages_give_the_same_hits_in_the_same_order_as_one_big_page() {
    // Two experts in each tier of "nguyen xuan hai".
    let mut records = one_expert_per_tier();
    records.extend([
        expert("EX2", "NGUYỄN XUÂN HẢI"),
        expert("NP2", "Bùi Nguyễn Xuân Hải"),
        expert("NW2", "Xuân Hải Nguyễn"),
        pb::Expert {
            position: "Trợ lý GS. Nguyễn Xuân Hải".into(),
            ..expert("TP2", "Đỗ Thị Hạnh")
        },
        pb::Expert {
            organization_name: "Trường THPT Nguyễn Trãi".into(),
            specialization: "Hải Phòng, mùa xuân".into(),
            ..expert("TW2", "Phạm Văn Quang")
        },
    ]);
    let constructed: HashSet<String> = records
        .iter()
        .filter(|e| e.full_name != "Nguyễn Văn Hải")
        .map(|e| e.meta.as_ref().expect("meta").id.clone())
        .collect();
    for database in TestDatabase::each_backend().await {
        let backend = database.backend;
        let node = TestNode::start(NODE, &database).await;
        put(&node.store, experts(records.clone())).await;
        load(&node.store, sample_records(NODE, 100)).await;

        let mut client = node.client().await;
        for query in ["nguyen xuan hai", "thi huong", "nguyen thi", "hoa"] {
            let big = node
                .store
                .search(&expert_search(query))
                .await
                .expect("search");
            assert!(big.next_page_token.is_empty(), "{query}: fits one page");
            let big: Vec<(String, MatchTier)> = big
                .hits
                .iter()
                .map(|hit| (hit.record.id().to_owned(), hit.rank.tier))
                .collect();
            let tiers: HashSet<MatchTier> = big.iter().map(|(_, tier)| *tier).collect();
            assert!(
                tiers.len() >= 2,
                "{backend:?} {query}: the query must span tiers: {big:?}"
            );
            assert!(
                big.windows(2).all(|pair| pair[0].1 <= pair[1].1),
                "{backend:?} {query}: better tiers first: {big:?}"
            );
            if query == "nguyen xuan hai" {
                let mine: Vec<(String, MatchTier)> = big
                    .iter()
                    .filter(|(id, _)| constructed.contains(id))
                    .cloned()
                    .collect();
                let mut tiers_of_mine: Vec<MatchTier> = mine.iter().map(|(_, t)| *t).collect();
                tiers_of_mine.dedup();
                assert_eq!(mine.len(), 10, "{backend:?}: {big:?}");
                assert_eq!(
                    tiers_of_mine,
                    [
                        MatchTier::Exact,
                        MatchTier::NamePhrase,
                        MatchTier::NameWords,
                        MatchTier::TextPhrase,
                        MatchTier::TextWords
                    ],
                    "{backend:?}: {mine:?}"
                );
            }
            for page_size in [1, 2, 3, 4] {
                let paged = all_hits(
                    &node.store,
                    &SearchRequest {
                        page_size,
                        ..expert_search(query)
                    },
                )
                .await;
                assert_eq!(paged, big, "{backend:?} {query}: pages of {page_size}");
                let over_grpc = grpc_expert_hits(
                    &mut client,
                    pb::SearchRequest {
                        page_size,
                        ..grpc_query(query)
                    },
                )
                .await;
                let over_grpc: Vec<(String, pb::MatchTier)> = over_grpc
                    .into_iter()
                    .map(|(id, tier, _)| (id, tier))
                    .collect();
                let want: Vec<(String, pb::MatchTier)> = big
                    .iter()
                    .map(|(id, tier)| (id.clone(), to_pb_tier(*tier)))
                    .collect();
                assert_eq!(
                    over_grpc, want,
                    "{backend:?} {query}: gRPC pages of {page_size}"
                );
            }
        }
        node.stop().await.expect("clean stop");
    }
}

fn assert_invalid_page_token(result: Result<lienthong_store::SearchPage, StoreError>, what: &str) {
    match result {
        Err(StoreError::InvalidArgument(message)) => {
            assert!(message.contains("page_token"), "{what}: {message}");
        }
        other => panic!("{what}: expected InvalidArgument, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tampered_or_foreign_page_tokens_are_invalid_arguments() {
    for database in TestDatabase::each_backend().await {
        let backend = database.backend;
        let node = TestNode::start(NODE, &database).await;
        put(&node.store, experts(one_expert_per_tier())).await;
        let request = SearchRequest {
            page_size: 2,
            ..expert_search("nguyen xuan hai")
        };
        let token = node
            .store
            .search(&request)
            .await
            .expect("first page")
            .next_page_token;
        assert!(
            !token.is_empty(),
            "{backend:?}: five hits need a second page"
        );
        // The untouched token works.
        node.store
            .search(&SearchRequest {
                page_token: token.clone(),
                ..request.clone()
            })
            .await
            .expect("second page");

        let (prefix, body) = token.split_at(token.len().min(3));
        let mut flipped_first: Vec<char> = body.chars().collect();
        flipped_first[0] = if flipped_first[0] == 'A' { 'B' } else { 'A' };
        let flipped_first: String = flipped_first.into_iter().collect();
        let tampered = [
            ("truncated", token[..token.len() - 2].to_owned()),
            ("extended", format!("{token}AAAA")),
            ("fingerprint changed", format!("{prefix}{flipped_first}")),
            ("prefix changed", format!("p9.{body}")),
            ("not base64", format!("{prefix}!!!{body}")),
            ("garbage", "hello".to_owned()),
        ];
        for (what, bad) in &tampered {
            let result = node
                .store
                .search(&SearchRequest {
                    page_token: bad.clone(),
                    ..request.clone()
                })
                .await;
            assert_invalid_page_token(result, &format!("{backend:?} {what}"));
        }
        let foreign = [
            ("another query", expert_search("tran van binh")),
            (
                "other filters",
                SearchRequest {
                    degree: pb::Degree::Doctor as i32,
                    ..expert_search("nguyen xuan hai")
                },
            ),
            (
                "another kind",
                SearchRequest {
                    kind: Some(RecordKind::Project),
                    ..expert_search("nguyen xuan hai")
                },
            ),
        ];
        for (what, other) in &foreign {
            let result = node
                .store
                .search(&SearchRequest {
                    page_token: token.clone(),
                    page_size: 2,
                    ..other.clone()
                })
                .await;
            assert_invalid_page_token(result, &format!("{backend:?} {what}"));
        }

        let mut client = node.client().await;
        let grpc_token = client
            .search_experts(pb::SearchRequest {
                page_size: 2,
                ..grpc_query("nguyen xuan hai")
            })
            .await
            .expect("first page")
            .into_inner()
            .next_page_token;
        assert!(!grpc_token.is_empty());
        for (what, query, token) in [
            ("tampered", "nguyen xuan hai", format!("{grpc_token}AAAA")),
            ("another query", "tran", grpc_token.clone()),
        ] {
            let status = client
                .search_experts(pb::SearchRequest {
                    page_size: 2,
                    page_token: token,
                    ..grpc_query(query)
                })
                .await
                .expect_err(what);
            assert_eq!(status.code(), Code::InvalidArgument, "{backend:?} {what}");
            assert!(
                status.message().contains("page_token"),
                "{backend:?} {what}: {}",
                status.message()
            );
        }
        node.stop().await.expect("clean stop");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_over_the_documented_limits_are_resource_exhausted() {
    for database in TestDatabase::each_backend().await {
        let backend = database.backend;
        let node = TestNode::start(NODE, &database).await;
        put(&node.store, experts(vec![expert("E1", "Nguyễn Xuân Hải")])).await;
        let mut client = node.client().await;
        let words = |n: usize| vec!["hai"; n].join(" ");
        let at_limit = [
            ("256 characters", grpc_query(&"a".repeat(256))),
            // Multi-byte characters count as one character each.
            (
                "256 characters with diacritics",
                grpc_query(&"ả".repeat(256)),
            ),
            ("16 words", grpc_query(&words(16))),
            (
                "page_size 100",
                pb::SearchRequest {
                    page_size: 100,
                    ..grpc_query("hai")
                },
            ),
        ];
        for (what, request) in at_limit {
            client
                .search_experts(request)
                .await
                .unwrap_or_else(|status| panic!("{backend:?} {what} is allowed: {status:?}"));
        }
        let over = [
            ("257 characters", grpc_query(&"a".repeat(257)), "256"),
            ("17 words", grpc_query(&words(17)), "16"),
            (
                "page_size 101",
                pb::SearchRequest {
                    page_size: 101,
                    ..grpc_query("hai")
                },
                "page_size",
            ),
        ];
        for (what, request, named) in over {
            let status = client
                .search_experts(request.clone())
                .await
                .expect_err(what);
            assert_eq!(status.code(), Code::ResourceExhausted, "{backend:?} {what}");
            assert!(
                status.message().contains(named),
                "{backend:?} {what}: {}",
                status.message()
            );
            let status = client.search_projects(request).await.expect_err(what);
            assert_eq!(
                status.code(),
                Code::ResourceExhausted,
                "{backend:?} {what}, projects"
            );
        }
        let store_over = SearchRequest {
            page_size: 101,
            ..expert_search("hai")
        };
        assert!(
            matches!(
                node.store.search(&store_over).await,
                Err(StoreError::LimitExceeded(_))
            ),
            "{backend:?}: store page_size 101"
        );
        node.stop().await.expect("clean stop");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_or_misapplied_filters_are_invalid_arguments() {
    for database in TestDatabase::each_backend().await {
        let backend = database.backend;
        let node = TestNode::start(NODE, &database).await;
        put(&node.store, experts(vec![expert("E1", "Nguyễn Xuân Hải")])).await;
        let bad_code = SearchRequest {
            field_code_prefixes: vec!["4a".into()],
            ..expert_search("")
        };
        match node.store.search(&bad_code).await {
            Err(StoreError::InvalidArgument(message)) => {
                assert!(message.contains("4a"), "{backend:?}: {message}");
            }
            other => panic!("{backend:?}: bad field code gave {other:?}"),
        }
        let degree_on_projects = SearchRequest {
            kind: Some(RecordKind::Project),
            degree: pb::Degree::Doctor as i32,
            ..expert_search("")
        };
        match node.store.search(&degree_on_projects).await {
            Err(StoreError::InvalidArgument(message)) => {
                assert!(message.contains("degree"), "{backend:?}: {message}");
            }
            other => panic!("{backend:?}: degree on projects gave {other:?}"),
        }

        let mut client = node.client().await;
        let status = client
            .search_experts(pb::SearchRequest {
                filters: Some(pb::SearchFilters {
                    field_code_prefixes: vec!["4a".into()],
                    ..Default::default()
                }),
                ..grpc_query("")
            })
            .await
            .expect_err("bad field code");
        assert_eq!(status.code(), Code::InvalidArgument, "{backend:?}");
        assert!(status.message().contains("4a"), "{}", status.message());
        let status = client
            .search_projects(pb::SearchRequest {
                filters: Some(pb::SearchFilters {
                    degree: pb::Degree::Doctor as i32,
                    ..Default::default()
                }),
                ..grpc_query("")
            })
            .await
            .expect_err("degree on projects");
        assert_eq!(status.code(), Code::InvalidArgument, "{backend:?}");
        assert!(status.message().contains("degree"), "{}", status.message());
        let status = client
            .search_experts(pb::SearchRequest {
                filters: Some(pb::SearchFilters {
                    statuses: vec![pb::ProjectStatus::Completed as i32],
                    ..Default::default()
                }),
                ..grpc_query("")
            })
            .await
            .expect_err("status on experts");
        assert_eq!(status.code(), Code::InvalidArgument, "{backend:?}");
        node.stop().await.expect("clean stop");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn internal_and_classified_records_never_leave_the_node() {
    let with = |local: &str, name: &str, visibility: pb::Visibility, class: pb::Classification| {
        let mut e = pb::Expert {
            field_codes: vec!["4010101".into()],
            ..expert(local, name)
        };
        let meta = e.meta.as_mut().expect("meta");
        meta.visibility = visibility as i32;
        meta.classification = class as i32;
        e
    };
    use pb::{Classification as C, Visibility as V};
    let records = vec![
        with("OPEN", "Nguyễn Văn Mở", V::Federation, C::Normal),
        with("PUB", "Nguyễn Văn Công", V::Public, C::Normal),
        with("INT", "Nguyễn Văn Nội", V::Internal, C::Normal),
        with("CONF", "Nguyễn Văn Mật", V::Federation, C::Confidential),
        with("SEC", "Nguyễn Văn Kín", V::Public, C::TopSecret),
    ];
    let hidden_project = pb::Project {
        meta: Some(pb::RecordMeta {
            classification: C::Secret as i32,
            ..federation_meta(&format!("{NODE}:project:P1"))
        }),
        ..project("P1", "Nghiên cứu bí mật", pb::ProjectStatus::Ongoing)
    };
    for database in TestDatabase::each_backend().await {
        let backend = database.backend;
        let node = TestNode::start(NODE, &database).await;
        let mut all = experts(records.clone());
        all.push(AnyRecord::Project(hidden_project.clone()));
        put(&node.store, all).await;
        let mut client = node.client().await;

        for request in [
            grpc_query("nguyen van"),
            pb::SearchRequest {
                filters: Some(pb::SearchFilters {
                    field_code_prefixes: vec!["4".into()],
                    ..Default::default()
                }),
                ..grpc_query("")
            },
            grpc_query("nguyen van noi"),
            grpc_query("Nguyễn Văn Mật"),
        ] {
            let got: BTreeSet<String> = grpc_expert_ids(&mut client, request.clone())
                .await
                .into_iter()
                .collect();
            let visible = set(&["OPEN", "PUB"]);
            assert!(
                got.is_subset(&visible),
                "{backend:?} {request:?}: {got:?} leaked"
            );
        }
        let got: BTreeSet<String> = grpc_expert_ids(&mut client, grpc_query("nguyen van"))
            .await
            .into_iter()
            .collect();
        assert_eq!(got, set(&["OPEN", "PUB"]), "{backend:?}");
        let projects = client
            .search_projects(grpc_query("nghien cuu"))
            .await
            .expect("SearchProjects")
            .into_inner();
        assert!(projects.hits.is_empty(), "{backend:?}: {projects:?}");

        let info = client
            .info(pb::InfoRequest {})
            .await
            .expect("Info")
            .into_inner();
        let counts = info.counts.expect("counts");
        assert_eq!(counts.experts, 2, "{backend:?}");
        assert_eq!(counts.projects, 0, "{backend:?}");

        for local in ["INT", "CONF", "SEC"] {
            let status = client
                .get_expert(pb::GetRequest {
                    id: expert_id(local),
                })
                .await
                .expect_err(local);
            assert_eq!(status.code(), Code::NotFound, "{backend:?} {local}");
        }
        let status = client
            .get_project(pb::GetRequest {
                id: format!("{NODE}:project:P1"),
            })
            .await
            .expect_err("classified project");
        assert_eq!(status.code(), Code::NotFound, "{backend:?}");
        client
            .get_expert(pb::GetRequest {
                id: expert_id("OPEN"),
            })
            .await
            .expect("a shareable expert is there");

        // Hidden records are not in the search index at all: nothing a
        // search costs or answers depends on them.
        assert_eq!(
            id_set(&node.store, &expert_search("nguyen van")).await,
            set(&["OPEN", "PUB"]),
            "{backend:?}"
        );
        assert_eq!(
            id_set(&node.store, &expert_search("nguyen van")).await,
            set(&["OPEN", "PUB"]),
            "{backend:?}"
        );
        node.stop().await.expect("clean stop");
    }
}

/// Queries run on both backends over the same sample data.
fn comparison_queries() -> Vec<SearchRequest> {
    let experts = |query: &str| SearchRequest {
        page_size: 13,
        ..expert_search(query)
    };
    let projects = |query: &str| SearchRequest {
        kind: Some(RecordKind::Project),
        ..experts(query)
    };
    vec![
        experts("nguyen"),
        experts("nguyen van"),
        experts("thi hoa"),
        experts("\"nghien cuu\""),
        experts("tran thi"),
        SearchRequest {
            field_code_prefixes: vec!["4".into()],
            ..experts("")
        },
        SearchRequest {
            degree: pb::Degree::Doctor as i32,
            year_from: 1970,
            year_to: 1985,
            ..experts("van")
        },
        projects("nghien cuu"),
        SearchRequest {
            statuses: vec![pb::ProjectStatus::Completed as i32],
            ..projects("")
        },
        SearchRequest {
            kind: Some(RecordKind::Publication),
            ..experts("giong")
        },
        SearchRequest {
            kind: Some(RecordKind::Organization),
            ..experts("truong")
        },
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn both_backends_return_the_same_hits_in_the_same_order() {
    let records = sample_records(NODE, 300);
    let mut results = Vec::new();
    for database in TestDatabase::each_backend().await {
        let store = database.open_store(NODE).await;
        load(&store, records.clone()).await;
        let mut per_query = Vec::new();
        for request in comparison_queries() {
            per_query.push(all_hits(&store, &request).await);
        }
        store.close().await;
        results.push((database.backend, per_query));
    }
    let (first_backend, first) = &results[0];
    let non_empty = first.iter().filter(|hits| !hits.is_empty()).count();
    assert!(
        non_empty >= comparison_queries().len() - 1,
        "the comparison needs queries that find something: {first:?}"
    );
    for (backend, hits) in &results[1..] {
        for ((request, a), b) in comparison_queries().iter().zip(first).zip(hits) {
            assert_eq!(
                a, b,
                "{first_backend:?} and {backend:?} differ for {request:?}"
            );
        }
    }
}

/// Two common words that rarely meet: the rare matches are found on the
/// first page however many records hold one word or the other, and
/// following the tokens finds every match once. (Records within one edit,
/// "Lê Văn An" for "le lan", follow in the typo tier.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sparse_matches_come_first_and_each_is_found_once() {
    let filler = 1_500;
    for database in TestDatabase::each_backend().await {
        let store = database.open_store(NODE).await;
        let mut records = Vec::new();
        for i in 0..filler {
            records.push(expert(&format!("L{i}"), "Lê Văn An"));
            records.push(expert(&format!("P{i}"), "Phạm Thị Lan"));
        }
        let rare = ["Z1", "Z2", "Z3"];
        for local in rare {
            records.push(expert(local, "Lê Thị Lan"));
        }
        for chunk in experts(records).chunks(1_000) {
            put(&store, chunk.to_vec()).await;
        }

        let request = SearchRequest {
            page_size: 10,
            ..expert_search("le lan")
        };
        let first = store.search(&request).await.expect("first page");
        let first_ids: HashSet<String> = first.hits[..3]
            .iter()
            .map(|hit| hit.record.id().to_owned())
            .collect();
        let expected: HashSet<String> = rare.iter().map(|local| expert_id(local)).collect();
        assert_eq!(
            first_ids, expected,
            "{:?}: the rare matches come first",
            database.backend
        );

        let found: Vec<(String, MatchTier)> = all_hits(&store, &request)
            .await
            .into_iter()
            .filter(|(_, tier)| *tier != MatchTier::Typo)
            .collect();
        let ids: Vec<&str> = found.iter().map(|(id, _)| id.as_str()).collect();
        let distinct: HashSet<&str> = ids.iter().copied().collect();
        assert_eq!(
            ids.len(),
            distinct.len(),
            "{:?}: a hit came twice: {ids:?}",
            database.backend
        );
        let got: HashSet<String> = distinct.iter().map(|id| (*id).to_owned()).collect();
        assert_eq!(got, expected, "{:?}", database.backend);
        store.close().await;
    }
}
