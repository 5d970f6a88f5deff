//! What a person is shown of a [`Prescription`] before signing it: every record, in the file's order, with the
//! codes a pharmacist acts on spelled out in both languages (the 力価フラグ of every drug among them). Built from
//! the typed value only, so nothing the reader did not check can reach the page.

use super::model::{Drug, Potency, Prescription, Rp, Supplement};

/// A line's label in both languages.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Label {
    /// 日本語.
    pub ja: &'static str,
    /// English.
    pub en: &'static str,
}

/// One line of what is shown: a label and the value in both languages.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ShownLine {
    /// What the line is.
    pub label: Label,
    /// The value in Japanese.
    pub ja: String,
    /// The value in English (the prescription's own words stay as written).
    pub en: String,
}

const fn label(ja: &'static str, en: &'static str) -> Label {
    Label { ja, en }
}

const PATIENT: Label = label("患者", "Patient");
const PRESCRIBER: Label = label("処方医", "Prescriber");
const INSTITUTION: Label = label("医療機関", "Institution");
const DEPARTMENT: Label = label("診療科", "Department");
const INSURANCE: Label = label("保険", "Insurance");
const PUBLIC_EXPENSE: Label = label("公費", "Public expense");
const ISSUED: Label = label("交付年月日", "Issued");
const VALID_UNTIL: Label = label("使用期限", "Valid until");
const NARCOTIC: Label = label("麻薬施用", "Narcotic");
const LEFTOVER: Label = label("残薬確認", "Leftover medicine");
const SPLIT: Label = label("分割指示", "Split dispensing");
const REFILL: Label = label("リフィル", "Refill");
const NOTE: Label = label("備考", "Note");
const NUMBER: Label = label("処方箋番号", "Prescription number");
const RP: Label = label("剤（RP）", "Rp");
const USAGE_SUPPLEMENT: Label = label("用法補足", "Usage supplement");
const DRUG: Label = label("薬剤", "Drug");
const DRUG_SUPPLEMENT: Label = label("薬品補足", "Drug supplement");

impl Prescription {
    /// What a person is shown before signing, every field a pharmacist acts on, in both languages.
    pub fn shown(&self) -> Vec<ShownLine> {
        lines(self)
    }
}

fn lines(p: &Prescription) -> Vec<ShownLine> {
    let mut out = Vec::new();
    let mut push = |label, ja: String, en: String| out.push(ShownLine { label, ja, en });

    let patient = &p.patient;
    let (sex_ja, sex_en) = match patient.sex {
        1 => ("男", "male"),
        _ => ("女", "female"),
    };
    let mut ja = format!("{}　{sex_ja}　{}生", with_kana(&patient.kanji, &patient.kana), patient.birth.japanese());
    let mut en = format!("{}, {sex_en}, born {}", with_kana(&patient.kanji, &patient.kana), patient.birth.english());
    if let Some(code) = patient.copayment {
        let (j, e) = copayment(code);
        ja.push_str(&format!("　一部負担金区分 {code}（{j}）"));
        en.push_str(&format!(", co-payment class {code} ({e})"));
    }
    if !patient.code.is_empty() {
        ja.push_str(&format!("　患者コード {}", patient.code));
        en.push_str(&format!(", patient code {}", patient.code));
    }
    push(PATIENT, ja, en);

    let doctor = &p.prescriber;
    let mut ja = with_kana(&doctor.kanji, &doctor.kana);
    let mut en = ja.clone();
    if !doctor.code.is_empty() {
        ja.push_str(&format!("　医師コード {}", doctor.code));
        en.push_str(&format!(", prescriber code {}", doctor.code));
    }
    push(PRESCRIBER, ja, en);

    let inst = &p.institution;
    let (kind_ja, kind_en) = match inst.code_kind.as_str() {
        "3" => ("歯科", "dental"),
        "6" => ("訪問", "home visit"),
        _ => ("医科", "medical"),
    };
    let mut ja = format!("{}（{kind_ja} {}、都道府県 {}）", inst.name, inst.code, inst.prefecture);
    let mut en = format!("{} ({kind_en} {}, prefecture {})", inst.name, inst.code, inst.prefecture);
    if let Some((postcode, address)) = &inst.address {
        ja.push_str(&format!("　〒{postcode} {address}"));
        en.push_str(&format!(", {postcode} {address}"));
    }
    if let Some((telephone, fax, other)) = &inst.contact {
        ja.push_str(&format!("　電話 {telephone}"));
        en.push_str(&format!(", telephone {telephone}"));
        for (j, e, value) in [("FAX", "fax", fax), ("その他連絡先", "other contact", other)] {
            if !value.is_empty() {
                ja.push_str(&format!("　{j} {value}"));
                en.push_str(&format!(", {e} {value}"));
            }
        }
    }
    push(INSTITUTION, ja, en);
    if let Some(department) = &p.department {
        let code = if department.code.is_empty() { String::new() } else { format!(" ({})", department.code) };
        push(DEPARTMENT, format!("{}{code}", department.name), format!("{}{code}", department.name));
    }

    let ins = &p.insurance;
    let (card_symbol, card_number, insured, branch) = &ins.card;
    let (insured_ja, insured_en) =
        if *insured == 2 { ("被扶養者", "dependant") } else { ("被保険者", "insured") };
    let mut ja = match ins.insurer.as_str() {
        "" => "保険者番号なし".to_owned(),
        insurer => format!("保険者番号 {insurer}"),
    };
    let mut en = match ins.insurer.as_str() {
        "" => "no insurer number".to_owned(),
        insurer => format!("insurer {insurer}"),
    };
    for (j, e, value) in [("記号", "card symbol", card_symbol), ("番号", "card number", card_number)] {
        if !value.is_empty() {
            ja.push_str(&format!("　{j} {value}"));
            en.push_str(&format!(", {e} {value}"));
        }
    }
    ja.push_str(&format!("（{insured_ja}）"));
    en.push_str(&format!(" ({insured_en})"));
    if !branch.is_empty() {
        ja.push_str(&format!("　枝番 {branch}"));
        en.push_str(&format!(", branch {branch}"));
    }
    if let Some(kind) = ins.kind {
        let (j, e) = insurance_kind(kind);
        ja.push_str(&format!("　保険種別 {kind}（{j}）"));
        en.push_str(&format!(", kind {kind} ({e})"));
    }
    if let Some((share, benefit)) = &ins.rates {
        ja.push_str(&format!("　患者負担率 {share}%・保険給付率 {benefit}%"));
        en.push_str(&format!(", patient pays {share}%, insurance {benefit}%"));
    }
    if let Some(cause) = ins.occupational {
        let (j, e) = match cause {
            1 => ("職務上", "at work"),
            2 => ("下船後３ヶ月以内", "within 3 months of leaving a ship"),
            _ => ("通勤災害", "commuting accident"),
        };
        ja.push_str(&format!("　職務上の事由 {cause}（{j}）"));
        en.push_str(&format!(", occupational cause {cause} ({e})"));
    }
    if let Some(claim) = &ins.claim_kind {
        ja.push_str(&format!("　レセプト種別 {claim}"));
        en.push_str(&format!(", claim kind {claim}"));
    }
    push(INSURANCE, ja, en);
    for (which, payer, recipient) in &ins.public_expense {
        let (j, e) = match which {
            1 => ("第一公費", "1st"),
            2 => ("第二公費", "2nd"),
            3 => ("第三公費", "3rd"),
            _ => ("特殊公費", "special"),
        };
        push(
            PUBLIC_EXPENSE,
            format!("{j} 負担者番号 {payer}　受給者番号 {recipient}"),
            format!("{e}: payer {payer}, recipient {recipient}"),
        );
    }

    push(ISSUED, p.issued.japanese(), p.issued.english());
    if let Some(until) = p.valid_until {
        push(VALID_UNTIL, until.japanese(), until.english());
    }
    if let Some(n) = &p.narcotic {
        push(
            NARCOTIC,
            format!("麻薬施用者免許番号 {}　患者住所 {}　電話 {}", n.licence, n.address, n.telephone),
            format!("licence {}, patient's address {}, telephone {}", n.licence, n.address, n.telephone),
        );
    }
    if let Some(flag) = p.leftover_medicine {
        let (ja, en) = if flag == 1 {
            ("1（保険医療機関へ疑義照会した上で調剤）", "1 (ask the prescriber, then dispense)")
        } else {
            ("2（保険医療機関へ情報提供）", "2 (dispense and inform the prescriber)")
        };
        push(LEFTOVER, ja.into(), en.into());
    }
    if let Some((count, nth)) = p.split {
        push(SPLIT, format!("{count} 回に分割の {nth} 回目"), format!("dispensing {nth} of {count}"));
    }
    if let Some(uses) = p.refill_uses {
        push(REFILL, format!("総使用回数 {uses} 回"), format!("usable {uses} times"));
    }
    for note in &p.notes {
        let (j, e) = kinded(note.kind, note_kind);
        push(NOTE, format!("{j}{}", note.text), format!("{e}{}", note.text));
    }
    if let Some((kind, number)) = &p.number {
        let (j, e) = if *kind == 1 { ("引換番号", "exchange number") } else { ("番号", "number") };
        push(NUMBER, format!("{j} {number}（種別 {kind}）"), format!("{e} {number} (kind {kind})"));
    }

    for rp in &p.rps {
        let (ja, en) = rp_line(rp);
        push(RP, ja, en);
        for s in &rp.supplements {
            let (ja, en) = supplement(rp.number, None, s, usage_supplement_kind);
            push(USAGE_SUPPLEMENT, ja, en);
        }
        for drug in &rp.drugs {
            let (ja, en) = drug_line(rp.number, drug);
            push(DRUG, ja, en);
            for s in &drug.supplements {
                let (ja, en) = supplement(rp.number, Some(drug.number), s, drug_supplement_kind);
                push(DRUG_SUPPLEMENT, ja, en);
            }
        }
    }
    out
}

/// `Rp1 内服 5日分 1日3回毎食後（1日3回）`.
fn rp_line(rp: &Rp) -> (String, String) {
    let (form_ja, form_en) = match rp.form {
        1 => ("内服", "internal"),
        2 => ("頓服", "as needed"),
        3 => ("外用", "external"),
        4 => ("内服滴剤", "internal drops"),
        5 => ("注射", "injection"),
        6 => ("医療材料", "medical material"),
        _ => ("不明", "unknown form"),
    };
    let form_ja = if rp.form_name.is_empty() { form_ja.to_owned() } else { format!("{form_ja}（{}）", rp.form_name) };
    let form_en = if rp.form_name.is_empty() { form_en.to_owned() } else { format!("{form_en} ({})", rp.form_name) };
    let q = rp.quantity;
    let (quantity_ja, quantity_en) = match rp.form {
        1 => (format!("{q}日分"), format!("{q} days")),
        2 => (format!("{q}回分"), format!("{q} times")),
        _ => (format!("調剤数量 {q}"), format!("quantity {q}")),
    };
    let mut ja = format!("Rp{} {form_ja} {quantity_ja} {}", rp.number, rp.usage.name);
    let mut en = format!("Rp{} {form_en}, {quantity_en}, {}", rp.number, rp.usage.name);
    if let Some(times) = rp.usage.times_a_day {
        ja.push_str(&format!("（1日{times}回）"));
        en.push_str(&format!(" ({times} times a day)"));
    }
    if !rp.usage.code.is_empty() {
        ja.push_str(&format!("　用法コード {}", rp.usage.code));
        en.push_str(&format!(", usage code {}", rp.usage.code));
    }
    if let Some((this, total)) = rp.split_quantity {
        ja.push_str(&format!("　今回 {this}（総調剤数量 {total}）"));
        en.push_str(&format!(", this dispensing {this} (of {total})"));
    }
    (ja, en)
}

/// `Rp1-1 ロキソプロフェンNa錠60mg 3錠（力価フラグ 1: 薬価単位）` and every record of the drug.
fn drug_line(rp: u32, d: &Drug) -> (String, String) {
    let (potency_ja, potency_en) = match d.potency {
        Potency::ListedUnit => ("力価フラグ 1: 薬価単位", "potency flag 1: amount of the product as listed"),
        Potency::ActiveIngredient => ("力価フラグ 2: 力価単位", "potency flag 2: amount of the active ingredient"),
    };
    let mut ja = format!("Rp{rp}-{} {} {}{}（{potency_ja}）", d.number, d.name, d.amount, d.unit);
    let mut en = format!("Rp{rp}-{} {} {} {} ({potency_en})", d.number, d.name, d.amount, d.unit);
    let item = match d.item_kind {
        Some(2) => Some(("［医療材料］", " [medical material]")),
        Some(3) => Some(("［非保険薬］", " [not covered by insurance]")),
        _ => None,
    };
    if let Some((j, e)) = item {
        ja.push_str(j);
        en.push_str(e);
    }
    let (code_ja, code_en) = match d.code_kind {
        2 => ("レセプト電算コード", "receipt code"),
        3 => ("厚生省コード", "MHLW code"),
        4 => ("YJコード", "YJ code"),
        6 => ("HOTコード", "HOT code"),
        7 => ("一般名コード", "generic-name code"),
        1 => ("コードなし", "no code"),
        _ => ("予備のコード種別", "reserved code kind"),
    };
    if d.code.is_empty() {
        // JAHIS 表 3-39: kind 7 without a code says only that the drug is prescribed by its generic name.
        let (j, e) = match d.code_kind {
            7 => ("一般名処方".to_owned(), "prescribed by generic name".to_owned()),
            1 => (code_ja.to_owned(), code_en.to_owned()),
            _ => (format!("{code_ja}（省略）"), format!("{code_en} (omitted)")),
        };
        ja.push_str(&format!("　{j}"));
        en.push_str(&format!(", {e}"));
    } else {
        ja.push_str(&format!("　{code_ja} {}", d.code));
        en.push_str(&format!(", {code_en} {}", d.code));
    }
    if let Some(factor) = &d.conversion {
        ja.push_str(&format!("　単位変換係数 {factor}"));
        en.push_str(&format!(", unit conversion factor {factor}"));
    }
    if let Some((doses, codes)) = &d.uneven {
        ja.push_str(&format!("　不均等 {}", doses.join("-")));
        en.push_str(&format!(", uneven doses {}", doses.join(", ")));
        if !codes.is_empty() {
            ja.push_str(&format!("（{}）", codes.join(" ")));
            en.push_str(&format!(" ({})", codes.join(" ")));
        }
    }
    if let Some(burden) = &d.burden {
        let names = [("第一公費", "1st"), ("第二公費", "2nd"), ("第三公費", "3rd"), ("特殊公費", "special")];
        let paying: Vec<_> =
            names.iter().zip(burden).filter(|(_, pays)| **pays == Some(true)).map(|(n, _)| *n).collect();
        if paying.is_empty() {
            ja.push_str("　負担区分 主保険のみ");
            en.push_str(", paid by the main insurance only");
        } else {
            let j: Vec<_> = paying.iter().map(|(j, _)| *j).collect();
            let e: Vec<_> = paying.iter().map(|(_, e)| *e).collect();
            ja.push_str(&format!("　負担区分 {}", j.join("・")));
            en.push_str(&format!(", public expense pays: {}", e.join(", ")));
        }
    }
    if let Some((dose, times)) = &d.single_dose {
        ja.push_str(&format!("　1回服用量 {dose}"));
        en.push_str(&format!(", single dose {dose}"));
        if let Some(times) = times {
            ja.push_str(&format!("（1日{times}回）"));
            en.push_str(&format!(" ({times} times a day)"));
        }
    }
    (ja, en)
}

/// `Rp1-1: ［後発品変更不可］後発品変更不可`.
fn supplement(
    rp: u32,
    drug: Option<u32>,
    s: &Supplement,
    kind_name: fn(u8) -> Option<(&'static str, &'static str)>,
) -> (String, String) {
    let place = match drug {
        Some(d) => format!("Rp{rp}-{d}"),
        None => format!("Rp{rp}"),
    };
    let (j, e) = kinded(s.kind, kind_name);
    let mut ja = format!("{place}: {j}{}", s.text);
    let mut en = format!("{place}: {e}{}", s.text);
    for (cj, ce, code) in [("補足用法コード", "usage code", &s.usage_code), ("部位コード", "site code", &s.site_code)]
    {
        if !code.is_empty() {
            ja.push_str(&format!("　{cj} {code}"));
            en.push_str(&format!(", {ce} {code}"));
        }
    }
    (ja, en)
}

/// `［一包化］` before a note or supplement whose kind is given.
fn kinded(kind: Option<u8>, name: fn(u8) -> Option<(&'static str, &'static str)>) -> (String, String) {
    match kind {
        None => (String::new(), String::new()),
        Some(k) => match name(k) {
            Some((j, e)) => (format!("［{j}］"), format!("[{e}] ")),
            None => (format!("［区分 {k}］"), format!("[kind {k}] ")),
        },
    }
}

fn note_kind(kind: u8) -> Option<(&'static str, &'static str)> {
    Some(match kind {
        1 => ("一包化", "one-dose packaging"),
        2 => ("粉砕", "crush"),
        3 => ("分割", "split dispensing"),
        _ => return None,
    })
}

fn usage_supplement_kind(kind: u8) -> Option<(&'static str, &'static str)> {
    Some(match kind {
        1 => ("漸減", "tapering"),
        2 => ("一包化", "one-dose packaging"),
        3 => ("隔日", "every other day"),
        4 => ("粉砕", "crush"),
        5 => ("用法の続き", "usage continued"),
        6 => ("部位", "site"),
        7 => ("１回使用量", "amount per use"),
        8 => ("JAMI 補足用法", "JAMI supplementary usage"),
        9 => ("JAMI 部位", "JAMI site"),
        _ => return None,
    })
}

fn drug_supplement_kind(kind: u8) -> Option<(&'static str, &'static str)> {
    Some(match kind {
        1 => ("一包化", "one-dose packaging"),
        2 => ("粉砕", "crush"),
        3 => ("後発品変更不可", "no generic substitution"),
        4 => ("剤形変更不可", "no change of dosage form"),
        5 => ("含量規格変更不可", "no change of strength"),
        6 => ("剤形変更不可及び含量規格変更不可", "no change of dosage form or strength"),
        7 => ("JAMI 補足用法", "JAMI supplementary usage"),
        8 => ("先発医薬品患者希望", "patient asks for the original brand"),
        _ => return None,
    })
}

fn copayment(code: u8) -> (&'static str, &'static str) {
    match code {
        1 | 4 => ("高齢者一般", "elderly, general"),
        2 => ("高齢者７割", "elderly, 70% benefit"),
        3 => ("６歳未満", "under 6"),
        _ => ("高齢者８割（後期高齢者）", "elderly, 80% benefit (late-stage elderly)"),
    }
}

fn insurance_kind(kind: u8) -> (&'static str, &'static str) {
    match kind {
        1 => ("医保・公費", "employee insurance or public expense"),
        2 => ("国保", "national health insurance"),
        3 => ("労災", "workers' accident"),
        4 => ("自賠", "car accident liability"),
        5 => ("公害", "pollution"),
        6 => ("自費", "self-paid"),
        _ => ("後期高齢者", "late-stage elderly"),
    }
}

/// `処方 花子（ショホウ ハナコ）`, or the one name written.
fn with_kana(kanji: &str, kana: &str) -> String {
    match (kanji.is_empty(), kana.is_empty()) {
        (false, false) => format!("{kanji}（{kana}）"),
        (true, _) => kana.to_owned(),
        (false, true) => kanji.to_owned(),
    }
}
