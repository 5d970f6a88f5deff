//! The statement written as a PDF 1.7 file: one revision, a classic cross-reference table, uncompressed streams,
//! objects numbered in a fixed order, and an /ID hashed from the content, so the same statement and time give the
//! same bytes. Objects are written with the PAdES reader's own object writer (`pades::pdf::Object`).

use super::layout::{self, Placed};
use super::statement::{DocumentError, EMBEDDED_FILE_NAME, MAX_PAGES, STATEMENT_VERSION, Statement, validate};
use crate::signature::pades::pdf::{Dictionary, Object, ObjectId};
use std::collections::BTreeSet;
use std::fmt::Write as _;

/// The non-embedded CID font (Adobe-Japan1) viewers substitute with a Japanese gothic; the encoding maps UTF-16BE
/// codes to its CIDs, so the page text is the statement's text as written.
const FONT: &str = "HeiseiKakuGo-W5";
const ENCODING: &str = "UniJIS-UTF16-H";

/// Fixed object numbers; each page then takes two (the page and its content stream) from [`FIRST_PAGE`].
const CATALOG: u32 = 1;
const PAGES: u32 = 2;
const TYPE0_FONT: u32 = 3;
const CID_FONT: u32 = 4;
const FONT_DESCRIPTOR: u32 = 5;
const TO_UNICODE: u32 = 6;
const FILE_SPEC: u32 = 7;
const EMBEDDED_FILE: u32 = 8;
const INFO: u32 = 9;
const FIRST_PAGE: u32 = 10;

/// The embedded statement, as the JSON carries it.
#[derive(serde::Serialize)]
pub(super) struct Embedded<'a> {
    pub(super) version: u32,
    #[serde(flatten)]
    pub(super) statement: &'a Statement,
}

/// The consent document for `statement`, created at `created_at` (Unix seconds; its /CreationDate and the embedded
/// file's /ModDate). Refused when the statement breaks a limit (see [`DocumentError`]) or needs more than
/// [`MAX_PAGES`] pages.
pub fn render(statement: &Statement, created_at: i64) -> Result<Vec<u8>, DocumentError> {
    validate(statement)?;
    let date = pdf_date(created_at)?;
    let pages = layout::lay_out(statement, MAX_PAGES)?;
    let json = statement_json(statement)?;

    let mut file = File::new();
    let page_ids: Vec<ObjectId> =
        (0..pages.len()).map(|i| id(FIRST_PAGE + 2 * u32::try_from(i).unwrap_or(u32::MAX / 4))).collect();
    let file_spec = Object::Reference(id(FILE_SPEC));
    let embedded_files: Dictionary =
        [("Names", Object::Array(vec![Object::String(EMBEDDED_FILE_NAME.into()), file_spec.clone()]))]
            .into_iter()
            .collect();
    let names: Dictionary = [("EmbeddedFiles", Object::Dictionary(embedded_files))].into_iter().collect();
    let viewer: Dictionary = [("DisplayDocTitle", Object::Boolean(true))].into_iter().collect();
    file.object(
        CATALOG,
        [
            ("Type", Object::name("Catalog")),
            ("Pages", Object::Reference(id(PAGES))),
            ("Names", Object::Dictionary(names)),
            ("AF", Object::Array(vec![file_spec])),
            ("Lang", Object::String(b"ja-JP".to_vec())),
            ("ViewerPreferences", Object::Dictionary(viewer)),
        ],
    );
    file.object(
        PAGES,
        [
            ("Type", Object::name("Pages")),
            ("Kids", Object::Array(page_ids.iter().map(|&p| Object::Reference(p)).collect())),
            ("Count", integer(pages.len())),
        ],
    );
    write_font(&mut file, &pages);
    write_statement_file(&mut file, &json, &date);
    let info = [
        ("Title", Object::String(utf16_text(&statement.title))),
        ("Subject", Object::String(statement.reference.as_bytes().to_vec())),
        ("Creator", Object::String(b"hcpki consent_document".to_vec())),
        ("Producer", Object::String(b"hcpki".to_vec())),
        ("CreationDate", Object::String(date.into_bytes())),
    ];
    file.object(INFO, info);
    for (page, lines) in page_ids.iter().zip(&pages) {
        let contents = id(page.number + 1);
        let fonts: Dictionary = [("F1", Object::Reference(id(TYPE0_FONT)))].into_iter().collect();
        let resources: Dictionary = [("Font", Object::Dictionary(fonts))].into_iter().collect();
        let media_box = ["0", "0", "595.28", "841.89"].map(|n| Object::Real(n.into()));
        file.object(
            page.number,
            [
                ("Type", Object::name("Page")),
                ("Parent", Object::Reference(id(PAGES))),
                ("MediaBox", Object::Array(media_box.into())),
                ("Resources", Object::Dictionary(resources)),
                ("Contents", Object::Reference(contents)),
            ],
        );
        file.stream(contents.number, Dictionary::new(), content_stream(lines).as_bytes());
    }
    Ok(file.finish())
}

/// The statement as the embedded file's UTF-8 JSON. `%` is written `\u0025`, so the only `%%EOF` in the
/// document is its last line: `read` takes the first one as the end of the first revision.
pub(super) fn statement_json(statement: &Statement) -> Result<Vec<u8>, DocumentError> {
    let json = serde_json::to_string(&Embedded { version: STATEMENT_VERSION, statement })
        .map_err(|e| DocumentError::BadStatement { problem: e.to_string() })?;
    Ok(json.replace('%', "\\u0025").into_bytes())
}

/// The Type0 font over the non-embedded CIDFontType0, and a /ToUnicode map of the characters used, so text
/// extraction and copying give the statement's text whether or not a reader knows the Adobe-Japan1 tables.
fn write_font(file: &mut File, pages: &[Vec<Placed>]) {
    file.object(
        TYPE0_FONT,
        [
            ("Type", Object::name("Font")),
            ("Subtype", Object::name("Type0")),
            ("BaseFont", Object::name(&format!("{FONT}-{ENCODING}"))),
            ("Encoding", Object::name(ENCODING)),
            ("DescendantFonts", Object::Array(vec![Object::Reference(id(CID_FONT))])),
            ("ToUnicode", Object::Reference(id(TO_UNICODE))),
        ],
    );
    let system: Dictionary = [
        ("Registry", Object::String(b"Adobe".to_vec())),
        ("Ordering", Object::String(b"Japan1".to_vec())),
        ("Supplement", Object::Integer(6)),
    ]
    .into_iter()
    .collect();
    // CIDs 1–95 (proportional ASCII) and 231–632 (half-width forms) advance half an em, as layout measured.
    let widths = [1, 95, 500, 231, 632, 500].map(Object::Integer);
    file.object(
        CID_FONT,
        [
            ("Type", Object::name("Font")),
            ("Subtype", Object::name("CIDFontType0")),
            ("BaseFont", Object::name(FONT)),
            ("CIDSystemInfo", Object::Dictionary(system)),
            ("FontDescriptor", Object::Reference(id(FONT_DESCRIPTOR))),
            ("DW", Object::Integer(1000)),
            ("W", Object::Array(widths.into())),
        ],
    );
    // The metrics Adobe publishes for HeiseiKakuGo-W5; a substituting viewer uses them for placement only.
    file.object(
        FONT_DESCRIPTOR,
        [
            ("Type", Object::name("FontDescriptor")),
            ("FontName", Object::name(FONT)),
            ("Flags", Object::Integer(4)),
            ("FontBBox", Object::Array([-92, -250, 1010, 922].map(Object::Integer).into())),
            ("ItalicAngle", Object::Integer(0)),
            ("Ascent", Object::Integer(752)),
            ("Descent", Object::Integer(-221)),
            ("CapHeight", Object::Integer(737)),
            ("StemV", Object::Integer(114)),
        ],
    );
    let used: BTreeSet<char> = pages.iter().flatten().flat_map(|line| line.text.chars()).collect();
    file.stream(TO_UNICODE, Dictionary::new(), to_unicode(&used).as_bytes());
}

/// The file specification and the embedded file holding the statement (ISO 32000-2 §7.11.4, §14.13: an
/// associated file of the document, its source).
fn write_statement_file(file: &mut File, json: &[u8], date: &str) {
    let streams: Dictionary =
        [("F", Object::Reference(id(EMBEDDED_FILE))), ("UF", Object::Reference(id(EMBEDDED_FILE)))]
            .into_iter()
            .collect();
    file.object(
        FILE_SPEC,
        [
            ("Type", Object::name("Filespec")),
            ("F", Object::String(EMBEDDED_FILE_NAME.into())),
            ("UF", Object::String(EMBEDDED_FILE_NAME.into())),
            ("Desc", Object::String(b"The statement this document shows, as signed (hcpki consent document)".to_vec())),
            ("AFRelationship", Object::name("Source")),
            ("EF", Object::Dictionary(streams)),
        ],
    );
    let params: Dictionary =
        [("Size", integer(json.len())), ("ModDate", Object::String(date.as_bytes().to_vec()))].into_iter().collect();
    let dict: Dictionary = [
        ("Type", Object::name("EmbeddedFile")),
        ("Subtype", Object::name("application/json")),
        ("Params", Object::Dictionary(params)),
    ]
    .into_iter()
    .collect();
    file.stream(EMBEDDED_FILE, dict, json);
}

/// A page's content stream: each line a text object at its place, bold lines filled and stroked.
fn content_stream(lines: &[Placed]) -> String {
    let mut out = String::from("0 g 0 G\n");
    for line in lines {
        let (mode, stroke) = if line.style.bold { (2, "0.35 w ") } else { (0, "") };
        let _ = writeln!(
            out,
            "{stroke}BT /F1 {} Tf {} {} Td {mode} Tr <{}> Tj ET",
            line.style.size,
            points(line.x),
            points(line.y),
            hex::encode_upper(utf16(&line.text)),
        );
    }
    out
}

/// A ToUnicode CMap (Adobe Technical Note #5411) mapping each used UTF-16BE code to itself.
fn to_unicode(used: &BTreeSet<char>) -> String {
    let mut out = String::from(
        "/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n\
         /CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def\n\
         /CMapName /Adobe-Identity-UCS def\n/CMapType 2 def\n\
         3 begincodespacerange\n<0000> <D7FF>\n<D800DC00> <DBFFDFFF>\n<E000> <FFFF>\nendcodespacerange\n",
    );
    let codes: Vec<String> = used.iter().map(|c| hex::encode_upper(utf16(&c.to_string()))).collect();
    for chunk in codes.chunks(100) {
        let _ = writeln!(out, "{} beginbfchar", chunk.len());
        for code in chunk {
            let _ = writeln!(out, "<{code}> <{code}>");
        }
        out.push_str("endbfchar\n");
    }
    out.push_str("endcmap\nCMapName currentdict /CMap defineresource pop\nend\nend\n");
    out
}

/// Hundredths of a point as a PDF number (`123.45`).
fn points(hundredths: i64) -> String {
    let sign = if hundredths < 0 { "-" } else { "" };
    let n = hundredths.unsigned_abs();
    format!("{sign}{}.{:02}", n / 100, n % 100)
}

fn utf16(text: &str) -> Vec<u8> {
    text.encode_utf16().flat_map(u16::to_be_bytes).collect()
}

/// A PDF text string in UTF-16BE with its byte order mark (§7.9.2.2).
fn utf16_text(text: &str) -> Vec<u8> {
    let mut out = vec![0xFE, 0xFF];
    out.extend(utf16(text));
    out
}

/// `D:YYYYMMDDHHmmSSZ` (§7.9.4) for `seconds` after the Unix epoch, in UTC.
pub(super) fn pdf_date(seconds: i64) -> Result<String, DocumentError> {
    let out_of_range = || DocumentError::CreatedAt { seconds };
    let t = time::OffsetDateTime::from_unix_timestamp(seconds).map_err(|_| out_of_range())?;
    if !(1970..=9999).contains(&t.year()) {
        return Err(out_of_range());
    }
    Ok(format!(
        "D:{:04}{:02}{:02}{:02}{:02}{:02}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    ))
}

fn id(number: u32) -> ObjectId {
    ObjectId::new(number, 0)
}

fn integer(n: usize) -> Object {
    Object::Integer(i64::try_from(n).unwrap_or(i64::MAX))
}

/// The file being written: the header, then the objects in number order, then the table and trailer.
struct File {
    out: Vec<u8>,
    offsets: Vec<(u32, usize)>,
}

impl File {
    fn new() -> Self {
        // The second line's high bytes tell transfer programs the file is binary.
        Self { out: b"%PDF-1.7\n%\xE2\xE3\xCF\xD3\n".to_vec(), offsets: Vec::new() }
    }

    fn object<const N: usize>(&mut self, number: u32, entries: [(&'static str, Object); N]) {
        let dict: Dictionary = entries.into_iter().collect();
        self.begin(number);
        dict.write(&mut self.out);
        self.out.extend_from_slice(b"\nendobj\n");
    }

    fn stream(&mut self, number: u32, mut dict: Dictionary, data: &[u8]) {
        dict.set("Length", integer(data.len()));
        self.begin(number);
        dict.write(&mut self.out);
        self.out.extend_from_slice(b"\nstream\n");
        self.out.extend_from_slice(data);
        self.out.extend_from_slice(b"\nendstream\nendobj\n");
    }

    fn begin(&mut self, number: u32) {
        self.offsets.push((number, self.out.len()));
        self.out.extend_from_slice(format!("{number} 0 obj\n").as_bytes());
    }

    /// The table (objects 1… in order; the caller wrote each number once), the trailer with an /ID from the
    /// SHA-256 of everything before it, `startxref` and `%%EOF`.
    fn finish(mut self) -> Vec<u8> {
        use sha2::Digest as _;
        self.offsets.sort_unstable();
        let digest = sha2::Sha256::digest(&self.out);
        let file_id = Object::String(digest.get(..16).unwrap_or_default().to_vec());
        let xref = self.out.len();
        let size = self.offsets.len() + 1;
        let mut table = format!("xref\n0 {size}\n0000000000 65535 f\r\n");
        for (_, offset) in &self.offsets {
            let _ = write!(table, "{offset:010} 00000 n\r\n");
        }
        self.out.extend_from_slice(table.as_bytes());
        let trailer: Dictionary = [
            ("Size", integer(size)),
            ("Root", Object::Reference(id(CATALOG))),
            ("Info", Object::Reference(id(INFO))),
            ("ID", Object::Array(vec![file_id.clone(), file_id])),
        ]
        .into_iter()
        .collect();
        self.out.extend_from_slice(b"trailer\n");
        trailer.write(&mut self.out);
        self.out.extend_from_slice(format!("\nstartxref\n{xref}\n%%EOF\n").as_bytes());
        self.out
    }
}
