//! The `lienthong.v1.ProvinceNode` gRPC service: thin handlers that check the
//! request, call the store, and shape the answer.
//!
//! Only shareable records (public or federation, bình thường) ever leave the
//! node; the store filters them in search, and `get_shareable` refuses the rest
//! as not found, so callers cannot even learn that they exist.

use lienthong_proto::v1 as pb;
use lienthong_proto::v1::province_node_server::ProvinceNode;
use lienthong_records::{AnyRecord, RecordId, RecordKind};
use lienthong_store::{KindStatistics, SearchPage, SearchRequest, Store};
use tonic::{Request, Response, Status};

use crate::status::to_status;

/// Handlers of the province node service.
pub struct NodeService {
    store: Store,
    display_name: String,
}

impl NodeService {
    /// A service answering from `store`.
    pub fn new(store: Store, display_name: String) -> Self {
        NodeService {
            store,
            display_name,
        }
    }

    async fn search(
        &self,
        kind: RecordKind,
        request: pb::SearchRequest,
    ) -> Result<SearchPage, Status> {
        let filters = request.filters.unwrap_or_default();
        let search = SearchRequest {
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
            shareable_only: true,
        };
        self.store.search(&search).await.map_err(to_status)
    }

    async fn get_shareable(&self, kind: RecordKind, id: &str) -> Result<AnyRecord, Status> {
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
        match self.store.get(id).await.map_err(to_status)? {
            Some(stored) if stored.shareable => Ok(stored.record),
            _ => Err(Status::not_found(format!("no record with id {id}"))),
        }
    }
}

fn capitalized(kind: RecordKind) -> String {
    let name = kind.as_str();
    name[..1].to_uppercase() + &name[1..]
}

/// The rank of a tier on the scale every node shares.
pub fn rank(hit_tier: lienthong_store::MatchTier) -> pb::HitRank {
    use lienthong_store::MatchTier as T;
    let tier = match hit_tier {
        T::Exact => pb::MatchTier::Exact,
        T::NamePhrase => pb::MatchTier::NamePhrase,
        T::NameWords => pb::MatchTier::NameWords,
        T::TextPhrase => pb::MatchTier::TextPhrase,
        T::TextWords => pb::MatchTier::TextWords,
        T::FilterOnly => pb::MatchTier::FilterOnly,
    };
    pb::HitRank {
        tier: tier as i32,
        score: hit_tier.score(),
    }
}

/// Pulls the hits of one kind out of a page; `pick` returns `None` for records
/// of another kind, which a page never holds.
fn hits<T, H>(
    page: SearchPage,
    pick: impl Fn(AnyRecord) -> Option<T>,
    hit: impl Fn(T, pb::HitRank, String) -> H,
) -> Vec<H> {
    page.hits
        .into_iter()
        .filter_map(|h| {
            let rank = rank(h.tier);
            pick(h.record).map(|record| hit(record, rank, h.cursor))
        })
        .collect()
}

#[tonic::async_trait]
impl ProvinceNode for NodeService {
    async fn info(
        &self,
        _request: Request<pb::InfoRequest>,
    ) -> Result<Response<pb::NodeInfo>, Status> {
        let counts = self.store.counts(true).await.map_err(to_status)?;
        Ok(Response::new(pb::NodeInfo {
            node_id: self.store.node_id().to_owned(),
            display_name: self.display_name.clone(),
            counts: Some(pb::RecordCounts {
                experts: counts.experts,
                projects: counts.projects,
                publications: counts.publications,
                organizations: counts.organizations,
            }),
            schema_version: self.store.schema_version().await.map_err(to_status)?,
            software_version: env!("CARGO_PKG_VERSION").to_owned(),
            last_change_seq: self.store.last_change_seq().await.map_err(to_status)?,
        }))
    }

    async fn search_experts(
        &self,
        request: Request<pb::SearchRequest>,
    ) -> Result<Response<pb::SearchExpertsResponse>, Status> {
        let page = self
            .search(RecordKind::Expert, request.into_inner())
            .await?;
        let next_page_token = page.next_page_token.clone();
        let next_page_rank = page.next_page_tier.map(rank);
        let hits = hits(
            page,
            |r| {
                if let AnyRecord::Expert(e) = r {
                    Some(e)
                } else {
                    None
                }
            },
            |expert, rank, cursor| pb::ExpertHit {
                expert: Some(expert),
                rank: Some(rank),
                cursor,
            },
        );
        Ok(Response::new(pb::SearchExpertsResponse {
            hits,
            next_page_token,
            next_page_rank,
        }))
    }

    async fn get_expert(
        &self,
        request: Request<pb::GetRequest>,
    ) -> Result<Response<pb::Expert>, Status> {
        match self
            .get_shareable(RecordKind::Expert, &request.into_inner().id)
            .await?
        {
            AnyRecord::Expert(expert) => Ok(Response::new(expert)),
            _ => Err(Status::internal("stored record has the wrong kind")),
        }
    }

    async fn search_projects(
        &self,
        request: Request<pb::SearchRequest>,
    ) -> Result<Response<pb::SearchProjectsResponse>, Status> {
        let page = self
            .search(RecordKind::Project, request.into_inner())
            .await?;
        let next_page_token = page.next_page_token.clone();
        let next_page_rank = page.next_page_tier.map(rank);
        let hits = hits(
            page,
            |r| {
                if let AnyRecord::Project(p) = r {
                    Some(p)
                } else {
                    None
                }
            },
            |project, rank, cursor| pb::ProjectHit {
                project: Some(project),
                rank: Some(rank),
                cursor,
            },
        );
        Ok(Response::new(pb::SearchProjectsResponse {
            hits,
            next_page_token,
            next_page_rank,
        }))
    }

    async fn get_project(
        &self,
        request: Request<pb::GetRequest>,
    ) -> Result<Response<pb::Project>, Status> {
        match self
            .get_shareable(RecordKind::Project, &request.into_inner().id)
            .await?
        {
            AnyRecord::Project(project) => Ok(Response::new(project)),
            _ => Err(Status::internal("stored record has the wrong kind")),
        }
    }

    async fn search_publications(
        &self,
        request: Request<pb::SearchRequest>,
    ) -> Result<Response<pb::SearchPublicationsResponse>, Status> {
        let page = self
            .search(RecordKind::Publication, request.into_inner())
            .await?;
        let next_page_token = page.next_page_token.clone();
        let next_page_rank = page.next_page_tier.map(rank);
        let hits = hits(
            page,
            |r| {
                if let AnyRecord::Publication(p) = r {
                    Some(p)
                } else {
                    None
                }
            },
            |publication, rank, cursor| pb::PublicationHit {
                publication: Some(publication),
                rank: Some(rank),
                cursor,
            },
        );
        Ok(Response::new(pb::SearchPublicationsResponse {
            hits,
            next_page_token,
            next_page_rank,
        }))
    }

    async fn get_publication(
        &self,
        request: Request<pb::GetRequest>,
    ) -> Result<Response<pb::Publication>, Status> {
        match self
            .get_shareable(RecordKind::Publication, &request.into_inner().id)
            .await?
        {
            AnyRecord::Publication(publication) => Ok(Response::new(publication)),
            _ => Err(Status::internal("stored record has the wrong kind")),
        }
    }

    async fn search_organizations(
        &self,
        request: Request<pb::SearchRequest>,
    ) -> Result<Response<pb::SearchOrganizationsResponse>, Status> {
        let page = self
            .search(RecordKind::Organization, request.into_inner())
            .await?;
        let next_page_token = page.next_page_token.clone();
        let next_page_rank = page.next_page_tier.map(rank);
        let hits = hits(
            page,
            |r| {
                if let AnyRecord::Organization(o) = r {
                    Some(o)
                } else {
                    None
                }
            },
            |organization, rank, cursor| pb::OrganizationHit {
                organization: Some(organization),
                rank: Some(rank),
                cursor,
            },
        );
        Ok(Response::new(pb::SearchOrganizationsResponse {
            hits,
            next_page_token,
            next_page_rank,
        }))
    }

    async fn get_organization(
        &self,
        request: Request<pb::GetRequest>,
    ) -> Result<Response<pb::Organization>, Status> {
        match self
            .get_shareable(RecordKind::Organization, &request.into_inner().id)
            .await?
        {
            AnyRecord::Organization(organization) => Ok(Response::new(organization)),
            _ => Err(Status::internal("stored record has the wrong kind")),
        }
    }

    async fn statistics(
        &self,
        _request: Request<pb::StatisticsRequest>,
    ) -> Result<Response<pb::NodeStatistics>, Status> {
        let mut kinds = Vec::new();
        for kind in [
            RecordKind::Expert,
            RecordKind::Project,
            RecordKind::Publication,
        ] {
            let statistics = self.store.statistics(kind).await.map_err(to_status)?;
            kinds.push(kind_statistics(kind, statistics));
        }
        Ok(Response::new(pb::NodeStatistics {
            node_id: self.store.node_id().to_owned(),
            kinds,
        }))
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
