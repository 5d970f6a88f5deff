//! The prescription CSV (JAHIS 院外処方箋2次元シンボル記録条件規約, the records 電子処方箋 CSV keeps) read just
//! far enough to show a person what they sign: the patient's name and the drug lines. The CSV itself is signed
//! byte for byte, Base64 in `PrescriptionDocument`; nothing here changes it.
//!
//! Records read (the first field is the record number; fields are comma-separated, one record per line):
//!
//! ```text
//! 5,   医師コード, 医師カナ氏名, 医師漢字氏名                               -- prescriber (optional)
//! 11,  患者コード, 患者漢字氏名, 患者カナ氏名                               -- patient (required)
//! 51,  処方箋交付年月日 (YYYYMMDD)                                        -- issue date (optional)
//! 101, RP番号, 剤形区分, 剤形名称, 調剤数量                                -- a prescription group (Rp)
//! 111, RP番号, 用法コード種別, 用法コード, 用法名称, …                     -- its usage
//! 201, RP番号, RP内連番, 情報区分, 薬品コード種別, 薬品コード, 薬品名称, 分量, 力価フラグ, 単位名  -- a drug
//! ```

use super::error::XadesError;

/// The largest prescription CSV accepted: 256 KiB (a prescription is a few KiB).
pub const MAX_CSV_BYTES: usize = 256 * 1024;

/// What a person is shown before signing an e-prescription (and what the card agent shows on its page).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Summary {
    /// The patient's name in kanji (record 11), or in kana when the kanji field is empty.
    pub patient: String,
    /// The prescriber's name (record 5), when present.
    pub prescriber: Option<String>,
    /// The issue date `YYYYMMDD` (record 51), when present.
    pub issued: Option<String>,
    /// The drugs, in the order written.
    pub drugs: Vec<DrugLine>,
}

/// One drug (record 201) with its group's form, quantity and usage (records 101 and 111).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DrugLine {
    /// The Rp number.
    pub rp: u32,
    /// The drug's name.
    pub name: String,
    /// The amount per use or per day, as written.
    pub amount: String,
    /// Its unit (錠, mL, …).
    pub unit: String,
    /// The usage (用法名称), when given.
    pub usage: Option<String>,
    /// The dispensing quantity (調剤数量: days for internal use, times for as-needed use), when given.
    pub quantity: Option<String>,
}

impl DrugLine {
    /// One line for a page: `Rp1 ロキソプロフェンNa錠60mg 3錠 1日3回毎食後 ×5`.
    pub fn text(&self) -> String {
        let mut line = format!("Rp{} {} {}{}", self.rp, self.name, self.amount, self.unit);
        if let Some(usage) = &self.usage {
            line.push(' ');
            line.push_str(usage);
        }
        if let Some(quantity) = &self.quantity {
            line.push_str(" ×");
            line.push_str(quantity);
        }
        line
    }
}

/// Read `csv` (UTF-8, at most [`MAX_CSV_BYTES`]) into what a person is shown. A CSV without a patient name
/// (record 11) or without any drug (record 201) is refused: nobody may sign what they cannot be shown.
pub fn summary(csv: &[u8]) -> Result<Summary, XadesError> {
    if csv.len() > MAX_CSV_BYTES {
        return Err(XadesError::Csv(format!(
            "is {} bytes, over the limit of {MAX_CSV_BYTES}: check that this is a prescription",
            csv.len()
        )));
    }
    let text = std::str::from_utf8(csv)
        .map_err(|_| XadesError::Csv("is not UTF-8: save it as UTF-8 (電子処方箋 CSV is written in UTF-8)".into()))?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut summary = Summary { patient: String::new(), prescriber: None, issued: None, drugs: Vec::new() };
    let mut groups: Vec<(u32, Option<String>, Option<String>)> = Vec::new();
    for line in text.lines() {
        let fields: Vec<&str> = line.split(',').map(str::trim).collect();
        let field = |i: usize| fields.get(i).copied().unwrap_or_default();
        let rp = || field(1).parse::<u32>().ok();
        match field(0) {
            "5" => summary.prescriber = non_empty(field(3)).or_else(|| non_empty(field(2))),
            "11" => summary.patient = non_empty(field(2)).or_else(|| non_empty(field(3))).unwrap_or_default(),
            "51" => summary.issued = non_empty(field(1)),
            "101" => {
                if let Some(rp) = rp() {
                    groups.push((rp, None, non_empty(field(4))));
                }
            }
            "111" => {
                if let Some((_, usage, _)) = rp().and_then(|rp| groups.iter_mut().find(|g| g.0 == rp)) {
                    *usage = non_empty(field(4));
                }
            }
            "201" => {
                let rp =
                    rp().ok_or_else(|| XadesError::Csv(format!("has a drug record without an Rp number: {line}")))?;
                summary.drugs.push(DrugLine {
                    rp,
                    name: field(6).to_owned(),
                    amount: field(7).to_owned(),
                    unit: field(9).to_owned(),
                    usage: None,
                    quantity: None,
                });
            }
            _ => {}
        }
    }
    for drug in &mut summary.drugs {
        if let Some((_, usage, quantity)) = groups.iter().find(|g| g.0 == drug.rp) {
            drug.usage.clone_from(usage);
            drug.quantity.clone_from(quantity);
        }
    }
    if summary.patient.is_empty() {
        return Err(XadesError::Csv("has no patient name (record 11): give the whole prescription CSV".into()));
    }
    if summary.drugs.is_empty() || summary.drugs.iter().any(|d| d.name.is_empty()) {
        return Err(XadesError::Csv("has no drug with a name (record 201): give the whole prescription CSV".into()));
    }
    Ok(summary)
}

fn non_empty(field: &str) -> Option<String> {
    (!field.is_empty()).then(|| field.to_owned())
}
