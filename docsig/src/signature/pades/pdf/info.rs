//! What a person is shown before signing a PDF: its title and page count, read from the document itself.

use super::document::Document;
use super::object::Object;
use crate::signature::pades::PadesError;

/// Longest title kept (characters): a title is a line on the card agent's page, not the document.
const MAX_TITLE_CHARS: usize = 300;

/// The title: the document information dictionary's /Title (ISO 32000-1 §14.3.3), else the XMP metadata's
/// `dc:title` when it is a plain `rdf:li` text. Control characters are dropped so the title shows as one line.
pub fn title(document: &Document<'_>) -> Result<Option<String>, PadesError> {
    if let Some(info) = document.trailer().get("Info")
        && let Some(info) = document.resolve(info)?.as_dictionary()
        && let Some(title) = info.get("Title")
        && let Some(bytes) = document.resolve(title)?.as_string()
    {
        let text = clean(&text_string(bytes));
        if !text.is_empty() {
            return Ok(Some(text));
        }
    }
    let Some(metadata) = document.catalog()?.get("Metadata").and_then(Object::as_reference) else { return Ok(None) };
    // XMP in another filter than Flate, or not UTF-8, is left unread: the title is a convenience.
    let Ok(xmp) = document.stream_data(metadata) else { return Ok(None) };
    Ok(String::from_utf8(xmp).ok().and_then(|x| xmp_title(&x)).map(|t| clean(&t)).filter(|t| !t.is_empty()))
}

/// A PDF text string (§7.9.2.2): UTF-16BE with a byte order mark, UTF-8 with one (PDF 2.0), else
/// PDFDocEncoding.
pub fn text_string(bytes: &[u8]) -> String {
    if let Some(utf16) = bytes.strip_prefix(&[0xFE, 0xFF]) {
        let units: Vec<u16> = utf16
            .chunks_exact(2)
            .map(|c| match c {
                [high, low] => u16::from_be_bytes([*high, *low]),
                _ => 0xFFFD,
            })
            .collect();
        return String::from_utf16_lossy(&units);
    }
    if let Some(utf8) = bytes.strip_prefix(&[0xEF, 0xBB, 0xBF]) {
        return String::from_utf8_lossy(utf8).into_owned();
    }
    bytes.iter().map(|&b| pdf_doc_char(b)).collect()
}

/// PDFDocEncoding (Annex D.2): Latin-1 except 0x18–0x1F and 0x80–0xA0.
fn pdf_doc_char(b: u8) -> char {
    const LOW: [u32; 8] = [0x02D8, 0x02C7, 0x02C6, 0x02D9, 0x02DD, 0x02DB, 0x02DA, 0x02DC];
    const HIGH: [u32; 33] = [
        0x2022, 0x2020, 0x2021, 0x2026, 0x2014, 0x2013, 0x0192, 0x2044, 0x2039, 0x203A, 0x2212, 0x2030, 0x201E, 0x201C,
        0x201D, 0x2018, 0x2019, 0x201A, 0x2122, 0xFB01, 0xFB02, 0x0141, 0x0152, 0x0160, 0x0178, 0x017D, 0x0131, 0x0142,
        0x0153, 0x0161, 0x017E, 0xFFFD, 0x20AC,
    ];
    let mapped = match b {
        0x18..=0x1F => LOW.get(usize::from(b - 0x18)).copied(),
        0x80..=0xA0 => HIGH.get(usize::from(b - 0x80)).copied(),
        _ => Some(u32::from(b)),
    };
    mapped.and_then(char::from_u32).unwrap_or('\u{FFFD}')
}

/// The first `rdf:li` text inside `dc:title`, entities decoded; `None` when it holds markup.
fn xmp_title(xmp: &str) -> Option<String> {
    let start = xmp.find("<dc:title")?;
    let rest = xmp.get(start..)?;
    let rest = rest.get(..rest.find("</dc:title>")?)?;
    let li = rest.find("<rdf:li")?;
    let rest = rest.get(li..)?;
    let open_end = rest.find('>')?;
    let body = rest.get(open_end + 1..)?;
    let text = body.get(..body.find("</rdf:li>")?)?;
    if text.contains('<') {
        return None;
    }
    unescape(text)
}

/// XML's five entities and numeric character references.
fn unescape(text: &str) -> Option<String> {
    let mut out = String::new();
    let mut rest = text;
    while let Some(amp) = rest.find('&') {
        out.push_str(rest.get(..amp)?);
        let after = rest.get(amp + 1..)?;
        let semi = after.find(';')?;
        let entity = after.get(..semi)?;
        let c = match entity {
            "amp" => '&',
            "lt" => '<',
            "gt" => '>',
            "quot" => '"',
            "apos" => '\'',
            _ => {
                let code = match entity.strip_prefix("#x").or_else(|| entity.strip_prefix("#X")) {
                    Some(hex) => u32::from_str_radix(hex, 16).ok()?,
                    None => entity.strip_prefix('#')?.parse().ok()?,
                };
                char::from_u32(code)?
            }
        };
        out.push(c);
        rest = after.get(semi + 1..)?;
    }
    out.push_str(rest);
    Some(out)
}

fn clean(text: &str) -> String {
    let one_line: String = text.chars().map(|c| if c.is_control() { ' ' } else { c }).collect();
    one_line.split_whitespace().collect::<Vec<_>>().join(" ").chars().take(MAX_TITLE_CHARS).collect()
}
