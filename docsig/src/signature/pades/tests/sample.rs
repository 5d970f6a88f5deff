//! Tiny, valid PDFs made in the tests: a classic cross-reference table, or a cross-reference stream with the
//! catalog and pages in a compressed object stream.

/// A PDF of `pages` pages titled `title` (Info /Title; none when empty), written with a classic table.
pub(crate) fn classic(title: &str, pages: usize) -> Vec<u8> {
    classic_edited(title, pages, |_| {})
}

/// [`classic`], with the object bodies (1 catalog, 2 info, 3 pages, then page and content per page) edited by
/// `edit` before they are written: an attacker's original, a dangling reference in it.
pub(crate) fn classic_edited(title: &str, pages: usize, edit: impl FnOnce(&mut Vec<String>)) -> Vec<u8> {
    let mut objects = objects(pages, title);
    edit(&mut objects);
    let mut out = b"%PDF-1.7\n%\xE2\xE3\xCF\xD3\n".to_vec();
    let mut offsets = Vec::new();
    for (i, body) in objects.iter().enumerate() {
        offsets.push(out.len());
        out.extend_from_slice(format!("{} 0 obj\n{body}\nendobj\n", i + 1).as_bytes());
    }
    let xref = out.len();
    out.extend_from_slice(format!("xref\n0 {}\n0000000000 65535 f\r\n", objects.len() + 1).as_bytes());
    for offset in offsets {
        out.extend_from_slice(format!("{offset:010} 00000 n\r\n").as_bytes());
    }
    let info = if title.is_empty() { String::new() } else { "/Info 2 0 R ".into() };
    out.extend_from_slice(
        format!("trailer\n<< /Size {} /Root 1 0 R {info}>>\nstartxref\n{xref}\n%%EOF\n", objects.len() + 1).as_bytes(),
    );
    out
}

/// The same document with a cross-reference stream (PNG predictor 12, Flate) and every object but the content
/// streams inside one object stream.
pub(crate) fn with_xref_stream(title: &str, pages: usize) -> Vec<u8> {
    let objects = objects(pages, title);
    let mut out = b"%PDF-1.7\n%\xE2\xE3\xCF\xD3\n".to_vec();
    let n = objects.len();
    // Object n+1: the object stream holding the non-stream objects; n+2: the xref stream.
    let stream_number = n + 1;
    let mut header = String::new();
    let mut body = String::new();
    let mut compressed = Vec::new();
    let mut offsets = vec![None; n + 3];
    for (i, object) in objects.iter().enumerate() {
        if object.contains("stream\n") {
            offsets[i + 1] = Some(out.len());
            out.extend_from_slice(format!("{} 0 obj\n{object}\nendobj\n", i + 1).as_bytes());
        } else {
            header.push_str(&format!("{} {} ", i + 1, body.len()));
            compressed.push(i + 1);
            body.push_str(object);
            body.push('\n');
        }
    }
    let data = format!("{header}{body}");
    let deflated = miniz_oxide::deflate::compress_to_vec_zlib(data.as_bytes(), 6);
    offsets[stream_number] = Some(out.len());
    out.extend_from_slice(
        format!(
            "{stream_number} 0 obj\n<< /Type /ObjStm /N {} /First {} /Filter /FlateDecode /Length {} >>\nstream\n",
            compressed.len(),
            header.len(),
            deflated.len()
        )
        .as_bytes(),
    );
    out.extend_from_slice(&deflated);
    out.extend_from_slice(b"\nendstream\nendobj\n");
    let xref_number = n + 2;
    let xref = out.len();
    offsets[xref_number] = Some(xref);
    let mut rows = Vec::new();
    let mut previous = [0u8; 5];
    for (number, offset) in offsets.iter().enumerate() {
        let row: [u8; 5] = if number == 0 {
            [0, 0, 0, 0xFF, 0xFF]
        } else if let Some(index) = compressed.iter().position(|&c| c == number) {
            [2, 0, 0, stream_number as u8, index as u8]
        } else {
            let o = offset.unwrap() as u32;
            [1, (o >> 16) as u8, (o >> 8) as u8, o as u8, 0]
        };
        // PNG "Up" predictor (type 2) on each row.
        rows.push(2u8);
        rows.extend(row.iter().zip(previous).map(|(a, b)| a.wrapping_sub(b)));
        previous = row;
    }
    let deflated = miniz_oxide::deflate::compress_to_vec_zlib(&rows, 6);
    let info = if title.is_empty() { String::new() } else { "/Info 2 0 R ".into() };
    out.extend_from_slice(
        format!(
            "{xref_number} 0 obj\n<< /Type /XRef /Size {} /W [1 3 1] /Root 1 0 R {info}/Filter /FlateDecode \
             /DecodeParms << /Predictor 12 /Columns 5 >> /Length {} >>\nstream\n",
            n + 3,
            deflated.len()
        )
        .as_bytes(),
    );
    out.extend_from_slice(&deflated);
    out.extend_from_slice(format!("\nendstream\nendobj\nstartxref\n{xref}\n%%EOF\n").as_bytes());
    out
}

/// 1 catalog, 2 info, 3 pages, then per page a page and its content stream.
fn objects(pages: usize, title: &str) -> Vec<String> {
    let kids: Vec<String> = (0..pages).map(|i| format!("{} 0 R", 4 + 2 * i)).collect();
    let mut objects = vec![
        "<< /Type /Catalog /Pages 3 0 R >>".to_owned(),
        format!(
            "<< /Title <FEFF{}> /Producer (hcpki tests) >>",
            title.encode_utf16().map(|u| format!("{u:04X}")).collect::<String>()
        ),
        format!("<< /Type /Pages /Kids [{}] /Count {pages} >>", kids.join(" ")),
    ];
    for i in 0..pages {
        let content = format!("BT /F1 12 Tf 72 720 Td (Page {}) Tj ET", i + 1);
        objects.push(format!(
            "<< /Type /Page /Parent 3 0 R /MediaBox [0 0 595 842] /Contents {} 0 R \
             /Resources << /Font << /F1 << /Type /Font /Subtype /Type1 /BaseFont /Helvetica >> >> >> >>",
            5 + 2 * i
        ));
        objects.push(format!("<< /Length {} >>\nstream\n{content}\nendstream", content.len()));
    }
    objects
}
