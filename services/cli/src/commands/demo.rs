//! `lienthong demo`: two province nodes on this machine, with sample data,
//! each mirroring the other's task catalog; the national node (`quoc-gia`)
//! mirroring both; and the federation gateway in front of the provinces, all
//! over mutual TLS with a development PKI kept in the demo directory.

use std::path::Path;

use anyhow::Context;
use lienthong_gateway::auth::{TokenStore, UserRole, UserStore};
use lienthong_gateway::{GatewayConfig, GatewayServer};
use lienthong_node::config::LogConfig;
use lienthong_node::{NodeConfig, NodeServer, shutdown_signal, telemetry};
use lienthong_pki::{IssueRequest, Pki};
use lienthong_runtime::config_source::toml_string;
use lienthong_runtime::identity::PeerIdentity;
use lienthong_runtime::tls::{Mode, TlsFiles};
use lienthong_sample::SampleSpec;
use tokio::sync::watch;

use super::sample::{load_sample, profile_for};
use crate::cli::DemoArgs;

/// The gateway's gRPC and HTTPS ports.
const GATEWAY_GRPC_PORT: u16 = 7100;
const GATEWAY_HTTP_PORT: u16 = 8080;

/// One demo node.
struct DemoNode {
    id: &'static str,
    name: &'static str,
    grpc_port: u16,
    admin_port: u16,
    /// OAI-PMH (HTTPS) for harvesters.
    oai_port: u16,
    policy: &'static str,
    /// Gets sample data of its own (the national node holds mirrors only).
    sample: bool,
    /// `province` or `aggregator` (the national node).
    role: &'static str,
    /// (peer, kinds) this node follows through the peers' change feeds.
    follows: &'static [(&'static str, &'static str)],
}

const DEMO_NODES: [DemoNode; 3] = [
    DemoNode {
        id: "hung-yen",
        name: "Sở KH&CN Hưng Yên",
        grpc_port: 7101,
        admin_port: 9101,
        oai_port: 8441,
        policy: include_str!("../../../../deploy/policies/hung-yen.toml"),
        sample: true,
        role: "province",
        follows: &[("nam-dinh", r#"["project"]"#)],
    },
    DemoNode {
        id: "nam-dinh",
        name: "Sở KH&CN Nam Định",
        grpc_port: 7102,
        admin_port: 9102,
        oai_port: 8442,
        policy: include_str!("../../../../deploy/policies/nam-dinh.toml"),
        sample: true,
        role: "province",
        follows: &[("hung-yen", r#"["project"]"#)],
    },
    DemoNode {
        id: "quoc-gia",
        name: "Quốc gia (national node)",
        grpc_port: 7103,
        admin_port: 9103,
        oai_port: 8443,
        policy: include_str!("../../../../deploy/policies/quoc-gia.toml"),
        sample: false,
        role: "aggregator",
        follows: &[
            ("hung-yen", r#"["project", "expert", "publication"]"#),
            ("nam-dinh", r#"["project", "expert", "publication"]"#),
        ],
    },
];

/// A completed Nam Định task that a proposal check at Hưng Yên (from its
/// mirror) should flag: (node, local id, title).
const PLANTED_TASK: (&str, &str, &str) = (
    "nam-dinh",
    "DT-ND-2023-LUA-MAN",
    "Nghiên cứu chọn tạo giống lúa chịu mặn phù hợp vùng ven biển tỉnh Nam Định",
);
/// The proposal the demo suggests checking at Hưng Yên.
pub const DEMO_PROPOSAL: &str = "Chọn tạo giống lúa chịu mặn cho vùng ven biển tỉnh Hưng Yên";

fn planted_task() -> lienthong_records::AnyRecord {
    use lienthong_proto::v1 as pb;
    let (node, local, title) = PLANTED_TASK;
    lienthong_records::AnyRecord::Project(pb::Project {
        meta: Some(pb::RecordMeta {
            id: format!("{node}:project:{local}"),
            visibility: pb::Visibility::Public as i32,
            classification: pb::Classification::Normal as i32,
            ..Default::default()
        }),
        code: local.into(),
        title: title.into(),
        status: pb::ProjectStatus::Completed as i32,
        project_type: pb::ProjectType::Research as i32,
        management_level: pb::ManagementLevel::Province as i32,
        field_codes: vec!["40101".into()],
        objectives: "Chọn tạo 02 giống lúa chịu mặn năng suất cao cho các huyện ven biển.".into(),
        keywords: vec!["lúa chịu mặn".into(), "giống lúa".into(), "ven biển".into()],
        actual_start: "2021-01-01".into(),
        actual_end: "2023-06-30".into(),
        ..Default::default()
    })
}

/// The gRPC port of a demo node.
fn demo_port(id: &str) -> u16 {
    DEMO_NODES
        .iter()
        .find(|node| node.id == id)
        .map_or(0, |node| node.grpc_port)
}

/// The demo's command-line client: a system certificate the demo nodes'
/// policies grant searches to, and the gateway treats as an administrator.
const DEMO_CLIENT: &str = "system:demo-cli";
const DEMO_GATEWAY: &str = "gateway:national";

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
    let pki_dir = dir.join("pki");
    let pki = development_pki(&pki_dir)?;
    let client_files = TlsFiles::in_pki_dir(&pki_dir, &identity(DEMO_CLIENT)?);

    let (stop_tx, stop_rx) = watch::channel(false);
    let mut tasks = Vec::new();
    let mut addresses = Vec::new();
    for DemoNode {
        id,
        name,
        grpc_port,
        admin_port,
        oai_port,
        policy,
        sample,
        role,
        follows,
    } in DEMO_NODES
    {
        let follow_toml: String = follows
            .iter()
            .map(|(peer, kinds)| {
                format!(
                    "[[follow]]\npeer = \"{peer}\"\nendpoint = \"https://127.0.0.1:{}\"\nkinds = {kinds}\n",
                    demo_port(peer)
                )
            })
            .collect();
        let database = dir.join(format!("{id}.db"));
        let policy_path = dir.join(format!("{id}.policy.toml"));
        std::fs::write(
            &policy_path,
            format!(
                "{policy}\n# Added by `lienthong demo`: its command-line client may search.\n\
                 [[grant]]\npeers = [\"{DEMO_CLIENT}\"]\nrpcs = [\"info\", \"search\", \"get\"]\n\
                 kinds = [\"expert\", \"project\", \"publication\", \"organization\"]\n"
            ),
        )
        .with_context(|| format!("cannot write {}", policy_path.display()))?;
        let config_text = format!(
            "[node]\nid = \"{id}\"\ndisplay_name = \"{name}\"\nrole = \"{role}\"\n\
             [database]\nurl = {}\n\
             [grpc]\nlisten = \"127.0.0.1:{grpc_port}\"\n\
             [admin]\nlisten = \"127.0.0.1:{admin_port}\"\n\
             [oai]\nlisten = \"127.0.0.1:{oai_port}\"\nadmin_email = \"oai@{id}.lienthong.vn\"\n\
             [sharing]\npolicy = {}\n{}{follow_toml}",
            toml_string(&format!("sqlite://{}", database.display())),
            toml_path(&policy_path),
            TlsFiles::to_toml(&TlsFiles::in_pki_dir(
                &pki_dir,
                &identity(&format!("node:{id}"))?
            )),
        );
        let config = NodeConfig::from_toml(&config_text)?;
        write_config(&dir.join(format!("{id}.toml")), &config_text)?;
        // Fill the store before listening, so that no client waits on a node
        // that is still loading.
        let store = super::sample::open_store(&config).await?;
        if sample && store.counts(false).await?.experts == 0 {
            println!(
                "first run: generating sample data for {name} into {}",
                database.display()
            );
            load_sample(
                &store,
                SampleSpec::sized(profile_for(&config), args.experts),
            )
            .await?;
            if id == PLANTED_TASK.0 {
                store.upsert(vec![planted_task()]).await?;
            }
            store.analyze().await?;
        }
        store.close().await;
        let server = NodeServer::bind(config, Mode::MutualTls)
            .await
            .with_context(|| format!("cannot start the {name} node (is another demo running?)"))?;
        addresses.push((
            name,
            server.grpc_addr(),
            server.admin_addr(),
            server.oai_addr(),
        ));
        let mut stop = stop_rx.clone();
        tasks.push(tokio::spawn(server.serve(async move {
            let _ = stop.wait_for(|stop| *stop).await;
        })));
    }

    let gateway_database = dir.join("gateway.db");
    let mut gateway_toml = format!(
        "[gateway]\nid = \"national\"\n\
         [grpc]\nlisten = \"127.0.0.1:{GATEWAY_GRPC_PORT}\"\n\
         [http]\nlisten = \"127.0.0.1:{GATEWAY_HTTP_PORT}\"\n\
         [database]\nurl = {}\n\
         [auth.certificate_roles]\n\"{DEMO_CLIENT}\" = \"admin\"\n{}",
        toml_string(&format!("sqlite://{}", gateway_database.display())),
        TlsFiles::to_toml(&TlsFiles::in_pki_dir(&pki_dir, &identity(DEMO_GATEWAY)?)),
    );
    // The gateway asks the provinces; the national node holds mirrors.
    for (node, (_, grpc, _, _)) in DEMO_NODES
        .iter()
        .zip(&addresses)
        .filter(|(node, _)| node.sample)
    {
        let (id, name) = (node.id, node.name);
        gateway_toml.push_str(&format!(
            "[[nodes]]\nid = \"{id}\"\ndisplay_name = \"{name}\"\nendpoint = \"https://{grpc}\"\n"
        ));
    }
    let gateway_config_path = dir.join("gateway.toml");
    write_config(&gateway_config_path, &gateway_toml)?;
    let gateway = GatewayServer::bind(GatewayConfig::from_toml(&gateway_toml)?, Mode::MutualTls)
        .await
        .context("cannot start the gateway (is another demo running?)")?;
    let officer_token = TokenStore::open(gateway.database().clone())
        .await?
        .create(
            "demo-officer",
            UserRole::Officer,
            Some(time::Duration::days(1)),
        )
        .await?
        .0;
    // Web users for the pages, with a new password every run.
    let web_users = UserStore::open(gateway.database().clone()).await?;
    let mut web_logins = Vec::new();
    for (name, role) in [
        ("demo-officer", UserRole::Officer),
        ("demo-admin", UserRole::Admin),
    ] {
        let password = lienthong_gateway::auth::users::generate_password()?;
        if web_users.find(name).await?.is_some() {
            web_users.set_password(name, &password).await?;
            web_users.set_role(name, role).await?;
        } else {
            web_users.create(name, role, &password).await?;
        }
        web_logins.push((name, role, password));
    }
    let (gateway_grpc, gateway_http, gateway_admin) = (
        gateway.grpc_addr(),
        gateway.http_addr(),
        gateway.admin_addr(),
    );
    let mut stop = stop_rx.clone();
    let gateway_task = tokio::spawn(gateway.serve(async move {
        let _ = stop.wait_for(|stop| *stop).await;
    }));

    println!(
        "\nLiên thông demo is running over mutual TLS (development PKI in {}).",
        pki.dir().display()
    );
    for (name, grpc, admin, _) in &addresses {
        println!(
            "  {name:<20} gRPC https://{grpc}   metrics http://{admin}/metrics   health http://{admin}/healthz"
        );
    }
    println!("\nOAI-PMH base URLs (public records, for any standard harvester):");
    for (name, _, _, oai) in &addresses {
        if let Some(oai) = oai {
            println!("  {name:<20} https://{oai}/oai");
        }
    }
    println!(
        "  {:<20} gRPC https://{gateway_grpc}   HTTPS https://{gateway_http}/api/v1/   metrics http://{gateway_admin}/metrics",
        "Gateway"
    );
    println!(
        "\nWeb pages for department staff: https://{gateway_http}/  (the browser will warn about \
         the development CA; trust {} or accept the warning)",
        client_files.ca_bundle.display()
    );
    for (name, role, password) in &web_logins {
        println!("  sign in as {name:<13} password {password}   ({role})");
    }
    println!("\nIn another terminal, present the demo client certificate:");
    println!("  export LIENTHONG_CA={}", client_files.ca_bundle.display());
    println!(
        "  export LIENTHONG_CERT={}",
        client_files.certificate.display()
    );
    println!(
        "  export LIENTHONG_KEY={}",
        client_files.private_key.display()
    );
    println!("and try:");
    println!("  lienthong search experts \"nguyen xuan hai\" --gateway https://{gateway_grpc}");
    println!("  lienthong status --gateway https://{gateway_grpc}");
    println!("  lienthong search experts \"nguyen xuan hai\" --node https://127.0.0.1:7101");
    println!(
        "  lienthong search projects \"nghiên cứu lúa\" --status completed --node https://127.0.0.1:7102"
    );
    println!("  lienthong info --node https://127.0.0.1:7101");
    println!(
        "  lienthong sync status --config {}    # Nam Định's tasks mirrored at Hưng Yên",
        dir.join("hung-yen.toml").display()
    );
    println!(
        "  lienthong sync status --config {}    # both provinces mirrored at the national node",
        dir.join("quoc-gia.toml").display()
    );
    println!(
        "  lienthong check-proposal --config {} --title \"{DEMO_PROPOSAL}\"    # finds a Nam Định task",
        dir.join("hung-yen.toml").display()
    );
    println!(
        "  curl --cacert $LIENTHONG_CA -H 'Authorization: Bearer {officer_token}' \\\n       \
         'https://{gateway_http}/api/v1/experts?q=nguyen&field=4&page_size=5'"
    );
    println!(
        "  curl --cacert $LIENTHONG_CA 'https://127.0.0.1:8443/oai?verb=ListRecords&metadataPrefix=oai_cerif_openaire&set=openaire_cris_projects'"
    );
    println!(
        "  lienthong audit verify --config {}",
        gateway_config_path.display()
    );
    println!(
        "  lienthong audit export --config {} | tail -3",
        dir.join("hung-yen.toml").display()
    );
    println!(
        "(the officer token is valid for a day; more with `lienthong gateway token create --config {}`)",
        gateway_config_path.display()
    );
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

fn identity(text: &str) -> anyhow::Result<PeerIdentity> {
    text.parse().map_err(anyhow::Error::msg)
}

/// The demo's PKI: created on first run; certificates issued when missing.
fn development_pki(dir: &Path) -> anyhow::Result<Pki> {
    let pki = if dir.join("ca.key").exists() {
        Pki::open(dir)?
    } else {
        println!("first run: creating a development PKI in {}", dir.display());
        Pki::init(dir, "Liên thông demo CA (development only)", 3650)?
    };
    let hosts = vec!["localhost".to_owned(), "127.0.0.1".to_owned()];
    for name in [
        "node:hung-yen",
        "node:nam-dinh",
        "node:quoc-gia",
        DEMO_GATEWAY,
        DEMO_CLIENT,
    ] {
        let identity = identity(name)?;
        let files = TlsFiles::in_pki_dir(dir, &identity);
        if !files.certificate.exists() || !files.private_key.exists() {
            pki.issue(&IssueRequest::for_days(identity, hosts.clone(), 397))?;
        }
    }
    Ok(pki)
}

/// Writes a config the demo runs with, so the other commands can use it.
fn write_config(path: &Path, text: &str) -> anyhow::Result<()> {
    std::fs::write(
        path,
        format!("# Written by `lienthong demo` (it runs with this configuration).\n{text}"),
    )
    .with_context(|| format!("cannot write {}", path.display()))
}

fn toml_path(path: &Path) -> String {
    toml_string(&path.display().to_string())
}
