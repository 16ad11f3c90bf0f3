//! Vietnamese-aware text folding: the one definition of "the same word" that
//! every search on every backend uses.
//!
//! Folding removes case and every diacritic, so "Nguyễn Xuân Hải", "NGUYEN XUAN
//! HAI" and the decomposed (NFD) spelling all fold to "nguyen xuan hai". Two
//! details matter for Vietnamese:
//! - đ/Đ (U+0111/U+0110) are letters of their own and do not decompose, so they
//!   are mapped to d explicitly.
//! - Old and new tone placement ("hoà"/"hòa", "thuỷ"/"thủy") differ only in
//!   where the mark sits; removing the marks makes them equal.

use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

/// Folds `text` to lowercase ASCII-like text without diacritics, keeping every
/// other character (spaces, punctuation, non-Latin letters) in place.
pub fn fold_vietnamese(text: &str) -> String {
    let mut folded = String::with_capacity(text.len());
    if text.is_ascii() {
        folded.extend(text.chars().map(|c| c.to_ascii_lowercase()));
        return folded;
    }
    for c in text.nfd() {
        match c {
            'đ' | 'Đ' => folded.push('d'),
            c if is_combining_mark(c) => {}
            c => folded.extend(c.to_lowercase()),
        }
    }
    folded
}

/// Splits text into folded search tokens: maximal runs of letters and digits,
/// after folding. "PGS.TS. Đinh Thị Hoà" gives `pgs ts dinh thi hoa`.
pub fn tokens(text: &str) -> Vec<String> {
    fold_vietnamese(text)
        .split(|c: char| !c.is_alphanumeric())
        .filter(|token| !token.is_empty())
        .map(str::to_owned)
        .collect()
}

/// The folded tokens of `text` joined by single spaces: the normal form that
/// exact-name and phrase matching compare against.
pub fn normalized(text: &str) -> String {
    tokens(text).join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn case_and_diacritics_fold_to_the_same_text() {
        let nfc = "Nguyễn Xuân Hải";
        let nfd: String = nfc.nfd().collect();
        assert_ne!(nfc, nfd, "the test needs a really decomposed input");
        for spelling in [
            nfc,
            nfd.as_str(),
            "NGUYEN XUAN HAI",
            "nguyen xuan hai",
            "NGUYỄN XUÂN HẢI",
        ] {
            assert_eq!(normalized(spelling), "nguyen xuan hai", "{spelling:?}");
        }
    }

    #[test]
    fn d_with_stroke_folds_to_d() {
        assert_eq!(normalized("Đinh Đức Đạt"), "dinh duc dat");
        assert_eq!(fold_vietnamese("đ"), "d");
    }

    #[test]
    fn old_and_new_tone_placement_match() {
        assert_eq!(normalized("hoà"), normalized("hòa"));
        assert_eq!(normalized("Thuỷ"), normalized("Thủy"));
        assert_eq!(normalized("khoẻ"), normalized("khỏe"));
    }

    #[test]
    fn tokens_split_on_punctuation_and_keep_digits() {
        assert_eq!(
            tokens("PGS.TS. Lê Văn A, COVID-19"),
            ["pgs", "ts", "le", "van", "a", "covid", "19"]
        );
        assert!(tokens("  ,.;  ").is_empty());
    }
}
