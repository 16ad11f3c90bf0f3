//! Vietnamese-aware search over the node's search index.
//!
//! A query is folded (case, diacritics, đ) into words. Results come in match
//! tiers, best first: exact name or title, the query as a phrase in the name,
//! every word in the name, the query as a phrase elsewhere, every word
//! elsewhere, and last every word within one edit (typos). Within a tier,
//! hits are ranked by relevance (where the words matched, and whether they
//! matched with the query's own diacritics), then by storage order, so pages
//! are stable and a page token is (tier, relevance, position).
//!
//! Only records that may leave the node are searched, and only they are in
//! the index: a page's reach, its cost and its token depend on them alone.
//! See `docs/decisions/006-search-engine.md`.

mod collector;
pub(crate) mod index;
mod index_directory;
mod page_token;
mod proposal;
mod query;
pub(crate) mod schema;
mod tiers;

use lienthong_records::folding::tokens;
use lienthong_records::search_document::search_document;
use lienthong_records::{AnyRecord, RecordKind};
use tantivy::schema::Value;
use tantivy::{DocAddress, TantivyDocument};

use crate::{Store, StoreError};
use page_token::PageToken;
use query::ParsedQuery;

pub use index::IndexLocation;
pub(crate) use index_directory::rebuild as rebuild_index;
pub use proposal::{LIKELY_REPEAT, ProposalCheck, SimilarTask, check_proposal_input, result_limit};
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
    /// Which of the node's mirrors of other nodes' records it also takes.
    pub mirrors: MirrorScope,
}

/// Which mirrors a search takes besides the node's own records.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum MirrorScope {
    /// None: the node's own records only.
    #[default]
    None,
    /// Those public at their origin: what a grant may let go onward.
    Public,
    /// Every mirror: for the node's own users.
    All,
}

impl MirrorScope {
    /// Facet terms of the scopes left out.
    fn excluded(self) -> Vec<&'static str> {
        let mirror = schema::Scope::Mirror.facet();
        let public = schema::Scope::PublicMirror.facet();
        match self {
            MirrorScope::None => [mirror, public].into_iter().flatten().collect(),
            MirrorScope::Public => mirror.into_iter().collect(),
            MirrorScope::All => Vec::new(),
        }
    }
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
            mirrors: MirrorScope::None,
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
    /// Every word within one edit of a word of the record.
    Typo,
    FilterOnly,
}

impl MatchTier {
    /// The tier's band on the score scale every node shares: scores of its
    /// hits lie in `[low, high)`, below every better tier's.
    fn band(self) -> (f64, f64) {
        match self {
            MatchTier::Exact => (0.9, 1.0),
            MatchTier::NamePhrase => (0.75, 0.9),
            MatchTier::NameWords => (0.6, 0.75),
            MatchTier::TextPhrase => (0.45, 0.6),
            MatchTier::TextWords => (0.3, 0.45),
            MatchTier::Typo => (0.15, 0.3),
            MatchTier::FilterOnly => (0.05, 0.15),
        }
    }

    /// The shared-scale score of a hit of this tier with `relevance`: higher
    /// relevance, higher score, never leaving the band.
    pub fn score(self, relevance: f32) -> f64 {
        let (low, high) = self.band();
        let relevance = f64::from(relevance.max(0.0));
        low + (high - low) * relevance / (relevance + 32.0)
    }

    /// No hit of this tier scores higher: the top of its band.
    pub fn best_score(self) -> f64 {
        self.band().1
    }
}

/// Where a hit ranks, on the scale every node shares.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Rank {
    pub tier: MatchTier,
    /// In (0, 1); higher is better. Its tier's band, placed by relevance.
    pub score: f64,
}

/// One hit.
#[derive(Clone, Debug)]
pub struct SearchHit {
    pub record: AnyRecord,
    pub rank: Rank,
    /// The record's words (folded) that matched the query, for highlighting.
    pub matched_words: Vec<String>,
    /// A page token that resumes right after this hit.
    pub cursor: String,
    /// Set when the hit is a mirror of another node's record.
    pub mirror: Option<crate::MirrorSource>,
}

/// One page of hits.
#[derive(Clone, Debug, Default)]
pub struct SearchPage {
    pub hits: Vec<SearchHit>,
    /// Empty when there are no more hits.
    pub next_page_token: String,
    /// The best rank a hit of the next page can have.
    pub next_page_rank: Option<Rank>,
}

impl Store {
    /// Checks a search as [`Store::search`] would (query, filters, page
    /// token) without running it: the same errors, none of the work.
    pub fn check_search(&self, request: &SearchRequest) -> Result<(), StoreError> {
        let parsed = query::parse(request)?;
        PageToken::decode(
            &self.seal,
            &request.page_token,
            parsed.fingerprint,
            tiers::count(&parsed),
        )?;
        Ok(())
    }

    /// Runs one page of a search. Results reflect every write this process
    /// has finished, and writes of other processes within the refresh
    /// interval.
    pub async fn search(&self, request: &SearchRequest) -> Result<SearchPage, StoreError> {
        let parsed = query::parse(request)?;
        let index = self.search_index()?;
        let token = PageToken::decode(
            &self.seal,
            &request.page_token,
            parsed.fingerprint,
            tiers::count(&parsed),
        )?;
        let searcher = index.searcher();
        let corrected = if request.page_token.is_empty() {
            tiers::unknown_words(&parsed, &index.fields, &searcher)
        } else {
            token.corrected
        };
        let tiers = tiers::tiers(&parsed, &index.fields, corrected);
        let relevance = tiers::relevance(&parsed, &index.fields);
        let page_size = parsed.page_size as usize;
        let mut page = SearchPage::default();
        let mut next: Option<PageToken> = None;
        for (position, tier) in tiers.iter().enumerate().skip(token.tier) {
            let after = if position == token.tier {
                token.after
            } else {
                None
            };
            let wanted = page_size - page.hits.len();
            let found = collector::best_after(
                &searcher,
                &index.positions,
                &*tier.query,
                &relevance,
                tier.walk,
                after,
                wanted + 1,
            )
            .map_err(search_failed)?;
            let more_in_tier = found.len() > wanted;
            for (place, address) in found.iter().take(wanted) {
                let record = stored_record(&searcher, index, parsed.kind, *address)?;
                page.hits.push(SearchHit {
                    matched_words: matched_words(&record, &parsed, tier.tier),
                    record,
                    rank: Rank {
                        tier: tier.tier,
                        score: tier.tier.score(place.relevance()),
                    },
                    cursor: PageToken {
                        tier: position,
                        after: Some(*place),
                        corrected,
                    }
                    .encode(&self.seal, parsed.fingerprint),
                    mirror: None,
                });
            }
            if more_in_tier {
                next = Some(PageToken {
                    tier: position,
                    after: Some(found[wanted - 1].0),
                    corrected,
                });
                break;
            }
            if page.hits.len() == page_size {
                if position + 1 < tiers.len() {
                    next = Some(PageToken {
                        tier: position + 1,
                        after: None,
                        corrected,
                    });
                }
                break;
            }
        }
        // The index follows the database; should it lag or fail, a hit the
        // database no longer holds as live and shareable (or as a live
        // mirror in the search's scope) is not returned.
        let ids: Vec<&str> = page.hits.iter().map(|hit| hit.record.id()).collect();
        let mut live = self.live_among(&ids, request.mirrors).await?;
        page.hits
            .retain_mut(|hit| match live.remove(hit.record.id()) {
                Some(mirror) => {
                    hit.mirror = mirror;
                    true
                }
                None => false,
            });
        if let Some(next) = next {
            page.next_page_token = next.encode(&self.seal, parsed.fingerprint);
            let tier = tiers[next.tier].tier;
            page.next_page_rank = Some(Rank {
                tier,
                score: match next.after {
                    Some(place) => tier.score(place.relevance()),
                    None => tier.best_score(),
                },
            });
        }
        Ok(page)
    }
}

impl Store {
    /// Which of `ids` (index hits) the database holds as live: the node's
    /// own records live and shareable, mirrors live and in `scope`, each
    /// mirror with where it came from. The index follows the database and
    /// may lag it; nothing leaves on the index's word alone.
    pub(crate) async fn live_among(
        &self,
        ids: &[&str],
        scope: MirrorScope,
    ) -> Result<std::collections::HashMap<String, Option<crate::MirrorSource>>, StoreError> {
        let (own, mirrored): (Vec<&str>, Vec<&str>) =
            ids.iter().copied().partition(|id| self.holds_own(id));
        let mut live: std::collections::HashMap<_, _> = self
            .visible_among(&own, &RecordKind::ALL.into_iter().collect())
            .await?
            .into_iter()
            .map(|id| (id, None))
            .collect();
        if !mirrored.is_empty() && scope != MirrorScope::None {
            let mirrors = self
                .live_mirrors(&mirrored, scope == MirrorScope::Public)
                .await?;
            live.extend(mirrors.into_iter().map(|(id, source)| (id, Some(source))));
        }
        Ok(live)
    }
}

fn search_failed(error: tantivy::TantivyError) -> StoreError {
    tracing::error!(%error, "search index query failed");
    StoreError::Internal
}

fn stored_record(
    searcher: &tantivy::Searcher,
    index: &index::SearchIndex,
    kind: RecordKind,
    address: DocAddress,
) -> Result<AnyRecord, StoreError> {
    let document: TantivyDocument = searcher.doc(address).map_err(search_failed)?;
    let body = document
        .get_first(index.fields.body)
        .and_then(|value| value.as_bytes())
        .ok_or_else(|| {
            tracing::error!("search index entry without a record body");
            StoreError::Internal
        })?;
    Ok(AnyRecord::decode(kind, body)?)
}

/// The record's folded words that match a query word (as typed or as
/// meant, or within one edit in the typo tier), in the record's order.
fn matched_words(record: &AnyRecord, parsed: &ParsedQuery, tier: MatchTier) -> Vec<String> {
    let document = search_document(record);
    let mut matched: Vec<String> = Vec::new();
    for text in document.texts() {
        for word in tokens(text) {
            let hit = parsed.words.iter().any(|query_word| {
                query_word.alternatives().any(|form| form == word)
                    || (tier == MatchTier::Typo
                        && query_word.folded.chars().count() >= tiers::MIN_TYPO_LETTERS
                        && within_one_edit(&query_word.folded, &word))
            });
            if hit && !matched.contains(&word) {
                matched.push(word);
            }
        }
    }
    matched
}

/// Whether `a` becomes `b` by at most one insertion, deletion,
/// substitution or swap of neighbours.
fn within_one_edit(a: &str, b: &str) -> bool {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let common_prefix = a.iter().zip(&b).take_while(|(x, y)| x == y).count();
    let (a, b) = (&a[common_prefix..], &b[common_prefix..]);
    match (a.len(), b.len()) {
        (0, 0) | (1, 0) | (0, 1) => true,
        (x, y) if x == y => {
            a[1..] == b[1..] || (x >= 2 && a[0] == b[1] && a[1] == b[0] && a[2..] == b[2..])
        }
        (x, y) if x == y + 1 => a[1..] == *b,
        (x, y) if y == x + 1 => *a == b[1..],
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_edit_counts_a_swap_as_one() {
        assert!(within_one_edit("hai", "hia"));
        assert!(within_one_edit("hai", "hao"));
        assert!(within_one_edit("hai", "ha"));
        assert!(within_one_edit("nguyen", "nguyenn"));
        assert!(!within_one_edit("hai", "iah"));
        assert!(!within_one_edit("nguyen", "ngyuen x"));
    }

    #[test]
    fn scores_stay_in_their_tier_band_and_follow_relevance() {
        let tiers = [
            MatchTier::Exact,
            MatchTier::NamePhrase,
            MatchTier::NameWords,
            MatchTier::TextPhrase,
            MatchTier::TextWords,
            MatchTier::Typo,
            MatchTier::FilterOnly,
        ];
        for pair in tiers.windows(2) {
            assert!(pair[0].score(0.0) >= pair[1].best_score(), "{pair:?}");
            assert!(pair[0].score(0.0) > pair[1].score(1000.0), "{pair:?}");
        }
        assert!(MatchTier::NameWords.score(9.0) > MatchTier::NameWords.score(8.0));
        assert!(MatchTier::Exact.best_score() <= 1.0);
    }
}
