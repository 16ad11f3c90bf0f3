//! Words typed with a Vietnamese input method in the wrong mode.
//!
//! With Telex or VNI switched off, the keys that would have made the marks
//! stay in the word: "Nguyễn" comes out as "nguyeenx" (Telex) or "nguye64n"
//! (VNI). [`typed_reading`] reads such a folded word back as the letters it
//! stands for ("nguyen"), so a search still finds what was meant.
//!
//! A reading is offered only when the result is a well-formed Vietnamese
//! syllable and the word as typed is not: "hoa", "xuan" and "ngoc" are left
//! alone, and so are English words and codes ("green", "covid19").

/// Initial consonants of a Vietnamese syllable, longest first.
const INITIALS: &[&str] = &[
    "ngh", "ng", "nh", "ch", "gh", "gi", "kh", "ph", "qu", "th", "tr", "b", "c", "d", "g", "h",
    "k", "l", "m", "n", "p", "r", "s", "t", "v", "x", "",
];

/// Final consonants and glides, longest first.
const FINALS: &[&str] = &[
    "ng", "nh", "ch", "c", "m", "n", "p", "t", "i", "y", "o", "u", "",
];

/// The vowel nuclei of Vietnamese syllables, folded.
const NUCLEI: &[&str] = &[
    "uye", "uya", "uyu", "ieu", "uoi", "uou", "yeu", "oai", "oay", "uay", "ie", "ye", "uo", "ua",
    "ia", "ue", "oa", "oe", "oo", "uy", "uu", "ui", "oi", "iu", "eo", "ai", "ao", "au", "ay", "a",
    "e", "i", "o", "u", "y",
];

/// Whether a folded word is shaped like one Vietnamese syllable.
pub fn is_syllable(word: &str) -> bool {
    if word.is_empty() || word.len() > 8 || !word.bytes().all(|b| b.is_ascii_lowercase()) {
        return false;
    }
    INITIALS.iter().any(|initial| {
        word.strip_prefix(initial).is_some_and(|rest| {
            NUCLEI.iter().any(|nucleus| {
                rest.strip_prefix(nucleus)
                    .is_some_and(|tail| FINALS.contains(&tail))
            })
        })
    })
}

/// The letters a folded word typed with Telex or VNI keys stands for, when it
/// reads as a syllable and the word as typed does not. `None` otherwise.
pub fn typed_reading(word: &str) -> Option<String> {
    if is_syllable(word) || !word.is_ascii() {
        return None;
    }
    [vni_letters(word), telex_letters(word)]
        .into_iter()
        .flatten()
        .find(|reading| reading != word && is_syllable(reading))
}

/// VNI puts the marks as digits 1-9 after the letters they change.
fn vni_letters(word: &str) -> Option<String> {
    let starts_with_letter = word.bytes().next().is_some_and(|b| b.is_ascii_alphabetic());
    let has_mark = word.bytes().any(|b| (b'1'..=b'9').contains(&b));
    if !starts_with_letter || !has_mark || word.contains('0') {
        return None;
    }
    Some(word.chars().filter(|c| c.is_ascii_alphabetic()).collect())
}

/// Telex doubles a vowel for its circumflex (aa, ee, oo), types dd for đ, w
/// after a vowel for the horn or breve (aw, ow, uw, or w alone for ư) and
/// ends the word with a tone key (s, f, r, x, j) or z.
fn telex_letters(word: &str) -> Option<String> {
    if !word.bytes().all(|b| b.is_ascii_lowercase()) {
        return None;
    }
    let mut letters = String::with_capacity(word.len());
    let mut chars = word.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            'a' | 'e' | 'o' | 'd' if chars.peek() == Some(&c) => {
                chars.next();
                letters.push(c);
            }
            'w' => {
                if !letters.ends_with(['a', 'o', 'u']) {
                    letters.push('u');
                }
            }
            c => letters.push(c),
        }
    }
    // A tone key typed at the end, or after the vowels and before the final
    // consonant ("nguyeenx", "hoafng", "ngocj"); never before the first vowel.
    let first_vowel = letters.find(['a', 'e', 'i', 'o', 'u', 'y'])?;
    let without_tone: Option<String> = letters
        .char_indices()
        .rev()
        .find(|&(index, c)| index > first_vowel && "sfrxjz".contains(c))
        .map(|(index, _)| {
            let mut stripped = letters.clone();
            stripped.remove(index);
            stripped
        });
    match without_tone {
        Some(stripped) if !is_syllable(&letters) && is_syllable(&stripped) => Some(stripped),
        _ => Some(letters),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn telex_residue_reads_as_the_letters_meant() {
        assert_eq!(typed_reading("nguyeenx").as_deref(), Some("nguyen"));
        assert_eq!(typed_reading("xuaan").as_deref(), Some("xuan"));
        assert_eq!(typed_reading("hair").as_deref(), Some("hai"));
        assert_eq!(typed_reading("ddinh").as_deref(), Some("dinh"));
        assert_eq!(typed_reading("truwowngf").as_deref(), Some("truong"));
        assert_eq!(typed_reading("thuyr").as_deref(), Some("thuy"));
        assert_eq!(typed_reading("hoafng").as_deref(), Some("hoang"));
    }

    #[test]
    fn vni_residue_reads_as_the_letters_meant() {
        assert_eq!(typed_reading("nguye6n").as_deref(), Some("nguyen"));
        assert_eq!(typed_reading("nguye64n").as_deref(), Some("nguyen"));
        assert_eq!(typed_reading("d9inh").as_deref(), Some("dinh"));
        assert_eq!(typed_reading("ha3i").as_deref(), Some("hai"));
    }

    #[test]
    fn syllables_codes_and_foreign_words_are_left_alone() {
        for word in [
            "nguyen", "xuan", "hoa", "ngoc", "thuy", "truong", "green", "covid19", "2024",
            "ab12cd", "s", "x",
        ] {
            assert_eq!(typed_reading(word), None, "{word}");
        }
    }
}
