//! The match tiers of a query and the SQL that answers one tier.
//!
//! Tiers partition the matches: with q the folded query,
//! - Exact: name/title == q;
//! - NamePhrase: q is a phrase of the name, not equal to it;
//! - NameWords: every word is in the name, q is not a phrase of it;
//! - TextPhrase: q is a phrase of the text, not every word is in the name;
//! - TextWords: every word is in the text, q is not a phrase of it, not every
//!   word is in the name.
//!
//! The predicates make the tiers disjoint, so paging walks each once.

use lienthong_records::search_document::{TermScope, bigram};

use super::MatchTier;
use super::query::{ParsedQuery, TermGroup};
use crate::Backend;

/// How a tier finds its candidates.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Driver {
    /// The exact-name index.
    Exact,
    /// The postings of the rarest single-term group (or a scan by position when
    /// there is none).
    Postings,
}

/// A row condition on `records r`.
#[derive(Clone, Debug)]
enum Condition {
    PrimaryNotEquals(String),
    /// Padded column text contains " phrase " (or not).
    Contains {
        column: &'static str,
        phrase: String,
        negate: bool,
    },
    /// Not every word is a word of the name.
    NotAllWordsInPrimary(Vec<String>),
}

/// One tier of a query.
#[derive(Clone, Debug)]
pub(crate) struct TierPlan {
    pub tier: MatchTier,
    pub driver: Driver,
    pub groups: Vec<TermGroup>,
    conditions: Vec<Condition>,
}

fn unigrams(scope: TermScope, words: &[String]) -> Vec<TermGroup> {
    let mut distinct: Vec<&String> = words.iter().collect();
    distinct.sort();
    distinct.dedup();
    distinct
        .into_iter()
        .map(|word| TermGroup {
            scope,
            terms: vec![word.clone()],
        })
        .collect()
}

fn bigrams(scope: TermScope, words: &[String]) -> Vec<TermGroup> {
    if words.len() < 2 {
        return unigrams(scope, words);
    }
    let mut terms: Vec<String> = words
        .windows(2)
        .map(|pair| bigram(&pair[0], &pair[1]))
        .collect();
    terms.sort();
    terms.dedup();
    terms
        .into_iter()
        .map(|term| TermGroup {
            scope,
            terms: vec![term],
        })
        .collect()
}

/// The tiers of a query, best first.
pub(crate) fn tiers(query: &ParsedQuery) -> Vec<TierPlan> {
    let mut common_groups = query.facets.clone();
    let mut common_conditions = Vec::new();
    for phrase in &query.phrases {
        common_groups.extend(bigrams(TermScope::Text, phrase));
        common_conditions.push(Condition::Contains {
            column: "search_text",
            phrase: phrase.join(" "),
            negate: false,
        });
    }
    let tier = |tier, driver, groups: Vec<TermGroup>, conditions: Vec<Condition>| {
        let mut all_groups = common_groups.clone();
        all_groups.extend(groups);
        let mut all_conditions = common_conditions.clone();
        all_conditions.extend(conditions);
        TierPlan {
            tier,
            driver,
            groups: all_groups,
            conditions: all_conditions,
        }
    };
    let words = &query.words;
    if words.is_empty() {
        return vec![tier(
            MatchTier::FilterOnly,
            Driver::Postings,
            vec![],
            vec![],
        )];
    }
    let q = query.joined();
    let contains = |column, negate| Condition::Contains {
        column,
        phrase: q.clone(),
        negate,
    };
    let not_all_in_name = Condition::NotAllWordsInPrimary(words.clone());
    let mut plans = vec![
        tier(MatchTier::Exact, Driver::Exact, vec![], vec![]),
        tier(
            MatchTier::NamePhrase,
            Driver::Postings,
            bigrams(TermScope::Primary, words),
            vec![
                contains("primary_text", false),
                Condition::PrimaryNotEquals(q.clone()),
            ],
        ),
    ];
    if words.len() >= 2 {
        plans.push(tier(
            MatchTier::NameWords,
            Driver::Postings,
            unigrams(TermScope::Primary, words),
            vec![contains("primary_text", true)],
        ));
    }
    plans.push(tier(
        MatchTier::TextPhrase,
        Driver::Postings,
        bigrams(TermScope::Text, words),
        vec![contains("search_text", false), not_all_in_name.clone()],
    ));
    // When the whole query is one quoted phrase, every match has the phrase in
    // its text, so the words-only tier is empty; proving that would walk every
    // posting of its driving term.
    let whole_query_quoted = query.phrases.iter().any(|phrase| phrase == words);
    if words.len() >= 2 && !whole_query_quoted {
        plans.push(tier(
            MatchTier::TextWords,
            Driver::Postings,
            unigrams(TermScope::Text, words),
            vec![contains("search_text", true), not_all_in_name],
        ));
    }
    plans
}

/// A value bound to a placeholder.
#[derive(Clone, Debug)]
pub(crate) enum Bind {
    Int(i64),
    Text(String),
}

/// SQL text with its bound values, in placeholder order.
pub(crate) struct Statement {
    pub sql: String,
    pub binds: Vec<Bind>,
}

impl Statement {
    fn bind(&mut self, value: Bind) -> String {
        self.binds.push(value);
        format!("${}", self.binds.len())
    }
}

/// Whether `haystack` contains the bound `needle`, as a plain function call.
///
/// Not `LIKE`: SQLite re-prepares a statement whenever the value bound to a
/// `LIKE` pattern changes (the pattern could enable its prefix optimization),
/// which cost a fifth of a search's CPU. A position function has no
/// wildcards to escape either.
fn contains(backend: Backend, haystack: &str, needle: &str) -> String {
    match backend {
        Backend::Sqlite => format!("instr({haystack}, {needle}) > 0"),
        Backend::Postgres => format!("strpos({haystack}, {needle}) > 0"),
    }
}

/// Which positions one walk may return.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Window {
    /// Positions after this one.
    pub after: i64,
    /// No further than this position, when given.
    pub upper: Option<i64>,
    /// At most this many rows.
    pub limit: usize,
}

/// Renders the SQL for one tier: rows (doc, body) inside `window`, in position
/// order. `driver` indexes the group whose postings drive the walk; the other
/// groups are probed per candidate, in `probe_order`.
pub(crate) fn render(
    backend: Backend,
    query: &ParsedQuery,
    plan: &TierPlan,
    driver: Option<usize>,
    probe_order: &[usize],
    window: Window,
) -> Statement {
    let Window {
        after,
        upper,
        limit,
    } = window;
    let mut st = Statement {
        sql: String::with_capacity(512),
        binds: Vec::new(),
    };
    let kind = st.bind(Bind::Int(query.kind.code()));
    let position;
    let mut wheres = Vec::new();
    match (&plan.driver, driver) {
        (Driver::Exact, _) => {
            position = "r.doc";
            st.sql
                .push_str("SELECT r.doc AS doc, r.body AS body FROM records r WHERE ");
            wheres.push(format!("r.kind = {kind}"));
            let q = st.bind(Bind::Text(query.joined()));
            wheres.push(format!("r.primary_text = {q}"));
        }
        (Driver::Postings, Some(index)) => {
            position = "p.doc";
            let group = &plan.groups[index];
            // CROSS JOIN pins the postings as the outer loop on SQLite, which
            // otherwise may scan the records' rowid range between the bounds.
            st.sql.push_str(
                "SELECT p.doc AS doc, r.body AS body FROM postings p CROSS JOIN records r WHERE r.doc = p.doc AND ",
            );
            wheres.push(format!("p.kind = {kind}"));
            let scope = st.bind(Bind::Int(group.scope as i64));
            wheres.push(format!("p.scope = {scope}"));
            let term = st.bind(Bind::Text(group.terms[0].clone()));
            wheres.push(format!("p.term = {term}"));
        }
        (Driver::Postings, None) => {
            position = "r.doc";
            st.sql
                .push_str("SELECT r.doc AS doc, r.body AS body FROM records r WHERE ");
            wheres.push(format!("r.kind = {kind}"));
        }
    }
    let after = st.bind(Bind::Int(after));
    wheres.push(format!("{position} > {after}"));
    if let Some(upper) = upper {
        let upper = st.bind(Bind::Int(upper));
        wheres.push(format!("{position} <= {upper}"));
    }
    wheres.push("r.deleted = 0".into());
    wheres.push("r.shareable = 1".into());
    for &index in probe_order {
        if Some(index) == driver && plan.driver == Driver::Postings {
            continue;
        }
        let group = &plan.groups[index];
        let scope = st.bind(Bind::Int(group.scope as i64));
        let terms: Vec<String> = group
            .terms
            .iter()
            .map(|term| st.bind(Bind::Text(term.clone())))
            .collect();
        wheres.push(format!(
            "EXISTS (SELECT 1 FROM postings x WHERE x.kind = {kind} AND x.scope = {scope} AND x.term IN ({}) AND x.doc = {position})",
            terms.join(", ")
        ));
    }
    for condition in &plan.conditions {
        let sql = match condition {
            Condition::PrimaryNotEquals(q) => {
                format!("r.primary_text <> {}", st.bind(Bind::Text(q.clone())))
            }
            Condition::Contains {
                column,
                phrase,
                negate,
            } => {
                let needle = st.bind(Bind::Text(format!(" {phrase} ")));
                let found = contains(backend, &format!("' ' || r.{column} || ' '"), &needle);
                if *negate {
                    format!("NOT {found}")
                } else {
                    found
                }
            }
            Condition::NotAllWordsInPrimary(words) => {
                let each: Vec<String> = words
                    .iter()
                    .map(|word| {
                        let needle = st.bind(Bind::Text(format!(" {word} ")));
                        contains(backend, "' ' || r.primary_text || ' '", &needle)
                    })
                    .collect();
                format!("NOT ({})", each.join(" AND "))
            }
        };
        wheres.push(sql);
    }
    if query.year_from != 0 {
        wheres.push(format!(
            "r.year >= {}",
            st.bind(Bind::Int(i64::from(query.year_from)))
        ));
    }
    if query.year_to != 0 {
        let to = st.bind(Bind::Int(i64::from(query.year_to)));
        wheres.push(format!("r.year <= {to} AND r.year > 0"));
    }
    // A literal, not a bound value: SQLite re-prepares a statement whenever
    // the integer bound to its LIMIT changes.
    st.sql.push_str(&wheres.join(" AND "));
    st.sql
        .push_str(&format!(" ORDER BY {position} LIMIT {limit}"));
    st
}
