//! Rows that may be a record already held under another key: the same
//! person written with another organization, a task whose code was retyped,
//! an organization first listed without its ID code. Such pairs are not
//! merged: the report lists each with a similarity score and the
//! `lienthong merge` that would join them, for a person to decide.
//!
//! Candidates share a folded name (or title): case, diacritics and spacing
//! aside, the same words. A pair is then scored on what else both give:
//!
//! | part | weight | scored |
//! |---|---|---|
//! | name or title | 0.4 | the same once folded |
//! | year (birth, start, publication) | 0.3 | the same 1, one apart 0.5, unknown 0.5; further apart: not the same |
//! | context (organization, task lead, venue, province) | 0.3 | shared words over all words (without the words most names share: "Trường", "Đại học", "Viện"); unknown 0.5 |
//!
//! A pair scoring [`SUGGEST_AT`] (0.8) or more is listed. Two different ORCIDs,
//! DOIs or ID codes are never the same record.
//!
//! What is kept per record is small (its id and a hash per word, about 100
//! bytes), so a store of a million records costs some 100 MB while an
//! import runs.

use std::collections::HashMap;

use lienthong_proto::v1 as pb;
use lienthong_records::AnyRecord;
use lienthong_records::folding::normalized;

/// The score from which a pair is listed. The same name and year alone
/// (0.7) is not enough: namesakes born the same year are common (Nguyễn
/// Văn Hùng, 1968); the context must agree too, or be unknown on one side.
pub const SUGGEST_AT: f64 = 0.8;

/// Records remembered per name ("Nguyễn Văn Hùng" is common; catalogs repeat
/// generic titles): each row is compared with at most this many.
pub const MAX_PER_NAME: usize = 64;

/// Folded words most organization names share ("Trường Đại học", "Viện",
/// "Công ty Cổ phần"): they say nothing about which one it is, so context
/// is compared without them (unless a name has no other words).
const COMMON_CONTEXT_WORDS: [&str; 36] = [
    "truong", "dai", "hoc", "vien", "so", "khoa", "cong", "nghe", "ty", "co", "phan", "tnhh",
    "trung", "tam", "benh", "nghien", "cuu", "va", "tinh", "thanh", "pho", "ban", "phong", "bo",
    "mon", "nha", "nuoc", "quan", "ly", "uy", "nhan", "dan", "hoi", "kh", "cn", "khcn",
];

/// What a record is compared on.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Profile {
    id: Box<str>,
    /// 0 when unknown.
    year: u32,
    /// Hashes of the context's words, sorted, each once.
    context: Box<[u32]>,
    /// A hash of the key that tells records apart for certain (ORCID, DOI,
    /// ID code); 0 when there is none.
    exclusive: u64,
}

/// A record that may be the same as the one compared.
#[derive(Debug, Clone, PartialEq)]
pub struct Likeness {
    pub id: String,
    pub score: f64,
    /// What agreed, for the report ("same name, birth year 1968").
    pub why: String,
}

/// Records by the hash of their folded name.
#[derive(Debug, Default)]
pub struct LikenessIndex {
    by_name: HashMap<u64, Vec<Profile>>,
}

impl LikenessIndex {
    /// Remembers `record` for later comparisons. A name held by
    /// [`MAX_PER_NAME`] records already is not extended: the cost of a row
    /// stays bounded whatever the sheet repeats.
    pub fn add(&mut self, record: &AnyRecord) {
        if let Some((name, profile)) = profile_of(record) {
            let held = self.by_name.entry(hash(&name)).or_default();
            if held.len() < MAX_PER_NAME && !held.iter().any(|other| other.id == profile.id) {
                held.push(profile);
            }
        }
    }

    /// The best other record `record` may be the same as, if one scores
    /// [`SUGGEST_AT`] or more; then `record` is remembered too.
    pub fn check_and_add(&mut self, record: &AnyRecord) -> Option<Likeness> {
        let (name, profile) = profile_of(record)?;
        let held = self.by_name.entry(hash(&name)).or_default();
        let found = most_like_among(held, &profile, labels(record));
        if held.len() < MAX_PER_NAME && !held.iter().any(|other| other.id == profile.id) {
            held.push(profile);
        }
        found
    }

    /// The best other record `record` may be the same as, if one scores
    /// [`SUGGEST_AT`] or more.
    pub fn most_like(&self, record: &AnyRecord) -> Option<Likeness> {
        let (name, profile) = profile_of(record)?;
        most_like_among(self.by_name.get(&hash(&name))?, &profile, labels(record))
    }
}

fn most_like_among(held: &[Profile], profile: &Profile, labels: [&str; 3]) -> Option<Likeness> {
    // Scores first; the words saying why only for the one listed.
    let (best, score) = held
        .iter()
        .filter(|other| other.id != profile.id)
        .filter_map(|other| score(profile, other).map(|parts| (other, parts)))
        .filter(|(_, parts)| parts.total() >= SUGGEST_AT)
        .max_by(|a, b| a.1.total().total_cmp(&b.1.total()))?;
    Some(Likeness {
        id: best.id.to_string(),
        score: score.total(),
        why: score.why(profile, best, labels),
    })
}

/// How the report names what a kind is compared on: its name, its year,
/// its context.
fn labels(record: &AnyRecord) -> [&'static str; 3] {
    match record {
        AnyRecord::Expert(_) => ["name", "birth year", "organization"],
        AnyRecord::Project(_) => ["title", "start year", "lead"],
        AnyRecord::Publication(_) => ["title", "year", "venue"],
        AnyRecord::Organization(_) => ["name", "year", "province"],
    }
}

/// A pair's parts of agreement, each from 0 to 1.
#[derive(Debug, Clone, Copy)]
struct Score {
    year: f64,
    context: f64,
}

impl Score {
    /// The weighted sum, to two decimals.
    fn total(self) -> f64 {
        ((0.4 + 0.3 * self.year + 0.3 * self.context) * 100.0).round() / 100.0
    }

    /// What agreed, for the report ("same name, birth year 1968, 50% of
    /// the organization's words").
    fn why(self, a: &Profile, b: &Profile, [name, year_label, context_label]: [&str; 3]) -> String {
        let mut why = vec![format!("same {name}")];
        if a.year != 0 && b.year != 0 {
            if a.year == b.year {
                why.push(format!("{year_label} {}", a.year));
            } else {
                why.push(format!("{year_label}s {} and {}", a.year, b.year));
            }
        }
        if !a.context.is_empty() && !b.context.is_empty() && self.context > 0.0 {
            why.push(format!(
                "{:.0}% of the {context_label}'s words",
                self.context * 100.0
            ));
        }
        why.join(", ")
    }
}

/// How far two records with the same folded name agree; `None` when they
/// cannot be the same.
fn score(a: &Profile, b: &Profile) -> Option<Score> {
    if a.exclusive != 0 && b.exclusive != 0 && a.exclusive != b.exclusive {
        return None;
    }
    let year = match (a.year, b.year) {
        (0, _) | (_, 0) => 0.5,
        (x, y) if x == y => 1.0,
        (x, y) if x.abs_diff(y) == 1 => 0.5,
        _ => return None,
    };
    let context = if a.context.is_empty() || b.context.is_empty() {
        0.5
    } else {
        let shared = a
            .context
            .iter()
            .filter(|word| b.context.binary_search(word).is_ok())
            .count();
        let all = a.context.len() + b.context.len() - shared;
        shared as f64 / all as f64
    };
    Some(Score { year, context })
}

/// The folded name and what else a record is compared on.
fn profile_of(record: &AnyRecord) -> Option<(String, Profile)> {
    let id = record.id().into();
    let (name, year, context, exclusive): (&str, u32, &str, &str) = match record {
        AnyRecord::Expert(expert) => (
            &expert.full_name,
            expert.birth_year,
            &expert.organization_name,
            expert
                .identifiers
                .as_ref()
                .map_or("", |ids| ids.orcid.as_str()),
        ),
        AnyRecord::Project(project) => (
            &project.title,
            project
                .planned_start
                .get(..4)
                .and_then(|year| year.parse().ok())
                .unwrap_or(0),
            project
                .lead
                .as_ref()
                .map_or("", |lead: &pb::ProjectPerson| lead.name.as_str()),
            "",
        ),
        AnyRecord::Publication(paper) => (&paper.title, paper.year, &paper.venue, &paper.doi),
        AnyRecord::Organization(organization) => (
            &organization.name,
            0,
            &organization.province,
            &organization.agency_code,
        ),
    };
    let name = normalized(name);
    if name.is_empty() {
        return None;
    }
    let folded = normalized(context);
    let words: Vec<&str> = folded.split(' ').filter(|word| !word.is_empty()).collect();
    let telling: Vec<&str> = words
        .iter()
        .copied()
        .filter(|word| !COMMON_CONTEXT_WORDS.contains(word))
        .collect();
    let words = if telling.is_empty() { words } else { telling };
    let mut context: Vec<u32> = words.iter().map(|word| hash(word) as u32).collect();
    context.sort_unstable();
    context.dedup();
    let context = context.into_boxed_slice();
    let exclusive = if exclusive.is_empty() {
        0
    } else {
        hash(&exclusive.to_lowercase()) | 1
    };
    Some((
        name,
        Profile {
            id,
            year,
            context,
            exclusive,
        },
    ))
}

/// A quick hash (FNV-1a): buckets and word sets only, where a rare
/// collision costs one needless comparison.
fn hash(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn expert(id: &str, name: &str, year: u32, organization: &str, orcid: &str) -> AnyRecord {
        AnyRecord::Expert(pb::Expert {
            meta: Some(pb::RecordMeta {
                id: id.into(),
                ..Default::default()
            }),
            full_name: name.into(),
            birth_year: year,
            organization_name: organization.into(),
            identifiers: Some(pb::ExpertIdentifiers {
                orcid: orcid.into(),
                ..Default::default()
            }),
            ..Default::default()
        })
    }

    #[test]
    fn the_same_person_elsewhere_is_suggested_and_namesakes_are_not() {
        let mut index = LikenessIndex::default();
        index.add(&expert(
            "n:expert:a",
            "Nguyễn Văn Đức",
            1968,
            "Viện Công nghệ sinh học",
            "",
        ));
        // Without diacritics, the same year, another organization.
        let moved = expert(
            "n:expert:b",
            "Nguyen Van Duc",
            1968,
            "Sở KH&CN Hưng Yên",
            "",
        );
        // Same name and year at an unrelated organization: as likely a
        // namesake, not listed.
        assert_eq!(index.most_like(&moved), None);
        // At a unit of the same institute: listed.
        let unit = expert(
            "n:expert:f",
            "Nguyen Van Duc",
            1968,
            "Phòng Công nghệ tế bào – Viện Công nghệ sinh học",
            "",
        );
        let found = index.most_like(&unit).expect("suggested");
        assert_eq!(found.id, "n:expert:a");
        assert!(found.score >= SUGGEST_AT, "{found:?}");
        // The same organization, birth year unknown on one side.
        let unknown_year = expert(
            "n:expert:c",
            "NGUYỄN VĂN ĐỨC",
            0,
            "Viện Công nghệ Sinh học",
            "",
        );
        let found = index.most_like(&unknown_year).expect("suggested");
        assert_eq!(found.score, 0.85);
        // Twenty years apart: a namesake.
        let namesake = expert(
            "n:expert:d",
            "Nguyễn Văn Đức",
            1988,
            "Viện Công nghệ sinh học",
            "",
        );
        assert_eq!(index.most_like(&namesake), None);
        // Another name entirely.
        let other = expert("n:expert:e", "Nguyễn Văn An", 1968, "", "");
        assert_eq!(index.most_like(&other), None);
    }

    #[test]
    fn two_orcids_are_two_people_and_a_record_is_not_like_itself() {
        let mut index = LikenessIndex::default();
        let held = expert("n:expert:a", "Lê Hải", 1970, "Viện", "0000-0002-1825-0097");
        index.add(&held);
        assert_eq!(index.most_like(&held), None);
        let other = expert("n:expert:b", "Lê Hải", 1970, "Viện", "0000-0002-1694-233X");
        assert_eq!(index.most_like(&other), None);
        let without = expert("n:expert:c", "Lê Hải", 1970, "Viện", "");
        assert_eq!(index.most_like(&without).map(|l| l.score), Some(1.0));
    }
}
