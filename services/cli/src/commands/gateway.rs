//! `lienthong gateway`: run the federation gateway, or manage its tokens.

use anyhow::Context;
use lienthong_gateway::auth::{SessionStore, TokenStore, UserRole, UserStore};
use lienthong_gateway::{GatewayConfig, GatewayServer};
use lienthong_node::{shutdown_signal, telemetry};

use super::node::mode;
use crate::cli::{GatewayCommand, GatewayServeArgs, RoleArg, TokenCommand, UserCommand};
use crate::output;

pub async fn run(args: GatewayServeArgs) -> anyhow::Result<()> {
    match args.command {
        Some(GatewayCommand::Token(token)) => return tokens(token.command).await,
        Some(GatewayCommand::User(user)) => return users(user.command).await,
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
            let role = user_role(role);
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

fn user_role(role: RoleArg) -> UserRole {
    match role {
        RoleArg::Viewer => UserRole::Viewer,
        RoleArg::Officer => UserRole::Officer,
        RoleArg::Admin => UserRole::Admin,
    }
}

/// The user and session tables of the gateway's database.
async fn open_users(config: &std::path::Path) -> anyhow::Result<(UserStore, SessionStore)> {
    let config = GatewayConfig::load(config)?;
    let (pool, _) = lienthong_store::connect(config.database.url.expose(), 1).await?;
    let lifetime = config.auth.session_lifetime().map_err(anyhow::Error::msg)?;
    Ok((
        UserStore::open(pool.clone()).await?,
        SessionStore::open(pool, lifetime).await?,
    ))
}

/// The password from standard input's first line, or a generated one
/// (printed once).
fn password(from_stdin: bool) -> anyhow::Result<(String, bool)> {
    if from_stdin {
        let mut line = String::new();
        std::io::stdin()
            .read_line(&mut line)
            .context("cannot read the password from standard input")?;
        Ok((line.trim_end_matches(['\r', '\n']).to_owned(), false))
    } else {
        Ok((lienthong_gateway::auth::users::generate_password()?, true))
    }
}

async fn users(command: UserCommand) -> anyhow::Result<()> {
    match command {
        UserCommand::Add {
            config,
            user,
            role,
            password_stdin,
        } => {
            let (users, _) = open_users(&config).await?;
            let (password, generated) = password(password_stdin)?;
            let info = users.create(&user, user_role(role), &password).await?;
            if generated {
                println!("{password}");
            }
            eprintln!(
                "user {} ({}) added; they sign in at the gateway's https://…/sign-in{}",
                info.name,
                info.role,
                if generated {
                    " with the password above, shown only now"
                } else {
                    ""
                }
            );
        }
        UserCommand::List { config, json } => {
            let (users, _) = open_users(&config).await?;
            let list = users.list().await?;
            output::print(&list, json, || output::users_table(&list))?;
        }
        UserCommand::SetRole { config, user, role } => {
            let (users, sessions) = open_users(&config).await?;
            let info = users.set_role(&user, user_role(role)).await?;
            let ended = sessions.delete_for_user(&info.name).await?;
            println!(
                "{} is now {}; {ended} open session(s) ended",
                info.name, info.role
            );
        }
        UserCommand::Password {
            config,
            user,
            password_stdin,
        } => {
            let (users, sessions) = open_users(&config).await?;
            let (password, generated) = password(password_stdin)?;
            let info = users.set_password(&user, &password).await?;
            let ended = sessions.delete_for_user(&info.name).await?;
            if generated {
                println!("{password}");
            }
            eprintln!(
                "new password set for {}; {ended} open session(s) ended",
                info.name
            );
        }
        UserCommand::Disable { config, user } => {
            let (users, sessions) = open_users(&config).await?;
            let info = users.set_disabled(&user, true).await?;
            let ended = sessions.delete_for_user(&info.name).await?;
            println!("{} disabled; {ended} open session(s) ended", info.name);
        }
        UserCommand::Enable { config, user } => {
            let (users, _) = open_users(&config).await?;
            let info = users.set_disabled(&user, false).await?;
            println!("{} enabled", info.name);
        }
    }
    Ok(())
}
