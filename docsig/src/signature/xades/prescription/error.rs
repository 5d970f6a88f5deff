//! Why a prescription CSV cannot be read unambiguously: where (line and record) and which rule, in English (logs,
//! the server's API, the terminal) and in Japanese (the pages a physician reads), each saying what to do.

/// A field's name in both languages, as the messages and the page name it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Field {
    /// The name in the JAHIS layout.
    pub ja: &'static str,
    /// The name in English.
    pub en: &'static str,
}

/// A prescription CSV that cannot be read unambiguously, so nothing may be signed over it: the line and record
/// where reading stopped, when there is one, and the rule broken.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("the prescription CSV cannot be read unambiguously{}: {}", self.place_en(), self.problem.english())]
pub struct PrescriptionError {
    /// The line (1-based) where the problem is, when it is on one.
    pub line: Option<usize>,
    /// The record number as written on that line (shortened), when the line has one.
    pub record: Option<String>,
    /// The rule broken.
    pub problem: Problem,
}

/// A rule of the prescription CSV (JAHIS 院外処方箋２次元シンボル記録条件規約 Ver.1.10, and hcpki's own where
/// it says so) that the file breaks.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Problem {
    /// Over the size limit.
    TooLarge {
        /// The file's size.
        size: usize,
        /// The limit ([`super::MAX_CSV_BYTES`]).
        limit: usize,
    },
    /// Not UTF-8 (a Shift_JIS file, or damaged bytes).
    NotUtf8,
    /// A CR not followed by LF: readers that end records at CR and readers that do not see different records.
    LoneCr,
    /// Records ended with LF and with CRLF in one file.
    MixedLineEndings,
    /// A control or invisible formatting character (tab, NUL, a Unicode line separator, a bidirectional override).
    ControlCharacter {
        /// The character's code point.
        code: u32,
    },
    /// A double quotation mark: CSV readers that honour quoting and ones that do not split the line differently.
    Quote,
    /// An empty line: a record is never empty.
    EmptyLine,
    /// No record at all.
    Empty,
    /// The first line is not the version record.
    NoVersion,
    /// A record number the layout does not define.
    UnknownRecord,
    /// A record with another number of fields than its layout.
    FieldCount {
        /// Fields on the line, the record number included.
        found: usize,
        /// Fields the layout has, the record number included.
        expected: usize,
    },
    /// A field that starts or ends with a space.
    Spaces(Field),
    /// A single-valued record written a second time.
    Repeated {
        /// The line of its first occurrence.
        first_line: usize,
        /// Once per what.
        scope: Scope,
    },
    /// A record after one it must come before.
    OutOfOrder {
        /// The record number it follows.
        after: u16,
    },
    /// A record of an Rp (102–181) or of a drug (211–281) with no Rp (101) or drug (201) before it.
    Orphan,
    /// A required record is missing.
    Missing {
        /// The record's number.
        record: u16,
        /// Where it is required.
        scope: Scope,
    },
    /// A required field is empty.
    Required(Field),
    /// Neither of two fields of which one is required.
    OneOf(Field, Field),
    /// A numeric field that is not 1 to `max` ASCII digits.
    NotDigits {
        /// The field.
        field: Field,
        /// Its most digits.
        max: usize,
    },
    /// A coded field with a value outside its code table.
    NotCode {
        /// The field.
        field: Field,
        /// The values allowed, as the message lists them.
        allowed: &'static str,
    },
    /// An amount that is not a decimal number (up to 6 digits, a point, up to 5 digits).
    NotAmount(Field),
    /// A date that is not YYYYMMDD or GYYMMDD (or, for a birth date, a shorter form the layout allows).
    NotDate(Field),
    /// A sequence number out of turn (Rp numbers, drug numbers in an Rp, note and supplement numbers count 1, 2,
    /// 3, …).
    Numbering {
        /// The field.
        field: Field,
        /// The number expected here.
        expected: u32,
    },
    /// A record of an Rp or a drug whose Rp number or drug number is not the one it follows.
    WrongParent {
        /// The field.
        field: Field,
        /// The number it must carry.
        expected: u32,
    },
    /// 剤形名称 written though 剤形区分 is not 9 (不明): the name could contradict the code.
    FormName,
    /// 総調剤数量 (record 102) is not the 調剤数量 of the Rp's record 101.
    TotalQuantity {
        /// Record 101's quantity.
        expected: u32,
    },
    /// Record 231 for some drugs only (JAHIS: every drug or none).
    PartialBurden,
    /// A drug without its name: hcpki shows the name it signs and has no drug master to look a code up in.
    NoDrugName,
}

/// Where a record is counted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    /// Once in the prescription.
    Prescription,
    /// Once in each Rp (剤).
    Rp,
    /// Once for each drug (薬品).
    Drug,
}

impl PrescriptionError {
    /// A problem of the whole file.
    pub(super) fn file(problem: Problem) -> Self {
        Self { line: None, record: None, problem }
    }

    /// A problem on `line`, before its record number is known.
    pub(super) fn line(line: usize, problem: Problem) -> Self {
        Self { line: Some(line), record: None, problem }
    }

    /// A problem of the record `record` on `line`.
    pub(super) fn record(line: usize, record: &str, problem: Problem) -> Self {
        Self { line: Some(line), record: Some(record.chars().take(12).collect()), problem }
    }

    /// The message in Japanese, for the pages a physician reads.
    pub fn japanese(&self) -> String {
        let place = match (self.line, &self.record) {
            (Some(line), Some(record)) => format!("{line} 行目（レコード {record}）"),
            (Some(line), None) => format!("{line} 行目"),
            _ => String::new(),
        };
        let sep = if place.is_empty() { "" } else { "：" };
        format!(
            "処方箋 CSV を一通りに読めないため署名できません{sep}{place}{}{}",
            if place.is_empty() { "。" } else { "、" },
            self.problem.japanese()
        )
    }

    /// Both languages, Japanese first, for a message a page shows as it is (the card agent's refusals reach the
    /// portal's Japanese page).
    pub fn bilingual(&self) -> String {
        format!("{} / {self}", self.japanese())
    }

    fn place_en(&self) -> String {
        match (self.line, &self.record) {
            (Some(line), Some(record)) => format!(" (line {line}, record {record})"),
            (Some(line), None) => format!(" (line {line})"),
            _ => String::new(),
        }
    }
}

impl Scope {
    fn english(self) -> &'static str {
        match self {
            Scope::Prescription => "once in a prescription",
            Scope::Rp => "once in each Rp",
            Scope::Drug => "once for each drug",
        }
    }

    fn japanese(self) -> &'static str {
        match self {
            Scope::Prescription => "処方箋に 1 回",
            Scope::Rp => "1 つの剤（RP）に 1 回",
            Scope::Drug => "1 つの薬品に 1 回",
        }
    }
}

impl Problem {
    /// What is wrong and what to do, in English.
    pub fn english(&self) -> String {
        const FIX: &str = "have the prescribing system write the prescription again";
        match self {
            Problem::TooLarge { size, limit } => {
                format!("it is {size} bytes, over the limit of {limit} bytes: check that this is a prescription")
            }
            Problem::NotUtf8 => "it is not UTF-8: save it as UTF-8 (電子処方箋 CSV is written in UTF-8)".into(),
            Problem::LoneCr => format!(
                "a CR is not followed by LF, so readers disagree on where records end and may see records that are \
                 not shown here; {FIX} with LF (or CRLF) line ends"
            ),
            Problem::MixedLineEndings => {
                format!("records end with LF and with CRLF in one file; {FIX} with one kind of line end")
            }
            Problem::ControlCharacter { code } => format!(
                "it holds the control or invisible formatting character U+{code:04X}, which can hide or reorder what \
                 is shown; {FIX} without it"
            ),
            Problem::Quote => format!(
                "it holds a double quotation mark, which CSV readers that honour quoting read as another split of \
                 the fields (JAHIS: fields are never quoted); {FIX}"
            ),
            Problem::EmptyLine => format!("the line is empty (a record is never empty); {FIX} without empty lines"),
            Problem::Empty => "it holds no record: give the whole prescription CSV".into(),
            Problem::NoVersion => format!(
                "the first line is not the version record (JAHIS followed by the version, e.g. JAHIS10); give the \
                 whole prescription CSV, or {FIX}"
            ),
            Problem::UnknownRecord => format!(
                "this record number is not in the JAHIS Ver.1.10 layout hcpki reads, so what it says cannot be \
                 shown; {FIX}"
            ),
            Problem::FieldCount { found, expected } => format!(
                "it has {found} comma-separated fields where its layout has {expected} (the record number \
                 included; an omitted field is written empty); {FIX}"
            ),
            Problem::Spaces(field) => {
                format!(
                    "{} starts or ends with a space (JAHIS: spaces around a field are not written); {FIX}",
                    field.en
                )
            }
            Problem::Repeated { first_line, scope } => format!(
                "the record is written again (first on line {first_line}); it is written {}, and two of them can be \
                 read two ways; {FIX}",
                scope.english()
            ),
            Problem::OutOfOrder { after } => format!(
                "the record comes after record {after}; records are written in number order, each Rp (101–181) \
                 followed by its drugs (201–281); {FIX}"
            ),
            Problem::Orphan => format!(
                "the record belongs to an Rp (record 101) or a drug (record 201) and none comes before it; {FIX}"
            ),
            Problem::Missing { record, scope } => match scope {
                Scope::Prescription => format!("record {record} is missing: it is required; {FIX}"),
                Scope::Rp => format!("record {record} is missing in this Rp: every Rp has one; {FIX}"),
                Scope::Drug => format!("record {record} is missing for this drug; {FIX}"),
            },
            Problem::Required(field) => format!("{} is empty: it is required; {FIX}", field.en),
            Problem::OneOf(a, b) => format!("{} and {} are both empty: one is required; {FIX}", a.en, b.en),
            Problem::NotDigits { field, max } => {
                format!("{} is not a number of 1 to {max} half-width digits; {FIX}", field.en)
            }
            Problem::NotCode { field, allowed } => format!("{} is not one of {allowed}; {FIX}", field.en),
            Problem::NotAmount(field) => format!(
                "{} is not a decimal number (up to 6 digits, a point, up to 5 digits, half-width); {FIX}",
                field.en
            ),
            Problem::NotDate(field) => {
                format!("{} is not a date (YYYYMMDD, or GYYMMDD with the era code G); {FIX}", field.en)
            }
            Problem::Numbering { field, expected } => format!(
                "{} should be {expected} here (the numbers count 1, 2, 3, … in order, none twice); {FIX}",
                field.en
            ),
            Problem::WrongParent { field, expected } => {
                format!("{} must be {expected}, the number of the Rp or drug this record follows; {FIX}", field.en)
            }
            Problem::FormName => format!(
                "剤形名称 (dosage form name) is written though 剤形区分 (dosage form) is not 9 (unknown), so the two \
                 could say different things; {FIX}"
            ),
            Problem::TotalQuantity { expected } => format!(
                "総調剤数量 (total quantity) is not {expected}, the 調剤数量 (quantity) of the Rp's record 101; {FIX}"
            ),
            Problem::PartialBurden => {
                format!("record 231 (public-expense burden) is written for some drugs only: every drug or none; {FIX}")
            }
            Problem::NoDrugName => format!(
                "the drug has no name (薬品名称): hcpki shows the name of every drug it signs and has no drug master \
                 to look the code up; {FIX} with the drug names"
            ),
        }
    }

    /// What is wrong and what to do, in Japanese.
    pub fn japanese(&self) -> String {
        const FIX: &str = "処方システムで処方箋を作り直してください。";
        match self {
            Problem::TooLarge { size, limit } => format!(
                "ファイルが {size} バイトあり、上限の {limit} バイトを超えています。処方箋のファイルか確かめてください。"
            ),
            Problem::NotUtf8 => {
                "UTF-8 ではありません。UTF-8 で保存してください（電子処方箋の CSV は UTF-8 で記録します）。".into()
            }
            Problem::LoneCr => format!(
                "LF が続かない CR があり、読む側によってレコードの区切りが変わります（ここに表示されないレコードが\
                 読まれることがあります）。改行を LF（または CRLF）にして{FIX}"
            ),
            Problem::MixedLineEndings => {
                format!("LF で終わるレコードと CRLF で終わるレコードが混在しています。改行をそろえて{FIX}")
            }
            Problem::ControlCharacter { code } => format!(
                "表示を隠したり並べ替えたりできる制御文字・書式文字（U+{code:04X}）が含まれています。この文字を除いて{FIX}"
            ),
            Problem::Quote => format!(
                "ダブルクォーテーションが含まれています。引用符を解釈する CSV 読取りでは項目の区切りが変わります\
                 （JAHIS 規約では項目を引用符で囲みません）。{FIX}"
            ),
            Problem::EmptyLine => format!("空の行があります（空のレコードはありません）。空行を除いて{FIX}"),
            Problem::Empty => "レコードがありません。処方箋の CSV 全体を渡してください。".into(),
            Problem::NoVersion => format!(
                "1 行目がバージョンレコード（JAHIS とバージョン番号、例: JAHIS10）ではありません。処方箋の CSV 全体を渡すか、{FIX}"
            ),
            Problem::UnknownRecord => format!(
                "このレコード番号は hcpki が読む JAHIS Ver.1.10 のレイアウトにないため、内容を表示できません。{FIX}"
            ),
            Problem::FieldCount { found, expected } => format!(
                "項目数が {found} です（レコード番号を含めて {expected} 項目のレイアウトです。省略する項目は空文字で記録します）。{FIX}"
            ),
            Problem::Spaces(field) => {
                format!("「{}」の先頭か末尾に空白があります（JAHIS 規約では出力しません）。{FIX}", field.ja)
            }
            Problem::Repeated { first_line, scope } => format!(
                "同じレコードが再び記録されています（最初は {first_line} 行目）。このレコードは{}だけ記録し、\
                 2 つあると二通りに読めます。{FIX}",
                scope.japanese()
            ),
            Problem::OutOfOrder { after } => format!(
                "レコード {after} の後にあります。レコードは番号順に、剤（101〜181）ごとにその薬品（201〜281）を続けて\
                 記録します。{FIX}"
            ),
            Problem::Orphan => format!(
                "剤（レコード 101）または薬品（レコード 201）に属するレコードですが、その前に剤・薬品がありません。{FIX}"
            ),
            Problem::Missing { record, scope } => match scope {
                Scope::Prescription => format!("必須のレコード {record} がありません。{FIX}"),
                Scope::Rp => format!("この剤（RP）にレコード {record} がありません（剤ごとに必須です）。{FIX}"),
                Scope::Drug => format!("この薬品にレコード {record} がありません。{FIX}"),
            },
            Problem::Required(field) => format!("必須の「{}」が空です。{FIX}", field.ja),
            Problem::OneOf(a, b) => format!("「{}」と「{}」がどちらも空です（どちらかが必須です）。{FIX}", a.ja, b.ja),
            Problem::NotDigits { field, max } => {
                format!("「{}」が 1〜{max} 桁の半角数字ではありません。{FIX}", field.ja)
            }
            Problem::NotCode { field, allowed } => {
                format!("「{}」が規約のコード（{allowed}）ではありません。{FIX}", field.ja)
            }
            Problem::NotAmount(field) => {
                format!("「{}」が数値（整数 6 桁まで・小数点・小数 5 桁まで、半角）ではありません。{FIX}", field.ja)
            }
            Problem::NotDate(field) => {
                format!("「{}」が日付（西暦 YYYYMMDD または和暦 GYYMMDD）ではありません。{FIX}", field.ja)
            }
            Problem::Numbering { field, expected } => format!(
                "「{}」はここでは {expected} のはずです（1, 2, 3… と順に、重複なく記録します）。{FIX}",
                field.ja
            ),
            Problem::WrongParent { field, expected } => {
                format!("「{}」は、このレコードが続く剤・薬品の番号 {expected} でなければなりません。{FIX}", field.ja)
            }
            Problem::FormName => {
                format!("剤形区分が 9（不明）でないのに剤形名称が記録されており、両者が食い違うおそれがあります。{FIX}")
            }
            Problem::TotalQuantity { expected } => {
                format!("総調剤数量が、剤形レコード（101）の調剤数量 {expected} と一致しません。{FIX}")
            }
            Problem::PartialBurden => {
                format!("負担区分レコード（231）が一部の薬品にだけあります（全薬品に記録するか、記録しません）。{FIX}")
            }
            Problem::NoDrugName => format!(
                "薬品名称がありません。hcpki は署名する薬品の名称をすべて表示し、コードから名称を引く医薬品マスタを\
                 持ちません。薬品名称を記録して{FIX}"
            ),
        }
    }
}
