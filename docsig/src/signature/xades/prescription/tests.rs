//! The strict prescription reader: a valid file read whole and shown whole (the 力価フラグ of each drug
//! included), in LF and CRLF; and every file that could be read two ways refused, with the line, the record and
//! the rule in both languages.

use super::*;

/// The records of a valid prescription (JAHIS10): three Rps, the third's amount in 力価単位.
const RECORDS: &[&str] = &[
    "JAHIS10",
    "1,1,1234567,13,テスト医療機関",
    "5,,イシ タロウ,医師 太郎",
    "11,P0001,処方 花子,ショホウ ハナコ",
    "12,2",
    "13,19800101",
    "22,06012345",
    "23,０１－２３,１２３４,1,",
    "51,20261126",
    "101,1,1,,5",
    "111,1,1,,1日3回毎食後,3",
    "201,1,1,1,2,1149019F1ZZZ,ロキソプロフェンNa錠60mg,3,1,錠",
    "281,1,1,1,3,後発品変更不可,",
    "101,2,2,,3",
    "111,2,1,,疼痛時,",
    "201,2,1,1,2,,レバミピド錠100mg,1,1,錠",
    "101,3,1,,5",
    "111,3,1,,1日3回毎食後,3",
    "201,3,1,1,7,,【般】アモキシシリンカプセル,750,2,ｍｇ",
];

fn csv(records: &[&str], end: &str) -> String {
    records.iter().map(|r| format!("{r}{end}")).collect()
}

/// [`RECORDS`] with `edit` applied, CRLF.
fn edited(edit: impl FnOnce(&mut Vec<String>)) -> String {
    let mut records: Vec<String> = RECORDS.iter().map(|r| (*r).to_owned()).collect();
    edit(&mut records);
    records.iter().map(|r| format!("{r}\r\n")).collect()
}

/// The layout of record 201 (薬品).
const DRUG_LAYOUT: &layout::Layout = &layout::LAYOUTS[31];

fn refused(text: &str) -> PrescriptionError {
    match Prescription::read(text.as_bytes()) {
        Ok(read) => panic!("accepted:\n{text}\n{read:?}"),
        Err(e) => e,
    }
}

#[test]
fn a_valid_prescription_is_read_whole_in_lf_and_crlf() {
    let crlf = Prescription::read(csv(RECORDS, "\r\n").as_bytes()).unwrap();
    let lf = Prescription::read(csv(RECORDS, "\n").as_bytes()).unwrap();
    assert_eq!((crlf.line_ending, lf.line_ending), (Some(LineEnding::CrLf), Some(LineEnding::Lf)));
    assert_eq!(Prescription { line_ending: None, ..crlf.clone() }, Prescription { line_ending: None, ..lf });
    assert_eq!((crlf.version.as_str(), crlf.records), ("JAHIS10", RECORDS.len()));
    assert_eq!(crlf.patient_name(), "処方 花子");
    assert_eq!(crlf.issued, Date { era: None, year: 2026, month: Some(11), day: Some(26) });
    assert_eq!(crlf.rps.len(), 3);
    let amoxicillin = &crlf.rps[2].drugs[0];
    assert_eq!((amoxicillin.amount.as_str(), amoxicillin.potency), ("750", Potency::ActiveIngredient));
    assert_eq!(crlf.rps[0].drugs[0].potency, Potency::ListedUnit);

    // The last record may lack its end; one MS-DOS EOF byte may close the file (JAHIS 表 3-3); a UTF-8 BOM may
    // open it.
    let unended = csv(RECORDS, "\r\n");
    let unended = unended.strip_suffix("\r\n").unwrap();
    assert_eq!(Prescription::read(unended.as_bytes()).unwrap().rps, crlf.rps);
    let closed = format!("\u{feff}{}\u{1a}", csv(RECORDS, "\n"));
    assert_eq!(Prescription::read(closed.as_bytes()).unwrap().rps, crlf.rps);
    // 和暦 dates and a birth year alone.
    let wareki = edited(|r| {
        r[5] = "13,335".into();
        r[8] = "51,5081126".into();
    });
    let read = Prescription::read(wareki.as_bytes()).unwrap();
    assert_eq!((read.issued.japanese(), read.issued.english()), ("令和8年11月26日".into(), "2026-11-26".into()));
    assert_eq!((read.patient.birth.japanese(), read.patient.birth.english()), ("昭和35年".into(), "1960".into()));
}

#[test]
fn what_is_shown_names_every_drug_with_its_potency_flag() {
    let read = Prescription::read(csv(RECORDS, "\r\n").as_bytes()).unwrap();
    let shown = read.shown();
    let ja: Vec<String> = shown.iter().map(|l| format!("{}: {}", l.label.ja, l.ja)).collect();
    let en: Vec<String> = shown.iter().map(|l| format!("{}: {}", l.label.en, l.en)).collect();
    for want in [
        "患者: 処方 花子（ショホウ ハナコ）　女　1980年1月1日生　患者コード P0001",
        "処方医: 医師 太郎（イシ タロウ）",
        "交付年月日: 2026年11月26日",
        "剤（RP）: Rp1 内服 5日分 1日3回毎食後（1日3回）",
        "薬剤: Rp1-1 ロキソプロフェンNa錠60mg 3錠（力価フラグ 1: 薬価単位）　レセプト電算コード 1149019F1ZZZ",
        "薬品補足: Rp1-1: ［後発品変更不可］後発品変更不可",
        "剤（RP）: Rp2 頓服 3回分 疼痛時",
        "薬剤: Rp3-1 【般】アモキシシリンカプセル 750ｍｇ（力価フラグ 2: 力価単位）　一般名処方",
    ] {
        assert!(ja.iter().any(|l| l == want), "{want:?} not shown in\n{}", ja.join("\n"));
    }
    for want in [
        "Patient: 処方 花子（ショホウ ハナコ）, female, born 1980-01-01, patient code P0001",
        "Drug: Rp3-1 【般】アモキシシリンカプセル 750 ｍｇ (potency flag 2: amount of the active ingredient), \
         prescribed by generic name",
        "Drug: Rp1-1 ロキソプロフェンNa錠60mg 3 錠 (potency flag 1: amount of the product as listed), receipt code \
         1149019F1ZZZ",
        "Insurance: insurer 06012345, card symbol ０１－２３, card number １２３４ (insured)",
    ] {
        assert!(en.iter().any(|l| l == want), "{want:?} not shown in\n{}", en.join("\n"));
    }
    // Every record of the file reaches the page: one line per record but the ones folded into another's line.
    assert_eq!(shown.len(), 12, "{}", ja.join("\n"));
}

/// A record of every number of the layout (the JAHIS samples of 表 3-8 to 3-44), as `fuzz/seeds/prescription_csv/
/// every-record-crlf` holds them: read, and each shown.
#[test]
fn every_record_of_the_layout_is_read_and_shown() {
    let every = [
        "JAHIS10",
        "1,1,1234567,13,医療法人 工業会病院",
        "2,105-0004,東京都港区新橋 1 丁目 11 番",
        "3,03-0000-0000,000-1111,abc@defghi.jp",
        "4,2,01,内科",
        "5,D001,ｺｳｷﾞｮｳｶｲ ｼﾞﾛｳ,工業会 次郎",
        "11,,日薬 太郎,ﾆﾁﾔｸ ﾀﾛｳ",
        "12,1",
        "13,3350606",
        "14,5",
        "21,7",
        "22,39101233",
        "23,,12345674,1,05",
        "24,10,90",
        "25,3",
        "27,51123456,1234567",
        "28,12123456,",
        "29,12123456,",
        "30,特－１２,１２３４５６７",
        "31,1112",
        "51,5081126",
        "52,20261203",
        "61,,東京都港区新橋1丁目,03(0000)0000",
        "62,2",
        "63,3,2",
        "64,3",
        "81,1,,訪問",
        "81,2,1,一包化",
        "82,1,1234567890123456",
        "101,1,1,,90",
        "102,1,30,90",
        "111,1,2,1013044400000000,１日３回朝昼夕食後,3",
        "181,1,1,2,一包化,,",
        "181,1,2,9,左耳,,42L",
        "201,1,1,1,2,612170709,ノルバスク錠２．５ｍｇ,4,1,錠",
        "211,1,1,0.66667",
        "221,1,1,1.5,0.5,0.5,,,V11.5NNN,V20.5NNN,V30.5NNN,,",
        "231,1,1,1,,,",
        "241,1,1,2/3,3",
        "281,1,1,1,8,先発医薬品患者希望,",
        "281,1,1,2,7,１日おき,I1100000",
        "201,1,2,1,1,,ノルバスク錠,10,2,ｍｇ",
        "231,1,2,,,,",
        "101,2,9,訪問,1",
        "111,2,1,,医師の指示通り,",
        "201,2,1,2,1,,ペンニードル３０Ｇ６ｍｍ,14,1,本",
        "231,2,1,,1,,",
    ];
    let text = csv(&every, "\r\n");
    let read = Prescription::read(text.as_bytes()).unwrap();
    assert_eq!(read.records, every.len());
    let seed = include_str!("../../../../../fuzz/seeds/prescription_csv/every-record-crlf");
    assert_eq!(seed, text, "the fuzz seed is this file");
    let ja: Vec<String> = read.shown().iter().map(|l| format!("{}: {}", l.label.ja, l.ja)).collect();
    for want in [
        "患者: 日薬 太郎（ﾆﾁﾔｸ ﾀﾛｳ）　男　昭和35年6月6日生　一部負担金区分 5（高齢者８割（後期高齢者））",
        "医療機関: 医療法人 工業会病院（医科 1234567、都道府県 13）　〒105-0004 東京都港区新橋 1 丁目 11 番　電話 \
         03-0000-0000　FAX 000-1111　その他連絡先 abc@defghi.jp",
        "公費: 特殊公費 負担者番号 特－１２　受給者番号 １２３４５６７",
        "交付年月日: 令和8年11月26日",
        "使用期限: 2026年12月3日",
        "分割指示: 3 回に分割の 2 回目",
        "リフィル: 総使用回数 3 回",
        "備考: ［一包化］一包化",
        "処方箋番号: 引換番号 1234567890123456（種別 1）",
        "剤（RP）: Rp1 内服 90日分 １日３回朝昼夕食後（1日3回）　用法コード 1013044400000000　今回 30（総調剤数量 90）",
        "用法補足: Rp1: ［JAMI 部位］左耳　部位コード 42L",
        "薬剤: Rp1-1 ノルバスク錠２．５ｍｇ 4錠（力価フラグ 1: 薬価単位）　レセプト電算コード 612170709　単位変換係数 \
         0.66667　不均等 1.5-0.5-0.5（V11.5NNN V20.5NNN V30.5NNN）　負担区分 第一公費　1回服用量 2/3（1日3回）",
        "薬品補足: Rp1-1: ［JAMI 補足用法］１日おき　補足用法コード I1100000",
        "薬剤: Rp1-2 ノルバスク錠 10ｍｇ（力価フラグ 2: 力価単位）　コードなし　負担区分 主保険のみ",
        "剤（RP）: Rp2 不明（訪問） 調剤数量 1 医師の指示通り",
        "薬剤: Rp2-1 ペンニードル３０Ｇ６ｍｍ 14本（力価フラグ 1: 薬価単位）［医療材料］　コードなし　負担区分 第二公費",
    ] {
        assert!(ja.iter().any(|l| l == want), "{want:?} not shown in\n{}", ja.join("\n"));
    }
}

/// One refused file: what it shows, the file, its line, its record, the rule.
type Case = (&'static str, String, Option<usize>, Option<&'static str>, Problem);

/// Each way a file could be read two ways, or not shown whole: (what, the file, its line, its record, the rule).
#[test]
fn every_ambiguous_file_is_refused_with_its_line_record_and_rule() {
    let lone_cr = csv(RECORDS, "\r\n").replace(
        "201,2,1,1,2,,レバミピド錠100mg,1,1,錠\r\n",
        "201,2,1,1,2,,レバミピド錠100mg,1,1,錠\r201,2,2,1,2,,オキシコドン錠5mg,20,1,錠\r\n",
    );
    let cases: Vec<Case> = vec![
        ("a lone CR hiding a record", lone_cr, Some(16), None, Problem::LoneCr),
        (
            "LF and CRLF in one file",
            csv(RECORDS, "\r\n").replacen("\r\n", "\n", 3),
            Some(4),
            None,
            Problem::MixedLineEndings,
        ),
        (
            "the patient twice (the old summary showed the last)",
            edited(|r| r.insert(4, "11,P0002,別人 太郎,ベツジン タロウ".into())),
            Some(5),
            Some("11"),
            Problem::Repeated { first_line: 4, scope: Scope::Prescription },
        ),
        (
            "the patient again after other records",
            edited(|r| r.insert(6, "11,P0002,別人 太郎,ベツジン タロウ".into())),
            Some(7),
            Some("11"),
            Problem::Repeated { first_line: 4, scope: Scope::Prescription },
        ),
        (
            "Rp 1 twice (the old summary took the first quantity)",
            edited(|r| r.insert(12, "101,1,1,,30".into())),
            Some(13),
            Some("101"),
            Problem::Numbering { field: layout::fields::RP, expected: 2 },
        ),
        (
            "the usage twice in an Rp",
            edited(|r| r.insert(11, "111,1,1,,1日1回朝食後,1".into())),
            Some(12),
            Some("111"),
            Problem::Repeated { first_line: 11, scope: Scope::Rp },
        ),
        (
            "a unit conversion twice for a drug",
            edited(|r| {
                r.insert(12, "211,1,1,10".into());
                r.insert(13, "211,1,1,100".into());
            }),
            Some(14),
            Some("211"),
            Problem::Repeated { first_line: 13, scope: Scope::Drug },
        ),
        (
            "a record number the layout does not have",
            edited(|r| r.insert(9, "99,秘密の指示".into())),
            Some(10),
            Some("99"),
            Problem::UnknownRecord,
        ),
        (
            "a record number with a leading zero",
            edited(|r| r[4] = "012,2".into()),
            Some(5),
            Some("012"),
            Problem::UnknownRecord,
        ),
        (
            "a record number with a sign",
            edited(|r| r[4] = "+12,2".into()),
            Some(5),
            Some("+12"),
            Problem::UnknownRecord,
        ),
        (
            "a drug with one field too many (a half-width comma in its name)",
            edited(|r| r[11] = "201,1,1,1,2,1149019F1ZZZ,ロキソプロフェンNa錠60mg,3,1,錠,分3".into()),
            Some(12),
            Some("201"),
            Problem::FieldCount { found: 11, expected: 10 },
        ),
        (
            "a tab",
            edited(|r| r[3] = "11,P0001,処方\t花子,".into()),
            Some(4),
            None,
            Problem::ControlCharacter { code: 9 },
        ),
        (
            "a right-to-left override in a drug name",
            edited(|r| r[15] = "201,2,1,1,2,,\u{202e}gm001錠ドミピバレ,1,1,錠".into()),
            Some(16),
            None,
            Problem::ControlCharacter { code: 0x202e },
        ),
        (
            "a Unicode line separator",
            edited(|r| r[15] = "201,2,1,1,2,,レバミピド錠100mg\u{2028}201,1,1,錠".into()),
            Some(16),
            None,
            Problem::ControlCharacter { code: 0x2028 },
        ),
        (
            "a quoted field",
            edited(|r| r[15] = "201,2,1,1,2,,\"レバミピド錠100mg,1,1\",1,1,錠".into()),
            Some(16),
            None,
            Problem::Quote,
        ),
        ("an empty line", edited(|r| r.insert(9, String::new())), Some(10), None, Problem::EmptyLine),
        ("no version record", edited(|r| r[0] = "HPKI10".into()), Some(1), None, Problem::NoVersion),
        ("records out of order", edited(|r| r.swap(4, 5)), Some(6), Some("12"), Problem::OutOfOrder { after: 13 }),
        (
            "a record of the first group among the Rps",
            edited(|r| r.insert(13, "81,1,,訪問".into())),
            Some(14),
            Some("81"),
            Problem::OutOfOrder { after: 281 },
        ),
        (
            "a usage supplement after the Rp's drugs",
            edited(|r| r.insert(16, "181,2,1,2,一包化,,".into())),
            Some(17),
            Some("181"),
            Problem::OutOfOrder { after: 201 },
        ),
        (
            "a drug before any Rp",
            edited(|r| r.insert(9, "201,1,1,1,2,,アセトアミノフェン錠200mg,2,1,錠".into())),
            Some(10),
            Some("201"),
            Problem::Orphan,
        ),
        (
            "a drug naming another Rp than the one it follows",
            edited(|r| r[15] = "201,3,1,1,2,,レバミピド錠100mg,1,1,錠".into()),
            Some(16),
            Some("201"),
            Problem::WrongParent { field: layout::fields::RP, expected: 2 },
        ),
        (
            "a drug supplement naming another drug",
            edited(|r| r[12] = "281,1,2,1,3,後発品変更不可,".into()),
            Some(13),
            Some("281"),
            Problem::WrongParent { field: layout::fields::DRUG_NUMBER, expected: 1 },
        ),
        (
            "drug numbers that skip",
            edited(|r| r[15] = "201,2,2,1,2,,レバミピド錠100mg,1,1,錠".into()),
            Some(16),
            Some("201"),
            Problem::Numbering { field: layout::fields::DRUG_NUMBER, expected: 1 },
        ),
        (
            "a potency flag outside its table",
            edited(|r| r[15] = "201,2,1,1,2,,レバミピド錠100mg,1,3,錠".into()),
            Some(16),
            Some("201"),
            Problem::NotCode { field: DRUG_LAYOUT.fields[7].field, allowed: "1 (薬価単位), 2 (力価単位)" },
        ),
        (
            "a full-width amount",
            edited(|r| r[15] = "201,2,1,1,2,,レバミピド錠100mg,１,1,錠".into()),
            Some(16),
            Some("201"),
            Problem::NotAmount(DRUG_LAYOUT.fields[6].field),
        ),
        (
            "an amount with two points",
            edited(|r| r[15] = "201,2,1,1,2,,レバミピド錠100mg,1.0.5,1,錠".into()),
            Some(16),
            Some("201"),
            Problem::NotAmount(DRUG_LAYOUT.fields[6].field),
        ),
        (
            "an amount padded with a space",
            edited(|r| r[15] = "201,2,1,1,2,,レバミピド錠100mg, 1,1,錠".into()),
            Some(16),
            Some("201"),
            Problem::Spaces(DRUG_LAYOUT.fields[6].field),
        ),
        (
            "a dosage form name beside a known dosage form (the old fixture: 外用 named 頓服)",
            edited(|r| r[13] = "101,2,3,頓服,3".into()),
            Some(14),
            Some("101"),
            Problem::FormName,
        ),
        (
            "a total quantity other than the Rp's",
            edited(|r| r.insert(10, "102,1,5,10".into())),
            Some(11),
            Some("102"),
            Problem::TotalQuantity { expected: 5 },
        ),
        (
            "record 231 for some drugs only",
            edited(|r| r.insert(12, "231,1,1,1,,,".into())),
            Some(15),
            None,
            Problem::PartialBurden,
        ),
        (
            "an Rp without its usage",
            edited(|r| {
                r.remove(14);
            }),
            Some(15),
            Some("201"),
            Problem::Missing { record: 111, scope: Scope::Rp },
        ),
        (
            "an Rp without a drug",
            edited(|r| {
                r.remove(15);
            }),
            Some(14),
            Some("101"),
            Problem::Missing { record: 201, scope: Scope::Rp },
        ),
        (
            "no sex (required)",
            edited(|r| {
                r.remove(4);
            }),
            None,
            None,
            Problem::Missing { record: 12, scope: Scope::Prescription },
        ),
        (
            "a drug without its name",
            edited(|r| r[15] = "201,2,1,1,2,612320012,,1,1,錠".into()),
            Some(16),
            Some("201"),
            Problem::NoDrugName,
        ),
        (
            "31 February",
            edited(|r| r[8] = "51,20260231".into()),
            Some(9),
            Some("51"),
            Problem::NotDate(layout::LAYOUTS[19].fields[0].field),
        ),
        (
            "a patient without a name",
            edited(|r| r[3] = "11,P0001,,".into()),
            Some(4),
            Some("11"),
            Problem::OneOf(layout::fields::PATIENT_KANJI, layout::fields::PATIENT_KANA),
        ),
    ];
    assert_eq!(layout::LAYOUTS[19].number, 51);
    for (what, text, line, record, problem) in cases {
        let err = refused(&text);
        assert_eq!(err.problem, problem, "{what}: {err}");
        assert_eq!(err.line, line, "{what}: {err}");
        if let Some(record) = record {
            assert_eq!(err.record.as_deref(), Some(record), "{what}: {err}");
        }
        let (en, ja) = (err.to_string(), err.japanese());
        assert!(en.starts_with("the prescription CSV cannot be read unambiguously"), "{what}: {en}");
        assert!(ja.starts_with("処方箋 CSV を一通りに読めないため署名できません"), "{what}: {ja}");
        if let Some(line) = err.line {
            assert!(
                en.contains(&format!("line {line}")) && ja.contains(&format!("{line} 行目")),
                "{what}: {en} / {ja}"
            );
        }
        assert!(
            en.contains("write") || en.contains("give") || en.contains("save") || en.contains("check"),
            "{what}: {en}"
        );
        assert!(err.bilingual().starts_with(&ja) && err.bilingual().ends_with(&en), "{what}");
    }
}

#[test]
fn the_bytes_are_refused_before_anything_is_read() {
    let err = Prescription::read(b"11,P,\x82\xa0\n").unwrap_err();
    assert_eq!((err.line, &err.problem), (Some(1), &Problem::NotUtf8));
    assert!(err.to_string().contains("save it as UTF-8"), "{err}");
    let shift_jis = [csv(&RECORDS[..3], "\r\n").as_bytes(), b"11,,\x82\xa0,\r\n"].concat();
    assert_eq!(Prescription::read(&shift_jis).unwrap_err().line, Some(4));
    let err = Prescription::read(&vec![b'1'; MAX_CSV_BYTES + 1]).unwrap_err();
    assert!(matches!(err.problem, Problem::TooLarge { .. }) && err.to_string().contains("over the limit"), "{err}");
    for empty in [&b""[..], b"\xef\xbb\xbf", b"\x1a"] {
        assert_eq!(Prescription::read(empty).unwrap_err().problem, Problem::Empty);
    }
    assert_eq!(Prescription::read(b"JAHIS10\n\x1a\n").unwrap_err().problem, Problem::ControlCharacter { code: 0x1a });
    assert_eq!(
        Prescription::read(b"JAHIS10").unwrap_err().problem,
        Problem::Missing { record: 1, scope: Scope::Prescription }
    );
}

/// A CR or an LF inserted at any place of a valid CRLF file makes a file some reader splits differently (a lone CR,
/// LF beside CRLF, an empty line): each is refused.
#[test]
fn a_line_end_anywhere_else_is_refused() {
    let valid = csv(RECORDS, "\r\n");
    let boundaries: Vec<usize> = (0..=valid.len()).filter(|i| valid.is_char_boundary(*i)).collect();
    for at in &boundaries {
        for inserted in ["\r", "\n"] {
            let mut text = valid.clone();
            text.insert_str(*at, inserted);
            assert!(Prescription::read(text.as_bytes()).is_err(), "{inserted:?} at {at} accepted");
        }
    }
}

/// The fuzz target's seeds (`fuzz/seeds/prescription_csv/`, written by hand) are what their names say: the valid
/// ones read, each refused variant refused.
#[test]
fn the_fuzz_seeds_are_what_their_names_say() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/seeds/prescription_csv");
    let mut seen = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let read = Prescription::read(&std::fs::read(&path).unwrap());
        let valid = ["valid-", "every-record", "bom-eof"].iter().any(|p| name.starts_with(p));
        assert_eq!(read.is_ok(), valid, "{name}: {read:?}");
        seen += 1;
    }
    assert!(seen >= 10, "{seen} seeds in {}", dir.display());
}
