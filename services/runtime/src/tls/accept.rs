//! Accepting connections: TCP with Nagle's algorithm off, then (unless
//! plaintext) a TLS handshake against the configuration current at that
//! moment, so reloaded certificates and CRLs apply to the next connection.
//!
//! Handshakes run on their own tasks with a deadline, so a slow or hostile
//! client cannot hold up others; a refused handshake is logged with the
//! reason and counted, and never reaches the server.
//!
//! What one client can hold is bounded before any work is done for it
//! ([`ServerLimits`]): connections in all and per client address (each
//! connection carries its slot and frees it when dropped; over either limit
//! a new connection is closed on accept), and handshakes in progress (at the
//! limit the loop stops accepting until one ends, so further clients wait in
//! the kernel's backlog rather than cost anything; one client network may
//! hold only a few of them, and its further connections are closed). A
//! client network is an IPv4 address or an IPv6 /64.

use std::collections::HashMap;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use futures_util::Stream;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Semaphore, mpsc};
use tokio_rustls::TlsAcceptor;
use tokio_rustls::server::TlsStream;

use super::{ServerKind, Transport, identity_of, warn_plaintext};
use crate::identity::PeerIdentity;
use crate::limits::ServerLimits;
use crate::peer_gate::client_network;

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

/// An accepted connection, encrypted or not. It holds its place under the
/// connection limits until it is dropped.
pub struct Connection {
    stream: Io,
    peer: PeerInfo,
    _slot: Slot,
}

enum Io {
    Tls(Box<TlsStream<TcpStream>>),
    Plain(TcpStream),
}

impl Connection {
    pub fn peer(&self) -> &PeerInfo {
        &self.peer
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
        match &mut self.get_mut().stream {
            Io::Tls(stream) => Pin::new(stream.as_mut()).poll_read(cx, buf),
            Io::Plain(stream) => Pin::new(stream).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for Connection {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match &mut self.get_mut().stream {
            Io::Tls(stream) => Pin::new(stream.as_mut()).poll_write(cx, buf),
            Io::Plain(stream) => Pin::new(stream).poll_write(cx, buf),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match &mut self.get_mut().stream {
            Io::Tls(stream) => Pin::new(stream.as_mut()).poll_flush(cx),
            Io::Plain(stream) => Pin::new(stream).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match &mut self.get_mut().stream {
            Io::Tls(stream) => Pin::new(stream.as_mut()).poll_shutdown(cx),
            Io::Plain(stream) => Pin::new(stream).poll_shutdown(cx),
        }
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        match &mut self.get_mut().stream {
            Io::Tls(stream) => Pin::new(stream.as_mut()).poll_write_vectored(cx, bufs),
            Io::Plain(stream) => Pin::new(stream).poll_write_vectored(cx, bufs),
        }
    }

    fn is_write_vectored(&self) -> bool {
        match &self.stream {
            Io::Tls(stream) => stream.is_write_vectored(),
            Io::Plain(stream) => stream.is_write_vectored(),
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

/// A connection's place under [`ServerLimits::max_connections`] and
/// [`ServerLimits::max_connections_per_address`]; freed when dropped.
struct Slot {
    _total: tokio::sync::OwnedSemaphorePermit,
    _address: AddressSlot,
}

/// One place in an [`AddressCounts`]; freed when dropped.
struct AddressSlot {
    counts: Arc<AddressCounts>,
    address: IpAddr,
}

impl Drop for AddressSlot {
    fn drop(&mut self) {
        self.counts.release(self.address);
    }
}

/// Places in use per client network (an IPv4 address, an IPv6 /64).
struct AddressCounts {
    limit: usize,
    counts: Mutex<HashMap<IpAddr, usize>>,
}

impl AddressCounts {
    fn new(limit: usize) -> Arc<AddressCounts> {
        Arc::new(AddressCounts {
            limit,
            counts: Mutex::new(HashMap::new()),
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<IpAddr, usize>> {
        match self.counts.lock() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        }
    }

    /// A place for `address`'s network, if it has one left.
    fn try_take(self: &Arc<Self>, address: IpAddr) -> Option<AddressSlot> {
        let address = client_network(address);
        let mut counts = self.lock();
        let count = counts.entry(address).or_insert(0);
        if *count >= self.limit {
            return None;
        }
        *count += 1;
        Some(AddressSlot {
            counts: Arc::clone(self),
            address,
        })
    }

    fn release(&self, address: IpAddr) {
        let mut counts = self.lock();
        if let Some(count) = counts.get_mut(&address) {
            *count -= 1;
            if *count == 0 {
                counts.remove(&address);
            }
        }
    }
}

/// The limits one listener enforces while accepting.
struct Gate {
    connections: Arc<Semaphore>,
    per_address: Arc<AddressCounts>,
    handshakes: Arc<Semaphore>,
    handshakes_per_address: Arc<AddressCounts>,
    handshake_timeout: Duration,
    max_connections: usize,
}

impl Gate {
    fn new(limits: &ServerLimits) -> Gate {
        Gate {
            connections: Arc::new(Semaphore::new(limits.max_connections)),
            per_address: AddressCounts::new(limits.max_connections_per_address),
            handshakes: Arc::new(Semaphore::new(limits.max_concurrent_handshakes)),
            handshakes_per_address: AddressCounts::new(limits.max_handshakes_per_address),
            handshake_timeout: limits.handshake_timeout(),
            max_connections: limits.max_connections,
        }
    }

    /// A slot for a new connection from `remote`, or why there is none.
    fn admit(&self, remote: SocketAddr) -> Result<Slot, String> {
        let total = Arc::clone(&self.connections)
            .try_acquire_owned()
            .map_err(|_| {
                format!(
                    "{} connections are open (limits.max_connections)",
                    self.max_connections
                )
            })?;
        let address = self.per_address.try_take(remote.ip()).ok_or_else(|| {
            format!(
                "{} connections are open from {} (limits.max_connections_per_address)",
                self.per_address.limit,
                remote.ip()
            )
        })?;
        Ok(Slot {
            _total: total,
            _address: address,
        })
    }
}

/// Accepts on `listener`, a `kind` server, with `transport` under `limits`
/// until the returned [`Incoming`] is dropped.
pub fn incoming(
    listener: TcpListener,
    transport: Transport,
    kind: ServerKind,
    limits: &ServerLimits,
) -> Incoming {
    let (ready, receiver) = mpsc::channel(64);
    tokio::spawn(accept_loop(
        listener,
        transport,
        kind,
        Gate::new(limits),
        ready,
    ));
    Incoming { ready: receiver }
}

async fn accept_loop(
    listener: TcpListener,
    transport: Transport,
    kind: ServerKind,
    gate: Gate,
    ready: mpsc::Sender<Connection>,
) {
    loop {
        // At most `max_concurrent_handshakes` in progress: beyond that the
        // loop stops accepting (clients wait in the kernel's backlog) until
        // one finishes or times out.
        let handshaking = match &transport {
            Transport::MutualTls(_) => {
                let permit = tokio::select! {
                    permit = Arc::clone(&gate.handshakes).acquire_owned() => permit,
                    () = ready.closed() => return,
                };
                match permit {
                    Ok(permit) => Some(permit),
                    Err(_) => return,
                }
            }
            Transport::InsecurePlaintext => None,
        };
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
        let slot = match gate.admit(remote) {
            Ok(slot) => slot,
            Err(reason) => {
                metrics::counter!("lienthong_connections_refused_total").increment(1);
                tracing::warn!(%remote, reason, "connection closed on accept");
                drop(stream);
                continue;
            }
        };
        if let Err(error) = stream.set_nodelay(true) {
            tracing::debug!(%error, "cannot turn off Nagle's algorithm");
        }
        match &transport {
            Transport::InsecurePlaintext => {
                warn_plaintext("connection");
                let connection = Connection {
                    stream: Io::Plain(stream),
                    peer: PeerInfo {
                        remote_addr: Some(remote),
                        identity: None,
                        secure: false,
                    },
                    _slot: slot,
                };
                if ready.send(connection).await.is_err() {
                    return;
                }
            }
            Transport::MutualTls(tls) => {
                // One network may not hold every handshake slot.
                let Some(address_handshaking) = gate.handshakes_per_address.try_take(remote.ip())
                else {
                    metrics::counter!("lienthong_connections_refused_total").increment(1);
                    tracing::warn!(%remote, "connection closed on accept: too many TLS handshakes in progress from this address (limits.max_handshakes_per_address)");
                    continue;
                };
                let acceptor = TlsAcceptor::from(tls.server_config(kind));
                let ready = ready.clone();
                let timeout = gate.handshake_timeout;
                tokio::spawn(async move {
                    let connection = handshake(acceptor, stream, remote, timeout, slot).await;
                    drop(handshaking);
                    drop(address_handshaking);
                    if let Some(connection) = connection {
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
    timeout: Duration,
    slot: Slot,
) -> Option<Connection> {
    let refused = |reason: String| {
        metrics::counter!("lienthong_tls_handshakes_refused_total").increment(1);
        tracing::warn!(%remote, reason, "TLS handshake refused");
        None
    };
    let stream = match tokio::time::timeout(timeout, acceptor.accept(stream)).await {
        Ok(Ok(stream)) => stream,
        Ok(Err(error)) => return refused(error.to_string()),
        Err(_) => return refused(format!("no handshake within {timeout:?}")),
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
    Some(Connection {
        stream: Io::Tls(Box::new(stream)),
        peer,
        _slot: slot,
    })
}
