//! Accepted gRPC connections, tuned once for every server.

use tokio::net::TcpListener;
use tonic::transport::server::TcpIncoming;

/// The connections `listener` accepts, with Nagle's algorithm off: small gRPC
/// responses go out at once instead of waiting up to 40 ms for the peer's
/// delayed acknowledgement.
pub fn grpc_incoming(listener: TcpListener) -> TcpIncoming {
    TcpIncoming::from(listener).with_nodelay(Some(true))
}
