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

use std::collections::BinaryHeap;

use tantivy::postings::SegmentPostings;
use tantivy::query::{EnableScoring, Query};
use tantivy::schema::IndexRecordOption;
use tantivy::{
    DocAddress, DocId, DocSet, Score, Searcher, SegmentOrdinal, SegmentReader, TERMINATED, Term,
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

/// The first `limit` matches of `query` strictly after `after`, ranked by
/// `relevance`.
///
/// Once `limit` hits are held, a match must reach the relevance of the worst
/// of them to enter; the walk then skips, WAND-style, to the first document
/// whose clauses could add up to that: clauses sorted by the next document
/// each holds, the pivot is where their weights first reach the threshold.
/// A query word held by 40% of a million names then costs what its best
/// few thousand cost, not all 400,000.
pub(crate) fn best_after(
    searcher: &Searcher,
    query: &dyn Query,
    relevance: &[RelevanceClause],
    after: Option<Place>,
    limit: usize,
) -> tantivy::Result<Vec<(Place, DocAddress)>> {
    let weight = query.weight(EnableScoring::disabled_from_searcher(searcher))?;
    let mut best: BinaryHeap<(Place, DocAddress)> = BinaryHeap::with_capacity(limit + 1);
    if limit == 0 {
        return Ok(Vec::new());
    }
    for (ordinal, segment) in searcher.segment_readers().iter().enumerate() {
        let mut walk = SegmentWalk::open(segment, relevance)?;
        let positions = segment.fast_fields().u64("doc")?;
        let alive = segment.alive_bitset();
        let mut scorer = weight.scorer(segment, 1.0)?;
        let mut doc = scorer.doc();
        while doc != TERMINATED {
            if best.len() == limit
                && let Some((worst, _)) = best.peek()
            {
                match walk.pivot(doc, worst.relevance()) {
                    None => break,
                    Some(pivot) if pivot > doc => {
                        doc = scorer.seek(pivot);
                        continue;
                    }
                    Some(_) => {}
                }
            }
            let candidate = alive
                .is_none_or(|bits| bits.is_alive(doc))
                .then(|| positions.first(doc))
                .flatten();
            if let Some(position) = candidate {
                let place = Place::new(walk.relevance(doc), position);
                let after_cursor = after.is_none_or(|after| place > after);
                let better =
                    best.len() < limit || best.peek().is_some_and(|(worst, _)| place < *worst);
                if after_cursor && better {
                    best.push((place, DocAddress::new(ordinal as SegmentOrdinal, doc)));
                    if best.len() > limit {
                        best.pop();
                    }
                }
            }
            doc = scorer.advance();
        }
    }
    let mut hits = best.into_vec();
    hits.sort_unstable_by_key(|(place, _)| *place);
    Ok(hits)
}

/// The relevance clauses' postings in one segment.
struct SegmentWalk {
    /// Per clause: its weight and the postings of its terms.
    clauses: Vec<(Score, Vec<SegmentPostings>)>,
}

impl SegmentWalk {
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
        Ok(SegmentWalk { clauses })
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
    /// `threshold`; `None` when no later document can.
    fn pivot(&mut self, doc: DocId, threshold: Score) -> Option<DocId> {
        if threshold <= 0.0 {
            return Some(doc);
        }
        let mut next: Vec<(DocId, Score)> = self
            .clauses
            .iter_mut()
            .map(|(weight, postings)| (Self::next_held(postings, doc), *weight))
            .filter(|(held, _)| *held != TERMINATED)
            .collect();
        next.sort_unstable_by_key(|(held, _)| *held);
        let mut reachable = 0.0;
        for (held, weight) in next {
            reachable += weight;
            if reachable >= threshold {
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
