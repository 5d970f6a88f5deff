//! A careful PDF reader for what signing needs (decision D77): the header, classic cross-reference tables and
//! cross-reference streams (with object streams and /Prev chains), the trailer, the catalog and page tree, the
//! title, and object lookup. Written here rather than taken from a crate, because signing needs the exact byte
//! offsets of the file it appends to, and the PDF crates checked panic or exhaust memory on hostile files.

mod document;
mod filter;
mod info;
mod lexer;
mod object;
mod xref;

pub use document::{Document, MAX_PDF_SIZE, parse_indirect};
pub use filter::MAX_DECODED_STREAM;
pub use info::{text_string, title};
pub(crate) use lexer::decode_hex;
pub use object::{Dictionary, Object, ObjectId, Stream, Value};
pub use xref::{Location, Section};
