//! Measures generation throughput (records per second, single thread).
//!
//! `cargo run --release -p lienthong-sample --example throughput -- [experts]`

use std::time::Instant;

use lienthong_sample::{ProvinceProfile, SampleGenerator, SampleSpec};

fn main() {
    let experts = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(100_000);
    let generator = SampleGenerator::new(SampleSpec::sized(ProvinceProfile::hung_yen(), experts));
    let started = Instant::now();
    let mut count = 0u64;
    let mut bytes = 0usize;
    for record in generator.records() {
        count += 1;
        bytes += std::hint::black_box(&record).record.is_some() as usize;
    }
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "{count} records ({bytes} non-empty) in {seconds:.2} s: {:.0} records/s",
        count as f64 / seconds
    );
}
