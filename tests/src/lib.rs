//! Test harness: fresh databases on both backends and real nodes serving gRPC
//! on `127.0.0.1:0`.
//!
//! PostgreSQL tests use `TEST_DATABASE_URL` (default
//! `postgres://postgres@127.0.0.1:5432/postgres`) and create a fresh database
//! per test. When no PostgreSQL answers they print a notice and skip, unless
//! `LIENTHONG_REQUIRE_PG=1`, in which case they fail.

#![forbid(unsafe_code)]

pub mod browser;
pub mod federation;
pub mod oai;
pub mod secure;
pub mod web;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use lienthong_node::{NodeConfig, NodeServer};
use lienthong_proto::v1::province_node_client::ProvinceNodeClient;
use lienthong_proto::v1::{Classification, RecordMeta, Visibility};
use lienthong_records::AnyRecord;
use lienthong_sample::{ProvinceProfile, SampleGenerator, SampleSpec};
use lienthong_store::{Backend, Store, StoreOptions};
use sqlx::Connection;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tonic::transport::Channel;

const DEFAULT_PG_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";

/// A fresh, empty database that is removed when dropped.
pub struct TestDatabase {
    pub url: String,
    pub backend: Backend,
    _dir: Option<tempfile::TempDir>,
    postgres: Option<(String, String)>,
}

impl TestDatabase {
    /// A new SQLite file in a temporary directory.
    pub fn sqlite() -> TestDatabase {
        let dir = tempfile::tempdir().expect("temporary directory");
        let url = format!("sqlite://{}", dir.path().join("node.db").display());
        TestDatabase {
            url,
            backend: Backend::Sqlite,
            _dir: Some(dir),
            postgres: None,
        }
    }

    /// A new PostgreSQL database, or `None` (with a notice) when PostgreSQL is
    /// not reachable and `LIENTHONG_REQUIRE_PG` is not `1`.
    pub async fn postgres() -> Option<TestDatabase> {
        static COUNTER: AtomicU32 = AtomicU32::new(0);
        let admin_url =
            std::env::var("TEST_DATABASE_URL").unwrap_or_else(|_| DEFAULT_PG_URL.to_owned());
        let required = std::env::var("LIENTHONG_REQUIRE_PG").is_ok_and(|value| value == "1");
        let mut admin = match tokio::time::timeout(
            Duration::from_secs(5),
            sqlx::PgConnection::connect(&admin_url),
        )
        .await
        {
            Ok(Ok(connection)) => connection,
            outcome => {
                let reason = match outcome {
                    Ok(Err(error)) => error.to_string(),
                    _ => "timed out".to_owned(),
                };
                assert!(
                    !required,
                    "LIENTHONG_REQUIRE_PG=1 but PostgreSQL at {admin_url} is not reachable: {reason}"
                );
                eprintln!(
                    "NOTICE: skipping the PostgreSQL half of this test: {admin_url} is not reachable ({reason}); set TEST_DATABASE_URL, or LIENTHONG_REQUIRE_PG=1 to fail instead"
                );
                return None;
            }
        };
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let name = format!(
            "lienthong_test_{}_{}_{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed),
            nanos
        );
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&mut admin)
            .await
            .expect("create a test database");
        let _ = admin.close().await;
        let (base, _) = admin_url
            .rsplit_once('/')
            .expect("TEST_DATABASE_URL ends in /DATABASE");
        Some(TestDatabase {
            url: format!("{base}/{name}"),
            backend: Backend::Postgres,
            _dir: None,
            postgres: Some((admin_url, name)),
        })
    }

    /// SQLite always, and PostgreSQL when available: run a test on each.
    /// A fresh database on `backend`; PostgreSQL must be at
    /// `TEST_DATABASE_URL`.
    pub async fn of(backend: Backend) -> TestDatabase {
        match backend {
            Backend::Sqlite => TestDatabase::sqlite(),
            Backend::Postgres => TestDatabase::postgres()
                .await
                .expect("PostgreSQL at TEST_DATABASE_URL"),
        }
    }

    pub async fn each_backend() -> Vec<TestDatabase> {
        let mut databases = vec![TestDatabase::sqlite()];
        databases.extend(TestDatabase::postgres().await);
        databases
    }

    /// Opens a store for `node_id` on this database.
    pub async fn open_store(&self, node_id: &str) -> Store {
        Store::open(&StoreOptions {
            url: self.url.clone(),
            node_id: node_id.to_owned(),
            max_connections: 4,
            search_index: lienthong_store::IndexLocation::Memory,
        })
        .await
        .expect("open the store")
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let Some((admin_url, name)) = self.postgres.take() else {
            return;
        };
        // Drop runs outside any runtime guarantee; use a thread of our own.
        let _ = std::thread::spawn(move || {
            let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            else {
                return;
            };
            runtime.block_on(async move {
                if let Ok(mut admin) = sqlx::PgConnection::connect(&admin_url).await {
                    let _ = sqlx::query(sqlx::AssertSqlSafe(format!(
                        "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
                    )))
                    .execute(&mut admin)
                    .await;
                }
            });
        })
        .join();
    }
}

/// The sample profile of `node_id`: the pilot pair's own, or a generic one.
fn sample_profile(node_id: &str) -> ProvinceProfile {
    match node_id {
        "hung-yen" => ProvinceProfile::hung_yen(),
        "nam-dinh" => ProvinceProfile::nam_dinh(),
        other => ProvinceProfile::custom(other, other, "XX"),
    }
}

/// Deterministic sample records for `node_id` with `experts` experts.
pub fn sample_records(node_id: &str, experts: u64) -> Vec<AnyRecord> {
    SampleGenerator::new(SampleSpec::sized(sample_profile(node_id), experts))
        .records()
        .map(|record| AnyRecord::try_from(record).expect("sample records are complete"))
        .collect()
}

/// Loads `experts` sample experts of `node_id` (and its organizations, no
/// projects or publications) in batches of 2,000, then analyzes the store:
/// the benchmarks' data, generated as it is written.
pub async fn load_sample_experts(store: &Store, node_id: &str, experts: u64) {
    let mut spec = SampleSpec::sized(sample_profile(node_id), experts);
    spec.projects = 0;
    spec.publications = 0;
    let mut batch = Vec::with_capacity(2_000);
    for record in SampleGenerator::new(spec).records() {
        batch.push(AnyRecord::try_from(record).expect("complete record"));
        if batch.len() == 2_000 {
            store
                .upsert(std::mem::take(&mut batch))
                .await
                .expect("upsert");
        }
    }
    store.upsert(batch).await.expect("upsert");
    store.analyze().await.expect("analyze");
}

/// Upserts records in batches of 1,000.
pub async fn load(store: &Store, records: Vec<AnyRecord>) {
    let mut records = records;
    while !records.is_empty() {
        let rest = records.split_off(records.len().min(1_000));
        let report = store.upsert(records).await.expect("upsert");
        assert!(
            report.rejected.is_empty(),
            "sample records rejected: {:?}",
            report.rejected
        );
        records = rest;
    }
}

/// A sharing policy that grants plaintext (anonymous) callers everything,
/// personal fields included: what the plaintext test nodes run with, so tests
/// of search and federation see whole records.
pub const GRANT_ANONYMOUS_EVERYTHING: &str = r#"
[[grant]]
peers = ["insecure-anonymous"]
rpcs = ["info", "search", "get", "statistics"]
kinds = ["expert", "project", "publication", "organization"]
personal_fields = ["email", "phone", "birth_year"]
"#;

/// Writes `policy` to a temporary file that lives as long as the returned path.
pub fn policy_file(policy: &str) -> tempfile::TempPath {
    let mut file = tempfile::Builder::new()
        .suffix(".toml")
        .tempfile()
        .expect("temporary policy file");
    std::io::Write::write_all(&mut file, policy.as_bytes()).expect("write the policy");
    file.into_temp_path()
}

/// A node serving gRPC on 127.0.0.1:0 until stopped.
pub struct TestNode {
    pub node_id: String,
    pub grpc_addr: SocketAddr,
    pub admin_addr: SocketAddr,
    pub store: Store,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<Result<(), lienthong_node::NodeError>>>,
    _policy: tempfile::TempPath,
    _search_index: tempfile::TempDir,
}

/// A fresh directory for a test node's search index, and the config section
/// that points the node at it. Its own writes are searchable at once; the
/// short refresh picks up writes made through another store quickly.
pub fn search_index_section() -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().expect("search index directory");
    let toml = format!(
        "[search]\nindex_dir = \"{}\"\nrefresh_ms = 50\n",
        dir.path().join("index").display()
    );
    (dir, toml)
}

/// How long a test node lets open connections finish when it stops. Tests
/// often still hold a client when they stop a node; a stop then waits this
/// long rather than the production default of ten seconds.
pub const TEST_SHUTDOWN_GRACE_MS: u64 = 1_000;

impl TestNode {
    /// Starts node `node_id` over `database` in plaintext, granting anonymous
    /// callers everything, with extra TOML appended to the generated config
    /// (e.g. to lower limits).
    pub async fn start_with(node_id: &str, database: &TestDatabase, extra_toml: &str) -> TestNode {
        let policy = policy_file(GRANT_ANONYMOUS_EVERYTHING);
        let (search_index, search_toml) = search_index_section();
        let config = NodeConfig::from_toml(&format!(
            "[node]\nid = \"{node_id}\"\ndisplay_name = \"Sở KH&CN {node_id}\"\n\
             [database]\nurl = \"{}\"\nmax_connections = 4\n\
             [sharing]\npolicy = \"{}\"\n{search_toml}\
             [grpc]\nlisten = \"127.0.0.1:0\"\n{extra_toml}\n\
             [admin]\nlisten = \"127.0.0.1:0\"\n\
             [limits]\nshutdown_grace_ms = {TEST_SHUTDOWN_GRACE_MS}\n",
            database.url,
            policy.display()
        ))
        .expect("test config");
        let server = NodeServer::bind(config, lienthong_runtime::tls::Mode::InsecurePlaintext)
            .await
            .expect("bind the node");
        let (grpc_addr, admin_addr, store) = (
            server.grpc_addr(),
            server.admin_addr(),
            server.store().clone(),
        );
        let (stop, stopped) = oneshot::channel();
        let task = tokio::spawn(server.serve(async move {
            let _ = stopped.await;
        }));
        TestNode {
            node_id: node_id.to_owned(),
            grpc_addr,
            admin_addr,
            store,
            stop: Some(stop),
            task: Some(task),
            _policy: policy,
            _search_index: search_index,
        }
    }

    /// Starts node `node_id` over `database` with default settings.
    pub async fn start(node_id: &str, database: &TestDatabase) -> TestNode {
        TestNode::start_with(node_id, database, "").await
    }

    /// The node's URL, e.g. `http://127.0.0.1:41234`.
    pub fn url(&self) -> String {
        format!("http://{}", self.grpc_addr)
    }

    /// A connected gRPC channel.
    pub async fn channel(&self) -> Channel {
        Channel::from_shared(self.url())
            .expect("url")
            .connect()
            .await
            .expect("connect to the test node")
    }

    /// A connected client of the node service.
    pub async fn client(&self) -> ProvinceNodeClient<Channel> {
        ProvinceNodeClient::new(self.channel().await)
    }

    /// Signals shutdown and waits for the node to finish.
    pub async fn stop(mut self) -> Result<(), lienthong_node::NodeError> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        match self.task.take() {
            Some(task) => task.await.expect("node task"),
            None => Ok(()),
        }
    }
}

impl Drop for TestNode {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// Polls `condition` every 20 ms until it holds or `timeout` passes.
pub async fn wait_for<F, Fut>(timeout: Duration, mut condition: F) -> bool
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + timeout;
    while tokio::time::Instant::now() < deadline {
        if condition().await {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    false
}

/// Completed task number `n` of `origin`, of about 1.4 KB (protobuf), for
/// bulk benchmarks: `{origin}:project:P{n}`, titled with its number.
pub fn bulk_task(origin: &str, n: usize) -> AnyRecord {
    AnyRecord::Project(lienthong_proto::v1::Project {
        meta: Some(federation_meta(&format!("{origin}:project:P{n}"))),
        code: format!("ĐT.{n}/2023"),
        title: format!("Nghiên cứu chọn tạo giống lúa chịu mặn phù hợp vùng ven biển, mã số T{n}"),
        status: lienthong_proto::v1::ProjectStatus::Completed as i32,
        project_type: lienthong_proto::v1::ProjectType::Research as i32,
        management_level: lienthong_proto::v1::ManagementLevel::Province as i32,
        host_organization_name: "Trung tâm Ứng dụng tiến bộ KH&CN Nam Định".into(),
        managing_agency: "Sở Khoa học và Công nghệ tỉnh Nam Định".into(),
        field_codes: vec!["40101".into(), "40102".into()],
        actual_start: "2021-01-01".into(),
        actual_end: "2023-06-30".into(),
        total_budget_vnd: 1_850_000_000,
        state_budget_vnd: 1_200_000_000,
        objectives: "Chọn tạo được 02 giống lúa chịu mặn, năng suất đạt 6 tấn/ha trở lên, \
                     chất lượng gạo khá, thích ứng với điều kiện xâm nhập mặn vùng ven biển; \
                     xây dựng quy trình kỹ thuật canh tác và mô hình trình diễn 20 ha. "
            .repeat(2),
        summary: "Đề tài đánh giá nguồn vật liệu khởi đầu, lai tạo và chọn lọc các dòng lúa \
                  triển vọng, khảo nghiệm tác giả tại ba huyện ven biển, hoàn thiện hồ sơ \
                  công nhận giống và chuyển giao cho hợp tác xã. "
            .repeat(2),
        keywords: vec!["lúa chịu mặn".into(), "giống lúa".into(), "ven biển".into()],
        ..Default::default()
    })
}

/// Metadata for a record of this node that the federation may see: id `id`,
/// visibility federation, classification bình thường, no version or timestamps.
pub fn federation_meta(id: &str) -> RecordMeta {
    RecordMeta {
        id: id.to_owned(),
        visibility: Visibility::Federation as i32,
        classification: Classification::Normal as i32,
        ..Default::default()
    }
}

/// Whether a record may leave its node, decided here from the contract
/// (visibility public or federation, classification bình thường) rather than
/// by the code under test.
pub fn is_shareable(record: &AnyRecord) -> bool {
    record.meta().is_some_and(|meta| {
        (meta.visibility == Visibility::Public as i32
            || meta.visibility == Visibility::Federation as i32)
            && meta.classification == Classification::Normal as i32
    })
}

/// A plain HTTP/1.1 `GET path` to `addr` with `Connection: close`; returns the
/// status code and the body (chunked bodies are returned as sent).
pub async fn http_get(addr: SocketAddr, path: &str) -> std::io::Result<(u16, String)> {
    let stream = tokio::net::TcpStream::connect(addr).await?;
    let request = format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    let mut sent = 0;
    while sent < request.len() {
        stream.writable().await?;
        match stream.try_write(&request.as_bytes()[sent..]) {
            Ok(n) => sent += n,
            Err(error) if error.kind() == std::io::ErrorKind::WouldBlock => {}
            Err(error) => return Err(error),
        }
    }
    let mut response = Vec::new();
    let mut buffer = [0u8; 8192];
    loop {
        stream.readable().await?;
        match stream.try_read(&mut buffer) {
            Ok(0) => break,
            Ok(n) => response.extend_from_slice(&buffer[..n]),
            Err(error) if error.kind() == std::io::ErrorKind::WouldBlock => {}
            Err(error) => return Err(error),
        }
    }
    let text = String::from_utf8_lossy(&response).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((text.as_str(), ""));
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .ok_or_else(|| {
            std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!("not an HTTP response: {head:?}"),
            )
        })?;
    Ok((status, body.to_owned()))
}

/// Global id of a Hưng Yên expert with this local part.
pub fn hung_yen_expert_id(local: &str) -> String {
    format!("hung-yen:expert:{local}")
}

/// A shareable Hưng Yên expert with just an id and a name.
pub fn hung_yen_expert(local: &str, name: &str) -> lienthong_proto::v1::Expert {
    lienthong_proto::v1::Expert {
        meta: Some(federation_meta(&hung_yen_expert_id(local))),
        full_name: name.into(),
        ..Default::default()
    }
}

/// What department staff type: surnames, full names, topics, phrases, with
/// and without a field filter.
pub const EXPERT_QUERIES: &[(&str, &[&str])] = &[
    ("nguyễn", &[]),
    ("Nguyễn Xuân Hải", &[]),
    ("trần thị hương", &[]),
    ("lúa", &[]),
    ("\"nghiên cứu\"", &["4"]),
    ("công nghệ sinh học", &[]),
    ("phạm", &["2"]),
    ("kinh tế", &["5"]),
];

/// CPU time of this process so far (user + system), from /proc.
pub fn process_cpu_time() -> Duration {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after_name = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of the whole line: 12 and 13 here.
    let ticks: u64 = [11, 12]
        .iter()
        .filter_map(|&index| fields.get(index)?.parse::<u64>().ok())
        .sum();
    Duration::from_millis(ticks * 10)
}

/// The value after `name` on a bench's command line (`--records 1000`).
pub fn bench_argument(name: &str) -> Option<String> {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|arg| arg == name)
        .and_then(|index| args.get(index + 1).cloned())
}

/// The backends a bench runs on: `--backend sqlite|postgres`, else both.
pub fn bench_backends() -> Vec<Backend> {
    match bench_argument("--backend").as_deref() {
        Some("sqlite") => vec![Backend::Sqlite],
        Some("postgres") => vec![Backend::Postgres],
        _ => vec![Backend::Sqlite, Backend::Postgres],
    }
}
