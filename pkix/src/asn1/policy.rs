//! certificatePolicies with policy identifiers of any arc size.
//!
//! ```text
//! -- RFC 5280 §4.2.1.4
//! certificatePolicies ::= SEQUENCE SIZE (1..MAX) OF PolicyInformation
//! PolicyInformation ::= SEQUENCE {
//!      policyIdentifier   CertPolicyId,
//!      policyQualifiers   SEQUENCE SIZE (1..MAX) OF PolicyQualifierInfo OPTIONAL }
//! ```
//! hcpki never emits qualifiers (RFC 5280 recommends against them), so they
//! are not modelled.

use super::RawOid;
use der::Sequence;

/// `certificatePolicies`.
pub type CertificatePolicies = Vec<PolicyInformation>;

/// `PolicyInformation` without qualifiers.
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
pub struct PolicyInformation {
    /// `policyIdentifier`.
    pub policy_identifier: RawOid,
}
