//! `lienthong pki`: the federation CA, certificates, revocation and CRLs.

use lienthong_pki::{IssueRequest, Pki};
use lienthong_runtime::identity::{PeerIdentity, PeerRole};

use crate::cli::{ClientRole, IssueWhat, PkiArgs, PkiCommand};
use crate::output;

pub fn run(args: PkiArgs) -> anyhow::Result<()> {
    let dir = args.dir;
    match args.command {
        PkiCommand::Init { name, days } => {
            let pki = Pki::init(&dir, &name, days)?;
            println!(
                "created the federation CA in {}:\n  {}  give to every member (tls.ca_bundle)\n  \
                 {}  the CA key (mode 0600): keep it offline\n  {}  the CRL (tls.crls)",
                dir.display(),
                pki.ca_certificate_path().display(),
                dir.join("ca.key").display(),
                pki.crl_path().display()
            );
        }
        PkiCommand::Issue { what } => {
            let pki = Pki::open(&dir)?;
            let request = match what {
                IssueWhat::Node(server) => IssueRequest::for_days(
                    PeerIdentity::new(PeerRole::Node, &server.name).map_err(anyhow::Error::msg)?,
                    server.hosts,
                    server.days,
                ),
                IssueWhat::Gateway(server) => IssueRequest::for_days(
                    PeerIdentity::new(PeerRole::Gateway, &server.name)
                        .map_err(anyhow::Error::msg)?,
                    server.hosts,
                    server.days,
                ),
                IssueWhat::Client { name, role, days } => {
                    let role = match role {
                        ClientRole::System => PeerRole::System,
                        ClientRole::Staff => PeerRole::Staff,
                    };
                    IssueRequest::for_days(
                        PeerIdentity::new(role, &name).map_err(anyhow::Error::msg)?,
                        Vec::new(),
                        days,
                    )
                }
            };
            let issued = pki.issue(&request)?;
            println!(
                "issued {} (serial {}), valid until {}\n  certificate  {}\n  private key  {} (mode 0600)",
                issued.certificate.identity.to_uri(),
                issued.certificate.serial,
                issued.certificate.not_after,
                issued.certificate_path.display(),
                issued.key_path.display()
            );
        }
        PkiCommand::Revoke { serial } => {
            let pki = Pki::open(&dir)?;
            let revoked = pki.revoke(&serial)?;
            println!(
                "revoked {} (serial {}); wrote {}. Copy it to every server's tls.crls path: \
                 they reload it within tls.reload_interval_seconds (or on SIGHUP).",
                revoked.identity,
                revoked.serial,
                pki.crl_path().display()
            );
        }
        PkiCommand::Crl => {
            let pki = Pki::open(&dir)?;
            let path = pki.write_crl()?;
            println!(
                "wrote {} (valid {} days)",
                path.display(),
                lienthong_pki::CRL_VALIDITY_DAYS
            );
        }
        PkiCommand::List { json } => {
            let pki = Pki::open(&dir)?;
            let list = pki.list()?;
            output::print(&list, json, || output::certificates_table(&list))?;
        }
    }
    Ok(())
}
