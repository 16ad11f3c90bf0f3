//! The gateway's operations, shared by the gRPC service and the HTTP API so
//! both answer the same: federated search, get by id, status, statistics.
//! Each is admitted, run on behalf of its user, and audited
//! ([`GatewayAccess`]).

use std::collections::BTreeMap;
use std::time::Duration;

use lienthong_proto::v1 as pb;
use lienthong_records::{AnyRecord, RecordId, RecordKind};
use tokio::time::Instant;

use crate::access::{GatewayAccess, withhold_from_expert, withhold_personal_fields};
use crate::auth::{Credentials, UserRole};
use crate::config::GatewayConfig;
use crate::federated_search::{self, FederatedPage};
use crate::registry::{NodeFailure, Registry};
use crate::request_error::RequestError;

/// The gateway's state: the node registry and request limits.
pub struct Federation {
    registry: Registry,
    access: GatewayAccess,
    /// Seals page tokens (key in the gateway's database).
    seal: lienthong_store::TokenSeal,
    request_timeout: Duration,
    max_rounds: u32,
}

/// The gateway's nodes: each call carries the end user it is made for.
pub fn node_registry(
    config: &GatewayConfig,
    transport: &lienthong_runtime::tls::Transport,
) -> Result<Registry, String> {
    let on_behalf = crate::access::OnBehalf {
        enabled: matches!(transport, lienthong_runtime::tls::Transport::MutualTls(_)),
    };
    let policy = lienthong_peer_client::registry::CallPolicy {
        breaker: config.breaker.clone(),
        retry: config.retry.clone(),
        max_message_bytes: config.grpc.max_message_bytes,
        stamp: lienthong_peer_client::registry::CallStamp::new(move |request| {
            let mut stamp = on_behalf;
            tonic::service::Interceptor::call(&mut stamp, request)
        }),
        metrics: lienthong_peer_client::registry::CallMetrics::named("lienthong_gateway"),
    };
    Registry::new(config.node_settings(), transport, policy)
}

impl Federation {
    pub fn new(
        config: &GatewayConfig,
        transport: &lienthong_runtime::tls::Transport,
        access: GatewayAccess,
        seal: lienthong_store::TokenSeal,
    ) -> Result<Federation, String> {
        Ok(Federation {
            registry: node_registry(config, transport)?,
            access,
            seal,
            request_timeout: Duration::from_millis(config.federation.request_timeout_ms),
            max_rounds: config.federation.max_rounds_per_page,
        })
    }

    pub fn registry(&self) -> &Registry {
        &self.registry
    }

    /// Authentication, roles and the audit log.
    pub fn access(&self) -> &GatewayAccess {
        &self.access
    }

    /// The deadline of a request: the configured bound, shortened by the
    /// client's own timeout less a margin to send the answer back in.
    pub fn deadline(&self, client_timeout: Option<Duration>) -> Instant {
        let budget = match client_timeout {
            Some(timeout) => {
                let margin =
                    (timeout / 10).clamp(Duration::from_millis(2), Duration::from_millis(50));
                timeout.saturating_sub(margin).min(self.request_timeout)
            }
            None => self.request_timeout,
        };
        Instant::now() + budget
    }

    /// One page of a federated search.
    pub async fn search(
        &self,
        credentials: &Credentials,
        kind: RecordKind,
        request: pb::FederatedSearchRequest,
        deadline: Instant,
    ) -> Result<FederatedPage, RequestError> {
        let action = search_action(kind);
        let admitted = self
            .access
            .admit(credentials, action, &request, UserRole::Viewer)
            .await?;
        let filters_by_year = request
            .filters
            .as_ref()
            .is_some_and(|filters| filters.year_from != 0 || filters.year_to != 0);
        if kind == RecordKind::Expert
            && filters_by_year
            && !admitted.user.role.sees_personal_fields()
        {
            // The hits would tell who was born when.
            let refusal = RequestError::PermissionDenied(format!(
                "year filters on experts select by birth year, a personal field {} may not see",
                admitted.user.name
            ));
            return self
                .access
                .finish(admitted, Err(refusal), |_| Vec::new())
                .await;
        }
        let result = admitted
            .on_behalf(federated_search::search(
                &self.registry,
                &federated_search::PageTokens {
                    seal: &self.seal,
                    user: &admitted.user.name,
                },
                kind,
                request,
                deadline,
                self.max_rounds,
            ))
            .await
            .map(|mut page| {
                if !admitted.user.role.sees_personal_fields() {
                    for hit in &mut page.hits {
                        withhold_personal_fields(&mut hit.record);
                    }
                }
                page
            });
        self.access
            .finish(admitted, result, |page| {
                page.hits
                    .iter()
                    .map(|hit| hit.record.id().to_owned())
                    .collect()
            })
            .await
    }

    /// A request the API could not even parse: its caller is authenticated
    /// first (one without credentials learns nothing else), then the refusal
    /// is audited with the request as sent.
    pub async fn refuse_malformed(
        &self,
        credentials: &Credentials,
        action: &'static str,
        request_as_sent: &str,
        error: RequestError,
    ) -> RequestError {
        let request = serde_json::json!({ "as_sent": request_as_sent });
        let admitted = match self
            .access
            .admit(credentials, action, &request, UserRole::Viewer)
            .await
        {
            Ok(admitted) => admitted,
            Err(refusal) => return refusal,
        };
        match self
            .access
            .finish(admitted, Err::<(), _>(error), |_| Vec::new())
            .await
        {
            Err(error) => error,
            Ok(()) => RequestError::InvalidArgument("the request could not be read".into()),
        }
    }

    /// A record by global id, from its origin node.
    pub async fn get(
        &self,
        credentials: &Credentials,
        id: &str,
        deadline: Instant,
    ) -> Result<pb::Record, RequestError> {
        let admitted = self
            .access
            .admit(
                credentials,
                "GetRecord",
                &pb::GetRequest { id: id.to_owned() },
                UserRole::Viewer,
            )
            .await?;
        let result = admitted
            .on_behalf(self.get_from_origin(id, deadline))
            .await
            .map(|mut record| {
                if !admitted.user.role.sees_personal_fields()
                    && let Some(pb::record::Record::Expert(expert)) = &mut record.record
                {
                    withhold_from_expert(expert);
                }
                record
            });
        self.access
            .finish(admitted, result, |_| vec![id.to_owned()])
            .await
    }

    async fn get_from_origin(
        &self,
        id: &str,
        deadline: Instant,
    ) -> Result<pb::Record, RequestError> {
        let parsed: RecordId = id
            .parse()
            .map_err(|error| RequestError::InvalidArgument(format!("id: {error}")))?;
        let node = self.registry.node(&parsed.node).cloned().ok_or_else(|| {
            RequestError::NotFound(format!(
                "no node {:?} in this federation, so no record {id}",
                parsed.node
            ))
        })?;
        let kind = parsed.kind;
        let call = self
            .registry
            .call(node, deadline, &|mut client, timeout| {
                let mut request = tonic::Request::new(pb::GetRequest { id: id.to_owned() });
                request.set_timeout(timeout);
                async move {
                    let record = match kind {
                        RecordKind::Expert => {
                            AnyRecord::Expert(client.get_expert(request).await?.into_inner())
                        }
                        RecordKind::Project => {
                            AnyRecord::Project(client.get_project(request).await?.into_inner())
                        }
                        RecordKind::Publication => AnyRecord::Publication(
                            client.get_publication(request).await?.into_inner(),
                        ),
                        RecordKind::Organization => AnyRecord::Organization(
                            client.get_organization(request).await?.into_inner(),
                        ),
                    };
                    Ok(pb::Record::from(record))
                }
            })
            .await;
        let node_id = &call.node.settings.id;
        call.result.map_err(|failure| match failure {
            NodeFailure::Rejected(refusal) | NodeFailure::Refused(refusal) => {
                RequestError::RefusedByNode {
                    node: node_id.clone(),
                    refusal,
                }
            }
            NodeFailure::Timeout(message) => {
                RequestError::DeadlineExceeded(format!("node {node_id}: {message}"))
            }
            NodeFailure::Unavailable(message) | NodeFailure::Error(message) => {
                RequestError::Unavailable(format!("node {node_id}: {message}"))
            }
        })
    }

    /// Every node's health, versions and counts, asked now. Administrators only.
    pub async fn status(
        &self,
        credentials: &Credentials,
        deadline: Instant,
    ) -> Result<pb::FederationStatus, RequestError> {
        let admitted = self
            .access
            .admit(
                credentials,
                "Status",
                &pb::FederationStatusRequest::default(),
                UserRole::Admin,
            )
            .await?;
        let status = admitted.on_behalf(self.node_status(deadline)).await;
        self.access
            .finish(admitted, Ok(status), |_| Vec::new())
            .await
    }

    /// Audit entries since `since` by outcome and caller. Administrators only.
    pub async fn audit_summary(
        &self,
        credentials: &Credentials,
        since: time::OffsetDateTime,
    ) -> Result<lienthong_audit::Summary, RequestError> {
        let since_text = lienthong_audit::format_time(since);
        let admitted = self
            .access
            .admit(
                credentials,
                "AuditSummary",
                &serde_json::json!({ "since": since_text }),
                UserRole::Admin,
            )
            .await?;
        let summary = self.access.summary(since).await;
        self.access.finish(admitted, summary, |_| Vec::new()).await
    }

    async fn node_status(&self, deadline: Instant) -> pb::FederationStatus {
        let nodes = self.registry.nodes();
        // Read before this call's own Info requests replace them.
        let last_latencies: Vec<f64> = nodes
            .iter()
            .map(|node| {
                node.last_latency()
                    .map_or(0.0, |latency| latency.as_secs_f64() * 1000.0)
            })
            .collect();
        let calls = self
            .registry
            .fan_out(nodes, deadline, |_, mut client, timeout| async move {
                let mut request = tonic::Request::new(pb::InfoRequest {});
                request.set_timeout(timeout);
                Ok(client.info(request).await?.into_inner())
            })
            .await;
        let mut status = pb::FederationStatus {
            software_version: env!("CARGO_PKG_VERSION").to_owned(),
            ..Default::default()
        };
        for (call, last_call_latency_ms) in calls.into_iter().zip(last_latencies) {
            let line = call.status();
            let node = &call.node;
            let mut health = pb::NodeHealth {
                node_id: line.node_id,
                display_name: line.display_name,
                endpoint: node.settings.endpoint.clone(),
                outcome: line.outcome,
                message: line.message,
                latency_ms: line.latency_ms,
                last_call_latency_ms,
                breaker: node.breaker.state() as i32,
                ..Default::default()
            };
            if let Ok(info) = call.result {
                status.nodes_ok += 1;
                health.software_version = info.software_version;
                health.schema_version = info.schema_version;
                health.counts = info.counts;
                health.last_change_seq = info.last_change_seq;
                health.mirrors = info.mirrors;
            }
            status.nodes.push(health);
        }
        status
    }

    /// Reporting figures per node and in total.
    pub async fn statistics(
        &self,
        credentials: &Credentials,
        request: pb::FederatedStatisticsRequest,
        deadline: Instant,
    ) -> Result<pb::FederatedStatistics, RequestError> {
        let admitted = self
            .access
            .admit(credentials, "Statistics", &request, UserRole::Viewer)
            .await?;
        let sees_birth_years = admitted.user.role.sees_personal_fields();
        let result = admitted
            .on_behalf(self.node_statistics(request, deadline))
            .await
            .map(|mut statistics| {
                if !sees_birth_years {
                    // Experts by year are counts of birth years: nodes
                    // withhold them from such users; this makes sure.
                    let places = statistics
                        .provinces
                        .iter_mut()
                        .chain(statistics.total.as_mut());
                    for place in places {
                        for kind in &mut place.kinds {
                            if kind.kind == "expert" {
                                kind.by_year.clear();
                            }
                        }
                    }
                }
                statistics
            });
        self.access.finish(admitted, result, |_| Vec::new()).await
    }

    async fn node_statistics(
        &self,
        request: pb::FederatedStatisticsRequest,
        deadline: Instant,
    ) -> Result<pb::FederatedStatistics, RequestError> {
        let nodes = self
            .registry
            .select(&request.nodes)
            .map_err(RequestError::InvalidArgument)?;
        let calls = self
            .registry
            .fan_out(&nodes, deadline, |_, mut client, timeout| async move {
                let mut request = tonic::Request::new(pb::StatisticsRequest {});
                request.set_timeout(timeout);
                Ok(client.statistics(request).await?.into_inner())
            })
            .await;
        let mut answer = pb::FederatedStatistics::default();
        for call in calls {
            answer.nodes.push(call.status());
            if let Ok(mut statistics) = call.result {
                // A node speaks for itself only.
                statistics.node_id = call.node.settings.id.clone();
                answer.provinces.push(statistics);
            }
        }
        answer.total = Some(total(&answer.provinces));
        Ok(answer)
    }
}

impl Federation {
    /// Completed and ongoing tasks resembling a proposal, across the nodes:
    /// best first, each task once, from its origin when the origin answered
    /// (a mirrored copy stands in only for an origin that did not).
    pub async fn check_proposal(
        &self,
        credentials: &Credentials,
        request: pb::FederatedProposalCheckRequest,
        deadline: Instant,
    ) -> Result<pb::FederatedProposalCheck, RequestError> {
        let admitted = self
            .access
            .admit(credentials, "CheckProposal", &request, UserRole::Viewer)
            .await?;
        let result = admitted
            .on_behalf(self.node_proposal_checks(request, deadline))
            .await;
        self.access
            .finish(admitted, result, |answer| {
                answer
                    .tasks
                    .iter()
                    .filter_map(|task| task.task.as_ref()?.project.as_ref()?.meta.as_ref())
                    .map(|meta| meta.id.clone())
                    .collect()
            })
            .await
    }

    async fn node_proposal_checks(
        &self,
        request: pb::FederatedProposalCheckRequest,
        deadline: Instant,
    ) -> Result<pb::FederatedProposalCheck, RequestError> {
        // What every node would refuse is refused here, once.
        let check = lienthong_store::ProposalCheck {
            title: request.title.clone(),
            summary: request.summary.clone(),
            field_code_prefix: request.field_code.clone(),
            ..Default::default()
        };
        lienthong_store::search::check_proposal_input(&check).map_err(|error| match error {
            lienthong_store::StoreError::LimitExceeded(message) => {
                RequestError::LimitExceeded(message)
            }
            other => RequestError::InvalidArgument(other.to_string()),
        })?;
        let limit = lienthong_store::search::result_limit(request.limit as usize);
        let nodes = self
            .registry
            .select(&request.nodes)
            .map_err(RequestError::InvalidArgument)?;
        let node_request = pb::ProposalCheckRequest {
            title: request.title,
            summary: request.summary,
            field_code: request.field_code,
            limit: limit as u32,
            include_mirrors: request.include_mirrors,
        };
        let calls = self
            .registry
            .fan_out(&nodes, deadline, |_, mut client, timeout| {
                let node_request = node_request.clone();
                async move {
                    let mut call = tonic::Request::new(node_request);
                    call.set_timeout(timeout);
                    Ok(client.check_proposal(call).await?.into_inner())
                }
            })
            .await;
        let mut answer = pb::FederatedProposalCheck::default();
        let mut found: Vec<pb::FederatedSimilarTask> = Vec::new();
        for call in calls {
            let status = call.status();
            if let Ok(response) = call.result {
                found.extend(response.tasks.into_iter().map(|task| {
                    pb::FederatedSimilarTask {
                        provenance: Some(pb::Provenance {
                            node_id: status.node_id.clone(),
                            record_id: task
                                .project
                                .as_ref()
                                .and_then(|project| project.meta.as_ref())
                                .map(|meta| meta.id.clone())
                                .unwrap_or_default(),
                            mirror: task.mirror.clone(),
                        }),
                        task: Some(task),
                    }
                }));
            }
            answer.nodes.push(status);
        }
        // A task its origin returned is shown from there; a mirror stands
        // in only for what the origin did not return. The origin is the
        // record id's first part, not what the mirroring node says.
        let record_id = |task: &pb::FederatedSimilarTask| {
            task.provenance
                .as_ref()
                .map(|provenance| provenance.record_id.clone())
                .unwrap_or_default()
        };
        let from_origin = |task: &pb::FederatedSimilarTask| {
            let id = record_id(task);
            task.provenance
                .as_ref()
                .is_some_and(|provenance| id.split(':').next() == Some(provenance.node_id.as_str()))
        };
        let returned_by_origin: std::collections::HashSet<String> = found
            .iter()
            .filter(|task| from_origin(task))
            .map(record_id)
            .collect();
        // Best first; an origin's own copy before mirrors of it.
        let score = |task: &pb::FederatedSimilarTask| task.task.as_ref().map_or(0.0, |t| t.score);
        found.sort_by(|a, b| {
            score(b)
                .total_cmp(&score(a))
                .then_with(|| from_origin(b).cmp(&from_origin(a)))
        });
        let mut shown = std::collections::HashSet::new();
        for task in found {
            let id = record_id(&task);
            if !from_origin(&task) && returned_by_origin.contains(&id) {
                continue;
            }
            if shown.insert(id) {
                answer.tasks.push(task);
            }
            if answer.tasks.len() == limit {
                break;
            }
        }
        Ok(answer)
    }
}

/// The audited name of a search of `kind`.
pub fn search_action(kind: RecordKind) -> &'static str {
    match kind {
        RecordKind::Expert => "SearchExperts",
        RecordKind::Project => "SearchProjects",
        RecordKind::Publication => "SearchPublications",
        RecordKind::Organization => "SearchOrganizations",
    }
}

/// Sums the provinces' figures, kind by kind and key by key.
fn total(provinces: &[pb::NodeStatistics]) -> pb::NodeStatistics {
    let mut kinds: BTreeMap<String, [BTreeMap<String, u64>; 4]> = BTreeMap::new();
    let mut totals: BTreeMap<String, u64> = BTreeMap::new();
    for province in provinces {
        for kind in &province.kinds {
            *totals.entry(kind.kind.clone()).or_default() += kind.total;
            let sums = kinds.entry(kind.kind.clone()).or_default();
            for (sum, counts) in sums.iter_mut().zip([
                &kind.by_field,
                &kind.by_year,
                &kind.by_status,
                &kind.by_management_level,
            ]) {
                for count in counts {
                    *sum.entry(count.key.clone()).or_default() += count.count;
                }
            }
        }
    }
    // Enum keys in enum order, other keys (fields, years) as strings.
    let list = |sum: &BTreeMap<String, u64>| -> Vec<pb::CountByKey> {
        let mut counts: Vec<pb::CountByKey> = sum
            .iter()
            .map(|(key, count)| pb::CountByKey {
                key: key.clone(),
                count: *count,
            })
            .collect();
        counts.sort_by_key(|count| {
            let number = pb::ProjectStatus::from_str_name(&count.key)
                .map(|status| status as i32)
                .or_else(|| {
                    pb::ManagementLevel::from_str_name(&count.key).map(|level| level as i32)
                });
            (number, count.key.clone())
        });
        counts
    };
    // Kinds in the order nodes report them.
    let order = [
        RecordKind::Expert,
        RecordKind::Project,
        RecordKind::Publication,
    ];
    let mut names: Vec<String> = kinds.keys().cloned().collect();
    names.sort_by_key(|name| {
        order
            .iter()
            .position(|kind| kind.as_str() == name)
            .unwrap_or(usize::MAX)
    });
    pb::NodeStatistics {
        node_id: "total".into(),
        kinds: names
            .into_iter()
            .map(|name| {
                let [fields, years, statuses, levels] = &kinds[&name];
                pb::KindStatistics {
                    total: totals[&name],
                    kind: name.clone(),
                    by_field: list(fields),
                    by_year: list(years),
                    by_status: list(statuses),
                    by_management_level: list(levels),
                }
            })
            .collect(),
    }
}
