//! Prints a few generated records of each kind, for eyeballing.
//!
//! `cargo run -p lienthong-sample --example preview -- [node] [experts] [count]`

use lienthong_sample::{ProvinceProfile, SampleGenerator, SampleSpec};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let profile = match args.first().map(String::as_str) {
        Some("nam-dinh") => ProvinceProfile::nam_dinh(),
        Some("hung-yen") | None => ProvinceProfile::hung_yen(),
        Some(other) => ProvinceProfile::custom(other, other, "XX"),
    };
    let experts = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(1_000);
    let count = args.get(2).and_then(|a| a.parse().ok()).unwrap_or(3u64);
    let generator = SampleGenerator::new(SampleSpec::sized(profile, experts));
    let spec = generator.spec();
    for i in 0..count.min(spec.organizations) {
        println!("{:#?}", generator.organization(i));
    }
    for i in 0..count.min(spec.experts) {
        println!("{:#?}", generator.expert(i));
    }
    for i in 0..count.min(spec.projects) {
        println!("{:#?}", generator.project(i));
    }
    for i in 0..count.min(spec.publications) {
        println!("{:#?}", generator.publication(i));
    }
}
