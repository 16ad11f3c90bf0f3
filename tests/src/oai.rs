//! Harvesting a node's `/oai` in tests: HTTPS requests with or without a
//! client certificate or a bearer token, and schema validation of every
//! answer with `xmllint` against the vendored schemas (`tests/oai/`).
//!
//! Without `xmllint` the validation is skipped with a notice, unless
//! `LIENTHONG_REQUIRE_XMLLINT` is set (as CI does), when it fails.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use lienthong_runtime::tls::TlsFiles;

use crate::secure::{raw_client_config, raw_tls};

/// One answer of the endpoint.
#[derive(Debug, Clone)]
pub struct OaiResponse {
    pub status: u16,
    /// Header lines, as sent.
    pub headers: String,
    pub body: String,
}

impl OaiResponse {
    /// The value of header `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<String> {
        self.headers.lines().find_map(|line| {
            let (key, value) = line.split_once(':')?;
            key.trim()
                .eq_ignore_ascii_case(name)
                .then(|| value.trim().to_owned())
        })
    }
}

/// How a test harvester presents itself.
#[derive(Clone, Copy)]
pub enum Credentials<'a> {
    None,
    Certificate(&'a TlsFiles),
    Bearer(&'a str),
}

/// Sends one request (`GET /oai?query`, or a POST of `form`) over TLS,
/// trusting `ca`.
pub async fn request(
    address: SocketAddr,
    ca: &Path,
    credentials: Credentials<'_>,
    query: &str,
    form: Option<&str>,
) -> OaiResponse {
    match form {
        None => {
            exchange(
                address,
                ca,
                credentials,
                &format!("GET /oai?{query} HTTP/1.1\r\n"),
                "",
            )
            .await
        }
        Some(form) => {
            let headers = format!(
                "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n",
                form.len()
            );
            exchange(
                address,
                ca,
                credentials,
                &format!("POST /oai HTTP/1.1\r\n{headers}"),
                form,
            )
            .await
        }
    }
}

/// Sends `head` (request line and any headers) and `body` over a new TLS
/// connection, with the credentials' certificate or token.
async fn exchange(
    address: SocketAddr,
    ca: &Path,
    credentials: Credentials<'_>,
    head: &str,
    body: &str,
) -> OaiResponse {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    let client = match credentials {
        Credentials::Certificate(files) => Some(files),
        _ => None,
    };
    let config = raw_client_config(ca, client, &[b"http/1.1"]);
    let mut stream = raw_tls(address, config).await.expect("TLS handshake");
    let authorization = match credentials {
        Credentials::Bearer(token) => format!("Authorization: Bearer {token}\r\n"),
        _ => String::new(),
    };
    let request =
        format!("{head}Host: 127.0.0.1\r\n{authorization}Connection: close\r\n\r\n{body}");
    stream.write_all(request.as_bytes()).await.expect("send");
    let mut response = Vec::new();
    let _ = stream.read_to_end(&mut response).await;
    let text = String::from_utf8(response).expect("UTF-8 answer");
    let (head, body) = text.split_once("\r\n\r\n").expect("HTTP head");
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .expect("status line");
    OaiResponse {
        status,
        headers: head.to_owned(),
        body: body.to_owned(),
    }
}

/// `GET path` (any path of the listener).
pub async fn request_path(
    address: SocketAddr,
    ca: &Path,
    credentials: Credentials<'_>,
    path: &str,
) -> OaiResponse {
    exchange(
        address,
        ca,
        credentials,
        &format!("GET {path} HTTP/1.1\r\n"),
        "",
    )
    .await
}

/// `POST path` with `body` of `content_type` (any path of the listener).
pub async fn post(
    address: SocketAddr,
    ca: &Path,
    credentials: Credentials<'_>,
    path: &str,
    content_type: &str,
    body: &str,
) -> OaiResponse {
    let head = format!(
        "POST {path} HTTP/1.1\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n",
        body.len()
    );
    exchange(address, ca, credentials, &head, body).await
}

/// Anonymous `GET /oai?query`.
pub async fn get(address: SocketAddr, ca: &Path, query: &str) -> OaiResponse {
    request(address, ca, Credentials::None, query, None).await
}

fn schema_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("oai")
}

/// Whether `xmllint` runs here; fails when CI requires it and it does not.
pub fn xmllint_available() -> bool {
    let found = std::process::Command::new("xmllint")
        .arg("--version")
        .output()
        .is_ok_and(|output| output.status.success());
    if !found {
        if std::env::var_os("LIENTHONG_REQUIRE_XMLLINT").is_some() {
            panic!("LIENTHONG_REQUIRE_XMLLINT is set but xmllint is not installed (libxml2-utils)");
        }
        eprintln!("notice: xmllint not installed; OAI-PMH schema validation skipped");
    }
    found
}

/// Validates one OAI-PMH response against OAI-PMH.xsd with every payload
/// schema (oai_dc, oai-identifier, the OpenAIRE CERIF profile 1.2),
/// offline. `Err` holds xmllint's complaints.
pub fn validate(xml: &str) -> Result<(), String> {
    let dir = schema_dir();
    let mut file = tempfile::Builder::new()
        .suffix(".xml")
        .tempfile()
        .expect("temporary file");
    std::io::Write::write_all(&mut file, xml.as_bytes()).expect("write the answer");
    let output = std::process::Command::new("xmllint")
        .arg("--noout")
        .arg("--nonet")
        .arg("--schema")
        .arg(dir.join("validate.xsd"))
        .arg(file.path())
        .env("XML_CATALOG_FILES", dir.join("schemas/catalog.xml"))
        .output()
        .expect("run xmllint");
    if output.status.success() {
        return Ok(());
    }
    let complaints: Vec<String> = String::from_utf8_lossy(&output.stderr)
        .lines()
        .filter(|line| {
            !line.contains("namespace warning")
                && !line.contains("Skipping import")
                && !line.starts_with(char::is_whitespace)
                && !line.trim().is_empty()
                && !line.trim().starts_with('^')
        })
        .map(str::to_owned)
        .collect();
    Err(complaints.join("\n"))
}

/// The text of every `<tag>` element in `xml` (no nesting of `tag` in itself).
pub fn texts_of(xml: &str, tag: &str) -> Vec<String> {
    let open = format!("<{tag}");
    let close = format!("</{tag}>");
    let mut found = Vec::new();
    let mut rest = xml;
    while let Some(start) = rest.find(&open) {
        let after = &rest[start + open.len()..];
        // `<tag>` or `<tag attr…>`, not `<tagOther>`.
        if !after.starts_with(['>', ' ', '/']) {
            rest = after;
            continue;
        }
        let Some(end_of_open) = after.find('>') else {
            break;
        };
        if after[..end_of_open].ends_with('/') {
            found.push(String::new());
            rest = &after[end_of_open + 1..];
            continue;
        }
        let body = &after[end_of_open + 1..];
        let Some(end) = body.find(&close) else { break };
        found.push(unescape(&body[..end]));
        rest = &body[end + close.len()..];
    }
    found
}

/// The value of `attribute` on the first `<tag …>` in `xml`.
pub fn attribute_of(xml: &str, tag: &str, attribute: &str) -> Option<String> {
    let start = xml
        .find(&format!("<{tag} "))
        .or_else(|| xml.find(&format!("<{tag}>")))?;
    let open = &xml[start..start + xml[start..].find('>')?];
    let key = format!(" {attribute}=\"");
    let value_start = open.find(&key)? + key.len();
    let value_end = open[value_start..].find('"')?;
    Some(unescape(&open[value_start..value_start + value_end]))
}

fn unescape(text: &str) -> String {
    text.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&amp;", "&")
}

/// The rules of the OpenAIRE CERIF profile's Schematron
/// (`schemas/cerif-openaire-1.2/openaire-cerif-profile.sch`, XPath 2, which
/// xmllint cannot run), checked on `xml`: what each broken rule says.
///
/// 1. An `OAMandate` with a `uri` is `mandated="true"`.
/// 2. An `Access` has no `startDate`.
/// 3. An embargoed `Access` (`…/c_f1cf`) has an `endDate`,
/// 4. and only an embargoed one has.
/// 5. An element with `startDate` and `endDate` (both dates, not times)
///    does not start after the end of its end period.
pub fn schematron_violations(xml: &str) -> Vec<String> {
    const EMBARGOED: &str = "http://purl.org/coar/access_right/c_f1cf";
    let mut violations = Vec::new();
    let mut rest = xml;
    while let Some(start) = rest.find('<') {
        rest = &rest[start + 1..];
        if rest.starts_with(['/', '?', '!']) {
            continue;
        }
        let Some(end) = rest.find('>') else { break };
        let tag = &rest[..end];
        let text = rest[end + 1..].split('<').next().unwrap_or_default().trim();
        let name = tag
            .split(|c: char| c.is_whitespace() || c == '/')
            .next()
            .unwrap_or_default();
        let local = name.rsplit(':').next().unwrap_or(name);
        let attribute = |key: &str| {
            let needle = format!(" {key}=\"");
            tag.find(&needle).map(|at| {
                let value = &tag[at + needle.len()..];
                value[..value.find('"').unwrap_or(value.len())].to_owned()
            })
        };
        let (start_date, end_date) = (attribute("startDate"), attribute("endDate"));
        if local == "OAMandate"
            && attribute("uri").is_some()
            && attribute("mandated").as_deref() != Some("true")
        {
            violations.push(format!("OAMandate with a uri is not mandated: <{tag}>"));
        }
        if local == "Access" {
            if start_date.is_some() {
                violations.push(format!("Access has a startDate: <{tag}>"));
            }
            if text == EMBARGOED && end_date.is_none() {
                violations.push(format!("embargoed Access without endDate: <{tag}>"));
            }
            if end_date.is_some() && text != EMBARGOED {
                violations.push(format!("endDate on an Access not embargoed: <{tag}>"));
            }
        }
        if let (Some(from), Some(to)) = (&start_date, &end_date)
            && let Some(true) = starts_after_end(from, to)
        {
            violations.push(format!("starts after it ends: <{tag}>"));
        }
    }
    violations
}

/// Rule 5: `None` when the rule does not apply (times, or other forms).
fn starts_after_end(from: &str, to: &str) -> Option<bool> {
    let plain = |value: &str| !value.contains(['Z', ':']);
    if from.len() > 10 || !plain(from) || !plain(to) || ![4, 7, 10].contains(&to.len()) {
        return None;
    }
    let day = |text: &str| {
        let format = time::macros::format_description!("[year]-[month]-[day]");
        time::Date::parse(text, format).ok()
    };
    let start = day(&format!("{from}-01-01")[..10])?;
    let end = day(&format!("{to}-01-01")[..10])?;
    let end_of_period = match to.len() {
        4 => end.replace_year(end.year() + 1).ok()?,
        7 => {
            let (year, month) = match end.month() {
                time::Month::December => (end.year() + 1, time::Month::January),
                month => (end.year(), month.next()),
            };
            time::Date::from_calendar_date(year, month, 1).ok()?
        }
        _ => end.next_day()?,
    };
    Some(start > end_of_period)
}

/// The guidelines' own example responses (`tests/oai/samples/`): name and text.
pub fn official_samples() -> Vec<(String, String)> {
    let dir = schema_dir().join("samples");
    let mut samples: Vec<(String, String)> = std::fs::read_dir(&dir)
        .expect("tests/oai/samples")
        .map(|entry| {
            let path = entry.expect("entry").path();
            let name = path
                .file_name()
                .expect("name")
                .to_string_lossy()
                .into_owned();
            (name, std::fs::read_to_string(&path).expect("sample"))
        })
        .collect();
    samples.sort();
    samples
}
