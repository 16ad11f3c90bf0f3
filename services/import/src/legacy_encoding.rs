//! The legacy Vietnamese encodings of the departments' older files, read
//! exactly as glibc's `iconv` reads TCVN5712-1, VISCII and CP1258: each byte
//! through its table, then a base letter and the tone mark after it composed
//! into one character (Unicode NFC), as iconv composes them.
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
}

impl LegacyEncoding {
    pub const ALL: [LegacyEncoding; 3] = [
        LegacyEncoding::Tcvn3,
        LegacyEncoding::Viscii,
        LegacyEncoding::Windows1258,
    ];

    /// The name glibc's iconv knows it by.
    pub fn iconv_name(self) -> &'static str {
        match self {
            LegacyEncoding::Tcvn3 => "TCVN5712-1",
            LegacyEncoding::Viscii => "VISCII",
            LegacyEncoding::Windows1258 => "CP1258",
        }
    }

    fn table(self) -> &'static [char; 256] {
        match self {
            LegacyEncoding::Tcvn3 => &legacy_tables::TCVN3,
            LegacyEncoding::Viscii => &legacy_tables::VISCII,
            LegacyEncoding::Windows1258 => &legacy_tables::CP1258,
        }
    }

    /// `bytes` as text. A byte the encoding leaves undefined becomes
    /// U+FFFD; [`LegacyEncoding::undefined_bytes`] tells whether any did.
    pub fn decode(self, bytes: &[u8]) -> String {
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
pub fn undo_windows_1252_misreading(text: &str, encoding: LegacyEncoding) -> Option<String> {
    let bytes: Option<Vec<u8>> = text.chars().map(windows_1252_byte).collect();
    Some(encoding.decode(&bytes?))
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
