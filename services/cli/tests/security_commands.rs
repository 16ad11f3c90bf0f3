//! The real `lienthong` binary for the security commands: `pki`, `gateway
//! token`, `audit`, and a node started over mutual TLS and queried by the CLI
//! with a client certificate.

mod common;

use std::time::Duration;

use common::{assert_success, lienthong, run, run_within, text};
use lienthong_audit::{AuditEntry, AuditWriter, Outcome};

fn json_lines(output: &std::process::Output) -> Vec<serde_json::Value> {
    text(&output.stdout)
        .lines()
        .map(|line| serde_json::from_str(line).expect("a JSON line"))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pki_issues_lists_and_revokes_certificates() {
    let dir = tempfile::tempdir().expect("tempdir");
    let pki = dir.path().join("pki");
    let pki_arg = pki.to_str().expect("utf-8 path");

    let mut init = lienthong();
    init.args(["pki", "init", "--dir", pki_arg]);
    assert_success(&run(init).await, "pki init");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(pki.join("ca.key"))
            .expect("ca.key")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let mut again = lienthong();
    again.args(["pki", "init", "--dir", pki_arg]);
    let output = run(again).await;
    assert!(
        !output.status.success(),
        "a second init must not replace the CA"
    );
    assert!(text(&output.stderr).contains("already holds a CA"));

    for args in [
        vec![
            "issue",
            "node",
            "hung-yen",
            "--host",
            "sokhcn.hungyen.gov.vn",
        ],
        vec!["issue", "gateway", "national"],
        vec!["issue", "client", "nguyen-van-an", "--role", "staff"],
    ] {
        let mut issue = lienthong();
        issue.arg("pki").args(&args).args(["--dir", pki_arg]);
        let output = run(issue).await;
        assert_success(&output, "pki issue");
        assert!(
            text(&output.stdout).contains("urn:lienthong:"),
            "{}",
            text(&output.stdout)
        );
    }
    let mut bad = lienthong();
    bad.args(["pki", "issue", "node", "Hưng Yên", "--dir", pki_arg]);
    let output = run(bad).await;
    assert!(!output.status.success());
    assert!(
        text(&output.stderr).contains("hung-yen"),
        "{}",
        text(&output.stderr)
    );

    let list = |pki_arg: String| async move {
        let mut list = lienthong();
        list.args(["pki", "list", "--json", "--dir", &pki_arg]);
        let output = run(list).await;
        assert_success(&output, "pki list");
        serde_json::from_slice::<Vec<serde_json::Value>>(&output.stdout).expect("JSON")
    };
    let certificates = list(pki_arg.to_owned()).await;
    let identities: Vec<&str> = certificates
        .iter()
        .map(|c| c["identity"].as_str().expect("identity"))
        .collect();
    assert_eq!(
        identities,
        ["node:hung-yen", "gateway:national", "staff:nguyen-van-an"]
    );
    assert_eq!(certificates[0]["hosts"][0], "sokhcn.hungyen.gov.vn");
    let serial = certificates[2]["serial"]
        .as_str()
        .expect("serial")
        .to_owned();
    let crl_before = std::fs::read(pki.join("crl.pem")).expect("crl");

    let mut revoke = lienthong();
    revoke.args(["pki", "revoke", &serial, "--dir", pki_arg]);
    assert_success(&run(revoke).await, "pki revoke");
    let certificates = list(pki_arg.to_owned()).await;
    assert!(certificates[2]["revoked_at"].is_string());
    assert!(certificates[0].get("revoked_at").is_none());
    assert_ne!(std::fs::read(pki.join("crl.pem")).expect("crl"), crl_before);

    let mut unknown = lienthong();
    unknown.args(["pki", "revoke", "00AB", "--dir", pki_arg]);
    let output = run(unknown).await;
    assert!(!output.status.success());
    assert!(
        text(&output.stderr).contains("pki list"),
        "{}",
        text(&output.stderr)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gateway_tokens_are_created_listed_and_revoked() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = dir.path().join("gateway.toml");
    std::fs::write(
        &config,
        format!(
            "[database]\nurl = \"sqlite://{}\"\n[[nodes]]\nid = \"hung-yen\"\n\
             display_name = \"Sở KH&CN Hưng Yên\"\nendpoint = \"https://127.0.0.1:7101\"\n",
            dir.path().join("gateway.db").display()
        ),
    )
    .expect("config");
    let config_arg = config.to_str().expect("utf-8 path");

    let mut create = lienthong();
    create.args([
        "gateway",
        "token",
        "create",
        "--config",
        config_arg,
        "--user",
        "nguyen.van.an",
        "--role",
        "officer",
        "--days",
        "30",
        "--json",
    ]);
    let output = run(create).await;
    assert_success(&output, "token create");
    let created: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON");
    let token = created["token"].as_str().expect("token");
    assert!(token.starts_with("lt_"), "{token}");
    let id = created["info"]["id"].as_str().expect("id").to_owned();

    let mut bad_user = lienthong();
    bad_user.args([
        "gateway",
        "token",
        "create",
        "--config",
        config_arg,
        "--user",
        "Nguyễn Văn An",
        "--role",
        "viewer",
    ]);
    let output = run(bad_user).await;
    assert!(!output.status.success());
    assert!(
        text(&output.stderr).contains("--user"),
        "{}",
        text(&output.stderr)
    );

    let mut revoke = lienthong();
    revoke.args(["gateway", "token", "revoke", "--config", config_arg, &id]);
    assert_success(&run(revoke).await, "token revoke");

    let mut list = lienthong();
    list.args(["gateway", "token", "list", "--config", config_arg, "--json"]);
    let output = run(list).await;
    assert_success(&output, "token list");
    let listed: Vec<serde_json::Value> = serde_json::from_slice(&output.stdout).expect("JSON");
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0]["user"], "nguyen.van.an");
    assert_eq!(listed[0]["role"], "officer");
    assert!(listed[0]["revoked_at"].is_string());
    // The secret is everything after "lt_<id>_"; it may itself hold '_'.
    let secret = token
        .strip_prefix(&format!("lt_{id}_"))
        .expect("token is lt_<id>_<secret>");
    assert!(secret.len() >= 20, "secret too short: {secret}");
    assert!(
        !text(&output.stdout).contains(secret),
        "the list must never show a secret"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn audit_verify_and_export_through_the_binary() {
    let dir = tempfile::tempdir().expect("tempdir");
    let database = dir.path().join("node.db");
    let url = format!("sqlite://{}", database.display());
    let (pool, _) = lienthong_store::connect(&url, 2).await.expect("database");
    let (writer, task) = AuditWriter::start(pool.clone()).await.expect("audit");
    for n in 0..12 {
        writer
            .record(AuditEntry {
                peer: "gateway:national".into(),
                end_user: format!("user{n}"),
                action: "SearchExperts".into(),
                request: "{\"query\":\"lúa\"}".into(),
                outcome: Outcome::Ok,
                detail: String::new(),
                record_ids: vec![format!("hung-yen:expert:E{n}")],
            })
            .await
            .expect("record");
    }
    drop(writer);
    task.await.expect("writer");
    let config = dir.path().join("node.toml");
    std::fs::write(
        &config,
        format!(
            "[node]\nid = \"hung-yen\"\ndisplay_name = \"Sở KH&CN Hưng Yên\"\n\
             [database]\nurl = \"{url}\"\n"
        ),
    )
    .expect("config");
    let config_arg = config.to_str().expect("utf-8 path").to_owned();
    let verify = |config_arg: String| async move {
        let mut verify = lienthong();
        verify.args(["audit", "verify", "--json", "--config", &config_arg]);
        run(verify).await
    };

    let output = verify(config_arg.clone()).await;
    assert_success(&output, "audit verify");
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON");
    assert_eq!(report["entries"], 12);
    assert!(report["problem"].is_null());

    let mut export = lienthong();
    export.args([
        "audit",
        "export",
        "--since",
        "2000-01-01",
        "--config",
        &config_arg,
    ]);
    let output = run(export).await;
    assert_success(&output, "audit export");
    let lines = json_lines(&output);
    assert_eq!(lines.len(), 12);
    assert_eq!(lines[11]["end_user"], "user11");

    sqlx::query("UPDATE audit_log SET record_ids = '[]' WHERE seq = 4")
        .execute(&pool)
        .await
        .expect("tamper");
    let output = verify(config_arg.clone()).await;
    assert!(!output.status.success(), "a tampered log must fail verify");
    assert!(
        text(&output.stderr).contains("entry 4 was edited"),
        "{}",
        text(&output.stderr)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_over_mutual_tls_answers_the_cli_with_a_client_certificate() {
    let dir = tempfile::tempdir().expect("tempdir");
    let pki = dir.path().join("pki");
    let pki_arg = pki.to_str().expect("utf-8 path");
    for args in [
        vec!["init"],
        vec!["issue", "node", "hung-yen"],
        vec!["issue", "client", "prober", "--role", "system"],
        vec!["issue", "client", "an", "--role", "staff"],
    ] {
        let mut pki_command = lienthong();
        pki_command.arg("pki").args(&args).args(["--dir", pki_arg]);
        assert_success(&run(pki_command).await, "pki");
    }
    let policy = dir.path().join("policy.toml");
    std::fs::write(
        &policy,
        "[[grant]]\npeers = [\"system:prober\"]\nrpcs = [\"info\"]\n",
    )
    .expect("policy");
    let port = {
        let probe = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        probe.local_addr().expect("addr").port()
    };
    let config = dir.path().join("node.toml");
    std::fs::write(
        &config,
        format!(
            "[node]\nid = \"hung-yen\"\ndisplay_name = \"Sở KH&CN Hưng Yên\"\n\
             [database]\nurl = \"sqlite://{db}\"\n[grpc]\nlisten = \"127.0.0.1:{port}\"\n\
             [admin]\nlisten = \"127.0.0.1:0\"\n[sharing]\npolicy = \"{policy}\"\n\
             [tls]\nca_bundle = \"{pki}/ca.crt\"\ncertificate = \"{pki}/node/hung-yen.crt\"\n\
             private_key = \"{pki}/node/hung-yen.key\"\ncrls = [\"{pki}/crl.pem\"]\n",
            db = dir.path().join("node.db").display(),
            policy = policy.display(),
            pki = pki.display(),
        ),
    )
    .expect("config");
    let mut node = lienthong()
        .args(["node", "--config"])
        .arg(&config)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("start the node");

    let client = |name: &str| {
        let mut info = lienthong();
        info.args([
            "info",
            "--json",
            "--node",
            &format!("https://127.0.0.1:{port}"),
        ])
        .env("LIENTHONG_CA", pki.join("ca.crt"))
        .env("LIENTHONG_CERT", pki.join(format!("system/{name}.crt")))
        .env("LIENTHONG_KEY", pki.join(format!("system/{name}.key")));
        info
    };
    let mut answered = None;
    for _ in 0..100 {
        let output = tokio::task::spawn_blocking({
            let command = client("prober");
            move || run_within(command, Duration::from_secs(30))
        })
        .await
        .expect("task");
        if output.status.success() {
            answered = Some(output);
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let output = answered.expect("the node answers the prober over mutual TLS");
    let info: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON");
    assert_eq!(info["nodeId"], "hung-yen");

    // A staff certificate is refused by the policy, with the reason.
    let mut staff = lienthong();
    staff
        .args(["info", "--node", &format!("https://127.0.0.1:{port}")])
        .env("LIENTHONG_CA", pki.join("ca.crt"))
        .env("LIENTHONG_CERT", pki.join("staff/an.crt"))
        .env("LIENTHONG_KEY", pki.join("staff/an.key"));
    let output = run(staff).await;
    assert!(!output.status.success());
    assert!(
        text(&output.stderr).contains("PermissionDenied"),
        "{}",
        text(&output.stderr)
    );

    // The CLI checks who answers: a node other than the one named, or a node
    // where a gateway was expected, is refused before anything is sent.
    let mut wrong_node = client("prober");
    wrong_node.args(["--server-identity", "node:nam-dinh"]);
    let output = run(wrong_node).await;
    assert!(!output.status.success());
    assert!(
        text(&output.stderr).contains("expected node:nam-dinh"),
        "{}",
        text(&output.stderr)
    );
    let mut not_a_gateway = lienthong();
    not_a_gateway
        .args(["status", "--gateway", &format!("https://127.0.0.1:{port}")])
        .env("LIENTHONG_CA", pki.join("ca.crt"))
        .env("LIENTHONG_CERT", pki.join("system/prober.crt"))
        .env("LIENTHONG_KEY", pki.join("system/prober.key"));
    let output = run(not_a_gateway).await;
    assert!(!output.status.success());
    assert!(
        text(&output.stderr).contains("expected gateway:*"),
        "{}",
        text(&output.stderr)
    );

    // Without a certificate the CLI says what to pass.
    let mut bare = lienthong();
    bare.args(["info", "--node", &format!("https://127.0.0.1:{port}")]);
    let output = run(bare).await;
    assert!(!output.status.success());
    assert!(
        text(&output.stderr).contains("--cert"),
        "{}",
        text(&output.stderr)
    );

    let _ = node.kill();
    let _ = node.wait();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oai_tokens_are_random_and_their_hash_is_what_the_config_holds() {
    let mut tokens = Vec::new();
    for _ in 0..2 {
        let mut command = lienthong();
        command.args([
            "oai",
            "token",
            "--identity",
            "system:national-sti",
            "--json",
        ]);
        let output = run(command).await;
        assert!(output.status.success(), "{}", text(&output.stderr));
        let printed: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON");
        let token = printed["token"].as_str().expect("token").to_owned();
        let hash: String = ring::digest::digest(&ring::digest::SHA256, token.as_bytes())
            .as_ref()
            .iter()
            .map(|byte| format!("{byte:02x}"))
            .collect();
        assert_eq!(printed["token_sha256"], hash);
        assert_eq!(printed["identity"], "system:national-sti");
        assert!(token.len() >= 43, "256 bits: {token}");
        tokens.push(token);
    }
    assert_ne!(tokens[0], tokens[1]);
    let mut command = lienthong();
    command.args(["oai", "token", "--identity", "nobody"]);
    let output = run(command).await;
    assert!(!output.status.success());
    assert!(
        text(&output.stderr).contains("--identity"),
        "{}",
        text(&output.stderr)
    );
}
