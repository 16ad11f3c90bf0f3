//! Harness for federation tests: the real gateway on 127.0.0.1:0, and province
//! nodes whose calls can be slowed down or failed on demand.
//!
//! A [`FaultyNode`] is the real node service over a real store and a real
//! socket; a tower layer in front of it adds the delay or error a test asks
//! for, and counts calls that started, finished, or were cancelled by their
//! caller.

use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicI32, AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use lienthong_gateway::{GatewayConfig, GatewayServer};
use lienthong_node::access::Access;
use lienthong_node::policy::SharingPolicy;
use lienthong_node::service::NodeService;
use lienthong_proto::v1::federation_client::FederationClient;
use lienthong_proto::v1::province_node_server::ProvinceNodeServer;
use lienthong_runtime::tls::{Mode, ServerKind, Transport};
use lienthong_store::Store;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tonic::transport::Channel;
use tower::{Layer, Service};

use crate::TestDatabase;

/// What a faulty node does to incoming calls; change it while it runs.
#[derive(Debug, Default)]
pub struct Faults {
    delay_ms: AtomicU64,
    /// gRPC code to fail with; 0 for none.
    fail_code: AtomicI32,
    /// Calls still to fail; u64::MAX for all.
    fail_remaining: AtomicU64,
    pub started: AtomicU64,
    pub finished: AtomicU64,
    pub cancelled: AtomicU64,
}

impl Faults {
    /// Every call waits this long before it is answered.
    pub fn delay(&self, delay: Duration) {
        self.delay_ms
            .store(delay.as_millis() as u64, Ordering::SeqCst);
    }

    /// Every call fails with `code`.
    pub fn fail(&self, code: tonic::Code) {
        self.fail_next(code, u64::MAX);
    }

    /// The next `calls` calls fail with `code`.
    pub fn fail_next(&self, code: tonic::Code, calls: u64) {
        self.fail_remaining.store(calls, Ordering::SeqCst);
        self.fail_code.store(code as i32, Ordering::SeqCst);
    }

    /// Calls are answered normally again.
    pub fn heal(&self) {
        self.delay_ms.store(0, Ordering::SeqCst);
        self.fail_code.store(0, Ordering::SeqCst);
    }

    pub fn started(&self) -> u64 {
        self.started.load(Ordering::SeqCst)
    }

    pub fn cancelled(&self) -> u64 {
        self.cancelled.load(Ordering::SeqCst)
    }

    fn take_failure(&self) -> Option<tonic::Code> {
        let code = self.fail_code.load(Ordering::SeqCst);
        if code == 0 {
            return None;
        }
        let remaining = self.fail_remaining.load(Ordering::SeqCst);
        if remaining == 0 {
            return None;
        }
        if remaining != u64::MAX {
            self.fail_remaining.fetch_sub(1, Ordering::SeqCst);
        }
        Some(tonic::Code::from_i32(code))
    }
}

#[derive(Clone)]
struct FaultLayer(Arc<Faults>);

impl<S> Layer<S> for FaultLayer {
    type Service = FaultService<S>;
    fn layer(&self, inner: S) -> Self::Service {
        FaultService {
            inner,
            faults: self.0.clone(),
        }
    }
}

#[derive(Clone)]
struct FaultService<S> {
    inner: S,
    faults: Arc<Faults>,
}

/// Counts a call as cancelled unless it was marked finished.
struct CallGuard {
    faults: Arc<Faults>,
    finished: bool,
}

impl Drop for CallGuard {
    fn drop(&mut self) {
        let counter = if self.finished {
            &self.faults.finished
        } else {
            &self.faults.cancelled
        };
        counter.fetch_add(1, Ordering::SeqCst);
    }
}

impl<S, ReqBody, ResBody> Service<http::Request<ReqBody>> for FaultService<S>
where
    S: Service<http::Request<ReqBody>, Response = http::Response<ResBody>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    ReqBody: Send + 'static,
    ResBody: Default + Send + 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Self::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<ReqBody>) -> Self::Future {
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let faults = self.faults.clone();
        Box::pin(async move {
            faults.started.fetch_add(1, Ordering::SeqCst);
            let mut guard = CallGuard {
                faults: faults.clone(),
                finished: false,
            };
            let delay = faults.delay_ms.load(Ordering::SeqCst);
            if delay > 0 {
                tokio::time::sleep(Duration::from_millis(delay)).await;
            }
            let response = match faults.take_failure() {
                Some(code) => Ok(tonic::Status::new(code, "injected failure").into_http()),
                None => inner.call(request).await,
            };
            guard.finished = true;
            response
        })
    }
}

/// A province node with fault injection, serving on 127.0.0.1:0.
pub struct FaultyNode {
    pub node_id: String,
    pub grpc_addr: SocketAddr,
    pub store: Store,
    pub faults: Arc<Faults>,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

impl FaultyNode {
    /// Serves the node service of `node_id` over `database`.
    pub async fn start(node_id: &str, database: &TestDatabase) -> FaultyNode {
        let store = database.open_store(node_id).await;
        let faults = Arc::new(Faults::default());
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let grpc_addr = listener.local_addr().expect("address");
        let (audit, _) = lienthong_audit::AuditWriter::start(store.pool().clone())
            .await
            .expect("audit log");
        let policy = SharingPolicy::parse(crate::GRANT_ANONYMOUS_EVERYTHING).expect("policy");
        let refusals = lienthong_audit::RefusalLog::start(audit.clone(), Duration::from_secs(60));
        let service = ProvinceNodeServer::new(NodeService::new(
            store.clone(),
            format!("Sở KH&CN {node_id}"),
            Access::new(policy, audit, refusals),
        ));
        let (stop, stopped) = oneshot::channel::<()>();
        let layer = FaultLayer(faults.clone());
        let task = tokio::spawn(async move {
            let _ = tonic::transport::Server::builder()
                .layer(layer)
                .add_service(service)
                .serve_with_incoming_shutdown(
                    lienthong_runtime::tls::incoming(
                        listener,
                        Transport::InsecurePlaintext,
                        ServerKind::Grpc,
                        &Default::default(),
                    ),
                    async move {
                        let _ = stopped.await;
                    },
                )
                .await;
        });
        FaultyNode {
            node_id: node_id.to_owned(),
            grpc_addr,
            store,
            faults,
            stop: Some(stop),
            task: Some(task),
        }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.grpc_addr)
    }

    /// Stops serving; the port closes.
    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            task.abort();
            let _ = task.await;
        }
    }
}

impl Drop for FaultyNode {
    fn drop(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

/// The gateway, serving gRPC and HTTP on 127.0.0.1:0 until dropped.
pub struct TestGateway {
    pub grpc_addr: SocketAddr,
    pub http_addr: SocketAddr,
    /// `/metrics` and `/healthz`.
    pub admin_addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    _database: tempfile::TempDir,
}

impl TestGateway {
    /// A gateway over `nodes` (id, URL), with `extra_toml` (tables such as
    /// `[node_defaults]` or `[breaker]`) added to its configuration.
    pub async fn start(nodes: &[(&str, String)], extra_toml: &str) -> TestGateway {
        let database = tempfile::tempdir().expect("temporary directory");
        // Tests ask fast; the per-user rate limit has its own test.
        let auth = if extra_toml.contains("[auth]") {
            ""
        } else {
            "[auth]\nrequests_per_minute = 1000000\nburst = 100000\n"
        };
        let mut toml = format!(
            "[grpc]\nlisten = \"127.0.0.1:0\"\n[http]\nlisten = \"127.0.0.1:0\"\n[admin]\nlisten = \"127.0.0.1:0\"\n\
             [database]\nurl = \"sqlite://{}\"\n{auth}{extra_toml}\n",
            database.path().join("gateway.db").display()
        );
        for (id, url) in nodes {
            toml.push_str(&format!(
                "[[nodes]]\nid = \"{id}\"\ndisplay_name = \"Sở KH&CN {id}\"\nendpoint = \"{url}\"\n"
            ));
        }
        let config = GatewayConfig::from_toml(&toml).expect("gateway test config");
        let server = GatewayServer::bind(config, Mode::InsecurePlaintext)
            .await
            .expect("bind the gateway");
        let (grpc_addr, http_addr, admin_addr) =
            (server.grpc_addr(), server.http_addr(), server.admin_addr());
        let (stop, stopped) = oneshot::channel::<()>();
        tokio::spawn(server.serve(async move {
            let _ = stopped.await;
        }));
        TestGateway {
            grpc_addr,
            http_addr,
            admin_addr,
            stop: Some(stop),
            _database: database,
        }
    }

    /// A connected client of the federation service.
    pub async fn client(&self) -> FederationClient<Channel> {
        let channel = Channel::from_shared(format!("http://{}", self.grpc_addr))
            .expect("url")
            .connect()
            .await
            .expect("connect to the test gateway");
        FederationClient::new(channel)
    }
}

impl Drop for TestGateway {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}
