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

use std::sync::OnceLock;

use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

/// The Latin blocks Vietnamese text is written in (Latin-1 Supplement,
/// Extended-A and -B; Latin Extended Additional, which holds the letters
/// with two marks), whose decompositions are looked up in a table.
const TABLED: [std::ops::Range<u32>; 2] = [0x80..0x250, 0x1E00..0x1F00];

/// The canonical decomposition of every character of [`TABLED`].
fn decomposition_table() -> &'static [Vec<Box<str>>; 2] {
    static TABLE: OnceLock<[Vec<Box<str>>; 2]> = OnceLock::new();
    TABLE.get_or_init(|| {
        TABLED.clone().map(|range| {
            range
                .map(|code| {
                    char::from_u32(code)
                        .map(|c| c.nfd().collect::<String>().into_boxed_str())
                        .unwrap_or_default()
                })
                .collect()
        })
    })
}

/// Calls `each` with the characters of `text` in Unicode canonical
/// decomposition (NFD), as `text.nfd()` gives them. Text without combining
/// marks of its own (typed precomposed, as nearly all is) decomposes
/// character by character, from a table for the Vietnamese Latin blocks;
/// text with them goes through the full algorithm, which also reorders marks.
fn for_each_decomposed(text: &str, mut each: impl FnMut(char)) {
    let has_marks = text
        .chars()
        .any(|c| !c.is_ascii() && !in_table(c) && is_combining_mark(c));
    if has_marks {
        text.nfd().for_each(each);
        return;
    }
    let table = decomposition_table();
    for c in text.chars() {
        if c.is_ascii() {
            each(c);
            continue;
        }
        let code = c as u32;
        match TABLED.iter().position(|range| range.contains(&code)) {
            Some(block) => table[block][(code - TABLED[block].start) as usize]
                .chars()
                .for_each(&mut each),
            None => c.nfd().for_each(&mut each),
        }
    }
}

fn in_table(c: char) -> bool {
    TABLED.iter().any(|range| range.contains(&(c as u32)))
}

/// Folds `text` to lowercase ASCII-like text without diacritics, keeping every
/// other character (spaces, punctuation, non-Latin letters) in place.
pub fn fold_vietnamese(text: &str) -> String {
    let mut folded = String::with_capacity(text.len());
    if text.is_ascii() {
        folded.extend(text.chars().map(|c| c.to_ascii_lowercase()));
        return folded;
    }
    for_each_decomposed(text, |c| match c {
        c if c.is_ascii() => folded.push(c.to_ascii_lowercase()),
        'đ' | 'Đ' => folded.push('d'),
        c if is_combining_mark(c) => {}
        c => folded.extend(c.to_lowercase()),
    });
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

/// Combining marks that give a Vietnamese vowel its quality (â, ê, ô, ơ,
/// ư, ă): part of the letter, not the tone.
const QUALITY_MARKS: [char; 3] = ['\u{0302}', '\u{0306}', '\u{031B}'];

/// The five tone marks, numbered 1 to 5 in an accent key.
const TONE_MARKS: [char; 5] = ['\u{0300}', '\u{0301}', '\u{0309}', '\u{0303}', '\u{0323}'];

/// Splits text into accent keys: lowercase words that keep every diacritic
/// but not where the tone mark sits, so "Thuỷ" and "Thủy" give the same key
/// while "Đinh" and "dinh" do not. The letters (with their vowel-quality
/// marks and đ) come first, then the tone as a digit: "thủy" → "thuy3",
/// "đinh" → "đinh", "dưỡng" → "dư\u{031B}ong4" in decomposed form. Words
/// split where [`tokens`] splits them, one key per token.
pub fn accent_keys(text: &str) -> Vec<String> {
    let mut keys = Vec::new();
    let mut letters = String::new();
    let mut tone = None;
    let mut finish = |letters: &mut String, tone: &mut Option<usize>| {
        if !letters.is_empty() {
            if let Some(tone) = tone.take() {
                letters.push(char::from(b'1' + tone as u8));
            }
            keys.push(std::mem::take(letters));
        }
        *tone = None;
    };
    for_each_decomposed(text, |c| {
        if c.is_ascii() {
            if c.is_ascii_alphanumeric() {
                letters.push(c.to_ascii_lowercase());
            } else {
                finish(&mut letters, &mut tone);
            }
        } else if let Some(index) = TONE_MARKS.iter().position(|&mark| mark == c) {
            if !letters.is_empty() {
                tone = Some(index);
            }
        } else if QUALITY_MARKS.contains(&c) {
            if !letters.is_empty() {
                letters.push(c);
            }
        } else if is_combining_mark(c) {
            // Marks Vietnamese does not use are dropped, as folding drops them.
        } else if c.is_alphanumeric() {
            letters.extend(c.to_lowercase());
        } else {
            finish(&mut letters, &mut tone);
        }
    });
    finish(&mut letters, &mut tone);
    keys
}

/// Whether a word carries any diacritic (or đ): whether its accent key says
/// more than its folded form.
pub fn has_diacritics(word: &str) -> bool {
    !word.is_ascii() && fold_vietnamese(word) != word.to_lowercase()
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

    #[test]
    fn accent_keys_keep_diacritics_but_not_tone_placement() {
        assert_eq!(accent_keys("Thuỷ"), accent_keys("Thủy"));
        assert_eq!(accent_keys("hoà"), accent_keys("hòa"));
        assert_ne!(accent_keys("Đinh"), accent_keys("dinh"));
        assert_ne!(accent_keys("Hải"), accent_keys("hại"));
        assert_eq!(accent_keys("dinh dưỡng").len(), 2);
        let nfd: String = "Nguyễn".nfd().collect();
        assert_eq!(accent_keys(&nfd), accent_keys("NGUYỄN"));
        assert_eq!(accent_keys("PGS.TS. Lê"), accent_keys("pgs ts lê"));
    }

    /// Folding and accent keys as first written: over `text.nfd()`.
    fn reference_fold(text: &str) -> String {
        let mut folded = String::new();
        for c in text.nfd() {
            match c {
                'đ' | 'Đ' => folded.push('d'),
                c if is_combining_mark(c) => {}
                c => folded.extend(c.to_lowercase()),
            }
        }
        folded
    }

    #[test]
    fn the_decomposition_table_gives_what_the_full_algorithm_gives() {
        let mut samples: Vec<String> = (0u32..0x3400)
            .filter_map(char::from_u32)
            .map(|c| format!("a{c}b {c}"))
            .collect();
        samples.extend(
            [
                "Nguyễn Xuân Hải",
                "ĐINH THỊ HOÀ, Thuỷ, khoẻ; dưỡng",
                "o\u{301}\u{31B} ơ\u{301} e\u{323}\u{302}",
                "Ǆemal ǅ ǆ İstanbul ẞ ﬁ",
            ]
            .map(str::to_owned),
        );
        let nfd: String = "Nguyễn Xuân Hải".nfd().collect();
        samples.push(nfd);
        for sample in &samples {
            assert_eq!(
                fold_vietnamese(sample),
                reference_fold(sample),
                "{sample:?}"
            );
            let reference: String = sample.nfd().collect();
            let mut decomposed = String::new();
            for_each_decomposed(sample, |c| decomposed.push(c));
            assert_eq!(decomposed, reference, "{sample:?}");
        }
    }

    #[test]
    fn diacritics_are_detected() {
        assert!(has_diacritics("đinh"));
        assert!(has_diacritics("Hải"));
        assert!(!has_diacritics("Dinh"));
        assert!(!has_diacritics("nguyen"));
    }
}
