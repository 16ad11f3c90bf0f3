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

/// A judged set under `tests/relevance/`.
fn judged_set(file: &str) -> JudgedSet {
    let path = format!("{}/relevance/{file}", env!("CARGO_MANIFEST_DIR"));
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

/// How a judged set came out on one backend.
struct Figures {
    /// Of the tasks flagged as likely repeats (score from [`FLAGGED`]).
    precision: f64,
    recall: f64,
    /// Recall per class, flagged.
    class_recall: BTreeMap<String, f64>,
    /// Of the repeats, those in the list a check shows (ranked, scored,
    /// flagged or not).
    listed_recall: f64,
}

/// Checks every proposal of the judged set `file` on each backend, printing
/// what was flagged and the figures per class.
async fn judged_checks(file: &str) -> Vec<(lienthong_store::Backend, Figures)> {
    let set = judged_set(file);
    let mut figures = Vec::new();
    for database in TestDatabase::each_backend().await {
        let backend = database.backend;
        let store = hung_yen_with_mirror(&database, &set).await;
        // (flagged relevant, flagged, relevant) per class.
        let mut tally: BTreeMap<&str, (usize, usize, usize)> = BTreeMap::new();
        let mut listed = 0;
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
                        .expect("an id")
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
                        t.project.meta.as_ref().expect("an id").id.clone(),
                        (t.score * 100.0).round() / 100.0,
                        t.shared_phrases.clone()
                    ))
                    .collect::<Vec<_>>()
            );
            listed += query
                .relevant
                .iter()
                .filter(|id| ids(&results).contains(&id.as_str()))
                .count();
            let entry = tally.entry(query.class.as_str()).or_default();
            entry.0 += hits;
            entry.1 += flagged.len();
            entry.2 += query.relevant.len();
        }
        let (mut hits, mut flagged, mut relevant) = (0, 0, 0);
        let mut class_recall = BTreeMap::new();
        for (class, (h, f, r)) in &tally {
            println!(
                "{backend:?} {class}: {h} of {f} flagged are repeats; {h} of {r} repeats flagged"
            );
            class_recall.insert(class.to_string(), *h as f64 / (*r).max(1) as f64);
            hits += h;
            flagged += f;
            relevant += r;
        }
        let precision = hits as f64 / flagged.max(1) as f64;
        let recall = hits as f64 / relevant.max(1) as f64;
        let listed_recall = listed as f64 / relevant.max(1) as f64;
        println!(
            "{file} {backend:?} precision {precision:.3} recall {recall:.3} (flagged from \
             {FLAGGED}); {listed} of {relevant} repeats listed ({listed_recall:.3})"
        );
        figures.push((
            backend,
            Figures {
                precision,
                recall,
                class_recall,
                listed_recall,
            },
        ));
    }
    figures
}

/// The set the threshold and weights were chosen on.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn proposal_checks_flag_repeats_and_not_look_alikes_on_each_backend() {
    for (backend, figures) in judged_checks("proposals.json").await {
        assert!(
            figures.precision >= 0.85,
            "{backend:?}: precision {:.3}",
            figures.precision
        );
        assert!(
            figures.recall >= 0.85,
            "{backend:?}: recall {:.3}",
            figures.recall
        );
    }
}

/// A set written after the method was fixed and never used to tune it: the
/// figures a department can expect (docs/benchmarks.md). What is held here:
/// what is flagged is nearly always a repeat, near-duplicates are flagged,
/// and nearly every repeat is in the list a check shows. Rewordings mostly
/// score under the flag (recall 0.2 at the first run) and are reported, not
/// held.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn proposal_checks_hold_on_a_held_out_set() {
    for (backend, figures) in judged_checks("proposals-heldout.json").await {
        assert!(
            figures.precision >= 0.85,
            "{backend:?}: precision {:.3}",
            figures.precision
        );
        let near = figures.class_recall["near-duplicate"];
        assert!(
            near >= 0.9,
            "{backend:?}: near-duplicates flagged {near:.3}"
        );
        assert!(
            figures.listed_recall >= 0.9,
            "{backend:?}: repeats listed {:.3}",
            figures.listed_recall
        );
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
    let set = judged_set("proposals.json");
    let store = hung_yen_with_mirror(&TestDatabase::sqlite(), &set).await;
    let own = store
        .check_proposal(&check("Giống lúa chịu mặn cho vùng ven biển", "", ""))
        .await
        .expect("check");
    assert!(own.iter().all(|task| task.mirror.is_none()));
    assert!(ids(&own).iter().all(|id| id.starts_with("hung-yen:")));
}
