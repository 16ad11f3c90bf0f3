//! What harvesters (OAI-PMH) read: a node's records, and the public mirrors
//! it may publish onward, each at its latest change, in change-log order,
//! with the datestamp of the transaction that wrote that change
//! (docs/decisions/008-harvesting.md).
//!
//! A harvest is a range of the change log fixed when it starts: records that
//! do not change while it runs are delivered exactly once, and whatever
//! changes moves past the range's end, to the next incremental harvest.
//! Positions are (change number, document number): a mirror batch shares
//! one change number, and document numbers come from one counter for records
//! and mirrors alike.

use std::collections::BTreeSet;

use lienthong_records::{AnyRecord, RecordKind};
use sqlx::{AssertSqlSafe, Row};

use crate::writes::placeholder;
use crate::{Store, StoreError};

/// Which of a node's own records a harvester may see.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Audience {
    /// Public records only (an anonymous harvester).
    Public,
    /// Every shareable record (public or federation), as a grant allows.
    Federation,
}

/// What one harvest may take.
#[derive(Debug, Clone)]
pub struct HarvestScope {
    /// Kinds of the node's own records.
    pub kinds: BTreeSet<RecordKind>,
    pub audience: Audience,
    /// Kinds of mirrors, public at their origin, that may go onward.
    pub mirror_kinds: BTreeSet<RecordKind>,
    /// Only records of this origin (a province set on the national node).
    pub origin: Option<String>,
    /// Only records with a field code under this top-level field (a field
    /// set); deleted records by the fields they last had.
    pub field: Option<u8>,
}

impl HarvestScope {
    /// The SQL condition of the field set, if any.
    fn field_filter(&self) -> String {
        match self.field {
            Some(field) if (1..=6).contains(&field) => {
                format!(" AND (fields & {}) != 0", 1u32 << field)
            }
            Some(_) => " AND 1 = 0".to_owned(),
            None => String::new(),
        }
    }

    fn takes_own(&self, node_id: &str) -> bool {
        !self.kinds.is_empty()
            && self
                .origin
                .as_deref()
                .is_none_or(|origin| origin == node_id)
    }
}

/// A place in the change log: after it, a harvest goes on.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct HarvestPosition {
    pub seq: i64,
    pub doc: i64,
}

/// One record as a harvester sees it.
#[derive(Debug, Clone)]
pub struct HarvestEntry {
    pub position: HarvestPosition,
    pub id: String,
    pub kind: RecordKind,
    /// The node the record comes from.
    pub origin: String,
    /// `YYYY-MM-DDThh:mm:ssZ`: when this node committed its latest change.
    pub datestamp: String,
    /// The record, or `None` when it is deleted or withdrawn from the
    /// harvester's sight (which it learns as a deletion).
    pub record: Option<AnyRecord>,
}

/// A slice of a harvest.
#[derive(Debug, Default)]
pub struct HarvestPage {
    /// In change order.
    pub entries: Vec<HarvestEntry>,
    /// Where the next slice starts; `None` when the range is exhausted.
    pub next: Option<HarvestPosition>,
}

impl Store {
    /// Positions bounding the changes whose datestamps fall in
    /// `[from, until]` (either open), as of now: (after, last). Both are
    /// wide: the entries carry exact datestamps to filter by.
    pub async fn harvest_range(
        &self,
        from: Option<&str>,
        until: Option<&str>,
    ) -> Result<(i64, i64), StoreError> {
        let after = match from {
            None => 0,
            Some(from) => {
                let (after,): (Option<i64>,) = sqlx::query_as(
                    "SELECT MAX(seq) FROM harvest_clock WHERE seq < \
                     (SELECT MIN(seq) FROM harvest_clock WHERE at >= $1)",
                )
                .bind(from)
                .fetch_one(&self.pool)
                .await?;
                let (any_later,): (Option<i64>,) =
                    sqlx::query_as("SELECT MIN(seq) FROM harvest_clock WHERE at >= $1")
                        .bind(from)
                        .fetch_one(&self.pool)
                        .await?;
                match any_later {
                    None => i64::MAX,
                    Some(_) => after.unwrap_or(0),
                }
            }
        };
        let last = match until {
            // Under the write lock: a writer that stamped its time before
            // this moment has committed, so nothing dated before the
            // harvester's responseDate can appear below `last` later.
            None => {
                let mut tx = self.pool.begin().await?;
                let (last, _) = crate::writes::lock_counters(&mut tx).await?;
                tx.rollback().await?;
                last
            }
            Some(until) => {
                let (last,): (Option<i64>,) =
                    sqlx::query_as("SELECT MAX(seq) FROM harvest_clock WHERE at <= $1")
                        .bind(until)
                        .fetch_one(&self.pool)
                        .await?;
                last.unwrap_or(0)
            }
        };
        Ok((after, last))
    }

    /// The datestamp of the oldest change a harvester can be given.
    pub async fn earliest_datestamp(&self) -> Result<Option<String>, StoreError> {
        let (earliest,): (Option<String>,) = sqlx::query_as("SELECT MIN(at) FROM harvest_clock")
            .fetch_one(&self.pool)
            .await?;
        Ok(earliest)
    }

    /// How many entries the range `(after, last]` holds for `scope`.
    pub async fn harvest_count(
        &self,
        scope: &HarvestScope,
        after: i64,
        last: i64,
    ) -> Result<u64, StoreError> {
        let mut count = 0;
        if scope.takes_own(&self.node_id) {
            let sql = format!(
                "SELECT COUNT(*) FROM records WHERE shared_once = 1 AND feed_seq > $1 \
                 AND feed_seq <= $2{}{}{}",
                own_audience(scope.audience),
                kind_filter(&scope.kinds),
                scope.field_filter()
            );
            let (own,): (i64,) = sqlx::query_as(AssertSqlSafe(sql))
                .bind(after)
                .bind(last)
                .fetch_one(&self.pool)
                .await?;
            count += own as u64;
        }
        if !scope.mirror_kinds.is_empty() {
            let sql = format!(
                "SELECT COUNT(*) FROM mirrors WHERE public_once = 1 AND seq > $1 AND seq <= $2{}{}{}",
                kind_filter(&scope.mirror_kinds),
                scope.field_filter(),
                if scope.origin.is_some() {
                    " AND origin = $3"
                } else {
                    ""
                }
            );
            let mut query = sqlx::query_as::<_, (i64,)>(AssertSqlSafe(sql))
                .bind(after)
                .bind(last);
            if let Some(origin) = &scope.origin {
                query = query.bind(origin.as_str());
            }
            count += query.fetch_one(&self.pool).await?.0 as u64;
        }
        Ok(count)
    }

    /// Up to `limit` entries for `scope` after `after`, up to change `last`,
    /// in change order, from at most `limit` rows read per source. A page may hold none (every row read was out of scope)
    /// and still have a `next`.
    pub async fn harvest_page(
        &self,
        scope: &HarvestScope,
        after: HarvestPosition,
        last: i64,
        limit: u32,
    ) -> Result<HarvestPage, StoreError> {
        let limit = limit.max(1);
        let mut sources = Vec::new();
        if scope.takes_own(&self.node_id) {
            sources.push(self.own_entries(scope, after.seq, last, limit).await?);
        }
        if !scope.mirror_kinds.is_empty() {
            sources.push(self.mirror_entries(scope, after, last, limit).await?);
        }
        // A source that filled its limit may hold more past the last row it
        // read: the merge is complete only up to the lowest such row.
        let next = sources
            .iter()
            .filter(|source| source.read >= limit as usize)
            .filter_map(|source| source.last_read)
            .min();
        let mut entries: Vec<HarvestEntry> = sources
            .into_iter()
            .flat_map(|source| source.entries)
            .collect();
        entries.sort_by_key(|entry| entry.position);
        let mut next = next;
        if let Some(until) = next {
            entries.retain(|entry| entry.position <= until);
        }
        if entries.len() > limit as usize {
            entries.truncate(limit as usize);
            next = entries.last().map(|entry| entry.position);
        }
        Ok(HarvestPage { entries, next })
    }

    /// The entry for `id` as `scope` sees it; `None` when the harvester may
    /// not know of it.
    pub async fn harvest_record(
        &self,
        scope: &HarvestScope,
        id: &str,
    ) -> Result<Option<HarvestEntry>, StoreError> {
        if scope.takes_own(&self.node_id) {
            let sql = format!(
                "{} WHERE shared_once = 1 AND id = $1{}",
                self.own_select(scope.audience),
                own_audience(scope.audience)
            );
            let row = sqlx::query(AssertSqlSafe(sql))
                .bind(id)
                .fetch_optional(&self.pool)
                .await?;
            if let Some(row) = row {
                let entry = self.entry(&row, self.node_id.clone())?;
                return Ok(scope.kinds.contains(&entry.kind).then_some(entry));
            }
        }
        if !scope.mirror_kinds.is_empty() {
            let sql = format!("{} WHERE public_once = 1 AND id = $1", self.mirror_select());
            let row = sqlx::query(AssertSqlSafe(sql))
                .bind(id)
                .fetch_optional(&self.pool)
                .await?;
            if let Some(row) = row {
                let origin: String = row.try_get("origin")?;
                let entry = self.entry(&row, origin)?;
                let in_scope = scope.mirror_kinds.contains(&entry.kind)
                    && scope
                        .origin
                        .as_ref()
                        .is_none_or(|wanted| *wanted == entry.origin);
                return Ok(in_scope.then_some(entry));
            }
        }
        Ok(None)
    }

    /// Which of `ids` the harvester of `scope` can get as live records (any
    /// origin: a GetRecord is not bound to a set).
    pub async fn harvestable_among(
        &self,
        scope: &HarvestScope,
        ids: &[&str],
    ) -> Result<std::collections::HashSet<String>, StoreError> {
        let mut found = std::collections::HashSet::new();
        let mut wanted: Vec<&str> = ids.to_vec();
        wanted.sort_unstable();
        wanted.dedup();
        let own_live = match scope.audience {
            Audience::Public => "deleted = 0 AND shareable = 1 AND public = 1",
            Audience::Federation => "deleted = 0 AND shareable = 1",
        };
        for chunk in wanted.chunks(500) {
            let list = crate::writes::numbered_placeholders(self.backend, 1, chunk.len());
            let mut tables = Vec::new();
            if !scope.kinds.is_empty() {
                tables.push((
                    format!("SELECT id, kind FROM records WHERE id IN ({list}) AND {own_live}"),
                    &scope.kinds,
                ));
            }
            if !scope.mirror_kinds.is_empty() {
                tables.push((
                    format!(
                        "SELECT id, kind FROM mirrors WHERE id IN ({list}) AND deleted = 0 \
                         AND public = 1"
                    ),
                    &scope.mirror_kinds,
                ));
            }
            for (sql, kinds) in tables {
                let mut query = sqlx::query_as::<_, (String, i64)>(AssertSqlSafe(sql));
                for id in chunk {
                    query = query.bind(*id);
                }
                for (id, kind) in query.fetch_all(&self.pool).await? {
                    if RecordKind::from_code(kind).is_some_and(|kind| kinds.contains(&kind)) {
                        found.insert(id);
                    }
                }
            }
        }
        Ok(found)
    }

    async fn own_entries(
        &self,
        scope: &HarvestScope,
        after: i64,
        last: i64,
        limit: u32,
    ) -> Result<SourceRows, StoreError> {
        // One kind: its ordered range of `records_feed_by_kind`. Several: the
        // range of `records_harvest`, kinds out of scope left out here.
        let single_kind = match scope.kinds.iter().collect::<Vec<_>>().as_slice() {
            [kind] => format!(" AND kind = {}", kind.code()),
            _ => String::new(),
        };
        let sql = format!(
            "{} WHERE shared_once = 1 AND feed_seq > $1 AND feed_seq <= $2{}{single_kind}{} \
             ORDER BY feed_seq LIMIT {limit}",
            self.own_select(scope.audience),
            own_audience(scope.audience),
            scope.field_filter()
        );
        let rows = sqlx::query(AssertSqlSafe(sql))
            .bind(after)
            .bind(last)
            .fetch_all(&self.pool)
            .await?;
        let mut source = SourceRows {
            read: rows.len(),
            ..SourceRows::default()
        };
        for row in &rows {
            let entry = self.entry(row, self.node_id.clone())?;
            source.last_read = Some(entry.position);
            if scope.kinds.contains(&entry.kind) {
                source.entries.push(entry);
            }
        }
        Ok(source)
    }

    async fn mirror_entries(
        &self,
        scope: &HarvestScope,
        after: HarvestPosition,
        last: i64,
        limit: u32,
    ) -> Result<SourceRows, StoreError> {
        let origin = match scope.origin {
            Some(_) => format!(" AND origin = {}", placeholder(self.backend, 4)),
            None => String::new(),
        };
        let sql = format!(
            "{} WHERE public_once = 1 AND (seq > {p1} OR (seq = {p1b} AND doc > {p2})) \
             AND seq <= {p3}{origin}{field} ORDER BY seq, doc LIMIT {limit}",
            self.mirror_select(),
            field = scope.field_filter(),
            p1 = placeholder(self.backend, 1),
            p1b = placeholder(self.backend, 1),
            p2 = placeholder(self.backend, 2),
            p3 = placeholder(self.backend, 3),
        );
        let mut query = sqlx::query(AssertSqlSafe(sql)).bind(after.seq);
        if self.backend == crate::Backend::Sqlite {
            // `?` is positional: the repeated one is bound again.
            query = query.bind(after.seq);
        }
        query = query.bind(after.doc).bind(last);
        if let Some(origin) = &scope.origin {
            query = query.bind(origin.as_str());
        }
        let rows = query.fetch_all(&self.pool).await?;
        let mut source = SourceRows {
            read: rows.len(),
            ..SourceRows::default()
        };
        for row in &rows {
            let origin: String = row.try_get("origin")?;
            let entry = self.entry(row, origin)?;
            source.last_read = Some(entry.position);
            if scope.mirror_kinds.contains(&entry.kind) {
                source.entries.push(entry);
            }
        }
        Ok(source)
    }

    fn own_select(&self, audience: Audience) -> String {
        let live = match audience {
            Audience::Public => "deleted = 0 AND shareable = 1 AND public = 1",
            Audience::Federation => "deleted = 0 AND shareable = 1",
        };
        format!(
            "SELECT feed_seq AS seq, doc, id, kind, CASE WHEN {live} THEN 1 ELSE 0 END AS live, \
             {}, (SELECT at FROM harvest_clock WHERE harvest_clock.seq >= records.feed_seq \
             ORDER BY harvest_clock.seq LIMIT 1) AS datestamp, feed_changed_at AS changed_at \
             FROM records",
            self.backend.body_column()
        )
    }

    fn mirror_select(&self) -> String {
        format!(
            "SELECT seq, doc, id, kind, origin, \
             CASE WHEN deleted = 0 AND public = 1 THEN 1 ELSE 0 END AS live, {}, \
             (SELECT at FROM harvest_clock WHERE harvest_clock.seq >= mirrors.seq \
             ORDER BY harvest_clock.seq LIMIT 1) AS datestamp, received_at AS changed_at \
             FROM mirrors",
            self.backend.body_column()
        )
    }

    fn entry(&self, row: &sqlx::any::AnyRow, origin: String) -> Result<HarvestEntry, StoreError> {
        let kind = crate::reads::kind_from_code(row.try_get("kind")?)?;
        let live = row.try_get::<i64, _>("live")? == 1;
        let datestamp = match row.try_get::<Option<String>, _>("datestamp")? {
            Some(at) => at,
            // A change older than the clock (none should be): its own time.
            None => row.try_get("changed_at")?,
        };
        Ok(HarvestEntry {
            position: HarvestPosition {
                seq: row.try_get("seq")?,
                doc: row.try_get("doc")?,
            },
            id: row.try_get("id")?,
            kind,
            origin,
            datestamp,
            record: if live {
                self.backend.read_body(row, kind)?
            } else {
                None
            },
        })
    }

    /// Settles what migration 0010 (0011 on PostgreSQL) could not read from
    /// SQL: each shareable record's `public` flag and each live record's or
    /// mirror's `fields`, from its body (marked -1 until then). Runs when the
    /// store opens; nothing to do after the first time.
    pub(crate) async fn settle_harvest_flags(&self) -> Result<(), StoreError> {
        for table in ["records", "mirrors"] {
            let unsettled = if table == "records" {
                "public = -1 OR fields = -1"
            } else {
                "fields = -1"
            };
            loop {
                let sql = format!(
                    "SELECT doc, kind, {} FROM {table} WHERE {unsettled} ORDER BY doc LIMIT 1000",
                    self.backend.body_column()
                );
                let rows = sqlx::query(AssertSqlSafe(sql))
                    .fetch_all(&self.pool)
                    .await?;
                if rows.is_empty() {
                    break;
                }
                let mut tx = self.pool.begin().await?;
                for row in &rows {
                    let kind = crate::reads::kind_from_code(row.try_get("kind")?)?;
                    let record = self.backend.read_body(row, kind)?;
                    let fields = record
                        .as_ref()
                        .map_or(0, lienthong_records::search_document::top_fields);
                    let doc: i64 = row.try_get("doc")?;
                    if table == "records" {
                        let public = record.as_ref().is_some_and(|record| {
                            lienthong_records::search_document::search_document(record).public
                        });
                        sqlx::query(
                            "UPDATE records SET public = CASE WHEN public = -1 THEN $1 ELSE public END, \
                             public_once = CASE WHEN public = -1 THEN $1 ELSE public_once END, \
                             fields = $2 WHERE doc = $3",
                        )
                        .bind(i64::from(public))
                        .bind(i64::from(fields))
                        .bind(doc)
                        .execute(&mut *tx)
                        .await?;
                    } else {
                        sqlx::query(
                            "UPDATE mirrors SET fields = $1 WHERE doc = $2 AND fields = -1",
                        )
                        .bind(i64::from(fields))
                        .bind(doc)
                        .execute(&mut *tx)
                        .await?;
                    }
                }
                tx.commit().await?;
            }
        }
        Ok(())
    }
}

/// What one source (own records, or mirrors) gave for a page.
#[derive(Default)]
struct SourceRows {
    /// The rows in scope.
    entries: Vec<HarvestEntry>,
    /// How many rows it read, in scope or not, and the last one's position.
    read: usize,
    last_read: Option<HarvestPosition>,
}

fn own_audience(audience: Audience) -> &'static str {
    match audience {
        Audience::Public => " AND public_once = 1",
        Audience::Federation => "",
    }
}

fn kind_filter(kinds: &BTreeSet<RecordKind>) -> String {
    let codes: Vec<String> = kinds.iter().map(|kind| kind.code().to_string()).collect();
    format!(" AND kind IN ({})", codes.join(", "))
}
