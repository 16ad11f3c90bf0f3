//! The `lienthong.v1.ProvinceNode` gRPC service: thin handlers that admit the
//! call ([`Access`]: identity, sharing policy), call the store, shape the
//! answer, and audit it before it leaves.
//!
//! What leaves is decided by the call's [`Disclosure`](crate::disclosure::Disclosure):
//! only shareable records (public or federation, bình thường) of the kinds
//! granted; the store filters them in search, and `get_shareable` refuses the
//! rest as not found, so callers cannot even learn that they exist. Personal
//! fields of experts go out only as the policy and the expert's consent
//! allow, and references to records the caller may not see are blanked.

use lienthong_proto::v1 as pb;
use lienthong_proto::v1::province_node_server::ProvinceNode;
use lienthong_records::{AnyRecord, RecordId, RecordKind};
use lienthong_store::{KindStatistics, ProposalCheck, SearchPage, SearchRequest, Store};
use tonic::{Request, Response, Status};

use tokio_stream::wrappers::ReceiverStream;

use crate::access::{Access, Admitted};
use crate::change_feed::Feed;
use crate::policy::Operation;
use crate::status::to_status;

/// Handlers of the province node service.
pub struct NodeService {
    store: Store,
    display_name: String,
    access: Access,
}

impl NodeService {
    /// A service answering from `store` under `access`.
    pub fn new(store: Store, display_name: String, access: Access) -> Self {
        NodeService {
            store,
            display_name,
            access,
        }
    }

    /// Admits the call, runs `work`, audits the outcome with the ids of the
    /// records returned.
    async fn audited<Req, Resp>(
        &self,
        request: Request<Req>,
        action: &'static str,
        operation: Operation,
        kind: Option<RecordKind>,
        work: impl AsyncFnOnce(Req, &Admitted) -> Result<(Resp, Vec<String>), Status>,
    ) -> Result<Response<Resp>, Status>
    where
        Req: serde::Serialize,
    {
        let admitted = self.access.admit(&request, action, operation, kind).await?;
        let result = work(request.into_inner(), &admitted).await;
        self.access
            .finish(admitted, result)
            .await
            .map(Response::new)
    }

    async fn search(
        &self,
        kind: RecordKind,
        request: pb::SearchRequest,
        admitted: &Admitted,
    ) -> Result<(SearchPage, Vec<String>), Status> {
        let disclosure = &admitted.disclosure;
        let include_mirrors = request.include_mirrors;
        let mut search = SearchRequest::from_proto(kind, request, admitted.who());
        search.mirrors = disclosure.mirror_scope(include_mirrors, kind);
        let filters_by_year = search.year_from != 0 || search.year_to != 0;
        disclosure
            .check_search(kind, filters_by_year)
            .map_err(|denial| Status::permission_denied(denial.0))?;
        let mut page = if disclosure
            .may_filter_by_organization(&self.store, &search.organization_id)
            .await
            .map_err(to_status)?
        {
            self.store.search(&search).await.map_err(to_status)?
        } else {
            // Filtering by an organization the caller may not see (hidden,
            // or not there at all: the two cost the same) matches nothing.
            // The request is still checked, so errors do not differ.
            self.store.check_search(&search).map_err(to_status)?;
            SearchPage::default()
        };
        disclosure
            .redact(&self.store, page.hits.iter_mut().map(|hit| &mut hit.record))
            .await
            .map_err(to_status)?;
        let ids = page
            .hits
            .iter()
            .map(|hit| hit.record.id().to_owned())
            .collect();
        Ok((page, ids))
    }

    async fn get_shareable(
        &self,
        kind: RecordKind,
        id: &str,
        admitted: &Admitted,
    ) -> Result<(AnyRecord, Vec<String>), Status> {
        let parsed: RecordId = id
            .parse()
            .map_err(|error| Status::invalid_argument(format!("id: {error}")))?;
        if parsed.kind != kind {
            return Err(Status::invalid_argument(format!(
                "id {id} names a {}; call Get{} instead",
                parsed.kind,
                capitalized(parsed.kind)
            )));
        }
        let mut stored = self.store.get(id).await.map_err(to_status)?;
        let mut served = id.to_owned();
        if stored.is_none()
            && let Some(merged) = self.store.merged_into(id).await.map_err(to_status)?
            && merged.was_shareable
        {
            // Merged into another record: that one answers, under its own
            // id, if this caller may see it; otherwise as if unknown. A
            // record no peer could see leads nowhere, so the merge tells
            // nothing about it.
            stored = self.store.get(&merged.kept).await.map_err(to_status)?;
            served = merged.kept;
        }
        match stored {
            Some(stored) if admitted.disclosure.releases(&stored) => {
                let mut record = stored.record;
                admitted
                    .disclosure
                    .redact(&self.store, [&mut record])
                    .await
                    .map_err(to_status)?;
                Ok((record, vec![served]))
            }
            _ => Err(Status::not_found(format!("no record with id {id}"))),
        }
    }
}

fn capitalized(kind: RecordKind) -> String {
    let name = kind.as_str();
    name[..1].to_uppercase() + &name[1..]
}

/// A rank on the scale every node shares, with the words that matched.
pub fn rank(rank: lienthong_store::Rank, matched_words: Vec<String>) -> pb::HitRank {
    use lienthong_store::MatchTier as T;
    let tier = match rank.tier {
        T::Exact => pb::MatchTier::Exact,
        T::NamePhrase => pb::MatchTier::NamePhrase,
        T::NameWords => pb::MatchTier::NameWords,
        T::TextPhrase => pb::MatchTier::TextPhrase,
        T::TextWords => pb::MatchTier::TextWords,
        T::Typo => pb::MatchTier::Typo,
        T::FilterOnly => pb::MatchTier::FilterOnly,
    };
    pb::HitRank {
        tier: tier as i32,
        score: rank.score,
        matched_words,
    }
}

/// Pulls the hits of one kind out of a page; `pick` returns `None` for records
/// of another kind, which a page never holds.
fn hits<T, H>(
    page: SearchPage,
    pick: impl Fn(AnyRecord) -> Option<T>,
    hit: impl Fn(T, pb::HitRank, String, Option<pb::MirrorInfo>) -> H,
) -> Vec<H> {
    page.hits
        .into_iter()
        .filter_map(|h| {
            let rank = rank(h.rank, h.matched_words);
            let mirror = h.mirror.map(Into::into);
            pick(h.record).map(|record| hit(record, rank, h.cursor, mirror))
        })
        .collect()
}

/// The one record a Get answered, of the kind asked for.
fn expect_kind<T>(record: AnyRecord, pick: impl Fn(AnyRecord) -> Option<T>) -> Result<T, Status> {
    pick(record).ok_or_else(|| Status::internal("stored record has the wrong kind"))
}

fn as_expert(record: AnyRecord) -> Option<pb::Expert> {
    match record {
        AnyRecord::Expert(r) => Some(r),
        _ => None,
    }
}
fn as_project(record: AnyRecord) -> Option<pb::Project> {
    match record {
        AnyRecord::Project(r) => Some(r),
        _ => None,
    }
}
fn as_publication(record: AnyRecord) -> Option<pb::Publication> {
    match record {
        AnyRecord::Publication(r) => Some(r),
        _ => None,
    }
}
fn as_organization(record: AnyRecord) -> Option<pb::Organization> {
    match record {
        AnyRecord::Organization(r) => Some(r),
        _ => None,
    }
}

#[tonic::async_trait]
impl ProvinceNode for NodeService {
    async fn info(
        &self,
        request: Request<pb::InfoRequest>,
    ) -> Result<Response<pb::NodeInfo>, Status> {
        self.audited(
            request,
            "Info",
            Operation::Info,
            None,
            async |_, admitted| {
                let counts = self.store.counts(true).await.map_err(to_status)?;
                let kinds = admitted.disclosure.kinds();
                // Which peers this node follows, and how far behind it is,
                // is for the federation's operators only.
                let mirrors = if admitted.is_gateway() {
                    self.store
                        .peer_syncs()
                        .await
                        .map_err(to_status)?
                        .into_iter()
                        .map(|sync| pb::MirrorSync {
                            lag_seconds: sync.lag_seconds(),
                            peer: sync.peer,
                            mirrored: sync.mirrored,
                            backlog: sync.backlog,
                            caught_up_at: sync.caught_up_at,
                            last_sync_at: sync.last_sync_at,
                            failing: !sync.last_error.is_empty(),
                        })
                        .collect()
                } else {
                    Vec::new()
                };
                let visible = |kind: RecordKind, n: u64| if kinds.contains(&kind) { n } else { 0 };
                let info = pb::NodeInfo {
                    node_id: self.store.node_id().to_owned(),
                    display_name: self.display_name.clone(),
                    counts: Some(pb::RecordCounts {
                        experts: visible(RecordKind::Expert, counts.experts),
                        projects: visible(RecordKind::Project, counts.projects),
                        publications: visible(RecordKind::Publication, counts.publications),
                        organizations: visible(RecordKind::Organization, counts.organizations),
                    }),
                    schema_version: self.store.schema_version().await.map_err(to_status)?,
                    software_version: env!("CARGO_PKG_VERSION").to_owned(),
                    last_change_seq: self
                        .store
                        .last_shareable_change_seq(&kinds.iter().copied().collect::<Vec<_>>())
                        .await
                        .map_err(to_status)?,
                    mirrors,
                };
                Ok((info, Vec::new()))
            },
        )
        .await
    }

    async fn search_experts(
        &self,
        request: Request<pb::SearchRequest>,
    ) -> Result<Response<pb::SearchExpertsResponse>, Status> {
        let kind = RecordKind::Expert;
        self.audited(
            request,
            "SearchExperts",
            Operation::Search,
            Some(kind),
            async |request, admitted| {
                let (page, ids) = self.search(kind, request, admitted).await?;
                let next_page_token = page.next_page_token.clone();
                let next_page_rank = page.next_page_rank.map(|next| rank(next, Vec::new()));
                let hits = hits(page, as_expert, |expert, rank, cursor, mirror| {
                    pb::ExpertHit {
                        expert: Some(expert),
                        rank: Some(rank),
                        cursor,
                        mirror,
                    }
                });
                let response = pb::SearchExpertsResponse {
                    hits,
                    next_page_token,
                    next_page_rank,
                };
                Ok((response, ids))
            },
        )
        .await
    }

    async fn get_expert(
        &self,
        request: Request<pb::GetRequest>,
    ) -> Result<Response<pb::Expert>, Status> {
        let kind = RecordKind::Expert;
        self.audited(
            request,
            "GetExpert",
            Operation::Get,
            Some(kind),
            async |request, admitted| {
                let (record, ids) = self.get_shareable(kind, &request.id, admitted).await?;
                Ok((expect_kind(record, as_expert)?, ids))
            },
        )
        .await
    }

    async fn search_projects(
        &self,
        request: Request<pb::SearchRequest>,
    ) -> Result<Response<pb::SearchProjectsResponse>, Status> {
        let kind = RecordKind::Project;
        self.audited(
            request,
            "SearchProjects",
            Operation::Search,
            Some(kind),
            async |request, admitted| {
                let (page, ids) = self.search(kind, request, admitted).await?;
                let next_page_token = page.next_page_token.clone();
                let next_page_rank = page.next_page_rank.map(|next| rank(next, Vec::new()));
                let hits = hits(page, as_project, |project, rank, cursor, mirror| {
                    pb::ProjectHit {
                        project: Some(project),
                        rank: Some(rank),
                        cursor,
                        mirror,
                    }
                });
                let response = pb::SearchProjectsResponse {
                    hits,
                    next_page_token,
                    next_page_rank,
                };
                Ok((response, ids))
            },
        )
        .await
    }

    async fn get_project(
        &self,
        request: Request<pb::GetRequest>,
    ) -> Result<Response<pb::Project>, Status> {
        let kind = RecordKind::Project;
        self.audited(
            request,
            "GetProject",
            Operation::Get,
            Some(kind),
            async |request, admitted| {
                let (record, ids) = self.get_shareable(kind, &request.id, admitted).await?;
                Ok((expect_kind(record, as_project)?, ids))
            },
        )
        .await
    }

    async fn search_publications(
        &self,
        request: Request<pb::SearchRequest>,
    ) -> Result<Response<pb::SearchPublicationsResponse>, Status> {
        let kind = RecordKind::Publication;
        self.audited(
            request,
            "SearchPublications",
            Operation::Search,
            Some(kind),
            async |request, admitted| {
                let (page, ids) = self.search(kind, request, admitted).await?;
                let next_page_token = page.next_page_token.clone();
                let next_page_rank = page.next_page_rank.map(|next| rank(next, Vec::new()));
                let hits = hits(page, as_publication, |publication, rank, cursor, mirror| {
                    pb::PublicationHit {
                        publication: Some(publication),
                        rank: Some(rank),
                        cursor,
                        mirror,
                    }
                });
                let response = pb::SearchPublicationsResponse {
                    hits,
                    next_page_token,
                    next_page_rank,
                };
                Ok((response, ids))
            },
        )
        .await
    }

    async fn get_publication(
        &self,
        request: Request<pb::GetRequest>,
    ) -> Result<Response<pb::Publication>, Status> {
        let kind = RecordKind::Publication;
        self.audited(
            request,
            "GetPublication",
            Operation::Get,
            Some(kind),
            async |request, admitted| {
                let (record, ids) = self.get_shareable(kind, &request.id, admitted).await?;
                Ok((expect_kind(record, as_publication)?, ids))
            },
        )
        .await
    }

    async fn search_organizations(
        &self,
        request: Request<pb::SearchRequest>,
    ) -> Result<Response<pb::SearchOrganizationsResponse>, Status> {
        let kind = RecordKind::Organization;
        self.audited(
            request,
            "SearchOrganizations",
            Operation::Search,
            Some(kind),
            async |request, admitted| {
                let (page, ids) = self.search(kind, request, admitted).await?;
                let next_page_token = page.next_page_token.clone();
                let next_page_rank = page.next_page_rank.map(|next| rank(next, Vec::new()));
                let hits = hits(
                    page,
                    as_organization,
                    |organization, rank, cursor, mirror| pb::OrganizationHit {
                        organization: Some(organization),
                        rank: Some(rank),
                        cursor,
                        mirror,
                    },
                );
                let response = pb::SearchOrganizationsResponse {
                    hits,
                    next_page_token,
                    next_page_rank,
                };
                Ok((response, ids))
            },
        )
        .await
    }

    async fn get_organization(
        &self,
        request: Request<pb::GetRequest>,
    ) -> Result<Response<pb::Organization>, Status> {
        let kind = RecordKind::Organization;
        self.audited(
            request,
            "GetOrganization",
            Operation::Get,
            Some(kind),
            async |request, admitted| {
                let (record, ids) = self.get_shareable(kind, &request.id, admitted).await?;
                Ok((expect_kind(record, as_organization)?, ids))
            },
        )
        .await
    }

    async fn check_proposal(
        &self,
        request: Request<pb::ProposalCheckRequest>,
    ) -> Result<Response<pb::ProposalCheckResponse>, Status> {
        self.audited(
            request,
            "CheckProposal",
            Operation::Search,
            Some(RecordKind::Project),
            async |request, admitted| {
                let disclosure = &admitted.disclosure;
                let check = ProposalCheck {
                    title: request.title,
                    summary: request.summary,
                    field_code_prefix: request.field_code,
                    limit: request.limit as usize,
                    mirrors: disclosure.mirror_scope(request.include_mirrors, RecordKind::Project),
                };
                let similar = self.store.check_proposal(&check).await.map_err(to_status)?;
                let mut tasks: Vec<pb::SimilarTask> = similar.into_iter().map(Into::into).collect();
                let mut records: Vec<AnyRecord> = tasks
                    .iter_mut()
                    .filter_map(|task| task.project.take().map(AnyRecord::Project))
                    .collect();
                disclosure
                    .redact(&self.store, records.iter_mut())
                    .await
                    .map_err(to_status)?;
                let ids = records
                    .iter()
                    .map(|record| record.id().to_owned())
                    .collect();
                for (task, record) in tasks.iter_mut().zip(records) {
                    task.project = as_project(record);
                }
                Ok((pb::ProposalCheckResponse { tasks }, ids))
            },
        )
        .await
    }

    async fn statistics(
        &self,
        request: Request<pb::StatisticsRequest>,
    ) -> Result<Response<pb::NodeStatistics>, Status> {
        self.audited(
            request,
            "Statistics",
            Operation::Statistics,
            None,
            async |_, admitted| {
                let mut kinds = Vec::new();
                for kind in [
                    RecordKind::Expert,
                    RecordKind::Project,
                    RecordKind::Publication,
                ] {
                    let disclosure = &admitted.disclosure;
                    if !disclosure.kinds().contains(&kind) {
                        continue;
                    }
                    let mut statistics = self.store.statistics(kind).await.map_err(to_status)?;
                    if !disclosure.discloses_years_of(kind) {
                        // Experts' years are birth years: a histogram of them
                        // is personal data too.
                        statistics.by_year.clear();
                    }
                    kinds.push(kind_statistics(kind, statistics));
                }
                let response = pb::NodeStatistics {
                    node_id: self.store.node_id().to_owned(),
                    kinds,
                };
                Ok((response, Vec::new()))
            },
        )
        .await
    }

    async fn catalog_digest(
        &self,
        request: Request<pb::CatalogDigestRequest>,
    ) -> Result<Response<pb::CatalogDigestResponse>, Status> {
        let kind: Option<RecordKind> = request.get_ref().kind.parse().ok();
        let Some(kind) = kind else {
            return Err(Status::invalid_argument(format!(
                "kind: {:?} is not expert, project, publication or organization",
                request.get_ref().kind
            )));
        };
        self.audited(
            request,
            "CatalogDigest",
            Operation::Changes,
            Some(kind),
            async |request, _| {
                let ranges = crate::change_feed::catalog_digest(&self.store, kind, request).await?;
                Ok((pb::CatalogDigestResponse { ranges }, Vec::new()))
            },
        )
        .await
    }

    type ListChangesStream = ReceiverStream<Result<pb::ChangeBatch, Status>>;

    async fn list_changes(
        &self,
        request: Request<pb::ListChangesRequest>,
    ) -> Result<Response<Self::ListChangesStream>, Status> {
        let admitted = self
            .access
            .admit(&request, "ListChanges", Operation::Changes, None)
            .await?;
        let feed = match Feed::prepare(
            self.store.clone(),
            self.access.clone(),
            admitted,
            request.into_inner(),
        )
        .await
        {
            Ok(feed) => feed,
            Err((admitted, status)) => {
                return Err(self.access.refused_later(admitted, status).await);
            }
        };
        // Two batches in flight at most: a slow reader slows the feed, and
        // holds no more than that in memory.
        let (sender, receiver) = tokio::sync::mpsc::channel(2);
        tokio::spawn(feed.run(sender));
        Ok(Response::new(ReceiverStream::new(receiver)))
    }
}

fn kind_statistics(kind: RecordKind, statistics: KindStatistics) -> pb::KindStatistics {
    let count = |key: String, count: u64| pb::CountByKey { key, count };
    pb::KindStatistics {
        kind: kind.as_str().to_owned(),
        total: statistics.total,
        by_field: statistics
            .by_field
            .into_iter()
            .map(|(field, n)| count(field, n))
            .collect(),
        by_year: statistics
            .by_year
            .into_iter()
            .map(|(year, n)| count(year.to_string(), n))
            .collect(),
        by_status: statistics
            .by_status
            .into_iter()
            .filter_map(|(status, n)| {
                let name = pb::ProjectStatus::try_from(status).ok()?.as_str_name();
                Some(count(name.to_owned(), n))
            })
            .collect(),
        by_management_level: statistics
            .by_management_level
            .into_iter()
            .filter_map(|(level, n)| {
                let name = pb::ManagementLevel::try_from(level).ok()?.as_str_name();
                Some(count(name.to_owned(), n))
            })
            .collect(),
    }
}
