//! Every word the web pages show, in one catalog per language: Vietnamese
//! first, English second. A new label is a new field of [`Text`], so the
//! compiler refuses a catalog that lacks it.
//!
//! Dates read dd/mm/yyyy in both languages, as Vietnamese forms write them.

use lienthong_proto::v1 as pb;

/// A language of the interface.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    Vi,
    En,
}

impl Lang {
    /// `vi` or `en`; anything else is Vietnamese.
    pub fn parse(code: &str) -> Lang {
        if code.trim().eq_ignore_ascii_case("en") {
            Lang::En
        } else {
            Lang::Vi
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            Lang::Vi => "vi",
            Lang::En => "en",
        }
    }

    pub fn text(self) -> &'static Text {
        match self {
            Lang::Vi => &VI,
            Lang::En => &EN,
        }
    }
}

/// The labels and messages of the interface in one language.
pub struct Text {
    pub app_name: &'static str,
    pub app_tagline: &'static str,
    pub skip_to_content: &'static str,
    pub nav_label: &'static str,
    pub nav_search: &'static str,
    pub nav_proposal: &'static str,
    pub nav_statistics: &'static str,
    pub nav_federation: &'static str,
    pub nav_users: &'static str,
    pub other_language: &'static str,
    pub other_language_name: &'static str,
    pub signed_in_as: &'static str,
    pub sign_out: &'static str,
    pub roles: [&'static str; 3],
    pub footer: &'static str,

    pub sign_in_title: &'static str,
    pub user_name: &'static str,
    pub password: &'static str,
    pub sign_in: &'static str,
    pub sign_in_with_certificate: &'static str,
    pub certificate_hint: &'static str,
    pub sign_in_refused: &'static str,
    pub sign_in_too_many: &'static str,
    pub session_ended: &'static str,
    pub signed_out: &'static str,
    pub form_expired: &'static str,

    pub search_title: &'static str,
    pub search_box: &'static str,
    pub search_hint: &'static str,
    pub search_button: &'static str,
    pub search_in: &'static str,
    pub kinds: [&'static str; 3],
    pub filters: &'static str,
    pub filter_field: &'static str,
    pub filter_organization: &'static str,
    pub filter_organization_hint: &'static str,
    pub filter_degree: &'static str,
    pub filter_title: &'static str,
    pub filter_year_from: &'static str,
    pub filter_year_to: &'static str,
    pub filter_birth_year_note: &'static str,
    pub filter_status: &'static str,
    pub filter_level: &'static str,
    pub filter_province: &'static str,
    pub any: &'static str,
    pub all_of_field: &'static str,
    pub results: &'static str,
    pub no_results: &'static str,
    pub hits_on_page: fn(usize) -> String,
    pub next_page: &'static str,
    pub first_page: &'static str,
    pub no_more_pages: &'static str,
    pub provinces_answered: &'static str,
    pub province: &'static str,
    pub answer: &'static str,
    pub hits: &'static str,
    pub time: &'static str,
    pub outcomes: [&'static str; 5],
    pub held_by: &'static str,

    pub record_title: &'static str,
    pub provenance: &'static str,
    pub provenance_origin: &'static str,
    pub provenance_twin: &'static str,
    pub provenance_mirror: &'static str,
    pub personal_withheld: &'static str,
    pub full_name: &'static str,
    pub gender: &'static str,
    pub birth_year: &'static str,
    pub title_degree: &'static str,
    pub position: &'static str,
    pub organization: &'static str,
    pub fields_of_science: &'static str,
    pub specialization: &'static str,
    pub keywords: &'static str,
    pub identifiers: &'static str,
    pub email: &'static str,
    pub phone: &'static str,
    pub contact_no_consent: &'static str,
    pub code: &'static str,
    pub task_title: &'static str,
    pub management_level: &'static str,
    pub status: &'static str,
    pub lead: &'static str,
    pub team: &'static str,
    pub host_organization: &'static str,
    pub managing_agency: &'static str,
    pub period: &'static str,
    pub budget: &'static str,
    pub state_budget: &'static str,
    pub acceptance: &'static str,
    pub objectives: &'static str,
    pub summary: &'static str,
    pub authors: &'static str,
    pub venue: &'static str,
    pub year: &'static str,
    pub doi: &'static str,
    pub abstract_: &'static str,
    pub from_task: &'static str,
    pub abbreviation: &'static str,
    pub organization_type: &'static str,
    pub agency_code: &'static str,
    pub updated: &'static str,
    pub record_id: &'static str,
    pub experts_here: &'static str,
    pub genders: [&'static str; 4],
    pub degrees: [&'static str; 7],
    pub academic_titles: [&'static str; 3],
    pub statuses: [&'static str; 6],
    pub levels: [&'static str; 5],
    pub grades: [&'static str; 5],
    pub organization_types: [&'static str; 7],

    pub proposal_title: &'static str,
    pub proposal_intro: &'static str,
    pub proposal_name: &'static str,
    pub proposal_summary: &'static str,
    pub proposal_field: &'static str,
    pub proposal_button: &'static str,
    pub proposal_none: &'static str,
    pub proposal_yours: &'static str,
    pub proposal_similar: &'static str,
    pub similarity: &'static str,
    pub likely_repeat: &'static str,
    pub shared_phrases: &'static str,

    pub statistics_title: &'static str,
    pub statistics_all: &'static str,
    pub statistics_kind: [&'static str; 3],
    pub by_field: &'static str,
    pub by_year: &'static str,
    pub by_status: &'static str,
    pub by_level: &'static str,
    pub count: &'static str,
    pub total: &'static str,
    pub show: &'static str,
    pub view_chart: &'static str,
    pub view_table: &'static str,
    pub record_kind: &'static str,
    pub download_csv: &'static str,
    pub chart_of: fn(&str, &str) -> String,

    pub federation_title: &'static str,
    pub nodes_ok: fn(u32, usize) -> String,
    pub endpoint: &'static str,
    pub health: &'static str,
    pub breaker: &'static str,
    pub breakers: [&'static str; 4],
    pub software: &'static str,
    pub records: &'static str,
    pub last_change: &'static str,
    pub last_call: &'static str,
    pub sync_title: &'static str,
    pub sync_none: &'static str,
    pub follower: &'static str,
    pub followed: &'static str,
    pub mirrored: &'static str,
    pub backlog: &'static str,
    pub lag: &'static str,
    pub caught_up_at: &'static str,
    pub last_sync: &'static str,
    pub never: &'static str,
    pub sync_ok: &'static str,
    pub sync_failing: &'static str,
    pub seconds: fn(f64) -> String,

    pub users_title: &'static str,
    pub add_user: &'static str,
    pub role: &'static str,
    pub created: &'static str,
    pub state: &'static str,
    pub active: &'static str,
    pub disabled: &'static str,
    pub locked_until: &'static str,
    pub change_role: &'static str,
    pub new_password: &'static str,
    pub set_password: &'static str,
    pub disable: &'static str,
    pub enable: &'static str,
    pub password_rule: &'static str,
    pub user_saved: fn(&str) -> String,

    pub error_title: &'static str,
    pub error_not_found: &'static str,
    pub error_forbidden: &'static str,
    pub error_unavailable: &'static str,
    pub error_bad_request: &'static str,
    pub error_rate_limited: &'static str,
    pub error_internal: &'static str,
    pub back_to_search: &'static str,
    pub milliseconds: fn(f64) -> String,
    /// Field and sector names by code, fields first in each group.
    pub field_names: &'static [(&'static str, &'static str)],
}

/// Tiếng Việt.
pub static VI: Text = Text {
    app_name: "Liên thông",
    app_tagline: "Tra cứu chuyên gia, nhiệm vụ và công bố KH&CN giữa các tỉnh",
    skip_to_content: "Bỏ qua, đến nội dung chính",
    nav_label: "Chức năng",
    nav_search: "Tra cứu",
    nav_proposal: "Kiểm tra trùng lặp",
    nav_statistics: "Thống kê",
    nav_federation: "Tình trạng liên thông",
    nav_users: "Người dùng",
    other_language: "English",
    other_language_name: "Switch to English",
    signed_in_as: "Đăng nhập:",
    sign_out: "Đăng xuất",
    roles: ["người xem", "cán bộ", "quản trị"],
    footer: "Sở Khoa học và Công nghệ — hệ thống liên thông dữ liệu KH&CN",

    sign_in_title: "Đăng nhập",
    user_name: "Tên đăng nhập",
    password: "Mật khẩu",
    sign_in: "Đăng nhập",
    sign_in_with_certificate: "Đăng nhập bằng chứng thư số",
    certificate_hint: "Dùng khi trình duyệt của bạn có chứng thư số do liên thông cấp.",
    sign_in_refused: "Sai tên đăng nhập hoặc mật khẩu, hoặc tài khoản đang bị khóa. \
                      Sau nhiều lần nhập sai, tài khoản tạm khóa 15 phút; \
                      liên hệ quản trị nếu cần mở khóa.",
    sign_in_too_many: "Có quá nhiều lần đăng nhập sai từ mạng này. Vui lòng chờ một phút rồi thử lại.",
    session_ended: "Phiên làm việc đã kết thúc. Vui lòng đăng nhập lại.",
    signed_out: "Bạn đã đăng xuất.",
    form_expired: "Biểu mẫu đã hết hạn hoặc không hợp lệ. Vui lòng tải lại trang và thử lại.",

    search_title: "Tra cứu",
    search_box: "Từ khóa",
    search_hint: "Gõ có dấu hoặc không dấu, ví dụ: nguyen xuan hai",
    search_button: "Tìm",
    search_in: "Tìm trong",
    kinds: ["Chuyên gia", "Nhiệm vụ KH&CN", "Công bố khoa học"],
    filters: "Bộ lọc",
    filter_field: "Lĩnh vực (Thông tư 24/2025/TT-BKHCN)",
    filter_organization: "Mã tổ chức",
    filter_organization_hint: "Ví dụ: hung-yen:organization:O0001 (mở từ trang hồ sơ)",
    filter_degree: "Học vị",
    filter_title: "Học hàm",
    filter_year_from: "Từ năm",
    filter_year_to: "Đến năm",
    filter_birth_year_note: "Với chuyên gia, năm là năm sinh (chỉ cán bộ được lọc).",
    filter_status: "Tình trạng",
    filter_level: "Cấp quản lý",
    filter_province: "Tỉnh",
    any: "Tất cả",
    all_of_field: "toàn lĩnh vực",
    results: "Kết quả",
    no_results: "Không có kết quả phù hợp.",
    hits_on_page: |count| format!("{count} kết quả trên trang này"),
    next_page: "Trang sau",
    first_page: "Về trang đầu",
    no_more_pages: "Hết kết quả.",
    provinces_answered: "Các tỉnh đã trả lời",
    province: "Tỉnh",
    answer: "Trả lời",
    hits: "Số kết quả",
    time: "Thời gian",
    outcomes: [
        "không rõ",
        "đã trả lời",
        "quá thời gian",
        "không kết nối được",
        "lỗi",
    ],
    held_by: "Có tại",

    record_title: "Hồ sơ",
    provenance: "Nguồn",
    provenance_origin: "nơi lưu gốc",
    provenance_twin: "cùng người/nhiệm vụ, ghi ở tỉnh khác",
    provenance_mirror: "bản sao",
    personal_withheld: "Thông tin cá nhân (năm sinh, liên hệ) không hiển thị với vai trò của bạn.",
    full_name: "Họ và tên",
    gender: "Giới tính",
    birth_year: "Năm sinh",
    title_degree: "Học hàm, học vị",
    position: "Chức vụ",
    organization: "Đơn vị công tác",
    fields_of_science: "Lĩnh vực",
    specialization: "Chuyên ngành",
    keywords: "Từ khóa",
    identifiers: "Mã định danh",
    email: "Thư điện tử",
    phone: "Điện thoại",
    contact_no_consent: "Chuyên gia chưa đồng ý chia sẻ thông tin liên hệ.",
    code: "Mã số",
    task_title: "Tên nhiệm vụ",
    management_level: "Cấp quản lý",
    status: "Tình trạng",
    lead: "Chủ nhiệm",
    team: "Thành viên",
    host_organization: "Tổ chức chủ trì",
    managing_agency: "Cơ quan chủ quản",
    period: "Thời gian thực hiện",
    budget: "Tổng kinh phí",
    state_budget: "Ngân sách nhà nước",
    acceptance: "Nghiệm thu",
    objectives: "Mục tiêu",
    summary: "Tóm tắt",
    authors: "Tác giả",
    venue: "Nơi công bố",
    year: "Năm",
    doi: "DOI",
    abstract_: "Tóm tắt",
    from_task: "Thuộc nhiệm vụ",
    abbreviation: "Tên viết tắt",
    organization_type: "Loại hình",
    agency_code: "Mã định danh điện tử",
    updated: "Cập nhật",
    record_id: "Mã hồ sơ",
    experts_here: "Chuyên gia của đơn vị này",
    genders: ["", "Nam", "Nữ", "Khác"],
    degrees: [
        "",
        "Tiến sĩ khoa học",
        "Tiến sĩ",
        "Thạc sĩ",
        "Kỹ sư",
        "Cử nhân",
        "Bác sĩ",
    ],
    academic_titles: ["", "Giáo sư", "Phó giáo sư"],
    statuses: [
        "",
        "Đề xuất",
        "Đã phê duyệt",
        "Đang thực hiện",
        "Đã nghiệm thu",
        "Đã hủy",
    ],
    levels: ["", "Quốc gia", "Bộ", "Tỉnh", "Cơ sở"],
    grades: ["", "Xuất sắc", "Khá", "Đạt", "Không đạt"],
    organization_types: [
        "",
        "Cơ quan nhà nước",
        "Trường đại học",
        "Viện nghiên cứu",
        "Bệnh viện",
        "Doanh nghiệp",
        "Khác",
    ],

    proposal_title: "Kiểm tra trùng lặp đề xuất",
    proposal_intro: "Nhập tên (và tóm tắt) nhiệm vụ đề xuất để tìm các nhiệm vụ đã và đang \
                     thực hiện ở mọi tỉnh có nội dung tương tự.",
    proposal_name: "Tên nhiệm vụ đề xuất",
    proposal_summary: "Tóm tắt, mục tiêu",
    proposal_field: "Lĩnh vực",
    proposal_button: "Kiểm tra",
    proposal_none: "Không tìm thấy nhiệm vụ tương tự.",
    proposal_yours: "Đề xuất",
    proposal_similar: "Nhiệm vụ tương tự",
    similarity: "Mức tương đồng",
    likely_repeat: "Có khả năng trùng lặp",
    shared_phrases: "Cụm từ trùng",

    statistics_title: "Thống kê",
    statistics_all: "Tất cả các tỉnh",
    statistics_kind: ["Chuyên gia", "Nhiệm vụ", "Công bố"],
    by_field: "Theo lĩnh vực",
    by_year: "Theo năm",
    by_status: "Theo tình trạng",
    by_level: "Theo cấp quản lý",
    count: "Số lượng",
    total: "Tổng",
    show: "Xem",
    view_chart: "Biểu đồ",
    view_table: "Bảng",
    record_kind: "Loại hồ sơ",
    download_csv: "Tải bảng số liệu (CSV)",
    chart_of: |what, place| format!("Biểu đồ {what} — {place}"),

    federation_title: "Tình trạng liên thông",
    nodes_ok: |ok, all| format!("{ok}/{all} điểm kết nối đang trả lời"),
    endpoint: "Địa chỉ",
    health: "Tình trạng",
    breaker: "Ngắt mạch",
    breakers: [
        "không rõ",
        "đóng (bình thường)",
        "mở (tạm ngừng gọi)",
        "thử lại",
    ],
    software: "Phiên bản",
    records: "Hồ sơ chia sẻ",
    last_change: "Số thay đổi",
    last_call: "Lần gọi trước",
    sync_title: "Đồng bộ danh mục giữa các tỉnh",
    sync_none: "Không điểm nào đang theo dõi tỉnh khác.",
    follower: "Nơi lưu bản sao",
    followed: "Tỉnh nguồn",
    mirrored: "Bản ghi sao",
    backlog: "Thay đổi chưa nhận",
    lag: "Độ trễ",
    caught_up_at: "Cập nhật đủ lúc",
    last_sync: "Lần đồng bộ gần nhất",
    never: "chưa lần nào",
    sync_ok: "bình thường",
    sync_failing: "lỗi ở lần gần nhất",
    seconds: |s| format!("{s:.0} giây"),

    users_title: "Người dùng",
    add_user: "Thêm người dùng",
    role: "Vai trò",
    created: "Ngày tạo",
    state: "Trạng thái",
    active: "đang hoạt động",
    disabled: "đã khóa",
    locked_until: "tạm khóa đến",
    change_role: "Đổi vai trò",
    new_password: "Mật khẩu mới",
    set_password: "Đặt mật khẩu",
    disable: "Khóa tài khoản",
    enable: "Mở khóa",
    password_rule: "Ít nhất 12 ký tự.",
    user_saved: |name| format!("Đã lưu người dùng {name}."),

    error_title: "Không thực hiện được",
    error_not_found: "Không tìm thấy.",
    error_forbidden: "Vai trò của bạn không được phép xem nội dung này.",
    error_unavailable: "Hệ thống hoặc tỉnh cần hỏi tạm thời không trả lời. Vui lòng thử lại sau.",
    error_bad_request: "Yêu cầu chưa hợp lệ:",
    error_rate_limited: "Bạn gửi quá nhiều yêu cầu. Vui lòng chờ một lát.",
    error_internal: "Đã có lỗi. Vui lòng thử lại sau.",
    back_to_search: "Về trang tra cứu",
    milliseconds: |ms| format!("{} ms", format!("{ms:.1}").replace('.', ",")),
    field_names: FIELDS_VI,
};

/// English.
pub static EN: Text = Text {
    app_name: "Liên thông",
    app_tagline: "Experts, S&T tasks and publications across provinces",
    skip_to_content: "Skip to main content",
    nav_label: "Sections",
    nav_search: "Search",
    nav_proposal: "Proposal check",
    nav_statistics: "Statistics",
    nav_federation: "Federation status",
    nav_users: "Users",
    other_language: "Tiếng Việt",
    other_language_name: "Chuyển sang tiếng Việt",
    signed_in_as: "Signed in:",
    sign_out: "Sign out",
    roles: ["viewer", "officer", "administrator"],
    footer: "Department of Science and Technology — S&T record exchange",

    sign_in_title: "Sign in",
    user_name: "User name",
    password: "Password",
    sign_in: "Sign in",
    sign_in_with_certificate: "Sign in with a client certificate",
    certificate_hint: "For browsers holding a certificate issued by the federation.",
    sign_in_refused: "Wrong user name or password, or the account is locked. After repeated \
                      wrong passwords an account is locked for 15 minutes; ask an \
                      administrator to unlock it.",
    sign_in_too_many: "Too many failed sign-ins from this network. Wait a minute and try again.",
    session_ended: "Your session has ended. Please sign in again.",
    signed_out: "You have signed out.",
    form_expired: "The form has expired or is not valid. Reload the page and try again.",

    search_title: "Search",
    search_box: "Search terms",
    search_hint: "With or without diacritics, e.g. nguyen xuan hai",
    search_button: "Search",
    search_in: "Search in",
    kinds: ["Experts", "S&T tasks", "Publications"],
    filters: "Filters",
    filter_field: "Field of science (Circular 24/2025/TT-BKHCN)",
    filter_organization: "Organization id",
    filter_organization_hint: "e.g. hung-yen:organization:O0001 (open it from a record page)",
    filter_degree: "Degree",
    filter_title: "Academic title",
    filter_year_from: "From year",
    filter_year_to: "To year",
    filter_birth_year_note: "For experts the year is the birth year (officers only).",
    filter_status: "Status",
    filter_level: "Management level",
    filter_province: "Province",
    any: "Any",
    all_of_field: "whole field",
    results: "Results",
    no_results: "Nothing matches.",
    hits_on_page: |count| format!("{count} result(s) on this page"),
    next_page: "Next page",
    first_page: "First page",
    no_more_pages: "No more results.",
    provinces_answered: "Provinces asked",
    province: "Province",
    answer: "Answer",
    hits: "Results",
    time: "Time",
    outcomes: ["unknown", "answered", "timed out", "unreachable", "error"],
    held_by: "Held by",

    record_title: "Record",
    provenance: "Provenance",
    provenance_origin: "origin",
    provenance_twin: "same person or task, registered in another province",
    provenance_mirror: "mirror",
    personal_withheld: "Personal fields (birth year, contact) are not shown to your role.",
    full_name: "Full name",
    gender: "Gender",
    birth_year: "Birth year",
    title_degree: "Title and degree",
    position: "Position",
    organization: "Organization",
    fields_of_science: "Fields",
    specialization: "Specialization",
    keywords: "Keywords",
    identifiers: "Identifiers",
    email: "Email",
    phone: "Phone",
    contact_no_consent: "The expert has not agreed to share contact details.",
    code: "Code",
    task_title: "Title",
    management_level: "Management level",
    status: "Status",
    lead: "Lead",
    team: "Members",
    host_organization: "Host organization",
    managing_agency: "Managing agency",
    period: "Period",
    budget: "Total budget",
    state_budget: "State budget",
    acceptance: "Acceptance",
    objectives: "Objectives",
    summary: "Summary",
    authors: "Authors",
    venue: "Venue",
    year: "Year",
    doi: "DOI",
    abstract_: "Abstract",
    from_task: "From task",
    abbreviation: "Abbreviation",
    organization_type: "Type",
    agency_code: "Agency code",
    updated: "Updated",
    record_id: "Record id",
    experts_here: "Experts of this organization",
    genders: ["", "Male", "Female", "Other"],
    degrees: [
        "",
        "Doctor of Science",
        "Doctor",
        "Master",
        "Engineer",
        "Bachelor",
        "Medical doctor",
    ],
    academic_titles: ["", "Professor", "Associate professor"],
    statuses: [
        "",
        "Proposed",
        "Approved",
        "Ongoing",
        "Completed",
        "Cancelled",
    ],
    levels: ["", "National", "Ministry", "Province", "Grassroots"],
    grades: ["", "Excellent", "Good", "Pass", "Fail"],
    organization_types: [
        "",
        "State agency",
        "University",
        "Research institute",
        "Hospital",
        "Enterprise",
        "Other",
    ],

    proposal_title: "Proposal check",
    proposal_intro: "Enter the title (and summary) of a proposed task to find completed and \
                     ongoing tasks of every province that resemble it.",
    proposal_name: "Proposed title",
    proposal_summary: "Summary and objectives",
    proposal_field: "Field",
    proposal_button: "Check",
    proposal_none: "No similar task found.",
    proposal_yours: "Proposal",
    proposal_similar: "Similar task",
    similarity: "Similarity",
    likely_repeat: "Likely repeat",
    shared_phrases: "Shared phrases",

    statistics_title: "Statistics",
    statistics_all: "All provinces",
    statistics_kind: ["Experts", "Tasks", "Publications"],
    by_field: "By field",
    by_year: "By year",
    by_status: "By status",
    by_level: "By management level",
    count: "Count",
    total: "Total",
    show: "Show",
    view_chart: "Charts",
    view_table: "Tables",
    record_kind: "Records",
    download_csv: "Download the figures (CSV)",
    chart_of: |what, place| format!("Chart of {what} — {place}"),

    federation_title: "Federation status",
    nodes_ok: |ok, all| format!("{ok} of {all} nodes answering"),
    endpoint: "Endpoint",
    health: "Health",
    breaker: "Breaker",
    breakers: [
        "unknown",
        "closed (normal)",
        "open (calls paused)",
        "half-open (trial)",
    ],
    software: "Version",
    records: "Shared records",
    last_change: "Changes",
    last_call: "Last call",
    sync_title: "Catalog sync between provinces",
    sync_none: "No node follows another.",
    follower: "Mirror at",
    followed: "Origin",
    mirrored: "Mirrored records",
    backlog: "Changes not yet received",
    lag: "Lag",
    caught_up_at: "Caught up at",
    last_sync: "Last sync",
    never: "never",
    sync_ok: "normal",
    sync_failing: "last call failed",
    seconds: |s| format!("{s:.0} s"),

    users_title: "Users",
    add_user: "Add a user",
    role: "Role",
    created: "Created",
    state: "State",
    active: "active",
    disabled: "disabled",
    locked_until: "locked until",
    change_role: "Change role",
    new_password: "New password",
    set_password: "Set password",
    disable: "Disable",
    enable: "Enable",
    password_rule: "At least 12 characters.",
    user_saved: |name| format!("User {name} saved."),

    error_title: "Could not complete the request",
    error_not_found: "Not found.",
    error_forbidden: "Your role may not see this.",
    error_unavailable: "The gateway or a province it needs is not answering. Try again later.",
    error_bad_request: "The request is not valid:",
    error_rate_limited: "Too many requests. Wait a moment.",
    error_internal: "Something went wrong. Try again later.",
    back_to_search: "Back to search",
    milliseconds: |ms| format!("{ms:.1} ms"),
    field_names: FIELDS_EN,
};

/// The fields of science (1 digit) and their sectors (3 digits) of Circular
/// 24/2025/TT-BKHCN, whose first digits keep those of Decision
/// 12/2008/QĐ-BKHCN, so that old and new codes filter alike. Longer codes
/// (majors, sub-fields) are named by their sector.
/// Lĩnh vực và nhóm lĩnh vực.
pub static FIELDS_VI: &[(&str, &str)] = &[
    ("1", "Khoa học tự nhiên"),
    ("101", "Toán học và thống kê"),
    ("102", "Khoa học máy tính và thông tin"),
    ("103", "Vật lý"),
    ("104", "Hóa học"),
    ("105", "Các khoa học trái đất và môi trường liên quan"),
    ("106", "Sinh học"),
    ("199", "Khoa học tự nhiên khác"),
    ("2", "Khoa học kỹ thuật và công nghệ"),
    ("201", "Kỹ thuật dân dụng"),
    ("202", "Kỹ thuật điện, điện tử, thông tin"),
    ("203", "Kỹ thuật cơ khí"),
    ("204", "Kỹ thuật hóa học"),
    ("205", "Kỹ thuật vật liệu và luyện kim"),
    ("206", "Kỹ thuật y học"),
    ("207", "Kỹ thuật môi trường"),
    ("208", "Công nghệ sinh học môi trường"),
    ("209", "Công nghệ sinh học công nghiệp"),
    ("210", "Công nghệ nano"),
    ("211", "Kỹ thuật thực phẩm và đồ uống"),
    ("299", "Khoa học kỹ thuật và công nghệ khác"),
    ("3", "Khoa học y, dược"),
    ("301", "Y học cơ sở"),
    ("302", "Y học lâm sàng"),
    ("303", "Dược học"),
    ("304", "Công nghệ sinh học trong y học"),
    ("305", "Khoa học sức khỏe"),
    ("399", "Khoa học y, dược khác"),
    ("4", "Khoa học nông nghiệp"),
    ("401", "Trồng trọt"),
    ("402", "Chăn nuôi"),
    ("403", "Thú y"),
    ("404", "Lâm nghiệp"),
    ("405", "Thủy sản"),
    ("406", "Công nghệ sinh học trong nông nghiệp"),
    ("499", "Khoa học nông nghiệp khác"),
    ("5", "Khoa học xã hội"),
    ("501", "Tâm lý học"),
    ("502", "Kinh tế và kinh doanh"),
    ("503", "Khoa học giáo dục"),
    ("504", "Xã hội học"),
    ("505", "Pháp luật"),
    ("506", "Khoa học chính trị"),
    ("507", "Địa lý kinh tế và xã hội"),
    ("508", "Thông tin đại chúng và truyền thông"),
    ("599", "Khoa học xã hội khác"),
    ("6", "Khoa học nhân văn"),
    ("601", "Lịch sử và khảo cổ học"),
    ("602", "Ngôn ngữ học và văn học"),
    ("603", "Triết học, đạo đức học và tôn giáo"),
    ("604", "Nghệ thuật"),
    ("699", "Khoa học nhân văn khác"),
];
/// Fields and sectors in English.
pub static FIELDS_EN: &[(&str, &str)] = &[
    ("1", "Natural sciences"),
    ("101", "Mathematics and statistics"),
    ("102", "Computer and information sciences"),
    ("103", "Physics"),
    ("104", "Chemistry"),
    ("105", "Earth and related environmental sciences"),
    ("106", "Biology"),
    ("199", "Other natural sciences"),
    ("2", "Engineering and technology"),
    ("201", "Civil engineering"),
    ("202", "Electrical, electronic and information engineering"),
    ("203", "Mechanical engineering"),
    ("204", "Chemical engineering"),
    ("205", "Materials engineering and metallurgy"),
    ("206", "Medical engineering"),
    ("207", "Environmental engineering"),
    ("208", "Environmental biotechnology"),
    ("209", "Industrial biotechnology"),
    ("210", "Nanotechnology"),
    ("211", "Food and beverage engineering"),
    ("299", "Other engineering and technologies"),
    ("3", "Medical and pharmaceutical sciences"),
    ("301", "Basic medicine"),
    ("302", "Clinical medicine"),
    ("303", "Pharmacy"),
    ("304", "Medical biotechnology"),
    ("305", "Health sciences"),
    ("399", "Other medical sciences"),
    ("4", "Agricultural sciences"),
    ("401", "Crop science"),
    ("402", "Animal husbandry"),
    ("403", "Veterinary science"),
    ("404", "Forestry"),
    ("405", "Fisheries"),
    ("406", "Agricultural biotechnology"),
    ("499", "Other agricultural sciences"),
    ("5", "Social sciences"),
    ("501", "Psychology"),
    ("502", "Economics and business"),
    ("503", "Educational sciences"),
    ("504", "Sociology"),
    ("505", "Law"),
    ("506", "Political science"),
    ("507", "Social and economic geography"),
    ("508", "Media and communications"),
    ("599", "Other social sciences"),
    ("6", "Humanities"),
    ("601", "History and archaeology"),
    ("602", "Languages and literature"),
    ("603", "Philosophy, ethics and religion"),
    ("604", "Arts"),
    ("699", "Other humanities"),
];

impl Text {
    /// The label of an enum value, or "" for unknown values.
    pub fn pick(labels: &[&'static str], value: i32) -> &'static str {
        usize::try_from(value)
            .ok()
            .and_then(|index| labels.get(index))
            .copied()
            .unwrap_or("")
    }

    pub fn role(&self, role: crate::auth::UserRole) -> &'static str {
        match role {
            crate::auth::UserRole::Viewer => self.roles[0],
            crate::auth::UserRole::Officer => self.roles[1],
            crate::auth::UserRole::Admin => self.roles[2],
        }
    }

    /// The name of a field code: its sector's for codes of 3 digits or
    /// more, else its field's; "" for codes outside the tree.
    pub fn field_name(&self, code: &str) -> &'static str {
        let key = code.get(..3).unwrap_or(code);
        self.field_names
            .iter()
            .find(|(known, _)| *known == key)
            .or_else(|| {
                self.field_names
                    .iter()
                    .find(|(known, _)| Some(*known) == code.get(..1))
            })
            .map_or("", |(_, name)| name)
    }

    pub fn outcome(&self, outcome: i32) -> &'static str {
        Text::pick(&self.outcomes, outcome)
    }

    pub fn status_label(&self, status: pb::ProjectStatus) -> &'static str {
        Text::pick(&self.statuses, status as i32)
    }
}

/// "2024-03-05", "2024-03-05T10:00:00Z" → "05/03/2024"; "2024" stays; text
/// that is not a date is shown as it is.
pub fn date(text: &str) -> String {
    let day = text.get(..10).unwrap_or(text);
    let parts: Vec<&str> = day.split('-').collect();
    match parts.as_slice() {
        [year, month, day] if year.len() == 4 && month.len() == 2 && day.len() == 2 => {
            format!("{day}/{month}/{year}")
        }
        [year, month] if year.len() == 4 && month.len() == 2 => format!("{month}/{year}"),
        _ => text.to_owned(),
    }
}

/// 1234567 → "1.234.567" (Vietnamese) or "1,234,567" (English).
pub fn number(lang: Lang, value: u64) -> String {
    let separator = match lang {
        Lang::Vi => '.',
        Lang::En => ',',
    };
    let digits = value.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (index, digit) in digits.chars().enumerate() {
        if index > 0 && (digits.len() - index).is_multiple_of(3) {
            out.push(separator);
        }
        out.push(digit);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_read_day_month_year() {
        assert_eq!(date("2024-03-05"), "05/03/2024");
        assert_eq!(date("2024-03-05T10:00:00Z"), "05/03/2024");
        assert_eq!(date("2024-03"), "03/2024");
        assert_eq!(date("2024"), "2024");
        assert_eq!(date(""), "");
    }

    #[test]
    fn field_codes_are_named_by_their_sector() {
        assert_eq!(VI.field_name("4010601"), "Trồng trọt");
        assert_eq!(VI.field_name("40106"), "Trồng trọt");
        assert_eq!(VI.field_name("4"), "Khoa học nông nghiệp");
        assert_eq!(EN.field_name("4010601"), "Crop science");
        // An unknown sector falls back to its field.
        assert_eq!(VI.field_name("4770101"), "Khoa học nông nghiệp");
        assert_eq!(VI.field_name("9"), "");
        // Codes come from nodes: any text is named or not, never a panic.
        assert_eq!(VI.field_name("4ế"), "Khoa học nông nghiệp");
        assert_eq!(VI.field_name("ếếế"), "");
        assert_eq!(VI.field_name(""), "");
        assert_eq!(FIELDS_VI.len(), FIELDS_EN.len());
    }

    #[test]
    fn numbers_group_by_thousands() {
        assert_eq!(number(Lang::Vi, 1_234_567), "1.234.567");
        assert_eq!(number(Lang::En, 1_234_567), "1,234,567");
        assert_eq!(number(Lang::Vi, 999), "999");
    }

    #[test]
    fn enum_labels_follow_the_proto_numbers() {
        assert_eq!(
            VI.status_label(pb::ProjectStatus::Completed),
            "Đã nghiệm thu"
        );
        assert_eq!(EN.status_label(pb::ProjectStatus::Completed), "Completed");
        assert_eq!(
            Text::pick(&VI.levels, pb::ManagementLevel::Province as i32),
            "Tỉnh"
        );
        assert_eq!(
            Text::pick(&VI.degrees, pb::Degree::Doctor as i32),
            "Tiến sĩ"
        );
        assert_eq!(Text::pick(&VI.degrees, 99), "");
        assert_eq!(VI.outcome(pb::NodeOutcome::Ok as i32), "đã trả lời");
    }
}
