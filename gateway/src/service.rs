//! The `lienthong.v1.Federation` gRPC service: reads the client's deadline,
//! calls [`Federation`], and shapes the answer per record kind.

use std::sync::Arc;
use std::time::Duration;

use lienthong_proto::v1 as pb;
use lienthong_proto::v1::federation_server::Federation as FederationRpc;
use lienthong_records::{AnyRecord, RecordKind};
use tonic::metadata::MetadataMap;
use tonic::{Request, Response, Status};

use crate::auth::Credentials;
use crate::federated_search::{FederatedPage, MergedHit};
use crate::federation::Federation;

/// Handlers of the federation service.
#[derive(Clone)]
pub struct FederationService {
    federation: Arc<Federation>,
}

impl FederationService {
    pub fn new(federation: Arc<Federation>) -> Self {
        FederationService { federation }
    }
}

/// The certificate identity and `authorization` metadata of a call.
pub fn credentials<T>(request: &Request<T>) -> Credentials {
    Credentials {
        peer: request
            .extensions()
            .get::<lienthong_runtime::tls::PeerInfo>()
            .cloned(),
        authorization: request
            .metadata()
            .get("authorization")
            .map(|value| value.to_str().unwrap_or_default().to_owned()),
        session: None,
    }
}

/// The client's `grpc-timeout` header ("100m", "2S", ...), if it sent one.
pub fn client_timeout(metadata: &MetadataMap) -> Option<Duration> {
    let value = metadata.get("grpc-timeout")?.to_str().ok()?;
    if value.len() < 2 || value.len() > 9 {
        return None;
    }
    let (digits, unit) = value.split_at(value.len() - 1);
    let amount: u64 = digits.parse().ok()?;
    Some(match unit {
        "H" => Duration::from_secs(amount.checked_mul(3600)?),
        "M" => Duration::from_secs(amount.checked_mul(60)?),
        "S" => Duration::from_secs(amount),
        "m" => Duration::from_millis(amount),
        "u" => Duration::from_micros(amount),
        "n" => Duration::from_nanos(amount),
        _ => return None,
    })
}

/// Splits merged hits into (record, rank, provenance) for one kind.
fn shaped<H>(
    hits: Vec<MergedHit>,
    shape: impl Fn(AnyRecord, pb::HitRank, Vec<pb::Provenance>) -> Option<H>,
) -> Vec<H> {
    hits.into_iter()
        .filter_map(|hit| shape(hit.record, hit.rank, hit.provenance))
        .collect()
}

/// The experts response for a federated page.
pub fn experts_response(page: FederatedPage) -> pb::FederatedExpertsResponse {
    pb::FederatedExpertsResponse {
        hits: shaped(page.hits, |record, rank, provenance| match record {
            AnyRecord::Expert(expert) => Some(pb::FederatedExpertHit {
                expert: Some(expert),
                rank: Some(rank),
                provenance,
            }),
            _ => None,
        }),
        next_page_token: page.next_page_token,
        nodes: page.nodes,
    }
}

/// The projects response for a federated page.
pub fn projects_response(page: FederatedPage) -> pb::FederatedProjectsResponse {
    pb::FederatedProjectsResponse {
        hits: shaped(page.hits, |record, rank, provenance| match record {
            AnyRecord::Project(project) => Some(pb::FederatedProjectHit {
                project: Some(project),
                rank: Some(rank),
                provenance,
            }),
            _ => None,
        }),
        next_page_token: page.next_page_token,
        nodes: page.nodes,
    }
}

/// The publications response for a federated page.
pub fn publications_response(page: FederatedPage) -> pb::FederatedPublicationsResponse {
    pb::FederatedPublicationsResponse {
        hits: shaped(page.hits, |record, rank, provenance| match record {
            AnyRecord::Publication(publication) => Some(pb::FederatedPublicationHit {
                publication: Some(publication),
                rank: Some(rank),
                provenance,
            }),
            _ => None,
        }),
        next_page_token: page.next_page_token,
        nodes: page.nodes,
    }
}

impl FederationService {
    async fn search(
        &self,
        kind: RecordKind,
        request: Request<pb::FederatedSearchRequest>,
    ) -> Result<FederatedPage, Status> {
        let deadline = self.federation.deadline(client_timeout(request.metadata()));
        let credentials = credentials(&request);
        Ok(self
            .federation
            .search(&credentials, kind, request.into_inner(), deadline)
            .await?)
    }
}

#[tonic::async_trait]
impl FederationRpc for FederationService {
    async fn search_experts(
        &self,
        request: Request<pb::FederatedSearchRequest>,
    ) -> Result<Response<pb::FederatedExpertsResponse>, Status> {
        let page = self.search(RecordKind::Expert, request).await?;
        Ok(Response::new(experts_response(page)))
    }

    async fn search_projects(
        &self,
        request: Request<pb::FederatedSearchRequest>,
    ) -> Result<Response<pb::FederatedProjectsResponse>, Status> {
        let page = self.search(RecordKind::Project, request).await?;
        Ok(Response::new(projects_response(page)))
    }

    async fn search_publications(
        &self,
        request: Request<pb::FederatedSearchRequest>,
    ) -> Result<Response<pb::FederatedPublicationsResponse>, Status> {
        let page = self.search(RecordKind::Publication, request).await?;
        Ok(Response::new(publications_response(page)))
    }

    async fn get_record(
        &self,
        request: Request<pb::GetRequest>,
    ) -> Result<Response<pb::Record>, Status> {
        let deadline = self.federation.deadline(client_timeout(request.metadata()));
        let credentials = credentials(&request);
        let record = self
            .federation
            .get(&credentials, &request.into_inner().id, deadline)
            .await
            .map_err(Status::from)?;
        Ok(Response::new(record))
    }

    async fn status(
        &self,
        request: Request<pb::FederationStatusRequest>,
    ) -> Result<Response<pb::FederationStatus>, Status> {
        let deadline = self.federation.deadline(client_timeout(request.metadata()));
        let credentials = credentials(&request);
        Ok(Response::new(
            self.federation.status(&credentials, deadline).await?,
        ))
    }

    async fn statistics(
        &self,
        request: Request<pb::FederatedStatisticsRequest>,
    ) -> Result<Response<pb::FederatedStatistics>, Status> {
        let deadline = self.federation.deadline(client_timeout(request.metadata()));
        let credentials = credentials(&request);
        let statistics = self
            .federation
            .statistics(&credentials, request.into_inner(), deadline)
            .await
            .map_err(Status::from)?;
        Ok(Response::new(statistics))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grpc_timeout_header_is_understood() {
        let mut metadata = MetadataMap::new();
        assert_eq!(client_timeout(&metadata), None);
        metadata.insert("grpc-timeout", "250m".parse().unwrap());
        assert_eq!(client_timeout(&metadata), Some(Duration::from_millis(250)));
        metadata.insert("grpc-timeout", "3S".parse().unwrap());
        assert_eq!(client_timeout(&metadata), Some(Duration::from_secs(3)));
        metadata.insert("grpc-timeout", "soon".parse().unwrap());
        assert_eq!(client_timeout(&metadata), None);
    }
}
