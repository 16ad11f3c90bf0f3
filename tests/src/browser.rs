//! A real browser for end-to-end tests: Debian's headless Chromium driven
//! through ChromeDriver's W3C WebDriver API (JSON over HTTP on loopback).
//!
//! Missing Chromium or ChromeDriver skips the tests with a notice, unless
//! `LIENTHONG_REQUIRE_CHROMIUM` is set (CI), where it fails them.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// The WebDriver key of an element reference.
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

/// Where the browser tests keep their screenshots (a CI artifact).
pub fn screenshot_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../target")));
    target.join("browser-screenshots")
}

/// Chromium and ChromeDriver, if installed (`LIENTHONG_CHROMIUM` and
/// `LIENTHONG_CHROMEDRIVER` override the Debian paths).
fn programs() -> Option<(PathBuf, PathBuf)> {
    let chromium = std::env::var_os("LIENTHONG_CHROMIUM")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/bin/chromium"));
    let driver = std::env::var_os("LIENTHONG_CHROMEDRIVER")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/bin/chromedriver"));
    (chromium.exists() && driver.exists()).then_some((chromium, driver))
}

/// A headless Chromium session. Ends (and the driver with it) on drop.
pub struct Browser {
    port: u16,
    session: String,
    driver: Child,
    _profile: tempfile::TempDir,
}

impl Browser {
    /// Starts ChromeDriver and a browser session, or `None` (after a notice)
    /// when Chromium is not installed and not required.
    pub async fn start() -> Option<Browser> {
        let Some((chromium, driver_path)) = programs() else {
            if std::env::var_os("LIENTHONG_REQUIRE_CHROMIUM").is_some() {
                panic!(
                    "LIENTHONG_REQUIRE_CHROMIUM is set but /usr/bin/chromium or \
                     /usr/bin/chromedriver is missing: apt-get install chromium chromium-driver"
                );
            }
            eprintln!(
                "notice: browser test skipped: install Debian's chromium and chromium-driver \
                 to run it (CI sets LIENTHONG_REQUIRE_CHROMIUM)"
            );
            return None;
        };
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .expect("a free port")
            .port();
        let driver = Command::new(driver_path)
            .arg(format!("--port={port}"))
            .arg("--allowed-ips=127.0.0.1")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start chromedriver");
        let profile = tempfile::tempdir().expect("browser profile directory");
        let mut browser = Browser {
            port,
            session: String::new(),
            driver,
            _profile: profile,
        };
        let mut ready = false;
        for _ in 0..100 {
            if browser.call("GET", "/status", None).await.is_ok() {
                ready = true;
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert!(ready, "chromedriver did not start");
        let capabilities = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            // The gateway's certificate comes from the test's own CA.
            "acceptInsecureCerts": true,
            "goog:chromeOptions": {
                "binary": chromium,
                "args": [
                    "--headless=new", "--no-sandbox", "--disable-gpu",
                    "--disable-dev-shm-usage", "--no-first-run",
                    "--disable-extensions", "--hide-scrollbars",
                    format!("--user-data-dir={}", browser._profile.path().display()),
                    "--window-size=1280,900",
                ]
            }
        }}});
        let created = browser
            .call("POST", "/session", Some(capabilities))
            .await
            .expect("a browser session");
        browser.session = created["sessionId"]
            .as_str()
            .expect("session id")
            .to_owned();
        Some(browser)
    }

    /// One WebDriver command; the `value` of its answer, or the error.
    async fn call(&self, method: &str, path: &str, body: Option<Value>) -> Result<Value, String> {
        let body = body.map(|body| body.to_string()).unwrap_or_default();
        let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", self.port))
            .await
            .map_err(|error| error.to_string())?;
        let request = format!(
            "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nContent-Type: application/json\r\n\
             Connection: close\r\nContent-Length: {}\r\n\r\n{body}",
            self.port,
            body.len()
        );
        stream
            .write_all(request.as_bytes())
            .await
            .map_err(|error| error.to_string())?;
        // ChromeDriver keeps the connection open: read what Content-Length says.
        let mut raw = Vec::new();
        let mut chunk = [0u8; 16 * 1024];
        while !is_complete(&raw) {
            let read = stream
                .read(&mut chunk)
                .await
                .map_err(|error| error.to_string())?;
            if read == 0 {
                break;
            }
            raw.extend_from_slice(&chunk[..read]);
        }
        let text = String::from_utf8_lossy(&raw);
        let (_, body) = text
            .split_once("\r\n\r\n")
            .ok_or_else(|| format!("no HTTP answer: {text}"))?;
        let answer: Value = serde_json::from_str(body).map_err(|error| error.to_string())?;
        if answer["value"]["error"].is_string() {
            return Err(format!(
                "{method} {path}: {}: {}",
                answer["value"]["error"], answer["value"]["message"]
            ));
        }
        Ok(answer["value"].clone())
    }

    async fn command(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        let path = format!("/session/{}{path}", self.session);
        self.call(method, &path, body)
            .await
            .unwrap_or_else(|error| panic!("{error}"))
    }

    pub async fn go(&self, url: &str) {
        self.command("POST", "/url", Some(json!({"url": url})))
            .await;
    }

    pub async fn url(&self) -> String {
        self.command("GET", "/url", None)
            .await
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    pub async fn source(&self) -> String {
        self.command("GET", "/source", None)
            .await
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    /// The element `css` selects; panics with the page's URL if none.
    pub async fn find(&self, css: &str) -> String {
        let found = self
            .call(
                "POST",
                &format!("/session/{}/element", self.session),
                Some(json!({"using": "css selector", "value": css})),
            )
            .await;
        match found {
            Ok(element) => element[ELEMENT]
                .as_str()
                .expect("element reference")
                .to_owned(),
            Err(error) => panic!("{css} not found on {}: {error}", self.url().await),
        }
    }

    /// How many elements `css` selects.
    pub async fn count(&self, css: &str) -> usize {
        self.command(
            "POST",
            "/elements",
            Some(json!({"using": "css selector", "value": css})),
        )
        .await
        .as_array()
        .map_or(0, Vec::len)
    }

    pub async fn text(&self, css: &str) -> String {
        let element = self.find(css).await;
        self.command("GET", &format!("/element/{element}/text"), None)
            .await
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    pub async fn type_into(&self, css: &str, text: &str) {
        let element = self.find(css).await;
        self.command(
            "POST",
            &format!("/element/{element}/clear"),
            Some(json!({})),
        )
        .await;
        self.command(
            "POST",
            &format!("/element/{element}/value"),
            Some(json!({"text": text})),
        )
        .await;
    }

    pub async fn click(&self, css: &str) {
        let element = self.find(css).await;
        self.command(
            "POST",
            &format!("/element/{element}/click"),
            Some(json!({})),
        )
        .await;
    }

    /// Presses a key on whatever has the focus (WebDriver key codes, e.g.
    /// "\u{E004}" for Tab).
    pub async fn press(&self, key: &str) {
        let actions = json!({"actions": [{
            "type": "key", "id": "keyboard",
            "actions": [{"type": "keyDown", "value": key}, {"type": "keyUp", "value": key}]
        }]});
        self.command("POST", "/actions", Some(actions)).await;
    }

    /// Runs `script` in the page (WebDriver's own channel, which the page's
    /// Content-Security-Policy does not govern) and returns its value.
    pub async fn evaluate(&self, script: &str) -> Value {
        self.command(
            "POST",
            "/execute/sync",
            Some(json!({"script": script, "args": []})),
        )
        .await
    }

    /// Waits until the URL's path starts with `prefix`.
    pub async fn wait_for_path(&self, prefix: &str) -> String {
        for _ in 0..100 {
            let url = self.url().await;
            let path = url
                .split_once("://")
                .and_then(|(_, rest)| rest.find('/').map(|at| &rest[at..]))
                .unwrap_or_default()
                .to_owned();
            if path.starts_with(prefix) {
                return path;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!(
            "the browser never reached {prefix}; it is at {}",
            self.url().await
        );
    }

    /// Sets the window's size in CSS pixels.
    pub async fn resize(&self, width: u32, height: u32) {
        self.command(
            "POST",
            "/window/rect",
            Some(json!({"width": width, "height": height})),
        )
        .await;
    }

    /// Saves a PNG of the viewport as `<screenshot_dir>/<name>.png`.
    pub async fn screenshot(&self, name: &str) -> PathBuf {
        use base64::Engine;
        let encoded = self.command("GET", "/screenshot", None).await;
        let png = base64::engine::general_purpose::STANDARD
            .decode(encoded.as_str().unwrap_or_default())
            .expect("a base64 PNG");
        let dir = screenshot_dir();
        std::fs::create_dir_all(&dir).expect("screenshot directory");
        let path = dir.join(format!("{name}.png"));
        std::fs::write(&path, png).expect("write the screenshot");
        path
    }
}

/// Whether `raw` holds a whole HTTP answer (headers and Content-Length
/// bytes of body).
fn is_complete(raw: &[u8]) -> bool {
    let Some(end) = raw.windows(4).position(|window| window == b"\r\n\r\n") else {
        return false;
    };
    let head = String::from_utf8_lossy(&raw[..end]).to_ascii_lowercase();
    let length = head
        .lines()
        .find_map(|line| line.strip_prefix("content-length:"))
        .and_then(|value| value.trim().parse::<usize>().ok())
        .unwrap_or(0);
    raw.len() >= end + 4 + length
}

impl Drop for Browser {
    fn drop(&mut self) {
        // Ending the session closes Chromium; then the driver goes.
        use std::io::{Read, Write};
        if let Ok(mut stream) = std::net::TcpStream::connect(("127.0.0.1", self.port)) {
            let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
            let request = format!(
                "DELETE /session/{} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nContent-Length: 0\r\n\r\n",
                self.session
            );
            let mut raw = Vec::new();
            let mut chunk = [0u8; 4096];
            if stream.write_all(request.as_bytes()).is_ok() {
                while !is_complete(&raw) {
                    match stream.read(&mut chunk) {
                        Ok(0) | Err(_) => break,
                        Ok(read) => raw.extend_from_slice(&chunk[..read]),
                    }
                }
            }
        }
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}
