//! Every channel opened to a node (by the gateway, or by a node following a
//! peer) is built here, so transport
//! security and connection tuning change in one place.
//!
//! Channels are lazy and long-lived: one per node, shared by every request,
//! multiplexing calls over HTTP/2 and reconnecting by themselves after a
//! node restarts. With mutual TLS each connection presents the caller's
//! certificate, checks the node's against the CA bundle and CRLs, and
//! requires it to carry the identity `node:<id>` of the node configured at
//! that endpoint.

use std::time::Duration;

use lienthong_runtime::identity::{PeerIdentity, PeerRole};
use lienthong_runtime::tls::{NodeConnector, Transport};
use tonic::transport::{Channel, Endpoint};

use crate::settings::NodeSettings;

/// Checks that `endpoint` is an address a channel can be built for.
pub fn check_endpoint(endpoint: &str) -> Result<(), String> {
    if !(endpoint.starts_with("http://") || endpoint.starts_with("https://")) {
        return Err(format!(
            "{endpoint:?} must start with https:// (or http:// for a plaintext development \
             node), e.g. \"https://127.0.0.1:7101\""
        ));
    }
    Endpoint::from_shared(endpoint.to_owned())
        .map(|_| ())
        .map_err(|error| format!("{endpoint:?} is not a valid address: {error}"))
}

/// The long-lived channel to one node. Connects on first use.
pub fn node_channel(node: &NodeSettings, transport: &Transport) -> Result<Channel, String> {
    let secure = matches!(transport, Transport::MutualTls(_));
    if secure && node.endpoint.starts_with("http://") {
        return Err(format!(
            "node {}: endpoint {} is plaintext, but this party runs mutual TLS; write https://",
            node.id, node.endpoint
        ));
    }
    let endpoint = Endpoint::from_shared(node.endpoint.clone())
        .map_err(|error| format!("node {}: bad endpoint: {error}", node.id))?
        .connect_timeout(node.connect_timeout)
        .http2_keep_alive_interval(Duration::from_secs(30))
        .keep_alive_timeout(Duration::from_secs(10))
        .keep_alive_while_idle(true)
        .http2_adaptive_window(true);
    let expected = PeerIdentity::new(PeerRole::Node, &node.id)
        .map_err(|error| format!("node {}: {error}", node.id))?;
    Ok(endpoint.connect_with_connector_lazy(NodeConnector::new(transport.clone(), Some(expected))))
}
