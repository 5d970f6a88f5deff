//! The inspection report (issue #48 item 4, D164): the items of MHLW's safety guideline 6.0 and the FY2025
//! (令和7年度) medical-institution cyber-security checklist that hcpki serves, and the vendor disclosure's items
//! hcpki can fill, each with its status, this installation's live evidence and what the facility must still do.
//!
//! HTTP-free and store-free: [`evidence::Evidence`] holds typed values gathered once (by
//! `app::operations::compliance`, with the time passed in), [`assess::assess`] is a pure function from them to
//! the [`assess::Report`], and [`render`] writes it as JSON or HTML in Japanese or English. The CLI
//! (`hcpki compliance report`), the admin API (`GET /api/v1/compliance/report`) and the console page
//! (`/console/compliance`) all call the one operation.

pub mod assess;
pub mod disclosure;
pub mod evidence;
pub mod item;
pub mod render;

pub use assess::{Report, assess};
pub use evidence::{Evidence, Scope};
