//! The nodes one party calls, and how one call to one node is made: circuit
//! breaker, concurrency limit, deadline, retries within the budget, and the
//! outcome every response reports. [`Registry::fan_out`] runs such calls on
//! many nodes at once; dropping it (a client that cancels) drops every node
//! call, which resets their HTTP/2 streams so the nodes stop working too.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use futures_util::future::join_all;
use lienthong_proto::v1 as pb;
use lienthong_proto::v1::province_node_client::ProvinceNodeClient;
use lienthong_runtime::tls::Transport;
use tokio::sync::Semaphore;
use tokio::time::Instant;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::Channel;
use tonic::{Code, Status};
use tracing::Instrument;

use crate::breaker::Breaker;
use crate::retry_budget::RetryBudget;
use crate::settings::{BreakerConfig, NodeSettings, RetryConfig};
use crate::transport;

/// A client of one node whose calls pass the registry's [`CallStamp`].
pub type NodeClient = ProvinceNodeClient<InterceptedService<Channel, CallStamp>>;

type StampFn = dyn Fn(tonic::Request<()>) -> Result<tonic::Request<()>, Status> + Send + Sync;

/// What every call to a node carries besides its message (the gateway: the
/// end user it acts for). Cheap to clone.
#[derive(Clone)]
pub struct CallStamp(Arc<StampFn>);

impl CallStamp {
    pub fn new(
        stamp: impl Fn(tonic::Request<()>) -> Result<tonic::Request<()>, Status> + Send + Sync + 'static,
    ) -> CallStamp {
        CallStamp(Arc::new(stamp))
    }

    /// Calls carry nothing more.
    pub fn none() -> CallStamp {
        CallStamp::new(Ok)
    }
}

impl tonic::service::Interceptor for CallStamp {
    fn call(&mut self, request: tonic::Request<()>) -> Result<tonic::Request<()>, Status> {
        (self.0)(request)
    }
}

/// The metrics of node calls, named `<prefix>_node_calls_total` (by node and
/// outcome), `<prefix>_node_call_seconds` (latency, retries included),
/// `<prefix>_node_up` (1 when the last call succeeded) and
/// `<prefix>_breaker_state` (0 closed, 1 open, 2 half-open).
#[derive(Clone, Debug)]
pub struct CallMetrics {
    calls: String,
    duration: String,
    up: String,
    breaker: String,
}

impl CallMetrics {
    /// `prefix` such as "lienthong_gateway".
    pub fn named(prefix: &str) -> CallMetrics {
        CallMetrics {
            calls: format!("{prefix}_node_calls_total"),
            duration: format!("{prefix}_node_call_seconds"),
            up: format!("{prefix}_node_up"),
            breaker: format!("{prefix}_breaker_state"),
        }
    }
}

/// One node as the calling party sees it.
pub struct NodeHandle {
    pub settings: NodeSettings,
    client: NodeClient,
    limiter: Semaphore,
    pub breaker: Breaker,
    last_latency_micros: AtomicU64,
}

impl NodeHandle {
    /// Latency of the last search or get sent to this node, if any.
    pub fn last_latency(&self) -> Option<Duration> {
        match self.last_latency_micros.load(Ordering::Relaxed) {
            0 => None,
            micros => Some(Duration::from_micros(micros)),
        }
    }

    pub fn id(&self) -> &str {
        &self.settings.id
    }
}

/// Why a node call produced no answer.
#[derive(Debug, Clone)]
pub enum NodeFailure {
    /// No answer within the deadline, or no free slot under the concurrency limit.
    Timeout(String),
    /// Unreachable, or skipped because its breaker is open.
    Unavailable(String),
    /// The node answered with a server-side error.
    Error(String),
    /// The node refused the request itself (bad query, unknown id, ...): the
    /// caller's fault, reported to the caller as is.
    Rejected(Status),
    /// The node answered that it will not serve this caller or request
    /// (permission, authentication, a precondition): an answer from a healthy
    /// node, reported as that node's error and never held against its breaker.
    Refused(Status),
}

impl NodeFailure {
    /// The outcome a response reports for this failure.
    pub fn outcome(&self) -> pb::NodeOutcome {
        match self {
            NodeFailure::Timeout(_) => pb::NodeOutcome::Timeout,
            NodeFailure::Unavailable(_) => pb::NodeOutcome::Unavailable,
            NodeFailure::Error(_) | NodeFailure::Rejected(_) | NodeFailure::Refused(_) => {
                pb::NodeOutcome::Error
            }
        }
    }

    pub fn message(&self) -> String {
        match self {
            NodeFailure::Timeout(message)
            | NodeFailure::Unavailable(message)
            | NodeFailure::Error(message) => message.clone(),
            NodeFailure::Rejected(status) => status.message().to_owned(),
            NodeFailure::Refused(status) => format!("{:?}: {}", status.code(), status.message()),
        }
    }

    fn label(&self) -> &'static str {
        match self {
            NodeFailure::Timeout(_) => "timeout",
            NodeFailure::Unavailable(_) => "unavailable",
            NodeFailure::Error(_) => "error",
            NodeFailure::Rejected(_) => "rejected",
            NodeFailure::Refused(_) => "refused",
        }
    }

    /// Whether the node itself is healthy despite this failure.
    fn node_healthy(&self) -> bool {
        matches!(self, NodeFailure::Rejected(_) | NodeFailure::Refused(_))
    }
}

/// The result of one node call.
pub struct NodeCall<T> {
    pub node: Arc<NodeHandle>,
    pub result: Result<T, NodeFailure>,
    pub latency: Duration,
}

impl<T> NodeCall<T> {
    /// The status line a response carries for this call (no hits: searches
    /// count theirs per page themselves).
    pub fn status(&self) -> pb::NodeStatus {
        let (outcome, message) = match &self.result {
            Ok(_) => (pb::NodeOutcome::Ok, String::new()),
            Err(failure) => (failure.outcome(), failure.message()),
        };
        pb::NodeStatus {
            node_id: self.node.settings.id.clone(),
            display_name: self.node.settings.display_name.clone(),
            outcome: outcome as i32,
            message,
            latency_ms: self.latency.as_secs_f64() * 1000.0,
            hits: 0,
        }
    }
}

/// How a registry's calls are made.
pub struct CallPolicy {
    pub breaker: BreakerConfig,
    pub retry: RetryConfig,
    /// Largest answer accepted from a node.
    pub max_message_bytes: usize,
    pub stamp: CallStamp,
    pub metrics: CallMetrics,
}

/// Every node, and what their calls share.
pub struct Registry {
    nodes: Vec<Arc<NodeHandle>>,
    retry: RetryConfig,
    budget: RetryBudget,
    metrics: CallMetrics,
}

impl Registry {
    /// Builds one lazy channel per node; nothing connects yet.
    pub fn new(
        nodes: Vec<NodeSettings>,
        transport: &Transport,
        policy: CallPolicy,
    ) -> Result<Registry, String> {
        let cool_down = Duration::from_millis(policy.breaker.cool_down_ms);
        let nodes = nodes
            .into_iter()
            .map(|settings| {
                let channel = transport::node_channel(&settings, transport)?;
                Ok(Arc::new(NodeHandle {
                    client: ProvinceNodeClient::with_interceptor(channel, policy.stamp.clone())
                        .max_decoding_message_size(policy.max_message_bytes),
                    limiter: Semaphore::new(settings.max_concurrency),
                    breaker: Breaker::new(policy.breaker.failure_threshold, cool_down),
                    last_latency_micros: AtomicU64::new(0),
                    settings,
                }))
            })
            .collect::<Result<Vec<_>, String>>()?;
        Ok(Registry {
            nodes,
            budget: RetryBudget::new(
                policy.retry.budget_percent,
                policy.retry.min_retries_per_second,
            ),
            retry: policy.retry,
            metrics: policy.metrics,
        })
    }

    /// Every node, in configuration order.
    pub fn nodes(&self) -> &[Arc<NodeHandle>] {
        &self.nodes
    }

    /// The node with this id.
    pub fn node(&self, id: &str) -> Option<&Arc<NodeHandle>> {
        self.nodes.iter().find(|node| node.settings.id == id)
    }

    /// The nodes named in `ids` (every node when empty), in configuration
    /// order; an unknown id is an error that lists the known ones.
    pub fn select(&self, ids: &[String]) -> Result<Vec<Arc<NodeHandle>>, String> {
        if let Some(unknown) = ids.iter().find(|id| self.node(id).is_none()) {
            let known: Vec<&str> = self.nodes.iter().map(|node| node.id()).collect();
            return Err(format!(
                "nodes: no node {unknown:?} in this federation; known nodes: {}",
                known.join(", ")
            ));
        }
        Ok(self
            .nodes
            .iter()
            .filter(|node| ids.is_empty() || ids.iter().any(|id| id == node.id()))
            .cloned()
            .collect())
    }

    /// Runs `call(index, client, timeout)` on every node in `nodes` at once
    /// (`index` into `nodes`), each within its own deadline and never past
    /// `deadline`. Results come in the order of `nodes`.
    pub async fn fan_out<T, F, Fut>(
        &self,
        nodes: &[Arc<NodeHandle>],
        deadline: Instant,
        call: F,
    ) -> Vec<NodeCall<T>>
    where
        F: Fn(usize, NodeClient, Duration) -> Fut,
        Fut: Future<Output = Result<T, Status>>,
    {
        let span = tracing::info_span!("fan_out", nodes = nodes.len());
        let call = &call;
        join_all(nodes.iter().enumerate().map(|(index, node)| {
            let node_span = tracing::info_span!(
                parent: &span,
                "node_call",
                node = %node.settings.id,
                outcome = tracing::field::Empty
            );
            async move {
                self.call(node.clone(), deadline, &|client, timeout| {
                    call(index, client, timeout)
                })
                .await
            }
            .instrument(node_span)
        }))
        .instrument(span.clone())
        .await
    }

    /// One call to one node.
    pub async fn call<T, F, Fut>(
        &self,
        node: Arc<NodeHandle>,
        deadline: Instant,
        call: &F,
    ) -> NodeCall<T>
    where
        F: Fn(NodeClient, Duration) -> Fut,
        Fut: Future<Output = Result<T, Status>>,
    {
        let started = Instant::now();
        let result = self.attempts(&node, deadline, call).await;
        let latency = started.elapsed();
        let id = node.settings.id.clone();
        let outcome = match &result {
            Ok(_) => "ok",
            Err(failure) => failure.label(),
        };
        tracing::Span::current().record("outcome", outcome);
        if let Err(failure) = &result {
            tracing::debug!(node = %id, outcome, message = %failure.message(), "node call failed");
        }
        node.last_latency_micros
            .store(latency.as_micros().max(1) as u64, Ordering::Relaxed);
        let names = &self.metrics;
        metrics::counter!(names.calls.clone(), "node" => id.clone(), "outcome" => outcome)
            .increment(1);
        metrics::histogram!(names.duration.clone(), "node" => id.clone())
            .record(latency.as_secs_f64());
        let up = result.is_ok() || result.as_ref().is_err_and(NodeFailure::node_healthy);
        metrics::gauge!(names.up.clone(), "node" => id.clone()).set(if up { 1.0 } else { 0.0 });
        metrics::gauge!(names.breaker.clone(), "node" => id)
            .set(breaker_gauge(node.breaker.state()));
        NodeCall {
            node,
            result,
            latency,
        }
    }

    async fn attempts<T, F, Fut>(
        &self,
        node: &NodeHandle,
        deadline: Instant,
        call: &F,
    ) -> Result<T, NodeFailure>
    where
        F: Fn(NodeClient, Duration) -> Fut,
        Fut: Future<Output = Result<T, Status>>,
    {
        if let Err(rejected) = node.breaker.admit() {
            return Err(NodeFailure::Unavailable(format!(
                "skipped: circuit breaker open after repeated failures; next trial in {} ms",
                rejected.retry_in.as_millis()
            )));
        }
        let node_deadline = deadline.min(Instant::now() + node.settings.timeout);
        let Ok(Ok(_permit)) = tokio::time::timeout_at(node_deadline, node.limiter.acquire()).await
        else {
            // Waiting for a slot says nothing of the node's health: the
            // breaker records nothing (and frees a trial this call held).
            node.breaker.abandon();
            return Err(NodeFailure::Timeout(format!(
                "no answer in time: {} calls already in flight (max_concurrency)",
                node.settings.max_concurrency
            )));
        };
        self.budget.deposit();
        let mut attempt = 1;
        let result = loop {
            let remaining = node_deadline.saturating_duration_since(Instant::now());
            let outcome =
                tokio::time::timeout_at(node_deadline, call(node.client.clone(), remaining)).await;
            let failure = match outcome {
                Ok(Ok(answer)) => break Ok(answer),
                Err(_) => break Err(timeout_failure(node, deadline, node_deadline)),
                // The channel enforces the grpc-timeout it sends, and reports
                // its expiry as CANCELLED: that is our deadline too.
                Ok(Err(status))
                    if status.code() == Code::Cancelled
                        && Instant::now() + Duration::from_millis(5) >= node_deadline =>
                {
                    break Err(timeout_failure(node, deadline, node_deadline));
                }
                Ok(Err(status)) => classify(status),
            };
            let backoff = Duration::from_millis(self.retry.backoff_ms * u64::from(attempt));
            let retryable = matches!(failure, NodeFailure::Unavailable(_))
                && attempt < self.retry.max_attempts
                && Instant::now() + backoff < node_deadline
                && self.budget.try_withdraw();
            if !retryable {
                break Err(failure);
            }
            tracing::debug!(node = %node.settings.id, attempt, "retrying an unreachable node");
            tokio::time::sleep(backoff).await;
            attempt += 1;
        };
        match &result {
            // Out of the request's time (a client's short deadline, say):
            // nothing learned about the node, so nothing held against it.
            Err(NodeFailure::Timeout(_)) if node_deadline >= deadline => node.breaker.abandon(),
            Ok(_) => node.breaker.record(true),
            Err(failure) => node.breaker.record(failure.node_healthy()),
        }
        result
    }
}

fn timeout_failure(node: &NodeHandle, deadline: Instant, node_deadline: Instant) -> NodeFailure {
    if node_deadline < deadline {
        NodeFailure::Timeout(format!(
            "no answer within the node's deadline of {} ms",
            node.settings.timeout.as_millis()
        ))
    } else {
        NodeFailure::Timeout("no answer before the request's deadline".into())
    }
}

/// Sorts a node's error status into the outcome a response reports.
fn classify(status: Status) -> NodeFailure {
    match status.code() {
        // Errors about the request itself: every node would say the same.
        Code::InvalidArgument | Code::NotFound => NodeFailure::Rejected(status),
        Code::DeadlineExceeded => {
            NodeFailure::Timeout(format!("the node gave up: {}", status.message()))
        }
        Code::Unavailable | Code::Cancelled => {
            NodeFailure::Unavailable(format!("unreachable: {}", status.message()))
        }
        // Answers, not faults: the node is up and decided (a refusal, its
        // per-peer budget, a precondition). A user whose
        // request one province refuses (a birth-year filter its policy
        // withholds, say) must not be able to switch that province off for
        // everyone by repeating it. The others still answer.
        Code::PermissionDenied
        | Code::Unauthenticated
        | Code::ResourceExhausted
        | Code::FailedPrecondition
        | Code::OutOfRange
        | Code::AlreadyExists
        | Code::Aborted => NodeFailure::Refused(status),
        // Server errors and replies over the size limit: this node's problem,
        // not the caller's. The node fails; the others answer.
        code => NodeFailure::Error(format!("{code:?}: {}", status.message())),
    }
}

fn breaker_gauge(state: pb::BreakerState) -> f64 {
    match state {
        pb::BreakerState::Open => 1.0,
        pb::BreakerState::HalfOpen => 2.0,
        pb::BreakerState::Closed | pb::BreakerState::Unspecified => 0.0,
    }
}
