//! The record layouts of JAHIS 院外処方箋２次元シンボル記録条件規約 Ver.1.10 (JAHIS 技術文書 24-103, 2024-09,
//! 表 3-7 to 3-44): each record's number, its fields in order, their type (9 digits, X alphanumeric, N text) and
//! whether each is required (◎). A record is checked against its layout here, field by field; what the fields
//! mean together (order, repetition, numbering) is `reader`'s.

use super::error::{Field, PrescriptionError, Problem};

/// What a field holds.
#[derive(Clone, Copy, Debug)]
pub(super) enum Kind {
    /// Type 9: 1 to `n` ASCII digits.
    Digits(usize),
    /// Type 9 with a code table: one of the values.
    Code(&'static [&'static str], &'static str),
    /// A decimal amount: up to 6 digits, optionally a point and up to 5 digits (用量, 単位変換係数, 不均等).
    Amount,
    /// A date: YYYYMMDD or GYYMMDD (G the era, 別表２).
    Date,
    /// A birth date: also YYYYMM, YYYY, GYYMM, GYY (表 3-15).
    BirthDate,
    /// Type X or N: any text the line rules allow.
    Text,
}

/// One field of a layout.
#[derive(Clone, Copy, Debug)]
pub(super) struct Spec {
    pub field: Field,
    pub kind: Kind,
    /// ◎: never empty.
    pub required: bool,
}

/// One record layout.
#[derive(Debug)]
pub(super) struct Layout {
    pub number: u16,
    pub fields: &'static [Spec],
}

const fn f(ja: &'static str, en: &'static str) -> Field {
    Field { ja, en }
}

const fn req(field: Field, kind: Kind) -> Spec {
    Spec { field, kind, required: true }
}

const fn opt(field: Field, kind: Kind) -> Spec {
    Spec { field, kind, required: false }
}

/// The fields other modules name.
pub(super) mod fields {
    use super::{Field, f};
    pub const RP: Field = f("RP番号", "Rp number");
    pub const DRUG_NUMBER: Field = f("RP内連番", "drug number in the Rp");
    pub const NOTE_NUMBER: Field = f("備考連番", "note number");
    pub const SUPPLEMENT_NUMBER: Field = f("補足連番", "supplement number");
    pub const PATIENT_KANJI: Field = f("患者漢字氏名", "patient's name (kanji)");
    pub const PATIENT_KANA: Field = f("患者カナ氏名", "patient's name (kana)");
    pub const POSTCODE: Field = f("医療機関郵便番号", "institution's postcode");
    pub const ADDRESS: Field = f("医療機関所在地", "institution's address");
    pub const TOTAL_QUANTITY: Field = f("総調剤数量", "total quantity");
}
use fields::*;

const YES_NO: &[&str] = &["", "0", "1"];

/// Every record hcpki reads, in the order JAHIS writes them.
pub(super) const LAYOUTS: &[Layout] = &[
    Layout {
        number: 1,
        fields: &[
            opt(f("医療機関コード種別", "institution code kind"), Kind::Code(&["", "1", "3", "6"], "1, 3, 6")),
            req(f("医療機関コード", "institution code"), Kind::Text),
            req(f("医療機関都道府県コード", "prefecture code"), Kind::Digits(2)),
            opt(f("医療機関名称", "institution's name"), Kind::Text),
        ],
    },
    Layout { number: 2, fields: &[opt(POSTCODE, Kind::Text), opt(ADDRESS, Kind::Text)] },
    Layout {
        number: 3,
        fields: &[
            req(f("医療機関電話番号", "institution's telephone"), Kind::Text),
            opt(f("FAX番号", "fax"), Kind::Text),
            opt(f("その他連絡先", "other contact"), Kind::Text),
        ],
    },
    Layout {
        number: 4,
        fields: &[
            opt(
                f("診療科コード種別", "department code kind"),
                Kind::Code(&["", "1", "2", "3", "4", "5", "6", "7", "8"], "1 to 8"),
            ),
            opt(f("診療科コード", "department code"), Kind::Text),
            opt(f("診療科名", "department"), Kind::Text),
        ],
    },
    Layout {
        number: 5,
        fields: &[
            opt(f("医師コード", "prescriber code"), Kind::Text),
            opt(f("医師カナ氏名", "prescriber's name (kana)"), Kind::Text),
            req(f("医師漢字氏名", "prescriber's name (kanji)"), Kind::Text),
        ],
    },
    Layout {
        number: 11,
        fields: &[
            opt(f("患者コード", "patient code"), Kind::Text),
            opt(PATIENT_KANJI, Kind::Text),
            opt(PATIENT_KANA, Kind::Text),
        ],
    },
    Layout { number: 12, fields: &[req(f("患者性別", "patient's sex"), Kind::Code(&["1", "2"], "1, 2"))] },
    Layout { number: 13, fields: &[req(f("患者生年月日", "patient's birth date"), Kind::BirthDate)] },
    Layout {
        number: 14,
        fields: &[req(f("一部負担金区分", "co-payment class"), Kind::Code(&["1", "2", "3", "4", "5"], "1 to 5"))],
    },
    Layout {
        number: 21,
        fields: &[req(f("保険種別", "insurance kind"), Kind::Code(&["1", "2", "3", "4", "5", "6", "7"], "1 to 7"))],
    },
    Layout { number: 22, fields: &[opt(f("保険者番号", "insurer number"), Kind::Text)] },
    Layout {
        number: 23,
        fields: &[
            opt(f("被保険者証記号", "insurance card symbol"), Kind::Text),
            opt(f("被保険者証番号", "insurance card number"), Kind::Text),
            req(f("被保険者／被扶養者", "insured or dependant"), Kind::Code(&["1", "2"], "1, 2")),
            opt(f("被保険者証枝番", "insurance card branch number"), Kind::Text),
        ],
    },
    Layout {
        number: 24,
        fields: &[
            req(f("患者負担率", "patient's share (%)"), Kind::Digits(3)),
            req(f("保険給付率", "insurance benefit (%)"), Kind::Digits(3)),
        ],
    },
    Layout {
        number: 25,
        fields: &[req(f("職務上の事由", "occupational cause"), Kind::Code(&["1", "2", "3"], "1, 2, 3"))],
    },
    Layout {
        number: 27,
        fields: &[
            req(f("第一公費負担者番号", "1st public payer number"), Kind::Digits(8)),
            opt(f("第一公費受給者番号", "1st public recipient number"), Kind::Digits(7)),
        ],
    },
    Layout {
        number: 28,
        fields: &[
            req(f("第二公費負担者番号", "2nd public payer number"), Kind::Digits(8)),
            opt(f("第二公費受給者番号", "2nd public recipient number"), Kind::Digits(7)),
        ],
    },
    Layout {
        number: 29,
        fields: &[
            req(f("第三公費負担者番号", "3rd public payer number"), Kind::Digits(8)),
            opt(f("第三公費受給者番号", "3rd public recipient number"), Kind::Digits(7)),
        ],
    },
    Layout {
        number: 30,
        fields: &[
            req(f("特殊公費負担者番号", "special public payer number"), Kind::Text),
            opt(f("特殊公費受給者番号", "special public recipient number"), Kind::Text),
        ],
    },
    Layout { number: 31, fields: &[req(f("レセプト種別コード", "claim kind"), Kind::Digits(4))] },
    Layout { number: 51, fields: &[req(f("処方箋交付年月日", "issue date"), Kind::Date)] },
    Layout { number: 52, fields: &[req(f("使用期限年月日", "valid until"), Kind::Date)] },
    Layout {
        number: 61,
        fields: &[
            opt(f("麻薬施用者免許番号", "narcotic licence number"), Kind::Text),
            req(f("麻薬施用患者住所", "patient's address (narcotic)"), Kind::Text),
            req(f("麻薬施用患者電話番号", "patient's telephone (narcotic)"), Kind::Text),
        ],
    },
    Layout {
        number: 62,
        fields: &[req(f("残薬確認対応フラグ", "leftover-medicine instruction"), Kind::Code(&["1", "2"], "1, 2"))],
    },
    Layout {
        number: 63,
        fields: &[
            req(f("分割回数", "number of split dispensings"), Kind::Digits(2)),
            req(f("分割回", "this split dispensing"), Kind::Digits(2)),
        ],
    },
    Layout { number: 64, fields: &[req(f("総使用回数", "refill uses"), Kind::Digits(1))] },
    Layout {
        number: 81,
        fields: &[
            req(NOTE_NUMBER, Kind::Digits(3)),
            opt(f("備考種別", "note kind"), Kind::Digits(2)),
            req(f("備考", "note"), Kind::Text),
        ],
    },
    Layout {
        number: 82,
        fields: &[
            req(f("処方箋番号種別", "prescription number kind"), Kind::Digits(1)),
            req(f("処方箋番号", "prescription number"), Kind::Digits(16)),
        ],
    },
    Layout {
        number: 101,
        fields: &[
            req(RP, Kind::Digits(3)),
            req(f("剤形区分", "dosage form"), Kind::Code(&["1", "2", "3", "4", "5", "6", "9"], "1, 2, 3, 4, 5, 6, 9")),
            opt(f("剤形名称", "dosage form name"), Kind::Text),
            req(f("調剤数量", "quantity"), Kind::Digits(3)),
        ],
    },
    Layout {
        number: 102,
        fields: &[
            req(RP, Kind::Digits(3)),
            req(f("分割回ごと調剤数量", "quantity of this split dispensing"), Kind::Digits(3)),
            req(TOTAL_QUANTITY, Kind::Digits(3)),
        ],
    },
    Layout {
        number: 111,
        fields: &[
            req(RP, Kind::Digits(3)),
            req(f("用法コード種別", "usage code kind"), Kind::Digits(1)),
            opt(f("用法コード", "usage code"), Kind::Text),
            req(f("用法名称", "usage"), Kind::Text),
            opt(f("１日回数", "times a day"), Kind::Digits(2)),
        ],
    },
    Layout {
        number: 181,
        fields: &[
            req(RP, Kind::Digits(3)),
            req(SUPPLEMENT_NUMBER, Kind::Digits(3)),
            opt(f("用法補足区分", "usage supplement kind"), Kind::Digits(2)),
            req(f("用法補足情報", "usage supplement"), Kind::Text),
            opt(f("補足用法コード", "supplementary usage code"), Kind::Text),
            opt(f("部位コード", "site code"), Kind::Text),
        ],
    },
    Layout {
        number: 201,
        fields: &[
            req(RP, Kind::Digits(3)),
            req(DRUG_NUMBER, Kind::Digits(2)),
            opt(f("情報区分", "item kind"), Kind::Code(&["", "1", "2", "3"], "1, 2, 3")),
            req(f("薬品コード種別", "drug code kind"), Kind::Code(&["1", "2", "3", "4", "5", "6", "7", "8"], "1 to 8")),
            opt(f("薬品コード", "drug code"), Kind::Text),
            opt(f("薬品名称", "drug name"), Kind::Text),
            req(f("用量", "amount"), Kind::Amount),
            req(f("力価フラグ", "potency flag"), Kind::Code(&["1", "2"], "1 (薬価単位), 2 (力価単位)")),
            req(f("単位名", "unit"), Kind::Text),
        ],
    },
    Layout {
        number: 211,
        fields: &[
            req(RP, Kind::Digits(3)),
            req(DRUG_NUMBER, Kind::Digits(2)),
            req(f("単位変換係数", "unit conversion factor"), Kind::Amount),
        ],
    },
    Layout {
        number: 221,
        fields: &[
            req(RP, Kind::Digits(3)),
            req(DRUG_NUMBER, Kind::Digits(2)),
            req(f("1回目服用量", "1st dose"), Kind::Amount),
            req(f("2回目服用量", "2nd dose"), Kind::Amount),
            opt(f("3回目服用量", "3rd dose"), Kind::Amount),
            opt(f("4回目服用量", "4th dose"), Kind::Amount),
            opt(f("5回目服用量", "5th dose"), Kind::Amount),
            opt(f("1回目服用量コード", "1st dose code"), Kind::Text),
            opt(f("2回目服用量コード", "2nd dose code"), Kind::Text),
            opt(f("3回目服用量コード", "3rd dose code"), Kind::Text),
            opt(f("4回目服用量コード", "4th dose code"), Kind::Text),
            opt(f("5回目服用量コード", "5th dose code"), Kind::Text),
        ],
    },
    Layout {
        number: 231,
        fields: &[
            req(RP, Kind::Digits(3)),
            req(DRUG_NUMBER, Kind::Digits(2)),
            opt(f("第一公費負担区分", "1st public expense pays"), Kind::Code(YES_NO, "0, 1")),
            opt(f("第二公費負担区分", "2nd public expense pays"), Kind::Code(YES_NO, "0, 1")),
            opt(f("第三公費負担区分", "3rd public expense pays"), Kind::Code(YES_NO, "0, 1")),
            opt(f("特殊公費負担区分", "special public expense pays"), Kind::Code(YES_NO, "0, 1")),
        ],
    },
    Layout {
        number: 241,
        fields: &[
            req(RP, Kind::Digits(3)),
            req(DRUG_NUMBER, Kind::Digits(2)),
            req(f("１回服用量", "single dose"), Kind::Text),
            opt(f("１日服用回数", "doses a day"), Kind::Digits(2)),
        ],
    },
    Layout {
        number: 281,
        fields: &[
            req(RP, Kind::Digits(3)),
            req(DRUG_NUMBER, Kind::Digits(2)),
            req(SUPPLEMENT_NUMBER, Kind::Digits(3)),
            opt(f("薬品補足区分", "drug supplement kind"), Kind::Digits(2)),
            req(f("薬品補足情報", "drug supplement"), Kind::Text),
            opt(f("補足用法コード", "supplementary usage code"), Kind::Text),
        ],
    },
];

/// The layout of record `number`.
pub(super) fn layout(number: u16) -> Option<&'static Layout> {
    LAYOUTS.iter().find(|l| l.number == number)
}

/// Check `fields` (the record number first) against `layout`: the count, no spaces around a field, required
/// fields present, each of its kind.
pub(super) fn check(line: usize, layout: &Layout, fields: &[&str]) -> Result<(), PrescriptionError> {
    let record = fields.first().copied().unwrap_or_default();
    let err = |problem| PrescriptionError::record(line, record, problem);
    if fields.len() != layout.fields.len() + 1 {
        return Err(err(Problem::FieldCount { found: fields.len(), expected: layout.fields.len() + 1 }));
    }
    for (spec, value) in layout.fields.iter().zip(fields.iter().skip(1)) {
        if value.trim_matches([' ', '\u{3000}']) != *value {
            return Err(err(Problem::Spaces(spec.field)));
        }
        if value.is_empty() {
            if spec.required {
                return Err(err(Problem::Required(spec.field)));
            }
            if !matches!(spec.kind, Kind::Code(..)) {
                continue;
            }
        }
        let problem = match spec.kind {
            Kind::Digits(max) => (!digits(value, max)).then_some(Problem::NotDigits { field: spec.field, max }),
            Kind::Code(allowed, listed) => {
                (!allowed.contains(value)).then_some(Problem::NotCode { field: spec.field, allowed: listed })
            }
            Kind::Amount => (!amount(value)).then_some(Problem::NotAmount(spec.field)),
            Kind::Date => (!date(value)).then_some(Problem::NotDate(spec.field)),
            Kind::BirthDate => (!birth_date(value)).then_some(Problem::NotDate(spec.field)),
            Kind::Text => None,
        };
        if let Some(problem) = problem {
            return Err(err(problem));
        }
    }
    Ok(())
}

/// 1 to `max` ASCII digits.
pub(super) fn digits(value: &str, max: usize) -> bool {
    (1..=max).contains(&value.len()) && value.bytes().all(|b| b.is_ascii_digit())
}

/// Up to 6 digits, then optionally a point and 1 to 5 digits (JAHIS: 整数 6 桁 + 小数点 + 小数 5 桁).
fn amount(value: &str) -> bool {
    match value.split_once('.') {
        None => digits(value, 6),
        Some((whole, fraction)) => digits(whole, 6) && digits(fraction, 5),
    }
}

/// YYYYMMDD, or GYYMMDD with G an era of 別表２ (1 明治 … 5 令和), each a day that exists.
fn date(value: &str) -> bool {
    digits(value, 8) && super::date::Date::parse(value).is_some_and(|d| d.day.is_some())
}

/// A date, or one of the shorter birth-date forms (年月, 年).
fn birth_date(value: &str) -> bool {
    digits(value, 8) && super::date::Date::parse(value).is_some()
}
