//! Serving HTTP/1.1 over accepted connections with the limits a public
//! listener needs, which a bare `axum::serve` does not set:
//!
//! - a header-read timeout (`limits.http_header_read_timeout_ms`), which
//!   also closes a keep-alive connection that sends nothing: a client that
//!   opens connections and sends half a request cannot hold them;
//! - the connection limits of the accept loop ([`crate::tls::incoming`]);
//! - a bounded shutdown: calls in flight get `limits.shutdown_grace_ms`, then
//!   every remaining connection is dropped, however slow its client.

use std::convert::Infallible;
use std::future::Future;

use hyper::body::Incoming as IncomingBody;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::task::JoinSet;

use crate::limits::ServerLimits;
use crate::tls::{Incoming, PeerInfo};

/// Serves connections from `incoming` with the service `make` returns for
/// each one, until `stop` completes; then closes idle connections, waits for
/// calls in flight up to the shutdown grace, and drops the rest.
pub async fn serve<S, B>(
    mut incoming: Incoming,
    limits: &ServerLimits,
    make: impl Fn(&PeerInfo) -> S,
    stop: impl Future<Output = ()>,
) where
    S: tower::Service<
            http::Request<IncomingBody>,
            Response = http::Response<B>,
            Error = Infallible,
        > + Clone
        + Send
        + 'static,
    S::Future: Send + 'static,
    B: http_body::Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(limits.http_header_read_timeout())
        .keep_alive(true);
    let graceful = GracefulShutdown::new();
    let mut connections = JoinSet::new();
    tokio::pin!(stop);
    loop {
        let connection = tokio::select! {
            next = incoming.next() => match next {
                Some(connection) => connection,
                None => break,
            },
            () = &mut stop => break,
        };
        // Forget connections that have ended.
        while connections.try_join_next().is_some() {}
        let service = TowerToHyperService::new(make(connection.peer()));
        let served = graceful.watch(builder.serve_connection(TokioIo::new(connection), service));
        connections.spawn(async move {
            if let Err(error) = served.await {
                tracing::debug!(%error, "HTTP connection ended with an error");
            }
        });
    }
    drop(incoming);
    let open = connections.len();
    match tokio::time::timeout(limits.shutdown_grace(), graceful.shutdown()).await {
        Ok(()) => {}
        Err(_) => tracing::warn!(
            open,
            grace_ms = limits.shutdown_grace_ms,
            "HTTP connections still open after the shutdown grace; closing them"
        ),
    }
    connections.shutdown().await;
}
