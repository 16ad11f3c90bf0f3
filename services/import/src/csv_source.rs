//! Reading a CSV file row by row, whatever its encoding: UTF-8 (with or
//! without a byte-order mark), UTF-16 (by its mark), or a legacy byte
//! encoding (TCVN3, VISCII, Windows-1258) told from how Vietnamese the
//! first 64 KiB read in each. The separator (comma, semicolon or tab) is
//! the one the first line uses most. Rows stream: memory does not grow
//! with the file.

use std::io::{BufReader, Read};

use crate::ImportError;
use crate::legacy_encoding::LegacyEncoding;
use crate::rows::RowSource;
use crate::text_repair::vietnamese_score;

/// Bytes read to tell the encoding and the separator.
const SAMPLE_BYTES: usize = 64 * 1024;

/// How a file's bytes are text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileEncoding {
    Utf8,
    /// UTF-8 after a byte-order mark (as Excel writes "CSV UTF-8").
    Utf8WithMark,
    Utf16LittleEndian,
    Utf16BigEndian,
    Legacy(LegacyEncoding),
}

impl FileEncoding {
    pub fn label(self) -> &'static str {
        match self {
            FileEncoding::Utf8 => "UTF-8",
            FileEncoding::Utf8WithMark => "UTF-8 with byte-order mark",
            FileEncoding::Utf16LittleEndian => "UTF-16LE",
            FileEncoding::Utf16BigEndian => "UTF-16BE",
            FileEncoding::Legacy(encoding) => encoding.label(),
        }
    }
}

pub use crate::rows::SourceRow;

/// Rows of a CSV file, decoded.
pub struct CsvRows {
    reader: csv::Reader<Box<dyn Read + Send>>,
    encoding: FileEncoding,
    record: csv::ByteRecord,
    /// Lines end in CR LF: the CSV reader numbers a record before reading
    /// the LF that ends the line before it, one line short.
    crlf: bool,
    rows_read: u64,
}

impl CsvRows {
    /// Opens `input`, telling its encoding from its first bytes.
    pub fn open(mut input: impl Read + Send + 'static) -> Result<CsvRows, ImportError> {
        let mut sample = Vec::with_capacity(SAMPLE_BYTES);
        (&mut input)
            .take(SAMPLE_BYTES as u64)
            .read_to_end(&mut sample)
            .map_err(ImportError::Read)?;
        let encoding = detect_encoding(&sample)?;
        let rest = std::io::Cursor::new(sample).chain(input);
        let bytes: Box<dyn Read + Send> = match encoding {
            FileEncoding::Utf16LittleEndian | FileEncoding::Utf16BigEndian => Box::new(
                Utf16ToUtf8::new(rest, encoding == FileEncoding::Utf16BigEndian),
            ),
            _ => Box::new(rest),
        };
        let mut bytes = BufReader::with_capacity(SAMPLE_BYTES, bytes);
        let (separator, crlf) = {
            use std::io::BufRead;
            let head = bytes.fill_buf().map_err(ImportError::Read)?;
            let first_line = head.split(|b| *b == b'\n').next().unwrap_or(head);
            (separator_of(head), first_line.ends_with(b"\r"))
        };
        let reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .delimiter(separator)
            .from_reader(Box::new(bytes) as Box<dyn Read + Send>);
        Ok(CsvRows {
            reader,
            encoding,
            record: csv::ByteRecord::new(),
            crlf,
            rows_read: 0,
        })
    }

    pub fn encoding(&self) -> FileEncoding {
        self.encoding
    }

    /// The next row; `None` at the end. A row whose bytes are not text in
    /// the file's encoding is an error naming its line and column.
    pub fn next_row(&mut self) -> Option<Result<SourceRow, ImportError>> {
        RowSource::next_row(self)
    }
}

impl RowSource for CsvRows {
    fn next_row(&mut self) -> Option<Result<SourceRow, ImportError>> {
        match self.reader.read_byte_record(&mut self.record) {
            Ok(false) => None,
            Err(error) => Some(Err(ImportError::Csv(error.to_string()))),
            Ok(true) => {
                let mut line = self.record.position().map_or(0, |position| position.line());
                if self.crlf && self.rows_read > 0 {
                    line += 1;
                }
                self.rows_read += 1;
                if let Some(error) = runaway_cell(&self.record, line) {
                    return Some(Err(error));
                }
                let mut cells = Vec::with_capacity(self.record.len());
                for (column, bytes) in self.record.iter().enumerate() {
                    match decode_cell(self.encoding, bytes) {
                        Some(text) => cells.push(text),
                        None => {
                            return Some(Err(ImportError::NotText {
                                line,
                                column: column + 1,
                                encoding: self.encoding.label(),
                            }));
                        }
                    }
                }
                Some(Ok(SourceRow { line, cells }))
            }
        }
    }
}

/// Line breaks one cell may hold: lists typed with Alt+Enter have a few.
const MAX_CELL_LINES: usize = 200;
/// Bytes one cell may hold.
const MAX_CELL_BYTES: usize = 64 * 1024;

/// A cell too long to be one: almost always a quote opened and never
/// closed, which makes the rest of the file one cell. Refused, since the
/// rows it swallowed cannot be told apart.
fn runaway_cell(record: &csv::ByteRecord, line: u64) -> Option<ImportError> {
    let (column, cell) = record.iter().enumerate().find(|(_, cell)| {
        cell.len() > MAX_CELL_BYTES || cell.iter().filter(|b| **b == b'\n').count() > MAX_CELL_LINES
    })?;
    Some(ImportError::RunawayCell {
        line,
        column: column + 1,
        lines: cell.iter().filter(|b| **b == b'\n').count() + 1,
        bytes: cell.len(),
    })
}

fn decode_cell(encoding: FileEncoding, bytes: &[u8]) -> Option<String> {
    match encoding {
        FileEncoding::Legacy(legacy) => Some(legacy.decode(bytes)),
        // UTF-16 was transcoded to UTF-8 on the way in.
        _ => std::str::from_utf8(bytes).ok().map(str::to_owned),
    }
}

/// Tells a file's encoding from its first bytes.
pub fn detect_encoding(sample: &[u8]) -> Result<FileEncoding, ImportError> {
    if sample.starts_with(&[0xEF, 0xBB, 0xBF]) {
        return Ok(FileEncoding::Utf8WithMark);
    }
    if sample.starts_with(&[0xFF, 0xFE]) {
        return Ok(FileEncoding::Utf16LittleEndian);
    }
    if sample.starts_with(&[0xFE, 0xFF]) {
        return Ok(FileEncoding::Utf16BigEndian);
    }
    if is_utf8_prefix(sample) {
        return Ok(FileEncoding::Utf8);
    }
    // The legacy encoding whose reading is most Vietnamese; bytes it leaves
    // undefined count heavily against it.
    let (score, encoding) = LegacyEncoding::ALL
        .into_iter()
        .map(|encoding| {
            let text = encoding.decode(sample);
            let score = vietnamese_score(&text) - 5 * encoding.undefined_bytes(sample) as i64;
            (score, encoding)
        })
        .fold(
            None,
            |best: Option<(i64, LegacyEncoding)>, candidate| match best {
                Some(best) if best.0 >= candidate.0 => Some(best),
                _ => Some(candidate),
            },
        )
        .ok_or(ImportError::UnknownEncoding)?;
    if score <= 0 {
        return Err(ImportError::UnknownEncoding);
    }
    Ok(FileEncoding::Legacy(encoding))
}

/// Valid UTF-8, allowing the sample to end inside a character.
fn is_utf8_prefix(sample: &[u8]) -> bool {
    match std::str::from_utf8(sample) {
        Ok(_) => true,
        Err(error) => error.error_len().is_none() && sample.len() - error.valid_up_to() < 4,
    }
}

/// The separator the first line uses most: comma, semicolon or tab.
fn separator_of(head: &[u8]) -> u8 {
    let first_line = head.split(|b| *b == b'\n').next().unwrap_or(head);
    [b',', b';', b'\t']
        .into_iter()
        .max_by_key(|separator| {
            // Ties go to the comma (the first).
            (
                first_line.iter().filter(|b| *b == separator).count(),
                u8::from(*separator == b','),
            )
        })
        .unwrap_or(b',')
}

/// UTF-16 bytes (after the byte-order mark) as UTF-8, streamed. Unpaired
/// surrogates become U+FFFD.
struct Utf16ToUtf8<R> {
    input: R,
    big_endian: bool,
    started: bool,
    pending: Vec<u8>,
    /// A high surrogate waiting for its pair.
    high: Option<u16>,
    /// An odd byte left from the last read.
    odd: Option<u8>,
}

impl<R: Read> Utf16ToUtf8<R> {
    fn new(input: R, big_endian: bool) -> Self {
        Utf16ToUtf8 {
            input,
            big_endian,
            started: false,
            pending: Vec::new(),
            high: None,
            odd: None,
        }
    }

    fn push_unit(&mut self, unit: u16) {
        let mut buffer = [0u8; 4];
        let mut push = |c: char, pending: &mut Vec<u8>| {
            pending.extend_from_slice(c.encode_utf8(&mut buffer).as_bytes());
        };
        match (self.high.take(), unit) {
            (Some(high), 0xDC00..=0xDFFF) => {
                let c = 0x10000 + ((u32::from(high) - 0xD800) << 10) + (u32::from(unit) - 0xDC00);
                push(char::from_u32(c).unwrap_or('\u{FFFD}'), &mut self.pending);
            }
            (high, 0xD800..=0xDBFF) => {
                if high.is_some() {
                    push('\u{FFFD}', &mut self.pending);
                }
                self.high = Some(unit);
            }
            (high, unit) => {
                if high.is_some() {
                    push('\u{FFFD}', &mut self.pending);
                }
                let c = char::from_u32(u32::from(unit)).unwrap_or('\u{FFFD}');
                push(c, &mut self.pending);
            }
        }
    }
}

impl<R: Read> Read for Utf16ToUtf8<R> {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        while self.pending.is_empty() {
            let mut raw = [0u8; 8192];
            let read = self.input.read(&mut raw)?;
            if read == 0 {
                if self.high.take().is_some() || self.odd.take().is_some() {
                    self.pending.extend_from_slice("\u{FFFD}".as_bytes());
                    continue;
                }
                return Ok(0);
            }
            let mut bytes: Vec<u8> = self.odd.take().into_iter().collect();
            bytes.extend_from_slice(&raw[..read]);
            if bytes.len() % 2 == 1 {
                self.odd = bytes.pop();
            }
            let big_endian = self.big_endian;
            let units: Vec<u16> = bytes
                .chunks_exact(2)
                .map(|pair| {
                    if big_endian {
                        u16::from_be_bytes([pair[0], pair[1]])
                    } else {
                        u16::from_le_bytes([pair[0], pair[1]])
                    }
                })
                .collect();
            for unit in units {
                // The byte-order mark itself is not text.
                if !self.started {
                    self.started = true;
                    if unit == 0xFEFF {
                        continue;
                    }
                }
                self.push_unit(unit);
            }
        }
        let n = out.len().min(self.pending.len());
        out[..n].copy_from_slice(&self.pending[..n]);
        self.pending.drain(..n);
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(bytes: Vec<u8>) -> (FileEncoding, Vec<Vec<String>>) {
        let mut source = CsvRows::open(std::io::Cursor::new(bytes)).expect("open");
        let mut rows = Vec::new();
        while let Some(row) = source.next_row() {
            rows.push(row.expect("row").cells);
        }
        (source.encoding(), rows)
    }

    #[test]
    fn utf8_with_and_without_mark_and_utf16_read_alike() {
        let text = "Họ và tên;Năm sinh\nNguyễn Văn Đức;1968\n";
        let expected = vec![
            vec!["Họ và tên".to_owned(), "Năm sinh".to_owned()],
            vec!["Nguyễn Văn Đức".to_owned(), "1968".to_owned()],
        ];
        assert_eq!(
            rows(text.as_bytes().to_vec()),
            (FileEncoding::Utf8, expected.clone())
        );
        let mut marked = vec![0xEF, 0xBB, 0xBF];
        marked.extend_from_slice(text.as_bytes());
        assert_eq!(rows(marked).1, expected);
        let mut little = vec![0xFF, 0xFE];
        let mut big = vec![0xFE, 0xFF];
        for unit in text.encode_utf16() {
            little.extend_from_slice(&unit.to_le_bytes());
            big.extend_from_slice(&unit.to_be_bytes());
        }
        assert_eq!(
            rows(little),
            (FileEncoding::Utf16LittleEndian, expected.clone())
        );
        assert_eq!(rows(big), (FileEncoding::Utf16BigEndian, expected));
    }

    #[test]
    fn separators_are_told_from_the_first_line() {
        assert_eq!(separator_of(b"a,b,c\n1;2"), b',');
        assert_eq!(separator_of(b"a;b;c\n"), b';');
        assert_eq!(separator_of(b"a\tb\n"), b'\t');
        assert_eq!(separator_of(b"abc\n"), b',');
    }

    #[test]
    fn bytes_that_read_as_no_vietnamese_encoding_are_refused() {
        let noise: Vec<u8> = (0..2000u32)
            .map(|i| (i * 7919 % 251) as u8 | 0x80)
            .collect();
        assert!(matches!(
            detect_encoding(&noise),
            Err(ImportError::UnknownEncoding)
        ));
    }
}

#[cfg(test)]
mod line_tests {
    use super::*;

    #[test]
    fn rows_carry_the_line_they_start_on() {
        for text in ["a,b\r\n\"x\ny\",1\r\nz,2\r\n", "a,b\n\"x\ny\",1\nz,2\n"] {
            let mut source =
                CsvRows::open(std::io::Cursor::new(text.as_bytes().to_vec())).expect("open");
            let mut lines = Vec::new();
            while let Some(row) = source.next_row() {
                lines.push(row.expect("row").line);
            }
            assert_eq!(lines, vec![1, 2, 4], "{text:?}");
        }
    }
}
