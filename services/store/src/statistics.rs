//! Reporting figures: shared records counted by field, year, status and
//! management level. Only records that may leave the node are counted.

use lienthong_proto::v1::{ManagementLevel, ProjectStatus};
use lienthong_records::RecordKind;
use lienthong_records::search_document::facet;
use tantivy::Term;
use tantivy::collector::Count;
use tantivy::query::{BooleanQuery, Occur, Query, TermQuery};
use tantivy::schema::IndexRecordOption;

use crate::{Store, StoreError};

/// Top-level field codes of Circular 24/2025 (1 natural sciences … 6
/// humanities); legacy 5-digit codes start with the same digit.
const TOP_LEVEL_FIELDS: [&str; 6] = ["1", "2", "3", "4", "5", "6"];

/// Counts for one record kind. Every list is sorted by key.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct KindStatistics {
    pub kind: Option<RecordKind>,
    pub total: u64,
    /// By top-level field code; a record in two fields counts in both.
    pub by_field: Vec<(String, u64)>,
    /// By birth, start or publication year; records without one are left out.
    pub by_year: Vec<(u32, u64)>,
    /// Projects: by proto `ProjectStatus` number.
    pub by_status: Vec<(i32, u64)>,
    /// Projects: by proto `ManagementLevel` number.
    pub by_management_level: Vec<(i32, u64)>,
}

/// Whose records figures count.
#[derive(Clone, Copy)]
enum Whose<'a> {
    /// The node's own (shareable, live) records.
    Own,
    /// The live mirrors of one origin.
    Origin(&'a str),
}

impl Store {
    /// Reporting figures for `kind` over the live records mirrored from
    /// `origin`: what the national node reports per province. Mirrored
    /// experts carry no birth year, so their figures have no years.
    pub async fn mirror_statistics(
        &self,
        kind: RecordKind,
        origin: &str,
    ) -> Result<KindStatistics, StoreError> {
        let code = kind.code();
        let (total,): (i64,) = sqlx::query_as(
            "SELECT COUNT(*) FROM mirrors WHERE kind = $1 AND origin = $2 AND deleted = 0",
        )
        .bind(code)
        .bind(origin)
        .fetch_one(&self.pool)
        .await?;
        let whose = Whose::Origin(origin);
        let fields = TOP_LEVEL_FIELDS.map(facet::field_code);
        let mut statistics = KindStatistics {
            kind: Some(kind),
            total: total as u64,
            by_field: self
                .facet_counts(code, &fields, whose)
                .await?
                .into_iter()
                .map(|(term, count)| (term["f:".len()..].to_owned(), count))
                .collect(),
            by_year: self.year_counts(code, origin)?,
            ..KindStatistics::default()
        };
        self.count_project_facets(kind, whose, &mut statistics)
            .await?;
        Ok(statistics)
    }

    /// Live mirrors of `origin` and `kind` per year, from the index's year
    /// column.
    fn year_counts(&self, kind: i64, origin: &str) -> Result<Vec<(u32, u64)>, StoreError> {
        let index = self.search_index()?;
        let searcher = index.searcher();
        let fields = index.fields;
        let query = BooleanQuery::new(vec![
            (
                Occur::Must,
                Box::new(TermQuery::new(
                    Term::from_field_u64(fields.kind, kind as u64),
                    IndexRecordOption::Basic,
                )) as Box<dyn Query>,
            ),
            (
                Occur::Must,
                Box::new(TermQuery::new(
                    Term::from_field_text(
                        fields.facet,
                        &crate::search::schema::origin_facet(origin),
                    ),
                    IndexRecordOption::Basic,
                )),
            ),
        ]);
        let failed = |error: tantivy::TantivyError| {
            tracing::error!(%error, "search index year count failed");
            StoreError::Internal
        };
        let weight = query
            .weight(tantivy::query::EnableScoring::disabled_from_searcher(
                &searcher,
            ))
            .map_err(failed)?;
        let mut years: std::collections::BTreeMap<u32, u64> = Default::default();
        for segment in searcher.segment_readers() {
            let column = segment.fast_fields().u64("year").map_err(failed)?;
            let alive = segment.alive_bitset();
            let mut scorer = weight.scorer(segment, 1.0).map_err(failed)?;
            let mut doc = scorer.doc();
            while doc != tantivy::TERMINATED {
                if alive.is_none_or(|bits| bits.is_alive(doc))
                    && let Some(year) = column.first(doc)
                    && year > 0
                {
                    *years.entry(year as u32).or_default() += 1;
                }
                doc = scorer.advance();
            }
        }
        Ok(years.into_iter().collect())
    }

    /// Reporting figures for `kind`, over shareable live records.
    pub async fn statistics(&self, kind: RecordKind) -> Result<KindStatistics, StoreError> {
        let code = kind.code();
        let (total,): (i64,) = sqlx::query_as(
            "SELECT COUNT(*) FROM records WHERE kind = $1 AND deleted = 0 AND shareable = 1",
        )
        .bind(code)
        .fetch_one(&self.pool)
        .await?;
        let years: Vec<(i64, i64)> = sqlx::query_as(
            "SELECT year, COUNT(*) FROM records WHERE kind = $1 AND deleted = 0 AND shareable = 1 AND year > 0 GROUP BY year ORDER BY year",
        )
        .bind(code)
        .fetch_all(&self.pool)
        .await?;
        let fields = TOP_LEVEL_FIELDS.map(facet::field_code);
        let mut statistics = KindStatistics {
            kind: Some(kind),
            total: total as u64,
            by_field: self
                .facet_counts(code, &fields, Whose::Own)
                .await?
                .into_iter()
                .map(|(term, count)| (term["f:".len()..].to_owned(), count))
                .collect(),
            by_year: years
                .into_iter()
                .map(|(year, count)| (year as u32, count as u64))
                .collect(),
            ..KindStatistics::default()
        };
        self.count_project_facets(kind, Whose::Own, &mut statistics)
            .await?;
        Ok(statistics)
    }

    /// A project's counts by status and management level.
    async fn count_project_facets(
        &self,
        kind: RecordKind,
        whose: Whose<'_>,
        statistics: &mut KindStatistics,
    ) -> Result<(), StoreError> {
        if kind != RecordKind::Project {
            return Ok(());
        }
        let code = kind.code();
        statistics.by_status = self
            .enum_counts(
                code,
                known_values(|v| ProjectStatus::try_from(v).is_ok()),
                facet::status,
                whose,
            )
            .await?;
        statistics.by_management_level = self
            .enum_counts(
                code,
                known_values(|v| ManagementLevel::try_from(v).is_ok()),
                facet::management_level,
                whose,
            )
            .await?;
        Ok(())
    }

    async fn enum_counts(
        &self,
        kind: i64,
        values: Vec<i32>,
        term: fn(i32) -> String,
        whose: Whose<'_>,
    ) -> Result<Vec<(i32, u64)>, StoreError> {
        let terms: Vec<String> = values.iter().map(|value| term(*value)).collect();
        let counts = self.facet_counts(kind, &terms, whose).await?;
        Ok(values
            .into_iter()
            .zip(terms)
            .filter_map(|(value, term)| {
                counts
                    .iter()
                    .find(|(counted, _)| *counted == term)
                    .map(|(_, count)| (value, *count))
            })
            .collect())
    }

    /// Shareable live records carrying each facet term, counted in the
    /// search index (which holds exactly those); terms without any are left
    /// out.
    async fn facet_counts(
        &self,
        kind: i64,
        terms: &[String],
        whose: Whose<'_>,
    ) -> Result<Vec<(String, u64)>, StoreError> {
        let index = self.search_index()?;
        let searcher = index.searcher();
        let fields = index.fields;
        let mut counts = Vec::new();
        for value in terms {
            let term = |term: Term| -> Box<dyn Query> {
                Box::new(TermQuery::new(term, IndexRecordOption::Basic))
            };
            let mut clauses = vec![
                (
                    Occur::Must,
                    term(Term::from_field_u64(fields.kind, kind as u64)),
                ),
                (
                    Occur::Must,
                    term(Term::from_field_text(fields.facet, value)),
                ),
            ];
            match whose {
                // The node's own records only: mirrors are other nodes' figures.
                Whose::Own => {
                    for scope in [
                        crate::search::schema::Scope::Mirror,
                        crate::search::schema::Scope::PublicMirror,
                    ] {
                        clauses.push((
                            Occur::MustNot,
                            term(Term::from_field_text(
                                fields.facet,
                                scope.facet().unwrap_or_default(),
                            )),
                        ));
                    }
                }
                Whose::Origin(origin) => clauses.push((
                    Occur::Must,
                    term(Term::from_field_text(
                        fields.facet,
                        &crate::search::schema::origin_facet(origin),
                    )),
                )),
            }
            let query = BooleanQuery::new(clauses);
            let count = searcher.search(&query, &Count).map_err(|error| {
                tracing::error!(%error, "search index count failed");
                StoreError::Internal
            })?;
            if count > 0 {
                counts.push((value.clone(), count as u64));
            }
        }
        counts.sort();
        Ok(counts)
    }
}

/// The specified (non-zero) values of a proto enum.
fn known_values(is_known: impl Fn(i32) -> bool) -> Vec<i32> {
    (1..64).filter(|value| is_known(*value)).collect()
}
