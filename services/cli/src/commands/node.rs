//! `lienthong node`: run one province node.

use anyhow::bail;
use lienthong_node::{NodeConfig, NodeServer, shutdown_signal, telemetry};

use crate::cli::NodeArgs;

pub async fn run(args: NodeArgs) -> anyhow::Result<()> {
    let config = NodeConfig::load(&args.config)?;
    telemetry::init_tracing(&config.log);
    if !args.insecure_plaintext {
        bail!(
            "this build serves gRPC over plaintext only, which needs the explicit --insecure-plaintext flag \
             (development only: anyone on the network can read and call the node)"
        );
    }
    warn_plaintext(&config.node.id);
    let server = NodeServer::bind(config).await?;
    server.serve(shutdown_signal()).await?;
    Ok(())
}

/// Logs the loud warning every plaintext listener deserves.
pub fn warn_plaintext(node: &str) {
    tracing::warn!(
        node,
        "INSECURE: serving gRPC WITHOUT TLS (--insecure-plaintext); records and queries cross the network in clear text. Never use this in production."
    );
}
