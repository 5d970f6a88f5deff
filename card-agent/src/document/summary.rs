//! A format's readable summary of a document, as the page and the terminal show it.

use crate::driver::Words;

/// One line of a format's summary: a label and the value in both languages of the page.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SummaryLine {
    pub label: Words,
    pub value_ja: String,
    pub value_en: String,
}

impl SummaryLine {
    pub fn new(label: Words, value_ja: impl Into<String>, value_en: impl Into<String>) -> Self {
        SummaryLine { label, value_ja: value_ja.into(), value_en: value_en.into() }
    }
}
