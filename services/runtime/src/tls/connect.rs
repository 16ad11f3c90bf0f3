//! Client connections for tonic channels: TCP with Nagle's algorithm off,
//! then a TLS handshake with the configuration current at that moment, which
//! checks the server's certificate against the CA bundle and CRLs and, when
//! the caller names one, that it carries the expected federation identity (so
//! one node cannot answer for another).

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use http::Uri;
use hyper_util::rt::TokioIo;
use rustls_pki_types::ServerName;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;

use super::{Transport, identity_of, warn_plaintext};
use crate::identity::{PeerIdentity, PeerRole};

/// A byte stream a channel runs over.
pub trait ChannelIo: AsyncRead + AsyncWrite + Send + Unpin {}
impl<T: AsyncRead + AsyncWrite + Send + Unpin> ChannelIo for T {}

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Opens connections to one server; give it to
/// `Endpoint::connect_with_connector_lazy`.
#[derive(Clone)]
pub struct NodeConnector {
    transport: Transport,
    expected: ExpectedServer,
}

/// Which federation identity the server's certificate must carry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ExpectedServer {
    /// Any certificate the CA bundle accepts.
    AnyIdentity,
    /// An identity of this role (any `node:*`, say).
    Role(PeerRole),
    /// Exactly this identity.
    Exactly(PeerIdentity),
}

impl ExpectedServer {
    fn accepts(&self, presented: Option<&PeerIdentity>) -> bool {
        match self {
            ExpectedServer::AnyIdentity => true,
            ExpectedServer::Role(role) => presented.is_some_and(|p| p.role == *role),
            ExpectedServer::Exactly(expected) => presented == Some(expected),
        }
    }
}

impl std::fmt::Display for ExpectedServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ExpectedServer::AnyIdentity => f.write_str("any identity"),
            ExpectedServer::Role(role) => write!(f, "{}:*", role.as_str()),
            ExpectedServer::Exactly(identity) => write!(f, "{identity}"),
        }
    }
}

impl NodeConnector {
    /// Connects with `transport`; with mutual TLS, the server's certificate
    /// must carry `expected` when it is given.
    pub fn new(transport: Transport, expected: Option<PeerIdentity>) -> NodeConnector {
        let expected = expected.map_or(ExpectedServer::AnyIdentity, ExpectedServer::Exactly);
        NodeConnector::expecting(transport, expected)
    }

    /// Connects with `transport`; with mutual TLS, the server's certificate
    /// must satisfy `expected`.
    pub fn expecting(transport: Transport, expected: ExpectedServer) -> NodeConnector {
        NodeConnector {
            transport,
            expected,
        }
    }
}

impl tower::Service<Uri> for NodeConnector {
    type Response = TokioIo<Box<dyn ChannelIo>>;
    type Error = BoxError;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, BoxError>> + Send>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, uri: Uri) -> Self::Future {
        let transport = self.transport.clone();
        let expected = self.expected.clone();
        Box::pin(async move {
            let host = uri
                .host()
                .ok_or_else(|| format!("{uri} has no host"))?
                .trim_start_matches('[')
                .trim_end_matches(']')
                .to_owned();
            let port = uri.port_u16().unwrap_or(match uri.scheme_str() {
                Some("http") => 80,
                _ => 443,
            });
            let stream = TcpStream::connect((host.as_str(), port)).await?;
            stream.set_nodelay(true)?;
            let io: Box<dyn ChannelIo> = match transport {
                Transport::InsecurePlaintext => {
                    warn_plaintext("connection");
                    Box::new(stream)
                }
                Transport::MutualTls(tls) => {
                    let connector = TlsConnector::from(tls.current().client.clone());
                    let name = ServerName::try_from(host.clone())
                        .map_err(|error| format!("{host:?} is not a valid server name: {error}"))?;
                    let stream = connector.connect(name, stream).await?;
                    if expected != ExpectedServer::AnyIdentity {
                        let presented = stream
                            .get_ref()
                            .1
                            .peer_certificates()
                            .and_then(|chain| chain.first())
                            .and_then(identity_of);
                        if !expected.accepts(presented.as_ref()) {
                            let presented = presented.map_or_else(
                                || "no federation identity".to_owned(),
                                |p| p.to_string(),
                            );
                            return Err(format!(
                                "{uri} presented a certificate for {presented}, expected {expected}"
                            )
                            .into());
                        }
                    }
                    Box::new(stream)
                }
            };
            Ok(TokioIo::new(io))
        })
    }
}
