//! The province's organizations: a fixed catalogue of real-style core bodies (the Sở
//! KH&CN is always number 0), then departments of universities and hospitals,
//! enterprises, commune-level units and schools, interleaved so that names stay
//! unique for any index.

use lienthong_proto::v1::{Classification, Organization, OrganizationType, Visibility};

use crate::province::{Flavour, Province};

/// What kind of workplace an organization is, for experts' fields and positions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Profile {
    Agency,
    Academic,
    Medical,
    Institute,
    Center,
    Agri,
    Business,
    School,
    Culture,
}

/// Units under a core organization: (name, field digit).
type Units = &'static [(&'static str, u8)];

const UNIVERSITY_FACULTIES: Units = &[
    ("Khoa Nông học", 4),
    ("Khoa Công nghệ thông tin", 1),
    ("Khoa Cơ khí", 2),
    ("Khoa Điện – Điện tử", 2),
    ("Khoa Kinh tế", 5),
    ("Khoa Ngoại ngữ", 6),
    ("Khoa Công nghệ Hóa học và Môi trường", 2),
    ("Khoa Khoa học cơ bản", 1),
    ("Khoa Sư phạm", 5),
    ("Khoa Xây dựng", 2),
    ("Khoa Công nghệ sinh học", 4),
    ("Khoa Quản trị kinh doanh", 5),
    ("Khoa Tài chính – Ngân hàng", 5),
    ("Khoa Lý luận chính trị", 6),
    ("Khoa Công nghệ May và Thời trang", 2),
    ("Khoa Luật", 5),
];

const MEDICAL_FACULTIES: Units = &[
    ("Khoa Y học cơ sở", 3),
    ("Khoa Y tế công cộng", 3),
    ("Khoa Dược", 3),
    ("Khoa Điều dưỡng", 3),
    ("Khoa Y học cổ truyền", 3),
    ("Khoa Răng Hàm Mặt", 3),
    ("Khoa Khoa học cơ bản", 1),
];

const HOSPITAL_WARDS: Units = &[
    ("Khoa Nội tổng hợp", 3),
    ("Khoa Ngoại tổng hợp", 3),
    ("Khoa Sản", 3),
    ("Khoa Nhi", 3),
    ("Khoa Hồi sức tích cực – Chống độc", 3),
    ("Khoa Xét nghiệm", 3),
    ("Khoa Chẩn đoán hình ảnh", 3),
    ("Khoa Dược", 3),
    ("Khoa Y học cổ truyền", 3),
    ("Khoa Truyền nhiễm", 3),
    ("Khoa Tim mạch", 3),
    ("Khoa Ung bướu", 3),
];

const SPECIAL_HOSPITAL_WARDS: Units = &[
    ("Khoa Khám bệnh", 3),
    ("Khoa Điều trị tích cực", 3),
    ("Khoa Xét nghiệm", 3),
    ("Khoa Dược", 3),
];

const INSTITUTE_UNITS: Units = &[
    ("Phòng Nghiên cứu Kinh tế", 5),
    ("Phòng Nghiên cứu Xã hội", 5),
    ("Phòng Nghiên cứu Văn hóa", 6),
    ("Phòng Thông tin – Tư liệu", 5),
];

const CENTER_UNITS: Units = &[
    ("Phòng Công nghệ sinh học", 4),
    ("Phòng Thông tin và Thống kê khoa học và công nghệ", 1),
    ("Phòng Ứng dụng và Chuyển giao công nghệ", 2),
    ("Trạm Thực nghiệm", 4),
];

/// Enterprise sectors: (name, field digit).
const SECTORS: &[(&str, u8)] = &[
    ("Giống cây trồng", 4),
    ("Nông nghiệp Công nghệ cao", 4),
    ("Dược phẩm", 3),
    ("Cơ khí Chính xác", 2),
    ("Phần mềm", 1),
    ("Thức ăn Chăn nuôi", 4),
    ("Thiết bị Y tế", 3),
    ("Điện tử", 2),
    ("Vật liệu Xây dựng", 2),
    ("Môi trường Xanh", 2),
    ("Chế biến Nông sản", 2),
    ("Thực phẩm", 2),
    ("Công nghệ Thông tin", 1),
    ("Tư vấn Xây dựng", 2),
    ("Năng lượng Mặt trời", 2),
    ("Dệt may", 2),
    ("Thủy sản", 4),
    ("Phân bón Hữu cơ", 4),
    ("Thuốc Thú y", 4),
    ("Tự động hóa", 2),
];

const BRANDS: &[&str] = &[
    "An Phát",
    "Minh Phát",
    "Hưng Thịnh",
    "Phúc Lộc",
    "Thành Công",
    "Việt Hưng",
    "Hoàng Long",
    "Tân Tiến",
    "Đại Dương",
    "Hồng Hà",
    "Sao Mai",
    "Bình Minh",
    "Trường Sơn",
    "Ánh Dương",
    "Đông Á",
    "Thái Hòa",
    "Nam Việt",
    "Phú Cường",
    "Quang Minh",
    "Kim Ngân",
    "Hải Đăng",
    "Thăng Long",
    "Phương Đông",
    "Toàn Thắng",
    "Đức Thành",
    "Gia Phát",
    "Hoà Bình",
    "Việt Tiến",
    "An Khang",
    "Tiến Đạt",
    "Hưng Long",
    "Đại Phát",
    "Vạn Xuân",
    "Thiên Phú",
    "Bảo Ngọc",
    "Lạc Hồng",
    "Phú Thịnh",
    "Tâm Đức",
    "Nhật Minh",
    "Hà Thành",
    "Sông Hồng",
    "Châu Giang",
    "Đồng Tiến",
    "Xuân Thành",
    "Hợp Nhất",
    "Tài Lộc",
    "Thịnh Vượng",
    "Minh Khang",
    "Việt Nhật",
    "Đông Đô",
];

const COMMUNES: &[&str] = &[
    "An Viên",
    "Tân Dân",
    "Đông Kết",
    "Bình Minh",
    "Hồng Tiến",
    "Nghĩa Dân",
    "Phú Thịnh",
    "Minh Châu",
    "Đức Hợp",
    "Tân Châu",
    "Hồng Nam",
    "Quang Vinh",
    "Đồng Thanh",
    "Thọ Vinh",
    "Việt Hòa",
    "Nhật Tân",
    "Liên Nghĩa",
    "Hoàn Long",
    "Tân Lập",
    "Thiện Phiến",
    "Hải Triều",
    "Đoàn Đào",
    "Tống Trân",
    "Phù Ủng",
    "Xuân Quan",
    "Cửu Cao",
    "Lạc Đạo",
    "Giai Phạm",
    "Ngọc Long",
    "Yên Phú",
    "Đào Dương",
    "Quảng Lãng",
    "Hạ Lễ",
    "Toàn Thắng",
    "Hồng Quang",
    "Trung Hoà",
    "Đại Đồng",
    "Tân Phong",
    "Hưng Đạo",
    "Thanh Long",
];

const SCHOOL_NAMES: &[&str] = &[
    "Nguyễn Trãi",
    "Trần Hưng Đạo",
    "Lê Quý Đôn",
    "Chu Văn An",
    "Nguyễn Du",
    "Phạm Ngũ Lão",
    "Hoàng Hoa Thám",
    "Lê Lợi",
    "Quang Trung",
    "Nguyễn Huệ",
    "Trần Phú",
    "Nguyễn Khuyến",
    "Lương Thế Vinh",
    "Nguyễn Bỉnh Khiêm",
    "Trần Quốc Tuấn",
    "Tô Hiến Thành",
    "Lý Thường Kiệt",
    "Nguyễn Thiện Thuật",
    "Hồng Bàng",
    "Đoàn Thị Điểm",
    "Minh Khai",
    "Triệu Quang Phục",
];

/// One entry of the fixed catalogue.
#[derive(Clone, Debug)]
struct Core {
    name: String,
    abbreviation: String,
    otype: OrganizationType,
    profile: Profile,
    field: Option<u8>,
    domain: String,
    province: String,
    parent: Option<usize>,
    predecessors: Vec<usize>,
    successor: Option<usize>,
    units: Units,
}

/// What experts need to know about their workplace, cheaply.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Brief {
    pub(crate) profile: Profile,
    /// Field digit the organization is mostly about, if any.
    pub(crate) field: Option<u8>,
}

/// Where an index past the core catalogue falls.
enum Extra {
    Unit(usize),
    Enterprise(u64),
    Community(u64),
    School(u64),
}

/// The organizations of one province, computable by index.
#[derive(Clone, Debug)]
pub(crate) struct Catalog {
    core: Vec<Core>,
    /// (core parent, unit name, field digit), parents interleaved.
    units: Vec<(usize, &'static str, u8)>,
    province_name: String,
    slug: String,
    admin_code: u32,
    districts: Vec<String>,
}

struct Builder<'a> {
    core: Vec<Core>,
    p: &'a Province,
}

impl Builder<'_> {
    #[allow(clippy::too_many_arguments)]
    fn add(
        &mut self,
        name: String,
        abbreviation: String,
        otype: OrganizationType,
        profile: Profile,
        field: Option<u8>,
        domain: String,
        parent: Option<usize>,
        units: Units,
    ) -> usize {
        self.core.push(Core {
            name,
            abbreviation,
            otype,
            profile,
            field,
            domain,
            province: self.p.name.clone(),
            parent,
            predecessors: Vec::new(),
            successor: None,
            units,
        });
        self.core.len() - 1
    }
}

/// (name, abbreviation, domain, medical) of the province's universities.
fn universities(p: &Province) -> Vec<(String, String, String, bool)> {
    let u = |n: &str, a: &str, d: &str, m: bool| (n.to_owned(), a.to_owned(), d.to_owned(), m);
    match p.flavour {
        Flavour::HungYen => vec![
            u(
                "Trường Đại học Sư phạm Kỹ thuật Hưng Yên",
                "UTEHY",
                "utehy.edu.vn",
                false,
            ),
            u("Trường Đại học Chu Văn An", "CVAU", "cvauni.edu.vn", false),
            u(
                "Trường Đại học Y Dược Thái Bình",
                "TBUMP",
                "tbump.edu.vn",
                true,
            ),
            u(
                "Trường Đại học Tài chính – Quản trị kinh doanh",
                "UFBA",
                "ufba.edu.vn",
                false,
            ),
            u("Trường Đại học Thái Bình", "TBU", "tbu.edu.vn", false),
        ],
        Flavour::NamDinh => vec![
            u(
                "Trường Đại học Sư phạm Kỹ thuật Nam Định",
                "NUTE",
                "nute.edu.vn",
                false,
            ),
            u(
                "Trường Đại học Điều dưỡng Nam Định",
                "NDUN",
                "ndun.edu.vn",
                true,
            ),
            u(
                "Trường Đại học Lương Thế Vinh",
                "LTVU",
                "ltvu.edu.vn",
                false,
            ),
        ],
        Flavour::Custom => vec![
            (
                format!("Trường Đại học {}", p.name),
                format!("ĐH{}", p.prefix),
                format!("u{}.edu.vn", p.slug),
                false,
            ),
            (
                format!("Trường Cao đẳng Kinh tế – Kỹ thuật {}", p.name),
                format!("CĐKTKT-{}", p.prefix),
                format!("cdktkt.{}.edu.vn", p.slug),
                false,
            ),
        ],
    }
}

impl Catalog {
    pub(crate) fn new(p: &Province) -> Self {
        use OrganizationType as T;
        use Profile as F;
        let name = &p.name;
        let cp = &p.prefix;
        let slug = &p.slug;
        let mut b = Builder {
            core: Vec::new(),
            p,
        };
        let gov = |sub: &str| format!("{sub}.{slug}.gov.vn");
        let so = b.add(
            format!("Sở Khoa học và Công nghệ {name}"),
            format!("SKHCN-{cp}"),
            T::StateAgency,
            F::Agency,
            None,
            gov("skhcn"),
            None,
            &[],
        );
        let ubnd = b.add(
            format!("Ủy ban nhân dân tỉnh {name}"),
            format!("UBND-{cp}"),
            T::StateAgency,
            F::Agency,
            Some(5),
            format!("{slug}.gov.vn"),
            None,
            &[],
        );
        let mut unis = universities(p).into_iter();
        let add_uni = |b: &mut Builder<'_>, (n, a, d, medical): (String, String, String, bool)| {
            let (profile, field, units) = if medical {
                (F::Medical, Some(3), MEDICAL_FACULTIES)
            } else {
                (F::Academic, None, UNIVERSITY_FACULTIES)
            };
            b.add(n, a, T::University, profile, field, d, None, units)
        };
        if let Some(u) = unis.next() {
            add_uni(&mut b, u);
        }
        b.add(
            format!("Bệnh viện Đa khoa tỉnh {name}"),
            format!("BVĐK-{cp}"),
            T::Hospital,
            F::Medical,
            Some(3),
            gov("bvdk"),
            None,
            HOSPITAL_WARDS,
        );
        b.add(
            format!("Trung tâm Ứng dụng tiến bộ khoa học và công nghệ {name}"),
            format!("TTUD-{cp}"),
            T::ResearchInstitute,
            F::Center,
            None,
            gov("skhcn"),
            Some(so),
            CENTER_UNITS,
        );
        let nn = b.add(
            format!("Sở Nông nghiệp và Phát triển nông thôn {name}"),
            format!("SNN-{cp}"),
            T::StateAgency,
            F::Agency,
            Some(4),
            gov("snnptnt"),
            None,
            &[],
        );
        if let Some(u) = unis.next() {
            add_uni(&mut b, u);
        }
        let kn = b.add(
            format!("Trung tâm Khuyến nông {name}"),
            format!("TTKN-{cp}"),
            T::Other,
            F::Agri,
            Some(4),
            gov("khuyennong"),
            Some(nn),
            &[],
        );
        let yt = b.add(
            format!("Sở Y tế {name}"),
            format!("SYT-{cp}"),
            T::StateAgency,
            F::Agency,
            Some(3),
            gov("syt"),
            None,
            &[],
        );
        b.add(
            format!("Chi cục Tiêu chuẩn Đo lường Chất lượng {name}"),
            format!("CCTĐC-{cp}"),
            T::StateAgency,
            F::Agency,
            Some(2),
            gov("skhcn"),
            Some(so),
            &[],
        );
        b.add(
            format!("Viện Nghiên cứu Phát triển Kinh tế – Xã hội {name}"),
            format!("VNCPT-{cp}"),
            T::ResearchInstitute,
            F::Institute,
            Some(5),
            gov("vienncpt"),
            Some(ubnd),
            INSTITUTE_UNITS,
        );
        b.add(
            format!("Trung tâm Kiểm soát bệnh tật tỉnh {name}"),
            format!("CDC-{cp}"),
            T::Other,
            F::Medical,
            Some(3),
            gov("cdc"),
            Some(yt),
            &[],
        );
        b.add(
            format!("Bệnh viện Sản Nhi {name}"),
            format!("BVSN-{cp}"),
            T::Hospital,
            F::Medical,
            Some(3),
            gov("bvsannhi"),
            None,
            SPECIAL_HOSPITAL_WARDS,
        );
        b.add(
            format!("Bệnh viện Y dược cổ truyền {name}"),
            format!("BVYDCT-{cp}"),
            T::Hospital,
            F::Medical,
            Some(3),
            gov("bvydct"),
            None,
            SPECIAL_HOSPITAL_WARDS,
        );
        b.add(
            format!("Sở Giáo dục và Đào tạo {name}"),
            format!("SGDĐT-{cp}"),
            T::StateAgency,
            F::Agency,
            Some(5),
            format!("{slug}.edu.vn"),
            None,
            &[],
        );
        let tnmt = b.add(
            format!("Sở Tài nguyên và Môi trường {name}"),
            format!("STNMT-{cp}"),
            T::StateAgency,
            F::Agency,
            Some(1),
            gov("stnmt"),
            None,
            &[],
        );
        let nnmt = b.add(
            format!("Sở Nông nghiệp và Môi trường {name}"),
            format!("SNNMT-{cp}"),
            T::StateAgency,
            F::Agency,
            Some(4),
            gov("snnmt"),
            None,
            &[],
        );
        b.core[nnmt].predecessors = vec![nn, tnmt];
        b.core[nn].successor = Some(nnmt);
        b.core[tnmt].successor = Some(nnmt);
        b.add(
            format!("Sở Công Thương {name}"),
            format!("SCT-{cp}"),
            T::StateAgency,
            F::Agency,
            Some(2),
            gov("sct"),
            None,
            &[],
        );
        let vh = b.add(
            format!("Sở Văn hóa, Thể thao và Du lịch {name}"),
            format!("SVHTTDL-{cp}"),
            T::StateAgency,
            F::Culture,
            Some(6),
            gov("svhttdl"),
            None,
            &[],
        );
        b.add(
            format!("Bảo tàng tỉnh {name}"),
            format!("BT-{cp}"),
            T::Other,
            F::Culture,
            Some(6),
            gov("baotang"),
            Some(vh),
            &[],
        );
        b.add(
            format!("Trường Cao đẳng Y tế {name}"),
            format!("CĐYT-{cp}"),
            T::University,
            F::Medical,
            Some(3),
            format!("cdyt{slug}.edu.vn"),
            None,
            &[],
        );
        b.add(
            format!("Trung tâm Giống nông nghiệp {name}"),
            format!("TTG-{cp}"),
            T::Other,
            F::Agri,
            Some(4),
            gov("snnptnt"),
            Some(nn),
            &[],
        );
        b.add(
            format!("Chi cục Trồng trọt và Bảo vệ thực vật {name}"),
            format!("CCTTBVTV-{cp}"),
            T::StateAgency,
            F::Agri,
            Some(4),
            gov("snnptnt"),
            Some(nn),
            &[],
        );
        b.add(
            format!("Chi cục Chăn nuôi và Thú y {name}"),
            format!("CCCNTY-{cp}"),
            T::StateAgency,
            F::Agri,
            Some(4),
            gov("snnptnt"),
            Some(nn),
            &[],
        );
        b.add(
            format!("Trung tâm Quan trắc tài nguyên và môi trường {name}"),
            format!("TTQT-{cp}"),
            T::Other,
            F::Center,
            Some(1),
            gov("stnmt"),
            Some(tnmt),
            &[],
        );
        b.add(
            format!("Công ty TNHH MTV Khai thác công trình thủy lợi {name}"),
            format!("KTCTTL-{cp}"),
            T::Enterprise,
            F::Business,
            Some(2),
            format!("thuyloi{slug}.vn"),
            None,
            &[],
        );
        b.add(
            format!("Công ty Cổ phần Giống cây trồng {name}"),
            format!("GCT-{cp}"),
            T::Enterprise,
            F::Business,
            Some(4),
            format!("giongcaytrong{slug}.vn"),
            None,
            &[],
        );
        b.add(
            format!("Công ty Cổ phần Dược phẩm {name}"),
            format!("DP-{cp}"),
            T::Enterprise,
            F::Business,
            Some(3),
            format!("duocpham{slug}.vn"),
            None,
            &[],
        );
        for u in unis {
            add_uni(&mut b, u);
        }
        match p.flavour {
            Flavour::HungYen => {
                let tb_so = b.add(
                    "Sở Khoa học và Công nghệ Thái Bình".to_owned(),
                    "SKHCN-TB".to_owned(),
                    T::StateAgency,
                    F::Agency,
                    None,
                    "skhcn.thaibinh.gov.vn".to_owned(),
                    None,
                    &[],
                );
                let tb_ubnd = b.add(
                    "Ủy ban nhân dân tỉnh Thái Bình".to_owned(),
                    "UBND-TB".to_owned(),
                    T::StateAgency,
                    F::Agency,
                    Some(5),
                    "thaibinh.gov.vn".to_owned(),
                    None,
                    &[],
                );
                for old in [tb_so, tb_ubnd] {
                    b.core[old].province = "Thái Bình".to_owned();
                }
                b.core[tb_so].successor = Some(so);
                b.core[tb_ubnd].successor = Some(ubnd);
                b.core[so].predecessors = vec![tb_so];
                b.core[ubnd].predecessors = vec![tb_ubnd];
                b.add(
                    "Bệnh viện Đa khoa Thái Bình".to_owned(),
                    "BVĐK-TB".to_owned(),
                    T::Hospital,
                    F::Medical,
                    Some(3),
                    "bvdkthaibinh.vn".to_owned(),
                    None,
                    HOSPITAL_WARDS,
                );
                b.add(
                    "Trung tâm Nghiên cứu và Phát triển cây nhãn Hưng Yên".to_owned(),
                    "TTNHAN-HY".to_owned(),
                    T::ResearchInstitute,
                    F::Institute,
                    Some(4),
                    gov("snnptnt"),
                    Some(nn),
                    &[],
                );
            }
            Flavour::NamDinh => {
                b.add(
                    "Tổng Công ty Cổ phần Dệt may Nam Định".to_owned(),
                    "NATEXCO".to_owned(),
                    T::Enterprise,
                    F::Business,
                    Some(2),
                    "detmaynamdinh.vn".to_owned(),
                    None,
                    &[],
                );
                b.add(
                    "Trường Cao đẳng Sư phạm Nam Định".to_owned(),
                    "CĐSP-ND".to_owned(),
                    T::University,
                    F::Academic,
                    Some(5),
                    "cdspnd.edu.vn".to_owned(),
                    None,
                    &[],
                );
            }
            Flavour::Custom => {}
        }
        let districts: Vec<String> = p.all_districts().cloned().collect();
        for district in &districts {
            b.add(
                format!("Trạm Khuyến nông {district}"),
                format!("TKN-{}", initials(district)),
                T::Other,
                F::Agri,
                Some(4),
                gov("khuyennong"),
                Some(kn),
                &[],
            );
        }
        let core = b.core;
        let longest = core.iter().map(|c| c.units.len()).max().unwrap_or(0);
        let mut units = Vec::new();
        for round in 0..longest {
            for (parent, entry) in core.iter().enumerate() {
                if let Some((unit, field)) = entry.units.get(round) {
                    units.push((parent, *unit, *field));
                }
            }
        }
        Self {
            core,
            units,
            province_name: p.name.clone(),
            slug: p.slug.clone(),
            admin_code: p.admin_code,
            districts: p.districts.clone(),
        }
    }

    /// Number of entries in the fixed catalogue.
    pub(crate) fn core_len(&self) -> u64 {
        self.core.len() as u64
    }

    fn community_len(&self) -> u64 {
        2 * COMMUNES.len() as u64 * self.districts.len().max(1) as u64
    }

    fn school_len(&self) -> u64 {
        (SCHOOL_NAMES.len() + self.districts.len()) as u64
    }

    /// Maps an index past the core catalogue to a segment, round-robin over the
    /// segments that still have entries (enterprises never run out).
    fn locate(&self, k: u64) -> Extra {
        let lens = [
            self.units.len() as u64,
            u64::MAX,
            self.community_len(),
            self.school_len(),
        ];
        let mut k = k;
        let mut done = 0u64;
        loop {
            let mut active = [0usize; 4];
            let mut count = 0usize;
            let mut shortest = u64::MAX;
            for (segment, len) in lens.iter().enumerate() {
                if *len > done {
                    active[count] = segment;
                    count += 1;
                    shortest = shortest.min(*len);
                }
            }
            let block = (shortest - done).saturating_mul(count as u64);
            if k < block {
                let segment = active[(k % count as u64) as usize];
                let index = done + k / count as u64;
                return match segment {
                    0 => Extra::Unit(index as usize),
                    1 => Extra::Enterprise(index),
                    2 => Extra::Community(index),
                    _ => Extra::School(index),
                };
            }
            k -= block;
            done = shortest;
        }
    }

    fn extra(&self, i: u64) -> Option<Extra> {
        let core = self.core.len() as u64;
        (i >= core).then(|| self.locate(i - core))
    }

    /// Profile and field of organization `i`, without building its name.
    pub(crate) fn brief(&self, i: u64) -> Brief {
        match self.extra(i) {
            None => {
                let c = &self.core[i as usize];
                Brief {
                    profile: c.profile,
                    field: c.field,
                }
            }
            Some(Extra::Unit(u)) => {
                let (parent, _, field) = self.units[u];
                Brief {
                    profile: self.core[parent].profile,
                    field: Some(field),
                }
            }
            Some(Extra::Enterprise(e)) => Brief {
                profile: Profile::Business,
                field: Some(SECTORS[enterprise_parts(e).1].1),
            },
            Some(Extra::Community(c)) => {
                if c % 2 == 0 {
                    Brief {
                        profile: Profile::Agri,
                        field: Some(4),
                    }
                } else {
                    Brief {
                        profile: Profile::Medical,
                        field: Some(3),
                    }
                }
            }
            Some(Extra::School(_)) => Brief {
                profile: Profile::School,
                field: None,
            },
        }
    }

    /// The name of organization `i`; unique across indices.
    pub(crate) fn name(&self, i: u64) -> String {
        match self.extra(i) {
            None => self.core[i as usize].name.clone(),
            Some(Extra::Unit(u)) => {
                let (parent, unit, _) = self.units[u];
                format!("{unit} – {}", self.core[parent].name)
            }
            Some(Extra::Enterprise(e)) => {
                let (form, sector, brand, round) = enterprise_parts(e);
                let form = if form == 0 {
                    "Công ty TNHH"
                } else {
                    "Công ty Cổ phần"
                };
                let mut name = format!("{form} {} {}", SECTORS[sector].0, BRANDS[brand]);
                if round > 0 {
                    name.push_str(&format!(" {}", round + 1));
                }
                name
            }
            Some(Extra::Community(c)) => {
                let (kind, commune, district) = self.community_parts(c);
                let head = if kind == 0 {
                    "Hợp tác xã Dịch vụ nông nghiệp xã"
                } else {
                    "Trạm Y tế xã"
                };
                format!("{head} {}, {district}", COMMUNES[commune])
            }
            Some(Extra::School(s)) => {
                format!("Trường Trung học phổ thông {}", self.school_place(s))
            }
        }
    }

    /// The person or place a school is named after.
    fn school_place(&self, s: u64) -> String {
        let s = s as usize;
        match SCHOOL_NAMES.get(s) {
            Some(person) => (*person).to_owned(),
            None => {
                let district = self
                    .districts
                    .get(s - SCHOOL_NAMES.len())
                    .map_or("", String::as_str);
                let place = district.split_once(' ').map_or(district, |(_, rest)| rest);
                place.strip_prefix("xã ").unwrap_or(place).to_owned()
            }
        }
    }

    /// (kind 0 = cooperative / 1 = health station, commune, district) of a community entry.
    fn community_parts(&self, c: u64) -> (u64, usize, &str) {
        let communes = COMMUNES.len() as u64;
        let commune = (c / 2) % communes;
        let district = (c / 2 / communes) as usize % self.districts.len().max(1);
        let district = self.districts.get(district).map_or("", String::as_str);
        (c % 2, commune as usize, district)
    }

    /// The e-mail domain of organization `i`.
    pub(crate) fn domain(&self, i: u64) -> String {
        match self.extra(i) {
            None => self.core[i as usize].domain.clone(),
            Some(Extra::Unit(u)) => self.core[self.units[u].0].domain.clone(),
            Some(Extra::Enterprise(e)) => {
                let (_, sector, brand, _) = enterprise_parts(e);
                format!(
                    "{}{}.com.vn",
                    crate::names::slug(BRANDS[brand]),
                    initials(SECTORS[sector].0).to_lowercase()
                )
            }
            Some(Extra::Community(_)) => "gmail.com".to_owned(),
            Some(Extra::School(_)) => format!("{}.edu.vn", self.slug),
        }
    }

    /// The full record of organization `i`, except its meta.
    pub(crate) fn organization(&self, i: u64, n: u64, id: &dyn Fn(u64) -> String) -> Organization {
        let link = |j: Option<usize>| match j {
            Some(j) if (j as u64) < n => id(j as u64),
            _ => String::new(),
        };
        let agency_code = format!(
            "{:03}.{:02}.{:02}.H{:02}",
            i / 10_000,
            (i / 100) % 100,
            i % 100,
            self.admin_code
        );
        let mut org = Organization {
            meta: None,
            name: self.name(i),
            abbreviation: String::new(),
            organization_type: OrganizationType::Other as i32,
            province: self.province_name.clone(),
            parent_id: String::new(),
            agency_code,
            predecessor_ids: Vec::new(),
            successor_id: String::new(),
        };
        match self.extra(i) {
            None => {
                let c = &self.core[i as usize];
                org.abbreviation = c.abbreviation.clone();
                org.organization_type = c.otype as i32;
                org.province = c.province.clone();
                org.parent_id = link(c.parent);
                org.predecessor_ids = c
                    .predecessors
                    .iter()
                    .filter(|j| (**j as u64) < n)
                    .map(|j| id(*j as u64))
                    .collect();
                org.successor_id = link(c.successor);
                if c.province != self.province_name {
                    org.agency_code = format!("{}.H34", &org.agency_code[..9]);
                }
            }
            Some(Extra::Unit(u)) => {
                let (parent, unit, _) = self.units[u];
                let p = &self.core[parent];
                org.abbreviation = format!("{}-{}", initials(unit), p.abbreviation);
                org.organization_type = p.otype as i32;
                org.parent_id = link(Some(parent));
            }
            Some(Extra::Enterprise(e)) => {
                let (form, _, brand, round) = enterprise_parts(e);
                let mut abbr: String = crate::names::fold(BRANDS[brand])
                    .chars()
                    .filter(char::is_ascii_alphanumeric)
                    .map(|c| c.to_ascii_uppercase())
                    .collect();
                if round > 0 {
                    abbr.push_str(&(round + 1).to_string());
                }
                abbr.push_str(if form == 0 { " CO., LTD" } else { " JSC" });
                org.abbreviation = abbr;
                org.organization_type = OrganizationType::Enterprise as i32;
            }
            Some(Extra::Community(c)) => {
                let (kind, commune, _) = self.community_parts(c);
                let head = if kind == 0 { "HTX" } else { "TYT" };
                org.abbreviation = format!("{head} {}", COMMUNES[commune]);
            }
            Some(Extra::School(s)) => {
                org.abbreviation = format!("THPT {}", self.school_place(s));
            }
        }
        org
    }
}

/// (form, sector, brand, round) of an enterprise index.
fn enterprise_parts(e: u64) -> (u64, usize, usize, u64) {
    let brands = BRANDS.len() as u64;
    let sectors = SECTORS.len() as u64;
    let brand = e % brands;
    let sector = (e / brands) % sectors;
    let form = (e / brands / sectors) % 2;
    let round = e / brands / sectors / 2;
    (form, sector as usize, brand as usize, round)
}

/// Upper-case initials of the words of a name, ignoring lower-case unit words.
pub(crate) fn initials(text: &str) -> String {
    text.split([' ', ','])
        .filter_map(|w| w.chars().next())
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_uppercase)
        .collect()
}

/// Visibility and classification of organization records: public mostly.
pub(crate) fn visibility(roll: u64) -> (Visibility, Classification) {
    let visibility = match roll {
        0..=69 => Visibility::Public,
        70..=97 => Visibility::Federation,
        _ => Visibility::Internal,
    };
    (visibility, Classification::Normal)
}
