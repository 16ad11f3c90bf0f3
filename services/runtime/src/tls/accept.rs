//! Accepting connections: TCP with Nagle's algorithm off, then (unless
//! plaintext) a TLS handshake against the configuration current at that
//! moment, so reloaded certificates and CRLs apply to the next connection.
//!
//! Handshakes run on their own tasks with a deadline, so a slow or hostile
//! client cannot hold up others; a refused handshake is logged with the
//! reason and counted, and never reaches the server.

use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use futures_util::Stream;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::server::TlsStream;

use super::{ServerKind, Transport, identity_of, warn_plaintext};
use crate::identity::PeerIdentity;

/// Longest a client may take to finish its handshake.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// Who is connected; a request extension on every call.
#[derive(Debug, Clone)]
pub struct PeerInfo {
    pub remote_addr: Option<SocketAddr>,
    /// The identity in the client's certificate; `None` in plaintext, without a
    /// client certificate (HTTPS API), or when the certificate carries none.
    pub identity: Option<PeerIdentity>,
    /// Whether the connection is encrypted and the client certificate verified
    /// (when one was presented).
    pub secure: bool,
}

/// An accepted connection, encrypted or not.
pub enum Connection {
    Tls(Box<TlsStream<TcpStream>>, PeerInfo),
    Plain(TcpStream, PeerInfo),
}

impl Connection {
    pub fn peer(&self) -> &PeerInfo {
        match self {
            Connection::Tls(_, peer) | Connection::Plain(_, peer) => peer,
        }
    }
}

impl tonic::transport::server::Connected for Connection {
    type ConnectInfo = PeerInfo;
    fn connect_info(&self) -> PeerInfo {
        self.peer().clone()
    }
}

impl AsyncRead for Connection {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Connection::Tls(stream, _) => Pin::new(stream.as_mut()).poll_read(cx, buf),
            Connection::Plain(stream, _) => Pin::new(stream).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for Connection {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Connection::Tls(stream, _) => Pin::new(stream.as_mut()).poll_write(cx, buf),
            Connection::Plain(stream, _) => Pin::new(stream).poll_write(cx, buf),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Connection::Tls(stream, _) => Pin::new(stream.as_mut()).poll_flush(cx),
            Connection::Plain(stream, _) => Pin::new(stream).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Connection::Tls(stream, _) => Pin::new(stream.as_mut()).poll_shutdown(cx),
            Connection::Plain(stream, _) => Pin::new(stream).poll_shutdown(cx),
        }
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Connection::Tls(stream, _) => Pin::new(stream.as_mut()).poll_write_vectored(cx, bufs),
            Connection::Plain(stream, _) => Pin::new(stream).poll_write_vectored(cx, bufs),
        }
    }

    fn is_write_vectored(&self) -> bool {
        match self {
            Connection::Tls(stream, _) => stream.is_write_vectored(),
            Connection::Plain(stream, _) => stream.is_write_vectored(),
        }
    }
}

/// Connections ready to serve; a [`Stream`] for tonic, or [`Incoming::next`]
/// for other servers. Dropping it stops accepting.
pub struct Incoming {
    ready: mpsc::Receiver<Connection>,
}

impl Incoming {
    /// The next connection that completed its handshake.
    pub async fn next(&mut self) -> Option<Connection> {
        self.ready.recv().await
    }
}

impl Stream for Incoming {
    type Item = Result<Connection, io::Error>;
    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.ready.poll_recv(cx).map(|next| next.map(Ok))
    }
}

/// Accepts on `listener`, a `kind` server, with `transport` until the
/// returned [`Incoming`] is dropped.
pub fn incoming(listener: TcpListener, transport: Transport, kind: ServerKind) -> Incoming {
    let (ready, receiver) = mpsc::channel(64);
    tokio::spawn(accept_loop(listener, transport, kind, ready));
    Incoming { ready: receiver }
}

async fn accept_loop(
    listener: TcpListener,
    transport: Transport,
    kind: ServerKind,
    ready: mpsc::Sender<Connection>,
) {
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            () = ready.closed() => return,
        };
        let (stream, remote) = match accepted {
            Ok(accepted) => accepted,
            Err(error) => {
                // Out of file descriptors and the like: wait rather than spin.
                tracing::warn!(%error, "accept failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        if let Err(error) = stream.set_nodelay(true) {
            tracing::debug!(%error, "cannot turn off Nagle's algorithm");
        }
        match &transport {
            Transport::InsecurePlaintext => {
                warn_plaintext("connection");
                let peer = PeerInfo {
                    remote_addr: Some(remote),
                    identity: None,
                    secure: false,
                };
                if ready.send(Connection::Plain(stream, peer)).await.is_err() {
                    return;
                }
            }
            Transport::MutualTls(tls) => {
                let acceptor = TlsAcceptor::from(tls.server_config(kind));
                let ready = ready.clone();
                tokio::spawn(async move {
                    if let Some(connection) = handshake(acceptor, stream, remote).await {
                        let _ = ready.send(connection).await;
                    }
                });
            }
        }
    }
}

async fn handshake(
    acceptor: TlsAcceptor,
    stream: TcpStream,
    remote: SocketAddr,
) -> Option<Connection> {
    let refused = |reason: String| {
        metrics::counter!("lienthong_tls_handshakes_refused_total").increment(1);
        tracing::warn!(%remote, reason, "TLS handshake refused");
        None
    };
    let stream = match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await {
        Ok(Ok(stream)) => stream,
        Ok(Err(error)) => return refused(error.to_string()),
        Err(_) => return refused(format!("no handshake within {HANDSHAKE_TIMEOUT:?}")),
    };
    let identity = stream
        .get_ref()
        .1
        .peer_certificates()
        .and_then(|chain| chain.first())
        .and_then(identity_of);
    let peer = PeerInfo {
        remote_addr: Some(remote),
        identity,
        secure: true,
    };
    Some(Connection::Tls(Box::new(stream), peer))
}
