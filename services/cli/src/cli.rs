//! Command-line arguments. Every command's `--help` says what it does and
//! shows an example.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

const GETTING_STARTED: &str = "Getting started:
  lienthong demo                                  # two nodes and a gateway, with sample data
  lienthong search experts \"nguyen xuan hai\" --gateway http://127.0.0.1:7100   # every province
  lienthong search projects lúa --status completed --node http://127.0.0.1:7102  # one province
  lienthong status --gateway http://127.0.0.1:7100
  lienthong info --node http://127.0.0.1:7101";

/// Liên thông: share records of experts, S&T tasks and publications between
/// provincial Departments of Science and Technology.
#[derive(Parser, Debug)]
#[command(
    name = "lienthong",
    version,
    propagate_version = true,
    max_term_width = 100,
    after_help = GETTING_STARTED
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run a province node: the gRPC service over this province's database.
    ///
    /// Example: lienthong node --config deploy/hung-yen.sqlite.toml --insecure-plaintext
    Node(NodeArgs),
    /// Run the federation gateway: one query to every province node, merged.
    ///
    /// Serves gRPC (lienthong.v1.Federation) and an HTTP/JSON API with an
    /// OpenAPI description at /api/v1/openapi.json.
    ///
    /// Example: lienthong gateway --config deploy/gateway.toml --insecure-plaintext
    Gateway(GatewayServeArgs),
    /// Start the Hưng Yên and Nam Định nodes on 127.0.0.1:7101 and :7102 with
    /// sample data, and the gateway in front of them on :7100 (gRPC) and :8080
    /// (HTTP), and print how to query them. Runs until Ctrl-C.
    Demo(DemoArgs),
    /// Search experts, projects or publications in every province through the
    /// gateway (--gateway), or one node (--node, organizations too).
    ///
    /// Words match ignoring case and diacritics ("nguyen" finds "Nguyễn");
    /// "quoted words" must appear as a phrase. Through the gateway, each hit
    /// shows its province, and one line per province says whether it answered.
    ///
    /// Example: lienthong search experts "nguyen xuan hai" --gateway http://127.0.0.1:7100
    Search(SearchArgs),
    /// Show the federation's health: each node's state, versions, counts,
    /// latency and circuit breaker.
    ///
    /// Example: lienthong status --gateway http://127.0.0.1:7100
    Status(GatewayArgs),
    /// Reporting figures across the federation: experts, projects and
    /// publications by field, year, status and management level, per province
    /// and in total.
    ///
    /// Example: lienthong stats --gateway http://127.0.0.1:7100 --json
    Stats(StatsArgs),
    /// Show a node's identity, record counts and schema version.
    Info(InfoArgs),
    /// Load or dump records as JSON lines (the protobuf JSON form of lienthong.v1.Record).
    Records(RecordsArgs),
    /// Fill a node's database with realistic, deterministic sample data.
    ///
    /// Example: lienthong sample --config deploy/hung-yen.sqlite.toml --experts 10000
    Sample(SampleArgs),
}

#[derive(Args, Debug)]
pub struct NodeArgs {
    /// Node configuration file (TOML). See deploy/ for examples.
    #[arg(long, short)]
    pub config: PathBuf,
    /// Serve gRPC without TLS. For development only: anyone on the network can
    /// read and call the node. mTLS arrives with the federation PKI.
    #[arg(long)]
    pub insecure_plaintext: bool,
}

#[derive(Args, Debug)]
pub struct GatewayServeArgs {
    /// Gateway configuration file (TOML): listeners and the [[nodes]] it asks.
    /// See deploy/gateway.toml.
    #[arg(long, short)]
    pub config: PathBuf,
    /// Serve gRPC and HTTP and call the nodes without TLS. For development
    /// only: anyone on the network can read and call the gateway.
    #[arg(long)]
    pub insecure_plaintext: bool,
}

#[derive(Args, Debug)]
pub struct GatewayArgs {
    /// Gateway address.
    #[arg(
        long,
        env = "LIENTHONG_GATEWAY",
        default_value = "http://127.0.0.1:7100"
    )]
    pub gateway: String,
    /// Print JSON (the protobuf JSON mapping) for scripts.
    #[arg(long)]
    pub json: bool,
}

#[derive(Args, Debug)]
pub struct StatsArgs {
    #[command(flatten)]
    pub gateway: GatewayArgs,
    /// Only this node (repeatable); every node when absent.
    #[arg(long = "only")]
    pub only: Vec<String>,
}

#[derive(Args, Debug)]
pub struct DemoArgs {
    /// Where the demo keeps its SQLite files.
    #[arg(long, default_value = "lienthong-demo")]
    pub dir: PathBuf,
    /// Experts per province in the sample data (first run only).
    #[arg(long, default_value_t = 2_000)]
    pub experts: u64,
}

/// Record kinds that can be searched.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum SearchKind {
    Experts,
    Projects,
    Publications,
    Organizations,
}

/// Project statuses on the command line.
#[derive(ValueEnum, Clone, Copy, Debug)]
pub enum StatusArg {
    Proposed,
    Approved,
    Ongoing,
    Completed,
    Cancelled,
}

/// Management levels on the command line.
#[derive(ValueEnum, Clone, Copy, Debug)]
pub enum LevelArg {
    National,
    Ministry,
    Province,
    Grassroots,
}

/// Degrees on the command line.
#[derive(ValueEnum, Clone, Copy, Debug)]
pub enum DegreeArg {
    /// TSKH.
    DoctorOfScience,
    /// TS.
    Doctor,
    /// ThS.
    Master,
    /// KS.
    Engineer,
    /// CN.
    Bachelor,
    /// BS.
    MedicalDoctor,
}

/// Academic titles on the command line.
#[derive(ValueEnum, Clone, Copy, Debug)]
pub enum TitleArg {
    /// GS.
    Professor,
    /// PGS.
    AssociateProfessor,
}

#[derive(Args, Debug)]
pub struct SearchArgs {
    /// What to search.
    pub kind: SearchKind,
    /// Words, and "quoted phrases". May be empty when filters are given.
    #[arg(default_value = "")]
    pub query: String,
    /// Node address, to search one province.
    #[arg(long, env = "LIENTHONG_NODE", default_value = "http://127.0.0.1:7101")]
    pub node: String,
    /// Gateway address, to search every province at once, e.g. http://127.0.0.1:7100.
    #[arg(long, env = "LIENTHONG_GATEWAY", conflicts_with = "node")]
    pub gateway: Option<String>,
    /// With --gateway: only this node (repeatable), e.g. --only nam-dinh.
    #[arg(long = "only", requires = "gateway")]
    pub only: Vec<String>,
    /// With --gateway: fail unless every province answers.
    #[arg(long, requires = "gateway")]
    pub require_all_nodes: bool,
    /// Field-code prefix (repeatable; any of them), e.g. 4 or 40101.
    #[arg(long = "field")]
    pub fields: Vec<String>,
    /// Global id of an organization, e.g. hung-yen:organization:O00003.
    #[arg(long)]
    pub organization: Option<String>,
    /// Experts: academic title.
    #[arg(long, value_enum)]
    pub title: Option<TitleArg>,
    /// Experts: degree.
    #[arg(long, value_enum)]
    pub degree: Option<DegreeArg>,
    /// From this year (experts: birth year; projects: start; publications: year).
    #[arg(long)]
    pub year_from: Option<u32>,
    /// Up to this year, inclusive.
    #[arg(long)]
    pub year_to: Option<u32>,
    /// Projects: status (repeatable).
    #[arg(long = "status", value_enum)]
    pub statuses: Vec<StatusArg>,
    /// Projects: management level (repeatable).
    #[arg(long = "level", value_enum)]
    pub levels: Vec<LevelArg>,
    /// Hits per page (at most 100).
    #[arg(long, default_value_t = 20)]
    pub page_size: u32,
    /// Continue from a previous page's token.
    #[arg(long, default_value = "")]
    pub page_token: String,
    /// Print the response as JSON (the protobuf JSON mapping) for scripts.
    #[arg(long)]
    pub json: bool,
}

#[derive(Args, Debug)]
pub struct InfoArgs {
    /// Node address.
    #[arg(long, env = "LIENTHONG_NODE", default_value = "http://127.0.0.1:7101")]
    pub node: String,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Args, Debug)]
pub struct RecordsArgs {
    #[command(subcommand)]
    pub command: RecordsCommand,
}

#[derive(Subcommand, Debug)]
pub enum RecordsCommand {
    /// Upsert records from a JSON-lines file into the node's database.
    ///
    /// Each line is one lienthong.v1.Record, e.g.
    /// {"expert": {"meta": {"id": "hung-yen:expert:E1", "visibility": "VISIBILITY_FEDERATION",
    /// "classification": "CLASSIFICATION_NORMAL"}, "fullName": "Nguyễn Xuân Hải"}}
    /// Lines that cannot be loaded are reported with the reason; the rest load.
    Load {
        /// The JSON-lines file.
        file: PathBuf,
        /// Node configuration file.
        #[arg(long, short)]
        config: PathBuf,
    },
    /// Write every record of the node's database as JSON lines.
    Dump {
        /// Node configuration file.
        #[arg(long, short)]
        config: PathBuf,
        /// Output file; standard output if absent.
        #[arg(long, short)]
        output: Option<PathBuf>,
    },
}

#[derive(Args, Debug)]
pub struct SampleArgs {
    /// Node configuration file; the data goes into its database.
    #[arg(long, short)]
    pub config: PathBuf,
    /// Experts to generate; organizations, projects and publications scale with it.
    #[arg(long, default_value_t = 1_000)]
    pub experts: u64,
    /// Override the number of projects.
    #[arg(long)]
    pub projects: Option<u64>,
    /// Override the number of publications.
    #[arg(long)]
    pub publications: Option<u64>,
    /// Random seed; the same seed gives the same data.
    #[arg(long, default_value_t = 2023)]
    pub seed: u64,
}
