//! Harness for the web pages: a browser-like HTTPS client with a cookie jar
//! (no client certificate unless given), and a federation of two secure
//! nodes behind a secure gateway with web users.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use lienthong_gateway::auth::{UserRole, UserStore};
use lienthong_runtime::tls::TlsFiles;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::secure::{SecureGateway, SecureNode, TestPki, raw_client_config, raw_tls};
use crate::{TestDatabase, load, sample_records};

/// A node policy granting the gateway every kind and personal field.
pub const WEB_POLICY: &str = r#"
[[grant]]
peers = ["gateway:national"]
rpcs = ["info", "search", "get", "statistics"]
kinds = ["expert", "project", "publication", "organization"]
personal_fields = ["email", "phone", "birth_year"]

[[grant]]
peers = ["node:hung-yen", "system:prober"]
rpcs = ["info", "changes"]
kinds = ["project"]
"#;

/// Password of every user [`WebFederation::user`] creates.
pub const PASSWORD: &str = "mật khẩu đủ dài 2026";

/// One HTTP answer.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    /// Header names lowercased; repeated headers (Set-Cookie) joined by "\n".
    pub headers: BTreeMap<String, String>,
    pub body: String,
}

impl Answer {
    pub fn header(&self, name: &str) -> &str {
        self.headers.get(name).map_or("", String::as_str)
    }

    /// The `Location` of a redirect.
    pub fn location(&self) -> &str {
        self.header("location")
    }
}

/// A browser-like client: HTTPS without a client certificate (or with
/// one), a cookie jar, the Origin header browsers send on posts.
pub struct WebClient {
    address: SocketAddr,
    config: Arc<rustls::ClientConfig>,
    pub cookies: BTreeMap<String, String>,
}

impl WebClient {
    pub fn new(address: SocketAddr, ca: &std::path::Path, certificate: Option<&TlsFiles>) -> Self {
        WebClient {
            address,
            config: raw_client_config(ca, certificate, &[b"http/1.1"]),
            cookies: BTreeMap::new(),
        }
    }

    /// The Origin a page of the gateway sends.
    pub fn origin(&self) -> String {
        format!("https://127.0.0.1:{}", self.address.port())
    }

    pub async fn get(&mut self, path: &str) -> Answer {
        self.request("GET", path, &[], "").await
    }

    /// A form post from one of the gateway's own pages.
    pub async fn post(&mut self, path: &str, fields: &[(&str, &str)]) -> Answer {
        let origin = self.origin();
        self.post_from(path, fields, Some(&origin)).await
    }

    /// A form post with the given Origin header (or none).
    pub async fn post_from(
        &mut self,
        path: &str,
        fields: &[(&str, &str)],
        origin: Option<&str>,
    ) -> Answer {
        let mut body = form_urlencoded::Serializer::new(String::new());
        for (key, value) in fields {
            body.append_pair(key, value);
        }
        let body = body.finish();
        let mut headers = vec![(
            "Content-Type",
            "application/x-www-form-urlencoded".to_owned(),
        )];
        if let Some(origin) = origin {
            headers.push(("Origin", origin.to_owned()));
        }
        self.request("POST", path, &headers, &body).await
    }

    /// Sends one request with the jar's cookies; keeps the cookies set.
    pub async fn request(
        &mut self,
        method: &str,
        path: &str,
        headers: &[(&str, String)],
        body: &str,
    ) -> Answer {
        let mut stream = raw_tls(self.address, self.config.clone())
            .await
            .expect("TLS handshake with the gateway");
        let mut request = format!(
            "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nConnection: close\r\n",
            self.address.port()
        );
        if !self.cookies.is_empty() {
            let jar: Vec<String> = self
                .cookies
                .iter()
                .map(|(name, value)| format!("{name}={value}"))
                .collect();
            request.push_str(&format!("Cookie: {}\r\n", jar.join("; ")));
        }
        for (name, value) in headers {
            request.push_str(&format!("{name}: {value}\r\n"));
        }
        request.push_str(&format!("Content-Length: {}\r\n\r\n{body}", body.len()));
        stream.write_all(request.as_bytes()).await.expect("send");
        let mut raw = Vec::new();
        let _ = stream.read_to_end(&mut raw).await;
        let text = String::from_utf8_lossy(&raw).into_owned();
        let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
        let mut lines = head.lines();
        let status = lines
            .next()
            .and_then(|line| line.split_whitespace().nth(1))
            .and_then(|code| code.parse().ok())
            .expect("HTTP status line");
        let mut headers: BTreeMap<String, String> = BTreeMap::new();
        for line in lines {
            if let Some((name, value)) = line.split_once(':') {
                let name = name.trim().to_ascii_lowercase();
                let value = value.trim().to_owned();
                headers
                    .entry(name)
                    .and_modify(|existing| {
                        existing.push('\n');
                        existing.push_str(&value);
                    })
                    .or_insert(value);
            }
        }
        if let Some(set) = headers.get("set-cookie") {
            for cookie in set.lines() {
                let pair = cookie.split(';').next().unwrap_or_default();
                if let Some((name, value)) = pair.split_once('=') {
                    let removed = cookie.contains("Max-Age=0") || value.is_empty();
                    if removed {
                        self.cookies.remove(name.trim());
                    } else {
                        self.cookies
                            .insert(name.trim().to_owned(), value.trim().to_owned());
                    }
                }
            }
        }
        Answer {
            status,
            headers,
            body: body.to_owned(),
        }
    }

    /// Opens the sign-in page and signs in; returns the answer to the post.
    pub async fn sign_in(&mut self, user: &str, password: &str) -> Answer {
        let page = self.get("/sign-in").await;
        assert_eq!(page.status, 200, "{}", page.body);
        let token = hidden_value(&page.body, "csrf").expect("the sign-in form's token");
        self.post(
            "/sign-in",
            &[
                ("csrf", &token),
                ("user", user),
                ("password", password),
                ("next", "/search"),
            ],
        )
        .await
    }

    /// The CSRF token on a signed-in page.
    pub async fn csrf_token(&mut self) -> String {
        let page = self.get("/search").await;
        hidden_value(&page.body, "csrf").expect("a signed-in page carries a CSRF token")
    }
}

/// The value of the first hidden input named `name` in `html`.
pub fn hidden_value(html: &str, name: &str) -> Option<String> {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html.find(&marker)? + marker.len();
    let end = html[start..].find('"')?;
    Some(html[start..start + end].replace("&amp;", "&"))
}

/// Two provinces over mutual TLS with sample data, and the gateway.
pub struct WebFederation {
    pub pki: TestPki,
    pub hung_yen: Option<SecureNode>,
    pub nam_dinh: Option<SecureNode>,
    pub gateway: SecureGateway,
    _databases: (TestDatabase, TestDatabase),
}

impl WebFederation {
    /// `experts` sample experts per province, `extra` more records for
    /// Hưng Yên, and `gateway_toml` added to the gateway's config.
    pub async fn start(
        experts: u64,
        extra: Vec<lienthong_records::AnyRecord>,
        gateway_toml: &str,
    ) -> WebFederation {
        WebFederation::launch(experts, extra, gateway_toml, false).await
    }

    /// As [`WebFederation::start`], with Hưng Yên mirroring Nam Định's tasks.
    pub async fn start_following(experts: u64) -> WebFederation {
        WebFederation::launch(experts, Vec::new(), "", true).await
    }

    async fn launch(
        experts: u64,
        extra: Vec<lienthong_records::AnyRecord>,
        gateway_toml: &str,
        follow: bool,
    ) -> WebFederation {
        let pki = TestPki::new();
        let (hy_db, nd_db) = (TestDatabase::sqlite(), TestDatabase::sqlite());
        let nam_dinh = SecureNode::start(&pki, "nam-dinh", &nd_db, WEB_POLICY).await;
        let follow_toml = if follow {
            format!(
                "[[follow]]\npeer = \"nam-dinh\"\nendpoint = \"{}\"\n[sync]\ninterval_ms = 50\n",
                nam_dinh.url()
            )
        } else {
            String::new()
        };
        let hung_yen =
            SecureNode::start_with(&pki, "hung-yen", &hy_db.url, WEB_POLICY, &follow_toml).await;
        let mut hung_yen_records = sample_records("hung-yen", experts);
        hung_yen_records.extend(extra);
        load(&hung_yen.store, hung_yen_records).await;
        load(&nam_dinh.store, sample_records("nam-dinh", experts)).await;
        let gateway = SecureGateway::start(
            &pki,
            &[("hung-yen", hung_yen.url()), ("nam-dinh", nam_dinh.url())],
            gateway_toml,
        )
        .await;
        WebFederation {
            pki,
            hung_yen: Some(hung_yen),
            nam_dinh: Some(nam_dinh),
            gateway,
            _databases: (hy_db, nd_db),
        }
    }

    pub fn ca(&self) -> PathBuf {
        self.pki.dir().join("ca.crt")
    }

    /// A client without a certificate, as a browser.
    pub fn browser(&self) -> WebClient {
        WebClient::new(self.gateway.http_addr, &self.ca(), None)
    }

    /// Adds a web user with [`PASSWORD`].
    pub async fn user(&self, name: &str, role: UserRole) {
        UserStore::open(self.gateway.database().await)
            .await
            .expect("user table")
            .create(name, role, PASSWORD)
            .await
            .expect("create a web user");
    }

    /// A browser signed in as a new user with `role`.
    pub async fn signed_in(&self, name: &str, role: UserRole) -> WebClient {
        self.user(name, role).await;
        let mut browser = self.browser();
        let answer = browser.sign_in(name, PASSWORD).await;
        assert_eq!(answer.status, 303, "{}", answer.body);
        browser
    }
}
