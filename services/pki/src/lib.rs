//! The federation PKI behind `lienthong pki`: a root CA, leaf certificates
//! for nodes, gateways and clients that carry their federation identity as a
//! SAN URI (`urn:lienthong:node:hung-yen`), revocation, and CRLs.
//!
//! A PKI directory holds:
//!
//! | file | what |
//! |---|---|
//! | `ca.crt`, `ca.key` | the root CA (the key stays with whoever runs the federation CA) |
//! | `crl.pem` | the current CRL; servers reload it on change |
//! | `issued.json` | every certificate issued: serial, identity, validity, revocation |
//! | `ROLE/NAME.crt`, `ROLE/NAME.key` | a leaf certificate and its key |
//!
//! Keys are written with mode 0600, and every file is replaced atomically
//! (written beside, then renamed), so a server reloading never reads half a
//! file. A deployment with its own CA uses its files directly in `[tls]`.

#![forbid(unsafe_code)]

mod files;

use std::path::{Path, PathBuf};

use lienthong_runtime::identity::{PeerIdentity, PeerRole};
use rcgen::{
    BasicConstraints, CertificateParams, CertificateRevocationListParams, DistinguishedName,
    DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyIdMethod, KeyPair, KeyUsagePurpose,
    RevocationReason, RevokedCertParams, SanType, SerialNumber,
};
use serde::{Deserialize, Serialize};
use time::format_description::well_known::Rfc3339;
use time::{Duration, OffsetDateTime};

use files::{write_private, write_public};

/// Why a PKI operation failed.
#[derive(Debug, thiserror::Error)]
pub enum PkiError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{0}")]
    Usage(String),
    #[error("certificate generation failed: {0}")]
    Generate(#[from] rcgen::Error),
    #[error("{path} is damaged: {problem}")]
    Damaged { path: PathBuf, problem: String },
}

/// A certificate the CA issued.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct IssuedCertificate {
    /// Hexadecimal, as `openssl x509 -serial` prints it (upper case).
    pub serial: String,
    pub identity: PeerIdentity,
    /// DNS names and IP addresses the certificate is valid for as a server.
    pub hosts: Vec<String>,
    /// RFC 3339.
    pub not_before: String,
    pub not_after: String,
    /// RFC 3339, when revoked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revoked_at: Option<String>,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct Registry {
    /// Goes up by one with every CRL written.
    crl_number: u64,
    certificates: Vec<IssuedCertificate>,
}

/// What to issue.
#[derive(Debug, Clone)]
pub struct IssueRequest {
    pub identity: PeerIdentity,
    /// Server names (DNS or IP) for nodes and gateways; ignored for clients.
    pub hosts: Vec<String>,
    pub not_before: OffsetDateTime,
    pub not_after: OffsetDateTime,
}

impl IssueRequest {
    /// Valid from an hour ago (clock skew) for `days`.
    pub fn for_days(identity: PeerIdentity, hosts: Vec<String>, days: u32) -> IssueRequest {
        let now = OffsetDateTime::now_utc();
        IssueRequest {
            identity,
            hosts,
            not_before: now - Duration::hours(1),
            not_after: now + Duration::days(i64::from(days)),
        }
    }
}

/// Where an issued certificate and its key were written.
#[derive(Debug, Clone)]
pub struct IssuedFiles {
    pub certificate: IssuedCertificate,
    pub certificate_path: PathBuf,
    pub key_path: PathBuf,
}

/// A PKI directory.
pub struct Pki {
    dir: PathBuf,
}

/// How long a CRL is valid before `pki crl` must write a fresh one.
pub const CRL_VALIDITY_DAYS: i64 = 30;

impl Pki {
    /// Creates the root CA in `dir` (created if missing) and an empty CRL.
    /// Refuses to overwrite an existing CA.
    pub fn init(dir: &Path, common_name: &str, days: u32) -> Result<Pki, PkiError> {
        let pki = Pki {
            dir: dir.to_owned(),
        };
        if pki.ca_key_path().exists() {
            return Err(PkiError::Usage(format!(
                "{} already holds a CA; use another directory, or remove it to start over \
                 (every certificate it issued stops being trusted)",
                dir.display()
            )));
        }
        let key = KeyPair::generate()?;
        let now = OffsetDateTime::now_utc();
        let mut params = CertificateParams::default();
        params.distinguished_name = distinguished_name(common_name);
        params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
        params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        params.not_before = now - Duration::hours(1);
        params.not_after = now + Duration::days(i64::from(days));
        params.serial_number = Some(random_serial()?);
        let certificate = params.self_signed(&key)?;
        write_private(&pki.ca_key_path(), key.serialize_pem().as_bytes())?;
        write_public(&pki.ca_certificate_path(), certificate.pem().as_bytes())?;
        pki.save_registry(&Registry::default())?;
        pki.write_crl()?;
        Ok(pki)
    }

    /// Opens an existing PKI directory.
    pub fn open(dir: &Path) -> Result<Pki, PkiError> {
        let pki = Pki {
            dir: dir.to_owned(),
        };
        if !pki.ca_certificate_path().exists() || !pki.ca_key_path().exists() {
            return Err(PkiError::Usage(format!(
                "{} holds no CA (ca.crt and ca.key); run `lienthong pki init --dir {}` first",
                dir.display(),
                dir.display()
            )));
        }
        Ok(pki)
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }
    pub fn ca_certificate_path(&self) -> PathBuf {
        self.dir.join("ca.crt")
    }
    fn ca_key_path(&self) -> PathBuf {
        self.dir.join("ca.key")
    }
    pub fn crl_path(&self) -> PathBuf {
        self.dir.join("crl.pem")
    }
    fn registry_path(&self) -> PathBuf {
        self.dir.join("issued.json")
    }

    /// Issues a leaf certificate and writes it with its key under
    /// `ROLE/NAME.crt|key`, replacing an earlier one for the same identity
    /// (which stays valid until revoked).
    pub fn issue(&self, request: &IssueRequest) -> Result<IssuedFiles, PkiError> {
        if request.not_after <= request.not_before {
            return Err(PkiError::Usage(
                "the certificate would end before it starts".into(),
            ));
        }
        let identity = &request.identity;
        let is_client = matches!(identity.role, PeerRole::System | PeerRole::Staff);
        let hosts = if is_client {
            Vec::new()
        } else {
            request.hosts.clone()
        };
        let mut params = CertificateParams::default();
        params.distinguished_name = distinguished_name(&identity.to_string());
        params.subject_alt_names = vec![SanType::URI(ia5(&identity.to_uri())?)];
        for host in &hosts {
            params.subject_alt_names.push(match host.parse() {
                Ok(ip) => SanType::IpAddress(ip),
                Err(_) => SanType::DnsName(ia5(host)?),
            });
        }
        params.is_ca = IsCa::ExplicitNoCa;
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.extended_key_usages = if is_client {
            vec![ExtendedKeyUsagePurpose::ClientAuth]
        } else {
            vec![
                ExtendedKeyUsagePurpose::ServerAuth,
                ExtendedKeyUsagePurpose::ClientAuth,
            ]
        };
        params.not_before = request.not_before;
        params.not_after = request.not_after;
        let serial = random_serial()?;
        params.serial_number = Some(serial.clone());
        params.use_authority_key_identifier_extension = true;

        let key = KeyPair::generate()?;
        let ca_key = self.ca_key()?;
        let issuer = self.issuer(&ca_key)?;
        let certificate = params.signed_by(&key, &issuer)?;

        let stem = self.dir.join(identity.role.as_str()).join(&identity.name);
        let certificate_path = stem.with_extension("crt");
        let key_path = stem.with_extension("key");
        write_private(&key_path, key.serialize_pem().as_bytes())?;
        write_public(&certificate_path, certificate.pem().as_bytes())?;

        let issued = IssuedCertificate {
            serial: serial_hex(&serial),
            identity: identity.clone(),
            hosts,
            not_before: rfc3339(request.not_before),
            not_after: rfc3339(request.not_after),
            revoked_at: None,
        };
        let mut registry = self.load_registry()?;
        registry.certificates.push(issued.clone());
        self.save_registry(&registry)?;
        Ok(IssuedFiles {
            certificate: issued,
            certificate_path,
            key_path,
        })
    }

    /// Every certificate issued, oldest first.
    pub fn list(&self) -> Result<Vec<IssuedCertificate>, PkiError> {
        Ok(self.load_registry()?.certificates)
    }

    /// Marks `serial` revoked and writes a new CRL. Servers pick it up at
    /// their next reload; from then on the certificate is refused at every
    /// handshake.
    pub fn revoke(&self, serial: &str) -> Result<IssuedCertificate, PkiError> {
        let wanted = normalize_serial(serial);
        let mut registry = self.load_registry()?;
        let entry = registry
            .certificates
            .iter_mut()
            .find(|c| c.serial == wanted)
            .ok_or_else(|| {
                PkiError::Usage(format!(
                    "no certificate with serial {serial} in {}; `lienthong pki list` shows them",
                    self.registry_path().display()
                ))
            })?;
        if entry.revoked_at.is_none() {
            entry.revoked_at = Some(rfc3339(OffsetDateTime::now_utc()));
        }
        let revoked = entry.clone();
        self.save_registry(&registry)?;
        self.write_crl()?;
        Ok(revoked)
    }

    /// Writes a fresh CRL listing every revoked certificate, valid for
    /// [`CRL_VALIDITY_DAYS`].
    pub fn write_crl(&self) -> Result<PathBuf, PkiError> {
        let mut registry = self.load_registry()?;
        registry.crl_number += 1;
        let now = OffsetDateTime::now_utc();
        let mut revoked_certs = Vec::new();
        for certificate in &registry.certificates {
            let Some(revoked_at) = &certificate.revoked_at else {
                continue;
            };
            revoked_certs.push(RevokedCertParams {
                serial_number: parse_serial(&certificate.serial)
                    .ok_or_else(|| self.damaged(format!("bad serial {}", certificate.serial)))?,
                revocation_time: OffsetDateTime::parse(revoked_at, &Rfc3339)
                    .map_err(|error| self.damaged(format!("bad time {revoked_at}: {error}")))?,
                reason_code: Some(RevocationReason::Unspecified),
                invalidity_date: None,
            });
        }
        let params = CertificateRevocationListParams {
            this_update: now - Duration::minutes(5),
            next_update: now + Duration::days(CRL_VALIDITY_DAYS),
            crl_number: SerialNumber::from(registry.crl_number),
            issuing_distribution_point: None,
            revoked_certs,
            key_identifier_method: KeyIdMethod::Sha256,
        };
        let ca_key = self.ca_key()?;
        let issuer = self.issuer(&ca_key)?;
        let crl = params.signed_by(&issuer)?;
        write_public(&self.crl_path(), crl.pem()?.as_bytes())?;
        self.save_registry(&registry)?;
        Ok(self.crl_path())
    }

    fn ca_key(&self) -> Result<KeyPair, PkiError> {
        let pem = files::read_text(&self.ca_key_path())?;
        KeyPair::from_pem(&pem).map_err(|error| PkiError::Damaged {
            path: self.ca_key_path(),
            problem: error.to_string(),
        })
    }

    fn issuer<'a>(&self, key: &'a KeyPair) -> Result<Issuer<'a, &'a KeyPair>, PkiError> {
        let pem = files::read_text(&self.ca_certificate_path())?;
        Issuer::from_ca_cert_pem(&pem, key).map_err(|error| PkiError::Damaged {
            path: self.ca_certificate_path(),
            problem: error.to_string(),
        })
    }

    fn load_registry(&self) -> Result<Registry, PkiError> {
        let path = self.registry_path();
        if !path.exists() {
            return Ok(Registry::default());
        }
        let text = files::read_text(&path)?;
        serde_json::from_str(&text).map_err(|error| self.damaged(error.to_string()))
    }

    fn save_registry(&self, registry: &Registry) -> Result<(), PkiError> {
        let text = serde_json::to_string_pretty(registry)
            .map_err(|error| self.damaged(error.to_string()))?;
        write_public(&self.registry_path(), text.as_bytes())
    }

    fn damaged(&self, problem: String) -> PkiError {
        PkiError::Damaged {
            path: self.registry_path(),
            problem,
        }
    }
}

fn distinguished_name(common_name: &str) -> DistinguishedName {
    let mut name = DistinguishedName::new();
    name.push(DnType::OrganizationName, "Liên thông federation");
    name.push(DnType::CommonName, common_name);
    name
}

fn ia5(text: &str) -> Result<rcgen::string::Ia5String, PkiError> {
    text.try_into()
        .map_err(|_| PkiError::Usage(format!("{text:?} must be plain ASCII")))
}

/// 16 random bytes, positive.
fn random_serial() -> Result<SerialNumber, PkiError> {
    use ring::rand::SecureRandom;
    let mut bytes = [0u8; 16];
    ring::rand::SystemRandom::new()
        .fill(&mut bytes)
        .map_err(|_| PkiError::Usage("the system random number generator failed".into()))?;
    bytes[0] = (bytes[0] & 0x7f) | 0x10;
    Ok(SerialNumber::from_slice(&bytes))
}

fn serial_hex(serial: &SerialNumber) -> String {
    serial
        .to_bytes()
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect()
}

/// Accepts `0a:1b…`, `0A1B…` and `0x0a1b…`.
fn normalize_serial(serial: &str) -> String {
    serial
        .trim()
        .trim_start_matches("0x")
        .replace(':', "")
        .to_ascii_uppercase()
}

fn parse_serial(hex: &str) -> Option<SerialNumber> {
    if !hex.len().is_multiple_of(2) {
        return None;
    }
    let bytes = (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(hex.get(i..i + 2)?, 16).ok())
        .collect::<Option<Vec<u8>>>()?;
    Some(SerialNumber::from_slice(&bytes))
}

fn rfc3339(at: OffsetDateTime) -> String {
    at.format(&Rfc3339).unwrap_or_else(|_| at.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn identity(text: &str) -> PeerIdentity {
        text.parse().unwrap()
    }

    #[test]
    fn issues_revokes_and_lists() {
        let dir = tempfile::tempdir().unwrap();
        let pki = Pki::init(dir.path(), "Test root", 30).unwrap();
        assert!(
            Pki::init(dir.path(), "again", 30).is_err(),
            "never overwrite a CA"
        );
        let issued = pki
            .issue(&IssueRequest::for_days(
                identity("node:hung-yen"),
                vec!["localhost".into(), "127.0.0.1".into()],
                30,
            ))
            .unwrap();
        assert!(issued.certificate_path.ends_with("node/hung-yen.crt"));
        let revoked = pki
            .revoke(&issued.certificate.serial.to_lowercase())
            .unwrap();
        assert!(revoked.revoked_at.is_some());
        let listed = pki.list().unwrap();
        assert_eq!(listed.len(), 1);
        assert_eq!(listed[0].serial, issued.certificate.serial);
        assert!(pki.revoke("00FF").is_err());
    }

    #[cfg(unix)]
    #[test]
    fn keys_are_private() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let pki = Pki::init(dir.path(), "Test root", 30).unwrap();
        let issued = pki
            .issue(&IssueRequest::for_days(identity("staff:an"), vec![], 30))
            .unwrap();
        for key in [dir.path().join("ca.key"), issued.key_path] {
            let mode = std::fs::metadata(&key).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600, "{}", key.display());
        }
    }

    #[test]
    fn serials_round_trip() {
        let serial = random_serial().unwrap();
        let hex = serial_hex(&serial);
        assert_eq!(parse_serial(&hex), Some(serial));
        assert_eq!(normalize_serial("0a:1b"), "0A1B");
    }
}
