//! `lienthong demo`: two province nodes on this machine, with sample data,
//! and the federation gateway in front of them.

use anyhow::Context;
use lienthong_gateway::{GatewayConfig, GatewayServer};
use lienthong_node::config::LogConfig;
use lienthong_node::{NodeConfig, NodeServer, shutdown_signal, telemetry};
use lienthong_sample::SampleSpec;
use tokio::sync::watch;

use super::node::warn_plaintext;
use super::sample::{load_sample, profile_for};
use crate::cli::DemoArgs;

/// The gateway's gRPC and HTTP ports.
const GATEWAY_GRPC_PORT: u16 = 7100;
const GATEWAY_HTTP_PORT: u16 = 8080;

/// (node id, display name, gRPC port, admin port)
const DEMO_NODES: [(&str, &str, u16, u16); 2] = [
    ("hung-yen", "Sở KH&CN Hưng Yên", 7101, 9101),
    ("nam-dinh", "Sở KH&CN Nam Định", 7102, 9102),
];

pub async fn run(args: DemoArgs) -> anyhow::Result<()> {
    telemetry::init_tracing(&LogConfig {
        level: "warn,lienthong_node=info,lienthong_gateway=info".into(),
        ..LogConfig::default()
    });
    std::fs::create_dir_all(&args.dir)
        .with_context(|| format!("cannot create the demo directory {}", args.dir.display()))?;
    let dir = args
        .dir
        .canonicalize()
        .with_context(|| format!("cannot resolve {}", args.dir.display()))?;

    let (stop_tx, stop_rx) = watch::channel(false);
    let mut tasks = Vec::new();
    let mut addresses = Vec::new();
    for (id, name, grpc_port, admin_port) in DEMO_NODES {
        let database = dir.join(format!("{id}.db"));
        let config = NodeConfig::from_toml(&format!(
            "[node]\nid = \"{id}\"\ndisplay_name = \"{name}\"\n\
             [database]\nurl = \"sqlite://{}\"\n\
             [grpc]\nlisten = \"127.0.0.1:{grpc_port}\"\n\
             [admin]\nlisten = \"127.0.0.1:{admin_port}\"\n",
            database.display()
        ))?;
        // Fill the store before listening, so that no client waits on a node
        // that is still loading.
        let store = super::sample::open_store(&config).await?;
        if store.counts(false).await?.experts == 0 {
            println!(
                "first run: generating sample data for {name} into {}",
                database.display()
            );
            load_sample(
                &store,
                SampleSpec::sized(profile_for(&config), args.experts),
            )
            .await?;
            store.analyze().await?;
        }
        store.close().await;
        let server = NodeServer::bind(config)
            .await
            .with_context(|| format!("cannot start the {name} node (is another demo running?)"))?;
        warn_plaintext(id);
        addresses.push((name, server.grpc_addr(), server.admin_addr()));
        let mut stop = stop_rx.clone();
        tasks.push(tokio::spawn(server.serve(async move {
            let _ = stop.wait_for(|stop| *stop).await;
        })));
    }

    let mut gateway_toml = format!(
        "[grpc]\nlisten = \"127.0.0.1:{GATEWAY_GRPC_PORT}\"\n[http]\nlisten = \"127.0.0.1:{GATEWAY_HTTP_PORT}\"\n"
    );
    for ((id, name, _, _), (_, grpc, _)) in DEMO_NODES.iter().zip(&addresses) {
        gateway_toml.push_str(&format!(
            "[[nodes]]\nid = \"{id}\"\ndisplay_name = \"{name}\"\nendpoint = \"http://{grpc}\"\n"
        ));
    }
    let gateway = GatewayServer::bind(GatewayConfig::from_toml(&gateway_toml)?)
        .await
        .context("cannot start the gateway (is another demo running?)")?;
    warn_plaintext("gateway");
    let (gateway_grpc, gateway_http) = (gateway.grpc_addr(), gateway.http_addr());
    let mut stop = stop_rx.clone();
    let gateway_task = tokio::spawn(gateway.serve(async move {
        let _ = stop.wait_for(|stop| *stop).await;
    }));

    println!("\nLiên thông demo is running (plaintext, for development only).");
    for (name, grpc, admin) in &addresses {
        println!(
            "  {name:<20} gRPC http://{grpc}   metrics http://{admin}/metrics   health http://{admin}/healthz"
        );
    }
    println!(
        "  {:<20} gRPC http://{gateway_grpc}   HTTP http://{gateway_http}/api/v1/   metrics http://{gateway_http}/metrics",
        "Gateway"
    );
    println!("\nTry, in another terminal:");
    println!("  lienthong search experts \"nguyen xuan hai\" --gateway http://{gateway_grpc}");
    println!("  lienthong status --gateway http://{gateway_grpc}");
    println!("  curl 'http://{gateway_http}/api/v1/experts?q=nguyen&field=4&page_size=5'");
    println!("  lienthong search experts \"nguyen xuan hai\" --node http://127.0.0.1:7101");
    println!(
        "  lienthong search projects \"nghiên cứu lúa\" --status completed --node http://127.0.0.1:7102"
    );
    println!("  lienthong search experts dinh --field 4 --json --node http://127.0.0.1:7102");
    println!("  lienthong info --node http://127.0.0.1:7101");
    println!("  grpcurl -plaintext 127.0.0.1:7100 list        # server reflection");
    println!("\nPress Ctrl-C to stop.");

    shutdown_signal().await;
    println!("stopping: finishing calls in flight and closing the databases");
    let _ = stop_tx.send(true);
    gateway_task.await??;
    for task in tasks {
        task.await??;
    }
    Ok(())
}
