//! Facility import from CSV (D29), one piece of code for `hcpki facility import` and the console's import page.
//!
//! Every row is checked first with the same [`NewFacility::new`] that `facility add` uses, plus what only a
//! file can get wrong (column count, UTF-8, a 医療機関コード twice in the file, two rows' allocations that
//! overlap). Allocations overlapping another facility's in the registry are refused by the store when the row is
//! registered (the job item skipped with the holder named, audited as denied). The good rows become a job's
//! items; a worker registers them in batches, one transaction each that also marks the batch's items done, so
//! a resumed job never registers a row twice. Every facility is audited as `facility.register`; with approval,
//! each new facility is approved (`facility.approve`) in that same transaction, so a crash between the two steps
//! rolls both back and the resumed job does the whole row again: never registered twice, never left applied.

use super::{JobError, failed};
use hcpki_ca::Authority;
use hcpki_ca::facility::{Allocation, FacilityKind, NewFacility};
use hcpki_ca::store::{Actor, JobItem};
use hcpki_model::JobId;
use std::collections::HashMap;
use std::str::FromStr;

/// The columns a file may have; `name` and `kind` are required, the others optional (an empty cell is "none").
/// `allocations` holds the facility's address allocations (issue #24, item 2), separated by spaces.
const COLUMNS: [&str; 6] = ["name", "kind", "medical_code", "address", "contact", "allocations"];
/// Rows per transaction: large enough that the commit (fsync) cost vanishes, small enough that a SQLite
/// writer does not hold the lock for long while the server is serving.
pub const BATCH: usize = 1000;

/// A row that passed every check: its line in the file, the application, and the cells it was made from (the
/// job item's payload).
#[derive(Clone, Debug)]
pub struct Checked {
    /// Line in the file.
    pub line: u64,
    /// The application.
    pub facility: NewFacility,
}

/// A row that is refused: its line in the file and why.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct Refusal {
    /// Line in the file.
    pub line: u64,
    /// Why.
    pub why: String,
}

/// A file the import cannot read at all (its header or its CSV structure).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct FileError(String);

/// Split the file into checked applications (with their line numbers) and refused rows.
/// A bad header is an error for the whole file.
pub fn parse(bytes: &[u8]) -> Result<(Vec<Checked>, Vec<Refusal>), FileError> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let mut reader = csv::ReaderBuilder::new().has_headers(true).flexible(true).from_reader(bytes);
    let columns =
        header(reader.byte_headers().map_err(|e| FileError(format!("cannot read the CSV header row: {e}")))?)?;
    let mut good = Vec::new();
    let mut refused = Vec::new();
    let mut codes: HashMap<String, u64> = HashMap::new();
    // Line numbers counted from the record's byte offset: the csv crate's own line count is one short per CRLF
    // line end before the record, and so is its position (spreadsheets on Windows write CRLF; the console's
    // textarea posts CRLF). A lone CR ends a line too, as it ends a record ("CSV (Macintosh)" exports).
    let mut counted = (0usize, 1u64);
    for record in reader.byte_records() {
        let record = record.map_err(|e| FileError(format!("the CSV file is malformed: {e}")))?;
        let mut at = record.position().map_or(counted.0, |p| usize::try_from(p.byte()).unwrap_or(usize::MAX));
        // After a CRLF the record's position is the LF's: the record starts after it.
        if bytes.get(at) == Some(&b'\n') {
            at += 1;
        }
        counted = (at.max(counted.0), counted.1 + line_ends(bytes, counted.0, at));
        let line = counted.1;
        match row(&columns, &record) {
            Err(why) => refused.push(Refusal { line, why }),
            Ok(new) => match new.medical_code.as_ref().and_then(|c| first_line(&mut codes, c.as_str(), line)) {
                Some(first) => refused.push(Refusal {
                    line,
                    why: format!(
                        "医療機関コード {} is also on line {first} of this file",
                        new.medical_code.as_ref().map_or("", |c| c.as_str())
                    ),
                }),
                None => good.push(Checked { line, facility: new }),
            },
        }
    }
    let good = refuse_overlaps(good, &mut refused);
    Ok((good, refused))
}

/// Move the rows whose allocations overlap an earlier row's to `refused`, naming both lines: the registry would
/// refuse the later one anyway, and the file is the place to fix it. Sorted by first address, an allocation
/// overlaps an earlier one exactly when it starts before the furthest end seen so far.
fn refuse_overlaps(good: Vec<Checked>, refused: &mut Vec<Refusal>) -> Vec<Checked> {
    let mut all: Vec<(Allocation, u64)> =
        good.iter().flat_map(|c| c.facility.allocations.iter().map(move |a| (*a, c.line))).collect();
    all.sort();
    let mut clash: HashMap<u64, String> = HashMap::new();
    let mut reach: Option<(Allocation, u64)> = None;
    for (a, line) in all {
        match reach {
            Some((r, at)) if r.overlaps(&a) && at != line => {
                let (later, earlier, (x, y)) = if line > at { (line, at, (a, r)) } else { (at, line, (r, a)) };
                clash.entry(later).or_insert(format!(
                    "allocations: {x} overlaps {y} on line {earlier} of this file; two facilities never share an address"
                ));
                if a.last_hex() > r.last_hex() {
                    reach = Some((a, line));
                }
            }
            Some((r, _)) if a.family() == r.family() && a.last_hex() <= r.last_hex() => {}
            _ => reach = Some((a, line)),
        }
    }
    let (kept, dropped): (Vec<Checked>, Vec<Checked>) = good.into_iter().partition(|c| !clash.contains_key(&c.line));
    for c in dropped {
        refused.push(Refusal { line: c.line, why: clash.remove(&c.line).unwrap_or_default() });
    }
    refused.sort_by_key(|r| r.line);
    kept
}

/// The job's parameters and items for the checked rows.
pub fn job_parts(
    source: &str,
    good: &[Checked],
    refused: &[Refusal],
    approve: bool,
) -> (serde_json::Value, Vec<(String, String)>) {
    let params = serde_json::json!({ "source": source, "approve": approve, "refused": refused });
    let items = good
        .iter()
        .map(|c| {
            let f = &c.facility;
            let payload = serde_json::json!({
                "name": f.name,
                "kind": f.kind.as_str(),
                "medical_code": f.medical_code.as_ref().map(|m| m.as_str()),
                "address": f.address,
                "contact": f.contact,
                "allocations": f.allocations.iter().map(ToString::to_string).collect::<Vec<_>>(),
            });
            (c.line.to_string(), payload.to_string())
        })
        .collect();
    (params, items)
}

/// The rows refused when the job was made (kept in its parameters for the job page).
pub fn refusals(params: &str) -> Vec<Refusal> {
    serde_json::from_str::<serde_json::Value>(params)
        .ok()
        .and_then(|p| p.get("refused").cloned())
        .and_then(|r| serde_json::from_value(r).ok())
        .unwrap_or_default()
}

/// Register one batch of items as `owner` of job `id`; `false` when the job was lost.
pub(super) async fn work(
    authority: &Authority,
    id: &JobId,
    owner: &str,
    params: &serde_json::Value,
    items: &[JobItem],
    actor: &Actor,
) -> Result<bool, JobError> {
    let store = authority.jobs();
    let mut batch = Vec::with_capacity(items.len());
    let mut broken = Vec::new();
    for item in items {
        match application(&item.payload) {
            Ok(new) => batch.push((item.seq, new)),
            Err(why) => broken.push(failed(item, why)),
        }
    }
    if !broken.is_empty() && !store.record_job_items(id, owner, &broken, authority.clock().now()).await? {
        return Ok(false);
    }
    let approve = params.get("approve").and_then(serde_json::Value::as_bool).unwrap_or(false);
    Ok(store.register_facilities_for_job(id, owner, &batch, approve, actor, authority.clock().now()).await?.is_some())
}

/// An item's payload as an application, checked again (the same checks as the file's).
pub fn application(payload: &str) -> Result<NewFacility, String> {
    let v: serde_json::Value = serde_json::from_str(payload).map_err(|e| e.to_string())?;
    let text = |k: &str| v.get(k).and_then(serde_json::Value::as_str);
    let kind = FacilityKind::from_str(text("kind").unwrap_or("")).map_err(|e| e.to_string())?;
    let mut new =
        NewFacility::new(text("name").unwrap_or(""), kind, text("medical_code"), text("address"), text("contact"))
            .map_err(|e| e.to_string())?;
    let listed = v.get("allocations").and_then(serde_json::Value::as_array).cloned().unwrap_or_default();
    for a in listed {
        new.allocations.push(Allocation::parse(a.as_str().unwrap_or("")).map_err(|e| e.to_string())?);
    }
    Ok(new)
}

/// The line ends in `bytes[from..to]` as the CSV reader sees them: LF, CRLF (once) and a lone CR.
fn line_ends(bytes: &[u8], from: usize, to: usize) -> u64 {
    let ends = (from..to.min(bytes.len()))
        .filter(|&i| match bytes.get(i) {
            Some(b'\n') => true,
            Some(b'\r') => bytes.get(i + 1) != Some(&b'\n'),
            _ => false,
        })
        .count();
    u64::try_from(ends).unwrap_or(u64::MAX)
}

/// The line where `code` was first seen, if before `line` (else remember `line`).
fn first_line(codes: &mut HashMap<String, u64>, code: &str, line: u64) -> Option<u64> {
    match codes.entry(code.to_owned()) {
        std::collections::hash_map::Entry::Occupied(e) => Some(*e.get()),
        std::collections::hash_map::Entry::Vacant(v) => {
            v.insert(line);
            None
        }
    }
}

/// The column index of each of [`COLUMNS`] (None when absent), refusing unknown, repeated or missing ones.
fn header(record: &csv::ByteRecord) -> Result<[Option<usize>; 6], FileError> {
    let mut at = [None; 6];
    for (i, raw) in record.iter().enumerate() {
        let name = std::str::from_utf8(raw).map_err(|_| FileError("the CSV header row is not UTF-8".into()))?.trim();
        let Some(slot) = COLUMNS.iter().position(|c| *c == name) else {
            return Err(FileError(format!(
                "unknown column {name:?} in the CSV header row: the columns are {}",
                COLUMNS.join(",")
            )));
        };
        if at.get_mut(slot).and_then(|s| s.replace(i)).is_some() {
            return Err(FileError(format!("column {name:?} appears twice in the CSV header row")));
        }
    }
    if at[0].is_none() || at[1].is_none() {
        return Err(FileError(format!(
            "the CSV header row must have the columns name and kind (found {} columns)",
            record.len()
        )));
    }
    Ok(at)
}

/// One data row as an application, or why not.
fn row(columns: &[Option<usize>; 6], record: &csv::ByteRecord) -> Result<NewFacility, String> {
    let expected = columns.iter().flatten().count();
    if record.len() != expected {
        return Err(format!("{} columns where the header has {expected}", record.len()));
    }
    let cell = |slot: usize| -> Result<Option<&str>, String> {
        let Some(raw) = columns.get(slot).copied().flatten().and_then(|i| record.get(i)) else { return Ok(None) };
        let column = COLUMNS.get(slot).copied().unwrap_or_default();
        let text = std::str::from_utf8(raw).map_err(|_| format!("column {column} is not valid UTF-8"))?;
        Ok(Some(text.trim()).filter(|t| !t.is_empty()))
    };
    let kind = cell(1)?.ok_or("kind is empty")?;
    let kind = FacilityKind::from_str(kind).map_err(|e| e.to_string())?;
    let mut new =
        NewFacility::new(cell(0)?.unwrap_or(""), kind, cell(2)?, cell(3)?, cell(4)?).map_err(|e| e.to_string())?;
    new.allocations = allocations(cell(5)?.unwrap_or(""))?;
    Ok(new)
}

/// The `allocations` cell: prefixes or addresses separated by spaces (or `;`), each checked, none twice.
fn allocations(cell: &str) -> Result<Vec<Allocation>, String> {
    let mut out: Vec<Allocation> = Vec::new();
    for text in cell.split(|c: char| c.is_whitespace() || c == ';').filter(|t| !t.is_empty()) {
        let a = Allocation::parse(text).map_err(|e| format!("allocations: {e}"))?;
        if let Some(other) = out.iter().find(|o| o.overlaps(&a)) {
            return Err(format!("allocations: {a} overlaps {other} in the same row"));
        }
        out.push(a);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::{application, job_parts, parse};

    /// The `allocations` column (issue #24, item 2): addresses parsed and canonical, a bad one and rows that
    /// overlap named by line (the later row, naming the earlier), and the job item reads back the same.
    #[test]
    fn allocations_are_checked_per_row_and_across_the_file() {
        let text = "name,kind,allocations\n\
                    東,clinic,2001:db8:e::/48;198.51.100.16/28\n\
                    壊,clinic,2001:db8:f::1/48\n\
                    重,clinic,198.51.100.20\n\
                    西,clinic,\n\
                    内,clinic,192.0.2.0/24 192.0.2.1\n";
        let (good, refused) = parse(text.as_bytes()).unwrap();
        assert_eq!(good.iter().map(|g| g.line).collect::<Vec<_>>(), [2, 5]);
        let shown: Vec<String> = good[0].facility.allocations.iter().map(ToString::to_string).collect();
        assert_eq!(shown, ["2001:db8:e::/48", "198.51.100.16/28"]);
        let why: Vec<(u64, &str)> = refused.iter().map(|r| (r.line, r.why.as_str())).collect();
        assert_eq!(why.iter().map(|w| w.0).collect::<Vec<_>>(), [3, 4, 6], "{why:?}");
        assert!(why[0].1.contains("host bits"), "{why:?}");
        assert!(why[1].1.contains("overlaps 198.51.100.16/28 on line 2"), "{why:?}");
        assert!(why[2].1.contains("in the same row"), "{why:?}");
        let (_, items) = job_parts("t.csv", &good, &refused, false);
        assert_eq!(application(&items[0].1).unwrap(), good[0].facility);
    }

    /// LF, CRLF, and a lone CR (found by the facility_import fuzz target: every row of a CR-only file was "line 1").
    #[test]
    fn refused_rows_name_their_line_in_the_file_whatever_the_line_ends() {
        let header = "name,kind,medical_code,address,contact";
        for end in ["\n", "\r\n", "\r"] {
            let text = [
                header,
                "青葉薬局,pharmacy,,東京都港区2-2,",
                "\"改行\nのある名前\",clinic,,,",
                "壊れた行,spaceship,,,",
                "",
            ]
            .join(end);
            let (good, refused) = parse(text.as_bytes()).unwrap();
            let lines: Vec<u64> = good.iter().map(|g| g.line).collect();
            assert_eq!(lines, [2, 3], "line ends {end:?}");
            assert_eq!(refused.iter().map(|r| r.line).collect::<Vec<_>>(), [5], "line ends {end:?}");
        }
    }
}
