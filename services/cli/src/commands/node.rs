//! `lienthong node`: run one province node.

use lienthong_node::{NodeConfig, NodeServer, shutdown_signal, telemetry};
use lienthong_runtime::tls::Mode;

use crate::cli::NodeArgs;

pub async fn run(args: NodeArgs) -> anyhow::Result<()> {
    let config = NodeConfig::load(&args.config)?;
    telemetry::init_tracing(&config.log);
    let server = NodeServer::bind(config, mode(args.insecure_plaintext)).await?;
    server.serve(shutdown_signal()).await?;
    Ok(())
}

/// The transport the `--insecure-plaintext` flag selects.
pub fn mode(insecure_plaintext: bool) -> Mode {
    if insecure_plaintext {
        Mode::InsecurePlaintext
    } else {
        Mode::MutualTls
    }
}
