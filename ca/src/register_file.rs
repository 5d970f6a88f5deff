//! The register of medical institutions as a file (issue #50 item 4, D173): the Regional Bureaus of Health and
//! Welfare's published list (医療機関一覧), saved as CSV, read into checked [`RegisterEntry`] values or refused
//! whole with every bad row named.
//!
//! The columns (the header row names them; their order is free; Japanese or English names):
//!
//! | column | also | required | what |
//! |---|---|---|---|
//! | `医療機関コード` | `code`, `medical_code` | yes | 10 digits, check digit verified |
//! | `医療機関名称` | `名称`, `name` | yes | ≤ 200 characters |
//! | `都道府県` | `prefecture` | yes | number (13) or name (東京都); must be the code's |
//! | `所在地` | `医療機関所在地`, `address` | yes | ≤ 300 characters |
//! | `郵便番号` | `postal_code` | no | |
//! | `電話番号` | `phone` | no | |
//! | `開設者` | `開設者名`, `founder` | no | |
//! | `管理者` | `管理者名`, `manager` | no | |
//! | `指定年月日` | `designated_on` | no | YYYY-MM-DD or YYYY/MM/DD |
//! | `病床数` | `beds` | no | as written |
//!
//! Other columns the bureaus' lists carry (項番, 併設, 備考, …) are ignored and named in the answer. UTF-8 with or
//! without a BOM, CRLF or LF, RFC 4180 quoting (quoted commas, doubled quotes, line breaks inside quotes).
//! Shift_JIS is refused with the command that converts it: hcpki carries no legacy-encoding decoder, and a
//! guess between Shift_JIS and CP932 would corrupt names silently.

use crate::store::facility::MedicalInstitutionCode;
use crate::store::vetting::{Day, PREFECTURES, RegisterEntry};
use sha2::{Digest, Sha256};
use std::collections::HashMap;

/// The largest file taken (the whole country's list is about 25 MiB in UTF-8).
pub const MAX_FILE_BYTES: usize = 64 * 1024 * 1024;
/// The most rows taken (the country has about 180,000 medical institutions and pharmacies).
pub const MAX_ROWS: usize = 400_000;
/// How many bad rows a refusal names (the count is always whole).
pub const MAX_PROBLEMS: usize = 100;

/// A file read whole.
#[derive(Clone, Debug)]
pub struct RegisterFile {
    /// Its rows, checked, in file order.
    pub entries: Vec<RegisterEntry>,
    /// Header columns it carried that hcpki does not keep.
    pub ignored_columns: Vec<String>,
    /// The file's SHA-256, hex (audited with the import).
    pub sha256: String,
}

/// One bad cell or row: where, and what is wrong.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct RowProblem {
    /// The line of the file the row starts on (the header is line 1).
    pub row: u64,
    /// The column, as the header names it (`-` for the row as a whole).
    pub column: String,
    /// What is wrong.
    pub problem: String,
}

/// Why a file is refused; nothing is imported.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum RegisterFileError {
    /// Not UTF-8.
    #[error(
        "the file is not UTF-8 (byte {offset}): a Shift_JIS file, as Excel saves \"CSV (コンマ区切り)\"? Save it as \
         \"CSV UTF-8 (コンマ区切り)\", or convert it: iconv -f CP932 -t UTF-8 FILE > FILE-utf8.csv; nothing was imported"
    )]
    NotUtf8 {
        /// Where the first byte that is not UTF-8 is.
        offset: usize,
    },
    /// Larger than [`MAX_FILE_BYTES`] or [`MAX_ROWS`].
    #[error(
        "the file is larger than the register takes ({MAX_FILE_BYTES} bytes, {MAX_ROWS} rows); nothing was imported"
    )]
    TooLarge,
    /// No header, or no rows.
    #[error("the file has no rows under its header: export the list again; nothing was imported")]
    Empty,
    /// Required columns missing from the header.
    #[error(
        "the header names no column {}: the first row must name the columns (医療機関コード, 医療機関名称, 都道府県, \
         所在地; see docs/operator-guide.md); nothing was imported",
        .0.join(", ")
    )]
    MissingColumns(Vec<&'static str>),
    /// A column named twice.
    #[error("the header names the column {0:?} twice: keep one; nothing was imported")]
    DuplicateColumn(String),
    /// Bad rows.
    #[error(
        "{count} row(s) are bad; nothing was imported: {}{}",
        .problems.iter().map(|p| format!("row {}, column {}: {}", p.row, p.column, p.problem)).collect::<Vec<_>>().join("; "),
        if *.count > .problems.len() { "; …" } else { "" }
    )]
    Rows {
        /// How many problems in all.
        count: usize,
        /// The first [`MAX_PROBLEMS`] of them.
        problems: Vec<RowProblem>,
    },
}

/// The columns hcpki keeps.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Column {
    Code,
    Name,
    Prefecture,
    Address,
    PostalCode,
    Phone,
    Founder,
    Manager,
    DesignatedOn,
    Beds,
}

/// Each column's names in a header: the first is the documented one.
const NAMES: [(Column, &[&str]); 10] = [
    (Column::Code, &["医療機関コード", "code", "medical_code"]),
    (Column::Name, &["医療機関名称", "名称", "name"]),
    (Column::Prefecture, &["都道府県", "prefecture"]),
    (Column::Address, &["所在地", "医療機関所在地", "address"]),
    (Column::PostalCode, &["郵便番号", "postal_code"]),
    (Column::Phone, &["電話番号", "phone"]),
    (Column::Founder, &["開設者", "開設者名", "founder"]),
    (Column::Manager, &["管理者", "管理者名", "manager"]),
    (Column::DesignatedOn, &["指定年月日", "designated_on"]),
    (Column::Beds, &["病床数", "beds"]),
];

const REQUIRED: [Column; 4] = [Column::Code, Column::Name, Column::Prefecture, Column::Address];

/// Read a register file whole: every row checked, or the file refused with every bad row named.
pub fn parse(bytes: &[u8]) -> Result<RegisterFile, RegisterFileError> {
    if bytes.len() > MAX_FILE_BYTES {
        return Err(RegisterFileError::TooLarge);
    }
    let text = std::str::from_utf8(bytes).map_err(|e| RegisterFileError::NotUtf8 { offset: e.valid_up_to() })?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let bytes_read = text.as_bytes();
    let mut lines = Lines { bytes: bytes_read, at: 0, line: 1 };
    let mut reader = csv::ReaderBuilder::new().has_headers(false).flexible(true).from_reader(bytes_read);
    let mut records = reader.records();
    let header = match records.next() {
        Some(Ok(h)) => h,
        Some(Err(e)) => {
            let row = e.position().map_or(1, |p| lines.of(p.byte()));
            return Err(rows_error(vec![csv_problem(&e, row)]));
        }
        None => return Err(RegisterFileError::Empty),
    };
    let (columns, ignored_columns) = columns(&header)?;
    let mut entries = Vec::new();
    let mut problems = Vec::new();
    let mut seen: HashMap<String, u64> = HashMap::new();
    for record in records {
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                let row = e.position().map_or(lines.line, |p| lines.of(p.byte()));
                problems.push(csv_problem(&e, row));
                // A quoting error leaves the reader at an unknown place: what follows cannot be trusted.
                break;
            }
        };
        if record.iter().all(|c| c.trim().is_empty()) {
            continue;
        }
        if entries.len() + problems.len() >= MAX_ROWS {
            return Err(RegisterFileError::TooLarge);
        }
        let line = record.position().map_or(0, |p| lines.of(p.byte()));
        match entry(&columns, &record, line) {
            Ok(e) => match seen.insert(e.code.as_str().to_owned(), line) {
                Some(first) => problems.push(RowProblem {
                    row: line,
                    column: header_name(Column::Code, &columns),
                    problem: format!("{} is also on row {first}: each code once", e.code.as_str()),
                }),
                None => entries.push(e),
            },
            Err(mut p) => problems.append(&mut p),
        }
    }
    if !problems.is_empty() {
        return Err(rows_error(problems));
    }
    if entries.is_empty() {
        return Err(RegisterFileError::Empty);
    }
    Ok(RegisterFile { entries, ignored_columns, sha256: hex::encode(Sha256::digest(bytes)) })
}

/// Line numbers from a record's byte offset: the csv crate's own line count is one short per CRLF before the
/// record (spreadsheets on Windows and the console's textarea write CRLF), and a lone CR ends a line as it ends a
/// record. Offsets only grow, so each byte is looked at once.
struct Lines<'a> {
    bytes: &'a [u8],
    at: usize,
    line: u64,
}

impl Lines<'_> {
    fn of(&mut self, offset: u64) -> u64 {
        let mut end = usize::try_from(offset).unwrap_or(usize::MAX).min(self.bytes.len());
        // After a CRLF the record's position is the LF's: the record starts after it.
        if self.bytes.get(end) == Some(&b'\n') {
            end += 1;
        }
        if let Some(part) = self.bytes.get(self.at..end) {
            let mut i = 0;
            while let Some(b) = part.get(i) {
                match b {
                    b'\n' => self.line += 1,
                    b'\r' if part.get(i + 1) != Some(&b'\n') => self.line += 1,
                    _ => {}
                }
                i += 1;
            }
            self.at = end;
        }
        self.line
    }
}

fn rows_error(mut problems: Vec<RowProblem>) -> RegisterFileError {
    let count = problems.len();
    problems.truncate(MAX_PROBLEMS);
    RegisterFileError::Rows { count, problems }
}

fn csv_problem(e: &csv::Error, row: u64) -> RowProblem {
    let problem = match e.kind() {
        csv::ErrorKind::Utf8 { .. } => "not UTF-8".to_owned(),
        _ => format!("the CSV cannot be read here ({e}): check the quotes"),
    };
    RowProblem { row, column: "-".into(), problem }
}

/// Which header position holds each kept column (as written), and the names of the others.
type Columns = Vec<(Column, usize, String)>;

fn columns(header: &csv::StringRecord) -> Result<(Columns, Vec<String>), RegisterFileError> {
    let mut found: Columns = Vec::new();
    let mut ignored = Vec::new();
    for (i, cell) in header.iter().enumerate() {
        let name = cell.trim().trim_start_matches('\u{feff}');
        match NAMES.iter().find(|(_, names)| names.iter().any(|n| n.eq_ignore_ascii_case(name))) {
            Some((c, _)) if found.iter().any(|(f, _, _)| f == c) => {
                return Err(RegisterFileError::DuplicateColumn(name.to_owned()));
            }
            Some((c, _)) => found.push((*c, i, name.to_owned())),
            None if name.is_empty() => {}
            None => ignored.push(name.chars().take(40).collect()),
        }
    }
    let missing: Vec<&'static str> = REQUIRED
        .iter()
        .filter(|c| !found.iter().any(|(f, _, _)| f == *c))
        .filter_map(|c| NAMES.iter().find(|(n, _)| n == c).and_then(|(_, names)| names.first().copied()))
        .collect();
    if !missing.is_empty() {
        return Err(RegisterFileError::MissingColumns(missing));
    }
    Ok((found, ignored))
}

fn header_name(c: Column, columns: &Columns) -> String {
    columns.iter().find(|(f, _, _)| *f == c).map_or_else(|| "-".into(), |(_, _, n)| n.clone())
}

/// One row as an entry, or every problem it has.
fn entry(columns: &Columns, record: &csv::StringRecord, line: u64) -> Result<RegisterEntry, Vec<RowProblem>> {
    let mut problems = Vec::new();
    let mut problem = |c: Column, text: String| {
        problems.push(RowProblem { row: line, column: header_name(c, columns), problem: text });
    };
    let cell = |c: Column| -> Option<&str> {
        columns
            .iter()
            .find(|(f, _, _)| *f == c)
            .and_then(|(_, i, _)| record.get(*i))
            .map(str::trim)
            .filter(|s| !s.is_empty())
    };
    let text = |c: Column, max: usize| -> Result<Option<String>, String> {
        match cell(c) {
            None => Ok(None),
            Some(s) if s.chars().count() > max => Err(format!("longer than {max} characters")),
            Some(s) if s.chars().any(char::is_control) => Err("holds a control character or a line break".into()),
            Some(s) => Ok(Some(s.to_owned())),
        }
    };
    let code = match cell(Column::Code).map(MedicalInstitutionCode::parse) {
        None => {
            problem(Column::Code, "empty: every row needs its 医療機関コード".into());
            None
        }
        Some(Err(e)) => {
            problem(Column::Code, e.to_string());
            None
        }
        Some(Ok(c)) => Some(c),
    };
    let mut required = |c: Column, max: usize| match text(c, max) {
        Ok(Some(s)) => Some(s),
        Ok(None) => {
            problem(c, "empty".into());
            None
        }
        Err(e) => {
            problem(c, e);
            None
        }
    };
    let name = required(Column::Name, 200);
    let address = required(Column::Address, 300);
    let prefecture_text = required(Column::Prefecture, 10);
    let prefecture = prefecture_text.as_deref().and_then(|p| match prefecture_number(p) {
        None => {
            problem(Column::Prefecture, format!("{p:?} is not a prefecture: give its number (13) or name (東京都)"));
            None
        }
        Some(n) => match &code {
            Some(c) if c.prefecture() != n => {
                problem(
                    Column::Prefecture,
                    format!("{p} is not the code's prefecture ({:02}): check the row", c.prefecture()),
                );
                None
            }
            _ => Some(n),
        },
    });
    let mut optional = |c: Column, max: usize| match text(c, max) {
        Ok(v) => v,
        Err(e) => {
            problem(c, e);
            None
        }
    };
    let postal_code = optional(Column::PostalCode, 10);
    let phone = optional(Column::Phone, 30);
    let founder = optional(Column::Founder, 200);
    let manager = optional(Column::Manager, 100);
    let beds = optional(Column::Beds, 100);
    let designated_on = match optional(Column::DesignatedOn, 20).map(|d| Day::parse(&d)) {
        None => None,
        Some(Ok(d)) => Some(d),
        Some(Err(e)) => {
            problem(Column::DesignatedOn, e.to_string());
            None
        }
    };
    match (code, name, address, prefecture) {
        (Some(code), Some(name), Some(address), Some(prefecture)) if problems.is_empty() => Ok(RegisterEntry {
            code,
            name,
            prefecture,
            address,
            postal_code,
            phone,
            founder,
            manager,
            designated_on,
            beds,
        }),
        _ => Err(problems),
    }
}

/// A prefecture as a number (`13`, `1`, `01`) or a name (`東京都`).
fn prefecture_number(text: &str) -> Option<u8> {
    if let Ok(n) = text.parse::<u8>() {
        return (1..=47).contains(&n).then_some(n);
    }
    PREFECTURES.iter().position(|p| *p == text).and_then(|i| u8::try_from(i + 1).ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = "\u{feff}項番,医療機関コード,医療機関名称,都道府県,所在地,電話番号,備考\r\n\
        1,1311234569,\"医療法人社団 さくら会, さくら病院\",東京都,東京都千代田区1-1,03-1234-5678,\r\n\
        2,1410000019,みなと診療所,14,\"神奈川県横浜市\"\"港\"\"町\",,\r\n";

    fn code_with_check(first9: &str) -> String {
        (0..10).map(|d| format!("{first9}{d}")).find(|c| MedicalInstitutionCode::parse(c).is_ok()).unwrap()
    }

    #[test]
    fn a_good_file() {
        let good = GOOD.replace("1410000019", &code_with_check("141000001"));
        let f = parse(good.as_bytes()).unwrap();
        assert_eq!(f.entries.len(), 2);
        assert_eq!(f.entries[0].name, "医療法人社団 さくら会, さくら病院");
        assert_eq!(f.entries[0].prefecture, 13);
        assert_eq!(f.entries[1].address, "神奈川県横浜市\"港\"町");
        assert_eq!(f.ignored_columns, vec!["項番".to_owned(), "備考".to_owned()]);
        assert_eq!(f.sha256.len(), 64);
    }

    #[test]
    fn bad_rows_are_named_and_nothing_is_kept() {
        let c = code_with_check("131123456");
        let file = format!(
            "code,name,prefecture,address\n{c},A,13,東京都\n131123,B,13,東京都\n{c},C,13,東京都\n{},D,神奈川県,x\n,E,13,y\n",
            code_with_check("131999999")
        );
        let Err(RegisterFileError::Rows { count, problems }) = parse(file.as_bytes()) else { panic!() };
        assert_eq!(count, 4, "{problems:?}");
        assert_eq!((problems[0].row, problems[0].column.as_str()), (3, "code"));
        assert!(problems[1].problem.contains("also on row 2"), "{problems:?}");
        assert_eq!((problems[2].row, problems[2].column.as_str()), (5, "prefecture"));
        assert_eq!(problems[3].row, 6);
    }

    #[test]
    fn what_cannot_be_read() {
        assert!(matches!(parse(b"\x93\x8c\x8b\x9e"), Err(RegisterFileError::NotUtf8 { offset: 0 })));
        assert!(matches!(parse(b""), Err(RegisterFileError::Empty)));
        assert!(
            matches!(parse(b"code,name\n"), Err(RegisterFileError::MissingColumns(m)) if m == ["都道府県", "所在地"])
        );
        assert!(matches!(parse(b"code,code,name,prefecture,address\n"), Err(RegisterFileError::DuplicateColumn(_))));
        assert!(matches!(parse("医療機関コード,名称,都道府県,所在地\n".as_bytes()), Err(RegisterFileError::Empty)));
    }
}
