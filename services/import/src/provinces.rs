//! The provinces merged on 1 July 2025 (Resolution 202/2025/QH15: 63
//! provinces became 34). Records from before keep the names they were
//! written with; the import recognises a former province in an
//! organization's name and notes what it is part of now, changing nothing.

use lienthong_records::folding::normalized;

use crate::report::Fix;

/// Each province that ceased on 1 July 2025, and the province (or city)
/// it became part of.
pub const MERGED_2025: [(&str, &str); 29] = [
    ("Hà Giang", "Tuyên Quang"),
    ("Yên Bái", "Lào Cai"),
    ("Bắc Kạn", "Thái Nguyên"),
    ("Vĩnh Phúc", "Phú Thọ"),
    ("Hòa Bình", "Phú Thọ"),
    ("Bắc Giang", "Bắc Ninh"),
    ("Thái Bình", "Hưng Yên"),
    ("Hải Dương", "Hải Phòng"),
    ("Hà Nam", "Ninh Bình"),
    ("Nam Định", "Ninh Bình"),
    ("Quảng Bình", "Quảng Trị"),
    ("Quảng Nam", "Đà Nẵng"),
    ("Kon Tum", "Quảng Ngãi"),
    ("Bình Định", "Gia Lai"),
    ("Ninh Thuận", "Khánh Hòa"),
    ("Đắk Nông", "Lâm Đồng"),
    ("Bình Thuận", "Lâm Đồng"),
    ("Phú Yên", "Đắk Lắk"),
    ("Bình Dương", "Thành phố Hồ Chí Minh"),
    ("Bà Rịa - Vũng Tàu", "Thành phố Hồ Chí Minh"),
    ("Bình Phước", "Đồng Nai"),
    ("Long An", "Tây Ninh"),
    ("Sóc Trăng", "Cần Thơ"),
    ("Hậu Giang", "Cần Thơ"),
    ("Bến Tre", "Vĩnh Long"),
    ("Trà Vinh", "Vĩnh Long"),
    ("Tiền Giang", "Đồng Tháp"),
    ("Bạc Liêu", "Cà Mau"),
    ("Kiên Giang", "An Giang"),
];

/// The former province `text` names (as whole words, with or without
/// diacritics), and what it is part of now.
pub fn merged_province(text: &str) -> Option<(&'static str, &'static str)> {
    static FOLDED: std::sync::OnceLock<Vec<Vec<String>>> = std::sync::OnceLock::new();
    let folded = FOLDED.get_or_init(|| {
        MERGED_2025
            .iter()
            .map(|(former, _)| normalized(former).split(' ').map(str::to_owned).collect())
            .collect()
    });
    let text = normalized(text);
    let words: Vec<&str> = text.split(' ').collect();
    let mut excluded = vec![false; words.len()];
    for phrase in NOT_PROVINCES {
        for start in 0..words.len().saturating_sub(phrase.len() - 1) {
            if words[start..start + phrase.len()] == *phrase {
                excluded[start..start + phrase.len()].fill(true);
            }
        }
    }
    folded.iter().zip(MERGED_2025).find_map(|(name, merged)| {
        let found = (0..words.len().saturating_sub(name.len() - 1)).any(|start| {
            !excluded[start..start + name.len()].contains(&true)
                && words[start..start + name.len()]
                    .iter()
                    .zip(name)
                    .all(|(word, part)| word == part)
        });
        found.then_some(merged)
    })
}

/// Folded phrases that contain a former province's words ("Thái Bình
/// Dương", the Pacific, holds both Thái Bình and Bình Dương).
const NOT_PROVINCES: [&[&str]; 1] = [&["thai", "binh", "duong"]];

/// Notes, in the report and without changing the cell, that `text` names a
/// province merged in 2025.
pub fn note_merged_province(header: &str, text: &str, fixes: &mut Vec<Fix>) {
    if let Some((former, now)) = merged_province(text) {
        fixes.push(Fix {
            column: header.to_owned(),
            rule: NOTE_PROVINCE_MERGED,
            from: text.to_owned(),
            to: format!("kept as written; {former} is part of {now} since 1 July 2025"),
        });
    }
}

/// The rule of that note: a note, not a change ([`Fix::is_note`]).
pub const NOTE_PROVINCE_MERGED: &str = "note_province_merged_2025";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn former_provinces_are_recognised_as_whole_words() {
        assert_eq!(
            merged_province("Sở KH&CN tỉnh Thái Bình"),
            Some(("Thái Bình", "Hưng Yên"))
        );
        assert_eq!(
            merged_province("Truong Dai hoc Dieu duong Nam Dinh"),
            Some(("Nam Định", "Ninh Bình"))
        );
        assert_eq!(
            merged_province("Công ty Xổ số Bà Rịa – Vũng Tàu"),
            Some(("Bà Rịa - Vũng Tàu", "Thành phố Hồ Chí Minh"))
        );
        // Provinces that remain, and names that only contain the words.
        assert_eq!(merged_province("Sở KH&CN Hưng Yên"), None);
        assert_eq!(merged_province("Viện Lúa Đồng bằng sông Cửu Long"), None);
        assert_eq!(merged_province("Công ty Bảo hiểm Thái Bình Dương"), None);
        assert_eq!(MERGED_2025.len(), 63 - 34);
    }
}
