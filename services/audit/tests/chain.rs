//! The chain on a real SQLite file: appends, tampering of each kind, pruning
//! with a checkpoint, and export.

use lienthong_audit::{AuditEntry, AuditWriter, ChainProblem, Outcome, export, prune, verify};
use sqlx::AnyPool;
use sqlx::any::AnyPoolOptions;

async fn pool(dir: &tempfile::TempDir) -> AnyPool {
    sqlx::any::install_default_drivers();
    let url = format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("audit.db").display()
    );
    AnyPoolOptions::new()
        .max_connections(2)
        .connect(&url)
        .await
        .expect("open the audit database")
}

fn entry(n: usize) -> AuditEntry {
    AuditEntry {
        peer: "gateway:national".into(),
        end_user: format!("user-{}", n % 3),
        action: "SearchExperts".into(),
        request: format!(r#"{{"query":"lúa {n}"}}"#),
        outcome: if n.is_multiple_of(5) {
            Outcome::Denied
        } else {
            Outcome::Ok
        },
        detail: String::new(),
        record_ids: vec![format!("hung-yen:expert:E{n:07}")],
    }
}

/// A log of `n` entries, written concurrently so batches form.
async fn filled(n: usize) -> (tempfile::TempDir, AnyPool) {
    let dir = tempfile::tempdir().expect("temporary directory");
    let pool = pool(&dir).await;
    let (writer, task) = AuditWriter::start(pool.clone())
        .await
        .expect("start the writer");
    let mut handles = Vec::new();
    for i in 1..=n {
        let writer = writer.clone();
        handles.push(tokio::spawn(async move { writer.record(entry(i)).await }));
    }
    for handle in handles {
        handle.await.expect("task").expect("recorded");
    }
    drop(writer);
    task.await.expect("writer task");
    (dir, pool)
}

async fn exec(pool: &AnyPool, sql: &str) {
    sqlx::query(sqlx::AssertSqlSafe(sql.to_owned()))
        .execute(pool)
        .await
        .expect("tamper statement");
}

#[tokio::test]
async fn an_untouched_log_verifies() {
    let (_dir, pool) = filled(50).await;
    let report = verify(&pool).await.unwrap();
    assert_eq!(report.entries, 50);
    assert_eq!(report.problem, None);
    assert_eq!(report.head.unwrap().seq, 50);
}

#[tokio::test]
async fn an_outcome_the_writer_never_writes_is_an_edit() {
    let (_dir, pool) = filled(10).await;
    exec(
        &pool,
        "UPDATE audit_log SET outcome = 'granted' WHERE seq = 4",
    )
    .await;
    assert_eq!(
        verify(&pool).await.unwrap().problem,
        Some(ChainProblem::Edited { seq: 4 })
    );
}

#[tokio::test]
async fn an_edited_entry_is_found() {
    let (_dir, pool) = filled(20).await;
    exec(
        &pool,
        "UPDATE audit_log SET end_user = 'someone-else' WHERE seq = 7",
    )
    .await;
    assert_eq!(
        verify(&pool).await.unwrap().problem,
        Some(ChainProblem::Edited { seq: 7 })
    );
}

#[tokio::test]
async fn an_edited_record_list_is_found() {
    let (_dir, pool) = filled(20).await;
    exec(
        &pool,
        "UPDATE audit_log SET record_ids = '[]' WHERE seq = 3",
    )
    .await;
    assert_eq!(
        verify(&pool).await.unwrap().problem,
        Some(ChainProblem::Edited { seq: 3 })
    );
}

#[tokio::test]
async fn a_deleted_entry_is_found() {
    let (_dir, pool) = filled(20).await;
    exec(&pool, "DELETE FROM audit_log WHERE seq = 11").await;
    assert_eq!(
        verify(&pool).await.unwrap().problem,
        Some(ChainProblem::Deleted { after: 10, seq: 12 })
    );
}

#[tokio::test]
async fn swapped_entries_are_found() {
    let (_dir, pool) = filled(20).await;
    exec(&pool, "UPDATE audit_log SET seq = -1 WHERE seq = 8").await;
    exec(&pool, "UPDATE audit_log SET seq = 8 WHERE seq = 9").await;
    exec(&pool, "UPDATE audit_log SET seq = 9 WHERE seq = -1").await;
    assert_eq!(
        verify(&pool).await.unwrap().problem,
        Some(ChainProblem::Reordered { seq: 8 })
    );
}

#[tokio::test]
async fn a_removed_tail_is_found() {
    let (_dir, pool) = filled(20).await;
    exec(&pool, "DELETE FROM audit_log WHERE seq > 17").await;
    assert_eq!(
        verify(&pool).await.unwrap().problem,
        Some(ChainProblem::Truncated {
            seq: 17,
            head_seq: 20
        })
    );
}

#[tokio::test]
async fn pruning_keeps_the_rest_verifiable_and_appends_continue() {
    let (dir, pool) = filled(30).await;
    let later = time::OffsetDateTime::now_utc() + time::Duration::hours(1);
    let pruned = prune(&pool, later).await.unwrap();
    assert_eq!(pruned.deleted, 29, "the newest entry is always kept");
    let report = verify(&pool).await.unwrap();
    assert_eq!(
        (report.entries, report.pruned, report.problem),
        (1, 29, None)
    );

    // A writer started after pruning continues the chain.
    let (writer, task) = AuditWriter::start(pool.clone()).await.unwrap();
    writer.record(entry(99)).await.unwrap();
    drop(writer);
    task.await.unwrap();
    let report = verify(&pool).await.unwrap();
    assert_eq!((report.entries, report.problem), (2, None));
    assert_eq!(report.head.unwrap().seq, 31);

    // Deleting the entry right after the checkpoint is still caught.
    exec(&pool, "DELETE FROM audit_log WHERE seq = 30").await;
    assert!(matches!(
        verify(&pool).await.unwrap().problem,
        Some(ChainProblem::Deleted { .. })
    ));
    drop(dir);
}

#[tokio::test]
async fn export_writes_json_lines_since_a_time() {
    let (_dir, pool) = filled(12).await;
    let mut out = Vec::new();
    assert_eq!(
        export(&pool, Some("2000-01-01"), &mut out).await.unwrap(),
        12
    );
    let lines: Vec<serde_json::Value> = String::from_utf8(out)
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    assert_eq!(lines.len(), 12);
    assert_eq!(lines[0]["seq"], 1);
    assert_eq!(lines[4]["outcome"], "denied");
    assert_eq!(lines[0]["record_ids"][0], "hung-yen:expert:E0000001");
    let mut none = Vec::new();
    assert_eq!(
        export(&pool, Some("2999-01-01"), &mut none).await.unwrap(),
        0
    );
    assert!(export(&pool, Some("yesterday"), &mut none).await.is_err());
}

#[tokio::test]
async fn pruning_cuts_by_position_and_refuses_a_broken_chain() {
    let (_dir, pool) = filled(20).await;
    // An entry whose time was set back must not take the newer ones with it,
    // and a broken chain is never pruned.
    exec(
        &pool,
        "UPDATE audit_log SET at = '2000-01-01T00:00:00.000000Z' WHERE seq = 15",
    )
    .await;
    let cutoff = time::OffsetDateTime::now_utc() - time::Duration::days(1);
    assert!(
        prune(&pool, cutoff).await.is_err(),
        "the edit breaks the chain"
    );
    let report = verify(&pool).await.unwrap();
    assert_eq!(report.entries, 20);

    // Entries put back before the checkpoint are caught.
    let (_dir, pool) = filled(20).await;
    let later = time::OffsetDateTime::now_utc() + time::Duration::hours(1);
    prune(&pool, later).await.unwrap();
    exec(
        &pool,
        "INSERT INTO audit_log SELECT 5, at, peer, end_user, action, request, outcome, detail, \
         record_count, record_ids, prev_hash, hash FROM audit_log WHERE seq = 20",
    )
    .await;
    assert_eq!(
        verify(&pool).await.unwrap().problem,
        Some(ChainProblem::BeforeCheckpoint {
            seq: 5,
            checkpoint: 19
        })
    );
}
