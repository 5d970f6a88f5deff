//! The prescription CSV (JAHIS 院外処方箋２次元シンボル記録条件規約 Ver.1.10, the records 電子処方箋 CSV keeps),
//! read strictly into a typed [`Prescription`]: the one reading that the agent's page and terminal show, that
//! [`super::prepare`] signs, that [`super::verify`] checks and that the server takes a signing request with
//! (issue #42 item 5, D108). The CSV itself is signed byte for byte, Base64 in `PrescriptionDocument`; nothing
//! here changes it.
//!
//! A file that could be read two ways is refused before anything is shown, with the line, the record and the
//! rule ([`PrescriptionError`], English and Japanese):
//!
//! * the bytes ([`lines`]): UTF-8; records ended by LF throughout or CRLF throughout, never a lone CR; no control
//!   or invisible formatting character, no double quote, no empty line;
//! * each record ([`layout`]): a record number of the layout, exactly its fields, none padded with spaces, the
//!   required ones present, digits, codes, amounts and dates well formed;
//! * the whole ([`reader`]): the version record first; records in the JAHIS order (表 3-5: 1–82 by number, then
//!   each Rp 101–181 followed by its drugs 201–281); a record that is written once (per prescription, Rp or drug)
//!   written once; Rp, drug, note and supplement numbers counting 1, 2, 3 and naming the Rp or drug they follow;
//!   the required records present; and a few contradictions refused (剤形名称 beside a known 剤形区分, 102's
//!   total quantity other than 101's, 231 for some drugs only, a drug without a name).
//!
//! What it reads is shown whole ([`Prescription::shown`]): every record and field a pharmacist acts on, the
//! 力価フラグ (whether an amount is of the product or of its active ingredient) included.

mod date;
mod error;
mod layout;
mod lines;
mod model;
mod reader;
mod shown;

pub use date::Date;
pub use error::{Field, PrescriptionError, Problem, Scope};
pub use lines::{LineEnding, MAX_CSV_BYTES};
pub use model::{
    Department, Drug, Institution, Insurance, Narcotic, Note, Patient, Potency, Prescriber, Prescription, Rp,
    Supplement, Usage,
};
pub use shown::{Label, ShownLine};

#[cfg(test)]
mod tests;
