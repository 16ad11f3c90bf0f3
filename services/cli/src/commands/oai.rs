//! `lienthong oai token`: bearer tokens for OAI-PMH harvesters.

use anyhow::Context;
use base64::Engine;
use lienthong_runtime::identity::PeerIdentity;
use ring::rand::SecureRandom;

use crate::cli::{OaiArgs, OaiCommand};

pub fn run(args: OaiArgs) -> anyhow::Result<()> {
    match args.command {
        OaiCommand::Token { identity, json } => token(&identity, json),
    }
}

fn token(identity: &str, json: bool) -> anyhow::Result<()> {
    let identity: PeerIdentity = identity
        .parse()
        .map_err(|error| anyhow::anyhow!("--identity: {error}"))?;
    let mut bytes = [0u8; 32];
    ring::rand::SystemRandom::new()
        .fill(&mut bytes)
        .map_err(|_| anyhow::anyhow!("the system random number generator failed"))
        .context("cannot make a token")?;
    let token = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
    let hash: String = ring::digest::digest(&ring::digest::SHA256, token.as_bytes())
        .as_ref()
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect();
    if json {
        println!(
            "{}",
            serde_json::json!({"token": token, "identity": identity.to_string(), "token_sha256": hash})
        );
        return Ok(());
    }
    println!("Token for {identity} (give it to the harvester only; it is not stored):");
    println!("  {token}");
    println!("\nAdd to the node's config:");
    println!("[[oai.harvester]]\nidentity = \"{identity}\"\ntoken_sha256 = \"{hash}\"");
    println!(
        "\nand grant it in the sharing policy:\n[[grant]]\npeers = [\"{identity}\"]\n\
         rpcs = [\"harvest\"]\nkinds = [\"expert\", \"project\", \"publication\", \"organization\"]"
    );
    println!(
        "\nThe harvester sends: Authorization: Bearer <token>, e.g.\n  curl -H 'Authorization: \
         Bearer {token}' 'https://NODE:PORT/oai?verb=Identify'"
    );
    Ok(())
}
