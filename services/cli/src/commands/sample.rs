//! `lienthong sample`: fill a node's database with sample data.

use indicatif::{ProgressBar, ProgressStyle};
use lienthong_node::NodeConfig;
use lienthong_records::AnyRecord;
use lienthong_sample::{ProvinceProfile, SampleGenerator, SampleSpec};
use lienthong_store::Store;

use crate::cli::SampleArgs;

/// Records per write transaction.
const BATCH: usize = 1_000;

pub async fn run(args: SampleArgs) -> anyhow::Result<()> {
    let config = NodeConfig::load(&args.config)?;
    let store = open_store(&config).await?;
    let mut spec = SampleSpec::sized(profile_for(&config), args.experts);
    spec.seed = args.seed;
    if let Some(projects) = args.projects {
        spec.projects = projects;
    }
    if let Some(publications) = args.publications {
        spec.publications = publications;
    }
    let inserted = load_sample(&store, spec).await?;
    store.analyze().await?;
    println!(
        "loaded {inserted} sample records into node {}",
        config.node.id
    );
    store.close().await;
    Ok(())
}

/// Opens the store a node config names.
pub async fn open_store(config: &NodeConfig) -> anyhow::Result<Store> {
    Ok(Store::open(&config.store_options()).await?)
}

/// The sample profile for a node: the two pilot provinces have their own.
pub fn profile_for(config: &NodeConfig) -> ProvinceProfile {
    match config.node.id.as_str() {
        "hung-yen" => ProvinceProfile::hung_yen(),
        "nam-dinh" => ProvinceProfile::nam_dinh(),
        id => {
            let prefix: String = id
                .split('-')
                .filter_map(|part| part.chars().next())
                .collect::<String>()
                .to_uppercase();
            ProvinceProfile::custom(id, &config.node.display_name, &prefix)
        }
    }
}

/// Generates the sample and upserts it in batches, with a progress bar.
/// Returns the records inserted.
pub async fn load_sample(store: &Store, spec: SampleSpec) -> anyhow::Result<u64> {
    let total = spec.total();
    let progress = ProgressBar::new(total).with_style(
        ProgressStyle::with_template(
            "{msg:>12} [{bar:40}] {human_pos}/{human_len} records ({per_sec}, eta {eta})",
        )?
        .progress_chars("=> "),
    );
    progress.set_message(spec.profile.node_id.clone());
    let generator = SampleGenerator::new(spec);
    let mut inserted = 0;
    let mut batch = Vec::with_capacity(BATCH);
    for record in generator.records() {
        batch.push(AnyRecord::try_from(record)?);
        if batch.len() == BATCH {
            inserted += store.upsert(std::mem::take(&mut batch)).await?.inserted;
            progress.inc(BATCH as u64);
        }
    }
    let last = batch.len() as u64;
    inserted += store.upsert(batch).await?.inserted;
    progress.inc(last);
    progress.finish();
    Ok(inserted)
}
