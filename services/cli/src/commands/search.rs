//! `lienthong search`, `info`, `status` and `stats`: gRPC clients of a node
//! or of the federation gateway.

use lienthong_proto::v1 as pb;
use lienthong_proto::v1::federation_client::FederationClient;
use lienthong_proto::v1::province_node_client::ProvinceNodeClient;

use super::client::connect;
use crate::cli::{
    DegreeArg, GatewayArgs, InfoArgs, LevelArg, SearchArgs, SearchKind, StatsArgs, StatusArg,
    TitleArg,
};
use crate::output;
use lienthong_runtime::identity::PeerRole;

fn status_error(status: tonic::Status) -> anyhow::Error {
    anyhow::anyhow!("{:?}: {}", status.code(), status.message())
}

fn filters(args: &SearchArgs) -> pb::SearchFilters {
    pb::SearchFilters {
        field_code_prefixes: args.fields.clone(),
        organization_id: args.organization.clone().unwrap_or_default(),
        academic_title: args.title.map_or(0, |title| match title {
            TitleArg::Professor => pb::AcademicTitle::Professor as i32,
            TitleArg::AssociateProfessor => pb::AcademicTitle::AssociateProfessor as i32,
        }),
        degree: args.degree.map_or(0, |degree| match degree {
            DegreeArg::DoctorOfScience => pb::Degree::DoctorOfScience as i32,
            DegreeArg::Doctor => pb::Degree::Doctor as i32,
            DegreeArg::Master => pb::Degree::Master as i32,
            DegreeArg::Engineer => pb::Degree::Engineer as i32,
            DegreeArg::Bachelor => pb::Degree::Bachelor as i32,
            DegreeArg::MedicalDoctor => pb::Degree::MedicalDoctor as i32,
        }),
        year_from: args.year_from.unwrap_or(0),
        year_to: args.year_to.unwrap_or(0),
        statuses: args
            .statuses
            .iter()
            .map(|status| match status {
                StatusArg::Proposed => pb::ProjectStatus::Proposed as i32,
                StatusArg::Approved => pb::ProjectStatus::Approved as i32,
                StatusArg::Ongoing => pb::ProjectStatus::Ongoing as i32,
                StatusArg::Completed => pb::ProjectStatus::Completed as i32,
                StatusArg::Cancelled => pb::ProjectStatus::Cancelled as i32,
            })
            .collect(),
        management_levels: args
            .levels
            .iter()
            .map(|level| match level {
                LevelArg::National => pb::ManagementLevel::National as i32,
                LevelArg::Ministry => pb::ManagementLevel::Ministry as i32,
                LevelArg::Province => pb::ManagementLevel::Province as i32,
                LevelArg::Grassroots => pb::ManagementLevel::Grassroots as i32,
            })
            .collect(),
    }
}

pub async fn run(args: SearchArgs) -> anyhow::Result<()> {
    if let Some(gateway) = &args.gateway {
        return run_federated(&args, gateway).await;
    }
    let mut client =
        ProvinceNodeClient::new(connect(&args.node, PeerRole::Node, &args.connect).await?);
    let request = pb::SearchRequest {
        query: args.query.clone(),
        filters: Some(filters(&args)),
        page_size: args.page_size,
        page_token: args.page_token.clone(),
        include_mirrors: args.include_mirrors,
    };
    match args.kind {
        SearchKind::Experts => {
            let response = client
                .search_experts(request)
                .await
                .map_err(status_error)?
                .into_inner();
            output::print(&response, args.json, || {
                let rows = output::node_rows(&response.hits, |hit| {
                    (hit.rank.as_ref(), hit.expert.as_ref())
                });
                output::experts_table(&rows, &response.next_page_token)
            })
        }
        SearchKind::Projects => {
            let response = client
                .search_projects(request)
                .await
                .map_err(status_error)?
                .into_inner();
            output::print(&response, args.json, || {
                let rows = output::node_rows(&response.hits, |hit| {
                    (hit.rank.as_ref(), hit.project.as_ref())
                });
                output::projects_table(&rows, &response.next_page_token)
            })
        }
        SearchKind::Publications => {
            let response = client
                .search_publications(request)
                .await
                .map_err(status_error)?
                .into_inner();
            output::print(&response, args.json, || {
                let rows = output::node_rows(&response.hits, |hit| {
                    (hit.rank.as_ref(), hit.publication.as_ref())
                });
                output::publications_table(&rows, &response.next_page_token)
            })
        }
        SearchKind::Organizations => {
            let response = client
                .search_organizations(request)
                .await
                .map_err(status_error)?
                .into_inner();
            output::print(&response, args.json, || {
                output::organizations_table(&response)
            })
        }
    }
}

/// Prints a federated page, then one status line per province.
fn with_nodes(
    (table, footer): (comfy_table::Table, String),
    nodes: &[pb::NodeStatus],
) -> (comfy_table::Table, String) {
    (
        table,
        format!("{footer}\nprovinces:\n{}", output::node_status_lines(nodes)),
    )
}

async fn run_federated(args: &SearchArgs, gateway: &str) -> anyhow::Result<()> {
    let mut client =
        FederationClient::new(connect(gateway, PeerRole::Gateway, &args.connect).await?);
    let request = pb::FederatedSearchRequest {
        query: args.query.clone(),
        filters: Some(filters(args)),
        page_size: args.page_size,
        page_token: args.page_token.clone(),
        nodes: args.only.clone(),
        require_all_nodes: args.require_all_nodes,
        include_mirrors: args.include_mirrors,
    };
    match args.kind {
        SearchKind::Experts => {
            let response = client
                .search_experts(request)
                .await
                .map_err(status_error)?
                .into_inner();
            output::print(&response, args.json, || {
                let rows = output::federated_rows(&response.hits, |hit| {
                    (
                        hit.rank.as_ref(),
                        hit.expert.as_ref(),
                        hit.provenance.as_slice(),
                    )
                });
                with_nodes(
                    output::experts_table(&rows, &response.next_page_token),
                    &response.nodes,
                )
            })
        }
        SearchKind::Projects => {
            let response = client
                .search_projects(request)
                .await
                .map_err(status_error)?
                .into_inner();
            output::print(&response, args.json, || {
                let rows = output::federated_rows(&response.hits, |hit| {
                    (
                        hit.rank.as_ref(),
                        hit.project.as_ref(),
                        hit.provenance.as_slice(),
                    )
                });
                with_nodes(
                    output::projects_table(&rows, &response.next_page_token),
                    &response.nodes,
                )
            })
        }
        SearchKind::Publications => {
            let response = client
                .search_publications(request)
                .await
                .map_err(status_error)?
                .into_inner();
            output::print(&response, args.json, || {
                let rows = output::federated_rows(&response.hits, |hit| {
                    (
                        hit.rank.as_ref(),
                        hit.publication.as_ref(),
                        hit.provenance.as_slice(),
                    )
                });
                with_nodes(
                    output::publications_table(&rows, &response.next_page_token),
                    &response.nodes,
                )
            })
        }
        SearchKind::Organizations => anyhow::bail!(
            "organizations are searched on one node at a time; drop --gateway and pass --node"
        ),
    }
}

pub async fn status(args: GatewayArgs) -> anyhow::Result<()> {
    let mut client =
        FederationClient::new(connect(&args.gateway, PeerRole::Gateway, &args.connect).await?);
    let status = client
        .status(pb::FederationStatusRequest {})
        .await
        .map_err(status_error)?
        .into_inner();
    output::print(&status, args.json, || {
        output::federation_status_table(&status)
    })
}

pub async fn statistics(args: StatsArgs) -> anyhow::Result<()> {
    let mut client = FederationClient::new(
        connect(
            &args.gateway.gateway,
            PeerRole::Gateway,
            &args.gateway.connect,
        )
        .await?,
    );
    let statistics = client
        .statistics(pb::FederatedStatisticsRequest { nodes: args.only })
        .await
        .map_err(status_error)?
        .into_inner();
    output::print(&statistics, args.gateway.json, || {
        output::statistics_table(&statistics)
    })
}

pub async fn info(args: InfoArgs) -> anyhow::Result<()> {
    let mut client =
        ProvinceNodeClient::new(connect(&args.node, PeerRole::Node, &args.connect).await?);
    let info = client
        .info(pb::InfoRequest {})
        .await
        .map_err(status_error)?
        .into_inner();
    output::print(&info, args.json, || output::info_table(&info))
}
