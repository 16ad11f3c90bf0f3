//! `lienthong search` and `lienthong info`: a gRPC client of one node.

use anyhow::Context;
use lienthong_proto::v1 as pb;
use lienthong_proto::v1::province_node_client::ProvinceNodeClient;
use tonic::transport::Channel;

use crate::cli::{DegreeArg, InfoArgs, LevelArg, SearchArgs, SearchKind, StatusArg, TitleArg};
use crate::output;

async fn connect(node: &str) -> anyhow::Result<ProvinceNodeClient<Channel>> {
    let endpoint = Channel::from_shared(node.to_owned())
        .with_context(|| format!("{node:?} is not a node address; use e.g. http://127.0.0.1:7101"))?
        .connect_timeout(std::time::Duration::from_secs(5))
        .timeout(std::time::Duration::from_secs(30));
    let channel = endpoint.connect().await.with_context(|| {
        format!("cannot reach the node at {node}; is it running (lienthong demo)?")
    })?;
    Ok(ProvinceNodeClient::new(channel))
}

fn status_error(status: tonic::Status) -> anyhow::Error {
    anyhow::anyhow!("{:?}: {}", status.code(), status.message())
}

pub async fn run(args: SearchArgs) -> anyhow::Result<()> {
    let mut client = connect(&args.node).await?;
    let request = pb::SearchRequest {
        query: args.query.clone(),
        filters: Some(pb::SearchFilters {
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
        }),
        page_size: args.page_size,
        page_token: args.page_token.clone(),
    };
    match args.kind {
        SearchKind::Experts => {
            let response = client
                .search_experts(request)
                .await
                .map_err(status_error)?
                .into_inner();
            output::print(&response, args.json, || output::experts_table(&response))
        }
        SearchKind::Projects => {
            let response = client
                .search_projects(request)
                .await
                .map_err(status_error)?
                .into_inner();
            output::print(&response, args.json, || output::projects_table(&response))
        }
        SearchKind::Publications => {
            let response = client
                .search_publications(request)
                .await
                .map_err(status_error)?
                .into_inner();
            output::print(&response, args.json, || {
                output::publications_table(&response)
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

pub async fn info(args: InfoArgs) -> anyhow::Result<()> {
    let mut client = connect(&args.node).await?;
    let info = client
        .info(pb::InfoRequest {})
        .await
        .map_err(status_error)?
        .into_inner();
    output::print(&info, args.json, || output::info_table(&info))
}
