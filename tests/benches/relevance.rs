//! Search relevance against a judged query set.
//!
//! `generate` writes the judged set: queries over the Hưng Yên sample data
//! (5,000 experts, seed 2023, as `lienthong sample --experts 5000` loads
//! it), each with the records that should come first. What should come
//! first is decided from the data alone, never by asking a search engine:
//! - full name (as written, without diacritics, in upper case, decomposed
//!   NFD, with a typo, typed with Telex keys): every shareable expert whose
//!   folded name equals the target's;
//! - partial name (the last two syllables): every shareable expert whose
//!   folded name ends with them;
//! - speciality: every shareable expert with that specialization;
//! - organization: every shareable expert working there.
//!
//! `evaluate` runs each query against a node over gRPC (plaintext, page of
//! 10) and reports MRR and nDCG@10 (binary relevance) per query class and
//! overall. Any version of the node answers the same API, so two versions
//! are compared side by side on the same data (`tests/relevance/compare.sh`).
//!
//! ```text
//! cargo bench -p lienthong-tests --bench relevance -- generate --out tests/relevance/experts.jsonl
//! cargo bench -p lienthong-tests --bench relevance -- evaluate --node http://127.0.0.1:7101 \
//!     --queries tests/relevance/experts.jsonl [--label new]
//! ```

use std::collections::{BTreeMap, HashSet};
use std::io::{BufRead, Write};

use lienthong_proto::v1 as pb;
use lienthong_proto::v1::province_node_client::ProvinceNodeClient;
use lienthong_records::folding::normalized;
use lienthong_records::search_document::is_shareable;
use lienthong_sample::{ProvinceProfile, SampleGenerator, SampleSpec};
use serde_json::json;

const EXPERTS: u64 = 5_000;
const PER_CLASS: usize = 20;

struct Judged {
    class: &'static str,
    query: String,
    relevant: Vec<String>,
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let value = |name: &str| {
        args.iter()
            .position(|arg| arg == name)
            .and_then(|i| args.get(i + 1).cloned())
    };
    match args
        .iter()
        .find(|arg| !arg.starts_with("--"))
        .map(String::as_str)
    {
        Some("generate") => generate(&value("--out").unwrap_or_else(|| "-".into())),
        Some("evaluate") => {
            let runtime = tokio::runtime::Runtime::new().expect("runtime");
            runtime.block_on(evaluate(
                &value("--node").expect("--node URL"),
                &value("--queries").expect("--queries FILE"),
                &value("--label").unwrap_or_else(|| "node".into()),
            ));
        }
        _ => eprintln!("usage: relevance generate --out FILE | evaluate --node URL --queries FILE"),
    }
}

fn generate(out: &str) {
    let generator = SampleGenerator::new(SampleSpec::sized(ProvinceProfile::hung_yen(), EXPERTS));
    let experts: Vec<pb::Expert> = (0..EXPERTS)
        .map(|i| generator.expert(i))
        .filter(|e| {
            let meta = e.meta.clone().unwrap_or_default();
            is_shareable(meta.visibility, meta.classification)
        })
        .collect();
    let id = |e: &pb::Expert| e.meta.as_ref().map(|m| m.id.clone()).unwrap_or_default();
    let where_ = |keep: &dyn Fn(&pb::Expert) -> bool| -> Vec<String> {
        experts.iter().filter(|e| keep(e)).map(id).collect()
    };
    // Targets spread over the data, the same for every class.
    let step = experts.len() / (PER_CLASS * 3);
    let targets: Vec<&pb::Expert> = (0..PER_CLASS * 3).map(|i| &experts[i * step + 7]).collect();
    let mut judged = Vec::new();
    let same_name = |target: &pb::Expert| {
        let name = normalized(&target.full_name);
        where_(&|e| normalized(&e.full_name) == name)
    };
    for target in targets.iter().take(PER_CLASS) {
        let relevant = same_name(target);
        let name = target.full_name.clone();
        let folded = normalized(&name);
        for (class, query) in [
            ("full name", name.clone()),
            ("no diacritics", folded.clone()),
            ("upper case", name.to_uppercase()),
            ("NFD input", unicode_nfd(&name)),
            ("typo", with_typo(&folded)),
            ("Telex residue", telex(&name)),
        ] {
            judged.push(Judged {
                class,
                query,
                relevant: relevant.clone(),
            });
        }
    }
    for target in targets.iter().skip(PER_CLASS).take(PER_CLASS) {
        let words: Vec<&str> = target.full_name.split(' ').collect();
        let tail = words[words.len().saturating_sub(2)..].join(" ");
        let folded_tail = format!(" {}", normalized(&tail));
        judged.push(Judged {
            class: "partial name",
            query: tail,
            relevant: where_(&|e| format!(" {}", normalized(&e.full_name)).ends_with(&folded_tail)),
        });
    }
    let mut specialities: Vec<&str> = targets
        .iter()
        .skip(PER_CLASS * 2)
        .map(|e| e.specialization.as_str())
        .filter(|s| !s.is_empty())
        .collect();
    specialities.dedup();
    for speciality in specialities.into_iter().take(PER_CLASS) {
        let folded = normalized(speciality);
        judged.push(Judged {
            class: "speciality",
            query: speciality.to_owned(),
            relevant: where_(&|e| normalized(&e.specialization) == folded),
        });
    }
    let mut organizations: Vec<&str> = targets
        .iter()
        .map(|e| e.organization_name.as_str())
        .filter(|s| !s.is_empty())
        .collect();
    organizations.sort();
    organizations.dedup();
    for organization in organizations.into_iter().take(PER_CLASS) {
        judged.push(Judged {
            class: "organization",
            query: organization.to_owned(),
            relevant: where_(&|e| e.organization_name == organization),
        });
    }
    let mut output: Box<dyn Write> = if out == "-" {
        Box::new(std::io::stdout())
    } else {
        Box::new(std::fs::File::create(out).expect("create the query file"))
    };
    for query in &judged {
        let line = json!({"class": query.class, "query": query.query, "relevant": query.relevant});
        writeln!(output, "{line}").expect("write");
    }
    eprintln!("{} judged queries", judged.len());
}

fn unicode_nfd(text: &str) -> String {
    use unicode_normalization::UnicodeNormalization;
    text.nfd().collect()
}

/// The last word with two neighbouring letters swapped (or, for a short
/// word, the one before it).
fn with_typo(folded: &str) -> String {
    let mut words: Vec<String> = folded.split(' ').map(str::to_owned).collect();
    if let Some(word) = words.iter_mut().rev().find(|word| word.len() >= 3) {
        let mut letters: Vec<char> = word.chars().collect();
        letters.swap(1, 2);
        *word = letters.into_iter().collect();
    }
    words.join(" ")
}

/// The keys typed for `text` with Telex on a keyboard left in English mode.
fn telex(text: &str) -> String {
    use unicode_normalization::UnicodeNormalization;
    text.split(' ')
        .map(|word| {
            let mut letters = String::new();
            let mut tone = None;
            for c in word.nfd() {
                match c {
                    '\u{0302}' => {
                        if let Some(last) = letters.pop() {
                            letters.push(last);
                            letters.push(last.to_ascii_lowercase());
                        }
                    }
                    '\u{0306}' | '\u{031B}' => letters.push('w'),
                    '\u{0301}' => tone = Some('s'),
                    '\u{0300}' => tone = Some('f'),
                    '\u{0309}' => tone = Some('r'),
                    '\u{0303}' => tone = Some('x'),
                    '\u{0323}' => tone = Some('j'),
                    'đ' => letters.push_str("dd"),
                    'Đ' => letters.push_str("Dd"),
                    c => letters.push(c),
                }
            }
            letters.extend(tone);
            letters
        })
        .collect::<Vec<_>>()
        .join(" ")
}

async fn evaluate(node: &str, queries: &str, label: &str) {
    let mut client = ProvinceNodeClient::connect(node.to_owned())
        .await
        .expect("connect to the node");
    let file = std::io::BufReader::new(std::fs::File::open(queries).expect("open the queries"));
    // class → (sum of reciprocal ranks, sum of nDCG@10, queries)
    let mut scores: BTreeMap<String, (f64, f64, u32)> = BTreeMap::new();
    for line in file.lines() {
        let line = line.expect("read");
        let judged: serde_json::Value = serde_json::from_str(&line).expect("JSON line");
        let class = judged["class"].as_str().unwrap_or_default().to_owned();
        let query = judged["query"].as_str().unwrap_or_default().to_owned();
        let relevant: HashSet<String> = judged["relevant"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|id| id.as_str().map(str::to_owned))
            .collect();
        let response = client
            .search_experts(pb::SearchRequest {
                query: query.clone(),
                page_size: 10,
                ..Default::default()
            })
            .await
            .map(|response| response.into_inner().hits)
            .unwrap_or_default();
        let gains: Vec<bool> = response
            .iter()
            .map(|hit| {
                hit.expert
                    .as_ref()
                    .and_then(|e| e.meta.as_ref())
                    .is_some_and(|meta| relevant.contains(&meta.id))
            })
            .collect();
        let reciprocal_rank = gains
            .iter()
            .position(|&gain| gain)
            .map_or(0.0, |rank| 1.0 / (rank as f64 + 1.0));
        let dcg: f64 = gains
            .iter()
            .enumerate()
            .filter(|(_, gain)| **gain)
            .map(|(rank, _)| 1.0 / (rank as f64 + 2.0).log2())
            .sum();
        let ideal: f64 = (0..relevant.len().min(10))
            .map(|rank| 1.0 / (rank as f64 + 2.0).log2())
            .sum();
        let ndcg = if ideal > 0.0 { dcg / ideal } else { 0.0 };
        let entry = scores.entry(class).or_default();
        entry.0 += reciprocal_rank;
        entry.1 += ndcg;
        entry.2 += 1;
    }
    println!("| {label}: query class | queries | MRR | nDCG@10 |");
    println!("|---|---|---|---|");
    let (mut rr, mut ndcg, mut count) = (0.0, 0.0, 0);
    for (class, (class_rr, class_ndcg, n)) in &scores {
        println!(
            "| {class} | {n} | {:.3} | {:.3} |",
            class_rr / f64::from(*n),
            class_ndcg / f64::from(*n)
        );
        rr += class_rr;
        ndcg += class_ndcg;
        count += n;
    }
    println!(
        "| **all** | {count} | {:.3} | {:.3} |",
        rr / f64::from(count.max(1)),
        ndcg / f64::from(count.max(1))
    );
}
