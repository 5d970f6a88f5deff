//! The records as one prescription: the version record first, then the JAHIS order (表 3-5), each record that is
//! written once written once (表 3-6), the numbers of Rps, drugs, notes and supplements counting 1, 2, 3 and
//! naming the Rp or drug they follow, the required records present, and the typed [`Prescription`] built from
//! exactly these records.

use std::collections::BTreeMap;

use super::date::Date;
use super::error::{Field, PrescriptionError, Problem, Scope};
use super::layout::{self, fields::*};
use super::lines::{self, Line, LineEnding};
use super::model::{
    Department, Drug, Institution, Insurance, Narcotic, Note, Patient, Potency, Prescriber, Prescription, Rp,
    Supplement, Usage,
};

/// The records of the first group (1–82) every prescription has (表 3-6 必須出力; 4 is required only of
/// hospitals with several departments, which the file cannot tell).
const REQUIRED: &[u16] = &[1, 5, 11, 12, 13, 22, 23, 51];
/// The record the first group may repeat (備考).
const NOTE: u16 = 81;

impl Prescription {
    /// Read `csv` strictly (at most [`super::MAX_CSV_BYTES`]). Refused, with the line, the record and the rule,
    /// when any part of it could be read another way or is not there to be shown.
    pub fn read(csv: &[u8]) -> Result<Self, PrescriptionError> {
        read(csv)
    }
}

fn read(csv: &[u8]) -> Result<Prescription, PrescriptionError> {
    let (lines, line_ending) = lines::split(csv)?;
    let (first, records) = lines.split_first().ok_or_else(|| PrescriptionError::file(Problem::Empty))?;
    if !is_version(first.text) {
        return Err(PrescriptionError::line(first.number, Problem::NoVersion));
    }
    let mut state = State::default();
    for line in records {
        state.take(line)?;
    }
    state.finish(first.text, line_ending, lines.len())
}

/// `JAHIS` and the version's digits (表 3-7); or `SJ1`, which two independent writers for the national service
/// put first (its 記録条件仕様 was not available to check).
fn is_version(text: &str) -> bool {
    text == "SJ1" || text.strip_prefix("JAHIS").is_some_and(|v| layout::digits(v, 2))
}

/// One record as read: its line and its fields after the record number.
struct Record<'a> {
    line: usize,
    number: u16,
    fields: Vec<&'a str>,
}

impl<'a> Record<'a> {
    fn field(&self, index: usize) -> &'a str {
        self.fields.get(index).copied().unwrap_or_default()
    }

    fn text(&self, index: usize) -> String {
        self.field(index).to_owned()
    }

    /// A field `layout` checked to be digits (or empty: `None`).
    fn number(&self, index: usize) -> Option<u32> {
        self.field(index).parse().ok()
    }

    fn code(&self, index: usize) -> Option<u8> {
        self.field(index).parse().ok()
    }

    fn err(&self, problem: Problem) -> PrescriptionError {
        PrescriptionError::record(self.line, &self.number.to_string(), problem)
    }
}

/// An Rp being read: its records so far and the line each record number was first seen on.
struct OpenRp {
    line: usize,
    rp: Rp,
    usage: Option<Usage>,
    seen: BTreeMap<u16, usize>,
    last: u16,
    /// The drug being read: its record numbers seen and the last.
    drug_seen: BTreeMap<u16, usize>,
    drug_last: u16,
}

#[derive(Default)]
struct State<'a> {
    /// The first group's records by number (81 kept apart, in order).
    header: BTreeMap<u16, Record<'a>>,
    notes: Vec<Record<'a>>,
    last_header: u16,
    rps: Vec<Rp>,
    open: Option<OpenRp>,
    last_record: u16,
    /// Lines of drugs with and without record 231, for the all-or-none rule.
    burden: (Option<usize>, Option<usize>),
}

impl<'a> State<'a> {
    fn take(&mut self, line: &Line<'a>) -> Result<(), PrescriptionError> {
        let fields = line.fields();
        let written = fields.first().copied().unwrap_or_default();
        // Written as the layout writes it: "011" is not record 11 to every reader.
        let known = layout::digits(written, 3)
            .then(|| written.parse::<u16>().ok())
            .flatten()
            .filter(|n| n.to_string() == written)
            .and_then(layout::layout);
        let Some(layout) = known else {
            return Err(PrescriptionError::record(line.number, written, Problem::UnknownRecord));
        };
        layout::check(line.number, layout, &fields)?;
        let record = Record { line: line.number, number: layout.number, fields: fields.into_iter().skip(1).collect() };
        let number = record.number;
        match number {
            1..=82 => self.header_record(record)?,
            101 => self.start_rp(record)?,
            102..=181 => self.rp_record(record)?,
            201 => self.start_drug(record)?,
            _ => self.drug_record(record)?,
        }
        self.last_record = number;
        Ok(())
    }

    fn header_record(&mut self, record: Record<'a>) -> Result<(), PrescriptionError> {
        if record.number != NOTE
            && let Some(first) = self.header.get(&record.number)
        {
            return Err(record.err(Problem::Repeated { first_line: first.line, scope: Scope::Prescription }));
        }
        if self.open.is_some() || !self.rps.is_empty() || record.number < self.last_header {
            return Err(record.err(Problem::OutOfOrder { after: self.last_record }));
        }
        self.last_header = record.number;
        if record.number == NOTE {
            check_sequence(&record, 0, NOTE_NUMBER, self.notes.len())?;
            self.notes.push(record);
        } else {
            self.header.insert(record.number, record);
        }
        Ok(())
    }

    fn start_rp(&mut self, record: Record<'a>) -> Result<(), PrescriptionError> {
        self.close_rp()?;
        check_sequence(&record, 0, RP, self.rps.len())?;
        let form = record.code(1).unwrap_or_default();
        if form != 9 && !record.field(2).is_empty() {
            return Err(record.err(Problem::FormName));
        }
        let rp = Rp {
            number: record.number(0).unwrap_or_default(),
            form,
            form_name: record.text(2),
            quantity: record.number(3).unwrap_or_default(),
            split_quantity: None,
            usage: Usage { code_kind: 0, code: String::new(), name: String::new(), times_a_day: None },
            supplements: Vec::new(),
            drugs: Vec::new(),
        };
        self.open = Some(OpenRp {
            line: record.line,
            rp,
            usage: None,
            seen: BTreeMap::from([(101, record.line)]),
            last: 101,
            drug_seen: BTreeMap::new(),
            drug_last: 0,
        });
        Ok(())
    }

    fn rp_record(&mut self, record: Record<'a>) -> Result<(), PrescriptionError> {
        let last = self.last_record;
        let open = self.open.as_mut().ok_or_else(|| record.err(Problem::Orphan))?;
        check_parent(&record, 0, RP, open.rp.number)?;
        if record.number != 181
            && let Some(first_line) = open.seen.get(&record.number)
        {
            return Err(record.err(Problem::Repeated { first_line: *first_line, scope: Scope::Rp }));
        }
        if !open.rp.drugs.is_empty() || record.number < open.last {
            return Err(record.err(Problem::OutOfOrder { after: last }));
        }
        open.seen.entry(record.number).or_insert(record.line);
        open.last = record.number;
        match record.number {
            102 => {
                let total = record.number(2).unwrap_or_default();
                if total != open.rp.quantity {
                    return Err(record.err(Problem::TotalQuantity { expected: open.rp.quantity }));
                }
                open.rp.split_quantity = Some((record.number(1).unwrap_or_default(), total));
            }
            111 => {
                open.usage = Some(Usage {
                    code_kind: record.code(1).unwrap_or_default(),
                    code: record.text(2),
                    name: record.text(3),
                    times_a_day: record.number(4),
                });
            }
            _ => {
                check_sequence(&record, 1, SUPPLEMENT_NUMBER, open.rp.supplements.len())?;
                open.rp.supplements.push(Supplement {
                    kind: record.code(2),
                    text: record.text(3),
                    usage_code: record.text(4),
                    site_code: record.text(5),
                });
            }
        }
        Ok(())
    }

    fn start_drug(&mut self, record: Record<'a>) -> Result<(), PrescriptionError> {
        let open = self.open.as_mut().ok_or_else(|| record.err(Problem::Orphan))?;
        check_parent(&record, 0, RP, open.rp.number)?;
        if open.usage.is_none() {
            return Err(record.err(Problem::Missing { record: 111, scope: Scope::Rp }));
        }
        check_sequence(&record, 1, DRUG_NUMBER, open.rp.drugs.len())?;
        if record.field(5).is_empty() {
            return Err(record.err(Problem::NoDrugName));
        }
        let potency = if record.field(7) == "2" { Potency::ActiveIngredient } else { Potency::ListedUnit };
        open.rp.drugs.push(Drug {
            number: record.number(1).unwrap_or_default(),
            item_kind: record.code(2),
            code_kind: record.code(3).unwrap_or_default(),
            code: record.text(4),
            name: record.text(5),
            amount: record.text(6),
            potency,
            unit: record.text(8),
            conversion: None,
            uneven: None,
            burden: None,
            single_dose: None,
            supplements: Vec::new(),
        });
        open.drug_seen = BTreeMap::from([(201, record.line)]);
        open.drug_last = 201;
        Ok(())
    }

    fn drug_record(&mut self, record: Record<'a>) -> Result<(), PrescriptionError> {
        let open = self.open.as_mut().ok_or_else(|| record.err(Problem::Orphan))?;
        let drug = open.rp.drugs.last_mut().ok_or_else(|| record.err(Problem::Orphan))?;
        check_parent(&record, 0, RP, open.rp.number)?;
        check_parent(&record, 1, DRUG_NUMBER, drug.number)?;
        if record.number != 281
            && let Some(first_line) = open.drug_seen.get(&record.number)
        {
            return Err(record.err(Problem::Repeated { first_line: *first_line, scope: Scope::Drug }));
        }
        if record.number < open.drug_last {
            return Err(record.err(Problem::OutOfOrder { after: open.drug_last }));
        }
        open.drug_seen.entry(record.number).or_insert(record.line);
        open.drug_last = record.number;
        match record.number {
            211 => drug.conversion = Some(record.text(2)),
            221 => {
                let doses = (2..7).map(|i| record.text(i)).filter(|d| !d.is_empty()).collect();
                let codes = (7..12).map(|i| record.text(i)).filter(|c| !c.is_empty()).collect();
                drug.uneven = Some((doses, codes));
            }
            231 => {
                let pays = |i: usize| match record.field(i) {
                    "" => None,
                    value => Some(value == "1"),
                };
                drug.burden = Some([pays(2), pays(3), pays(4), pays(5)]);
            }
            241 => drug.single_dose = Some((record.text(2), record.number(3))),
            _ => {
                check_sequence(&record, 2, SUPPLEMENT_NUMBER, drug.supplements.len())?;
                drug.supplements.push(Supplement {
                    kind: record.code(3),
                    text: record.text(4),
                    usage_code: record.text(5),
                    site_code: String::new(),
                });
            }
        }
        Ok(())
    }

    /// The Rp being read, checked whole: its usage and at least one drug; and each drug's record 231 counted.
    fn close_rp(&mut self) -> Result<(), PrescriptionError> {
        let Some(open) = self.open.take() else { return Ok(()) };
        let rp_err = |problem| PrescriptionError::record(open.line, "101", problem);
        let usage = open.usage.ok_or_else(|| rp_err(Problem::Missing { record: 111, scope: Scope::Rp }))?;
        if open.rp.drugs.is_empty() {
            return Err(rp_err(Problem::Missing { record: 201, scope: Scope::Rp }));
        }
        for drug in &open.rp.drugs {
            let slot = if drug.burden.is_some() { &mut self.burden.0 } else { &mut self.burden.1 };
            slot.get_or_insert(open.line);
        }
        if let (Some(_), Some(line)) = self.burden {
            return Err(PrescriptionError::line(line, Problem::PartialBurden));
        }
        self.rps.push(Rp { usage, ..open.rp });
        Ok(())
    }

    fn finish(
        mut self,
        version: &str,
        line_ending: Option<LineEnding>,
        records: usize,
    ) -> Result<Prescription, PrescriptionError> {
        self.close_rp()?;
        let missing = |record| PrescriptionError::file(Problem::Missing { record, scope: Scope::Prescription });
        if let Some(number) = REQUIRED.iter().find(|n| !self.header.contains_key(n)) {
            return Err(missing(*number));
        }
        if self.rps.is_empty() {
            return Err(missing(101));
        }
        let h = |number: u16| self.header.get(&number);
        let text = |number: u16, index: usize| h(number).map(|r| r.text(index)).unwrap_or_default();
        let code = |number: u16, index: usize| h(number).and_then(|r| r.code(index));
        let patient = h(11).ok_or_else(|| missing(11))?;
        if patient.field(1).is_empty() && patient.field(2).is_empty() {
            return Err(patient.err(Problem::OneOf(PATIENT_KANJI, PATIENT_KANA)));
        }
        if let Some(address) = h(2)
            && address.field(0).is_empty()
            && address.field(1).is_empty()
        {
            return Err(address.err(Problem::OneOf(POSTCODE, ADDRESS)));
        }
        let date = |number: u16| h(number).and_then(|r| Date::parse(r.field(0)));
        let public_expense = [(27, 1), (28, 2), (29, 3), (30, 4)]
            .into_iter()
            .filter_map(|(number, which)| h(number).map(|r| (which, r.text(0), r.text(1))))
            .collect();
        Ok(Prescription {
            version: version.to_owned(),
            line_ending,
            institution: Institution {
                code_kind: text(1, 0),
                code: text(1, 1),
                prefecture: text(1, 2),
                name: text(1, 3),
                address: h(2).map(|r| (r.text(0), r.text(1))),
                contact: h(3).map(|r| (r.text(0), r.text(1), r.text(2))),
            },
            department: h(4).map(|r| Department { code_kind: r.text(0), code: r.text(1), name: r.text(2) }),
            prescriber: Prescriber { code: text(5, 0), kana: text(5, 1), kanji: text(5, 2) },
            patient: Patient {
                code: text(11, 0),
                kanji: text(11, 1),
                kana: text(11, 2),
                sex: code(12, 0).unwrap_or_default(),
                birth: date(13).ok_or_else(|| missing(13))?,
                copayment: code(14, 0),
            },
            insurance: Insurance {
                kind: code(21, 0),
                insurer: text(22, 0),
                card: (text(23, 0), text(23, 1), code(23, 2).unwrap_or_default(), text(23, 3)),
                rates: h(24).map(|r| (r.text(0), r.text(1))),
                occupational: code(25, 0),
                public_expense,
                claim_kind: h(31).map(|r| r.text(0)),
            },
            issued: date(51).ok_or_else(|| missing(51))?,
            valid_until: date(52),
            narcotic: h(61).map(|r| Narcotic { licence: r.text(0), address: r.text(1), telephone: r.text(2) }),
            leftover_medicine: code(62, 0),
            split: h(63).and_then(|r| Some((r.code(0)?, r.code(1)?))),
            refill_uses: code(64, 0),
            notes: self.notes.iter().map(|r| Note { kind: r.code(1), text: r.text(2) }).collect(),
            number: h(82).and_then(|r| Some((r.code(0)?, r.text(1)))),
            rps: self.rps,
            records,
        })
    }
}

/// The sequence number at `index` is `count + 1` (numbers count 1, 2, 3, … in order, none twice).
fn check_sequence(record: &Record<'_>, index: usize, field: Field, count: usize) -> Result<(), PrescriptionError> {
    let expected = u32::try_from(count).unwrap_or(u32::MAX).saturating_add(1);
    if record.number(index) != Some(expected) {
        return Err(record.err(Problem::Numbering { field, expected }));
    }
    Ok(())
}

/// The Rp or drug number at `index` is `expected`, the one the record follows.
fn check_parent(record: &Record<'_>, index: usize, field: Field, expected: u32) -> Result<(), PrescriptionError> {
    if record.number(index) != Some(expected) {
        return Err(record.err(Problem::WrongParent { field, expected }));
    }
    Ok(())
}
