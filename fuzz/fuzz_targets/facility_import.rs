//! The facility import's CSV parser (`jobs::import::parse`, D29): the file an operator gives
//! `hcpki facility import --csv`, or pastes into the console's import page, often exported from a spreadsheet.
//!
//! Must hold: no panic; every row, accepted or refused, is named by a line of the file (2 up to the file's last
//! line, counting LF, CRLF and a lone CR as line ends, as the CSV reader does), in file order, no line twice; the
//! accepted rows become job items the import worker reads back (`application`) as the same applications, and the
//! refusals kept in the job's parameters read back as the same refusals.
#![no_main]

use hcpki::fuzzing::{facility_application, facility_csv, facility_refusals, job_parts};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok((good, refused)) = facility_csv(data) else { return };
    let last_line = 1
        + data.windows(2).filter(|w| w[0] == b'\n' || (w[0] == b'\r' && w[1] != b'\n')).count() as u64
        + u64::from(data.last().is_some_and(|b| *b == b'\n' || *b == b'\r'));
    let good_lines: Vec<u64> = good.iter().map(|g| g.line).collect();
    let refused_lines: Vec<u64> = refused.iter().map(|r| r.line).collect();
    for lines in [&good_lines, &refused_lines] {
        assert!(lines.windows(2).all(|w| w[0] < w[1]), "lines out of order or repeated: {lines:?}");
        assert!(lines.iter().all(|l| (2..=last_line).contains(l)), "a line outside 2..={last_line}: {lines:?}");
    }
    assert!(good_lines.iter().all(|l| !refused_lines.contains(l)), "a line both accepted and refused");

    let (params, items) = job_parts("fuzz.csv", &good, &refused, false);
    assert_eq!(items.len(), good.len());
    for ((key, payload), checked) in items.iter().zip(&good) {
        assert_eq!(key, &checked.line.to_string());
        let again = facility_application(payload).unwrap_or_else(|e| panic!("the worker refuses {payload}: {e}"));
        assert_eq!(again, checked.facility, "the job item reads back as another application");
    }
    let kept = facility_refusals(&params.to_string());
    assert_eq!(
        kept.iter().map(|r| (r.line, r.why.as_str())).collect::<Vec<_>>(),
        refused.iter().map(|r| (r.line, r.why.as_str())).collect::<Vec<_>>()
    );
});
