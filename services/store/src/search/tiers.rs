//! The match tiers of a query as index queries, and the relevance that ranks
//! hits within a tier.
//!
//! With P the predicates below, each over every reading of the query (as
//! typed, and as meant when typed with input-method keys):
//! - Exact: the folded name equals the query;
//! - NamePhrase: the query is a phrase of the name (and not Exact);
//! - NameWords: every word is in the name (and not NamePhrase);
//! - TextPhrase: the query is a phrase of some text (and not NameWords);
//! - TextWords: every word is in the text (and neither of the above);
//! - Typo: every word is in the text, or, for a word of three letters or
//!   more that no record holds, within one edit of a word there, a
//!   transposition counting as one (and not TextWords). Only unknown words
//!   are corrected: expanding every common syllable to its neighbours
//!   ("hai" → "han", "hao", "tai", …) would make the tier cost more than all
//!   the others, and a word some record holds is most likely meant as typed.
//!   Which words count as unknown is decided on a search's first page and
//!   carried in its page token, so later writes do not move hits in or out
//!   of the tier while a caller pages.
//!
//! Each predicate implies the next of its kind (Exact ⊂ NamePhrase ⊂
//! NameWords ⊂ TextWords ⊂ Typo, TextPhrase ⊂ TextWords), so excluding the
//! one before makes the tiers disjoint and paging walks each once.
//!
//! Relevance is a sum of fixed weights for where each word matched: the
//! name over subject (specialization, keywords) over affiliation (every
//! match has each word somewhere in its text), plus a boost where a word
//! matches with the query's own diacritics.
//! It depends on the record and the query alone, never on other records, so
//! a record that does not change keeps its place while others are written.

use std::ops::Bound;

use lienthong_records::RecordKind;
use tantivy::query::EnableScoring;
use tantivy::query::{
    BooleanQuery, EmptyQuery, FuzzyTermQuery, Occur, PhraseQuery, Query, RangeQuery, TermQuery,
};
use tantivy::schema::{Field, IndexRecordOption};
use tantivy::{DocSet, Searcher, TERMINATED, Term};

use super::MatchTier;
use super::collector::{RelevanceClause, Walk};
use super::query::{ParsedQuery, QueryWord};
use super::schema::Fields;

/// Weight of a word found in the name.
const NAME_WEIGHT: f32 = 8.0;
/// … in specialization or keywords.
const SUBJECT_WEIGHT: f32 = 4.0;
/// … in organizations, venues or people.
const AFFILIATION_WEIGHT: f32 = 2.0;
/// Extra for a word spelled with the query's diacritics in the name.
const NAME_ACCENT_BOOST: f32 = 4.0;
/// … elsewhere in the text.
const TEXT_ACCENT_BOOST: f32 = 1.0;

/// Words shorter than this must match exactly: most Vietnamese syllables are
/// short, and one edit turns one into another ("hai", "hao", "mai").
pub(crate) const MIN_TYPO_LETTERS: usize = 3;

/// One tier: its name and the query that finds its hits (unscored; the
/// collector ranks them with [`relevance`]), and how to walk them.
pub(crate) struct TierQuery {
    pub tier: MatchTier,
    pub query: Box<dyn Query>,
    pub walk: Walk,
}

/// The clauses that rank hits within a tier: each word's field weights, and
/// the boosts for its diacritics.
pub(crate) fn relevance(parsed: &ParsedQuery, fields: &Fields) -> Vec<RelevanceClause> {
    let mut clauses = Vec::new();
    for word in &parsed.words {
        for (field, weight) in [
            (fields.name, NAME_WEIGHT),
            (fields.subject, SUBJECT_WEIGHT),
            (fields.affiliation, AFFILIATION_WEIGHT),
        ] {
            clauses.push(RelevanceClause {
                weight,
                terms: word
                    .alternatives()
                    .map(|form| Term::from_field_text(field, form))
                    .collect(),
            });
        }
        if let Some(accent) = &word.accent {
            for (field, weight) in [
                (fields.name_accent, NAME_ACCENT_BOOST),
                (fields.text_accent, TEXT_ACCENT_BOOST),
            ] {
                clauses.push(RelevanceClause {
                    weight,
                    terms: vec![Term::from_field_text(field, accent)],
                });
            }
        }
    }
    clauses
}

/// Whether a query has a typo tier: some word is long enough to correct.
fn has_typo_tier(parsed: &ParsedQuery) -> bool {
    parsed
        .words
        .iter()
        .any(|word| word.folded.chars().count() >= MIN_TYPO_LETTERS)
}

/// How many tiers a query has (whatever words are corrected).
pub(crate) fn count(parsed: &ParsedQuery) -> usize {
    if parsed.words.is_empty() {
        return 1;
    }
    let several = parsed.words.len() >= 2;
    let whole_query_quoted = parsed
        .phrases
        .iter()
        .any(|phrase| phrase.len() == parsed.words.len());
    3 + usize::from(several)
        + usize::from(several && !whole_query_quoted)
        + usize::from(has_typo_tier(parsed))
}

/// The words a typo tier corrects, as a bit per word: long enough, and held
/// by no live record of the query's kind (in any of their forms). Only the
/// kind searched counts, and only live entries: whether a word is corrected
/// says nothing about records of kinds the caller may not see, nor about
/// records withdrawn since they were indexed.
pub(crate) fn unknown_words(parsed: &ParsedQuery, fields: &Fields, searcher: &Searcher) -> u16 {
    let kind = Term::from_field_u64(fields.kind, RecordKind::code(parsed.kind) as u64);
    let mut mask = 0;
    for (position, word) in parsed.words.iter().enumerate().take(16) {
        if word.folded.chars().count() < MIN_TYPO_LETTERS {
            continue;
        }
        let held = word.alternatives().any(|form| {
            let mut clauses: Vec<(Occur, Box<dyn Query>)> = vec![
                (Occur::Must, term(kind.clone())),
                (Occur::Must, term(Term::from_field_text(fields.text, form))),
            ];
            // Only what this search may reach decides: mirrors left out
            // must not stop a correction (and so reveal their words).
            for scope in &parsed.excluded_scopes {
                clauses.push((
                    Occur::MustNot,
                    term(Term::from_field_text(fields.facet, scope)),
                ));
            }
            let both = BooleanQuery::new(clauses);
            // An error counts as held: no correction, nothing to reveal.
            any_live_match(searcher, &both).unwrap_or(true)
        });
        if !held {
            mask |= 1 << position;
        }
    }
    mask
}

/// Whether `query` matches a live document, stopping at the first.
fn any_live_match(searcher: &Searcher, query: &dyn Query) -> tantivy::Result<bool> {
    let weight = query.weight(EnableScoring::disabled_from_searcher(searcher))?;
    for segment in searcher.segment_readers() {
        let mut scorer = weight.scorer(segment, 1.0)?;
        let alive = segment.alive_bitset();
        let mut doc = scorer.doc();
        while doc != TERMINATED {
            if alive.is_none_or(|bits| bits.is_alive(doc)) {
                return Ok(true);
            }
            doc = scorer.advance();
        }
    }
    Ok(false)
}

/// The tiers of a query, best first; `corrected` says which words the typo
/// tier corrects (see [`unknown_words`]).
pub(crate) fn tiers(parsed: &ParsedQuery, fields: &Fields, corrected: u16) -> Vec<TierQuery> {
    let build = Builder {
        parsed,
        fields,
        corrected,
    };
    let common = build.common();
    if parsed.words.is_empty() {
        return vec![TierQuery {
            tier: MatchTier::FilterOnly,
            query: boolean(common),
            walk: Walk::MatchesFirst,
        }];
    }
    let exact = build.exact();
    let name_phrase = build.phrase(fields.name);
    let name_words = build.all_words(fields.name, false);
    let text_phrase = build.phrase(fields.text);
    let text_words = build.all_words(fields.text, false);
    let several = parsed.words.len() >= 2;
    let whole_query_quoted = parsed
        .phrases
        .iter()
        .any(|phrase| phrase.len() == parsed.words.len());
    // A phrase of several words costs a read of positions per candidate:
    // quoted ones in every tier, the query itself in the phrase tiers.
    let quoted = parsed.phrases.iter().any(|phrase| phrase.len() > 1);
    let walk = |phrase: bool| {
        if quoted || (phrase && several) {
            Walk::RelevanceFirst
        } else {
            Walk::MatchesFirst
        }
    };
    let tier = |tier, required: Box<dyn Query>, excluded: Vec<Box<dyn Query>>| {
        let mut clauses = copy(&common);
        clauses.push((Occur::Must, required));
        clauses.extend(excluded.into_iter().map(|query| (Occur::MustNot, query)));
        TierQuery {
            tier,
            query: boolean(clauses),
            walk: walk(matches!(
                tier,
                MatchTier::NamePhrase | MatchTier::TextPhrase
            )),
        }
    };
    let mut plans = vec![
        tier(MatchTier::Exact, exact.box_clone(), vec![]),
        tier(MatchTier::NamePhrase, name_phrase.box_clone(), vec![exact]),
    ];
    if several {
        plans.push(tier(
            MatchTier::NameWords,
            name_words.box_clone(),
            vec![name_phrase],
        ));
    }
    plans.push(tier(
        MatchTier::TextPhrase,
        text_phrase.box_clone(),
        vec![name_words.box_clone()],
    ));
    // When the whole query is one quoted phrase, every match has the phrase in
    // its text, so the words-only tier is empty.
    if several && !whole_query_quoted {
        plans.push(tier(
            MatchTier::TextWords,
            text_words.box_clone(),
            vec![text_phrase, name_words],
        ));
    }
    if has_typo_tier(parsed) {
        let query = if corrected == 0 {
            // Nothing to correct: the tier would repeat TextWords.
            Box::new(EmptyQuery) as Box<dyn Query>
        } else {
            let mut clauses = copy(&common);
            clauses.push((Occur::Must, build.all_words(fields.text, true)));
            clauses.push((Occur::MustNot, text_words));
            boolean(clauses)
        };
        plans.push(TierQuery {
            tier: MatchTier::Typo,
            query,
            walk: walk(false),
        });
    }
    debug_assert_eq!(plans.len(), count(parsed));
    plans
}

struct Builder<'a> {
    parsed: &'a ParsedQuery,
    fields: &'a Fields,
    /// Words the typo tier corrects, a bit each.
    corrected: u16,
}

impl Builder<'_> {
    fn corrects(&self, position: usize) -> bool {
        position < 16 && self.corrected & (1 << position) != 0
    }
}

type Clauses = Vec<(Occur, Box<dyn Query>)>;

fn copy(clauses: &Clauses) -> Clauses {
    clauses
        .iter()
        .map(|(occur, query)| (*occur, query.box_clone()))
        .collect()
}

impl Builder<'_> {
    /// What every tier requires: the kind, the filters, quoted phrases and
    /// the year range.
    fn common(&self) -> Clauses {
        let kind = RecordKind::code(self.parsed.kind) as u64;
        let mut clauses: Clauses = vec![(
            Occur::Must,
            term(Term::from_field_u64(self.fields.kind, kind)),
        )];
        for group in &self.parsed.facets {
            let terms = group
                .terms
                .iter()
                .map(|value| term(Term::from_field_text(self.fields.facet, value)))
                .collect();
            clauses.push((Occur::Must, any(terms)));
        }
        for scope in &self.parsed.excluded_scopes {
            clauses.push((
                Occur::MustNot,
                term(Term::from_field_text(self.fields.facet, scope)),
            ));
        }
        for phrase in &self.parsed.phrases {
            clauses.push((Occur::Must, phrase_of(self.fields.text, phrase)));
        }
        if self.parsed.year_from != 0 || self.parsed.year_to != 0 {
            let year = |value: u32| Term::from_field_u64(self.fields.year, u64::from(value));
            let lower = match self.parsed.year_from {
                0 => Bound::Excluded(year(0)),
                from => Bound::Included(year(from)),
            };
            let upper = match self.parsed.year_to {
                0 => Bound::Unbounded,
                to => Bound::Included(year(to)),
            };
            clauses.push((Occur::Must, Box::new(RangeQuery::new(lower, upper))));
        }
        clauses
    }

    /// The folded name equals one reading of the query.
    fn exact(&self) -> Box<dyn Query> {
        any(self
            .parsed
            .readings()
            .iter()
            .map(|words| {
                term(Term::from_field_text(
                    self.fields.name_key,
                    &words.join(" "),
                ))
            })
            .collect())
    }

    /// One reading of the query is a phrase of `field`.
    fn phrase(&self, field: Field) -> Box<dyn Query> {
        any(self
            .parsed
            .readings()
            .iter()
            .map(|words| phrase_of(field, words))
            .collect())
    }

    /// Every word is in `field`, or (with `typos`) within one edit of a word
    /// there when it is one the typo tier corrects.
    fn all_words(&self, field: Field, typos: bool) -> Box<dyn Query> {
        let each = self
            .parsed
            .words
            .iter()
            .enumerate()
            .map(|(position, word)| {
                let mut forms = word_terms(field, word);
                if typos && self.corrects(position) {
                    forms.push(fuzzy(field, &word.folded));
                }
                (Occur::Must, any(forms))
            })
            .collect();
        boolean(each)
    }
}

fn term(term: Term) -> Box<dyn Query> {
    Box::new(TermQuery::new(term, IndexRecordOption::Basic))
}

fn fuzzy(field: Field, word: &str) -> Box<dyn Query> {
    Box::new(FuzzyTermQuery::new(
        Term::from_field_text(field, word),
        1,
        true,
    ))
}

/// Terms of `field` that match `word` as typed or as meant.
fn word_terms(field: Field, word: &QueryWord) -> Vec<Box<dyn Query>> {
    word.alternatives()
        .map(|form| term(Term::from_field_text(field, form)))
        .collect()
}

fn phrase_of(field: Field, words: &[String]) -> Box<dyn Query> {
    match words {
        [] => Box::new(EmptyQuery),
        [word] => term(Term::from_field_text(field, word)),
        words => Box::new(PhraseQuery::new(
            words
                .iter()
                .map(|word| Term::from_field_text(field, word))
                .collect(),
        )),
    }
}

/// Matches what any of `queries` matches.
fn any(mut queries: Vec<Box<dyn Query>>) -> Box<dyn Query> {
    match queries.len() {
        0 => Box::new(EmptyQuery),
        1 => queries.remove(0),
        _ => Box::new(BooleanQuery::new(
            queries
                .into_iter()
                .map(|query| (Occur::Should, query))
                .collect(),
        )),
    }
}

fn boolean(clauses: Clauses) -> Box<dyn Query> {
    Box::new(BooleanQuery::new(clauses))
}
