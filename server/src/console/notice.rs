//! What an action did, said on the page the console returns to (issue #45 item 2). An action redirects (303, so
//! a reload does not repeat it) to `…?done=<kind>`; the page reads the kind as a [`Done`] and shows that kind's
//! own words. Nothing of the query is ever written into the page: an unknown kind shows nothing.

use super::i18n::{Lang, M};
use maud::{Markup, html};
use serde::Deserialize;

/// A finished action.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Done {
    /// An application approved.
    Approved,
    /// An application rejected.
    Rejected,
    /// A facility suspended.
    Suspended,
    /// A facility resumed.
    Resumed,
    /// A facility retired.
    Retired,
    /// A certificate revoked.
    CertificateRevoked,
    /// An enrollment credential revoked.
    CredentialRevoked,
    /// The SSO session lifetime set or cleared.
    Lifetime,
    /// An address allocation added or removed.
    Addresses,
    /// A PC device named or renamed.
    DeviceNamed,
    /// All issuance halted (the stop switch, D135).
    IssuanceHalted,
    /// An approval to resume issuance recorded; more are needed.
    ResumeApproved,
    /// The last approval needed given: issuance resumed.
    IssuanceResumed,
}

impl Done {
    const ALL: [Done; 13] = [
        Self::Approved,
        Self::Rejected,
        Self::Suspended,
        Self::Resumed,
        Self::Retired,
        Self::CertificateRevoked,
        Self::CredentialRevoked,
        Self::Lifetime,
        Self::Addresses,
        Self::DeviceNamed,
        Self::IssuanceHalted,
        Self::ResumeApproved,
        Self::IssuanceResumed,
    ];

    /// The query value.
    pub fn code(self) -> &'static str {
        match self {
            Self::Approved => "approved",
            Self::Rejected => "rejected",
            Self::Suspended => "suspended",
            Self::Resumed => "resumed",
            Self::Retired => "retired",
            Self::CertificateRevoked => "certificate-revoked",
            Self::CredentialRevoked => "credential-revoked",
            Self::Lifetime => "lifetime",
            Self::Addresses => "addresses",
            Self::DeviceNamed => "device-named",
            Self::IssuanceHalted => "issuance-halted",
            Self::ResumeApproved => "resume-approved",
            Self::IssuanceResumed => "issuance-resumed",
        }
    }

    /// The kind a query value names, if any.
    pub fn parse(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|d| d.code() == code)
    }

    /// What happened and what comes next.
    fn message(self) -> M {
        match self {
            Self::Approved => M::DoneApproved,
            Self::Rejected => M::DoneRejected,
            Self::Suspended => M::DoneSuspended,
            Self::Resumed => M::DoneResumed,
            Self::Retired => M::DoneRetired,
            Self::CertificateRevoked => M::DoneCertRevoked,
            Self::CredentialRevoked => M::DoneCredRevoked,
            Self::Lifetime => M::DoneLifetime,
            Self::Addresses => M::DoneAddresses,
            Self::DeviceNamed => M::DoneDeviceNamed,
            Self::IssuanceHalted => M::DoneIssuanceHalted,
            Self::ResumeApproved => M::DoneResumeApproved,
            Self::IssuanceResumed => M::DoneIssuanceResumed,
        }
    }

    /// `path?done=<kind>` with `fragment` (`#…`, or empty) after it.
    pub fn location(self, path: &str, fragment: &str) -> String {
        format!("{path}?done={}{fragment}", self.code())
    }
}

/// The query of a page that shows a [`Done`].
#[derive(Debug, Default, Deserialize)]
pub struct DoneQuery {
    done: Option<String>,
}

impl DoneQuery {
    /// The kind named, if it is one.
    pub fn done(&self) -> Option<Done> {
        self.done.as_deref().and_then(Done::parse)
    }
}

/// The notice box of `done` (nothing without one).
pub fn render(done: Option<Done>, lang: Lang) -> Markup {
    match done {
        None => html! {},
        Some(d) => html! {
            div class="notice" id="done" role="status" data-done=(d.code()) {
                p { strong { (M::Done.text(lang)) } " " (d.message().text(lang)) }
            }
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_round_trip_and_nothing_else_is_shown() {
        for d in Done::ALL {
            assert_eq!(Done::parse(d.code()), Some(d));
            assert!(render(Some(d), Lang::Ja).into_string().contains(d.message().text(Lang::Ja)));
        }
        assert_eq!(Done::parse("<script>"), None);
        assert_eq!(render(None, Lang::Ja).into_string(), "");
        assert_eq!(Done::Approved.location("/console/facilities/x", "#lc"), "/console/facilities/x?done=approved#lc");
    }
}
