//! Research fields: Circular 24/2025/TT-BKHCN codes (7 digits; the first 5 digits are
//! the Decision 12/2008/QĐ-BKHCN code still found on older records), and for each
//! sub-field a realistic Vietnamese specialization, keywords, and the phrases from
//! which titles and abstracts are assembled.

/// One sub-field (7-digit code) and the vocabulary that fits it.
pub(crate) struct Subfield {
    /// Circular 24/2025 code, 7 digits.
    pub(crate) code: &'static str,
    /// Chuyên ngành.
    pub(crate) specialization: &'static str,
    /// Vietnamese keywords.
    pub(crate) keywords: &'static [&'static str],
    /// Methods or technologies ("công nghệ nuôi cấy mô …"), used after "ứng dụng".
    pub(crate) methods: &'static [&'static str],
    /// Activities the work serves ("sản xuất lúa chất lượng cao"), used after
    /// "mô hình", "giải pháp", "phục vụ".
    pub(crate) targets: &'static [&'static str],
    /// English keywords.
    pub(crate) en_keywords: &'static [&'static str],
    /// English methods.
    pub(crate) en_methods: &'static [&'static str],
    /// English topics.
    pub(crate) en_targets: &'static [&'static str],
}

impl Subfield {
    /// The Decision 12/2008 (5-digit) form of the code.
    pub(crate) fn legacy_code(&self) -> &'static str {
        &self.code[..5]
    }
}

/// A top-level field (first digit 1–6).
pub(crate) struct Field {
    /// Sub-fields, at least 8.
    pub(crate) subfields: &'static [Subfield],
    /// Vietnamese journals.
    pub(crate) venues_vi: &'static [&'static str],
    /// English-language journals.
    pub(crate) venues_en: &'static [&'static str],
    /// The ministry that manages ministry-level tasks in this field.
    pub(crate) ministry: &'static str,
}

#[allow(clippy::too_many_arguments)]
const fn sf(
    code: &'static str,
    specialization: &'static str,
    keywords: &'static [&'static str],
    methods: &'static [&'static str],
    targets: &'static [&'static str],
    en_keywords: &'static [&'static str],
    en_methods: &'static [&'static str],
    en_targets: &'static [&'static str],
) -> Subfield {
    Subfield {
        code,
        specialization,
        keywords,
        methods,
        targets,
        en_keywords,
        en_methods,
        en_targets,
    }
}

/// The six fields, indexed by `digit - 1`.
pub(crate) const FIELDS: [Field; 6] = [
    Field {
        ministry: "Bộ Giáo dục và Đào tạo",
        venues_vi: &[
            "Tạp chí Khoa học và Công nghệ Việt Nam",
            "Tạp chí Hóa học",
            "Tạp chí Sinh học",
            "Tạp chí Các Khoa học về Trái đất",
            "Tạp chí Khoa học – Đại học Quốc gia Hà Nội",
            "Tạp chí Tin học và Điều khiển học",
        ],
        venues_en: &[
            "Vietnam Journal of Chemistry",
            "Academia Journal of Biology",
            "Vietnam Journal of Earth Sciences",
            "Journal of Computer Science and Cybernetics",
            "Vietnam Journal of Mathematics",
        ],
        subfields: &[
            sf(
                "1010201",
                "Toán ứng dụng",
                &[
                    "mô hình toán học",
                    "tối ưu hóa",
                    "phương trình vi phân",
                    "mô phỏng số",
                    "bài toán ngược",
                ],
                &["mô hình toán học", "phương pháp tối ưu hóa đa mục tiêu"],
                &[
                    "dự báo nhu cầu sử dụng nước",
                    "quy hoạch mạng lưới giao thông nông thôn",
                ],
                &[
                    "mathematical modelling",
                    "optimization",
                    "numerical simulation",
                ],
                &["mathematical modelling", "multi-objective optimization"],
                &["water demand forecasting", "rural road network planning"],
            ),
            sf(
                "1010301",
                "Thống kê ứng dụng",
                &[
                    "thống kê",
                    "phân tích dữ liệu",
                    "mô hình hồi quy",
                    "điều tra chọn mẫu",
                ],
                &[
                    "phương pháp thống kê nhiều chiều",
                    "mô hình hồi quy đa biến",
                ],
                &[
                    "dự báo dân số và nguồn lao động",
                    "điều tra năng suất cây trồng",
                ],
                &["statistics", "regression analysis", "survey sampling"],
                &["multivariate statistics", "regression modelling"],
                &["population and labour forecasting", "crop yield surveys"],
            ),
            sf(
                "1020101",
                "Khoa học máy tính",
                &[
                    "học máy",
                    "trí tuệ nhân tạo",
                    "học sâu",
                    "thị giác máy tính",
                    "xử lý ngôn ngữ tự nhiên",
                ],
                &["công nghệ học sâu", "công nghệ trí tuệ nhân tạo"],
                &[
                    "nhận dạng sâu bệnh hại cây trồng qua ảnh",
                    "xử lý văn bản hành chính tiếng Việt",
                ],
                &["machine learning", "deep learning", "computer vision"],
                &["deep learning", "convolutional neural networks"],
                &[
                    "crop pest recognition from images",
                    "Vietnamese text processing",
                ],
            ),
            sf(
                "1020201",
                "Hệ thống thông tin",
                &[
                    "cơ sở dữ liệu",
                    "hệ thống thông tin địa lý",
                    "chuyển đổi số",
                    "dữ liệu mở",
                    "liên thông dữ liệu",
                ],
                &["công nghệ GIS", "công nghệ điện toán đám mây"],
                &[
                    "quản lý cơ sở dữ liệu khoa học và công nghệ",
                    "quản lý đất đai và quy hoạch",
                ],
                &["information systems", "GIS", "digital transformation"],
                &["geographic information systems", "cloud computing"],
                &[
                    "science and technology data management",
                    "land administration",
                ],
            ),
            sf(
                "1030301",
                "Vật lý chất rắn",
                &[
                    "vật liệu nano",
                    "màng mỏng",
                    "tính chất quang",
                    "phổ Raman",
                    "quang xúc tác",
                ],
                &["phương pháp phún xạ catốt", "phương pháp sol-gel"],
                &[
                    "chế tạo màng mỏng quang xúc tác",
                    "chế tạo vật liệu phát quang",
                ],
                &["nanomaterials", "thin films", "photocatalysis"],
                &["magnetron sputtering", "the sol-gel method"],
                &["photocatalytic thin films", "luminescent materials"],
            ),
            sf(
                "1040101",
                "Hóa phân tích",
                &[
                    "hóa phân tích",
                    "kim loại nặng",
                    "sắc ký",
                    "quang phổ hấp thụ nguyên tử",
                    "dư lượng thuốc bảo vệ thực vật",
                ],
                &[
                    "phương pháp sắc ký lỏng hiệu năng cao",
                    "phương pháp quang phổ hấp thụ nguyên tử",
                ],
                &[
                    "xác định dư lượng thuốc bảo vệ thực vật trong rau",
                    "phân tích kim loại nặng trong nước sinh hoạt",
                ],
                &["analytical chemistry", "heavy metals", "HPLC"],
                &[
                    "high-performance liquid chromatography",
                    "atomic absorption spectrometry",
                ],
                &[
                    "pesticide residues in vegetables",
                    "heavy metals in drinking water",
                ],
            ),
            sf(
                "1040301",
                "Hóa học các hợp chất thiên nhiên",
                &[
                    "hợp chất thiên nhiên",
                    "tinh dầu",
                    "hoạt tính sinh học",
                    "chiết xuất",
                    "dược liệu",
                ],
                &[
                    "công nghệ chiết xuất siêu tới hạn",
                    "phương pháp phân lập hợp chất thiên nhiên",
                ],
                &[
                    "khai thác tinh dầu từ cây dược liệu",
                    "chiết xuất hoạt chất từ long nhãn",
                ],
                &["natural products", "essential oils", "bioactivity"],
                &["supercritical extraction", "natural product isolation"],
                &[
                    "essential oils from medicinal plants",
                    "bioactive compounds from dried longan",
                ],
            ),
            sf(
                "1050701",
                "Khoa học môi trường",
                &[
                    "ô nhiễm môi trường",
                    "chất lượng nước",
                    "quan trắc môi trường",
                    "biến đổi khí hậu",
                    "viễn thám",
                ],
                &["công nghệ quan trắc tự động", "công nghệ viễn thám"],
                &[
                    "giám sát chất lượng nước mặt lưu vực sông",
                    "đánh giá ô nhiễm không khí khu công nghiệp",
                ],
                &[
                    "environmental monitoring",
                    "water quality",
                    "remote sensing",
                ],
                &["automatic monitoring", "satellite remote sensing"],
                &["surface water quality", "air pollution in industrial zones"],
            ),
            sf(
                "1060401",
                "Vi sinh vật học",
                &[
                    "vi sinh vật",
                    "chế phẩm sinh học",
                    "nấm men",
                    "vi khuẩn có ích",
                    "lên men",
                ],
                &[
                    "công nghệ tuyển chọn chủng vi sinh vật",
                    "công nghệ lên men",
                ],
                &[
                    "sản xuất chế phẩm vi sinh xử lý phụ phẩm nông nghiệp",
                    "xử lý rác thải hữu cơ tại hộ gia đình",
                ],
                &["microbiology", "probiotics", "fermentation"],
                &["microbial strain screening", "fermentation technology"],
                &[
                    "treatment of agricultural by-products",
                    "household organic waste treatment",
                ],
            ),
            sf(
                "1060901",
                "Sinh thái học",
                &[
                    "đa dạng sinh học",
                    "sinh thái học",
                    "bảo tồn",
                    "đất ngập nước",
                    "mã vạch ADN",
                ],
                &[
                    "phương pháp điều tra đa dạng sinh học",
                    "công nghệ mã vạch ADN",
                ],
                &[
                    "bảo tồn hệ sinh thái đất ngập nước",
                    "đánh giá đa dạng các loài cá nước ngọt",
                ],
                &["biodiversity", "ecology", "DNA barcoding"],
                &["biodiversity surveys", "DNA barcoding"],
                &["wetland conservation", "freshwater fish diversity"],
            ),
        ],
    },
    Field {
        ministry: "Bộ Công Thương",
        venues_vi: &[
            "Tạp chí Khoa học và Công nghệ Việt Nam",
            "Tạp chí Cơ khí Việt Nam",
            "Tạp chí Xây dựng",
            "Tạp chí Khoa học Công nghệ Xây dựng",
            "Tạp chí Công Thương",
            "Tạp chí Khoa học và Công nghệ – Đại học Đà Nẵng",
        ],
        venues_en: &[
            "Vietnam Journal of Science, Technology and Engineering",
            "Journal of Science and Technology in Civil Engineering",
            "Vietnam Journal of Science and Technology",
            "International Journal of Mechanical Engineering and Robotics Research",
        ],
        subfields: &[
            sf(
                "2010101",
                "Kỹ thuật xây dựng",
                &[
                    "kết cấu bê tông",
                    "vật liệu xây dựng",
                    "nền móng",
                    "công trình dân dụng",
                    "đất yếu",
                ],
                &[
                    "công nghệ bê tông cường độ cao",
                    "công nghệ gia cố nền đất yếu",
                ],
                &["xây dựng đường giao thông nông thôn", "gia cố đê điều"],
                &["civil engineering", "high-strength concrete", "soft soil"],
                &["high-strength concrete", "soft soil improvement"],
                &["rural road construction", "dyke reinforcement"],
            ),
            sf(
                "2010401",
                "Kỹ thuật thủy lợi",
                &[
                    "thủy lợi",
                    "tưới tiêu",
                    "công trình thủy lợi",
                    "quản lý nước",
                    "trạm bơm",
                ],
                &[
                    "công nghệ tưới tiết kiệm nước",
                    "công nghệ điều khiển tự động trạm bơm",
                ],
                &[
                    "vận hành hệ thống thủy nông liên huyện",
                    "tiêu úng cho vùng trũng",
                ],
                &["irrigation", "water management", "pumping stations"],
                &["water-saving irrigation", "automatic pump control"],
                &["irrigation system operation", "drainage of low-lying areas"],
            ),
            sf(
                "2020201",
                "Kỹ thuật điện",
                &[
                    "hệ thống điện",
                    "năng lượng tái tạo",
                    "điện mặt trời",
                    "tiết kiệm năng lượng",
                    "lưới điện thông minh",
                ],
                &[
                    "công nghệ điện mặt trời áp mái",
                    "công nghệ lưới điện thông minh",
                ],
                &[
                    "sử dụng năng lượng tiết kiệm và hiệu quả",
                    "cung cấp điện cho trang trại chăn nuôi",
                ],
                &["power systems", "renewable energy", "solar power"],
                &["rooftop solar power", "smart grid technology"],
                &[
                    "energy efficiency",
                    "electricity supply for livestock farms",
                ],
            ),
            sf(
                "2020301",
                "Kỹ thuật điện tử",
                &[
                    "Internet vạn vật",
                    "cảm biến",
                    "vi điều khiển",
                    "hệ thống nhúng",
                    "truyền thông không dây",
                ],
                &[
                    "công nghệ Internet vạn vật (IoT)",
                    "công nghệ cảm biến không dây",
                ],
                &[
                    "giám sát môi trường nhà màng",
                    "quản lý hệ thống chiếu sáng công cộng",
                ],
                &["Internet of Things", "wireless sensors", "embedded systems"],
                &["Internet of Things", "wireless sensor networks"],
                &["greenhouse monitoring", "public lighting management"],
            ),
            sf(
                "2020601",
                "Kỹ thuật điều khiển và tự động hóa",
                &[
                    "tự động hóa",
                    "điều khiển",
                    "robot",
                    "PLC",
                    "dây chuyền sản xuất",
                ],
                &[
                    "công nghệ điều khiển tự động",
                    "công nghệ robot công nghiệp",
                ],
                &[
                    "tự động hóa dây chuyền chế biến nông sản",
                    "sản xuất linh kiện cơ khí",
                ],
                &["automation", "control engineering", "robotics"],
                &["automatic control", "industrial robots"],
                &[
                    "agricultural processing lines",
                    "mechanical parts manufacturing",
                ],
            ),
            sf(
                "2030101",
                "Kỹ thuật cơ khí",
                &[
                    "cơ khí chế tạo",
                    "gia công CNC",
                    "máy nông nghiệp",
                    "thiết kế cơ khí",
                    "cơ giới hóa",
                ],
                &["công nghệ gia công CNC", "công nghệ hàn tự động"],
                &["chế tạo máy sấy nông sản", "cơ giới hóa khâu gieo cấy lúa"],
                &[
                    "mechanical engineering",
                    "CNC machining",
                    "agricultural machinery",
                ],
                &["CNC machining", "automatic welding"],
                &["agricultural dryers", "mechanised rice transplanting"],
            ),
            sf(
                "2050201",
                "Kỹ thuật vật liệu",
                &[
                    "vật liệu composite",
                    "vật liệu polyme",
                    "gạch không nung",
                    "tro xỉ",
                    "vật liệu cách nhiệt",
                ],
                &["công nghệ vật liệu composite", "công nghệ ép rung"],
                &[
                    "sản xuất gạch không nung từ tro xỉ",
                    "chế tạo vật liệu cách nhiệt",
                ],
                &["composites", "unfired bricks", "fly ash"],
                &["composite materials", "vibro-compaction"],
                &[
                    "unfired bricks from fly ash",
                    "thermal insulation materials",
                ],
            ),
            sf(
                "2070101",
                "Kỹ thuật môi trường",
                &[
                    "xử lý nước thải",
                    "chất thải rắn",
                    "công nghệ môi trường",
                    "làng nghề",
                    "màng sinh học",
                ],
                &[
                    "công nghệ xử lý nước thải bằng màng sinh học",
                    "công nghệ đốt chất thải rắn",
                ],
                &[
                    "xử lý nước thải làng nghề",
                    "xử lý chất thải rắn sinh hoạt nông thôn",
                ],
                &["wastewater treatment", "solid waste", "craft villages"],
                &["biofilm wastewater treatment", "solid waste incineration"],
                &["craft village wastewater", "rural household waste"],
            ),
            sf(
                "2110101",
                "Công nghệ thực phẩm",
                &[
                    "chế biến thực phẩm",
                    "bảo quản sau thu hoạch",
                    "an toàn thực phẩm",
                    "sấy thăng hoa",
                    "truy xuất nguồn gốc",
                ],
                &["công nghệ sấy thăng hoa", "công nghệ bảo quản lạnh"],
                &["chế biến long nhãn", "bảo quản quả nhãn tươi"],
                &[
                    "food technology",
                    "post-harvest preservation",
                    "food safety",
                ],
                &["freeze-drying", "cold storage"],
                &["dried longan processing", "fresh longan preservation"],
            ),
        ],
    },
    Field {
        ministry: "Bộ Y tế",
        venues_vi: &[
            "Tạp chí Y học Việt Nam",
            "Tạp chí Y học Dự phòng",
            "Tạp chí Nghiên cứu Y học",
            "Tạp chí Dược học",
            "Tạp chí Y Dược học Cổ truyền Việt Nam",
            "Tạp chí Y học Cộng đồng",
        ],
        venues_en: &[
            "Vietnam Medical Journal",
            "Journal of Preventive Medicine",
            "Asian Pacific Journal of Tropical Medicine",
            "Tropical Medicine and Health",
        ],
        subfields: &[
            sf(
                "3020101",
                "Nội khoa",
                &[
                    "tăng huyết áp",
                    "đái tháo đường",
                    "bệnh tim mạch",
                    "nội khoa",
                    "bệnh không lây nhiễm",
                ],
                &[
                    "phác đồ điều trị tích hợp",
                    "kỹ thuật theo dõi huyết áp liên tục",
                ],
                &[
                    "quản lý bệnh nhân tăng huyết áp tại tuyến y tế cơ sở",
                    "điều trị đái tháo đường type 2",
                ],
                &["hypertension", "type 2 diabetes", "cardiovascular disease"],
                &[
                    "integrated treatment protocols",
                    "ambulatory blood pressure monitoring",
                ],
                &[
                    "hypertension management in primary care",
                    "type 2 diabetes treatment",
                ],
            ),
            sf(
                "3020201",
                "Ngoại khoa",
                &[
                    "phẫu thuật nội soi",
                    "ngoại khoa",
                    "chấn thương chỉnh hình",
                    "gây mê hồi sức",
                ],
                &["kỹ thuật phẫu thuật nội soi", "kỹ thuật gây tê vùng"],
                &["điều trị sỏi đường mật", "điều trị gãy xương chi dưới"],
                &["laparoscopic surgery", "orthopaedics", "anaesthesia"],
                &["laparoscopic surgery", "regional anaesthesia"],
                &["biliary stone treatment", "lower-limb fracture treatment"],
            ),
            sf(
                "3020301",
                "Sản phụ khoa",
                &[
                    "sản khoa",
                    "chăm sóc trước sinh",
                    "sức khỏe sinh sản",
                    "sàng lọc trước sinh",
                ],
                &["kỹ thuật sàng lọc trước sinh", "kỹ thuật hỗ trợ sinh sản"],
                &[
                    "chăm sóc sức khỏe bà mẹ và trẻ sơ sinh",
                    "sàng lọc trước sinh và sơ sinh",
                ],
                &["obstetrics", "prenatal screening", "reproductive health"],
                &["prenatal screening", "assisted reproduction"],
                &[
                    "maternal and newborn care",
                    "prenatal and newborn screening",
                ],
            ),
            sf(
                "3020401",
                "Nhi khoa",
                &[
                    "nhi khoa",
                    "suy dinh dưỡng",
                    "viêm phổi trẻ em",
                    "tiêm chủng",
                ],
                &[
                    "phác đồ dinh dưỡng cộng đồng",
                    "kỹ thuật thở máy không xâm nhập",
                ],
                &[
                    "phòng chống suy dinh dưỡng trẻ em dưới 5 tuổi",
                    "điều trị viêm phổi ở trẻ em",
                ],
                &["paediatrics", "malnutrition", "childhood pneumonia"],
                &["community nutrition programmes", "non-invasive ventilation"],
                &[
                    "malnutrition in children under five",
                    "childhood pneumonia treatment",
                ],
            ),
            sf(
                "3030101",
                "Y tế công cộng",
                &[
                    "y tế công cộng",
                    "dịch tễ học",
                    "phòng chống dịch",
                    "sức khỏe cộng đồng",
                    "sốt xuất huyết",
                ],
                &[
                    "phương pháp dịch tễ học phân tích",
                    "công nghệ giám sát dịch bệnh trực tuyến",
                ],
                &[
                    "phòng chống sốt xuất huyết",
                    "quản lý bệnh không lây nhiễm tại cộng đồng",
                ],
                &["public health", "epidemiology", "dengue"],
                &["analytical epidemiology", "online disease surveillance"],
                &[
                    "dengue prevention",
                    "community management of non-communicable diseases",
                ],
            ),
            sf(
                "3040101",
                "Dược học",
                &[
                    "dược liệu",
                    "bào chế",
                    "kiểm nghiệm thuốc",
                    "dược lâm sàng",
                    "thực phẩm chức năng",
                ],
                &[
                    "công nghệ bào chế viên nang",
                    "công nghệ chiết xuất dược liệu",
                ],
                &[
                    "phát triển sản phẩm từ dược liệu địa phương",
                    "kiểm nghiệm chất lượng thuốc",
                ],
                &["pharmacy", "medicinal plants", "drug quality control"],
                &["capsule formulation", "herbal extraction"],
                &[
                    "products from local medicinal plants",
                    "drug quality testing",
                ],
            ),
            sf(
                "3020901",
                "Y học cổ truyền",
                &[
                    "y học cổ truyền",
                    "châm cứu",
                    "bài thuốc dân gian",
                    "thuốc nam",
                    "phục hồi chức năng",
                ],
                &[
                    "phương pháp châm cứu kết hợp xoa bóp bấm huyệt",
                    "bài thuốc y học cổ truyền",
                ],
                &[
                    "phục hồi chức năng sau tai biến mạch máu não",
                    "điều trị đau cột sống thắt lưng",
                ],
                &["traditional medicine", "acupuncture", "rehabilitation"],
                &[
                    "acupuncture with acupressure",
                    "traditional herbal remedies",
                ],
                &["post-stroke rehabilitation", "low back pain"],
            ),
            sf(
                "3050101",
                "Công nghệ sinh học trong y học",
                &[
                    "sinh học phân tử",
                    "xét nghiệm gen",
                    "PCR",
                    "tế bào gốc",
                    "chẩn đoán sớm",
                ],
                &[
                    "kỹ thuật PCR thời gian thực",
                    "kỹ thuật giải trình tự gen thế hệ mới",
                ],
                &[
                    "chẩn đoán sớm ung thư",
                    "phát hiện tác nhân gây bệnh truyền nhiễm",
                ],
                &["molecular diagnostics", "real-time PCR", "gene sequencing"],
                &["real-time PCR", "next-generation sequencing"],
                &[
                    "early cancer diagnosis",
                    "detection of infectious pathogens",
                ],
            ),
            sf(
                "3020701",
                "Chẩn đoán hình ảnh",
                &[
                    "chẩn đoán hình ảnh",
                    "siêu âm",
                    "cắt lớp vi tính",
                    "cộng hưởng từ",
                ],
                &[
                    "kỹ thuật chụp cắt lớp vi tính đa dãy",
                    "trí tuệ nhân tạo hỗ trợ đọc phim X-quang",
                ],
                &[
                    "chẩn đoán ung thư phổi giai đoạn sớm",
                    "tầm soát bệnh lý gan mật",
                ],
                &["medical imaging", "computed tomography", "ultrasound"],
                &[
                    "multi-slice computed tomography",
                    "AI-assisted radiograph reading",
                ],
                &["early lung cancer diagnosis", "hepatobiliary screening"],
            ),
        ],
    },
    Field {
        ministry: "Bộ Nông nghiệp và Phát triển nông thôn",
        venues_vi: &[
            "Tạp chí Khoa học Nông nghiệp Việt Nam",
            "Tạp chí Nông nghiệp và Phát triển nông thôn",
            "Tạp chí Khoa học Kỹ thuật Chăn nuôi",
            "Tạp chí Bảo vệ thực vật",
            "Tạp chí Khoa học Kỹ thuật Thú y",
            "Tạp chí Khoa học Công nghệ Nông nghiệp Việt Nam",
        ],
        venues_en: &[
            "Vietnam Journal of Agricultural Sciences",
            "Journal of Vietnamese Environment",
            "Asian Journal of Agriculture and Biology",
            "Tropical Animal Health and Production",
        ],
        subfields: &[
            sf(
                "4010301",
                "Chọn tạo giống lúa",
                &[
                    "giống lúa",
                    "lúa chất lượng cao",
                    "chọn tạo giống",
                    "năng suất",
                    "lúa thơm",
                ],
                &[
                    "công nghệ chỉ thị phân tử",
                    "phương pháp lai tạo truyền thống",
                ],
                &["sản xuất lúa chất lượng cao", "phát triển giống lúa thơm"],
                &[
                    "rice breeding",
                    "marker-assisted selection",
                    "grain quality",
                ],
                &["marker-assisted selection", "conventional hybridisation"],
                &["high-quality rice production", "aromatic rice varieties"],
            ),
            sf(
                "4010302",
                "Nghiên cứu lúa lai",
                &[
                    "lúa lai",
                    "ưu thế lai",
                    "dòng bất dục",
                    "sản xuất hạt giống",
                ],
                &[
                    "công nghệ lúa lai hai dòng",
                    "kỹ thuật sản xuất hạt giống F1",
                ],
                &["sản xuất hạt giống lúa lai F1", "mở rộng diện tích lúa lai"],
                &["hybrid rice", "heterosis", "seed production"],
                &[
                    "two-line hybrid rice technology",
                    "F1 seed production techniques",
                ],
                &["F1 hybrid rice seed production", "hybrid rice adoption"],
            ),
            sf(
                "4010401",
                "Cây ăn quả",
                &["cây ăn quả", "nhãn lồng", "bưởi", "ghép cải tạo", "VietGAP"],
                &["kỹ thuật ghép cải tạo", "kỹ thuật xử lý ra hoa trái vụ"],
                &[
                    "sản xuất nhãn theo tiêu chuẩn VietGAP",
                    "thâm canh cây có múi",
                ],
                &["fruit trees", "longan", "grafting"],
                &["top-working by grafting", "off-season flower induction"],
                &["VietGAP longan production", "citrus intensification"],
            ),
            sf(
                "4010402",
                "Rau, hoa và cây cảnh",
                &[
                    "rau an toàn",
                    "hoa cây cảnh",
                    "nhà màng",
                    "thủy canh",
                    "nông nghiệp công nghệ cao",
                ],
                &["công nghệ nhà màng", "công nghệ thủy canh hồi lưu"],
                &["sản xuất rau an toàn", "trồng hoa lan hồ điệp"],
                &["safe vegetables", "ornamental flowers", "hydroponics"],
                &["net-house cultivation", "recirculating hydroponics"],
                &[
                    "safe vegetable production",
                    "Phalaenopsis orchid cultivation",
                ],
            ),
            sf(
                "4010601",
                "Bảo vệ thực vật",
                &[
                    "bảo vệ thực vật",
                    "sâu bệnh hại",
                    "quản lý dịch hại tổng hợp",
                    "thuốc sinh học",
                    "Trichoderma",
                ],
                &[
                    "biện pháp quản lý dịch hại tổng hợp (IPM)",
                    "chế phẩm sinh học Trichoderma",
                ],
                &[
                    "phòng trừ sâu bệnh hại trên cây lúa",
                    "phòng trừ bệnh hại cây ăn quả",
                ],
                &[
                    "plant protection",
                    "integrated pest management",
                    "biopesticides",
                ],
                &["integrated pest management", "Trichoderma biopreparations"],
                &["rice pest control", "fruit tree disease control"],
            ),
            sf(
                "4010101",
                "Nông hóa thổ nhưỡng",
                &[
                    "thổ nhưỡng",
                    "phân bón",
                    "độ phì đất",
                    "dinh dưỡng cây trồng",
                    "phân hữu cơ vi sinh",
                ],
                &[
                    "công nghệ phân bón nhả chậm",
                    "phương pháp bón phân cân đối",
                ],
                &["cải tạo đất trồng màu", "sử dụng phân hữu cơ vi sinh"],
                &["soil science", "fertilisers", "soil fertility"],
                &["slow-release fertilisers", "balanced fertilisation"],
                &[
                    "upland soil improvement",
                    "microbial organic fertiliser use",
                ],
            ),
            sf(
                "4020101",
                "Chăn nuôi",
                &[
                    "chăn nuôi",
                    "giống lợn",
                    "gà đặc sản",
                    "thức ăn chăn nuôi",
                    "đệm lót sinh học",
                ],
                &["công nghệ đệm lót sinh học", "công nghệ thụ tinh nhân tạo"],
                &["chăn nuôi gà đặc sản", "chăn nuôi lợn an toàn sinh học"],
                &["animal husbandry", "pig breeding", "indigenous chicken"],
                &["bio-bedding technology", "artificial insemination"],
                &["indigenous chicken farming", "biosecure pig farming"],
            ),
            sf(
                "4030101",
                "Chăn nuôi thú y",
                &[
                    "thú y",
                    "dịch tả lợn châu Phi",
                    "vắc xin",
                    "phòng bệnh gia súc",
                    "cúm gia cầm",
                ],
                &["kỹ thuật chẩn đoán nhanh", "vắc xin thế hệ mới"],
                &["phòng chống dịch tả lợn châu Phi", "phòng bệnh cúm gia cầm"],
                &["veterinary medicine", "African swine fever", "vaccines"],
                &["rapid diagnostic tests", "new-generation vaccines"],
                &["African swine fever control", "avian influenza prevention"],
            ),
            sf(
                "4050101",
                "Nuôi trồng thủy sản",
                &[
                    "thủy sản",
                    "nuôi cá nước ngọt",
                    "nuôi tôm",
                    "ao nuôi",
                    "tuần hoàn nước",
                ],
                &[
                    "công nghệ nuôi cá trong ao nổi",
                    "công nghệ nuôi tuần hoàn (RAS)",
                ],
                &["nuôi cá chép lai", "nuôi tôm thẻ chân trắng"],
                &["aquaculture", "freshwater fish", "shrimp farming"],
                &[
                    "in-pond raceway systems",
                    "recirculating aquaculture systems",
                ],
                &["hybrid carp farming", "whiteleg shrimp farming"],
            ),
            sf(
                "4060101",
                "Công nghệ sinh học nông nghiệp",
                &[
                    "nuôi cấy mô",
                    "công nghệ sinh học",
                    "nhân giống in vitro",
                    "nấm ăn",
                    "nấm dược liệu",
                ],
                &["công nghệ nuôi cấy mô tế bào thực vật", "công nghệ vi sinh"],
                &[
                    "nhân giống cây hoa chất lượng cao",
                    "sản xuất nấm ăn và nấm dược liệu",
                ],
                &["plant tissue culture", "micropropagation", "mushrooms"],
                &["plant tissue culture", "microbial technology"],
                &[
                    "flower micropropagation",
                    "edible and medicinal mushroom production",
                ],
            ),
        ],
    },
    Field {
        ministry: "Bộ Giáo dục và Đào tạo",
        venues_vi: &[
            "Tạp chí Kinh tế và Phát triển",
            "Tạp chí Nghiên cứu Kinh tế",
            "Tạp chí Giáo dục",
            "Tạp chí Xã hội học",
            "Tạp chí Nhà nước và Pháp luật",
            "Tạp chí Tài chính",
            "Tạp chí Quản lý Nhà nước",
        ],
        venues_en: &[
            "VNU Journal of Science: Economics and Business",
            "Vietnam Social Sciences",
            "Journal of Economics and Development",
            "Vietnam Journal of Education",
        ],
        subfields: &[
            sf(
                "5020101",
                "Kinh tế phát triển",
                &[
                    "kinh tế nông thôn",
                    "tăng trưởng kinh tế",
                    "chuyển dịch cơ cấu",
                    "nông thôn mới",
                    "chuỗi giá trị",
                ],
                &[
                    "phương pháp phân tích chuỗi giá trị",
                    "mô hình kinh tế lượng",
                ],
                &[
                    "phát triển kinh tế nông thôn",
                    "xây dựng nông thôn mới nâng cao",
                ],
                &["development economics", "value chains", "rural economy"],
                &["value chain analysis", "econometric modelling"],
                &[
                    "rural economic development",
                    "the New Rural Development programme",
                ],
            ),
            sf(
                "5020201",
                "Quản trị kinh doanh",
                &[
                    "doanh nghiệp nhỏ và vừa",
                    "khởi nghiệp",
                    "đổi mới sáng tạo",
                    "quản trị",
                    "năng lực cạnh tranh",
                ],
                &["mô hình quản trị tinh gọn", "phương pháp thẻ điểm cân bằng"],
                &[
                    "hỗ trợ khởi nghiệp đổi mới sáng tạo",
                    "nâng cao năng lực cạnh tranh của doanh nghiệp nhỏ và vừa",
                ],
                &["SMEs", "start-ups", "innovation"],
                &["lean management", "the balanced scorecard"],
                &["innovative start-up support", "SME competitiveness"],
            ),
            sf(
                "5020301",
                "Tài chính – Ngân hàng",
                &[
                    "tài chính",
                    "tín dụng nông nghiệp",
                    "ngân hàng",
                    "tài chính vi mô",
                    "ngân sách",
                ],
                &[
                    "mô hình tài chính vi mô",
                    "phương pháp đánh giá rủi ro tín dụng",
                ],
                &[
                    "phát triển tín dụng nông nghiệp",
                    "quản lý ngân sách cấp xã",
                ],
                &["finance", "agricultural credit", "microfinance"],
                &["microfinance models", "credit risk assessment"],
                &["agricultural credit", "commune budget management"],
            ),
            sf(
                "5030101",
                "Khoa học giáo dục",
                &[
                    "giáo dục",
                    "đổi mới phương pháp dạy học",
                    "giáo dục STEM",
                    "chuyển đổi số trong giáo dục",
                ],
                &["phương pháp dạy học tích cực", "mô hình giáo dục STEM"],
                &[
                    "nâng cao chất lượng giáo dục phổ thông",
                    "đào tạo nghề cho lao động nông thôn",
                ],
                &["education", "STEM education", "teaching methods"],
                &["active learning", "STEM education models"],
                &[
                    "general education quality",
                    "vocational training for rural workers",
                ],
            ),
            sf(
                "5040101",
                "Xã hội học",
                &[
                    "xã hội học",
                    "di cư lao động",
                    "an sinh xã hội",
                    "gia đình",
                    "người cao tuổi",
                ],
                &[
                    "phương pháp điều tra xã hội học",
                    "phương pháp nghiên cứu định tính",
                ],
                &[
                    "bảo đảm an sinh xã hội cho người cao tuổi",
                    "quản lý di cư lao động nông thôn – đô thị",
                ],
                &["sociology", "labour migration", "social security"],
                &["sociological surveys", "qualitative research"],
                &[
                    "social security for older people",
                    "rural–urban labour migration",
                ],
            ),
            sf(
                "5050101",
                "Luật học",
                &[
                    "pháp luật",
                    "cải cách hành chính",
                    "quản lý nhà nước",
                    "thực thi pháp luật",
                ],
                &[
                    "phương pháp đánh giá tác động chính sách",
                    "mô hình một cửa liên thông",
                ],
                &[
                    "cải cách thủ tục hành chính",
                    "thực thi pháp luật về đất đai",
                ],
                &["law", "administrative reform", "public administration"],
                &["regulatory impact assessment", "one-stop-shop models"],
                &["administrative procedure reform", "land law enforcement"],
            ),
            sf(
                "5070101",
                "Địa lý kinh tế – xã hội",
                &["quy hoạch", "đô thị hóa", "sử dụng đất", "phát triển vùng"],
                &[
                    "công nghệ GIS trong quy hoạch",
                    "phương pháp phân tích không gian",
                ],
                &[
                    "quy hoạch phát triển đô thị",
                    "chuyển đổi mục đích sử dụng đất nông nghiệp",
                ],
                &["urbanisation", "land use", "regional development"],
                &["GIS-based planning", "spatial analysis"],
                &["urban development planning", "agricultural land conversion"],
            ),
            sf(
                "5080101",
                "Báo chí và truyền thông",
                &[
                    "truyền thông",
                    "báo chí",
                    "mạng xã hội",
                    "truyền thông chính sách",
                ],
                &[
                    "phương pháp truyền thông đa phương tiện",
                    "nền tảng mạng xã hội",
                ],
                &[
                    "truyền thông chính sách khoa học và công nghệ",
                    "phổ biến kiến thức khoa học cho nông dân",
                ],
                &["communication", "journalism", "social media"],
                &["multimedia communication", "social media platforms"],
                &[
                    "science policy communication",
                    "science outreach to farmers",
                ],
            ),
            sf(
                "5010101",
                "Tâm lý học",
                &[
                    "tâm lý học",
                    "sức khỏe tâm thần",
                    "tâm lý học đường",
                    "tư vấn tâm lý",
                ],
                &[
                    "mô hình tư vấn tâm lý học đường",
                    "phương pháp trắc nghiệm tâm lý",
                ],
                &[
                    "chăm sóc sức khỏe tâm thần cho học sinh",
                    "hỗ trợ tâm lý cho người lao động",
                ],
                &["psychology", "mental health", "school counselling"],
                &["school counselling models", "psychometric testing"],
                &["student mental health", "psychological support for workers"],
            ),
        ],
    },
    Field {
        ministry: "Bộ Văn hóa, Thể thao và Du lịch",
        venues_vi: &[
            "Tạp chí Nghiên cứu Lịch sử",
            "Tạp chí Ngôn ngữ",
            "Tạp chí Văn hóa Nghệ thuật",
            "Tạp chí Triết học",
            "Tạp chí Khảo cổ học",
            "Tạp chí Nghiên cứu Văn học",
            "Tạp chí Di sản Văn hóa",
        ],
        venues_en: &[
            "Vietnam Social Sciences",
            "Journal of Vietnamese Studies",
            "Asian Ethnicity",
        ],
        subfields: &[
            sf(
                "6010101",
                "Lịch sử Việt Nam",
                &[
                    "lịch sử địa phương",
                    "di tích lịch sử",
                    "tư liệu lịch sử",
                    "thương cảng cổ",
                ],
                &["phương pháp sử học", "phương pháp điền dã"],
                &[
                    "biên soạn lịch sử địa phương",
                    "bảo tồn di tích lịch sử cách mạng",
                ],
                &["local history", "historical sites", "archival sources"],
                &["historical methods", "fieldwork"],
                &["local history writing", "revolutionary heritage sites"],
            ),
            sf(
                "6010201",
                "Khảo cổ học",
                &["khảo cổ học", "di chỉ", "hiện vật", "khai quật"],
                &["phương pháp khai quật khảo cổ", "công nghệ quét ba chiều"],
                &[
                    "khai quật và bảo tồn di chỉ khảo cổ",
                    "số hóa hiện vật bảo tàng",
                ],
                &["archaeology", "excavation", "artefacts"],
                &["archaeological excavation", "3D scanning"],
                &[
                    "site excavation and conservation",
                    "museum artefact digitisation",
                ],
            ),
            sf(
                "6020101",
                "Ngôn ngữ học",
                &[
                    "ngôn ngữ học",
                    "tiếng Việt",
                    "phương ngữ",
                    "từ vựng",
                    "chữ Nôm",
                ],
                &[
                    "phương pháp ngữ liệu học",
                    "công nghệ số hóa văn bản Hán Nôm",
                ],
                &["bảo tồn phương ngữ địa phương", "số hóa tư liệu Hán Nôm"],
                &["linguistics", "Vietnamese", "dialects"],
                &["corpus linguistics", "Sino-Nom text digitisation"],
                &[
                    "local dialect preservation",
                    "Sino-Nom document digitisation",
                ],
            ),
            sf(
                "6020201",
                "Văn học Việt Nam",
                &[
                    "văn học dân gian",
                    "ca dao",
                    "tục ngữ",
                    "văn học địa phương",
                ],
                &[
                    "phương pháp sưu tầm văn học dân gian",
                    "phương pháp nghiên cứu liên ngành",
                ],
                &[
                    "sưu tầm và phát huy văn học dân gian",
                    "giới thiệu tác giả văn học quê hương",
                ],
                &[
                    "folk literature",
                    "Vietnamese literature",
                    "oral traditions",
                ],
                &["folklore collection", "interdisciplinary methods"],
                &["folk literature collection", "local literary heritage"],
            ),
            sf(
                "6030101",
                "Triết học",
                &[
                    "triết học",
                    "đạo đức",
                    "tư tưởng Hồ Chí Minh",
                    "văn hóa ứng xử",
                ],
                &[
                    "phương pháp tiếp cận liên ngành",
                    "mô hình giáo dục giá trị",
                ],
                &[
                    "xây dựng văn hóa ứng xử nơi công sở",
                    "giáo dục đạo đức cho thanh niên",
                ],
                &["philosophy", "ethics", "civic values"],
                &["interdisciplinary approaches", "values education"],
                &["workplace conduct", "youth moral education"],
            ),
            sf(
                "6030301",
                "Tôn giáo học",
                &["tôn giáo", "tín ngưỡng", "đình chùa", "lễ hội"],
                &[
                    "phương pháp nhân học tôn giáo",
                    "phương pháp điền dã dân tộc học",
                ],
                &[
                    "quản lý hoạt động tín ngưỡng",
                    "bảo tồn kiến trúc đình chùa cổ",
                ],
                &["religion", "folk beliefs", "temples"],
                &["anthropology of religion", "ethnographic fieldwork"],
                &[
                    "management of religious activities",
                    "conservation of old temples",
                ],
            ),
            sf(
                "6040101",
                "Nghệ thuật biểu diễn",
                &["nghệ thuật truyền thống", "chèo", "ca trù", "múa rối nước"],
                &[
                    "phương pháp truyền dạy nghệ thuật truyền thống",
                    "công nghệ số hóa tư liệu âm thanh",
                ],
                &[
                    "bảo tồn và phát huy nghệ thuật hát chèo",
                    "truyền dạy múa rối nước",
                ],
                &["performing arts", "Cheo theatre", "water puppetry"],
                &[
                    "traditional arts transmission",
                    "audio archive digitisation",
                ],
                &["Cheo theatre preservation", "water puppetry teaching"],
            ),
            sf(
                "6050101",
                "Văn hóa học",
                &[
                    "văn hóa",
                    "di sản văn hóa phi vật thể",
                    "lễ hội truyền thống",
                    "làng nghề truyền thống",
                ],
                &["phương pháp kiểm kê di sản", "công nghệ thực tế ảo"],
                &[
                    "bảo tồn và phát huy giá trị di sản văn hóa phi vật thể",
                    "phát triển du lịch văn hóa làng nghề",
                ],
                &["cultural studies", "intangible heritage", "craft villages"],
                &["heritage inventories", "virtual reality"],
                &[
                    "intangible cultural heritage",
                    "craft village cultural tourism",
                ],
            ),
            sf(
                "6050201",
                "Bảo tàng học",
                &["bảo tàng", "hiện vật", "trưng bày", "số hóa di sản"],
                &[
                    "công nghệ số hóa ba chiều",
                    "phương pháp trưng bày tương tác",
                ],
                &[
                    "số hóa hiện vật bảo tàng tỉnh",
                    "đổi mới hoạt động trưng bày bảo tàng",
                ],
                &["museology", "digital heritage", "exhibitions"],
                &["3D digitisation", "interactive exhibition design"],
                &[
                    "provincial museum digitisation",
                    "museum exhibition renewal",
                ],
            ),
        ],
    },
];

/// The field with leading digit `digit` (1–6).
pub(crate) fn field(digit: u8) -> &'static Field {
    &FIELDS[usize::from(digit.clamp(1, 6)) - 1]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_are_well_formed() {
        for (index, field) in FIELDS.iter().enumerate() {
            assert!(field.subfields.len() >= 8);
            for sub in field.subfields {
                assert_eq!(sub.code.len(), 7);
                assert!(sub.code.bytes().all(|b| b.is_ascii_digit()));
                assert_eq!(usize::from(sub.code.as_bytes()[0] - b'0'), index + 1);
                assert!(sub.keywords.len() >= 4, "{}", sub.code);
                for list in [
                    sub.methods,
                    sub.targets,
                    sub.en_keywords,
                    sub.en_methods,
                    sub.en_targets,
                ] {
                    assert!(!list.is_empty(), "{}", sub.code);
                }
            }
        }
    }
}
