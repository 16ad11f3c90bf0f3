//! A full OAI-PMH harvest of a node's public tasks, in pages of 100, the way
//! a harvester does it: one keep-alive HTTPS connection, ListRecords in
//! OpenAIRE CERIF (and Dublin Core, and ListIdentifiers), every page until
//! the empty resumption token. Reports records per second, page latency,
//! CPU, and the process's resident memory as the harvest goes (it must stay
//! flat: a page is built, sent and dropped).
//!
//! ```sh
//! cargo bench -p lienthong-tests --bench oai_harvest -- --records 1000000
//! cargo bench -p lienthong-tests --bench oai_harvest -- --records 100000 --backend sqlite
//! ```

use std::net::SocketAddr;
use std::path::Path;
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use lienthong_proto::v1 as pb;
use lienthong_tests::oai::texts_of;
use lienthong_tests::secure::{SecureNode, TestPki, raw_client_config, raw_tls};
use lienthong_tests::{TestDatabase, bench_argument, bench_backends, bulk_task, process_cpu_time};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};

const POLICY: &str =
    "[[grant]]\npeers = [\"public\"]\nrpcs = [\"harvest\"]\nkinds = [\"project\"]\n";

/// One keep-alive HTTP/1.1 connection over TLS.
struct Connection {
    stream: BufReader<tokio_rustls::client::TlsStream<tokio::net::TcpStream>>,
}

impl Connection {
    async fn open(address: SocketAddr, ca: &Path) -> Connection {
        let config = raw_client_config(ca, None, &[b"http/1.1"]);
        let stream = raw_tls(address, config).await.expect("TLS handshake");
        Connection {
            stream: BufReader::new(stream),
        }
    }

    async fn get(&mut self, query: &str) -> String {
        let request = format!("GET /oai?{query} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
        self.stream
            .get_mut()
            .write_all(request.as_bytes())
            .await
            .expect("send");
        let mut length = None;
        let mut status = String::new();
        self.stream.read_line(&mut status).await.expect("status");
        assert!(status.contains(" 200 "), "{status}");
        loop {
            let mut line = String::new();
            self.stream.read_line(&mut line).await.expect("header");
            if line == "\r\n" {
                break;
            }
            if let Some((key, value)) = line.split_once(':')
                && key.eq_ignore_ascii_case("content-length")
            {
                length = value.trim().parse::<usize>().ok();
            }
        }
        let mut body = vec![0; length.expect("Content-Length")];
        self.stream.read_exact(&mut body).await.expect("body");
        String::from_utf8(body).expect("UTF-8")
    }
}

/// `RssAnon`: the process's own memory (file pages the kernel may drop,
/// such as the database's, are `RssFile`).
const FIELD: &str = "RssAnon:";

fn resident_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find(|line| line.starts_with(FIELD))
                .and_then(|line| line.split_whitespace().nth(1)?.parse::<f64>().ok())
        })
        .map_or(0.0, |kib| kib / 1024.0)
}

struct Harvest {
    records: u64,
    pages: u64,
    bytes: u64,
    elapsed: Duration,
    cpu: Duration,
    latency: Histogram<u64>,
    /// Resident memory after a tenth, half, and all of the pages.
    resident: [f64; 3],
}

async fn harvest(address: SocketAddr, ca: &Path, first: &str, records: u64, verb: &str) -> Harvest {
    let mut connection = Connection::open(address, ca).await;
    let mut latency = Histogram::<u64>::new_with_bounds(1, 60_000_000, 3).expect("histogram");
    let expected_pages = records.div_ceil(100).max(1);
    let mut resident = [0.0; 3];
    let (mut delivered, mut pages, mut bytes) = (0, 0, 0);
    let cpu_before = process_cpu_time();
    let started = Instant::now();
    let mut query = first.to_owned();
    loop {
        let asked = Instant::now();
        let page = connection.get(&query).await;
        latency
            .record(asked.elapsed().as_micros().max(1) as u64)
            .expect("record");
        pages += 1;
        bytes += page.len() as u64;
        delivered += page.matches("<header").count() as u64;
        if pages == expected_pages / 10 {
            resident[0] = resident_mib();
        }
        if pages == expected_pages / 2 {
            resident[1] = resident_mib();
        }
        match texts_of(&page, "resumptionToken").first() {
            Some(token) if !token.is_empty() => {
                query = format!("verb={verb}&resumptionToken={token}");
            }
            _ => break,
        }
    }
    resident[2] = resident_mib();
    Harvest {
        records: delivered,
        pages,
        bytes,
        elapsed: started.elapsed(),
        cpu: process_cpu_time().saturating_sub(cpu_before),
        latency,
        resident,
    }
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let records: u64 =
        bench_argument("--records").map_or(100_000, |n| n.parse().expect("--records N"));
    println!(
        "| backend | harvest | records | pages | records/s | p50 page | p99 page | CPU per page | MB sent | anonymous RSS at 10% / 50% / 100% |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|");
    for backend in bench_backends() {
        let pki = TestPki::new();
        let database = TestDatabase::of(backend).await;
        let oai = "[oai]\nlisten = \"127.0.0.1:0\"\nadmin_email = \"bench@lienthong.vn\"\npage_size = 100\n\
                   requests_per_minute = 100000000\nburst = 1000000\n";
        let node = SecureNode::start_with(&pki, "nam-dinh", &database.url, POLICY, oai).await;
        let loading = Instant::now();
        let mut batch = Vec::with_capacity(5_000);
        for n in 0..records as usize {
            let mut task = bulk_task("nam-dinh", n);
            task.meta_mut().visibility = pb::Visibility::Public as i32;
            batch.push(task);
            if batch.len() == 5_000 {
                node.store
                    .upsert(std::mem::take(&mut batch))
                    .await
                    .expect("load");
            }
        }
        node.store.upsert(batch).await.expect("load");
        node.store.analyze().await.expect("analyze");
        eprintln!(
            "{backend:?}: {records} public tasks loaded in {:.1?}",
            loading.elapsed()
        );
        let address = node.oai_addr.expect("oai");
        let ca = node.tls.ca_bundle.clone();
        for (name, verb, prefix) in [
            (
                "ListRecords, oai_cerif_openaire",
                "ListRecords",
                "oai_cerif_openaire",
            ),
            ("ListRecords, oai_dc", "ListRecords", "oai_dc"),
            ("ListIdentifiers", "ListIdentifiers", "oai_dc"),
        ] {
            let first = format!("verb={verb}&metadataPrefix={prefix}");
            let result = harvest(address, &ca, &first, records, verb).await;
            assert_eq!(result.records, records, "{name}: every record once");
            let ms = |quantile: f64| result.latency.value_at_quantile(quantile) as f64 / 1000.0;
            println!(
                "| {backend:?} | {name} | {} | {} | **{:.0}** | {:.1} ms | {:.1} ms | {:.1} ms | {:.0} | {:.0} / {:.0} / {:.0} MiB |",
                result.records,
                result.pages,
                result.records as f64 / result.elapsed.as_secs_f64(),
                ms(0.5),
                ms(0.99),
                result.cpu.as_secs_f64() * 1000.0 / result.pages as f64,
                result.bytes as f64 / 1e6,
                result.resident[0],
                result.resident[1],
                result.resident[2],
            );
        }
        drop(node);
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}
