//! Vietnamese-aware search over the inverted index.
//!
//! A query is folded (case, diacritics, đ) into words. Results come in match
//! tiers, best first: exact name or title, the query as a phrase in the name,
//! every word in the name, the query as a phrase elsewhere, every word
//! elsewhere. Within a tier, records come in storage order, so pages are
//! stable and a page token is just (tier, last position).
//!
//! Only records that may leave the node are searched, and only they are in the
//! index: a page's reach, its cost and its token depend on them alone.
//!
//! Each tier is answered by walking the postings of its rarest required term in
//! position order and probing the other terms by index, stopping after one page.
//! A query for "nguyễn" (in ~40% of names) therefore reads one page of postings,
//! never the whole match set. See `docs/decisions/002-search-index.md`.

mod page_token;
mod plan;
mod query;

use std::collections::HashMap;

use lienthong_records::{AnyRecord, RecordKind};
use sqlx::{AssertSqlSafe, Row};

use crate::writes::placeholder;
use crate::{Store, StoreError};
use page_token::PageToken;
use plan::{Driver, TierPlan};

pub use query::{DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, MAX_QUERY_CHARS, MAX_QUERY_WORDS};

/// A search over one record kind.
#[derive(Clone, Debug, Default)]
pub struct SearchRequest {
    pub kind: Option<RecordKind>,
    /// Words and "quoted phrases"; may be empty when filters are given.
    pub query: String,
    /// Field-code prefixes; any of them.
    pub field_code_prefixes: Vec<String>,
    /// Global id of an organization; empty for any.
    pub organization_id: String,
    /// Proto `AcademicTitle` number; 0 for any.
    pub academic_title: i32,
    /// Proto `Degree` number; 0 for any.
    pub degree: i32,
    /// Inclusive; 0 for open.
    pub year_from: u32,
    /// Inclusive; 0 for open.
    pub year_to: u32,
    /// Proto `ProjectStatus` numbers; any of them.
    pub statuses: Vec<i32>,
    /// Proto `ManagementLevel` numbers; any of them.
    pub management_levels: Vec<i32>,
    /// 0 for the default.
    pub page_size: u32,
    /// From a previous page, or empty.
    pub page_token: String,
    /// Who is searching (`node:nam-dinh`, or a gateway and its user): page
    /// tokens are bound to it, so one caller's tokens are refused to another.
    pub caller: String,
}

impl SearchRequest {
    /// The search a gRPC `SearchRequest` for `kind` asks for, on behalf of
    /// `caller`.
    pub fn from_proto(
        kind: RecordKind,
        request: lienthong_proto::v1::SearchRequest,
        caller: String,
    ) -> SearchRequest {
        let filters = request.filters.unwrap_or_default();
        SearchRequest {
            kind: Some(kind),
            query: request.query,
            field_code_prefixes: filters.field_code_prefixes,
            organization_id: filters.organization_id,
            academic_title: filters.academic_title,
            degree: filters.degree,
            year_from: filters.year_from,
            year_to: filters.year_to,
            statuses: filters.statuses,
            management_levels: filters.management_levels,
            page_size: request.page_size,
            page_token: request.page_token,
            caller,
        }
    }
}

/// Checks a search's query and filters against the limits and rules every
/// node applies, without a store: the gateway refuses a request every node
/// would refuse before asking any.
pub fn check_query(request: &SearchRequest) -> Result<(), StoreError> {
    query::parse(request).map(|_| ())
}

/// How a hit matched the query, best first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum MatchTier {
    Exact,
    NamePhrase,
    NameWords,
    TextPhrase,
    TextWords,
    FilterOnly,
}

impl MatchTier {
    /// Score on the scale every node shares, in (0, 1].
    pub fn score(self) -> f64 {
        match self {
            MatchTier::Exact => 1.0,
            MatchTier::NamePhrase => 0.9,
            MatchTier::NameWords => 0.7,
            MatchTier::TextPhrase => 0.5,
            MatchTier::TextWords => 0.3,
            MatchTier::FilterOnly => 0.1,
        }
    }
}

/// One hit.
#[derive(Clone, Debug)]
pub struct SearchHit {
    pub record: AnyRecord,
    pub tier: MatchTier,
    /// A page token that resumes right after this hit.
    pub cursor: String,
}

/// One page of hits.
#[derive(Clone, Debug, Default)]
pub struct SearchPage {
    pub hits: Vec<SearchHit>,
    /// Empty when there are no more hits.
    pub next_page_token: String,
    /// The tier the next page resumes in: no later hit ranks better.
    pub next_page_tier: Option<MatchTier>,
}

/// Postings one page may examine. Keeps a page's cost bounded when matches
/// are sparse among many candidates (a rare name made of common syllables).
pub const WALK_BUDGET: i64 = 1_000;

/// What one tier's walk found.
#[derive(Default)]
struct TierWalk {
    /// (position, body) of matches, at most the limit asked for.
    rows: Vec<(i64, Vec<u8>)>,
    /// Where the walk stopped because the budget ran out, if it did.
    stopped_at: Option<i64>,
}

impl Store {
    /// Checks a search as [`Store::search`] would (query, filters, page
    /// token) without running it: the same errors, none of the work.
    pub fn check_search(&self, request: &SearchRequest) -> Result<(), StoreError> {
        let parsed = query::parse(request)?;
        let tiers = plan::tiers(&parsed);
        PageToken::decode(
            &self.seal,
            &request.page_token,
            parsed.fingerprint,
            tiers.len(),
        )?;
        Ok(())
    }

    /// Runs one page of a search.
    ///
    /// A page examines at most [`WALK_BUDGET`] postings. When matches are sparse
    /// the page can end early with fewer hits and a `next_page_token` that
    /// resumes exactly where it stopped; an empty token means no more hits.
    pub async fn search(&self, request: &SearchRequest) -> Result<SearchPage, StoreError> {
        let parsed = query::parse(request)?;
        let tiers = plan::tiers(&parsed);
        let token = PageToken::decode(
            &self.seal,
            &request.page_token,
            parsed.fingerprint,
            tiers.len(),
        )?;
        let page_size = parsed.page_size as usize;
        let mut page = SearchPage::default();
        // Read lazily: a page the exact-name index fills needs no frequencies.
        let mut term_counts = HashMap::new();
        let mut budget = WALK_BUDGET;
        let mut next: Option<PageToken> = None;
        for (index, tier) in tiers.iter().enumerate().skip(token.tier) {
            let after = if index == token.tier { token.after } else { 0 };
            let resume_here = |after: i64| PageToken { tier: index, after };
            if budget == 0 {
                next = Some(resume_here(after));
                break;
            }
            if term_counts.is_empty() && tier.driver == Driver::Postings {
                term_counts = self
                    .document_frequencies(parsed.kind.code(), &tiers[index..])
                    .await?;
            }
            let wanted = page_size - page.hits.len();
            let walk = self
                .run_tier(&parsed, tier, after, wanted + 1, &term_counts, &mut budget)
                .await?;
            let more_in_tier = walk.rows.len() > wanted;
            for (position, body) in walk.rows.iter().take(wanted) {
                page.hits.push(SearchHit {
                    record: AnyRecord::decode(parsed.kind, body)?,
                    tier: tier.tier,
                    cursor: resume_here(*position).encode(&self.seal, parsed.fingerprint),
                });
            }
            if more_in_tier {
                next = Some(resume_here(walk.rows[wanted - 1].0));
                break;
            }
            if let Some(stopped_at) = walk.stopped_at {
                next = Some(resume_here(stopped_at));
                break;
            }
            if page.hits.len() == page_size {
                if index + 1 < tiers.len() {
                    next = Some(PageToken {
                        tier: index + 1,
                        after: 0,
                    });
                }
                break;
            }
        }
        if let Some(next) = next {
            page.next_page_token = next.encode(&self.seal, parsed.fingerprint);
            page.next_page_tier = Some(tiers[next.tier].tier);
        }
        Ok(page)
    }

    async fn run_tier(
        &self,
        parsed: &query::ParsedQuery,
        tier: &TierPlan,
        after: i64,
        limit: usize,
        term_counts: &HashMap<(i64, String), i64>,
        budget: &mut i64,
    ) -> Result<TierWalk, StoreError> {
        let kind = parsed.kind.code();
        // Pick the rarest single-term group to drive the tier.
        let mut driver: Option<(usize, i64)> = None;
        // Document frequency per single-term group; alternatives count as unknown.
        let mut frequencies = vec![i64::MAX; tier.groups.len()];
        if matches!(tier.driver, Driver::Postings) {
            for (index, group) in tier.groups.iter().enumerate() {
                let [term] = group.terms.as_slice() else {
                    continue;
                };
                // Read for every tier from this one on; absent means no postings.
                let count = term_counts
                    .get(&(group.scope as i64, term.clone()))
                    .copied()
                    .unwrap_or(0);
                if count == 0 {
                    return Ok(TierWalk::default());
                }
                frequencies[index] = count;
                if driver.is_none_or(|(_, best)| count < best) {
                    driver = Some((index, count));
                }
            }
        }
        // Probe the rarest terms first, so most candidates fail on the first probe.
        let mut probe_order: Vec<usize> = (0..tier.groups.len()).collect();
        probe_order.sort_by_key(|&index| frequencies[index]);
        // Bound the walk to what is left of the budget.
        let upper = match (&tier.driver, driver) {
            (Driver::Exact, _) => None,
            (Driver::Postings, Some((index, count))) => {
                let upper = if count > *budget {
                    let group = &tier.groups[index];
                    self.nth_posting(kind, group.scope as i64, &group.terms[0], after, *budget)
                        .await?
                } else {
                    None
                };
                *budget -= count.min(*budget);
                upper
            }
            (Driver::Postings, None) => {
                let upper = self.nth_record(kind, after, *budget).await?;
                if upper.is_some() {
                    *budget = 0;
                }
                upper
            }
        };
        let statement = plan::render(
            self.backend,
            parsed,
            tier,
            driver.map(|(index, _)| index),
            &probe_order,
            plan::Window {
                after,
                upper,
                limit,
            },
        );
        let mut query = sqlx::query(AssertSqlSafe(statement.sql));
        for value in statement.binds {
            query = match value {
                plan::Bind::Int(value) => query.bind(value),
                plan::Bind::Text(value) => query.bind(value),
            };
        }
        let rows = query
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(|row| {
                Ok((
                    row.try_get::<i64, _>("doc")?,
                    row.try_get::<Vec<u8>, _>("body")?,
                ))
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        Ok(TierWalk {
            rows,
            stopped_at: upper,
        })
    }

    /// The position of the `n`-th posting of a term after `after`, if the list is that long.
    async fn nth_posting(
        &self,
        kind: i64,
        scope: i64,
        term: &str,
        after: i64,
        n: i64,
    ) -> Result<Option<i64>, StoreError> {
        let row: Option<(i64,)> = sqlx::query_as(
            "SELECT doc FROM postings WHERE kind = $1 AND scope = $2 AND term = $3 AND doc > $4 ORDER BY doc LIMIT 1 OFFSET $5",
        )
        .bind(kind)
        .bind(scope)
        .bind(term)
        .bind(after)
        .bind(n - 1)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(|(doc,)| doc))
    }

    /// The position of the `n`-th record of a kind after `after`, if there are that many.
    async fn nth_record(&self, kind: i64, after: i64, n: i64) -> Result<Option<i64>, StoreError> {
        let row: Option<(i64,)> = sqlx::query_as(
            "SELECT doc FROM records WHERE kind = $1 AND shareable = 1 AND deleted = 0 AND doc > $2 ORDER BY doc LIMIT 1 OFFSET $3",
        )
        .bind(kind)
        .bind(after)
        .bind(n - 1)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(|(doc,)| doc))
    }

    /// Document frequencies of every single term the tiers may drive from, in
    /// one statement (terms absent from `term_stats` occur nowhere: 0).
    async fn document_frequencies(
        &self,
        kind: i64,
        tiers: &[TierPlan],
    ) -> Result<HashMap<(i64, String), i64>, StoreError> {
        let mut counts: HashMap<(i64, String), i64> = HashMap::new();
        for tier in tiers.iter().filter(|tier| tier.driver == Driver::Postings) {
            for group in &tier.groups {
                if let [term] = group.terms.as_slice() {
                    counts.insert((group.scope as i64, term.clone()), 0);
                }
            }
        }
        if counts.is_empty() {
            return Ok(counts);
        }
        // One primary-key lookup per (scope, term), as UNION ALL arms: each arm
        // uses the key on both backends whatever the planner's statistics say.
        let keys: Vec<(i64, String)> = counts.keys().cloned().collect();
        let mut n = 0;
        let mut next = || {
            n += 1;
            placeholder(self.backend, n)
        };
        let arms: Vec<String> = keys
            .iter()
            .map(|_| {
                format!(
                    "SELECT scope, term, df FROM term_stats WHERE kind = {} AND scope = {} AND term = {}",
                    next(),
                    next(),
                    next()
                )
            })
            .collect();
        let sql = arms.join(" UNION ALL ");
        let mut query = sqlx::query_as::<_, (i64, String, i64)>(AssertSqlSafe(sql));
        for (scope, term) in &keys {
            query = query.bind(kind).bind(*scope).bind(term.as_str());
        }
        for (scope, term, df) in query.fetch_all(&self.pool).await? {
            if let Some(count) = counts.get_mut(&(scope, term)) {
                *count = df;
            }
        }
        Ok(counts)
    }
}
