//! Proposal checks (*kiểm tra trùng lặp*): before a department approves a
//! new task, the completed and ongoing tasks — its own and those it mirrors
//! from other provinces — whose title, objectives or keywords resemble the
//! proposal's, ranked by a similarity score, each with the phrases the two
//! share.
//!
//! - **Words.** Text is folded as search folds it (case, diacritics, đ), so
//!   a proposal typed without diacritics finds tasks written with them.
//!   Words every research title uses ("nghiên cứu", "ứng dụng", "giải
//!   pháp", "tỉnh", ...) carry no weight.
//! - **Features.** Each remaining word, and each pair of neighbouring words
//!   (Vietnamese compounds are two syllables: "chịu mặn", "sinh học"),
//!   weighted by rarity in the node's index (inverse document frequency),
//!   pairs above words.
//! - **Score.** The mean of two weighted cosines of feature sets: title
//!   against title, and title with summary against the task's title,
//!   objectives and keywords. From [`LIKELY_REPEAT`] a task is flagged as a
//!   likely repeat. See `docs/benchmarks.md` for the judged set both are
//!   measured on.
//! - **Candidates** come from the search index (any feature word, best
//!   first), so the cost follows the matches, not the catalog.

use std::collections::{HashMap, HashSet};

use lienthong_proto::v1 as pb;
use lienthong_records::folding::fold_vietnamese;
use lienthong_records::search_document::facet;
use lienthong_records::{AnyRecord, RecordKind};
use tantivy::collector::TopDocs;
use tantivy::query::{BooleanQuery, Occur, Query, TermQuery};
use tantivy::schema::IndexRecordOption;
use tantivy::{Searcher, Term};
use unicode_normalization::UnicodeNormalization;

use super::schema::Fields;
use super::{MirrorScope, search_failed, stored_record};
use crate::{MirrorSource, Store, StoreError};

/// Candidates read from the index per check.
const CANDIDATES: usize = 300;
/// Longest title accepted, in characters.
pub const MAX_TITLE_CHARS: usize = 500;
/// Longest summary accepted, in characters.
pub const MAX_SUMMARY_CHARS: usize = 20_000;
/// Most results returned.
pub const MAX_RESULTS: usize = 100;
/// Below this score a task is not reported.
pub const MIN_SCORE: f64 = 0.2;
/// From this score a task is flagged as likely repeating the proposal
/// (chosen on the judged set; see `docs/benchmarks.md`).
pub const LIKELY_REPEAT: f64 = 0.35;
/// Feature words of the summary kept (the rarest).
const SUMMARY_WORDS: usize = 40;
/// Longest shared phrase reported, in words.
const MAX_PHRASE_WORDS: usize = 12;
/// Words of the proposal (title, then summary) phrases are looked for in.
const MAX_PHRASE_SOURCE_WORDS: usize = 600;

/// Folded words that say nothing about a task's subject.
const GENERIC_WORDS: &[&str] = &[
    "ban", "bien", "cac", "cao", "cho", "co", "cong", "cua", "cuong", "cuu", "dia", "dinh", "doan",
    "dung", "duoc", "de", "den", "gia", "giai", "hieu", "hoan", "huong", "he", "khoa", "la", "lap",
    "ly", "moi", "mot", "muc", "nam", "nang", "nghe", "nghien", "nham", "nhung", "phap", "phat",
    "phuc", "qua", "quan", "ra", "so", "tai", "tang", "tao", "the", "theo", "thanh", "thien",
    "thong", "thuc", "tien", "tinh", "trang", "tren", "trien", "trong", "tu", "ung", "va", "ve",
    "voi", "vu", "vung", "xay", "xuat", "danh",
];

/// What a proposal check asks.
#[derive(Clone, Debug, Default)]
pub struct ProposalCheck {
    pub title: String,
    /// The proposal's summary or objectives; may be empty.
    pub summary: String,
    /// Field-code prefix the tasks must have; empty for any.
    pub field_code_prefix: String,
    /// At most [`MAX_RESULTS`]; 0 for 20.
    pub limit: usize,
    /// Which mirrors it takes besides the node's own tasks.
    pub mirrors: MirrorScope,
}

/// One similar task.
#[derive(Clone, Debug)]
pub struct SimilarTask {
    pub project: pb::Project,
    /// In [0, 1]; 1 for the same title and subject.
    pub score: f64,
    /// Phrases of the task (as it writes them) that the proposal shares,
    /// longest first.
    pub shared_phrases: Vec<String>,
    /// Set when the task is a mirror of another node's.
    pub mirror: Option<MirrorSource>,
}

impl From<SimilarTask> for pb::SimilarTask {
    fn from(task: SimilarTask) -> pb::SimilarTask {
        pb::SimilarTask {
            project: Some(task.project),
            likely_repeat: task.score >= LIKELY_REPEAT,
            score: task.score,
            shared_phrases: task.shared_phrases,
            mirror: task.mirror.map(Into::into),
        }
    }
}

/// A text as words: each as written, and folded.
struct Words {
    written: Vec<String>,
    folded: Vec<String>,
}

impl Words {
    fn of(text: &str) -> Words {
        let composed: String = text.nfc().collect();
        let written: Vec<String> = composed
            .split(|c: char| !c.is_alphanumeric())
            .filter(|word| !word.is_empty())
            .map(str::to_owned)
            .collect();
        let folded = written.iter().map(|word| fold_vietnamese(word)).collect();
        Words { written, folded }
    }

    fn join(parts: &[&str]) -> Words {
        Words::of(&parts.join(" . "))
    }
}

fn generic(word: &str) -> bool {
    GENERIC_WORDS.contains(&word) || word.chars().count() < 2
}

/// A feature: one subject word, or two neighbouring words.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum Feature {
    Word(String),
    Pair(String, String),
}

fn features(words: &Words) -> HashSet<Feature> {
    let mut features = HashSet::new();
    for (index, word) in words.folded.iter().enumerate() {
        if generic(word) {
            continue;
        }
        features.insert(Feature::Word(word.clone()));
        if let Some(next) = words.folded.get(index + 1)
            && !generic(next)
        {
            features.insert(Feature::Pair(word.clone(), next.clone()));
        }
    }
    features
}

/// Feature weights: rarer words weigh more; a pair weighs more than its words.
struct Weights<'a> {
    searcher: &'a Searcher,
    fields: &'a Fields,
    documents: f64,
    cache: HashMap<String, f64>,
}

impl Weights<'_> {
    fn word(&mut self, word: &str) -> f64 {
        if let Some(weight) = self.cache.get(word) {
            return *weight;
        }
        let term = Term::from_field_text(self.fields.text, word);
        let frequency = self.searcher.doc_freq(&term).unwrap_or(0) as f64;
        let weight = (1.0 + (self.documents + 1.0) / (frequency + 1.0)).ln();
        self.cache.insert(word.to_owned(), weight);
        weight
    }

    fn feature(&mut self, feature: &Feature) -> f64 {
        match feature {
            Feature::Word(word) => self.word(word),
            Feature::Pair(first, second) => 0.75 * (self.word(first) + self.word(second)),
        }
    }

    /// Weighted cosine of two feature sets.
    fn cosine(&mut self, a: &HashSet<Feature>, b: &HashSet<Feature>) -> f64 {
        if a.is_empty() || b.is_empty() {
            return 0.0;
        }
        let mut norm = |set: &HashSet<Feature>| -> f64 {
            set.iter()
                .map(|feature| self.feature(feature).powi(2))
                .sum::<f64>()
                .sqrt()
        };
        let (norm_a, norm_b) = (norm(a), norm(b));
        let shared: f64 = a
            .intersection(b)
            .map(|feature| self.feature(feature).powi(2))
            .sum();
        if norm_a == 0.0 || norm_b == 0.0 {
            0.0
        } else {
            shared / (norm_a * norm_b)
        }
    }
}

/// Every run of up to [`MAX_PHRASE_WORDS`] words of the proposal's first
/// [`MAX_PHRASE_SOURCE_WORDS`] (folded): built once per check, so a long
/// summary costs words times phrase length, not more.
fn proposal_runs(proposal: &Words) -> HashSet<&[String]> {
    let folded = &proposal.folded[..proposal.folded.len().min(MAX_PHRASE_SOURCE_WORDS)];
    (1..=MAX_PHRASE_WORDS.min(folded.len()))
        .flat_map(|len| folded.windows(len))
        .collect()
}

/// The runs of words (two or more, or one subject word of 5+ letters) the
/// task's text shares with the proposal, as the task writes them, longest
/// first, without repeats or runs inside longer ones.
fn shared_phrases(proposal_runs: &HashSet<&[String]>, task: &Words) -> Vec<String> {
    let mut found: Vec<(usize, usize)> = Vec::new();
    let mut start = 0;
    while start < task.folded.len() {
        let mut end = start;
        while end < task.folded.len()
            && end - start < MAX_PHRASE_WORDS
            && proposal_runs.contains(&task.folded[start..=end])
        {
            end += 1;
        }
        let run = &task.folded[start..end];
        let subject = run.iter().filter(|word| !generic(word)).count();
        let worth = (run.len() >= 2 && subject >= 1)
            || (run.len() == 1 && subject == 1 && run[0].chars().count() >= 5);
        if worth {
            found.push((start, end));
            start = end;
        } else {
            start += 1;
        }
    }
    found.sort_by_key(|(start, end)| std::cmp::Reverse(end - start));
    let mut phrases: Vec<String> = Vec::new();
    for (start, end) in found {
        let phrase = task.written[start..end].join(" ");
        let folded = fold_vietnamese(&phrase);
        if !phrases
            .iter()
            .any(|held| fold_vietnamese(held).contains(&folded))
        {
            phrases.push(phrase);
        }
        if phrases.len() == 8 {
            break;
        }
    }
    phrases
}

impl Store {
    /// Completed and ongoing tasks resembling a proposal, best first.
    pub async fn check_proposal(
        &self,
        check: &ProposalCheck,
    ) -> Result<Vec<SimilarTask>, StoreError> {
        check_proposal_input(check)?;
        let limit = result_limit(check.limit);

        let index = self.search_index()?;
        let searcher = index.searcher();
        let fields = &index.fields;
        let mut weights = Weights {
            searcher: &searcher,
            fields,
            documents: searcher.num_docs() as f64,
            cache: HashMap::new(),
        };
        let title = Words::of(&check.title);
        let summary = Words::of(&check.summary);
        let title_features = features(&title);
        let mut summary_words: Vec<String> = summary
            .folded
            .iter()
            .filter(|word| !generic(word))
            .cloned()
            .collect::<HashSet<_>>()
            .into_iter()
            .collect();
        summary_words.sort_by(|a, b| weights.word(b).total_cmp(&weights.word(a)).then(a.cmp(b)));
        summary_words.truncate(SUMMARY_WORDS);
        let mut topic_features = title_features.clone();
        topic_features.extend(features(&summary));

        let mut words: Vec<String> = title_features
            .iter()
            .filter_map(|feature| match feature {
                Feature::Word(word) => Some(word.clone()),
                Feature::Pair(..) => None,
            })
            .chain(summary_words)
            .collect::<HashSet<_>>()
            .into_iter()
            .collect();
        words.sort();
        let prefix = check.field_code_prefix.trim();
        let query = candidates_query(fields, &words, prefix, check.mirrors);
        let top = searcher
            .search(&query, &TopDocs::with_limit(CANDIDATES).order_by_score())
            .map_err(search_failed)?;
        let proposal_text = Words::join(&[check.title.as_str(), check.summary.as_str()]);
        let runs = proposal_runs(&proposal_text);
        let mut scored = Vec::new();
        for (_, address) in top {
            let AnyRecord::Project(project) =
                stored_record(&searcher, index, RecordKind::Project, address)?
            else {
                continue;
            };
            let task_title = Words::of(&project.title);
            let keywords: Vec<&str> = project.keywords.iter().map(String::as_str).collect();
            let task_topic = Words::join(
                &[
                    project.title.as_str(),
                    project.objectives.as_str(),
                    &keywords.join(" . "),
                ][..],
            );
            let title_similarity = weights.cosine(&title_features, &features(&task_title));
            let topic_similarity = weights.cosine(&topic_features, &features(&task_topic));
            // Two decimals: finer scores would tell a caller how many
            // records (its scope or not) hold a word.
            let score = ((0.5 * title_similarity + 0.5 * topic_similarity).clamp(0.0, 1.0) * 100.0)
                .round()
                / 100.0;
            if score >= MIN_SCORE {
                scored.push(SimilarTask {
                    shared_phrases: shared_phrases(&runs, &task_topic),
                    project,
                    score,
                    mirror: None,
                });
            }
        }
        scored.sort_by(|a, b| b.score.total_cmp(&a.score).then_with(|| id(a).cmp(id(b))));
        // Only what the database still holds as live (and, for mirrors, in
        // scope) is reported, as for search.
        let mut kept = Vec::with_capacity(limit);
        for chunk in scored.chunks(limit.max(1)) {
            let records: Vec<&str> = chunk.iter().map(id).collect();
            let mut live = self.live_among(&records, check.mirrors).await?;
            for task in chunk {
                if let Some(mirror) = live.remove(id(task)) {
                    kept.push(SimilarTask {
                        mirror,
                        ..task.clone()
                    });
                }
            }
            if kept.len() >= limit {
                break;
            }
        }
        kept.truncate(limit);
        Ok(kept)
    }
}

/// Checks a proposal check's input as every node would, without a store:
/// the gateway refuses what every node would refuse before asking any.
pub fn check_proposal_input(check: &ProposalCheck) -> Result<(), StoreError> {
    let title_chars = check.title.chars().count();
    if check.title.trim().is_empty() {
        return Err(StoreError::InvalidArgument(
            "title is empty; give the proposed task's title".into(),
        ));
    }
    if title_chars > MAX_TITLE_CHARS {
        return Err(StoreError::LimitExceeded(format!(
            "title has {title_chars} characters; the limit is {MAX_TITLE_CHARS}"
        )));
    }
    let summary_chars = check.summary.chars().count();
    if summary_chars > MAX_SUMMARY_CHARS {
        return Err(StoreError::LimitExceeded(format!(
            "summary has {summary_chars} characters; the limit is {MAX_SUMMARY_CHARS}; \
             give the objectives and main content only"
        )));
    }
    let prefix = check.field_code_prefix.trim();
    let well_formed = (1..=7).contains(&prefix.len()) && prefix.bytes().all(|b| b.is_ascii_digit());
    if !prefix.is_empty() && !well_formed {
        return Err(StoreError::InvalidArgument(format!(
            "field code {prefix:?} is not valid; use 1-7 digits, e.g. \"4\" or \"40101\""
        )));
    }
    let subject = |text: &str| Words::of(text).folded.iter().any(|word| !generic(word));
    if !subject(&check.title) && !subject(&check.summary) {
        return Err(StoreError::InvalidArgument(
            "the title has no words that say what the task is about (only words such as \
             \"nghiên cứu\", \"ứng dụng\", \"giải pháp\"); give a more specific title"
                .into(),
        ));
    }
    Ok(())
}

/// How many tasks a check returns when `requested` are asked for.
pub fn result_limit(requested: usize) -> usize {
    match requested {
        0 => 20,
        limit => limit.min(MAX_RESULTS),
    }
}

fn id(task: &SimilarTask) -> &str {
    task.project
        .meta
        .as_ref()
        .map(|meta| meta.id.as_str())
        .unwrap_or_default()
}

/// Completed or ongoing tasks holding any of `words`, of the field when
/// one is given, in the search's mirror scope.
fn candidates_query(
    fields: &Fields,
    words: &[String],
    field_code_prefix: &str,
    mirrors: MirrorScope,
) -> BooleanQuery {
    let term = |field, value: &str| -> Box<dyn Query> {
        Box::new(TermQuery::new(
            Term::from_field_text(field, value),
            IndexRecordOption::WithFreqs,
        ))
    };
    let any_word = BooleanQuery::new(
        words
            .iter()
            .map(|word| (Occur::Should, term(fields.text, word)))
            .collect(),
    );
    let statuses = BooleanQuery::new(
        [pb::ProjectStatus::Completed, pb::ProjectStatus::Ongoing]
            .into_iter()
            .map(|status| {
                (
                    Occur::Should,
                    term(fields.facet, &facet::status(status as i32)),
                )
            })
            .collect(),
    );
    let mut clauses: Vec<(Occur, Box<dyn Query>)> = vec![
        (
            Occur::Must,
            Box::new(TermQuery::new(
                Term::from_field_u64(fields.kind, RecordKind::Project.code() as u64),
                IndexRecordOption::Basic,
            )),
        ),
        (Occur::Must, Box::new(any_word)),
        (Occur::Must, Box::new(statuses)),
    ];
    if !field_code_prefix.is_empty() {
        clauses.push((
            Occur::Must,
            term(fields.facet, &facet::field_code(field_code_prefix)),
        ));
    }
    for scope in mirrors.excluded() {
        clauses.push((Occur::MustNot, term(fields.facet, scope)));
    }
    BooleanQuery::new(clauses)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shared_phrases_are_the_tasks_own_words_longest_first() {
        let proposal = Words::of("Nghien cuu chon tao giong lua chiu man cho vung ven bien");
        let task =
            Words::of("Nghiên cứu chọn tạo giống lúa chịu mặn phù hợp vùng ven biển tỉnh Nam Định");
        let phrases = shared_phrases(&proposal_runs(&proposal), &task);
        assert_eq!(
            phrases,
            ["Nghiên cứu chọn tạo giống lúa chịu mặn", "vùng ven biển"]
        );
    }

    #[test]
    fn generic_research_words_are_no_subject() {
        let words = Words::of("Nghiên cứu ứng dụng giải pháp nâng cao hiệu quả");
        assert!(features(&words).is_empty());
        let words = Words::of("Nuôi tôm thẻ chân trắng");
        assert!(!features(&words).contains(&Feature::Pair("tom".into(), "the".into())));
        assert!(features(&words).contains(&Feature::Pair("nuoi".into(), "tom".into())));
    }
}
