//! placeholder
/// CA names.
#[derive(Debug)]
pub struct CaName;
/// Authority.
#[derive(Debug)]
pub struct Authority;
/// Errors.
#[derive(Debug)]
pub struct AuthorityError;
