//! `lienthong gateway`: run the federation gateway, or manage its tokens.

use anyhow::Context;
use lienthong_gateway::auth::{TokenStore, UserRole};
use lienthong_gateway::{GatewayConfig, GatewayServer};
use lienthong_node::{shutdown_signal, telemetry};

use super::node::mode;
use crate::cli::{GatewayCommand, GatewayServeArgs, RoleArg, TokenCommand};
use crate::output;

pub async fn run(args: GatewayServeArgs) -> anyhow::Result<()> {
    match args.command {
        Some(GatewayCommand::Token(token)) => return tokens(token.command).await,
        None => {}
    }
    let path = args
        .config
        .context("--config is required to run the gateway")?;
    let config = GatewayConfig::load(&path)?;
    telemetry::init_tracing(&config.log);
    let server = GatewayServer::bind(config, mode(args.insecure_plaintext)).await?;
    server.serve(shutdown_signal()).await?;
    Ok(())
}

async fn open_tokens(config: &std::path::Path) -> anyhow::Result<TokenStore> {
    let config = GatewayConfig::load(config)?;
    let (pool, _) = lienthong_store::connect(config.database.url.expose(), 1).await?;
    Ok(TokenStore::open(pool).await?)
}

async fn tokens(command: TokenCommand) -> anyhow::Result<()> {
    match command {
        TokenCommand::Create {
            config,
            user,
            role,
            days,
            json,
        } => {
            let store = open_tokens(&config).await?;
            let role = match role {
                RoleArg::Viewer => UserRole::Viewer,
                RoleArg::Officer => UserRole::Officer,
                RoleArg::Admin => UserRole::Admin,
            };
            let valid_for = days.map(|days| time::Duration::days(i64::from(days)));
            let (token, info) = store.create(&user, role, valid_for).await?;
            if json {
                println!("{}", serde_json::json!({"token": token, "info": info}));
            } else {
                println!("{token}");
                eprintln!(
                    "token {} for {} ({}), expires {}. It is shown only now: hand it over \
                     securely; clients send it as \"Authorization: Bearer <token>\".",
                    info.id,
                    info.user,
                    info.role,
                    info.expires_at.as_deref().unwrap_or("never")
                );
            }
        }
        TokenCommand::List { config, json } => {
            let store = open_tokens(&config).await?;
            let list = store.list().await?;
            output::print(&list, json, || output::tokens_table(&list))?;
        }
        TokenCommand::Revoke { config, id } => {
            let store = open_tokens(&config).await?;
            let info = store.revoke(&id).await?;
            println!(
                "revoked token {} of {}; the gateway refuses it within auth.token_cache_seconds",
                info.id, info.user
            );
        }
    }
    Ok(())
}
