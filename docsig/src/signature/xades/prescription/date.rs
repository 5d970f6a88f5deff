//! The dates of the prescription CSV (表 3-15, 3-27, 3-28): 西暦 YYYYMMDD or 和暦 GYYMMDD with G the era of
//! 別表２ (1 明治, 2 大正, 3 昭和, 4 平成, 5 令和: the digits JPKI uses, [`Era`]); a birth date may stop at the
//! month or the year.

use hcpki_pkix::jpki::Era;

/// A date as written: the era when 和暦, the year in that era (or the Gregorian year), and the month and day
/// when given.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Date {
    /// The era (和暦), or `None` for a Gregorian year.
    pub era: Option<Era>,
    /// The year as written (in the era when there is one).
    pub year: u16,
    /// The month, 1–12, when written.
    pub month: Option<u8>,
    /// The day of the month, when written.
    pub day: Option<u8>,
}

impl Date {
    /// Read 3 to 8 ASCII digits: 8 YYYYMMDD, 7 GYYMMDD, 6 YYYYMM, 5 GYYMM, 4 YYYY, 3 GYY. `None` when the digits
    /// name no date (month 13, 31 February, era 0 or 6, year 0).
    pub(super) fn parse(digits: &str) -> Option<Self> {
        let bytes = digits.as_bytes();
        if !bytes.iter().all(u8::is_ascii_digit) {
            return None;
        }
        let number = |range: std::ops::Range<usize>| -> Option<u16> { digits.get(range)?.parse().ok() };
        let era = match bytes.len() {
            3 | 5 | 7 => Some(Era::from_digit(bytes.first()? - b'0').filter(|e| *e != Era::Unknown)?),
            4 | 6 | 8 => None,
            _ => return None,
        };
        let (start, year_end) = if era.is_some() { (1, 3) } else { (0, 4) };
        let year = number(start..year_end).filter(|y| *y > 0)?;
        let month =
            if bytes.len() > year_end { Some(u8::try_from(number(year_end..year_end + 2)?).ok()?) } else { None };
        let day = if bytes.len() > year_end + 2 {
            Some(u8::try_from(number(year_end + 2..year_end + 4)?).ok()?)
        } else {
            None
        };
        let date = Date { era, year, month, day };
        let gregorian = i32::from(date.gregorian_year());
        let exists = match (month, day) {
            (Some(m), Some(d)) => time::Month::try_from(m)
                .and_then(|m| time::Date::from_calendar_date(gregorian, m, d).map(|_| ()))
                .is_ok(),
            (Some(m), None) => (1..=12).contains(&m),
            _ => true,
        };
        exists.then_some(date)
    }

    /// The Gregorian year.
    pub fn gregorian_year(self) -> u16 {
        let first = self.era.and_then(Era::first_year).and_then(|y| u16::try_from(y).ok());
        first.map_or(self.year, |first| first + self.year - 1)
    }

    /// `2026年11月26日`, or `令和8年11月26日` as written in an era.
    pub fn japanese(self) -> String {
        let mut text = match self.era {
            Some(era) => format!("{}{}年", era.label_ja(), self.year),
            None => format!("{}年", self.year),
        };
        if let Some(month) = self.month {
            text.push_str(&format!("{month}月"));
        }
        if let Some(day) = self.day {
            text.push_str(&format!("{day}日"));
        }
        text
    }

    /// `2026-11-26` (the Gregorian date, an era's year converted).
    pub fn english(self) -> String {
        let mut text = format!("{:04}", self.gregorian_year());
        for part in [self.month, self.day].into_iter().flatten() {
            text.push_str(&format!("-{part:02}"));
        }
        text
    }
}
