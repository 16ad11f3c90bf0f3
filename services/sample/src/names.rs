//! Vietnamese personal names, with family-name frequencies near reality, middle names
//! by gender, and both tone-placement styles (Hoà/Hòa, Thuỷ/Thủy) where they occur.
//! All strings here are NFC (precomposed).

use crate::dice::Dice;

/// Family names (họ), weighted per 10,000 people.
pub(crate) const FAMILY: &[(&str, u32)] = &[
    ("Nguyễn", 3850),
    ("Trần", 1100),
    ("Lê", 950),
    ("Phạm", 700),
    ("Hoàng", 480),
    ("Huỳnh", 20),
    ("Phan", 450),
    ("Vũ", 380),
    ("Võ", 20),
    ("Đặng", 200),
    ("Bùi", 200),
    ("Đỗ", 140),
    ("Hồ", 130),
    ("Ngô", 130),
    ("Dương", 100),
    ("Lý", 50),
    ("Đinh", 95),
    ("Đào", 85),
    ("Trịnh", 75),
    ("Mai", 45),
    ("Lương", 45),
    ("Tạ", 35),
    ("Đoàn", 65),
    ("Vương", 20),
    ("Cao", 45),
    ("Lưu", 35),
    ("Hà", 55),
    ("Tô", 25),
    ("Phùng", 30),
    ("Lại", 25),
    ("Chu", 20),
    ("Nghiêm", 12),
    ("Khúc", 8),
    ("Triệu", 15),
    ("Kiều", 12),
    ("Quách", 10),
    ("Nhữ", 4),
    ("Thân", 8),
];

/// Middle names (tên đệm) for men.
const MIDDLE_MALE: &[(&str, u32)] = &[
    ("Văn", 350),
    ("Đức", 80),
    ("Minh", 60),
    ("Xuân", 50),
    ("Hữu", 55),
    ("Quang", 55),
    ("Đình", 50),
    ("Công", 40),
    ("Thanh", 35),
    ("Mạnh", 25),
    ("Ngọc", 25),
    ("Trọng", 25),
    ("Quốc", 25),
    ("Duy", 20),
    ("Tiến", 18),
    ("Bá", 15),
    ("Việt", 15),
    ("Thế", 15),
    ("Hoàng", 12),
    ("Anh", 10),
    ("Trung", 10),
    ("Huy", 8),
    ("Kim", 7),
    ("Đăng", 8),
    ("Khắc", 7),
];

/// Middle names for women.
const MIDDLE_FEMALE: &[(&str, u32)] = &[
    ("Thị", 500),
    ("Thu", 60),
    ("Thanh", 50),
    ("Ngọc", 45),
    ("Hồng", 45),
    ("Minh", 30),
    ("Kim", 30),
    ("Phương", 25),
    ("Bích", 25),
    ("Thùy", 18),
    ("Thuỳ", 12),
    ("Thúy", 12),
    ("Thuý", 8),
    ("Mai", 15),
    ("Xuân", 15),
    ("Hải", 12),
    ("Diệu", 10),
    ("Quỳnh", 10),
    ("Khánh", 8),
    ("Lan", 8),
    ("Việt", 6),
    ("Hoài", 6),
];

/// Second middle names after "Thị" (Nguyễn Thị Thu Hương).
const SECOND_FEMALE: &[&str] = &[
    "Thu", "Hồng", "Bích", "Thanh", "Kim", "Ngọc", "Minh", "Phương", "Thùy", "Thuỳ", "Mai", "Lan",
    "Hải", "Quỳnh", "Diệu", "Hoài",
];

/// Second middle names for men (Trần Đình Quang Huy).
const SECOND_MALE: &[&str] = &[
    "Minh", "Quang", "Anh", "Hoàng", "Việt", "Đức", "Tuấn", "Hải", "Thành", "Duy",
];

/// Given names (tên) for men.
const GIVEN_MALE: &[(&str, u32)] = &[
    ("Hải", 30),
    ("Hùng", 30),
    ("Dũng", 30),
    ("Tuấn", 30),
    ("Đức", 25),
    ("Long", 20),
    ("Nam", 25),
    ("Sơn", 25),
    ("Thắng", 20),
    ("Hòa", 12),
    ("Hoà", 9),
    ("Huy", 20),
    ("Khoa", 12),
    ("Đạt", 15),
    ("Anh", 25),
    ("Bình", 20),
    ("Cường", 20),
    ("Chiến", 12),
    ("Công", 8),
    ("Dương", 10),
    ("Định", 8),
    ("Đông", 10),
    ("Giang", 8),
    ("Hiếu", 15),
    ("Hiệp", 10),
    ("Hoàng", 12),
    ("Hưng", 18),
    ("Hậu", 8),
    ("Khánh", 12),
    ("Khải", 6),
    ("Kiên", 10),
    ("Lâm", 10),
    ("Lợi", 8),
    ("Luân", 5),
    ("Mạnh", 12),
    ("Minh", 25),
    ("Nghĩa", 12),
    ("Phong", 12),
    ("Phúc", 10),
    ("Quân", 12),
    ("Quang", 15),
    ("Quý", 8),
    ("Tài", 8),
    ("Tâm", 10),
    ("Thành", 20),
    ("Thái", 10),
    ("Thanh", 12),
    ("Thịnh", 10),
    ("Thuận", 8),
    ("Tiến", 12),
    ("Toàn", 12),
    ("Trung", 18),
    ("Trường", 12),
    ("Tú", 8),
    ("Tùng", 12),
    ("Việt", 12),
    ("Vinh", 12),
    ("Vũ", 8),
    ("Hiển", 6),
    ("Điệp", 4),
    ("Đăng", 5),
    ("Khỏe", 2),
    ("Khoẻ", 2),
    ("Thụy", 2),
    ("Thuỵ", 2),
    ("Quyết", 6),
    ("Thưởng", 4),
    ("Tuyên", 4),
    ("Hợp", 4),
    ("Lực", 5),
    ("Bảo", 6),
    ("Thiện", 6),
    ("Trí", 6),
    ("Hào", 5),
    ("Chính", 6),
    ("Doanh", 4),
    ("Kỳ", 4),
    ("Ninh", 5),
    ("Phương", 6),
    ("Quyền", 4),
    ("Sáng", 4),
    ("Tân", 6),
    ("Thọ", 5),
    ("Tuệ", 3),
    ("Vượng", 4),
    ("Hóa", 2),
    ("Hoá", 2),
];

/// Given names for women.
const GIVEN_FEMALE: &[(&str, u32)] = &[
    ("Linh", 30),
    ("Lan", 25),
    ("Hương", 35),
    ("Hà", 30),
    ("Hạnh", 20),
    ("Thủy", 14),
    ("Thuỷ", 10),
    ("Trang", 30),
    ("Nga", 20),
    ("Yến", 18),
    ("Phương", 22),
    ("Dung", 18),
    ("Anh", 25),
    ("Chi", 12),
    ("Dịu", 5),
    ("Diệp", 5),
    ("Giang", 15),
    ("Hằng", 22),
    ("Hiền", 18),
    ("Hoa", 20),
    ("Hòa", 7),
    ("Hoà", 5),
    ("Huyền", 20),
    ("Hường", 10),
    ("Liên", 12),
    ("Loan", 12),
    ("Lụa", 4),
    ("Mai", 20),
    ("Minh", 10),
    ("Mơ", 4),
    ("My", 8),
    ("Ngân", 12),
    ("Ngọc", 15),
    ("Nhung", 15),
    ("Oanh", 10),
    ("Phượng", 10),
    ("Quyên", 8),
    ("Quỳnh", 12),
    ("Tâm", 10),
    ("Thanh", 15),
    ("Thảo", 22),
    ("Thắm", 8),
    ("Thơm", 6),
    ("Thu", 15),
    ("Thư", 10),
    ("Thúy", 8),
    ("Thuý", 6),
    ("Tuyết", 8),
    ("Uyên", 8),
    ("Vân", 15),
    ("Xuân", 10),
    ("Huệ", 10),
    ("Khuyên", 5),
    ("Nhàn", 6),
    ("Tươi", 5),
    ("Duyên", 12),
    ("Hồng", 12),
    ("Điệp", 5),
    ("Đào", 5),
    ("Hoài", 6),
    ("Trâm", 6),
    ("Bích", 6),
    ("Châm", 5),
    ("Lệ", 5),
    ("Lý", 5),
    ("Nguyệt", 8),
    ("Nhi", 8),
    ("Vui", 4),
    ("Thùy", 5),
    ("Thuỳ", 4),
    ("Hậu", 6),
];

/// Draws a full name, "Family Middle [Middle] Given".
pub(crate) fn full_name(dice: &mut Dice, female: bool) -> String {
    let family = *dice.weighted(FAMILY);
    let (middles, seconds, givens) = if female {
        (MIDDLE_FEMALE, SECOND_FEMALE, GIVEN_FEMALE)
    } else {
        (MIDDLE_MALE, SECOND_MALE, GIVEN_MALE)
    };
    let mut middle = *dice.weighted(middles);
    if middle == family {
        middle = *dice.weighted(middles);
    }
    let second = if female && middle == "Thị" {
        dice.chance(1800).then(|| *dice.pick(seconds))
    } else if !female && middle != "Văn" {
        dice.chance(900).then(|| *dice.pick(seconds))
    } else {
        None
    };
    let mut given = *dice.weighted(givens);
    if Some(given) == second || given == middle {
        given = *dice.weighted(givens);
    }
    let mut name = String::with_capacity(32);
    name.push_str(family);
    name.push(' ');
    name.push_str(middle);
    if let Some(second) = second {
        name.push(' ');
        name.push_str(second);
    }
    name.push(' ');
    name.push_str(given);
    name
}

/// ASCII form of one Vietnamese letter (đ → d, ệ → e, …); other characters unchanged.
pub(crate) fn fold_char(c: char) -> char {
    if c.is_ascii() {
        return c;
    }
    const GROUPS: &[(&str, char)] = &[
        ("àáảãạăằắẳẵặâầấẩẫậ", 'a'),
        ("ÀÁẢÃẠĂẰẮẲẴẶÂẦẤẨẪẬ", 'A'),
        ("èéẻẽẹêềếểễệ", 'e'),
        ("ÈÉẺẼẸÊỀẾỂỄỆ", 'E'),
        ("ìíỉĩị", 'i'),
        ("ÌÍỈĨỊ", 'I'),
        ("òóỏõọôồốổỗộơờớởỡợ", 'o'),
        ("ÒÓỎÕỌÔỒỐỔỖỘƠỜỚỞỠỢ", 'O'),
        ("ùúủũụưừứửữự", 'u'),
        ("ÙÚỦŨỤƯỪỨỬỮỰ", 'U'),
        ("ỳýỷỹỵ", 'y'),
        ("ỲÝỶỸỴ", 'Y'),
        ("đ", 'd'),
        ("Đ", 'D'),
    ];
    for (letters, ascii) in GROUPS {
        if letters.contains(c) {
            return *ascii;
        }
    }
    c
}

/// ASCII-folded copy of a string.
pub(crate) fn fold(text: &str) -> String {
    text.chars().map(fold_char).collect()
}

/// Lower-case ASCII slug with no separators: "Hưng Yên" → "hungyen".
pub(crate) fn slug(text: &str) -> String {
    text.chars()
        .map(fold_char)
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

/// The local part of a work e-mail in the usual Vietnamese style: given name followed
/// by the initials of the family and middle names ("Nguyễn Xuân Hải" → "hainx").
pub(crate) fn email_local(full_name: &str) -> String {
    let mut words: Vec<&str> = full_name.split(' ').collect();
    let given = words.pop().unwrap_or_default();
    let mut local = slug(given);
    for word in words {
        if let Some(first) = word.chars().next() {
            local.push(fold_char(first).to_ascii_lowercase());
        }
    }
    local
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folding() {
        assert_eq!(fold("Nguyễn Xuân Hải"), "Nguyen Xuan Hai");
        assert_eq!(fold("Đặng Thị Thuỷ"), "Dang Thi Thuy");
        assert_eq!(slug("Hưng Yên"), "hungyen");
        assert_eq!(email_local("Nguyễn Xuân Hải"), "hainx");
        assert_eq!(email_local("Đỗ Thị Thu Hương"), "huongdtt");
    }

    #[test]
    fn enough_given_names() {
        assert!(GIVEN_MALE.len() >= 60);
        assert!(GIVEN_FEMALE.len() >= 60);
    }
}
