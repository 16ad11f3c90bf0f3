//! The legacy decoders against glibc's `iconv`, which they must match
//! exactly: every byte alone, Vietnamese text round-tripped through iconv,
//! and thousands of random byte strings. Skipped with a notice where
//! `iconv` is missing, unless `LIENTHONG_REQUIRE_ICONV` is set (as in CI).

use std::io::Write;
use std::process::{Command, Stdio};

use lienthong_import::legacy_encoding::LegacyEncoding;

fn iconv(from: &str, to: &str, input: &[u8]) -> Option<Vec<u8>> {
    let mut child = Command::new("iconv")
        .args(["-f", from, "-t", to])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    child.stdin.take()?.write_all(input).ok()?;
    let output = child.wait_with_output().ok()?;
    output.status.success().then_some(output.stdout)
}

fn iconv_available() -> bool {
    let found = Command::new("iconv")
        .arg("--version")
        .output()
        .is_ok_and(|output| output.status.success());
    if !found {
        assert!(
            std::env::var_os("LIENTHONG_REQUIRE_ICONV").is_none(),
            "LIENTHONG_REQUIRE_ICONV is set but iconv is not installed"
        );
        eprintln!("notice: iconv not installed; the legacy-encoding comparison is skipped");
    }
    found
}

const TEXT: &str = "Nguyễn Văn Đức, Phạm Thị Thuỷ, Lê Hoà - Sở Khoa học và Công nghệ tỉnh \
                    Hưng Yên; Nghiên cứu chọn tạo giống lúa chịu mặn vùng ven biển. \
                    ĐẶNG QUỐC KHÁNH, ỨNG DỤNG TIẾN BỘ KỸ THUẬT; ỷ ỹ ỵ ữ ự ẳ ẵ ặ";

#[test]
fn every_byte_alone_reads_as_iconv_reads_it() {
    if !iconv_available() {
        return;
    }
    for encoding in LegacyEncoding::IN_ICONV {
        for byte in 0..=255u8 {
            let ours = encoding.decode(&[byte]);
            match iconv(iconv_name(encoding), "UTF-8", &[byte]) {
                Some(theirs) => assert_eq!(
                    ours.as_bytes(),
                    theirs.as_slice(),
                    "{encoding:?} byte {byte:#04x}"
                ),
                None => assert_eq!(
                    encoding.undefined_bytes(&[byte]),
                    1,
                    "{encoding:?} {byte:#04x}"
                ),
            }
        }
    }
}

#[test]
fn vietnamese_text_comes_back_as_written() {
    if !iconv_available() {
        return;
    }
    for encoding in LegacyEncoding::IN_ICONV {
        let legacy = iconv("UTF-8", iconv_name(encoding), TEXT.as_bytes())
            .unwrap_or_else(|| panic!("iconv encodes the text in {encoding:?}"));
        let decoded = encoding.decode(&legacy);
        let theirs = iconv(iconv_name(encoding), "UTF-8", &legacy).expect("iconv decodes");
        assert_eq!(
            decoded.as_bytes(),
            theirs.as_slice(),
            "{encoding:?}: as iconv"
        );
        assert_eq!(decoded, TEXT, "{encoding:?}: as written");
    }
}

#[test]
fn random_bytes_read_as_iconv_reads_them() {
    if !iconv_available() {
        return;
    }
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    for encoding in LegacyEncoding::IN_ICONV {
        // Lines of defined bytes other than the line feed, read in one call.
        let mut lines: Vec<Vec<u8>> = Vec::new();
        while lines.len() < 2_000 {
            let length = 1 + (next() % 40) as usize;
            let line: Vec<u8> = (0..length).map(|_| (next() % 256) as u8).collect();
            if !line.contains(&b'\n') && encoding.undefined_bytes(&line) == 0 {
                lines.push(line);
            }
        }
        let joined = lines.join(&b'\n');
        let theirs = iconv(iconv_name(encoding), "UTF-8", &joined).expect("iconv decodes");
        let theirs = String::from_utf8(theirs).expect("UTF-8");
        let ours: Vec<String> = lines.iter().map(|line| encoding.decode(line)).collect();
        for (index, (mine, glibc)) in ours.iter().zip(theirs.split('\n')).enumerate() {
            assert_eq!(
                mine, glibc,
                "{encoding:?} line {index}: {:x?}",
                lines[index]
            );
        }
    }
}

/// Every Vietnamese letter: each vowel (a ă â e ê i o ô ơ u ư y) with each
/// of the six tones, đ and the plain consonants, in both cases, composed.
fn every_vietnamese_letter() -> Vec<String> {
    use unicode_normalization::UnicodeNormalization;
    const TONES: [&str; 6] = ["", "\u{300}", "\u{301}", "\u{309}", "\u{303}", "\u{323}"];
    let mut letters = Vec::new();
    for vowel in ["a", "ă", "â", "e", "ê", "i", "o", "ô", "ơ", "u", "ư", "y"] {
        for tone in TONES {
            let lower: String = format!("{vowel}{tone}").nfc().collect();
            letters.push(lower.to_uppercase());
            letters.push(lower);
        }
    }
    for consonant in "bcdđghklmnpqrstvx".chars() {
        letters.push(consonant.to_string());
        letters.push(consonant.to_uppercase().to_string());
    }
    letters
}

#[test]
fn every_letter_with_every_tone_in_both_cases_reads_as_iconv_reads_it() {
    if !iconv_available() {
        return;
    }
    let letters = every_vietnamese_letter();
    assert_eq!(letters.len(), 12 * 6 * 2 + 17 * 2);
    for encoding in LegacyEncoding::IN_ICONV {
        for letter in &letters {
            let legacy = iconv("UTF-8", iconv_name(encoding), letter.as_bytes())
                .unwrap_or_else(|| panic!("iconv encodes {letter} in {encoding:?}"));
            let theirs = iconv(iconv_name(encoding), "UTF-8", &legacy).expect("iconv decodes");
            let ours = encoding.decode(&legacy);
            assert_eq!(
                ours.as_bytes(),
                theirs.as_slice(),
                "{encoding:?} {letter} ({legacy:02x?}): as iconv"
            );
            assert_eq!(&ours, letter, "{encoding:?} {legacy:02x?}: as written");
        }
    }
}

fn iconv_name(encoding: LegacyEncoding) -> &'static str {
    encoding
        .iconv_name()
        .expect("the encodings in iconv have a name there")
}
