//! The typed prescription: every record the reader accepted, as values (`reader` builds it, `shown` shows it).

use super::date::Date;
use super::lines::LineEnding;

/// A prescription CSV read strictly: every record it holds, typed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Prescription {
    /// The version record as written (`JAHIS10`).
    pub version: String,
    /// How its records end (`None`: one line without an end).
    pub line_ending: Option<LineEnding>,
    /// Records 1–3.
    pub institution: Institution,
    /// Record 4.
    pub department: Option<Department>,
    /// Record 5.
    pub prescriber: Prescriber,
    /// Records 11–14.
    pub patient: Patient,
    /// Records 21–31.
    pub insurance: Insurance,
    /// Record 51.
    pub issued: Date,
    /// Record 52.
    pub valid_until: Option<Date>,
    /// Record 61.
    pub narcotic: Option<Narcotic>,
    /// Record 62: 1 (疑義照会した上で調剤) or 2 (情報提供).
    pub leftover_medicine: Option<u8>,
    /// Record 63: (分割回数, 分割回).
    pub split: Option<(u8, u8)>,
    /// Record 64: リフィルの総使用回数.
    pub refill_uses: Option<u8>,
    /// Records 81, in order.
    pub notes: Vec<Note>,
    /// Record 82: (種別, 番号).
    pub number: Option<(u8, String)>,
    /// The Rps (剤), in order: records 101–281.
    pub rps: Vec<Rp>,
    /// Records read, the version record included: every line of the file.
    pub records: usize,
}

/// Records 1–3: the medical institution.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Institution {
    /// 医療機関コード種別: 1 医科, 3 歯科, 6 訪問; empty is 医科.
    pub code_kind: String,
    /// 医療機関コード.
    pub code: String,
    /// 都道府県コード.
    pub prefecture: String,
    /// 医療機関名称.
    pub name: String,
    /// Record 2: (郵便番号, 所在地).
    pub address: Option<(String, String)>,
    /// Record 3: (電話, FAX, その他連絡先).
    pub contact: Option<(String, String, String)>,
}

/// Record 4: the department.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Department {
    /// 診療科コード種別.
    pub code_kind: String,
    /// 診療科コード.
    pub code: String,
    /// 診療科名.
    pub name: String,
}

/// Record 5: the prescriber.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Prescriber {
    /// 医師コード.
    pub code: String,
    /// 医師カナ氏名.
    pub kana: String,
    /// 医師漢字氏名.
    pub kanji: String,
}

/// Records 11–14: the patient.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Patient {
    /// 患者コード.
    pub code: String,
    /// 患者漢字氏名.
    pub kanji: String,
    /// 患者カナ氏名.
    pub kana: String,
    /// Record 12: 1 男, 2 女.
    pub sex: u8,
    /// Record 13.
    pub birth: Date,
    /// Record 14: 一部負担金区分.
    pub copayment: Option<u8>,
}

/// Records 21–31: insurance and public expense.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Insurance {
    /// Record 21: 保険種別.
    pub kind: Option<u8>,
    /// Record 22: 保険者番号 (empty: none, e.g. 自費).
    pub insurer: String,
    /// Record 23: (記号, 番号, 1 被保険者 / 2 被扶養者, 枝番).
    pub card: (String, String, u8, String),
    /// Record 24: (患者負担率, 保険給付率).
    pub rates: Option<(String, String)>,
    /// Record 25: 職務上の事由.
    pub occupational: Option<u8>,
    /// Records 27–30: (which: 1–3, or 4 for 特殊公費; 負担者番号; 受給者番号).
    pub public_expense: Vec<(u8, String, String)>,
    /// Record 31: レセプト種別.
    pub claim_kind: Option<String>,
}

/// Record 61: narcotics.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Narcotic {
    /// 麻薬施用者免許番号.
    pub licence: String,
    /// 麻薬施用患者住所.
    pub address: String,
    /// 麻薬施用患者電話番号.
    pub telephone: String,
}

/// Record 81: a note on the whole prescription.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Note {
    /// 備考種別 (1 一包化, 2 粉砕, 3 分割, …), when given.
    pub kind: Option<u8>,
    /// 備考.
    pub text: String,
}

/// Records 101–181 and the drugs after them: one Rp (剤).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rp {
    /// RP番号 (1, 2, 3, … in order).
    pub number: u32,
    /// 剤形区分: 1 内服, 2 頓服, 3 外用, 4 内服滴剤, 5 注射, 6 医療材料, 9 不明.
    pub form: u8,
    /// 剤形名称 (only with 剤形区分 9).
    pub form_name: String,
    /// 調剤数量: days (内服), times (頓服), or either.
    pub quantity: u32,
    /// Record 102: (分割回ごと調剤数量, 総調剤数量).
    pub split_quantity: Option<(u32, u32)>,
    /// Record 111.
    pub usage: Usage,
    /// Records 181, in order.
    pub supplements: Vec<Supplement>,
    /// Records 201–281, in order.
    pub drugs: Vec<Drug>,
}

/// Record 111: how the Rp is taken.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Usage {
    /// 用法コード種別.
    pub code_kind: u8,
    /// 用法コード.
    pub code: String,
    /// 用法名称.
    pub name: String,
    /// １日回数.
    pub times_a_day: Option<u32>,
}

/// Records 181 and 281: a supplement to an Rp's usage or to a drug.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Supplement {
    /// 補足区分, when given.
    pub kind: Option<u8>,
    /// 補足情報.
    pub text: String,
    /// 補足用法コード.
    pub usage_code: String,
    /// 部位コード (181 only).
    pub site_code: String,
}

/// Records 201–281: one drug of an Rp.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Drug {
    /// RP内連番 (1, 2, 3, … in the Rp).
    pub number: u32,
    /// 情報区分: 1 医薬品, 2 医療材料, 3 非保険薬; `None` when omitted (不明).
    pub item_kind: Option<u8>,
    /// 薬品コード種別: 1 コードなし, 2 レセプト電算, 3 厚生省, 4 YJ, 6 HOT, 7 一般名.
    pub code_kind: u8,
    /// 薬品コード.
    pub code: String,
    /// 薬品名称.
    pub name: String,
    /// 用量, as written (a decimal).
    pub amount: String,
    /// 力価フラグ.
    pub potency: Potency,
    /// 単位名.
    pub unit: String,
    /// Record 211: 単位変換係数.
    pub conversion: Option<String>,
    /// Record 221: the doses of an uneven daily dosage, and their codes.
    pub uneven: Option<(Vec<String>, Vec<String>)>,
    /// Record 231: whether the 1st, 2nd, 3rd and special public expense pay (`None` when omitted).
    pub burden: Option<[Option<bool>; 4]>,
    /// Record 241: (１回服用量, １日服用回数).
    pub single_dose: Option<(String, Option<u32>)>,
    /// Records 281, in order.
    pub supplements: Vec<Supplement>,
}

/// 力価フラグ: what the amount measures.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Potency {
    /// 1 薬価単位: the product as listed (錠, g of the powder as dispensed).
    ListedUnit,
    /// 2 力価単位: the active ingredient (mg of the drug substance), whatever the product's strength.
    ActiveIngredient,
}

impl Prescription {
    /// The patient's name as shown first: kanji, else kana.
    pub fn patient_name(&self) -> &str {
        if self.patient.kanji.is_empty() { &self.patient.kana } else { &self.patient.kanji }
    }
}
