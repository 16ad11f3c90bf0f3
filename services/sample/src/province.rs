//! Everything the generators need to know about the province, derived once from the
//! [`ProvinceProfile`](crate::ProvinceProfile).

use crate::ProvinceProfile;
use crate::dice::fnv1a;
use crate::names::{fold, slug};

/// Which built-in flavour of data a profile gets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Flavour {
    /// Hưng Yên, which absorbed Thái Bình on 1 July 2025.
    HungYen,
    /// Nam Định (merged into Ninh Bình on 1 July 2025).
    NamDinh,
    /// Any other province: generic names.
    Custom,
}

/// Derived province data.
#[derive(Clone, Debug)]
pub(crate) struct Province {
    pub(crate) name: String,
    pub(crate) prefix: String,
    /// ASCII name, "Hung Yen".
    pub(crate) ascii: String,
    /// Lower-case ASCII slug, "hungyen".
    pub(crate) slug: String,
    pub(crate) flavour: Flavour,
    /// Administrative code used in agency codes ("H33").
    pub(crate) admin_code: u32,
    /// Districts as written with their unit ("huyện Khoái Châu"), before 2025.
    pub(crate) districts: Vec<String>,
    /// Districts that joined the province in 2025 (Thái Bình's, for Hưng Yên).
    pub(crate) merged_districts: Vec<String>,
}

const HUNG_YEN_DISTRICTS: &[&str] = &[
    "huyện Văn Lâm",
    "huyện Văn Giang",
    "huyện Yên Mỹ",
    "thị xã Mỹ Hào",
    "huyện Ân Thi",
    "huyện Khoái Châu",
    "huyện Kim Động",
    "huyện Tiên Lữ",
    "huyện Phù Cừ",
];

const THAI_BINH_DISTRICTS: &[&str] = &[
    "huyện Đông Hưng",
    "huyện Hưng Hà",
    "huyện Quỳnh Phụ",
    "huyện Thái Thụy",
    "huyện Tiền Hải",
    "huyện Kiến Xương",
    "huyện Vũ Thư",
];

const NAM_DINH_DISTRICTS: &[&str] = &[
    "huyện Vụ Bản",
    "huyện Ý Yên",
    "huyện Nghĩa Hưng",
    "huyện Nam Trực",
    "huyện Trực Ninh",
    "huyện Xuân Trường",
    "huyện Giao Thủy",
    "huyện Hải Hậu",
    "huyện Mỹ Lộc",
];

impl Province {
    pub(crate) fn new(profile: &ProvinceProfile) -> Self {
        let flavour = match profile.node_id.as_str() {
            "hung-yen" => Flavour::HungYen,
            "nam-dinh" => Flavour::NamDinh,
            _ => Flavour::Custom,
        };
        let owned = |list: &[&str]| list.iter().map(|d| (*d).to_owned()).collect::<Vec<_>>();
        let (districts, merged_districts, admin_code) = match flavour {
            Flavour::HungYen => (owned(HUNG_YEN_DISTRICTS), owned(THAI_BINH_DISTRICTS), 33),
            Flavour::NamDinh => (owned(NAM_DINH_DISTRICTS), Vec::new(), 36),
            Flavour::Custom => (
                (1..=8).map(|n| format!("huyện số {n}")).collect(),
                Vec::new(),
                (fnv1a(profile.node_id.as_bytes()) % 90) as u32 + 10,
            ),
        };
        Self {
            name: profile.province_name.clone(),
            prefix: profile.code_prefix.clone(),
            ascii: fold(&profile.province_name),
            slug: slug(&profile.province_name),
            flavour,
            admin_code,
            districts,
            merged_districts,
        }
    }

    /// All districts, original first.
    pub(crate) fn all_districts(&self) -> impl Iterator<Item = &String> {
        self.districts.iter().chain(self.merged_districts.iter())
    }
}
