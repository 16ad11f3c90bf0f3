//! Collects the best hits of one tier that come after a cursor, in the
//! order search pages walk: relevance descending, then database position
//! ascending. The order is total and depends on each record alone, so a
//! cursor marks a place that writes to other records do not move.
//!
//! Relevance is computed here, for the tier's matches only: each clause's
//! postings are sought to the matching document, in document order. (As
//! optional clauses of the tier's query, tantivy would walk the union of
//! their postings, every record holding any query word, to find the few
//! that match.) Matches that cannot reach the page are skipped (see
//! [`best_after`]).

use std::collections::{BinaryHeap, HashMap};
use std::sync::Mutex;

use tantivy::columnar::Column;
use tantivy::fastfield::AliveBitSet;
use tantivy::index::SegmentId;

use tantivy::postings::SegmentPostings;
use tantivy::query::{EnableScoring, Query};
use tantivy::schema::IndexRecordOption;
use tantivy::{
    DocAddress, DocId, DocSet, Score, Searcher, SeekDangerResult, SegmentOrdinal, SegmentReader,
    TERMINATED, Term,
};

/// Adds `weight` to a match that holds any of `terms`.
#[derive(Clone, Debug)]
pub(crate) struct RelevanceClause {
    pub weight: Score,
    pub terms: Vec<Term>,
}

/// A place in a tier's order: smaller comes first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct Place {
    /// Relevance, inverted so that higher relevance sorts first. Scores are
    /// sums of non-negative weights, and the bits of non-negative floats
    /// order as the floats do.
    inverted_relevance: u32,
    /// Database position: the stable tie-break.
    pub doc: u64,
}

impl Place {
    pub fn new(relevance: Score, doc: u64) -> Place {
        Place {
            inverted_relevance: u32::MAX - relevance.max(0.0).to_bits(),
            doc,
        }
    }

    pub fn relevance(self) -> Score {
        Score::from_bits(u32::MAX - self.inverted_relevance)
    }

    pub fn to_parts(self) -> (u32, u64) {
        (self.inverted_relevance, self.doc)
    }

    pub fn from_parts(inverted_relevance: u32, doc: u64) -> Place {
        Place {
            inverted_relevance,
            doc,
        }
    }
}

/// How a tier's matches are walked once the page is full.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Walk {
    /// Ask the tier's query for its next match, then rank it: for queries
    /// that cost little per match (terms, their intersections).
    MatchesFirst,
    /// Rank a document from the relevance clauses' postings first, and ask
    /// the tier's query only about documents that would enter the page: for
    /// phrases, whose every candidate costs a read of word positions.
    RelevanceFirst,
}

/// The first `limit` matches of `query` strictly after `after`, ranked by
/// `relevance`.
///
/// Once `limit` hits are held, a match must reach the relevance of the worst
/// of them to enter; the walk then skips, WAND-style, to the first document
/// whose clauses could add up to that: clauses sorted by the next document
/// each holds, the pivot is where their weights first reach the threshold.
/// A query word held by 40% of a million names then costs what its best
/// few thousand cost, not all 400,000.
///
/// A match that only ties the worst needs a lower position to enter. The
/// index keeps each segment's documents sorted by position (see
/// `schema::settings`), so once the walk is past the worst's position no
/// later document of the segment can win a tie: the walk then skips to
/// documents that could beat it outright. A tier of tens of thousands of
/// equally relevant matches stops once its page is full, instead of reading
/// every match to break the tie.
pub(crate) fn best_after(
    searcher: &Searcher,
    columns: &PositionColumns,
    query: &dyn Query,
    relevance: &[RelevanceClause],
    walk_order: Walk,
    after: Option<Place>,
    limit: usize,
) -> tantivy::Result<Vec<(Place, DocAddress)>> {
    if limit == 0 {
        return Ok(Vec::new());
    }
    let weight = query.weight(EnableScoring::disabled_from_searcher(searcher))?;
    let mut best = Best {
        heap: BinaryHeap::with_capacity(limit + 1),
        limit,
        after,
    };
    let sorted =
        searcher.index().settings().sort_by_field == super::schema::settings().sort_by_field;
    for (ordinal, segment) in searcher.segment_readers().iter().enumerate() {
        let mut segment_walk = SegmentWalk {
            clauses: RelevancePostings::open(segment, relevance)?,
            positions: columns.of(searcher, segment)?,
            alive: segment.alive_bitset().cloned(),
            ordinal: ordinal as SegmentOrdinal,
            max_doc: segment.max_doc(),
            sorted,
        };
        let mut scorer = weight.scorer(segment, 1.0)?;
        match walk_order {
            Walk::MatchesFirst => segment_walk.matches_first(&mut *scorer, &mut best),
            Walk::RelevanceFirst => segment_walk.relevance_first(&mut *scorer, &mut best),
        }
    }
    let mut hits = best.heap.into_vec();
    hits.sort_unstable_by_key(|(place, _)| *place);
    Ok(hits)
}

/// The `doc` fast-field column of each segment, opened once: opening one
/// reads its block index, which at a million documents costs a rare name's
/// whole search several times over.
#[derive(Default)]
pub(crate) struct PositionColumns {
    held: Mutex<HashMap<SegmentId, Column<u64>>>,
}

impl PositionColumns {
    fn of(&self, searcher: &Searcher, segment: &SegmentReader) -> tantivy::Result<Column<u64>> {
        let id = segment.segment_id();
        // A panic elsewhere while holding the map leaves it whole.
        let mut held = self
            .held
            .lock()
            .unwrap_or_else(|poison| poison.into_inner());
        if let Some(column) = held.get(&id) {
            return Ok(column.clone());
        }
        let column = segment.fast_fields().u64("doc")?;
        // Segments merged away are let go (and their files with them).
        let current = searcher.segment_readers();
        held.retain(|held_id, _| current.iter().any(|reader| reader.segment_id() == *held_id));
        held.insert(id, column.clone());
        Ok(column)
    }
}

/// The best places found so far.
struct Best {
    /// The worst on top.
    heap: BinaryHeap<(Place, DocAddress)>,
    limit: usize,
    after: Option<Place>,
}

impl Best {
    /// The worst held, once `limit` are held: what a match must beat.
    fn bar(&self) -> Option<Place> {
        (self.heap.len() == self.limit)
            .then(|| self.heap.peek().map(|(worst, _)| *worst))
            .flatten()
    }

    fn would_take(&self, place: Place) -> bool {
        self.after.is_none_or(|after| place > after) && self.bar().is_none_or(|bar| place < bar)
    }

    fn offer(&mut self, place: Place, address: DocAddress) {
        if self.would_take(place) {
            self.heap.push((place, address));
            if self.heap.len() > self.limit {
                self.heap.pop();
            }
        }
    }
}

/// One segment's walk: the relevance clauses' postings, and what a match
/// needs to become a hit.
struct SegmentWalk {
    clauses: RelevancePostings,
    positions: Column<u64>,
    alive: Option<AliveBitSet>,
    ordinal: SegmentOrdinal,
    max_doc: DocId,
    /// Whether the index keeps segments sorted by position. One written by
    /// an earlier version (held open by another process) may not.
    sorted: bool,
}

impl SegmentWalk {
    /// Where `bar` sends the walk from `doc`: `None` when no later document
    /// can beat it, else the first that might.
    fn pivot(&mut self, doc: DocId, bar: Place) -> Option<DocId> {
        // Past the bar's position, a tie loses: only a higher relevance
        // enters (positions rise with document ids within a sorted segment).
        let ties_can_enter =
            !self.sorted || self.positions.first(doc).is_none_or(|at| at <= bar.doc);
        self.clauses.pivot(doc, bar.relevance(), !ties_can_enter)
    }

    /// Offers `doc`, a match of the tier, with its relevance if known.
    fn offer(&mut self, doc: DocId, relevance: Option<Score>, best: &mut Best) {
        if !self.alive.as_ref().is_none_or(|bits| bits.is_alive(doc)) {
            return;
        }
        if let Some(position) = self.positions.first(doc) {
            let relevance = relevance.unwrap_or_else(|| self.clauses.relevance(doc));
            best.offer(
                Place::new(relevance, position),
                DocAddress::new(self.ordinal, doc),
            );
        }
    }

    fn matches_first(&mut self, scorer: &mut dyn DocSet, best: &mut Best) {
        let mut doc = scorer.doc();
        while doc != TERMINATED {
            if let Some(bar) = best.bar() {
                match self.pivot(doc, bar) {
                    None => return,
                    Some(pivot) if pivot > doc => {
                        doc = scorer.seek(pivot);
                        continue;
                    }
                    Some(_) => {}
                }
            }
            self.offer(doc, None, best);
            doc = scorer.advance();
        }
    }

    fn relevance_first(&mut self, scorer: &mut dyn DocSet, best: &mut Best) {
        let mut target = scorer.doc();
        while target < self.max_doc {
            let mut relevance = None;
            if let Some(bar) = best.bar() {
                match self.pivot(target, bar) {
                    None => return,
                    Some(pivot) if pivot > target => {
                        target = pivot;
                        continue;
                    }
                    Some(_) => {}
                }
                // With a bar of no relevance nothing is pruned: ask the
                // tier's query straight away.
                if bar.relevance() > 0.0 {
                    let score = self.clauses.relevance(target);
                    let place = self
                        .positions
                        .first(target)
                        .map(|position| Place::new(score, position));
                    match place {
                        Some(place) if best.would_take(place) => relevance = Some(score),
                        // Ranked before the cursor (an earlier page's): such
                        // documents need not be the tier's, so let the
                        // tier's query say where its next match is.
                        Some(place) if best.after.is_some_and(|after| place <= after) => {
                            target = match scorer.seek_danger(target) {
                                SeekDangerResult::SeekLowerBound(next) => next,
                                SeekDangerResult::Found => target + 1,
                            };
                            continue;
                        }
                        _ => {
                            target += 1;
                            continue;
                        }
                    }
                }
            }
            // Only `seek_danger` from here on: after a miss the scorer may
            // be between documents until it finds one.
            if let SeekDangerResult::SeekLowerBound(next) = scorer.seek_danger(target) {
                target = next;
                continue;
            }
            self.offer(target, relevance, best);
            target += 1;
        }
    }
}

/// The relevance clauses' postings in one segment.
struct RelevancePostings {
    /// Per clause: its weight and the postings of its terms.
    clauses: Vec<(Score, Vec<SegmentPostings>)>,
    /// Room for [`RelevancePostings::pivot`]: each clause's next document.
    next: Vec<(DocId, Score)>,
}

impl RelevancePostings {
    fn open(segment: &SegmentReader, relevance: &[RelevanceClause]) -> tantivy::Result<Self> {
        let mut clauses = Vec::with_capacity(relevance.len());
        for clause in relevance {
            let mut postings = Vec::with_capacity(clause.terms.len());
            for term in &clause.terms {
                let index = segment.inverted_index(term.field())?;
                if let Some(list) = index.read_postings(term, IndexRecordOption::Basic)? {
                    postings.push(list);
                }
            }
            if !postings.is_empty() {
                clauses.push((clause.weight, postings));
            }
        }
        Ok(RelevancePostings {
            next: Vec::with_capacity(clauses.len()),
            clauses,
        })
    }

    /// The next document at or after `doc` that each clause holds.
    fn next_held(postings: &mut [SegmentPostings], doc: DocId) -> DocId {
        postings
            .iter_mut()
            .map(|list| {
                if list.doc() < doc {
                    list.seek(doc)
                } else {
                    list.doc()
                }
            })
            .min()
            .unwrap_or(TERMINATED)
    }

    /// The sum of the weights of the clauses that hold `doc`.
    fn relevance(&mut self, doc: DocId) -> Score {
        let mut relevance = 0.0;
        for (weight, postings) in &mut self.clauses {
            if Self::next_held(postings, doc) == doc {
                relevance += *weight;
            }
        }
        relevance
    }

    /// The first document at or after `doc` whose clauses could add up to
    /// `threshold` (with `strictly`, exceed it); `None` when no later
    /// document can.
    fn pivot(&mut self, doc: DocId, threshold: Score, strictly: bool) -> Option<DocId> {
        if threshold <= 0.0 && !strictly {
            return Some(doc);
        }
        let next = &mut self.next;
        next.clear();
        for (weight, postings) in &mut self.clauses {
            let held = Self::next_held(postings, doc);
            if held != TERMINATED {
                next.push((held, *weight));
            }
        }
        next.sort_unstable_by_key(|(held, _)| *held);
        let mut reachable = 0.0;
        for &(held, weight) in next.iter() {
            reachable += weight;
            if reachable > threshold || (!strictly && reachable >= threshold) {
                return Some(held);
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn places_order_by_relevance_then_position() {
        let high = Place::new(9.0, 7);
        let low = Place::new(1.0, 1);
        assert!(high < low, "higher relevance comes first");
        assert!(
            Place::new(1.0, 1) < Place::new(1.0, 2),
            "then lower position"
        );
        assert_eq!(high.relevance(), 9.0);
        let (bits, doc) = low.to_parts();
        assert_eq!(Place::from_parts(bits, doc), low);
    }
}
