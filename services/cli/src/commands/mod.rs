//! One module per command.

mod audit;
mod check_proposal;
mod client;
mod demo;
mod export;
mod gateway;
mod import;
mod merge;
mod node;
mod oai;
mod pki;
mod records;
mod reindex;
mod sample;
mod search;
mod sync;

use crate::cli::{Cli, Command};

/// Runs the parsed command.
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    if !matches!(
        cli.command,
        Command::Node(_) | Command::Gateway(_) | Command::Demo(_)
    ) {
        // One-shot commands: what goes wrong inside (a damaged index being
        // rebuilt, a storage failure behind an error) reaches the operator
        // on stderr. Servers set their own level from their config.
        lienthong_runtime::telemetry::init_tracing(&lienthong_runtime::config_source::LogConfig {
            level: "warn".into(),
            ..Default::default()
        });
    }
    match cli.command {
        Command::Node(args) => node::run(args).await,
        Command::Gateway(args) => gateway::run(args).await,
        Command::Demo(args) => demo::run(args).await,
        Command::Search(args) => search::run(args).await,
        Command::Info(args) => search::info(args).await,
        Command::Status(args) => search::status(args).await,
        Command::Stats(args) => search::statistics(args).await,
        Command::Import(args) => import::run(args).await,
        Command::Merge(args) => merge::run(args).await,
        Command::Export(args) => export::run(args).await,
        Command::Records(args) => records::run(args).await,
        Command::Sample(args) => sample::run(args).await,
        Command::Reindex(args) => reindex::run(args).await,
        Command::Sync(args) => sync::run(args).await,
        Command::CheckProposal(args) => check_proposal::run(args).await,
        Command::Pki(args) => pki::run(args),
        Command::Audit(args) => audit::run(args).await,
        Command::Oai(args) => oai::run(args),
    }
}
