//! How the command line reaches a node or the gateway: mutual TLS with the
//! `--ca`, `--cert` and `--key` files (or their LIENTHONG_* variables), a
//! bearer token for the gateway, or plaintext behind `--insecure-plaintext`.

use anyhow::{Context, bail};
use lienthong_runtime::identity::{PeerIdentity, PeerRole};
use lienthong_runtime::tls::{ExpectedServer, Mode, NodeConnector, TlsFiles, Transport};
use tonic::metadata::MetadataValue;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::{Channel, Endpoint};

use crate::cli::ConnectArgs;

/// Adds `authorization: Bearer …` to every call when a token was given.
#[derive(Clone)]
pub struct BearerToken(Option<MetadataValue<tonic::metadata::Ascii>>);

impl tonic::service::Interceptor for BearerToken {
    fn call(
        &mut self,
        mut request: tonic::Request<()>,
    ) -> Result<tonic::Request<()>, tonic::Status> {
        if let Some(token) = &self.0 {
            request
                .metadata_mut()
                .insert("authorization", token.clone());
        }
        Ok(request)
    }
}

pub type AuthedChannel = InterceptedService<Channel, BearerToken>;

/// A channel to `address` (`https://host:port`, or `http://` with
/// `--insecure-plaintext`), carrying the token if one was given. Over TLS the
/// server's certificate must carry a federation identity of `role`, or exactly
/// `--server-identity` when it is given, so a certificate the CA issued to a
/// client or another kind of server cannot answer in its place.
pub async fn connect(
    address: &str,
    role: PeerRole,
    args: &ConnectArgs,
) -> anyhow::Result<AuthedChannel> {
    let transport = transport(address, args)?;
    let expected = match &args.server_identity {
        Some(text) => {
            let identity: PeerIdentity = text.parse().map_err(|error| {
                anyhow::anyhow!(
                    "--server-identity {text:?}: {error}; write role:name, e.g. node:hung-yen"
                )
            })?;
            if identity.role != role {
                bail!(
                    "--server-identity {identity} names a {}, but {address} is used as a {}",
                    identity.role.as_str(),
                    role.as_str()
                );
            }
            ExpectedServer::Exactly(identity)
        }
        None => ExpectedServer::Role(role),
    };
    let endpoint = Endpoint::from_shared(address.to_owned())
        .with_context(|| format!("{address:?} is not an address; use e.g. https://127.0.0.1:7101"))?
        .connect_timeout(std::time::Duration::from_secs(5))
        .timeout(std::time::Duration::from_secs(30));
    let channel = endpoint
        .connect_with_connector(NodeConnector::expecting(transport, expected))
        .await
        .with_context(|| {
            format!("cannot connect to {address}; is it running (lienthong demo), and is it the server you meant?")
        })?;
    let token = match &args.token {
        Some(token) => Some(
            MetadataValue::try_from(format!("Bearer {token}"))
                .context("--token holds characters that cannot be sent")?,
        ),
        None => None,
    };
    Ok(InterceptedService::new(channel, BearerToken(token)))
}

fn transport(address: &str, args: &ConnectArgs) -> anyhow::Result<Transport> {
    if address.starts_with("http://") {
        if !args.insecure_plaintext {
            bail!(
                "{address} is plaintext; use https:// with --ca/--cert/--key, or pass \
                 --insecure-plaintext to talk to a development server without TLS"
            );
        }
        return Ok(Transport::from_settings(
            None,
            Mode::InsecurePlaintext,
            None,
        )?);
    }
    let (Some(ca), Some(cert), Some(key)) = (&args.ca, &args.cert, &args.key) else {
        bail!(
            "connecting to {address} needs a client certificate: pass --ca, --cert and --key \
             (or set LIENTHONG_CA, LIENTHONG_CERT and LIENTHONG_KEY); `lienthong demo` prints them"
        );
    };
    let files = TlsFiles {
        ca_bundle: ca.clone(),
        certificate: cert.clone(),
        private_key: key.clone(),
        crls: args.crl.iter().cloned().collect(),
        reload_interval_seconds: 60.0,
    };
    Ok(Transport::from_settings(
        Some(&files),
        Mode::MutualTls,
        None,
    )?)
}
