//! Telling well-formed Vietnamese from damaged text, and repairing a cell
//! whose legacy bytes were once read as Windows-1252 ("NguyÔn V¨n §øc").
//!
//! A word reads as Vietnamese when every character is an ASCII or
//! Vietnamese letter, its case is one of lower, Capitalised or UPPER, and
//! folded it is shaped like a syllable. Damaged text breaks this word by
//! word: symbols inside words ("V¨n"), capitals inside them ("NguyÔn"),
//! letters Vietnamese does not use ("§øc"). A cell is repaired only when it
//! holds such words and a legacy reading makes it strictly more Vietnamese;
//! text that is already correct is never touched.

use lienthong_records::folding::fold_vietnamese;
use lienthong_records::input_method::is_syllable;
use unicode_normalization::UnicodeNormalization;

use crate::legacy_encoding::{
    LegacyEncoding, is_typographic_punctuation, is_vni_mark, undo_windows_1252_misreading,
};

/// Marks Vietnamese puts on letters: the five tones and the vowel qualities.
const VIETNAMESE_MARKS: [char; 8] = [
    '\u{0300}', '\u{0301}', '\u{0303}', '\u{0309}', '\u{0323}', '\u{0302}', '\u{0306}', '\u{031B}',
];

/// Whether `c` is a letter of the Vietnamese alphabet (with any marks) or
/// an ASCII letter.
pub fn is_vietnamese_letter(c: char) -> bool {
    if c.is_ascii_alphabetic() || matches!(c, 'đ' | 'Đ') {
        return true;
    }
    let mut parts = std::iter::once(c).nfd();
    let Some(base) = parts.next() else {
        return false;
    };
    base.is_ascii_alphabetic() && parts.all(|mark| VIETNAMESE_MARKS.contains(&mark))
}

/// How Vietnamese `text` reads: +1 for each word shaped like a syllable,
/// −1 for each word with a foreign character or a capital inside it; other
/// words (numbers, abbreviations, codes) count 0.
pub fn vietnamese_score(text: &str) -> i64 {
    text.split_whitespace()
        .map(|word| word.trim_matches(|c: char| c.is_ascii_punctuation() || c.is_ascii_digit()))
        .filter(|word| !word.is_empty())
        .map(word_score)
        .sum()
}

fn word_score(word: &str) -> i64 {
    // Punctuation inside a word ("PGS.TS", "Hà-Nội") splits it.
    if word.contains(|c: char| c.is_ascii_punctuation()) {
        return word
            .split(|c: char| c.is_ascii_punctuation())
            .filter(|part| !part.is_empty())
            .map(word_score)
            .sum();
    }
    if !word.chars().all(is_vietnamese_letter) {
        return -1;
    }
    let mut letters = word.chars();
    let first_upper = letters.next().is_some_and(char::is_uppercase);
    let rest: Vec<bool> = letters.map(char::is_uppercase).collect();
    let well_cased = rest.iter().all(|upper| !upper) || (first_upper && rest.iter().all(|u| *u));
    if !well_cased {
        return -1;
    }
    if !(is_syllable(&fold_vietnamese(word)) && has_vietnamese_vowels(word)) {
        return 0;
    }
    // A word Vietnamese uses often counts twice: text read through the wrong
    // legacy table can keep the shape of syllables ("Phạm Lê Văn" in VISCII
    // read as TCVN3 is "Phếm Lờ Vồn"), rarely the words.
    let lower = word.to_lowercase();
    1 + i64::from(COMMON_WORDS.contains(&lower.as_str()))
}

/// Frequent words of S&T records and Vietnamese names, lower case, composed.
const COMMON_WORDS: &[&str] = &[
    "của",
    "và",
    "các",
    "có",
    "là",
    "được",
    "trong",
    "cho",
    "không",
    "người",
    "những",
    "với",
    "một",
    "này",
    "đã",
    "để",
    "theo",
    "về",
    "từ",
    "tại",
    "trên",
    "đến",
    "khi",
    "cũng",
    "như",
    "nhiều",
    "năm",
    "ngày",
    "tháng",
    "số",
    "sở",
    "khoa",
    "học",
    "công",
    "nghệ",
    "nghiên",
    "cứu",
    "ứng",
    "dụng",
    "phát",
    "triển",
    "sản",
    "xuất",
    "quản",
    "lý",
    "tỉnh",
    "huyện",
    "xã",
    "thành",
    "phố",
    "viện",
    "trường",
    "đại",
    "trung",
    "tâm",
    "nhà",
    "nước",
    "bộ",
    "cấp",
    "đề",
    "tài",
    "dự",
    "án",
    "nhiệm",
    "vụ",
    "kinh",
    "tế",
    "hội",
    "văn",
    "hóa",
    "hoá",
    "giáo",
    "dục",
    "y",
    "nông",
    "nghiệp",
    "thủy",
    "thuỷ",
    "môi",
    "kỹ",
    "thuật",
    "giống",
    "lúa",
    "cây",
    "trồng",
    "chăn",
    "nuôi",
    "chế",
    "biến",
    "chất",
    "lượng",
    "hiệu",
    "quả",
    "giải",
    "pháp",
    "mô",
    "hình",
    "xây",
    "dựng",
    "đánh",
    "giá",
    "thực",
    "hiện",
    "kết",
    "tổ",
    "chức",
    "đơn",
    "vị",
    "chủ",
    "phòng",
    "ban",
    "đồng",
    "thạc",
    "sĩ",
    "tiến",
    "sư",
    "phó",
    "cử",
    "nhân",
    "bác",
    "thị",
    "đức",
    "minh",
    "hải",
    "hương",
    "lan",
    "anh",
    "tuấn",
    "hùng",
    "dũng",
    "thanh",
    "hoa",
    "hà",
    "nam",
    "bắc",
    "tây",
    "đông",
    "hưng",
    "yên",
    "định",
    "hồ",
    "chí",
    "nội",
    "việt",
    "nguyễn",
    "trần",
    "lê",
    "phạm",
    "hoàng",
    "huỳnh",
    "phan",
    "vũ",
    "võ",
    "đặng",
    "bùi",
    "đỗ",
    "ngô",
    "dương",
    "đinh",
    "đào",
    "cao",
    "mai",
    "lương",
    "trịnh",
    "quang",
    "ngọc",
    "thu",
    "hồng",
    "hoà",
    "hòa",
    "xuân",
    "bình",
    "long",
    "sơn",
    "tùng",
    "phương",
    "trang",
    "linh",
    "huyền",
    "nga",
    "vân",
    "hạnh",
    "thảo",
    "quốc",
    "khánh",
    "tân",
    "thắng",
    "toàn",
    "hiếu",
    "nghĩa",
    "lâm",
    "phong",
    "thái",
    "vinh",
    "hiền",
    "dung",
    "yến",
    "sinh",
    "vật",
    "lý",
    "hoá",
    "toán",
    "tin",
    "điện",
    "tử",
    "cơ",
    "khí",
    "xây",
    "mặn",
    "ven",
    "biển",
    "sông",
    "đất",
    "nước",
    "rừng",
    "chọn",
    "tạo",
    "chịu",
];

/// Tone marks, which do not change which vowel a letter is.
const TONE_MARKS: [char; 5] = ['\u{0300}', '\u{0301}', '\u{0303}', '\u{0309}', '\u{0323}'];

/// Initial consonants, longest first.
const INITIALS: [&str; 27] = [
    "ngh", "ng", "nh", "ch", "tr", "th", "kh", "ph", "gh", "gi", "qu", "b", "c", "d", "đ", "g",
    "h", "k", "l", "m", "n", "p", "r", "s", "t", "v", "x",
];

/// The vowel groups Vietnamese writes, with their vowels' own marks (ă, â,
/// ê, ô, ơ, ư) and without tones.
const VOWEL_GROUPS: [&str; 53] = [
    "a", "ă", "â", "e", "ê", "i", "o", "ô", "ơ", "u", "ư", "y", "ai", "ao", "au", "ay", "âu", "ây",
    "eo", "êu", "ia", "iê", "iu", "oa", "oă", "oe", "oi", "oo", "ôi", "ơi", "ua", "uâ", "uê", "ui",
    "uô", "uơ", "uy", "ưa", "ưi", "ưu", "ươ", "ya", "yê", "iêu", "oai", "oao", "oay", "oeo", "uây",
    "uôi", "uya", "uyê", "uyu",
];
const VOWEL_GROUPS_OF_THREE_WITH_HORN: [&str; 3] = ["ươi", "ươu", "yêu"];

/// Whether the vowels of `word` make a group Vietnamese writes: "uyê"
/// (Nguyễn) and "ươ" do, "uyư" and "ơu" do not. Letters read through the
/// wrong legacy table often keep a syllable's shape once folded, but not
/// its vowels.
fn has_vietnamese_vowels(word: &str) -> bool {
    let shaped: String = word
        .to_lowercase()
        .nfd()
        .filter(|c| !TONE_MARKS.contains(c))
        .nfc()
        .collect();
    let is_vowel = |c: char| "aăâeêioôơuưy".contains(c);
    let vowels_after = |initial: &str| -> String {
        shaped[initial.len()..]
            .chars()
            .take_while(|c| is_vowel(*c))
            .collect()
    };
    let initial = INITIALS
        .iter()
        .find(|initial| shaped.starts_with(**initial))
        .copied()
        .unwrap_or("");
    let mut vowels = vowels_after(initial);
    // "gì", "gìn": the i is the vowel, not part of the initial.
    if vowels.is_empty() && initial == "gi" {
        vowels = vowels_after("g");
    }
    VOWEL_GROUPS.contains(&vowels.as_str())
        || VOWEL_GROUPS_OF_THREE_WITH_HORN.contains(&vowels.as_str())
}

/// Whether `text` holds a character that is no Vietnamese letter (nor
/// ASCII), a capital with diacritics inside a word ("NguyÔn"), or a pair
/// of letters Vietnamese never writes and VNI does ("Nguyeãn", "Vaên",
/// "Coâng", "Lôùp"): the quick test before scoring a cell word by word.
/// Every damaged cell fails one of them; most correct cells pass all three.
fn has_foreign_or_miscased_letter(text: &str) -> bool {
    let mut previous_lower = false;
    let mut previous = ' ';
    for c in text.chars() {
        if !c.is_ascii()
            && ((!is_vietnamese_letter(c) && !is_typographic_punctuation(c))
                || (c.is_uppercase() && previous_lower)
                || (is_vni_mark(c) && never_written_before(previous, c)))
        {
            return true;
        }
        previous_lower = c.is_lowercase();
        previous = c;
    }
    false
}

/// Whether Vietnamese never writes `mark` (a character VNI writes marks
/// with) right after `letter`. After a plain a or e never: the tone goes on
/// the a or e ("tài", "kẹo"). After o only à á ã è é ("hoà", "khoé"), after u
/// only â á à ê ("quân", "quá", "Huê"), after y only ê ("Nguyên"); after ô
/// (VNI's ơ) nothing.
fn never_written_before(letter: char, mark: char) -> bool {
    let mark = mark.to_lowercase().next().unwrap_or(mark);
    match letter.to_lowercase().next().unwrap_or(letter) {
        'a' | 'e' | 'ô' => true,
        'o' => !matches!(mark, 'à' | 'á' | 'ã' | 'è' | 'é'),
        'u' => !matches!(mark, 'â' | 'á' | 'à' | 'ê'),
        'y' => mark != 'ê',
        _ => false,
    }
}

/// A cell restored from legacy bytes misread as Windows-1252.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Repair {
    pub text: String,
    pub encoding: LegacyEncoding,
}

/// The repaired text of a damaged cell; `None` when `text` is not damaged
/// this way (or no legacy reading is clearly better).
pub fn repair_misread_cell(text: &str) -> Option<Repair> {
    if text.is_ascii() || !has_foreign_or_miscased_letter(text) {
        return None;
    }
    let as_given = vietnamese_score(text);
    let words = text.split_whitespace().count() as i64;
    if as_given >= words {
        return None;
    }
    LegacyEncoding::ALL
        .into_iter()
        .filter_map(|encoding| {
            let restored = undo_windows_1252_misreading(text, encoding)?;
            if restored.contains('\u{FFFD}') {
                return None;
            }
            let score = vietnamese_score(&restored);
            (score > as_given).then_some((
                score,
                Repair {
                    text: restored,
                    encoding,
                },
            ))
        })
        // The best reading; on a tie the first in LegacyEncoding::ALL.
        .fold(None, |best: Option<(i64, Repair)>, candidate| match best {
            Some(best) if best.0 >= candidate.0 => Some(best),
            _ => Some(candidate),
        })
        .map(|(_, repair)| repair)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn correct_text_scores_by_its_syllables_and_is_never_repaired() {
        for text in [
            "Nguyễn Văn Đức",
            "Viện Công nghệ sinh học",
            "PGS.TS. Trần Thị Hoà",
            "Café Lê",
            "Đại học Bách khoa Hà Nội",
            "NGUYỄN VĂN AN",
        ] {
            assert_eq!(repair_misread_cell(text), None, "{text}");
        }
        // Three syllables, each a common word.
        assert_eq!(vietnamese_score("Nguyễn Văn Đức"), 6);
        for word in "Nguyễn Xuân Khuyến giữa quốc gia gìn giữ người trường khuya tuyết \
                     hoạt khoẻ ngoằn oẳn thuở quạu"
            .split_whitespace()
        {
            assert!(vietnamese_score(word) >= 1, "{word}");
        }
    }

    #[test]
    fn letters_read_through_the_wrong_table_lose_their_vowel_groups() {
        // VISCII bytes of "Nguyễn Phạm chịu Sở" read as TCVN3: shaped like
        // syllables once folded, but "uyư" is no Vietnamese vowel group.
        assert_eq!(vietnamese_score("Nguyưn"), 0);
        assert_eq!(vietnamese_score("chỡu"), 0);
        assert!(vietnamese_score("Nguyễn Phạm chịu Sở") > vietnamese_score("Nguyưn Phếm cháu Sã"));
    }

    #[test]
    fn vni_text_saved_as_unicode_is_restored() {
        let repair = repair_misread_cell("Nguyeãn Vaên Hoaø").expect("repaired");
        assert_eq!(repair.text, "Nguyễn Văn Hoà");
        assert_eq!(repair.encoding, LegacyEncoding::Vni);
        let repair = repair_misread_cell("Tröôøng Ñaïi hoïc Sö phaïm").expect("repaired");
        assert_eq!(repair.text, "Trường Đại học Sư phạm");
        // A vowel before a marked vowel in correct text: "Hoà", "Thuý".
        assert_eq!(repair_misread_cell("Nguyễn Thị Thuý Hoà"), None);
        for correct in ["Hoàng Văn Quân", "Nguyên Khoé", "Quá Huê", "Toàn Lê Ngô"] {
            assert!(!has_foreign_or_miscased_letter(correct), "{correct}");
        }
        // VNI with no foreign letter: o+â, u+ù, ô (ơ)+ù.
        assert_eq!(
            repair_misread_cell("Coâng ty Khoâng")
                .map(|r| r.text)
                .as_deref(),
            Some("Công ty Không")
        );
        assert_eq!(
            repair_misread_cell("Ngoâ Thò Thuùy")
                .map(|r| r.text)
                .as_deref(),
            Some("Ngô Thị Thúy")
        );
        assert!(has_foreign_or_miscased_letter("Lôùp môùi"));
    }

    #[test]
    fn typographic_punctuation_is_no_damage_and_survives_a_repair() {
        // An en dash is 0x96 in Windows-1252, a capital Ọ in TCVN3.
        assert_eq!(repair_misread_cell("tr. 45–52"), None);
        assert_eq!(
            repair_misread_cell("“Nông thôn mới” – giai đoạn 2021…2025"),
            None
        );
        let repair = repair_misread_cell("ViÖn C«ng nghÖ – Hµ Néi").expect("repaired");
        assert_eq!(repair.text, "Viện Công nghệ – Hà Nội");
    }

    #[test]
    fn damaged_text_scores_low_and_is_restored() {
        assert!(vietnamese_score("NguyÔn V¨n §øc") < 0);
        let repair = repair_misread_cell("NguyÔn V¨n §øc").expect("repaired");
        assert_eq!(repair.text, "Nguyễn Văn Đức");
        assert_eq!(repair.encoding, LegacyEncoding::Tcvn3);
    }
}
