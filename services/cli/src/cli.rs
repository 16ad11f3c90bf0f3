//! Command-line arguments. Every command's `--help` says what it does and
//! shows an example.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

const GETTING_STARTED: &str = "Getting started:
  lienthong demo          # two nodes and a gateway over mutual TLS, with sample data;
                          # it prints the LIENTHONG_CA/CERT/KEY settings to export
  lienthong search experts \"nguyen xuan hai\" --gateway https://127.0.0.1:7100   # every province
  lienthong search projects lúa --status completed --node https://127.0.0.1:7102  # one province
  lienthong status --gateway https://127.0.0.1:7100
  lienthong info --node https://127.0.0.1:7101

Joining a federation:
  lienthong pki --help    # the federation CA, certificates and revocation
  lienthong audit --help  # verify and export the tamper-evident audit log";

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
    /// Run a province node: the gRPC service over this province's database,
    /// over mutual TLS, sharing what its sharing policy grants.
    ///
    /// Example: lienthong node --config deploy/hung-yen.sqlite.toml
    Node(NodeArgs),
    /// Run the federation gateway (one query to every province node, merged),
    /// or manage its users' tokens.
    ///
    /// Serves gRPC (lienthong.v1.Federation) over mutual TLS and an HTTPS/JSON
    /// API with an OpenAPI description at /api/v1/openapi.json.
    ///
    /// Examples:
    ///   lienthong gateway --config deploy/gateway.toml
    ///   lienthong gateway token create --config deploy/gateway.toml --user an --role officer
    Gateway(GatewayServeArgs),
    /// Start the Hưng Yên and Nam Định nodes on 127.0.0.1:7101 and :7102 with
    /// sample data, each mirroring the other's tasks, the national node
    /// quoc-gia on :7103 mirroring both, and the gateway in front of the
    /// provinces on :7100 (gRPC) and :8080 (HTTPS), all over mutual TLS with a
    /// development PKI in the demo directory, and print how to query them.
    /// Runs until Ctrl-C.
    Demo(DemoArgs),
    /// The federation PKI: a root CA, certificates for nodes, gateways and
    /// clients carrying their identity, revocation and CRLs.
    ///
    /// Example:
    ///   lienthong pki init --dir pki
    ///   lienthong pki issue node hung-yen --dir pki --host sokhcn.hungyen.gov.vn
    ///   lienthong pki revoke 4F3A… --dir pki      # then copy pki/crl.pem to every server
    Pki(PkiArgs),
    /// The tamper-evident audit log of a node or the gateway: verify the
    /// hash chain, export entries, prune old ones.
    ///
    /// Example: lienthong audit verify --config deploy/hung-yen.sqlite.toml
    Audit(AuditArgs),
    /// Search experts, projects or publications in every province through the
    /// gateway (--gateway), or one node (--node, organizations too).
    ///
    /// Words match ignoring case and diacritics ("nguyen" finds "Nguyễn");
    /// "quoted words" must appear as a phrase. Through the gateway, each hit
    /// shows its province, and one line per province says whether it answered.
    ///
    /// Example: lienthong search experts "nguyen xuan hai" --gateway https://127.0.0.1:7100
    Search(SearchArgs),
    /// Show the federation's health: each node's state, versions, counts,
    /// latency and circuit breaker.
    ///
    /// Example: lienthong status --gateway https://127.0.0.1:7100
    Status(GatewayArgs),
    /// Reporting figures across the federation: experts, projects and
    /// publications by field, year, status and management level, per province
    /// and in total.
    ///
    /// Example: lienthong stats --gateway https://127.0.0.1:7100 --json
    Stats(StatsArgs),
    /// Show a node's identity, record counts and schema version.
    Info(InfoArgs),
    /// Load or dump records as JSON lines (the protobuf JSON form of lienthong.v1.Record).
    Records(RecordsArgs),
    /// Import a department's spreadsheet of experts, tasks, papers or
    /// organizations (CSV, XLSX, XLS or ODS) into a node's database, cleaning
    /// it on the way and accounting for every row.
    ///
    /// CSV files may be UTF-8 (with or without a byte-order mark), UTF-16, or
    /// in the legacy encodings TCVN3 (ABC), VNI, VISCII and Windows-1258,
    /// told apart by how Vietnamese each reads. Workbooks are read sheet by
    /// sheet: every sheet with a header of the kind named, or the one --sheet
    /// names; the report's lines then read "Sheet!12". Finds the header among
    /// the first 10 rows (also one spread over two rows by merged cells) and
    /// knows the names real sheets use, with or without diacritics: Họ và
    /// tên, Năm sinh, Học hàm, Học vị, Đơn vị công tác, Lĩnh vực (experts);
    /// Mã số, Tên nhiệm vụ, Chủ nhiệm, Kinh phí, Kết quả nghiệm thu (tasks);
    /// Tên bài báo, Tác giả, Tạp chí, Năm, DOI (papers); Tên tổ chức, Loại
    /// hình, Tỉnh, Mã định danh (organizations); … Cells are cleaned
    /// (whitespace, Unicode NFC, text damaged by a legacy encoding restored),
    /// titles read ("PGS.TS."), dates and money read as written.
    ///
    /// Every row is reported as accepted, fixed (each fix listed) or rejected
    /// (the column and why), to --report as CSV or JSON lines, and summed up
    /// in a table. Importing the same sheet again matches records by their
    /// natural key (an expert's ORCID, or name, birth year and organization;
    /// a task's code; a paper's DOI, or title and year; an organization's ID
    /// code, or name) and writes only what changed. Rows that look like the
    /// same person or task as a record already stored, under another key,
    /// are listed with a similarity score and the `lienthong merge` that
    /// would join them; nothing is merged unasked. New records are internal
    /// unless --visibility says otherwise.
    ///
    /// Examples:
    ///   lienthong import experts chuyen-gia.csv --config deploy/hung-yen.sqlite.toml --dry-run
    ///   lienthong import experts chuyen-gia.csv --config deploy/hung-yen.sqlite.toml \
    ///       --report ket-qua.csv --visibility federation
    ///   lienthong import projects danh-muc.xlsx --sheet "Nhiệm vụ" \
    ///       --config deploy/hung-yen.sqlite.toml --dry-run
    ///   lienthong import publications bai-bao.csv --config deploy/hung-yen.sqlite.toml
    Import(ImportArgs),
    /// Join two records of this node that an import found to be one (the
    /// same person under two keys), after a person has reviewed the pair.
    ///
    /// The kept record keeps everything it says and takes each field it
    /// leaves empty from the dropped one; the dropped record becomes a
    /// tombstone that names the kept one, so a lookup of its id answers with
    /// the kept record, and peers receive its deletion. Both records are
    /// checked against the versions they were at when shown here: run with
    /// --dry-run to see the fields the kept record would take, then again
    /// without it. Nothing else changes; records that link to the dropped
    /// one reach the kept one through the tombstone.
    ///
    /// Example (the pair from an import report's note_possible_duplicate):
    ///   lienthong merge --keep hung-yen:expert:x1f2e… --drop hung-yen:expert:x9a8b… \
    ///       --config deploy/hung-yen.sqlite.toml --dry-run
    Merge(MergeArgs),
    /// Write this node's experts, tasks, papers or organizations as a sheet
    /// (CSV or XLSX) in the layout `lienthong import` reads, to edit in a
    /// spreadsheet and import back.
    ///
    /// The headers are the ones department sheets use (Họ và tên, Năm sinh,
    /// Mã số, Tên nhiệm vụ, …), values are written as the import reads them
    /// (PGS.TS., đã nghiệm thu, dd/mm/yyyy, "1250000000 đồng"), and a first
    /// column "Mã hồ sơ" holds each record's id: importing the sheet back
    /// updates each record from its row, and rows left as they were change
    /// nothing. Experts' e-mail and phone are left out unless
    /// --include-contact; classified records (mật and above) unless
    /// --include-classified.
    ///
    /// Examples:
    ///   lienthong export experts --config deploy/hung-yen.sqlite.toml --output chuyen-gia.xlsx
    ///   lienthong export projects --config deploy/hung-yen.sqlite.toml --format csv \
    ///       --output nhiem-vu.csv
    Export(ExportArgs),
    /// Fill a node's database with realistic, deterministic sample data.
    ///
    /// Example: lienthong sample --config deploy/hung-yen.sqlite.toml --experts 10000
    Sample(SampleArgs),
    /// Rebuild a node's search index from its database, with a progress bar.
    ///
    /// The index is derived from the database: a node brings it up to date
    /// on start (and rebuilds a missing or damaged one by itself). Reindex
    /// after restoring a database from a backup, or to compact the index.
    /// The old index stays in place until the new one is complete; stop the
    /// node first.
    ///
    /// Example: lienthong reindex --config deploy/hung-yen.sqlite.toml
    Reindex(ReindexArgs),
    /// Follow other nodes' change feeds: see where each stands, sync once,
    /// or start a peer over.
    ///
    /// A running node follows the peers in its [[follow]] entries by itself.
    /// These commands are for operators: `status` any time; `run` and `reset`
    /// with the node stopped (a first sync of a large catalog, say, with a
    /// progress bar).
    ///
    /// Examples:
    ///   lienthong sync status --config deploy/hung-yen.sqlite.toml
    ///   lienthong sync run --config deploy/hung-yen.sqlite.toml --peer nam-dinh
    ///   lienthong sync reset nam-dinh --config deploy/hung-yen.sqlite.toml
    Sync(SyncArgs),
    /// Check a proposed task against completed and ongoing tasks (kiểm tra
    /// trùng lặp): the node's own and those it mirrors from other provinces.
    ///
    /// Tasks whose title, objectives or keywords resemble the proposal are
    /// listed best first, with a similarity score (0 to 1; from 0.35 a likely
    /// repeat), where each comes from, and the phrases the two share. Works
    /// with and without diacritics. Reads the node's database and search
    /// index; the node may be running. Across every province, use the
    /// gateway: GET /api/v1/proposal-check?title=...
    ///
    /// Examples:
    ///   lienthong check-proposal --config deploy/hung-yen.sqlite.toml \
    ///       --title "Nghiên cứu chọn tạo giống lúa chịu mặn"
    ///   lienthong check-proposal --config deploy/hung-yen.sqlite.toml \
    ///       --title "nuoi tom the chan trang" --summary de-xuat.txt --field 4 --json
    CheckProposal(CheckProposalArgs),
    /// OAI-PMH harvesting (each node's /oai; see docs/oai-pmh.md): make a
    /// bearer token for a harvester.
    ///
    /// Anonymous harvesters need nothing: they see public records only. A
    /// harvester that should see more (the national S&T information system,
    /// say) presents a client certificate, or a token made here. The node
    /// keeps only the token's hash, in an [[oai.harvester]] entry; the
    /// sharing policy grants its identity "harvest".
    ///
    /// Example: lienthong oai token --identity system:national-sti
    Oai(OaiArgs),
}

#[derive(Args, Debug)]
pub struct OaiArgs {
    #[command(subcommand)]
    pub command: OaiCommand,
}

#[derive(Subcommand, Debug)]
pub enum OaiCommand {
    /// Print a new random token, and the [[oai.harvester]] entry (with the
    /// token's SHA-256) to add to the node's config.
    Token {
        /// The identity the token stands for, as the sharing policy names
        /// it, e.g. system:national-sti.
        #[arg(long)]
        identity: String,
        /// Print {"token", "identity", "token_sha256"} as JSON.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Args, Debug)]
pub struct NodeArgs {
    /// Node configuration file (TOML). See deploy/ for examples.
    #[arg(long, short)]
    pub config: PathBuf,
    /// Serve gRPC without TLS and without peer identities. For development
    /// only: anyone on the network can read the traffic, and the sharing
    /// policy can only grant "insecure-anonymous".
    #[arg(long)]
    pub insecure_plaintext: bool,
}

#[derive(Args, Debug)]
#[command(subcommand_negates_reqs = true)]
pub struct GatewayServeArgs {
    /// Gateway configuration file (TOML): listeners, [tls], [auth] and the
    /// [[nodes]] it asks. See deploy/gateway.toml.
    #[arg(long, short, required = true)]
    pub config: Option<PathBuf>,
    /// Serve gRPC and HTTP and call the nodes without TLS. For development
    /// only: callers without a token act as an administrator.
    #[arg(long)]
    pub insecure_plaintext: bool,
    #[command(subcommand)]
    pub command: Option<GatewayCommand>,
}

#[derive(Subcommand, Debug)]
pub enum GatewayCommand {
    /// Bearer tokens for people using the gateway.
    Token(TokenArgs),
    /// People who sign in to the gateway's web pages.
    User(UserArgs),
}

#[derive(Args, Debug)]
pub struct UserArgs {
    #[command(subcommand)]
    pub command: UserCommand,
}

/// Web users. Passwords are argon2-hashed; a new or reset password is
/// generated and printed once unless --password-stdin gives one.
#[derive(Subcommand, Debug)]
pub enum UserCommand {
    /// Add a user who signs in on the web pages.
    ///
    /// Example: lienthong gateway user add --config deploy/gateway.toml --user nguyen.van.an --role admin
    Add {
        #[arg(long, short)]
        config: PathBuf,
        /// The sign-in name; appears in every audit entry.
        #[arg(long)]
        user: String,
        #[arg(long, value_enum)]
        role: RoleArg,
        /// Read the password (at least 12 characters) from the first line
        /// of standard input instead of generating one.
        #[arg(long)]
        password_stdin: bool,
    },
    /// List users, their roles and states (never their passwords).
    List {
        #[arg(long, short)]
        config: PathBuf,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Change a user's role; their open sessions end.
    SetRole {
        #[arg(long, short)]
        config: PathBuf,
        #[arg(long)]
        user: String,
        #[arg(long, value_enum)]
        role: RoleArg,
    },
    /// Set a new password (generated unless --password-stdin); lifts a
    /// lockout and ends the user's open sessions.
    Password {
        #[arg(long, short)]
        config: PathBuf,
        #[arg(long)]
        user: String,
        #[arg(long)]
        password_stdin: bool,
    },
    /// Disable an account; its sessions end and sign-in is refused.
    Disable {
        #[arg(long, short)]
        config: PathBuf,
        #[arg(long)]
        user: String,
    },
    /// Enable a disabled or locked account.
    Enable {
        #[arg(long, short)]
        config: PathBuf,
        #[arg(long)]
        user: String,
    },
}

#[derive(Args, Debug)]
pub struct TokenArgs {
    #[command(subcommand)]
    pub command: TokenCommand,
}

/// Gateway roles on the command line.
#[derive(ValueEnum, Clone, Copy, Debug)]
pub enum RoleArg {
    /// Searches and reads records; personal fields withheld.
    Viewer,
    /// Also sees personal fields, as each node's policy allows.
    Officer,
    /// Also sees federation status and audit summaries.
    Admin,
}

#[derive(Subcommand, Debug)]
pub enum TokenCommand {
    /// Create a token and print it once; only its hash is stored.
    ///
    /// Example: lienthong gateway token create --config deploy/gateway.toml --user nguyen.van.an --role officer --days 90
    Create {
        #[arg(long, short)]
        config: PathBuf,
        /// Who the token is for; appears in every audit entry.
        #[arg(long)]
        user: String,
        #[arg(long, value_enum)]
        role: RoleArg,
        /// Days until the token expires; never when absent.
        #[arg(long)]
        days: Option<u32>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// List tokens (never their secrets).
    List {
        #[arg(long, short)]
        config: PathBuf,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Revoke a token by id (the part after "lt_"); refused from the next check on.
    Revoke {
        #[arg(long, short)]
        config: PathBuf,
        /// Token id, as `token list` shows it.
        id: String,
    },
}

/// How a client reaches a node or the gateway.
#[derive(Args, Debug, Clone)]
pub struct ConnectArgs {
    /// CA bundle to check the server's certificate against.
    #[arg(long, env = "LIENTHONG_CA")]
    pub ca: Option<PathBuf>,
    /// Client certificate (PEM), e.g. from `lienthong pki issue client`.
    #[arg(long, env = "LIENTHONG_CERT")]
    pub cert: Option<PathBuf>,
    /// Private key of --cert.
    #[arg(long, env = "LIENTHONG_KEY")]
    pub key: Option<PathBuf>,
    /// CRL to check the server's certificate against.
    #[arg(long, env = "LIENTHONG_CRL")]
    pub crl: Option<PathBuf>,
    /// Gateway bearer token (lienthong gateway token create).
    #[arg(long, env = "LIENTHONG_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
    /// The federation identity the server must present, e.g. node:hung-yen
    /// or gateway:central. Without it any node (for --node) or any gateway
    /// (for --gateway) certificate from the CA is accepted.
    #[arg(long, env = "LIENTHONG_SERVER_IDENTITY")]
    pub server_identity: Option<String>,
    /// Allow http:// addresses (development servers without TLS).
    #[arg(long)]
    pub insecure_plaintext: bool,
}

#[derive(Args, Debug)]
pub struct GatewayArgs {
    /// Gateway address.
    #[arg(
        long,
        env = "LIENTHONG_GATEWAY",
        default_value = "https://127.0.0.1:7100"
    )]
    pub gateway: String,
    /// Print JSON (the protobuf JSON mapping) for scripts.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub connect: ConnectArgs,
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
    #[arg(long, env = "LIENTHONG_NODE", default_value = "https://127.0.0.1:7101")]
    pub node: String,
    /// Gateway address, to search every province at once, e.g. https://127.0.0.1:7100.
    #[arg(long, env = "LIENTHONG_GATEWAY", conflicts_with = "node")]
    pub gateway: Option<String>,
    /// With --gateway: only this node (repeatable), e.g. --only nam-dinh.
    #[arg(long = "only", requires = "gateway")]
    pub only: Vec<String>,
    /// With --gateway: fail unless every province answers.
    #[arg(long, requires = "gateway")]
    pub require_all_nodes: bool,
    /// Also search mirrors of other nodes' records: shown when their origin
    /// does not answer, tagged with the origin and how fresh the mirror is.
    /// A node serves mirrors only where its sharing policy grants
    /// `public_mirrors`, and then only records public at their origin.
    #[arg(long)]
    pub include_mirrors: bool,
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
    #[command(flatten)]
    pub connect: ConnectArgs,
}

#[derive(Args, Debug)]
pub struct InfoArgs {
    /// Node address.
    #[arg(long, env = "LIENTHONG_NODE", default_value = "https://127.0.0.1:7101")]
    pub node: String,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub connect: ConnectArgs,
}

#[derive(Args, Debug)]
pub struct PkiArgs {
    /// The PKI directory (ca.crt, ca.key, crl.pem, issued.json, ROLE/NAME.crt|key).
    #[arg(long, env = "LIENTHONG_PKI_DIR", default_value = "pki", global = true)]
    pub dir: PathBuf,
    #[command(subcommand)]
    pub command: PkiCommand,
}

/// Certificate roles on the command line.
#[derive(ValueEnum, Clone, Copy, Debug)]
pub enum IssueRole {
    /// A province or national node (TLS server and client).
    Node,
    /// A federation gateway.
    Gateway,
}

/// Client roles on the command line.
#[derive(ValueEnum, Clone, Copy, Debug)]
pub enum ClientRole {
    /// A machine, e.g. the national S&T information system.
    System,
    /// A person at a department.
    Staff,
}

#[derive(Subcommand, Debug)]
pub enum PkiCommand {
    /// Create the federation root CA (ca.crt, ca.key with mode 0600) and an
    /// empty CRL. Keep ca.key offline; give ca.crt to every member.
    Init {
        /// The CA's common name.
        #[arg(long, default_value = "Liên thông federation root CA")]
        name: String,
        /// Validity in days.
        #[arg(long, default_value_t = 3650)]
        days: u32,
    },
    /// Issue a certificate for a node or gateway (server and client), or a
    /// client. The identity goes into the certificate as a SAN URI, e.g.
    /// urn:lienthong:node:hung-yen. Issuing again for the same name rotates:
    /// new files replace the old, whose certificate stays valid until revoked.
    ///
    /// Examples:
    ///   lienthong pki issue node hung-yen --host sokhcn.hungyen.gov.vn
    ///   lienthong pki issue gateway national --host lienthong.most.gov.vn
    ///   lienthong pki issue client nguyen-van-an --role staff
    Issue {
        #[command(subcommand)]
        what: IssueWhat,
    },
    /// Revoke a certificate by serial (as `pki list` shows it) and write a new
    /// CRL. Copy crl.pem to every server; they reload it by themselves.
    Revoke { serial: String },
    /// Write a fresh CRL (run before the current one's next-update date).
    Crl,
    /// List issued certificates.
    List {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand, Debug)]
pub enum IssueWhat {
    /// A province or national node.
    Node(IssueServerArgs),
    /// A federation gateway.
    Gateway(IssueServerArgs),
    /// A client: a system or a member of staff.
    Client {
        /// Lowercase name, e.g. nguyen-van-an.
        name: String,
        #[arg(long, value_enum)]
        role: ClientRole,
        /// Validity in days.
        #[arg(long, default_value_t = 397)]
        days: u32,
    },
}

#[derive(Args, Debug)]
pub struct IssueServerArgs {
    /// Lowercase name, e.g. hung-yen.
    pub name: String,
    /// DNS name or IP address clients use to reach it (repeatable).
    #[arg(long = "host", default_values = ["localhost", "127.0.0.1"])]
    pub hosts: Vec<String>,
    /// Validity in days.
    #[arg(long, default_value_t = 397)]
    pub days: u32,
}

#[derive(Args, Debug)]
pub struct AuditArgs {
    #[command(subcommand)]
    pub command: AuditCommand,
}

#[derive(Subcommand, Debug)]
pub enum AuditCommand {
    /// Check every link of the hash chain; report the first entry edited,
    /// deleted or moved. Exits with an error when the chain is broken.
    Verify {
        /// Node or gateway configuration file (its [database] holds the log).
        #[arg(long, short)]
        config: PathBuf,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Write entries as JSON lines.
    ///
    /// Example: lienthong audit export --config deploy/gateway.toml --since 2026-11-01 -o audit.jsonl
    Export {
        #[arg(long, short)]
        config: PathBuf,
        /// From this date or RFC 3339 time on; everything when absent.
        #[arg(long)]
        since: Option<String>,
        /// Output file; standard output if absent.
        #[arg(long, short)]
        output: Option<PathBuf>,
    },
    /// Delete entries older than N days now, keeping a checkpoint so the rest
    /// still verifies (servers also do this hourly per audit.retention_days).
    Prune {
        #[arg(long, short)]
        config: PathBuf,
        #[arg(long)]
        older_than_days: u32,
    },
}

#[derive(Args, Debug)]
pub struct CheckProposalArgs {
    /// The node's config file (its database and search index).
    #[arg(long, short)]
    pub config: PathBuf,
    /// The proposed task's title.
    #[arg(long)]
    pub title: String,
    /// A UTF-8 text file with the proposal's summary or objectives.
    #[arg(long)]
    pub summary: Option<PathBuf>,
    /// Field-code prefix the tasks must have, e.g. 4 or 40101.
    #[arg(long = "field")]
    pub field: Option<String>,
    /// Most tasks listed (at most 100).
    #[arg(long, default_value_t = 20)]
    pub limit: usize,
    /// Print the result as JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Args, Debug)]
pub struct ReindexArgs {
    /// The node's config file (its database and search.index_dir).
    #[arg(long, short)]
    pub config: PathBuf,
    /// Print the outcome as JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Args, Debug)]
pub struct ImportArgs {
    /// What the file holds.
    pub kind: ImportKind,
    /// The file: CSV, or a workbook (.xlsx, .xlsm, .xlsb, .xls, .ods).
    pub file: PathBuf,
    /// The sheet of a workbook to import; by default every sheet that has a
    /// header of the kind named.
    #[arg(long)]
    pub sheet: Option<String>,
    /// Node configuration file.
    #[arg(long, short)]
    pub config: PathBuf,
    /// Decide and report every row, write nothing to the database.
    #[arg(long)]
    pub dry_run: bool,
    /// Write every row's outcome here (CSV, or JSON lines with --report-format json).
    #[arg(long)]
    pub report: Option<PathBuf>,
    /// Form of the --report file.
    #[arg(long, value_enum, default_value_t = ReportFormatArg::Csv)]
    pub report_format: ReportFormatArg,
    /// Visibility of the records this import creates: internal (stays on the
    /// node), federation (shared as the sharing policy allows) or public.
    #[arg(long, value_enum, default_value_t = VisibilityArg::Internal)]
    pub visibility: VisibilityArg,
    /// A TOML file naming columns the built-in header names do not know, e.g.
    /// [columns]
    /// "Tên cán bộ" = "full_name"
    /// Experts' column names: full_name, birth_year, gender, academic_title,
    /// degree, title_and_degree, position, organization, field_codes,
    /// specialization, keywords, email, phone, orcid, ignored. A wrong name
    /// is refused with the list of the kind's names.
    #[arg(long)]
    pub mapping: Option<PathBuf>,
    /// Print the summary as JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Args, Debug)]
pub struct ExportArgs {
    /// What to export.
    pub kind: ImportKind,
    /// Node configuration file.
    #[arg(long, short)]
    pub config: PathBuf,
    /// The file to write (replaced if it exists).
    #[arg(long, short)]
    pub output: PathBuf,
    /// The file's form; by default from --output's extension (.csv or .xlsx).
    #[arg(long, value_enum)]
    pub format: Option<ExportFormatArg>,
    /// Also write experts' e-mail and phone (personal data: keep the file
    /// where the department keeps such data).
    #[arg(long)]
    pub include_contact: bool,
    /// Also write records classified mật and above.
    #[arg(long)]
    pub include_classified: bool,
    /// Print the outcome as JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExportFormatArg {
    Csv,
    Xlsx,
}

#[derive(Args, Debug)]
pub struct MergeArgs {
    /// The record that stays.
    #[arg(long)]
    pub keep: String,
    /// The record that becomes a tombstone pointing to --keep.
    #[arg(long)]
    pub drop: String,
    /// Node configuration file.
    #[arg(long, short)]
    pub config: PathBuf,
    /// Show what the merge would do; write nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Print the outcome as JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug)]
pub enum ImportKind {
    Experts,
    /// S&T tasks (nhiệm vụ KH&CN): Mã số, Tên nhiệm vụ, Chủ nhiệm, Tổ chức
    /// chủ trì, Cấp quản lý, Năm bắt đầu, Năm kết thúc, Kinh phí, Kết quả
    /// nghiệm thu, …
    Projects,
    /// Scientific papers: Tên bài báo, Tác giả, Tạp chí, Năm, Tập, Số,
    /// Trang, DOI, Ngôn ngữ, …
    Publications,
    /// Organizations: Tên tổ chức, Tên viết tắt, Loại hình, Tỉnh, Mã định
    /// danh (Decision 20/2020/QĐ-TTg).
    Organizations,
}

impl ImportKind {
    /// What the sheet lists, in the plural.
    pub fn plural(self) -> &'static str {
        match self {
            ImportKind::Experts => "experts",
            ImportKind::Projects => "tasks",
            ImportKind::Publications => "papers",
            ImportKind::Organizations => "organizations",
        }
    }
}

#[derive(clap::ValueEnum, Clone, Copy, Debug)]
pub enum ReportFormatArg {
    Csv,
    Json,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug)]
pub enum VisibilityArg {
    Internal,
    Federation,
    Public,
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

#[derive(Args, Debug)]
pub struct SyncArgs {
    #[command(subcommand)]
    pub command: SyncCommand,
}

#[derive(Subcommand, Debug)]
pub enum SyncCommand {
    /// Each followed peer: records mirrored, changes applied and rejected,
    /// lag in changes and in seconds, when it last caught up, the last error.
    Status {
        /// The node's config file.
        #[arg(long, short)]
        config: PathBuf,
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Sync with every followed peer (or one) until caught up, then exit.
    /// Stop the node first; it follows its peers by itself while it runs.
    Run {
        /// The node's config file.
        #[arg(long, short)]
        config: PathBuf,
        /// Only this peer.
        #[arg(long)]
        peer: Option<String>,
        /// Call peers without TLS (development only; their feeds must grant
        /// "insecure-anonymous").
        #[arg(long)]
        insecure_plaintext: bool,
        /// Print the outcome as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Forget a peer: remove its mirrors and cursor, so the next sync starts
    /// from the beginning (after the peer restored an older backup, say).
    /// Stop the node first.
    Reset {
        /// The peer's node id, e.g. nam-dinh.
        peer: String,
        /// The node's config file.
        #[arg(long, short)]
        config: PathBuf,
    },
}
