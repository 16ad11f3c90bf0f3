//! `lienthong gateway`: run the federation gateway.

use anyhow::bail;
use lienthong_gateway::{GatewayConfig, GatewayServer};
use lienthong_node::{shutdown_signal, telemetry};

use super::node::warn_plaintext;
use crate::cli::GatewayServeArgs;

pub async fn run(args: GatewayServeArgs) -> anyhow::Result<()> {
    let config = GatewayConfig::load(&args.config)?;
    telemetry::init_tracing(&config.log);
    if !args.insecure_plaintext {
        bail!(
            "this build serves and calls gRPC over plaintext only, which needs the explicit --insecure-plaintext flag \
             (development only: anyone on the network can read and call the gateway)"
        );
    }
    warn_plaintext(&config.gateway.id);
    let server = GatewayServer::bind(config).await?;
    server.serve(shutdown_signal()).await?;
    Ok(())
}
