//! The date of birth item (`1.2.392.200149.8.5.5.4`): `EYYYYMMDD`, an era digit and the Gregorian date.
//!
//! `419900101` is 1990-01-01, which is 平成2年1月1日: the eight digits are the Gregorian year, month and day,
//! not the year of the era. The digit says which era the resident register records (it matters on the days an
//! era changed, and for display as the patient knows it). Source: secondary quotes of J-LIS's profile (see the
//! module doc of [`crate::jpki`]); not checked against a real card.

use time::{Date, Month};

/// The era digit of a JPKI date of birth.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Era {
    /// `0`: 不明 (the register records no era).
    Unknown,
    /// `1`: 明治 (1868–1912).
    Meiji,
    /// `2`: 大正 (1912-07-30 – 1926-12-25).
    Taisho,
    /// `3`: 昭和 (1926-12-25 – 1989-01-07).
    Showa,
    /// `4`: 平成 (1989-01-08 – 2019-04-30).
    Heisei,
    /// `5`: 令和 (from 2019-05-01).
    Reiwa,
}

impl Era {
    /// The era of digit `d`, if J-LIS's coding has one.
    pub fn from_digit(d: u8) -> Option<Self> {
        Some(match d {
            0 => Self::Unknown,
            1 => Self::Meiji,
            2 => Self::Taisho,
            3 => Self::Showa,
            4 => Self::Heisei,
            5 => Self::Reiwa,
            _ => return None,
        })
    }

    /// The digit in the certificate.
    pub fn digit(self) -> u8 {
        match self {
            Self::Unknown => 0,
            Self::Meiji => 1,
            Self::Taisho => 2,
            Self::Showa => 3,
            Self::Heisei => 4,
            Self::Reiwa => 5,
        }
    }

    /// 明治 … 令和; 不明 for [`Era::Unknown`].
    pub fn label_ja(self) -> &'static str {
        match self {
            Self::Unknown => "不明",
            Self::Meiji => "明治",
            Self::Taisho => "大正",
            Self::Showa => "昭和",
            Self::Heisei => "平成",
            Self::Reiwa => "令和",
        }
    }

    /// First and last Gregorian day of the era (inclusive; `None`: open). 大正 and 昭和 began on the day their
    /// predecessor's emperor died, so 1912-07-30 and 1926-12-25 belong to both eras: a register may write either.
    fn span(self) -> (Option<Date>, Option<Date>) {
        let day = |y, m, d| Date::from_calendar_date(y, m, d).ok();
        match self {
            Self::Unknown => (None, None),
            Self::Meiji => (day(1868, Month::January, 25), day(1912, Month::July, 30)),
            Self::Taisho => (day(1912, Month::July, 30), day(1926, Month::December, 25)),
            Self::Showa => (day(1926, Month::December, 25), day(1989, Month::January, 7)),
            Self::Heisei => (day(1989, Month::January, 8), day(2019, Month::April, 30)),
            Self::Reiwa => (day(2019, Month::May, 1), None),
        }
    }

    /// Whether `date` falls in this era (every date falls in [`Era::Unknown`]).
    pub fn covers(self, date: Date) -> bool {
        let (first, last) = self.span();
        first.is_none_or(|f| date >= f) && last.is_none_or(|l| date <= l)
    }

    /// The first Gregorian year of the era (元年), for the era year; none for [`Era::Unknown`].
    pub fn first_year(self) -> Option<i32> {
        self.span().0.map(Date::year)
    }
}

/// A JPKI date of birth: the era digit and a Gregorian date the era covers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct BirthDate {
    era: Era,
    date: Date,
}

/// Why a date of birth item is not `EYYYYMMDD`. The messages name the part that is wrong, never the date.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BirthDateError {
    /// Not nine ASCII digits.
    #[error(
        "the date of birth is not nine digits (era digit + YYYYMMDD) but {chars} characters{non_digit}",
        non_digit = if *.non_digit { ", not all digits" } else { "" }
    )]
    Shape {
        /// Characters found.
        chars: usize,
        /// Whether some are not ASCII digits.
        non_digit: bool,
    },
    /// The first digit is none of 0–5.
    #[error(
        "the era digit {0} of the date of birth is none of 0 (不明), 1 (明治), 2 (大正), 3 (昭和), 4 (平成), 5 (令和)"
    )]
    UnknownEra(u8),
    /// YYYYMMDD is no calendar day (month 13, 31 April, 29 February of a common year).
    #[error("the date of birth's YYYYMMDD is not a calendar date")]
    NotADate,
    /// The era digit names an era the date is not in.
    #[error("the date of birth's era digit {} ({}) does not cover its Gregorian date", .0.digit(), .0.label_ja())]
    EraMismatch(Era),
}

impl BirthDate {
    /// Parses the item's text.
    pub fn parse(text: &str) -> Result<Self, BirthDateError> {
        let bytes = text.as_bytes();
        let digits: Option<Vec<u8>> = bytes.iter().map(|b| b.is_ascii_digit().then(|| b - b'0')).collect();
        let (Some(digits), 9) = (digits, bytes.len()) else {
            return Err(BirthDateError::Shape {
                chars: text.chars().count(),
                non_digit: !text.chars().all(|c| c.is_ascii_digit()),
            });
        };
        let [e, y1, y2, y3, y4, m1, m2, d1, d2] = digits.as_slice() else {
            return Err(BirthDateError::Shape { chars: 9, non_digit: false });
        };
        let era = Era::from_digit(*e).ok_or(BirthDateError::UnknownEra(*e))?;
        let year = [y1, y2, y3, y4].iter().fold(0i32, |acc, d| acc * 10 + i32::from(**d));
        let month = Month::try_from(m1 * 10 + m2).map_err(|_| BirthDateError::NotADate)?;
        let date = Date::from_calendar_date(year, month, d1 * 10 + d2).map_err(|_| BirthDateError::NotADate)?;
        Self::new(era, date)
    }

    /// A date of birth from its parts, refused when the era does not cover the date.
    pub fn new(era: Era, date: Date) -> Result<Self, BirthDateError> {
        if era.covers(date) { Ok(Self { era, date }) } else { Err(BirthDateError::EraMismatch(era)) }
    }

    /// The era digit's era.
    pub fn era(&self) -> Era {
        self.era
    }

    /// The Gregorian date.
    pub fn date(&self) -> Date {
        self.date
    }

    /// The certificate's form, `EYYYYMMDD`.
    pub fn code(&self) -> String {
        format!("{}{:04}{:02}{:02}", self.era.digit(), self.date.year(), u8::from(self.date.month()), self.date.day())
    }

    /// As the patient knows it: `平成2年1月1日` (元年 for the first year); Gregorian `1990年1月1日` when the era is
    /// unknown.
    pub fn to_japanese(&self) -> String {
        let (month, day) = (u8::from(self.date.month()), self.date.day());
        match self.era.first_year() {
            Some(first) => match self.date.year() - first + 1 {
                1 => format!("{}元年{month}月{day}日", self.era.label_ja()),
                n => format!("{}{n}年{month}月{day}日", self.era.label_ja()),
            },
            None => format!("{}年{month}月{day}日", self.date.year()),
        }
    }
}
