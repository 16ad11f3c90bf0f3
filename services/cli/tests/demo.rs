//! The demo as a user runs it: the real binary, its fixed ports, and the
//! mirrors it promises: Nam Định's tasks at Hưng Yên, and both provinces at
//! the national node; and the proposal check it suggests.

use std::process::Stdio;
use std::time::{Duration, Instant};

mod common;

use common::{lienthong, run, text};

/// `sync status --json` of one demo node, once its config exists.
async fn sync_status(config: &std::path::Path) -> Option<serde_json::Value> {
    if !config.exists() {
        return None;
    }
    let mut command = lienthong();
    command
        .args(["sync", "status", "--json", "--config"])
        .arg(config);
    let output = run(command).await;
    output
        .status
        .success()
        .then(|| serde_json::from_slice(&output.stdout).ok())
        .flatten()
}

fn mirrored(status: &serde_json::Value, peer: &str) -> u64 {
    status
        .as_array()
        .into_iter()
        .flatten()
        .find(|sync| sync["peer"] == peer)
        .and_then(|sync| sync["mirrored"].as_u64())
        .unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_mirrors_tasks_between_provinces_and_at_the_national_node() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut demo = lienthong()
        .args(["demo", "--experts", "150", "--dir"])
        .arg(dir.path())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the demo");
    // What the demo prints, read as it prints it (the web users' passwords
    // are needed while it runs).
    let printed = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
    let reader = {
        use std::io::BufRead;
        let stdout = demo.stdout.take().expect("the demo's stdout");
        let printed = printed.clone();
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(stdout)
                .lines()
                .map_while(Result::ok)
            {
                if let Ok(mut printed) = printed.lock() {
                    printed.push_str(&line);
                    printed.push('\n');
                }
            }
        })
    };
    let hung_yen = dir.path().join("hung-yen.toml");
    let quoc_gia = dir.path().join("quoc-gia.toml");
    let started = Instant::now();
    let mut last = (0, 0, 0);
    while started.elapsed() < Duration::from_secs(120) {
        if let Some(exit) = demo.try_wait().expect("poll") {
            let output = demo.wait_with_output().expect("output");
            panic!(
                "the demo exited ({exit}):\n{}\n{}",
                printed
                    .lock()
                    .map(|printed| printed.clone())
                    .unwrap_or_default(),
                text(&output.stderr)
            );
        }
        if let (Some(at_hung_yen), Some(national)) =
            (sync_status(&hung_yen).await, sync_status(&quoc_gia).await)
        {
            last = (
                mirrored(&at_hung_yen, "nam-dinh"),
                mirrored(&national, "hung-yen"),
                mirrored(&national, "nam-dinh"),
            );
            if last.0 > 0 && last.1 > last.0 && last.2 > last.0 {
                break;
            }
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    // The proposal check the demo suggests finds Nam Định's planted task at
    // Hưng Yên, from its mirror, as a likely repeat.
    let mut check = None;
    while started.elapsed() < Duration::from_secs(150) {
        let mut command = lienthong();
        command
            .args(["check-proposal", "--json", "--title"])
            .arg("Chọn tạo giống lúa chịu mặn cho vùng ven biển tỉnh Hưng Yên")
            .arg("--config")
            .arg(&hung_yen);
        let output = run(command).await;
        assert!(output.status.success(), "{}", text(&output.stderr));
        let tasks: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON");
        let planted =
            tasks.as_array().into_iter().flatten().find(|task| {
                task["project"]["meta"]["id"] == "nam-dinh:project:DT-ND-2023-LUA-MAN"
            });
        if let Some(planted) = planted {
            check = Some(planted.clone());
            break;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    // quoc-gia's OAI-PMH endpoint serves both provinces' public records, a
    // set for each; anonymous harvesters need no certificate.
    let ca = dir.path().join("pki").join("ca.crt");
    let national_oai: std::net::SocketAddr = "127.0.0.1:8443".parse().expect("address");
    let mut per_province = Vec::new();
    for province in ["hung-yen", "nam-dinh"] {
        let page = lienthong_tests::oai::get(
            national_oai,
            &ca,
            &format!("verb=ListIdentifiers&metadataPrefix=oai_dc&set=province_{province}"),
        )
        .await;
        assert_eq!(page.status, 200, "{}", page.body);
        let identifiers = lienthong_tests::oai::texts_of(&page.body, "identifier");
        assert!(
            identifiers
                .iter()
                .all(|id| id.starts_with(&format!("oai:quoc-gia.lienthong.vn:{province}:"))),
            "{}",
            page.body
        );
        per_province.push(identifiers.len());
    }
    let identify = lienthong_tests::oai::get(
        "127.0.0.1:8441".parse().expect("address"),
        &ca,
        "verb=Identify",
    )
    .await;
    assert_eq!(identify.status, 200, "{}", identify.body);
    // An off-the-shelf harvester (Sickle, in Python) walks quoc-gia's
    // endpoint in every format.
    let sickle = sickle_harvest("https://127.0.0.1:8443/oai", &ca).await;
    // The web pages, signed in as the officer the demo prints.
    let so_far = printed
        .lock()
        .map(|printed| printed.clone())
        .unwrap_or_default();
    assert!(
        so_far.contains("https://127.0.0.1:8080/"),
        "the demo prints the web address:\n{so_far}"
    );
    let password = so_far
        .lines()
        .find_map(|line| line.trim().strip_prefix("sign in as demo-officer"))
        .and_then(|rest| rest.split_whitespace().nth(1))
        .unwrap_or_else(|| panic!("the demo prints demo-officer's password:\n{so_far}"))
        .to_owned();
    let mut browser =
        lienthong_tests::web::WebClient::new("127.0.0.1:8080".parse().expect("address"), &ca, None);
    let answer = browser.sign_in("demo-officer", &password).await;
    assert_eq!(answer.status, 303, "{}", answer.body);
    let page = browser.get("/search?kind=experts&q=nguyen").await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("Nguyễn"), "{}", page.body);
    assert_eq!(page.body.matches("class=\"outcome-ok\"").count(), 2);
    let _ = demo.kill();
    let _ = demo.wait();
    let _ = reader.join();
    let printed = printed
        .lock()
        .map(|printed| printed.clone())
        .unwrap_or_default();
    for url in [
        "https://127.0.0.1:8441/oai",
        "https://127.0.0.1:8442/oai",
        "https://127.0.0.1:8443/oai",
    ] {
        assert!(printed.contains(url), "the demo prints {url}:\n{printed}");
    }
    assert!(
        per_province.iter().all(|count| *count > 0),
        "quoc-gia publishes every province's public records: {per_province:?}"
    );
    if let Some(summary) = sickle {
        let formats = summary["formats"].as_array().expect("formats");
        assert_eq!(formats.len(), 2, "{summary}");
        let identifiers = summary["identifiers"].as_u64().expect("identifiers");
        assert!(identifiers > 0, "{summary}");
        for format in formats {
            let format = format.as_str().expect("prefix");
            assert_eq!(
                summary["records"][format].as_u64(),
                Some(identifiers),
                "{format}: {summary}"
            );
        }
        assert_eq!(summary["deletedRecord"], "persistent");
        assert!(
            summary["sets"]
                .as_array()
                .is_some_and(|sets| sets.iter().any(|set| set == "province_nam-dinh")),
            "{summary}"
        );
    }
    let planted = check.expect("the proposal check never found the planted Nam Định task");
    assert_eq!(planted["likelyRepeat"], true, "{planted}");
    assert_eq!(planted["mirror"]["originNodeId"], "nam-dinh", "{planted}");
    assert!(
        planted["sharedPhrases"]
            .as_array()
            .is_some_and(|phrases| !phrases.is_empty()),
        "{planted}"
    );
    let (tasks_at_hung_yen, national_from_hung_yen, national_from_nam_dinh) = last;
    assert!(
        tasks_at_hung_yen > 0,
        "Hưng Yên mirrors none of Nam Định's tasks: {last:?}"
    );
    // The national node follows experts and publications too.
    assert!(
        national_from_hung_yen > tasks_at_hung_yen && national_from_nam_dinh > tasks_at_hung_yen,
        "the national node mirrors too little: {last:?}"
    );
}

/// Runs `tests/oai/sickle_harvest.py` against `base_url`: with the Python of
/// `LIENTHONG_OAI_PYTHON` (CI's venv), or `python3` when it has Sickle.
/// `None`, with a notice, when neither has it, unless
/// `LIENTHONG_REQUIRE_SICKLE` is set.
async fn sickle_harvest(base_url: &str, ca: &std::path::Path) -> Option<serde_json::Value> {
    let python = std::env::var("LIENTHONG_OAI_PYTHON").unwrap_or_else(|_| "python3".into());
    let has_sickle = std::process::Command::new(&python)
        .args(["-c", "import sickle"])
        .output()
        .is_ok_and(|output| output.status.success());
    if !has_sickle {
        assert!(
            std::env::var_os("LIENTHONG_REQUIRE_SICKLE").is_none(),
            "LIENTHONG_REQUIRE_SICKLE is set but {python} cannot import sickle"
        );
        eprintln!("notice: Sickle (Python) not installed; the off-the-shelf harvest is skipped");
        return None;
    }
    let script =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/oai/sickle_harvest.py");
    let mut command = std::process::Command::new(&python);
    command.arg(script).arg(base_url).arg(ca);
    let output = tokio::task::spawn_blocking(move || command.output())
        .await
        .expect("the harvest's thread")
        .expect("run the Sickle harvest");
    assert!(
        output.status.success(),
        "Sickle harvest failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    Some(serde_json::from_slice(&output.stdout).expect("the summary is JSON"))
}
