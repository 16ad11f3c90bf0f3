//! A node's records written out as the sheets `lienthong import` reads:
//! the same Vietnamese headers, values written as the import reads them
//! ("PGS.TS.", "đã nghiệm thu", dd/mm/yyyy), and each record's id in a "Mã
//! hồ sơ" column, so a department can edit the sheet and import it back:
//! each row then updates its record, and rows left as they were change
//! nothing.
//!
//! CSV (UTF-8 with a byte-order mark, which Excel needs to read it as
//! UTF-8; a cell Excel would run as a formula written with a leading
//! apostrophe, which the import takes off) or XLSX, written a record at a time: memory does not grow with
//! the store. Classified records are left out unless asked for; experts'
//! e-mail and phone are left out unless asked for (blank cells erase
//! nothing on the way back in).

use std::io::{Seek, Write};

use lienthong_proto::v1 as pb;
use lienthong_records::{AnyRecord, RecordKind, labels};
use lienthong_store::Store;

use crate::ImportError;
use crate::report::guarded_formula;

/// The file's form.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportFormat {
    Csv,
    Xlsx,
}

/// What to export.
#[derive(Debug, Clone, Copy)]
pub struct ExportOptions {
    pub kind: RecordKind,
    pub format: ExportFormat,
    /// Experts' e-mail and phone.
    pub include_contact: bool,
    /// Records classified above normal (mật and up).
    pub include_classified: bool,
}

/// What an export wrote.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct Exported {
    pub records: u64,
    /// Classified records left out.
    pub classified_left_out: u64,
}

/// One cell.
#[derive(Debug, Clone, PartialEq)]
enum Cell {
    Text(String),
    Number(u64),
}

impl Cell {
    fn text(text: &str) -> Cell {
        Cell::Text(text.to_owned())
    }

    fn year(year: u32) -> Cell {
        if year == 0 {
            Cell::text("")
        } else {
            Cell::Number(u64::from(year))
        }
    }

    /// Money with its unit, so it reads back the same whatever its size.
    fn money(amount: u64) -> Cell {
        if amount == 0 {
            Cell::text("")
        } else {
            Cell::Text(format!("{amount} đồng"))
        }
    }

    fn list(items: &[String]) -> Cell {
        Cell::Text(items.join("; "))
    }

    /// An ISO date (yyyy-mm-dd) as the sheets write it (dd/mm/yyyy).
    fn date(iso: &str) -> Cell {
        let mut parts = iso.splitn(3, '-');
        match (parts.next(), parts.next(), parts.next()) {
            (Some(year), Some(month), Some(day)) => Cell::Text(format!("{day}/{month}/{year}")),
            _ => Cell::text(iso),
        }
    }

    fn as_text(&self) -> String {
        match self {
            Cell::Text(text) => text.clone(),
            Cell::Number(number) => number.to_string(),
        }
    }
}

/// The headers of `kind`'s sheet, as the import knows them.
fn headers(options: &ExportOptions) -> Vec<&'static str> {
    match options.kind {
        RecordKind::Expert => {
            let mut headers = vec![
                "Mã hồ sơ",
                "Họ và tên",
                "Năm sinh",
                "Giới tính",
                "Học hàm, học vị",
                "Chức vụ",
                "Đơn vị công tác",
                "Lĩnh vực",
                "Chuyên ngành",
                "Từ khóa",
                "ORCID",
            ];
            if options.include_contact {
                headers.extend(["Email", "Điện thoại"]);
            }
            headers
        }
        RecordKind::Project => vec![
            "Mã hồ sơ",
            "Mã số",
            "Tên nhiệm vụ",
            "Chủ nhiệm",
            "Tổ chức chủ trì",
            "Cơ quan chủ quản",
            "Cấp quản lý",
            "Tình trạng",
            "Thời gian bắt đầu",
            "Thời gian kết thúc",
            "Kinh phí",
            "Kinh phí NSNN",
            "Kết quả nghiệm thu",
            "Ngày nghiệm thu",
            "Lĩnh vực",
            "Từ khóa",
            "Mục tiêu",
            "Tóm tắt",
        ],
        RecordKind::Publication => vec![
            "Mã hồ sơ",
            "Tên bài báo",
            "Tác giả",
            "Tạp chí",
            "Năm",
            "Tập",
            "Số",
            "Trang",
            "DOI",
            "Ngôn ngữ",
            "Tóm tắt",
            "Từ khóa",
            "Lĩnh vực",
        ],
        RecordKind::Organization => vec![
            "Mã hồ sơ",
            "Tên tổ chức",
            "Tên viết tắt",
            "Loại hình",
            "Tỉnh/Thành phố",
            "Mã định danh",
        ],
    }
}

/// A record's cells, in the order of [`headers`].
fn cells(record: &AnyRecord, options: &ExportOptions) -> Vec<Cell> {
    let id = Cell::text(record.id());
    match record {
        AnyRecord::Expert(expert) => {
            let mut cells = vec![
                id,
                Cell::text(&expert.full_name),
                Cell::year(expert.birth_year),
                Cell::text(labels::gender(expert.gender)),
                Cell::Text(labels::title_and_degree(
                    expert.academic_title,
                    expert.degree,
                )),
                Cell::text(&expert.position),
                Cell::text(&expert.organization_name),
                Cell::list(&expert.field_codes),
                Cell::text(&expert.specialization),
                Cell::list(&expert.keywords),
                Cell::text(expert.identifiers.as_ref().map_or("", |ids| &ids.orcid)),
            ];
            if options.include_contact {
                let contact = expert.contact.clone().unwrap_or_default();
                cells.extend([Cell::Text(contact.email), Cell::Text(contact.phone)]);
            }
            cells
        }
        AnyRecord::Project(project) => vec![
            id,
            Cell::text(&project.code),
            Cell::text(&project.title),
            Cell::text(project.lead.as_ref().map_or("", |lead| &lead.name)),
            Cell::text(&project.host_organization_name),
            Cell::text(&project.managing_agency),
            Cell::text(labels::management_level(project.management_level)),
            Cell::text(labels::project_status(project.status)),
            Cell::date(&project.planned_start),
            Cell::date(&project.planned_end),
            Cell::money(project.total_budget_vnd),
            Cell::money(project.state_budget_vnd),
            Cell::text(labels::acceptance_grade(project.acceptance_grade)),
            Cell::date(&project.acceptance_date),
            Cell::list(&project.field_codes),
            Cell::list(&project.keywords),
            Cell::text(&project.objectives),
            Cell::text(&project.summary),
        ],
        AnyRecord::Publication(paper) => vec![
            id,
            Cell::text(&paper.title),
            Cell::Text(authors(&paper.authors)),
            Cell::text(&paper.venue),
            Cell::year(paper.year),
            Cell::text(&paper.volume),
            Cell::text(&paper.issue),
            Cell::text(&paper.pages),
            Cell::text(&paper.doi),
            Cell::text(&paper.language),
            Cell::text(&paper.r#abstract),
            Cell::list(&paper.keywords),
            Cell::list(&paper.field_codes),
        ],
        AnyRecord::Organization(organization) => vec![
            id,
            Cell::text(&organization.name),
            Cell::text(&organization.abbreviation),
            Cell::text(labels::organization_type(organization.organization_type)),
            Cell::text(&organization.province),
            Cell::text(&organization.agency_code),
        ],
    }
}

/// Authors as the import splits them: at semicolons, one ending the cell
/// when a single name holds a comma ("Smith, J.;").
fn authors(authors: &[pb::PublicationAuthor]) -> String {
    let mut joined = authors
        .iter()
        .map(|author| author.name.as_str())
        .collect::<Vec<_>>()
        .join("; ");
    if joined.contains(',') && !joined.contains(';') {
        joined.push(';');
    }
    joined
}

/// Writes every record of `options.kind` held by this node to `out`;
/// `progress` hears the count after each page.
pub async fn export_records<W: Write + Seek>(
    store: &Store,
    options: &ExportOptions,
    out: W,
    mut progress: impl FnMut(u64),
) -> Result<Exported, ImportError> {
    let headers = headers(options);
    let mut sheet = match options.format {
        ExportFormat::Csv => SheetWriter::csv(out)?,
        ExportFormat::Xlsx => SheetWriter::xlsx(out, sheet_name(options.kind))?,
    };
    sheet.row(&headers.iter().map(|h| Cell::text(h)).collect::<Vec<_>>())?;
    let mut exported = Exported::default();
    let mut after = 0;
    loop {
        let (records, last) = store.scan(options.kind, after, 1_000).await?;
        if last == after {
            break;
        }
        after = last;
        for record in &records {
            let classification = record.meta().map_or(0, |meta| meta.classification);
            let above_normal = classification > pb::Classification::Normal as i32;
            if above_normal && !options.include_classified {
                exported.classified_left_out += 1;
                continue;
            }
            sheet.row(&cells(record, options))?;
            exported.records += 1;
        }
        progress(exported.records);
    }
    sheet.finish()?;
    Ok(exported)
}

fn sheet_name(kind: RecordKind) -> &'static str {
    match kind {
        RecordKind::Expert => "Chuyên gia",
        RecordKind::Project => "Nhiệm vụ",
        RecordKind::Publication => "Bài báo",
        RecordKind::Organization => "Tổ chức",
    }
}

fn write_error(error: impl std::fmt::Display) -> ImportError {
    ImportError::Report(std::io::Error::other(error.to_string()))
}

/// A sheet written row by row.
enum SheetWriter<W: Write + Seek> {
    Csv(Box<csv::Writer<W>>),
    Xlsx {
        zip: Box<zip::ZipWriter<W>>,
        rows: u64,
    },
}

impl<W: Write + Seek> SheetWriter<W> {
    fn csv(mut out: W) -> Result<Self, ImportError> {
        out.write_all(b"\xEF\xBB\xBF")
            .map_err(ImportError::Report)?;
        Ok(SheetWriter::Csv(Box::new(csv::Writer::from_writer(out))))
    }

    fn xlsx(out: W, sheet: &str) -> Result<Self, ImportError> {
        let mut zip = zip::ZipWriter::new(out);
        let options = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated);
        let parts = [
            ("[Content_Types].xml", CONTENT_TYPES.to_owned()),
            ("_rels/.rels", ROOT_RELATIONSHIPS.to_owned()),
            (
                "xl/workbook.xml",
                WORKBOOK.replace("{sheet}", &xml_escape(sheet)),
            ),
            (
                "xl/_rels/workbook.xml.rels",
                WORKBOOK_RELATIONSHIPS.to_owned(),
            ),
        ];
        for (name, text) in parts {
            zip.start_file(name, options).map_err(write_error)?;
            zip.write_all(text.as_bytes())
                .map_err(ImportError::Report)?;
        }
        zip.start_file("xl/worksheets/sheet1.xml", options)
            .map_err(write_error)?;
        zip.write_all(SHEET_START.as_bytes())
            .map_err(ImportError::Report)?;
        Ok(SheetWriter::Xlsx {
            zip: Box::new(zip),
            rows: 0,
        })
    }

    fn row(&mut self, cells: &[Cell]) -> Result<(), ImportError> {
        match self {
            // A cell Excel would run as a formula ("=…", "+84 …") is
            // written with an apostrophe, which the import takes off.
            SheetWriter::Csv(writer) => writer
                .write_record(
                    cells
                        .iter()
                        .map(|cell| guarded_formula(&cell.as_text()).into_owned()),
                )
                .map_err(write_error),
            SheetWriter::Xlsx { zip, rows } => {
                *rows += 1;
                let mut xml = format!("<row r=\"{rows}\">");
                for (index, cell) in cells.iter().enumerate() {
                    let at = format!("{}{rows}", column_letters(index));
                    match cell {
                        Cell::Number(number) => {
                            xml.push_str(&format!("<c r=\"{at}\"><v>{number}</v></c>"));
                        }
                        Cell::Text(text) if text.is_empty() => {}
                        Cell::Text(text) => xml.push_str(&format!(
                            "<c r=\"{at}\" t=\"inlineStr\"><is><t xml:space=\"preserve\">{}</t></is></c>",
                            xml_escape(text)
                        )),
                    }
                }
                xml.push_str("</row>");
                zip.write_all(xml.as_bytes()).map_err(ImportError::Report)
            }
        }
    }

    fn finish(self) -> Result<(), ImportError> {
        match self {
            SheetWriter::Csv(mut writer) => writer.flush().map_err(ImportError::Report),
            SheetWriter::Xlsx { zip, .. } => {
                let mut zip = *zip;
                zip.write_all(b"</sheetData></worksheet>")
                    .map_err(ImportError::Report)?;
                let mut out = zip.finish().map_err(write_error)?;
                out.flush().map_err(ImportError::Report)
            }
        }
    }
}

/// "A", "B", …, "Z", "AA", …
fn column_letters(index: usize) -> String {
    let mut name = Vec::new();
    let mut rest = index + 1;
    while rest > 0 {
        let digit = (rest - 1) % 26;
        name.push(b'A' + digit as u8);
        rest = (rest - 1) / 26;
    }
    name.reverse();
    String::from_utf8(name).unwrap_or_default()
}

fn xml_escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            // Characters XML 1.0 cannot hold (records refuse them anyway).
            c if c.is_control() && !matches!(c, '\t' | '\n' | '\r') => {}
            c => escaped.push(c),
        }
    }
    escaped
}

const CONTENT_TYPES: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>"#;

const ROOT_RELATIONSHIPS: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>"#;

const WORKBOOK: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="{sheet}" sheetId="1" r:id="rId1"/></sheets></workbook>"#;

const WORKBOOK_RELATIONSHIPS: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>"#;

const SHEET_START: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_are_lettered_as_spreadsheets_letter_them() {
        assert_eq!(column_letters(0), "A");
        assert_eq!(column_letters(25), "Z");
        assert_eq!(column_letters(26), "AA");
        assert_eq!(column_letters(701), "ZZ");
        assert_eq!(column_letters(702), "AAA");
    }

    #[test]
    fn one_author_with_a_comma_stays_one() {
        let author = |name: &str| pb::PublicationAuthor {
            name: name.into(),
            expert_id: String::new(),
        };
        assert_eq!(authors(&[author("Smith, J.")]), "Smith, J.;");
        assert_eq!(
            authors(&[author("Lê Hải"), author("Trần An")]),
            "Lê Hải; Trần An"
        );
    }
}
