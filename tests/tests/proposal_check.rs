//! Proposal checks (kiểm tra trùng lặp) over a judged set: Hưng Yên's own
//! tasks and its mirror of Nam Định's, on each backend. Prints precision and
//! recall per class (recorded in docs/benchmarks.md) and holds them above
//! a floor.

use std::collections::BTreeMap;

use lienthong_proto::v1 as pb;
use lienthong_records::AnyRecord;
use lienthong_store::{MirrorBatch, MirrorChange, MirrorScope, ProposalCheck, SimilarTask, Store};
use lienthong_tests::{TestDatabase, federation_meta, load};
use serde::Deserialize;

/// The score from which a task is flagged as a likely repeat.
const FLAGGED: f64 = lienthong_store::search::LIKELY_REPEAT;

#[derive(Deserialize)]
struct JudgedSet {
    catalog: Vec<Task>,
    queries: Vec<Query>,
}

#[derive(Deserialize)]
struct Task {
    id: String,
    status: String,
    title: String,
    objectives: String,
    keywords: Vec<String>,
}

#[derive(Deserialize)]
struct Query {
    class: String,
    title: String,
    #[serde(default)]
    summary: String,
    relevant: Vec<String>,
}

fn judged_set() -> JudgedSet {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/relevance/proposals.json");
    serde_json::from_str(&std::fs::read_to_string(path).expect("read the judged set"))
        .expect("parse the judged set")
}

fn project(task: &Task) -> AnyRecord {
    let status = match task.status.as_str() {
        "completed" => pb::ProjectStatus::Completed,
        "ongoing" => pb::ProjectStatus::Ongoing,
        "proposed" => pb::ProjectStatus::Proposed,
        "cancelled" => pb::ProjectStatus::Cancelled,
        other => panic!("unknown status {other}"),
    };
    AnyRecord::Project(pb::Project {
        meta: Some(federation_meta(&task.id)),
        code: task.id.rsplit(':').next().unwrap_or_default().into(),
        title: task.title.clone(),
        objectives: task.objectives.clone(),
        keywords: task.keywords.clone(),
        status: status as i32,
        field_codes: vec!["40101".into()],
        ..Default::default()
    })
}

/// Hưng Yên holds its own tasks and mirrors Nam Định's.
async fn hung_yen_with_mirror(database: &TestDatabase, set: &JudgedSet) -> Store {
    let store = database.open_store("hung-yen").await;
    let (own, mirrored): (Vec<&Task>, Vec<&Task>) = set
        .catalog
        .iter()
        .partition(|task| task.id.starts_with("hung-yen:"));
    load(&store, own.into_iter().map(project).collect()).await;
    let batch = MirrorBatch {
        epoch: "e1".into(),
        changes: mirrored
            .into_iter()
            .map(|task| MirrorChange {
                record: project(task),
                deleted: false,
                changed_at: "2026-11-30T00:00:00Z".into(),
            })
            .collect(),
        cursor: "c1".into(),
        caught_up: true,
        ..Default::default()
    };
    let applied = store
        .apply_mirror_batch("nam-dinh", "", batch)
        .await
        .expect("mirror Nam Định");
    assert!(applied.rejected.is_empty(), "{:?}", applied.rejected);
    store.index_committed_writes().await;
    store
}

fn ids(results: &[SimilarTask]) -> Vec<&str> {
    results
        .iter()
        .filter_map(|task| task.project.meta.as_ref().map(|meta| meta.id.as_str()))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn proposal_checks_flag_repeats_and_not_look_alikes_on_each_backend() {
    let set = judged_set();
    for database in TestDatabase::each_backend().await {
        let backend = database.backend;
        let store = hung_yen_with_mirror(&database, &set).await;
        // (flagged relevant, flagged, relevant) per class.
        let mut tally: BTreeMap<&str, (usize, usize, usize)> = BTreeMap::new();
        for query in &set.queries {
            let results = store
                .check_proposal(&ProposalCheck {
                    title: query.title.clone(),
                    summary: query.summary.clone(),
                    mirrors: MirrorScope::All,
                    ..Default::default()
                })
                .await
                .expect("check");
            for task in &results {
                let status = task.project.status;
                assert!(
                    status == pb::ProjectStatus::Completed as i32
                        || status == pb::ProjectStatus::Ongoing as i32,
                    "only completed and ongoing tasks count: {:?}",
                    ids(&results)
                );
                let mirrored = task.mirror.is_some();
                assert_eq!(
                    mirrored,
                    !task
                        .project
                        .meta
                        .as_ref()
                        .unwrap()
                        .id
                        .starts_with("hung-yen:"),
                    "mirrors, and only they, carry their origin"
                );
            }
            let flagged: Vec<&str> = results
                .iter()
                .filter(|task| task.score >= FLAGGED)
                .filter_map(|task| task.project.meta.as_ref().map(|m| m.id.as_str()))
                .collect();
            let hits = flagged
                .iter()
                .filter(|id| query.relevant.iter().any(|r| r == *id))
                .count();
            println!(
                "{backend:?} {:<15} {:<75} flagged {:?} top {:?}",
                query.class,
                query.title,
                flagged,
                results
                    .iter()
                    .take(3)
                    .map(|t| (
                        t.project.meta.as_ref().unwrap().id.clone(),
                        (t.score * 100.0).round() / 100.0,
                        t.shared_phrases.clone()
                    ))
                    .collect::<Vec<_>>()
            );
            let entry = tally.entry(query.class.as_str()).or_default();
            entry.0 += hits;
            entry.1 += flagged.len();
            entry.2 += query.relevant.len();
        }
        let (mut hits, mut flagged, mut relevant) = (0, 0, 0);
        for (class, (h, f, r)) in &tally {
            println!(
                "{backend:?} {class}: {h} of {f} flagged are repeats; {h} of {r} repeats flagged"
            );
            hits += h;
            flagged += f;
            relevant += r;
        }
        let precision = hits as f64 / flagged.max(1) as f64;
        let recall = hits as f64 / relevant.max(1) as f64;
        println!(
            "{backend:?} precision {precision:.3} recall {recall:.3} (flagged from {FLAGGED})"
        );
        assert!(precision >= 0.85, "{backend:?}: precision {precision:.3}");
        assert!(recall >= 0.85, "{backend:?}: recall {recall:.3}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_proposal_check_names_what_is_wrong_with_its_input() {
    let database = TestDatabase::sqlite();
    let store = database.open_store("hung-yen").await;
    let check = |title: &str, summary: &str, field: &str| ProposalCheck {
        title: title.into(),
        summary: summary.into(),
        field_code_prefix: field.into(),
        ..Default::default()
    };
    for (request, names) in [
        (check("  ", "", ""), "title"),
        (check(&"lúa ".repeat(200), "", ""), "title"),
        (check("lúa", &"x".repeat(20_001), ""), "summary"),
        (check("lúa chịu mặn", "", "4a"), "field code"),
        (check("Nghiên cứu ứng dụng giải pháp", "", ""), "title"),
    ] {
        let error = store.check_proposal(&request).await.expect_err("refused");
        assert!(error.to_string().contains(names), "{error}");
    }
    // A long summary of many short words costs words times phrase length.
    let long = "lúa chịu mặn ven biển a b c d e ".repeat(600);
    assert!(long.chars().count() <= 20_000);
    let answer = store
        .check_proposal(&check("Giống lúa chịu mặn", &long, ""))
        .await
        .expect("a long summary is checked");
    assert!(answer.iter().all(|task| task.shared_phrases.len() <= 8));
    // Mirrors are left out unless asked for.
    let set = judged_set();
    let store = hung_yen_with_mirror(&TestDatabase::sqlite(), &set).await;
    let own = store
        .check_proposal(&check("Giống lúa chịu mặn cho vùng ven biển", "", ""))
        .await
        .expect("check");
    assert!(own.iter().all(|task| task.mirror.is_none()));
    assert!(ids(&own).iter().all(|id| id.starts_with("hung-yen:")));
}
