//! What went wrong on a console page when no form can say it in its own place (issue #45 item 1): a forged or
//! stale form, an access denial, a record that does not exist, an operation the page does not offer, a search
//! the console cannot read, a failure of ours. Each [`Problem`] says in the page's language what happened and
//! what the admin or operator can do about it; the operations' English reasons stay in the audit log and the
//! server log, where whoever reads them can act on them, and never reach the page.

use crate::app::api_error::ApiError;
use axum::http::StatusCode;
use hcpki_ca::access::{AdminBasis, AdminSignIn, Principal};
use hcpki_ca::operator::OperatorRole;
use hcpki_html::messages;

/// A refusal the general refusal page shows ([`super::view::refusal`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Problem {
    /// Nobody is signed in, or the sign-in does not count for this page.
    SignInNeeded,
    /// The access decision refused this person this action.
    NotAllowed,
    /// The form's token is missing, stale or of another sign-in (a page left open, a second tab, a sign-in
    /// made since): the form can be sent again from the refusal page with what was typed.
    FormExpired,
    /// The form was not sent from the console's own page (another site, a script).
    CrossSite,
    /// A password or enrollment credential was sent to the console, which takes certificates and sign-ins.
    CredentialNotForConsole,
    /// The form's fields could not be read (no page of the console sends such a body).
    FormUnreadable,
    /// An operation the page does not offer (a hand-made or outdated request).
    UnknownOperation,
    /// A search or filter the console cannot read (a hand-edited address).
    BadSearch,
    /// No facility with that ID.
    NoSuchFacility,
    /// The address holds something that is not a facility ID (a typo, a cut-off link).
    BadFacilityId,
    /// A facility lifecycle change the console does not have (a hand-edited or outdated `verb=`).
    NoSuchTransition,
    /// No certificate with that serial number, or not one of a facility.
    NoSuchCertificate,
    /// The certificate is recorded but was never issued: nothing to download.
    NotIssued,
    /// No job with that ID.
    NoSuchJob,
    /// No OIDC client with that ID.
    NoSuchClient,
    /// Another record that does not exist (an enrollment credential, an allocation).
    NotFound,
    /// The job has ended or is not stopped: it cannot be resumed.
    JobNotResumable,
    /// The job has ended: it cannot be stopped.
    JobNotRunning,
    /// The record's state does not allow the action (already revoked, suspended…).
    Conflict,
    /// Another request the console cannot take.
    BadRequest,
    /// The database or another part of the server failed (logged).
    Unavailable,
}

impl Problem {
    /// The problem an operation's refusal is, by its status (the operations answer the admin API too, so they
    /// speak `ApiError`); `missing` is the record the page looked up, for a 404.
    pub fn of(e: &ApiError, missing: Problem) -> Self {
        match e.status {
            StatusCode::UNAUTHORIZED => Self::SignInNeeded,
            StatusCode::FORBIDDEN => Self::NotAllowed,
            StatusCode::NOT_FOUND => missing,
            StatusCode::CONFLICT => Self::Conflict,
            StatusCode::BAD_REQUEST if e.error == crate::app::operations::INVALID_FACILITY_ID => Self::BadFacilityId,
            StatusCode::PAYLOAD_TOO_LARGE | StatusCode::BAD_REQUEST => Self::BadRequest,
            s if s.is_server_error() => Self::Unavailable,
            _ => Self::BadRequest,
        }
    }

    /// The page's status.
    pub fn status(self) -> StatusCode {
        match self {
            Self::SignInNeeded => StatusCode::UNAUTHORIZED,
            Self::NotAllowed | Self::FormExpired | Self::CrossSite => StatusCode::FORBIDDEN,
            Self::NoSuchFacility
            | Self::NoSuchCertificate
            | Self::NotIssued
            | Self::NoSuchJob
            | Self::NoSuchClient
            | Self::NoSuchTransition
            | Self::NotFound => StatusCode::NOT_FOUND,
            Self::JobNotResumable | Self::JobNotRunning | Self::Conflict => StatusCode::CONFLICT,
            Self::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            Self::CredentialNotForConsole
            | Self::FormUnreadable
            | Self::UnknownOperation
            | Self::BadSearch
            | Self::BadFacilityId
            | Self::BadRequest => StatusCode::BAD_REQUEST,
        }
    }

    /// What happened and what to do, for `who`: a denial says what this person's sign-in can and cannot do.
    pub fn words(self, who: &Principal) -> (M, M) {
        match self {
            Self::SignInNeeded => (M::SignInNeeded, M::SignInNeededNext),
            Self::NotAllowed => (M::NotAllowed, not_allowed_next(who)),
            Self::FormExpired => (M::FormExpired, M::FormExpiredNext),
            Self::CrossSite => (M::CrossSite, M::ReopenNext),
            Self::CredentialNotForConsole => (M::CredentialNotForConsole, M::CredentialNotForConsoleNext),
            Self::FormUnreadable => (M::FormUnreadable, M::ReopenNext),
            Self::UnknownOperation => (M::UnknownOperation, M::ReopenNext),
            Self::BadSearch => (M::BadSearch, M::BadSearchNext),
            Self::NoSuchFacility => (M::NoSuchFacility, M::NoSuchFacilityNext),
            Self::BadFacilityId => (M::BadFacilityId, M::NoSuchFacilityNext),
            Self::NoSuchTransition => (M::NoSuchTransition, M::NoSuchTransitionNext),
            Self::NoSuchCertificate => (M::NoSuchCertificate, M::NoSuchCertificateNext),
            Self::NotIssued => (M::NotIssued, M::NotIssuedNext),
            Self::NoSuchJob => (M::NoSuchJob, M::NoSuchJobNext),
            Self::NoSuchClient => (M::NoSuchClient, M::NoSuchClientNext),
            Self::NotFound => (M::NotFound, M::ReopenNext),
            Self::JobNotResumable => (M::JobNotResumable, M::JobsNext),
            Self::JobNotRunning => (M::JobNotRunning, M::JobsNext),
            Self::Conflict => (M::Conflict, M::ConflictNext),
            Self::BadRequest => (M::BadRequest, M::ReopenNext),
            Self::Unavailable => (M::Unavailable, M::UnavailableNext),
        }
    }

    /// Whether the refusal changed nothing (everything but a failure of ours, whose outcome the admin checks).
    pub fn nothing_changed(self) -> bool {
        self != Self::Unavailable
    }

    /// The page a way back leads to when the refusal has no form to go back to.
    pub fn way_back(self) -> &'static str {
        match self {
            Self::NoSuchFacility | Self::BadFacilityId | Self::NoSuchTransition => "/console/facilities",
            Self::NoSuchCertificate | Self::NotIssued => "/console/certificates",
            Self::NoSuchJob | Self::JobNotResumable | Self::JobNotRunning => "/console/jobs",
            Self::NoSuchClient => "/console/oidc-clients",
            _ => "/console/",
        }
    }

    /// The words of the way back.
    pub fn way_back_words(self) -> M {
        match self.way_back() {
            "/console/facilities" => M::ToFacilities,
            "/console/certificates" => M::ToCertificates,
            "/console/jobs" => M::ToJobs,
            "/console/oidc-clients" => M::ToClients,
            _ => M::ToHome,
        }
    }
}

/// What a refused person can do, by who they are: the denial's own reason is English, but the sign-in says
/// enough (a PC certificate and a password sign-in read only; an auditor reads only).
fn not_allowed_next(who: &Principal) -> M {
    match who {
        Principal::FacilityAdmin { basis: AdminBasis::Certificate(_), .. } => M::NotAllowedPcNext,
        Principal::FacilityAdmin {
            basis: AdminBasis::Person { sign_in: AdminSignIn::PasswordTotpNotAllowed, .. },
            ..
        } => M::NotAllowedPasswordNext,
        Principal::Operator { role: OperatorRole::Auditor, .. }
        | Principal::Person { role: OperatorRole::Auditor, .. } => M::NotAllowedAuditorNext,
        Principal::Anonymous => M::SignInNeededNext,
        _ => M::NotAllowedNext,
    }
}

messages! {
    SignInNeeded => "このページを開くにはログインが必要です。", "You need to sign in to open this page.";
    SignInNeededNext => "カードでログインするか、運用者証明書または施設の PC 証明書を選んでから開き直してください。",
        "Sign in with your card, or choose your operator certificate or your facility's PC certificate, then open the page again.";
    NotAllowed => "この操作を行う権限がありません。", "You may not do this.";
    NotAllowedNext => "必要な場合は、運用主体(運用担当)に依頼してください。", "If it needs doing, ask the operating body (the operators).";
    NotAllowedPcNext => "施設管理者が開けるのは自分の施設のページだけです。また、施設の PC 証明書だけでは閲覧のみです。変更するには、ポータルにカードでログインしてからコンソールを開いてください。",
        "A facility admin opens only their own facility's pages, and a facility PC's certificate alone can only read. To make changes, sign in to the portal with your card, then open the console.";
    NotAllowedPasswordNext => "施設管理者が開けるのは自分の施設のページだけです。また、この施設ではパスワードでのログインは閲覧のみです。変更するにはカードでログインし直してください。",
        "A facility admin opens only their own facility's pages, and at this facility a password sign-in can only read. To make changes, sign in again with your card.";
    NotAllowedAuditorNext => "監査担当は閲覧のみです。変更は運用者に依頼してください。",
        "Auditors can only read. Ask an operator to make the change.";
    FormExpired => "このフォームの有効期限が切れていたため、送信を受け付けませんでした(ページを長く開いていたか、その後ログインし直したためです)。",
        "The form had expired, so it was not accepted (the page was open for a long time, or you signed in again since).";
    FormExpiredNext => "入力した内容はこのページに残してあります。内容を確かめて「もう一度送信する」を押してください。",
        "What you typed is kept on this page: check it and press \"Send again\".";
    CrossSite => "このフォームはコンソールのページから送られていないため、受け付けませんでした。",
        "The form was not sent from the console's own page, so it was not accepted.";
    ReopenNext => "コンソールのページを開き直して、ページのボタンから操作してください。",
        "Open the console's page again and use its buttons.";
    CredentialNotForConsole => "コンソールはパスワードや登録用クレデンシャルでは使えません。",
        "The console does not take passwords or enrollment credentials.";
    CredentialNotForConsoleNext => "カードでログインするか、運用者証明書または施設の PC 証明書を選んでください。",
        "Sign in with your card, or choose your operator certificate or your facility's PC certificate.";
    FormUnreadable => "送られたフォームの内容を読み取れませんでした。", "What the form sent could not be read.";
    UnknownOperation => "このページにはない操作が送られました(古いページから送られた可能性があります)。",
        "The page does not offer the operation that was sent (perhaps from an old copy of the page).";
    BadSearch => "検索の条件を読み取れませんでした(アドレスが書き換えられている可能性があります)。",
        "The search could not be read (the address may have been edited).";
    BadSearchNext => "一覧のページを開き直し、検索欄から条件を指定してください。",
        "Open the list again and use its search fields.";
    NoSuchFacility => "この施設は見つかりませんでした(施設 ID が違うか、登録がありません)。",
        "There is no such facility (the facility ID is wrong, or it was never registered).";
    BadFacilityId => "アドレスの施設 ID の形が正しくありません(施設 ID は HF と数字 8 桁、最後に確認用の 1 文字です。例: HF00000001X)。リンクが途中で切れているか、入力を誤った可能性があります。",
        "The facility ID in the address is not well formed (HF, eight digits and a check character, e.g. HF00000001X): the link may be cut off, or it was mistyped.";
    NoSuchTransition => "施設に対してこの操作はありません(できるのは承認・却下・利用停止・利用再開・廃止です)。古いページやアドレスの書き換えから送られた可能性があります。",
        "Facilities have no such change (there are approve, reject, suspend, resume and retire); it may come from an old page or an edited address.";
    NoSuchTransitionNext => "施設のページを開き直し、ページのボタンから操作してください。", "Open the facility's page again and use its buttons.";
    NoSuchFacilityNext => "施設検索で名称・施設 ID・電話番号から探してください。",
        "Find it on the facility search by name, facility ID or telephone number.";
    NoSuchCertificate => "この証明書は見つかりませんでした(シリアル番号が違うか、施設の証明書ではありません)。",
        "There is no such certificate (the serial number is wrong, or it is not a facility's).";
    NoSuchCertificateNext => "証明書検索か施設のページの機器一覧から開き直してください。",
        "Open it again from the certificate search or the facility page's list of devices.";
    NotIssued => "この証明書はまだ発行されていないため、ダウンロードできるものがありません。",
        "This certificate has not been issued yet, so there is nothing to download.";
    NotIssuedNext => "発行されてから、証明書検索で状態を確かめてダウンロードしてください。",
        "Once it is issued, check its state on the certificate search and download it there.";
    NoSuchJob => "このジョブは見つかりませんでした。", "There is no such job.";
    NoSuchJobNext => "ジョブ一覧から開き直してください。", "Open it again from the list of jobs.";
    NoSuchClient => "この連携先(OIDC クライアント)は見つかりませんでした(削除された可能性があります)。",
        "There is no such connected service (OIDC client); it may have been removed.";
    NoSuchClientNext => "連携先の一覧から開き直してください。", "Open it again from the list of connected services.";
    NotFound => "対象が見つかりませんでした(削除されたか、アドレスが違います)。",
        "What the page refers to does not exist (it was removed, or the address is wrong).";
    JobNotResumable => "このジョブは実行中か終了しているため、再開できません(再開できるのは停止中・中断したジョブだけです)。",
        "This job is running or has ended, so it cannot be resumed (only a stopped or interrupted job can be).";
    JobNotRunning => "このジョブはすでに終了しているため、停止できません。", "This job has already ended, so it cannot be stopped.";
    JobsNext => "ジョブ一覧を開き直して、現在の状態を確かめてください。", "Open the list of jobs again to see its state now.";
    Conflict => "現在の状態ではこの操作はできません(別の人がすでに変更した可能性があります)。",
        "This cannot be done in the current state (someone may have changed it already).";
    ConflictNext => "ページを開き直して、現在の状態を確かめてください。", "Open the page again and check its state now.";
    BadRequest => "送られた内容を受け付けられませんでした。", "What was sent could not be accepted.";
    Unavailable => "サーバーが一時的に処理できませんでした(記録済みです)。", "The server could not do this just now (it is logged).";
    UnavailableNext => "少し待ってから、結果を確かめたうえでもう一度お試しください。続くときは、時刻を添えて運用担当にご連絡ください。",
        "Wait a moment, check whether it was done, and try again; if it keeps failing, tell the operators the time it happened.";
    NothingChanged => "何も変更していません。", "Nothing was changed.";
    SendAgain => "もう一度送信する", "Send again";
    ToHome => "コンソールのホームへ戻る", "Back to the console's home";
    ToFacilities => "施設検索へ", "To the facility search";
    ToCertificates => "証明書検索へ", "To the certificate search";
    ToJobs => "ジョブ一覧へ", "To the jobs";
    ToClients => "連携先の一覧へ", "To the connected services";
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::console::i18n::Lang;

    #[test]
    fn every_problem_says_what_happened_and_what_to_do_in_both_languages() {
        use Problem as P;
        let all = [
            P::SignInNeeded,
            P::NotAllowed,
            P::FormExpired,
            P::CrossSite,
            P::CredentialNotForConsole,
            P::FormUnreadable,
            P::UnknownOperation,
            P::BadSearch,
            P::NoSuchFacility,
            P::BadFacilityId,
            P::NoSuchTransition,
            P::NoSuchCertificate,
            P::NotIssued,
            P::NoSuchJob,
            P::NoSuchClient,
            P::NotFound,
            P::JobNotResumable,
            P::JobNotRunning,
            P::Conflict,
            P::BadRequest,
            P::Unavailable,
        ];
        for p in all {
            let (what, next) = p.words(&Principal::Anonymous);
            assert_ne!(what, next, "{p:?}");
            for m in [what, next] {
                assert!(!m.text(Lang::Ja).is_ascii(), "{p:?}: Japanese first");
                // Never a CLI flag or a developer's word on the page.
                for lang in [Lang::Ja, Lang::En] {
                    assert!(!m.text(lang).contains("--"), "{p:?}");
                }
            }
            assert!(p.status().is_client_error() || p == P::Unavailable, "{p:?}");
        }
        let missing = ApiError::not_found("no facility HF9");
        assert_eq!(Problem::of(&missing, P::NoSuchFacility), P::NoSuchFacility);
        assert_eq!(Problem::of(&ApiError::forbidden("forbidden", "x"), P::NotFound), P::NotAllowed);
    }
}
