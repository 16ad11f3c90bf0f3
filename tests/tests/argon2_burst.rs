//! A burst of wrong secrets for a real token id. Each secret not seen before
//! costs an argon2 check (about 19 MiB and tens of milliseconds): the burst
//! must stay within a small memory bound, and must not lock out the user
//! whose token it names. In its own test binary, because it measures the
//! process's peak memory.

use std::time::Duration;

use lienthong_gateway::auth::UserRole;
use lienthong_tests::TestDatabase;
use lienthong_tests::secure::{SecureGateway, SecureNode, TestPki, https_get, https_status_from};

const POLICY: &str = r#"
[[grant]]
peers = ["gateway:national"]
rpcs = ["info", "search", "get", "statistics"]
kinds = ["expert", "project", "publication", "organization"]
"#;

/// Peak resident memory of this process since the last reset, in KiB.
fn peak_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|value| value.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmHWM")
}

/// Starts measuring the peak from the current size.
fn reset_peak() {
    std::fs::write("/proc/self/clear_refs", "5").expect("reset the peak RSS");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_of_wrong_secrets_stays_within_memory_and_locks_out_no_one() {
    let pki = TestPki::new();
    let database = TestDatabase::sqlite();
    let node = SecureNode::start(&pki, "hung-yen", &database, POLICY).await;
    // As if from many addresses: neither the per-address handshake limit nor
    // the per-address failure budget stops the burst before argon2 would run.
    let gateway = SecureGateway::start(
        &pki,
        &[("hung-yen", node.url())],
        "[auth]\nfailures_per_minute = 100000\nfailure_burst = 100000\n\
         [limits]\nmax_handshakes_per_address = 256\nmax_concurrent_handshakes = 256\n",
    )
    .await;
    let ca = pki.dir().join("ca.crt");
    let token = gateway.token("nguyen.van.an", UserRole::Officer).await;
    // The user is signed in: the token was checked once.
    let (code, body) = https_get(gateway.http_addr, &ca, "/api/v1/status", Some(&token)).await;
    assert_eq!(code, 403, "{body}");

    // 150 requests at once with the real token id and wrong secrets.
    let id = token
        .strip_prefix("lt_")
        .and_then(|rest| rest.split_once('_'))
        .map(|(id, _)| id.to_owned())
        .expect("lt_<id>_<secret>");
    reset_peak();
    let before = peak_kib();
    let attempts: Vec<_> = (0..150)
        .map(|n| {
            let wrong = format!("lt_{id}_wrongsecret{n:04}");
            let ca = ca.clone();
            let address = gateway.http_addr;
            tokio::spawn(async move {
                let request = format!(
                    "GET /api/v1/experts?q=an HTTP/1.1\r\nHost: 127.0.0.1\r\n\
                     Authorization: Bearer {wrong}\r\nConnection: close\r\n\r\n"
                );
                // A connection the server closed counts as refused (0).
                https_status_from("127.0.0.1", address, &ca, &request)
                    .await
                    .unwrap_or(0)
            })
        })
        .collect();
    let mut codes = Vec::new();
    for attempt in attempts {
        codes.push(attempt.await.expect("attempt"));
    }
    let grew_mib = (peak_kib().saturating_sub(before)) / 1024;
    assert!(
        codes.iter().all(|code| [0, 401, 429].contains(code)),
        "{codes:?}"
    );
    assert!(codes.contains(&429), "nothing refused the burst: {codes:?}");
    // Four checks at a time at most (auth.max_concurrent_secret_checks),
    // about 19 MiB each; 150 at once would take close to 3 GiB.
    assert!(
        grew_mib < 250,
        "the burst grew the process by {grew_mib} MiB"
    );

    // The real user is still served, from the same address.
    tokio::time::sleep(Duration::from_millis(100)).await;
    let (code, body) =
        https_get(gateway.http_addr, &ca, "/api/v1/experts?q=an", Some(&token)).await;
    assert_eq!(code, 200, "the user was locked out: {body}");
}
