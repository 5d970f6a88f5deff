//! Where each line of a statement goes: lines broken by measured width (CJK characters full width, ASCII half),
//! with the Japanese line-breaking rules that matter most (禁則処理: no 、。」 at a line's start, no 「（ at its
//! end), and pages filled top to bottom. Lengths are integers in hundredths of a point, so the same statement
//! always lands in the same place (the PDF is deterministic).

use super::statement::{DocumentError, Statement};

/// A4 width and height (595.28 × 841.89 pt), in hundredths of a point.
pub(super) const PAGE_WIDTH: i64 = 59_528;
pub(super) const PAGE_HEIGHT: i64 = 84_189;
/// 20 mm on every side.
const MARGIN: i64 = 5_669;
/// Where the reference and the page number sit: 10 mm above the bottom edge.
const FOOT_BASELINE: i64 = 2_835;
/// The width lines are broken to.
const TEXT_WIDTH: i64 = PAGE_WIDTH - 2 * MARGIN;
/// Items' texts are indented by one character of their size under the label.
const TEXT_INDENT: i64 = TEXT.size * 100;
/// Space after the title, and before each item's label.
const GAP_AFTER_TITLE: i64 = 1_400;
const GAP_BEFORE_ITEM: i64 = 1_000;

/// How a line is set.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Style {
    /// Font size in points.
    pub(super) size: i64,
    /// Drawn bold (filled and stroked: the non-embedded font has one weight).
    pub(super) bold: bool,
    /// Line height in hundredths of a point (1.7 × the size: Japanese reads better with room).
    leading: i64,
}

pub(super) const TITLE: Style = Style { size: 20, bold: true, leading: 3_400 };
pub(super) const LABEL: Style = Style { size: 13, bold: true, leading: 2_210 };
pub(super) const TEXT: Style = Style { size: 12, bold: false, leading: 2_040 };
pub(super) const FOOT: Style = Style { size: 8, bold: false, leading: 1_360 };

/// One line placed on a page: its baseline starts at (`x`, `y`), hundredths of a point from the bottom left.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Placed {
    pub(super) style: Style,
    pub(super) x: i64,
    pub(super) y: i64,
    pub(super) text: String,
}

/// The lines of each page, the foot included.
pub(super) type Pages = Vec<Vec<Placed>>;

/// Lay `statement` out on as many pages as it needs, at most `max_pages`.
pub(super) fn lay_out(statement: &Statement, max_pages: usize) -> Result<Pages, DocumentError> {
    let mut rows = Vec::new();
    for line in wrap(&statement.title, TITLE.size, TEXT_WIDTH) {
        let x = MARGIN + (TEXT_WIDTH - width(&line, TITLE.size)).max(0) / 2;
        rows.push(Row { style: TITLE, x, gap: 0, keep_with_next: false, text: line });
    }
    for (i, item) in statement.items.iter().enumerate() {
        let gap = if i == 0 { GAP_AFTER_TITLE } else { GAP_BEFORE_ITEM };
        let label = wrap(&item.label, LABEL.size, TEXT_WIDTH);
        let last = label.len().saturating_sub(1);
        for (j, line) in label.into_iter().enumerate() {
            let gap = if j == 0 { gap } else { 0 };
            rows.push(Row { style: LABEL, x: MARGIN, gap, keep_with_next: j == last, text: line });
        }
        for line in wrap(&item.text, TEXT.size, TEXT_WIDTH - TEXT_INDENT) {
            rows.push(Row { style: TEXT, x: MARGIN + TEXT_INDENT, gap: 0, keep_with_next: false, text: line });
        }
    }
    let mut pages = place(&rows);
    if pages.len() > max_pages {
        return Err(DocumentError::TooManyPages { pages: pages.len(), limit: max_pages });
    }
    let count = pages.len();
    for (n, page) in pages.iter_mut().enumerate() {
        page.push(Placed { style: FOOT, x: MARGIN, y: FOOT_BASELINE, text: statement.reference.clone() });
        let number = format!("{} / {count}", n + 1);
        let x = MARGIN + TEXT_WIDTH - width(&number, FOOT.size);
        page.push(Placed { style: FOOT, x, y: FOOT_BASELINE, text: number });
    }
    Ok(pages)
}

/// A line before it is placed.
struct Row {
    style: Style,
    x: i64,
    /// Space above it, dropped at the top of a page.
    gap: i64,
    /// A label's last line stays on the page of the text's first line.
    keep_with_next: bool,
    text: String,
}

/// Fill pages top to bottom.
fn place(rows: &[Row]) -> Pages {
    let top = PAGE_HEIGHT - MARGIN;
    let mut pages: Pages = vec![Vec::new()];
    let mut cursor = top;
    for (i, row) in rows.iter().enumerate() {
        let at_top = cursor == top;
        let gap = if at_top { 0 } else { row.gap };
        let mut needed = gap + row.style.leading;
        if row.keep_with_next
            && let Some(next) = rows.get(i + 1)
        {
            needed += next.style.leading;
        }
        if !at_top && cursor - needed < MARGIN {
            pages.push(Vec::new());
            cursor = top;
        }
        let gap = if cursor == top { 0 } else { row.gap };
        let y = cursor - gap - row.style.size * 100;
        cursor -= gap + row.style.leading;
        if let Some(page) = pages.last_mut() {
            page.push(Placed { style: row.style, x: row.x, y, text: row.text.clone() });
        }
    }
    pages
}

/// A character's advance in thousandths of an em: ASCII and half-width katakana are half width (the CID font's
/// /W says so too), everything else full width.
pub(super) fn advance(c: char) -> i64 {
    match c {
        ' '..='~' | '\u{FF61}'..='\u{FF9F}' => 500,
        _ => 1000,
    }
}

/// The width of `text` at `size` points, in hundredths of a point.
pub(super) fn width(text: &str, size: i64) -> i64 {
    text.chars().map(advance).sum::<i64>() * size / 10
}

/// Characters that may not start a line (they hang into the margin instead).
const NO_START: &str =
    "、。，．・：；？！ー）」』］｝〕〉》】〙〗ぁぃぅぇぉっゃゅょゎァィゥェォッャュョヮヵヶ々ゝゞヽヾ,.:;?!)]}";
/// Characters that may not end a line (they move to the next).
const NO_END: &str = "（「『［｛〔〈《【〘〖([{";

/// What lines are broken between.
#[derive(Clone, Debug)]
enum Token {
    /// An ASCII space: a break opportunity, dropped at a break.
    Space,
    /// A run of other ASCII characters (a word, a number, an id): kept whole unless longer than a line.
    Word(String),
    /// Any other character: a break may come before it (CJK text has no spaces).
    Char(char),
}

impl Token {
    fn advance(&self) -> i64 {
        match self {
            Self::Space => advance(' '),
            Self::Word(w) => w.chars().map(advance).sum(),
            Self::Char(c) => advance(*c),
        }
    }

    fn push_to(&self, line: &mut String) {
        match self {
            Self::Space => line.push(' '),
            Self::Word(w) => line.push_str(w),
            Self::Char(c) => line.push(*c),
        }
    }
}

/// `text` broken into lines no wider than `max_width` (hundredths of a point) at `size` points; each `\n` starts a
/// new line, an empty paragraph is an empty line.
pub(super) fn wrap(text: &str, size: i64, max_width: i64) -> Vec<String> {
    let limit = max_width * 10 / size;
    text.split('\n').flat_map(|paragraph| wrap_paragraph(paragraph, limit)).collect()
}

fn wrap_paragraph(paragraph: &str, limit: i64) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line: Vec<Token> = Vec::new();
    let mut used = 0i64;
    for token in tokens(paragraph, limit) {
        if matches!(token, Token::Space) && line.is_empty() && !lines.is_empty() {
            continue;
        }
        let advance = token.advance();
        if used + advance <= limit {
            used += advance;
            line.push(token);
            continue;
        }
        match &token {
            Token::Space => {
                lines.push(finish(&line));
                line.clear();
                used = 0;
            }
            Token::Char(c) if NO_START.contains(*c) && !line.is_empty() => {
                used += advance;
                line.push(token);
            }
            _ => {
                let carried = match line.last() {
                    Some(Token::Char(c)) if NO_END.contains(*c) && line.len() > 1 => line.pop(),
                    _ => None,
                };
                if !line.is_empty() {
                    lines.push(finish(&line));
                }
                line.clear();
                used = 0;
                if let Some(carried) = carried {
                    used += carried.advance();
                    line.push(carried);
                }
                used += advance;
                line.push(token);
            }
        }
    }
    if !line.is_empty() || lines.is_empty() {
        lines.push(finish(&line));
    }
    lines
}

/// The line's text, without the spaces a break left at its end.
fn finish(line: &[Token]) -> String {
    let mut text = String::new();
    for token in line {
        token.push_to(&mut text);
    }
    text.trim_end_matches(' ').to_owned()
}

/// `paragraph` as tokens; a word wider than `limit` is split into characters.
fn tokens(paragraph: &str, limit: i64) -> Vec<Token> {
    let mut tokens = Vec::new();
    let mut word = String::new();
    let flush = |word: &mut String, tokens: &mut Vec<Token>| {
        if word.is_empty() {
            return;
        }
        if Token::Word(word.clone()).advance() > limit {
            tokens.extend(word.chars().map(Token::Char));
        } else {
            tokens.push(Token::Word(word.clone()));
        }
        word.clear();
    };
    for c in paragraph.chars() {
        if c == ' ' {
            flush(&mut word, &mut tokens);
            tokens.push(Token::Space);
        } else if c.is_ascii_graphic() {
            word.push(c);
        } else {
            flush(&mut word, &mut tokens);
            tokens.push(Token::Char(c));
        }
    }
    flush(&mut word, &mut tokens);
    tokens
}
