//! Property tests (proptest) of what reads departments' sheets: the date
//! and money parsers, the CSV reader, the encoding detector. Each property
//! runs 256 cases by default; `PROPTEST_CASES=100000` for a long run (the
//! result of one is in docs/import.md).
//!
//! Arbitrary input must never panic; well-formed input in any of the
//! accepted spellings must read back as what was written.

use std::io::Cursor;

use lienthong_import::csv_source::{CsvRows, FileEncoding, detect_encoding};
use lienthong_import::legacy_encoding::LegacyEncoding;
use lienthong_import::values::{PartialDate, excel_serial, money, partial_date};
use proptest::prelude::*;

/// A real date between 1900 and 2100.
fn date() -> impl Strategy<Value = time::Date> {
    let first = time::Date::from_calendar_date(1900, time::Month::January, 1)
        .expect("a date")
        .to_julian_day();
    let last = time::Date::from_calendar_date(2100, time::Month::December, 31)
        .expect("a date")
        .to_julian_day();
    (first..=last).prop_map(|day| time::Date::from_julian_day(day).expect("a day"))
}

fn full(date: time::Date) -> PartialDate {
    PartialDate {
        year: date.year() as u32,
        month: Some(u8::from(date.month()).into()),
        day: Some(date.day().into()),
    }
}

proptest! {
    // Failures are reported with their minimal input; none is kept on disk.
    #![proptest_config(ProptestConfig {
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn a_date_reads_back_in_every_spelling_sheets_use(date in date(), separator in "[/.-]") {
        let (y, m, d) = (date.year(), u8::from(date.month()), date.day());
        for spelling in [
            format!("{d}{separator}{m}{separator}{y}"),
            format!("{d:02}{separator}{m:02}{separator}{y}"),
            format!(" {d}{separator}{m}{separator}{y} "),
            format!("{y}-{m:02}-{d:02}"),
        ] {
            prop_assert_eq!(partial_date(&spelling), Some(full(date)), "{}", spelling);
        }
        let month_year = PartialDate { year: y as u32, month: Some(m.into()), day: None };
        prop_assert_eq!(partial_date(&format!("{m:02}/{y}")), Some(month_year));
        let year = PartialDate { year: y as u32, month: None, day: None };
        prop_assert_eq!(partial_date(&y.to_string()), Some(year));
    }

    #[test]
    fn an_excel_serial_is_the_day_excel_means(date in date(), time_of_day in 0.0f64..0.999) {
        let epoch = time::Date::from_calendar_date(1899, time::Month::December, 30)
            .expect("Excel's day zero");
        let serial = date.to_julian_day() - epoch.to_julian_day();
        prop_assert_eq!(excel_serial(&serial.to_string()), Some(full(date)));
        let with_time = format!("{}", serial as f64 + time_of_day);
        prop_assert_eq!(excel_serial(&with_time), Some(full(date)), "{}", with_time);
    }

    #[test]
    fn a_day_past_the_end_of_its_month_is_no_date(date in date(), past in 1u32..5) {
        let (y, m) = (date.year(), u8::from(date.month()));
        let days = date.month().length(y) as u32;
        let spelling = format!("{}/{m}/{y}", days + past);
        prop_assert_eq!(partial_date(&spelling), None, "{}", spelling);
    }

    #[test]
    fn any_text_as_a_date_is_an_answer_not_a_panic(text in ".{0,40}") {
        if let Some(date) = partial_date(&text) {
            prop_assert!((1900..=2100).contains(&date.year));
        }
    }

    #[test]
    fn an_amount_in_dong_reads_back_with_either_separator(
        amount in 0u64..1_000_000_000_000_000,
        unit in prop::sample::select(vec!["", " đồng", " VNĐ", " đ", "đ"]),
    ) {
        for separator in ['.', ','] {
            let written = format!("{}{unit}", grouped(amount, separator));
            prop_assert_eq!(money(&written), Some(amount), "{}", written);
        }
    }

    #[test]
    fn millions_and_billions_read_as_written(
        whole in 1u64..10_000,
        hundredths in 0u64..100,
        unit in prop::sample::select(vec![
            (" triệu", 1_000_000u64), (" tr", 1_000_000), ("tr", 1_000_000),
            (" trđ", 1_000_000), (" tỷ", 1_000_000_000), (" tỉ", 1_000_000_000),
            (" tỷ đồng", 1_000_000_000), (" triệu đồng", 1_000_000),
        ]),
        separator in prop::sample::select(vec![',', '.']),
    ) {
        let (unit, scale) = unit;
        prop_assert_eq!(money(&format!("{whole}{unit}")), Some(whole * scale));
        let written = format!("{whole}{separator}{hundredths:02}{unit}");
        prop_assert_eq!(
            money(&written),
            Some(whole * scale + hundredths * scale / 100),
            "{}", written
        );
    }

    #[test]
    fn three_digits_after_one_separator_before_a_unit_are_refused(
        whole in 1u64..1_000,
        thousandths in 0u64..1_000,
        unit in prop::sample::select(vec![" tỷ", " triệu"]),
    ) {
        // "1,250 tỷ": 1.25 billion or 1,250 billion? Refused, not guessed.
        let written = format!("{whole},{thousandths:03}{unit}");
        prop_assert_eq!(money(&written), None, "{}", written);
    }

    #[test]
    fn any_text_as_money_is_an_answer_not_a_panic(text in ".{0,40}") {
        if let Some(amount) = money(&text) {
            prop_assert!(amount < 10_000_000_000_000_000);
        }
    }

    #[test]
    fn rows_written_as_csv_read_back_cell_for_cell_on_their_lines(
        rows in prop::collection::vec(prop::collection::vec(cell(), 3), 1..30),
        crlf in any::<bool>(),
        utf16 in any::<bool>(),
    ) {
        let mut writer = csv::WriterBuilder::new()
            .terminator(if crlf { csv::Terminator::CRLF } else { csv::Terminator::Any(b'\n') })
            .from_writer(Vec::new());
        // A header that makes the comma the separator, as real sheets do.
        let header = ["STT", "Họ và tên", "Ghi chú"];
        writer.write_record(header).expect("write");
        let mut expected_lines = Vec::new();
        let mut line = 2u64;
        for row in &rows {
            expected_lines.push(line);
            writer.write_record(row).expect("write");
            line += 1 + row.iter().map(|cell| cell.matches('\n').count() as u64).sum::<u64>();
        }
        let text = String::from_utf8(writer.into_inner().expect("flush")).expect("UTF-8");
        let bytes = if utf16 {
            let mut bytes = vec![0xFF, 0xFE];
            bytes.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
            bytes
        } else {
            text.into_bytes()
        };
        let mut read = CsvRows::open(Cursor::new(bytes)).expect("open");
        let first = read.next_row().expect("the header").expect("a row");
        prop_assert_eq!(first.cells, header.map(str::to_owned).to_vec());
        for (row, line) in rows.iter().zip(expected_lines) {
            let got = read.next_row().expect("a row").expect("text");
            prop_assert_eq!(&got.cells, row);
            prop_assert_eq!(got.line, line);
        }
        prop_assert!(read.next_row().is_none());
    }

    #[test]
    fn any_bytes_as_a_sheet_are_rows_or_errors_never_a_panic(
        bytes in prop::collection::vec(any::<u8>(), 0..2_000),
    ) {
        if let Ok(mut rows) = CsvRows::open(Cursor::new(bytes.clone())) {
            let mut count = 0;
            while let Some(row) = rows.next_row() {
                if let Ok(row) = row {
                    prop_assert!(row.line >= 1);
                }
                count += 1;
                prop_assert!(count <= bytes.len() + 1, "more rows than bytes");
            }
        }
    }

    #[test]
    fn vietnamese_text_in_a_legacy_encoding_is_recognised_and_read_back(
        words in prop::collection::vec(vietnamese_word(), 12..40),
        encoding in prop::sample::select(LegacyEncoding::ALL.to_vec()),
    ) {
        let text = words.join(" ");
        let Some(bytes) = encode(&text, encoding) else {
            // A letter this encoding writes with several bytes; the
            // single-byte table built here does not cover it.
            return Ok(());
        };
        prop_assert_eq!(detect_encoding(&bytes).ok(), Some(FileEncoding::Legacy(encoding)));
        prop_assert_eq!(encoding.decode(&bytes), text);
    }

    #[test]
    fn vietnamese_text_in_utf8_is_utf8(words in prop::collection::vec(vietnamese_word(), 1..40)) {
        let text = words.join(" ");
        prop_assert_eq!(detect_encoding(text.as_bytes()).ok(), Some(FileEncoding::Utf8));
    }

    #[test]
    fn any_bytes_get_an_encoding_or_an_error_never_a_panic(
        bytes in prop::collection::vec(any::<u8>(), 0..4_000),
    ) {
        let _ = detect_encoding(&bytes);
    }
}

/// `amount` with its thousands grouped by `separator`.
fn grouped(amount: u64, separator: char) -> String {
    let digits = amount.to_string();
    let mut out = String::new();
    for (index, digit) in digits.chars().enumerate() {
        if index > 0 && (digits.len() - index).is_multiple_of(3) {
            out.push(separator);
        }
        out.push(digit);
    }
    out
}

/// A cell as sheets have them: Vietnamese words, digits, punctuation that
/// CSV must quote (comma, quote, line break), or nothing.
fn cell() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(String::new()),
        "[A-Za-zĐđăâêôơưàáảãạằắẳẵặầấẩẫậèéẻẽẹềếểễệìíỉĩịòóỏõọồốổỗộờớởỡợùúủũụừứửữựỳýỷỹỵ0-9 ,;\"\n]{1,24}",
    ]
    .prop_filter("a cell of only spaces is trimmed by no one", |cell| {
        // The reader keeps cells as written; only the sample must not look
        // like another separator's header.
        !cell.starts_with('\u{feff}')
    })
}

fn vietnamese_word() -> impl Strategy<Value = String> {
    prop::sample::select(vec![
        "Nguyễn",
        "Văn",
        "Đức",
        "Phạm",
        "Thị",
        "Thuỷ",
        "nghiên",
        "cứu",
        "giống",
        "lúa",
        "chịu",
        "mặn",
        "ven",
        "biển",
        "Sở",
        "Khoa",
        "học",
        "Công",
        "nghệ",
        "tỉnh",
        "Hưng",
        "Yên",
        "ứng",
        "dụng",
        "kỹ",
        "thuật",
        "nông",
        "nghiệp",
        "Trần",
        "Hoàng",
        "Lê",
        "Đặng",
        "Bùi",
        "Đỗ",
        "Hồ",
        "Ngô",
        "Dương",
        "Lý",
        "Quốc",
        "Khánh",
        "Hải",
        "Hương",
        "Phương",
        "Thành",
        "Trường",
        "Việt",
        "Nam",
        "Định",
        "xuất",
        "bản",
    ])
    .prop_map(str::to_owned)
}

/// `text` in `encoding`, through the inverse of the decoder: a character's
/// single byte, or else a letter's byte and the byte of marks after it
/// (VNI's "e" + 0xE3 for "ễ", Windows-1258's "ê" + 0xDE); `None` when a
/// character has neither.
fn encode(text: &str, encoding: LegacyEncoding) -> Option<Vec<u8>> {
    type Table = std::collections::HashMap<char, Vec<u8>>;
    static TABLES: std::sync::OnceLock<Vec<Table>> = std::sync::OnceLock::new();
    let tables = TABLES.get_or_init(|| LegacyEncoding::ALL.map(encoder_table).to_vec());
    let at = LegacyEncoding::ALL.iter().position(|e| *e == encoding)?;
    let mut bytes = Vec::new();
    for c in text.chars() {
        bytes.extend_from_slice(tables[at].get(&c)?);
    }
    Some(bytes)
}

/// Each character's bytes in `encoding`.
fn encoder_table(encoding: LegacyEncoding) -> std::collections::HashMap<char, Vec<u8>> {
    let mut table: std::collections::HashMap<char, Vec<u8>> = std::collections::HashMap::new();
    let one_char = |decoded: String| {
        let mut chars = decoded.chars();
        match (chars.next(), chars.next()) {
            (Some(c), None) => Some(c),
            _ => None,
        }
    };
    let singles = |table: &mut std::collections::HashMap<char, Vec<u8>>| {
        for byte in 0..=255u8 {
            if let Some(c) = one_char(encoding.decode(&[byte])) {
                table.entry(c).or_insert_with(|| vec![byte]);
            }
        }
    };
    // VNI writes "à" as "a" and its marks, never as the byte Windows-1252
    // shows as à (after a vowel, that byte is marks).
    if encoding != LegacyEncoding::Vni {
        singles(&mut table);
    }
    for letter in 0x20..=255u8 {
        for marks in 0x80..=255u8 {
            if let Some(c) = one_char(encoding.decode(&[letter, marks])) {
                table.entry(c).or_insert_with(|| vec![letter, marks]);
            }
        }
    }
    singles(&mut table);
    table
}

/// Found by a long run: few distinct words of VISCII read as TCVN3 looked
/// just as Vietnamese once folded ("Nguyưn Phếm cháu Sã").
#[test]
fn a_short_viscii_sample_of_few_words_is_viscii() {
    let text = "Nguyễn Phạm Phạm Nguyễn ven Phạm chịu Nguyễn Sở Phạm Phạm Sở";
    let bytes = encode(text, LegacyEncoding::Viscii).expect("VISCII has every letter");
    assert_eq!(
        detect_encoding(&bytes).ok(),
        Some(FileEncoding::Legacy(LegacyEncoding::Viscii))
    );
}

/// Found by a second long run: "Phạm Lê Sở Văn ven" in VISCII read as
/// TCVN3 is "Phếm Lờ Sã Vồn ven", every word a well-formed syllable; only
/// the words tell the readings apart.
#[test]
fn a_viscii_sample_whose_misreading_keeps_every_syllable_is_viscii() {
    let text = "Phạm Lê Sở ven Phạm Phạm Lê Văn Sở Văn ven Lê";
    let bytes = encode(text, LegacyEncoding::Viscii).expect("VISCII has every letter");
    assert_eq!(
        detect_encoding(&bytes).ok(),
        Some(FileEncoding::Legacy(LegacyEncoding::Viscii))
    );
}
