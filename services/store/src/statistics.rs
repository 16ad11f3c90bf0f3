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

impl Store {
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
                .facet_counts(code, &fields)
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
        if kind == RecordKind::Project {
            statistics.by_status = self
                .enum_counts(
                    code,
                    known_values(|v| ProjectStatus::try_from(v).is_ok()),
                    facet::status,
                )
                .await?;
            statistics.by_management_level = self
                .enum_counts(
                    code,
                    known_values(|v| ManagementLevel::try_from(v).is_ok()),
                    facet::management_level,
                )
                .await?;
        }
        Ok(statistics)
    }

    async fn enum_counts(
        &self,
        kind: i64,
        values: Vec<i32>,
        term: fn(i32) -> String,
    ) -> Result<Vec<(i32, u64)>, StoreError> {
        let terms: Vec<String> = values.iter().map(|value| term(*value)).collect();
        let counts = self.facet_counts(kind, &terms).await?;
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
    ) -> Result<Vec<(String, u64)>, StoreError> {
        let index = self.search_index()?;
        let searcher = index.searcher();
        let fields = index.fields;
        let mut counts = Vec::new();
        for value in terms {
            let term = |term: Term| -> Box<dyn Query> {
                Box::new(TermQuery::new(term, IndexRecordOption::Basic))
            };
            let query = BooleanQuery::new(vec![
                (
                    Occur::Must,
                    term(Term::from_field_u64(fields.kind, kind as u64)),
                ),
                (
                    Occur::Must,
                    term(Term::from_field_text(fields.facet, value)),
                ),
                // The node's own records only: mirrors are other nodes' figures.
                (
                    Occur::MustNot,
                    term(Term::from_field_text(
                        fields.facet,
                        crate::search::schema::Scope::Mirror
                            .facet()
                            .unwrap_or_default(),
                    )),
                ),
                (
                    Occur::MustNot,
                    term(Term::from_field_text(
                        fields.facet,
                        crate::search::schema::Scope::PublicMirror
                            .facet()
                            .unwrap_or_default(),
                    )),
                ),
            ]);
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
