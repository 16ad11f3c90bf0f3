//! The legacy Vietnamese encodings of the departments' older files, read
//! exactly as glibc's `iconv` reads TCVN5712-1, VISCII and CP1258: each byte
//! through its table, then a base letter and the tone mark after it composed
//! into one character (Unicode NFC), as iconv composes them.
//!
//! And VNI (the VNI-Windows fonts, "VNI-Times"), which iconv does not know:
//! Windows-1252 bytes where a plain letter is followed by one byte holding
//! its marks ("Vieät" for "Việt", "Tröôøng" for "Trường"), read here
//! from VNI's published table ([`vni_marks`]).
//!
//! Also the commonest damage such files carry: legacy bytes once read as
//! Windows-1252 and saved again as UTF-8 ("NguyÔn V¨n §øc" for "Nguyễn Văn
//! Đức"), undone by [`undo_windows_1252_misreading`].

use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::canonical_combining_class;

use crate::legacy_tables;

/// A legacy single-byte encoding of Vietnamese.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LegacyEncoding {
    /// TCVN 5712:1993, the "ABC" fonts (.VnTime): glibc's TCVN5712-1.
    Tcvn3,
    /// VISCII 1.1.
    Viscii,
    /// Windows-1258, with tone marks as separate characters.
    Windows1258,
    /// VNI-Windows: Windows-1252 bytes, marks in the byte after a letter.
    Vni,
}

impl LegacyEncoding {
    /// Every encoding, in the order ties are settled.
    pub const ALL: [LegacyEncoding; 4] = [
        LegacyEncoding::Tcvn3,
        LegacyEncoding::Viscii,
        LegacyEncoding::Windows1258,
        LegacyEncoding::Vni,
    ];

    /// The encodings glibc's iconv converts (the tests hold these to it).
    pub const IN_ICONV: [LegacyEncoding; 3] = [
        LegacyEncoding::Tcvn3,
        LegacyEncoding::Viscii,
        LegacyEncoding::Windows1258,
    ];

    /// The name glibc's iconv knows it by; `None` for VNI, which it does
    /// not know.
    pub fn iconv_name(self) -> Option<&'static str> {
        match self {
            LegacyEncoding::Tcvn3 => Some("TCVN5712-1"),
            LegacyEncoding::Viscii => Some("VISCII"),
            LegacyEncoding::Windows1258 => Some("CP1258"),
            LegacyEncoding::Vni => None,
        }
    }

    /// How the report and the summary name it.
    pub fn label(self) -> &'static str {
        match self {
            LegacyEncoding::Tcvn3 => "TCVN3 (TCVN 5712, ABC)",
            LegacyEncoding::Viscii => "VISCII",
            LegacyEncoding::Windows1258 => "Windows-1258",
            LegacyEncoding::Vni => "VNI (VNI-Windows)",
        }
    }

    /// The rule a cell repaired from it is listed under.
    pub fn repair_rule(self) -> &'static str {
        match self {
            LegacyEncoding::Tcvn3 => "legacy_tcvn3",
            LegacyEncoding::Viscii => "legacy_viscii",
            LegacyEncoding::Windows1258 => "legacy_cp1258",
            LegacyEncoding::Vni => "legacy_vni",
        }
    }

    fn table(self) -> &'static [char; 256] {
        match self {
            LegacyEncoding::Tcvn3 => &legacy_tables::TCVN3,
            LegacyEncoding::Viscii => &legacy_tables::VISCII,
            LegacyEncoding::Windows1258 => &legacy_tables::CP1258,
            LegacyEncoding::Vni => &legacy_tables::CP1252,
        }
    }

    /// `bytes` as text. A byte the encoding leaves undefined becomes
    /// U+FFFD; [`LegacyEncoding::undefined_bytes`] tells whether any did.
    pub fn decode(self, bytes: &[u8]) -> String {
        if self == LegacyEncoding::Vni {
            return decode_vni(bytes);
        }
        let table = self.table();
        let mut text = String::with_capacity(bytes.len());
        let mut previous: Option<char> = None;
        for byte in bytes {
            let c = table[usize::from(*byte)];
            // A letter and the one mark right after it become one character
            // where Unicode has it, as iconv composes them (pairwise, without
            // reordering marks as full NFC would).
            if let Some(composed) = previous.and_then(|base| compose_pair(base, c)) {
                text.pop();
                text.push(composed);
                previous = Some(composed);
            } else {
                text.push(c);
                previous = Some(c);
            }
        }
        text
    }

    /// How many of `bytes` the encoding leaves undefined.
    pub fn undefined_bytes(self, bytes: &[u8]) -> usize {
        let table = self.table();
        bytes
            .iter()
            .filter(|byte| table[usize::from(**byte)] == '\u{FFFD}')
            .count()
    }
}

/// VNI bytes as text: a letter and the byte of marks after it as one
/// character ("e" + 0xE4 → "ệ"), the letters VNI gives a byte of their own
/// ("ô" 0xF4 → "ơ", "ñ" → "đ"), and every other byte as Windows-1252 reads
/// it.
fn decode_vni(bytes: &[u8]) -> String {
    let mut text = String::with_capacity(bytes.len());
    let mut previous: Option<char> = None;
    for byte in bytes {
        if let Some(base) = previous
            && let Some(marks) = vni_marks(*byte)
            && match marks[0] {
                '\u{302}' => matches!(base, 'a' | 'e' | 'o' | 'A' | 'E' | 'O'),
                '\u{306}' => matches!(base, 'a' | 'A'),
                _ => true,
            }
        {
            let mut composed = std::iter::once(base).chain(marks.iter().copied()).nfc();
            if let (Some(one), None) = (composed.next(), composed.next()) {
                text.pop();
                text.push(one);
                previous = None;
                continue;
            }
        }
        let c = vni_letter(*byte).unwrap_or(legacy_tables::CP1252[usize::from(*byte)]);
        text.push(c);
        // Marks go on a vowel VNI writes as a letter and marks: a e o u y,
        // and ơ ư (whose horn has a byte of its own).
        previous = matches!(
            c,
            'a' | 'e' | 'o' | 'u' | 'y' | 'ơ' | 'ư' | 'A' | 'E' | 'O' | 'U' | 'Y' | 'Ơ' | 'Ư'
        )
        .then_some(c);
    }
    text
}

/// Whether `c` is what Windows-1252 shows for a VNI byte of marks (ã for
/// the circumflex and tilde of "ễ" in "Nguyeãn").
pub fn is_vni_mark(c: char) -> bool {
    u8::try_from(u32::from(c)).is_ok_and(|byte| vni_marks(byte).is_some())
}

/// The letters VNI writes as one byte: ơ ư đ, and i and ỵ with their tones.
fn vni_letter(byte: u8) -> Option<char> {
    Some(match byte {
        0xF4 => 'ơ',
        0xD4 => 'Ơ',
        0xF6 => 'ư',
        0xD6 => 'Ư',
        0xF1 => 'đ',
        0xD1 => 'Đ',
        0xED => 'í',
        0xCD => 'Í',
        0xEC => 'ì',
        0xCC => 'Ì',
        0xE6 => 'ỉ',
        0xC6 => 'Ỉ',
        0xF3 => 'ĩ',
        0xD3 => 'Ĩ',
        0xF2 => 'ị',
        0xD2 => 'Ị',
        0xEE => 'ỵ',
        0xCE => 'Ỵ',
        _ => return None,
    })
}

/// The marks a VNI byte puts on the letter before it: a tone; a
/// circumflex (â ê ô) or a breve (ă), alone or with a tone. Lower-case
/// letters take the byte in 0xE0–0xFF, capitals the one 0x20 below.
pub fn vni_marks(byte: u8) -> Option<&'static [char]> {
    const ACUTE: char = '\u{301}';
    const GRAVE: char = '\u{300}';
    const HOOK: char = '\u{309}';
    const TILDE: char = '\u{303}';
    const DOT: char = '\u{323}';
    const HAT: char = '\u{302}';
    const BREVE: char = '\u{306}';
    if byte < 0xC0 {
        return None;
    }
    Some(match byte | 0x20 {
        0xF9 => &[ACUTE],
        0xF8 => &[GRAVE],
        0xFB => &[HOOK],
        0xF5 => &[TILDE],
        0xEF => &[DOT],
        0xE2 => &[HAT],
        0xE1 => &[HAT, ACUTE],
        0xE0 => &[HAT, GRAVE],
        0xE5 => &[HAT, HOOK],
        0xE3 => &[HAT, TILDE],
        0xE4 => &[HAT, DOT],
        0xEA => &[BREVE],
        0xE9 => &[BREVE, ACUTE],
        0xE8 => &[BREVE, GRAVE],
        0xFA => &[BREVE, HOOK],
        0xFC => &[BREVE, TILDE],
        0xEB => &[BREVE, DOT],
        _ => return None,
    })
}

/// `base` and the mark `mark` as one character, where one has exactly
/// those marks in some order, as iconv's table has it: Ê and a dot below
/// make Ệ (which decomposes to E, dot below, circumflex), ú and a tilde
/// make ṹ. A mark nothing takes stays a character of its own.
fn compose_pair(base: char, mark: char) -> Option<char> {
    if canonical_combining_class(mark) == 0 {
        return None;
    }
    let decomposed: Vec<char> = std::iter::once(base).nfd().collect();
    (1..=decomposed.len()).find_map(|at| {
        let mut candidate = decomposed.clone();
        candidate.insert(at, mark);
        let mut composed = candidate.into_iter().nfc();
        match (composed.next(), composed.next()) {
            (Some(one), None) => Some(one),
            _ => None,
        }
    })
}

/// `text` as it was before legacy bytes (in `encoding`) were read as
/// Windows-1252 and saved again as UTF-8: the characters back to their
/// Windows-1252 bytes, those decoded as `encoding`. `None` when `text`
/// holds a character Windows-1252 cannot have produced (so it was not
/// damaged this way).
///
/// Typographic punctuation (dashes, curly quotes, the ellipsis) stays as
/// it is: such cells were typed in Unicode around the damaged words, and
/// the bytes Windows-1252 shows as punctuation are capitals with tones in
/// TCVN3, which its fonts wrote with other bytes.
pub fn undo_windows_1252_misreading(text: &str, encoding: LegacyEncoding) -> Option<String> {
    let mut restored = String::with_capacity(text.len());
    let mut run = Vec::new();
    for c in text.chars() {
        if is_typographic_punctuation(c) {
            restored.push_str(&encoding.decode(&run));
            run.clear();
            restored.push(c);
        } else {
            run.push(windows_1252_byte(c)?);
        }
    }
    restored.push_str(&encoding.decode(&run));
    Some(restored)
}

/// Dashes, quotes, bullets and the ellipsis of Unicode's General
/// Punctuation block.
pub fn is_typographic_punctuation(c: char) -> bool {
    ('\u{2010}'..='\u{2027}').contains(&c)
}

/// The Windows-1252 byte that reads as `c`.
fn windows_1252_byte(c: char) -> Option<u8> {
    if c == '\u{FFFD}' {
        return None;
    }
    legacy_tables::CP1252
        .iter()
        .position(|mapped| *mapped == c)
        .and_then(|position| u8::try_from(position).ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_misread_as_windows_1252_is_restored() {
        assert_eq!(
            undo_windows_1252_misreading("NguyÔn V¨n §øc", LegacyEncoding::Tcvn3).as_deref(),
            Some("Nguyễn Văn Đức")
        );
        // Not something Windows-1252 produces: left alone.
        assert_eq!(
            undo_windows_1252_misreading("Nguyễn", LegacyEncoding::Tcvn3),
            None
        );
    }

    #[test]
    fn vni_reads_as_its_fonts_show_it() {
        let vni = |text: &str| {
            let bytes: Vec<u8> = text
                .chars()
                .map(|c| windows_1252_byte(c).expect("Windows-1252"))
                .collect();
            LegacyEncoding::Vni.decode(&bytes)
        };
        assert_eq!(vni("Nguyeãn Vaên Ñöùc"), "Nguyễn Văn Đức");
        assert_eq!(vni("Tröôøng Ñaïi hoïc"), "Trường Đại học");
        assert_eq!(vni("Vieät Nam, Höng Yeân"), "Việt Nam, Hưng Yên");
        assert_eq!(vni("NGUYEÃN VAÊN ÑÖÙC"), "NGUYỄN VĂN ĐỨC");
        assert_eq!(
            vni("Naëng, khoûe, Hoà Chí Minh, hyû"),
            "Nặng, khỏe, Hồ Chí Minh, hỷ"
        );
        assert_eq!(
            vni("thöïc hieän, ngöôøi, Quyønh, ñòa lyù"),
            "thực hiện, người, Quỳnh, địa lý"
        );
        // A mark byte after a consonant stays what Windows-1252 shows.
        assert_eq!(vni("Café"), "Café");
        assert_eq!(LegacyEncoding::Vni.undefined_bytes(b"a\x81b"), 1);
    }

    #[test]
    fn a_tone_mark_after_its_letter_becomes_one_character() {
        // Windows-1258 writes á as a + U+0301.
        assert_eq!(LegacyEncoding::Windows1258.decode(b"a\xec"), "á");
        assert_eq!(
            LegacyEncoding::Windows1258.decode(b"a\xec").chars().count(),
            1
        );
        assert_eq!(LegacyEncoding::Windows1258.undefined_bytes(b"a\x81b"), 1);
    }
}
