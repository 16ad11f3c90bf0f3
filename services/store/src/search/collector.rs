//! Collects the best hits of one tier that come after a cursor, in the
//! order search pages walk: relevance descending, then database position
//! ascending. The order is total and depends on each record alone, so a
//! cursor marks a place that writes to other records do not move.
//!
//! Relevance is computed here, for the tier's matches only: each clause's
//! postings are sought to the matching document, in document order. (As
//! optional clauses of the tier's query, tantivy would walk the union of
//! their postings, every record holding any query word, to find the few
//! that match.)

use std::collections::BinaryHeap;
use std::sync::Arc;

use tantivy::collector::{Collector, SegmentCollector};
use tantivy::columnar::Column;
use tantivy::postings::SegmentPostings;
use tantivy::schema::IndexRecordOption;
use tantivy::{DocAddress, DocId, DocSet, Score, SegmentOrdinal, SegmentReader, TERMINATED, Term};

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

/// The first `limit` hits strictly after `after`, ranked by `relevance`.
pub(crate) struct AfterPlace {
    pub after: Option<Place>,
    pub limit: usize,
    pub relevance: Arc<Vec<RelevanceClause>>,
}

pub(crate) struct SegmentAfterPlace {
    segment: SegmentOrdinal,
    positions: Column<u64>,
    after: Option<Place>,
    limit: usize,
    /// Per clause: its weight and the postings of its terms in this segment.
    clauses: Vec<(Score, Vec<SegmentPostings>)>,
    /// The best hits so far; the worst on top.
    best: BinaryHeap<(Place, DocAddress)>,
}

impl SegmentAfterPlace {
    fn relevance(&mut self, doc: DocId) -> Score {
        let mut relevance = 0.0;
        for (weight, postings) in &mut self.clauses {
            let mut held = false;
            for list in postings.iter_mut() {
                let at = if list.doc() < doc {
                    list.seek(doc)
                } else {
                    list.doc()
                };
                held |= at == doc && at != TERMINATED;
            }
            if held {
                relevance += *weight;
            }
        }
        relevance
    }
}

impl Collector for AfterPlace {
    type Fruit = Vec<(Place, DocAddress)>;
    type Child = SegmentAfterPlace;

    fn for_segment(
        &self,
        segment: SegmentOrdinal,
        reader: &SegmentReader,
    ) -> tantivy::Result<SegmentAfterPlace> {
        let mut clauses = Vec::with_capacity(self.relevance.len());
        for clause in self.relevance.iter() {
            let mut postings = Vec::with_capacity(clause.terms.len());
            for term in &clause.terms {
                let index = reader.inverted_index(term.field())?;
                if let Some(list) = index.read_postings(term, IndexRecordOption::Basic)? {
                    postings.push(list);
                }
            }
            if !postings.is_empty() {
                clauses.push((clause.weight, postings));
            }
        }
        Ok(SegmentAfterPlace {
            segment,
            positions: reader.fast_fields().u64("doc")?,
            after: self.after,
            limit: self.limit,
            clauses,
            best: BinaryHeap::with_capacity(self.limit + 1),
        })
    }

    fn requires_scoring(&self) -> bool {
        false
    }

    fn merge_fruits(
        &self,
        segments: Vec<Vec<(Place, DocAddress)>>,
    ) -> tantivy::Result<Vec<(Place, DocAddress)>> {
        let mut all: Vec<(Place, DocAddress)> = segments.into_iter().flatten().collect();
        all.sort_unstable_by_key(|(place, _)| *place);
        all.truncate(self.limit);
        Ok(all)
    }
}

impl SegmentCollector for SegmentAfterPlace {
    type Fruit = Vec<(Place, DocAddress)>;

    fn collect(&mut self, doc: DocId, _: Score) {
        let Some(position) = self.positions.first(doc) else {
            return;
        };
        let place = Place::new(self.relevance(doc), position);
        if self.after.is_some_and(|after| place <= after) {
            return;
        }
        if self.best.len() == self.limit {
            match self.best.peek() {
                Some((worst, _)) if place < *worst => {
                    self.best.pop();
                }
                _ => return,
            }
        }
        self.best.push((place, DocAddress::new(self.segment, doc)));
    }

    fn harvest(self) -> Vec<(Place, DocAddress)> {
        self.best.into_vec()
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
