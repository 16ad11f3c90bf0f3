//! The first thing every gRPC call meets, before any handler: a request
//! budget per peer, and a refusal of methods the server does not have.
//!
//! - The peer is the federation identity in its certificate, else its
//!   address; every call it makes draws on one [`RateLimiter`] bucket
//!   (`limits.peer_requests_per_minute`, `limits.peer_burst`). Over it, the call
//!   is answered RESOURCE_EXHAUSTED without running.
//! - A path that names no method of the server's services is answered
//!   UNIMPLEMENTED here, so invented paths cost nothing further and never
//!   reach a handler or a metric label.
//! - A service reserved to one role ([`PeerGateLayer::reserve`]) refuses
//!   every other caller with PERMISSION_DENIED here, before its request
//!   body is read: the node's Ingest API takes large requests, and only
//!   `system:` callers get to send one.
//! - Each refusal is reported to the server's [`RefusalHook`], which audits it
//!   (counted per peer and interval, see the audit crate).

use std::collections::HashSet;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use tower::{Layer, Service};

use crate::identity::PeerIdentity;
use crate::limits::ServerLimits;
use crate::rate_limit::RateLimiter;
use crate::tls::PeerInfo;

/// Reports a refused call: (peer, method or "unknown", reason).
pub type RefusalHook = Arc<dyn Fn(&str, &str, &str) + Send + Sync>;

/// Which calls draw on the peer budget.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Budgeted {
    /// Every call (a province node: its peers are other servers).
    Every,
    /// Every call except those to this service (`/pkg.Service/`): the
    /// gateway, whose users have budgets of their own.
    AllBut(String),
}

/// Builds [`PeerGate`] services.
#[derive(Clone)]
pub struct PeerGateLayer {
    limiter: Arc<RateLimiter>,
    methods: Arc<HashSet<String>>,
    budgeted: Budgeted,
    on_refused: RefusalHook,
    /// Services (`/pkg.Service/`) only some callers may call.
    reserved: Arc<Vec<Reserved>>,
}

/// A service kept to the callers `admits`; `for_whom` says who they are.
struct Reserved {
    service_path: String,
    for_whom: String,
    admits: Box<dyn Fn(&PeerIdentity) -> bool + Send + Sync>,
}

impl PeerGateLayer {
    /// Keeps the service at `service_path` (`/pkg.Service/`) to callers
    /// whose certificate identity `admits` accepts (`for_whom` describes
    /// them, for the refusal). Set up before the layer is cloned.
    pub fn reserve(
        mut self,
        service_path: &str,
        for_whom: &str,
        admits: impl Fn(&PeerIdentity) -> bool + Send + Sync + 'static,
    ) -> PeerGateLayer {
        let mut reserved: Vec<Reserved> =
            Arc::try_unwrap(std::mem::take(&mut self.reserved)).unwrap_or_else(|_| Vec::new());
        reserved.push(Reserved {
            service_path: service_path.to_owned(),
            for_whom: for_whom.to_owned(),
            admits: Box::new(admits),
        });
        self.reserved = Arc::new(reserved);
        self
    }

    /// A gate with the per-peer budget of `limits`; `methods` are the full
    /// paths the server serves (from [`crate::reflection::method_paths`]).
    pub fn new(
        limits: &ServerLimits,
        methods: Arc<HashSet<String>>,
        budgeted: Budgeted,
        on_refused: impl Fn(&str, &str, &str) + Send + Sync + 'static,
    ) -> PeerGateLayer {
        PeerGateLayer {
            limiter: Arc::new(RateLimiter::new(
                limits.peer_requests_per_minute,
                limits.peer_burst,
            )),
            methods,
            budgeted,
            on_refused: Arc::new(on_refused),
            reserved: Arc::new(Vec::new()),
        }
    }
}

impl<S> Layer<S> for PeerGateLayer {
    type Service = PeerGate<S>;
    fn layer(&self, inner: S) -> PeerGate<S> {
        PeerGate {
            inner,
            gate: self.clone(),
        }
    }
}

/// The service [`PeerGateLayer`] builds.
#[derive(Clone)]
pub struct PeerGate<S> {
    inner: S,
    gate: PeerGateLayer,
}

/// The network a client address is counted under: the IPv4 address itself
/// (an IPv4-mapped IPv6 address is its IPv4 address), or the /64 of an IPv6
/// address, since one host is commonly given a whole /64.
pub fn client_network(address: std::net::IpAddr) -> std::net::IpAddr {
    use std::net::{IpAddr, Ipv6Addr};
    match address {
        IpAddr::V4(_) => address,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let segments = v6.segments();
                IpAddr::V6(Ipv6Addr::new(
                    segments[0],
                    segments[1],
                    segments[2],
                    segments[3],
                    0,
                    0,
                    0,
                    0,
                ))
            }
        },
    }
}

/// The key a peer's budget is kept under.
pub fn peer_key(peer: Option<&PeerInfo>) -> String {
    match peer {
        Some(PeerInfo {
            identity: Some(identity),
            ..
        }) => identity.to_string(),
        Some(PeerInfo {
            remote_addr: Some(address),
            ..
        }) => format!("client {}", client_network(address.ip())),
        _ => "client".to_owned(),
    }
}

impl<S, ReqBody, ResBody> Service<http::Request<ReqBody>> for PeerGate<S>
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
        let path = request.uri().path();
        let known = self.gate.methods.contains(path);
        let budgeted = match &self.gate.budgeted {
            Budgeted::Every => true,
            Budgeted::AllBut(service) => !known || !path.starts_with(service.as_str()),
        };
        let refusal = if budgeted {
            let peer = peer_key(request.extensions().get::<PeerInfo>());
            match self.gate.limiter.admit(&peer) {
                Ok(()) if known => None,
                Ok(()) => Some((
                    peer,
                    tonic::Status::unimplemented("no such method on this server"),
                )),
                Err(retry_in) => Some((
                    peer,
                    tonic::Status::resource_exhausted(format!(
                        "over this server's limit of {} calls per minute per peer; retry in {} ms",
                        self.gate.limiter.per_minute(),
                        retry_in.as_millis().max(1)
                    )),
                )),
            }
        } else {
            None
        };
        let refusal = refusal.or_else(|| {
            let reserved = self
                .gate
                .reserved
                .iter()
                .find(|reserved| known && path.starts_with(reserved.service_path.as_str()))?;
            let peer = request.extensions().get::<PeerInfo>();
            let identity = peer.and_then(|peer| peer.identity.as_ref());
            if identity.is_some_and(|identity| (reserved.admits)(identity)) {
                return None;
            }
            let caller = identity.map_or_else(|| "this caller".to_owned(), ToString::to_string);
            Some((
                peer_key(peer),
                tonic::Status::permission_denied(format!(
                    "{caller} may not call this service: it is only for {}",
                    reserved.for_whom
                )),
            ))
        });
        if let Some((peer, status)) = refusal {
            let method = if known { path } else { "unknown" };
            let reason = match status.code() {
                tonic::Code::ResourceExhausted => "rate limited",
                tonic::Code::PermissionDenied => "reserved service",
                _ => "unknown method",
            };
            metrics::counter!("lienthong_calls_refused_total", "reason" => reason).increment(1);
            (self.gate.on_refused)(&peer, method, reason);
            let response = status.into_http::<ResBody>();
            return Box::pin(async move { Ok(response) });
        }
        // The clone that was polled ready serves this call.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        Box::pin(inner.call(request))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_ipv6_host_is_counted_by_its_64() {
        let a: std::net::IpAddr = "2001:db8:1:2:aaaa::1".parse().unwrap();
        let b: std::net::IpAddr = "2001:db8:1:2:bbbb::9".parse().unwrap();
        let c: std::net::IpAddr = "2001:db8:1:3::1".parse().unwrap();
        assert_eq!(client_network(a), client_network(b));
        assert_ne!(client_network(a), client_network(c));
        let mapped: std::net::IpAddr = "::ffff:10.0.0.7".parse().unwrap();
        assert_eq!(
            client_network(mapped),
            "10.0.0.7".parse::<std::net::IpAddr>().unwrap()
        );
    }
}
