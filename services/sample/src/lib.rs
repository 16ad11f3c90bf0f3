//! Deterministic, realistic sample data for one Liên thông province node.
//!
//! A [`SampleGenerator`] turns a [`SampleSpec`] into organizations, experts, projects
//! (S&T tasks) and publications with Vietnamese names, field codes, dates and budgets
//! that look like a provincial Department of Science and Technology's records. The
//! demo, the integration tests and the benchmarks (up to a million experts) all use it.
//!
//! Every record is a pure function of (seed, node id, kind, index): each one gets its
//! own ChaCha8 stream, so [`SampleGenerator::expert`] can regenerate any expert on its
//! own (projects and publications name their people that way), and the same spec
//! always yields byte-identical records.
//!
//! ```
//! use lienthong_sample::{ProvinceProfile, SampleGenerator, SampleSpec};
//!
//! let generator = SampleGenerator::new(SampleSpec::sized(ProvinceProfile::hung_yen(), 1_000));
//! let expert = generator.expert(42);
//! assert_eq!(expert.meta.as_ref().map(|m| m.id.as_str()), Some("hung-yen:expert:E0000042"));
//! assert_eq!(generator.records().count() as u64, generator.spec().total());
//! ```

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod dates;
mod dice;
mod experts;
mod fields;
mod names;
mod organizations;
mod projects;
mod province;
mod publications;

use lienthong_proto::v1::{
    Classification, Expert, Organization, Project, Publication, Record, RecordMeta, Visibility,
    record,
};

use crate::dice::{Dice, fnv1a, mix};
use crate::organizations::Catalog;
use crate::province::Province;

/// Which province's flavour of data to generate.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ProvinceProfile {
    /// Node identity, the first part of every global id ("hung-yen").
    pub node_id: String,
    /// Province name as written, with diacritics ("Hưng Yên").
    pub province_name: String,
    /// Short code used in project codes ("HY" in "ĐT.HY.2019.12").
    pub code_prefix: String,
}

impl ProvinceProfile {
    /// Hưng Yên (node "hung-yen", prefix "HY"), including the districts and bodies of
    /// Thái Bình, which merged into it on 1 July 2025.
    pub fn hung_yen() -> Self {
        Self::custom("hung-yen", "Hưng Yên", "HY")
    }

    /// Nam Định (node "nam-dinh", prefix "ND").
    pub fn nam_dinh() -> Self {
        Self::custom("nam-dinh", "Nam Định", "ND")
    }

    /// Any other node: province name used as written, with generic district names
    /// ("huyện số 1") and generic institutions.
    pub fn custom(node_id: &str, province_name: &str, code_prefix: &str) -> Self {
        Self {
            node_id: node_id.to_owned(),
            province_name: province_name.to_owned(),
            code_prefix: code_prefix.to_owned(),
        }
    }
}

/// What to generate: the province, the seed, and how many records of each kind.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct SampleSpec {
    /// The province.
    pub profile: ProvinceProfile,
    /// Seed of every random choice; same spec, same records.
    pub seed: u64,
    /// Number of organizations (index 0 is always the province's Sở KH&CN).
    pub organizations: u64,
    /// Number of experts.
    pub experts: u64,
    /// Number of projects (S&T tasks).
    pub projects: u64,
    /// Number of publications.
    pub publications: u64,
}

impl SampleSpec {
    /// Proportions for a province with `experts` experts: organizations =
    /// clamp(experts/50, 10, 2000), projects = experts/4 (at least 1 if experts > 0),
    /// publications = experts/2; seed 2023.
    pub fn sized(profile: ProvinceProfile, experts: u64) -> Self {
        let projects = if experts > 0 { (experts / 4).max(1) } else { 0 };
        Self {
            profile,
            seed: 2023,
            organizations: (experts / 50).clamp(10, 2000),
            experts,
            projects,
            publications: experts / 2,
        }
    }

    /// Number of records of all kinds.
    pub fn total(&self) -> u64 {
        self.organizations
            .saturating_add(self.experts)
            .saturating_add(self.projects)
            .saturating_add(self.publications)
    }
}

/// The four record kinds, as they appear in global ids.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    Organization,
    Expert,
    Project,
    Publication,
}

impl Kind {
    /// The kind part of a global id.
    pub(crate) fn label(self) -> &'static str {
        match self {
            Kind::Organization => "organization",
            Kind::Expert => "expert",
            Kind::Project => "project",
            Kind::Publication => "publication",
        }
    }
}

/// Earliest and latest day of record timestamps.
const META_FIRST_DAY: (i64, u32, u32) = (2015, 1, 1);
const META_LAST_DAY: (i64, u32, u32) = (2025, 12, 31);

/// Generates the records of one [`SampleSpec`], each on demand.
#[derive(Clone, Debug)]
pub struct SampleGenerator {
    spec: SampleSpec,
    province: Province,
    catalog: Catalog,
    /// Per-kind seeds, from (seed, node id, kind).
    salts: [u64; 4],
}

impl SampleGenerator {
    /// Prepares a generator; cheap (builds the small fixed organization catalogue).
    pub fn new(spec: SampleSpec) -> Self {
        let province = Province::new(&spec.profile);
        let catalog = Catalog::new(&province);
        let base = mix(spec.seed) ^ mix(fnv1a(spec.profile.node_id.as_bytes()));
        let salts = [
            Kind::Organization,
            Kind::Expert,
            Kind::Project,
            Kind::Publication,
        ]
        .map(|kind| mix(base ^ fnv1a(kind.label().as_bytes())));
        Self {
            spec,
            province,
            catalog,
            salts,
        }
    }

    /// The spec this generator was built from.
    pub fn spec(&self) -> &SampleSpec {
        &self.spec
    }

    /// Organization `i` (0 ≤ i < `spec.organizations`); number 0 is the Sở KH&CN.
    pub fn organization(&self, i: u64) -> Organization {
        let mut dice = self.dice(Kind::Organization, i);
        let n = self.spec.organizations;
        let id = |j: u64| self.id(Kind::Organization, j);
        let mut org = self.catalog.organization(i, n, &id);
        let (visibility, classification) = organizations::visibility(dice.below(100));
        org.meta = Some(self.meta(
            Kind::Organization,
            i,
            &mut dice,
            0,
            visibility,
            classification,
        ));
        org
    }

    /// Expert `i` (0 ≤ i < `spec.experts`).
    pub fn expert(&self, i: u64) -> Expert {
        experts::expert(self, i)
    }

    /// Project `i` (0 ≤ i < `spec.projects`); its lead and most members are experts,
    /// regenerated by index.
    pub fn project(&self, i: u64) -> Project {
        projects::project(self, i)
    }

    /// Publication `i` (0 ≤ i < `spec.publications`); its authors are experts,
    /// regenerated by index.
    pub fn publication(&self, i: u64) -> Publication {
        publications::publication(self, i)
    }

    /// Every record: organizations, then experts, projects, publications; lazily, in
    /// index order.
    pub fn records(&self) -> impl Iterator<Item = Record> + '_ {
        let wrap = |kind: record::Record| Record { record: Some(kind) };
        (0..self.spec.organizations)
            .map(move |i| wrap(record::Record::Organization(self.organization(i))))
            .chain(
                (0..self.spec.experts).map(move |i| wrap(record::Record::Expert(self.expert(i)))),
            )
            .chain(
                (0..self.spec.projects)
                    .map(move |i| wrap(record::Record::Project(self.project(i)))),
            )
            .chain(
                (0..self.spec.publications)
                    .map(move |i| wrap(record::Record::Publication(self.publication(i)))),
            )
    }

    /// The global id "<node>:<kind>:<local>" of record `i` of a kind.
    pub(crate) fn id(&self, kind: Kind, i: u64) -> String {
        let node = &self.spec.profile.node_id;
        let label = kind.label();
        match kind {
            Kind::Organization => format!("{node}:{label}:O{i:05}"),
            Kind::Expert => format!("{node}:{label}:E{i:07}"),
            Kind::Project => format!("{node}:{label}:P{i:06}"),
            Kind::Publication => format!("{node}:{label}:B{i:07}"),
        }
    }

    /// The random stream of record `i` of a kind.
    pub(crate) fn dice(&self, kind: Kind, i: u64) -> Dice {
        Dice::new(mix(self.salts[kind as usize] ^ mix(i)))
    }

    /// Record metadata: version 1, created_at == updated_at, a working-hours instant
    /// between 2015 and 2025 and not before day number `earliest_day`.
    pub(crate) fn meta(
        &self,
        kind: Kind,
        i: u64,
        dice: &mut Dice,
        earliest_day: i64,
        visibility: Visibility,
        classification: Classification,
    ) -> RecordMeta {
        let first = dates::days_from_civil(META_FIRST_DAY.0, META_FIRST_DAY.1, META_FIRST_DAY.2);
        let last = dates::days_from_civil(META_LAST_DAY.0, META_LAST_DAY.1, META_LAST_DAY.2);
        let day = dice.range_i64(earliest_day.clamp(first, last), last);
        let seconds = dice.range_u32(7 * 3600 + 30 * 60, 17 * 3600 + 30 * 60);
        let at = dates::rfc3339(day, seconds);
        RecordMeta {
            id: self.id(kind, i),
            version: 1,
            created_at: at.clone(),
            updated_at: at,
            visibility: visibility as i32,
            classification: classification as i32,
        }
    }
}
