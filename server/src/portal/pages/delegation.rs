//! The delegation page (issue #29 item 4, D95): a physician delegates to a staff account and ends delegations;
//! a staff member sees the delegations given to them and chooses to act for a physician, or as themselves.

use super::layout::{jst, page};
use axum::http::StatusCode;
use axum::response::Response;
use hcpki_ca::store::delegation::DelegationRecord;
use hcpki_html::Lang;
use maud::{Markup, html};

mod words {
    hcpki_html::messages! {
        Title => "代理の設定", "Delegation";
        Intro => "医師は、同じ施設の職員(医師事務作業補助者など)に、期間とサービスを決めて代理での操作を任せられます。代理で操作した記録には、医師と職員の両方が残ります。",
            "A physician can let a staff member of the same facility (a medical clerk, say) work for them in chosen services for a set time. Everything done this way records both people.";
        Give => "職員に代理を任せる", "Let a staff member act for you";
        Delegate => "職員のユーザー名", "The staff member's user name";
        DelegateHelp => "職員の方がパスワードとワンタイムコードでログインするときのユーザー名です。", "The name the staff member signs in with (password and one-time code).";
        Hours => "期間(時間)", "For how many hours";
        HoursHelp => "1 から次の時間数まで:", "From 1 up to:";
        ServicesLegend => "代理で使えるサービス", "Services they may use for you";
        GiveButton => "代理を任せる", "Delegate";
        Made => "任せている代理", "Your delegations";
        NoneMade => "任せている代理はありません。", "You have no running delegation.";
        Staff => "職員", "Staff member";
        ServicesCol => "サービス", "Services";
        Until => "終了予定", "Ends";
        Action => "操作", "Action";
        End => "今すぐ終了", "End now";
        EndHelp => "終了すると、その職員はこの代理で新たにログインできなくなり、代理でのログインで渡した権限も取り消されます。",
            "Ending it stops new sign-ins under it at once and revokes what sign-ins under it were given.";
        CannotGive => "この代理の設定はできません:", "You cannot delegate from this sign-in:";
        Given => "任されている代理", "Delegations to you";
        NoneGiven => "任されている代理はありません。", "Nobody has delegated to you.";
        Physician => "医師", "Physician";
        ActFor => "この医師の代理で操作する", "Act for this physician";
        Acting => "代理で操作中", "Acting for them";
        ActingNow => "代理で操作しています:", "You are acting for:";
        ActingHelp => "対象のサービスにログインすると、医師の代理であることがサービスに伝わります。", "Services you sign in to now are told you act for this physician.";
        Stop => "自分として操作に戻る", "Act as yourself again";
        Home => "ホーム", "Home";
        TimesInJst => "時刻は日本時間です", "Times are Japan time";
    }
}

use words::M;

/// What the page shows.
#[derive(Debug)]
pub struct DelegationPage<'a> {
    /// The page's language.
    pub lang: Lang,
    /// The session's CSRF token.
    pub csrf: &'a str,
    /// A refusal to show at the top, in `lang`.
    pub error: Option<String>,
    /// Whether this sign-in may delegate: `Ok` or why not, in `lang`.
    pub may_delegate: Result<(), String>,
    /// The services a delegation may cover: id and name.
    pub offered: Vec<(String, String)>,
    /// `[portal] delegation_max_hours`.
    pub max_hours: u32,
    /// The running delegations this person made.
    pub made: &'a [DelegationRecord],
    /// The running delegations to this person's staff account, if it is one.
    pub given: Option<&'a [DelegationRecord]>,
    /// The delegation this session acts under, if any.
    pub acting: Option<&'a str>,
}

/// The page (200, or 400 with a refusal).
pub fn delegation_page(p: &DelegationPage<'_>) -> Response {
    let lang = p.lang;
    let t = |m: M| m.text(lang);
    let names = |d: &DelegationRecord| -> String {
        d.services
            .iter()
            .map(|s| p.offered.iter().find(|(id, _)| id == s).map_or(s.as_str(), |(_, n)| n.as_str()))
            .collect::<Vec<_>>()
            .join("、")
    };
    let body = html! {
        p { (t(M::Intro)) " " (t(M::TimesInJst)) " · " a href="/" { (t(M::Home)) } }
        @if let Some(e) = &p.error { div class="error" role="alert" id="delegation-error" { p { (e) } } }
        @if let Some(id) = p.acting {
            @if let Some(d) = p.given.and_then(|g| g.iter().find(|d| d.id.as_str() == id)) {
                div class="notice" role="status" data-acting=(id) {
                    p { strong { (t(M::ActingNow)) } " " (d.physician_name) " · " (t(M::ActingHelp)) }
                    (stop_form(p.csrf, lang))
                }
            }
        }
        @match &p.may_delegate {
            Ok(()) => { (give_form(p)) (made_table(p, &names)) }
            Err(why) => section aria-labelledby="give-h" {
                h2 id="give-h" { (t(M::Give)) }
                p data-cannot-delegate { (t(M::CannotGive)) " " (why) }
            },
        }
        @if let Some(given) = p.given { (given_table(p, given, &names)) }
    };
    let status = if p.error.is_some() { StatusCode::BAD_REQUEST } else { StatusCode::OK };
    page(lang, status, t(M::Title), body)
}

fn give_form(p: &DelegationPage<'_>) -> Markup {
    let t = |m: M| m.text(p.lang);
    html! {
        section aria-labelledby="give-h" {
            h2 id="give-h" { (t(M::Give)) }
            form method="post" action="/delegations" id="give" {
                input type="hidden" name="csrf" value=(p.csrf);
                p {
                    label for="delegate" { (t(M::Delegate)) } br;
                    input type="text" id="delegate" name="delegate" required autocomplete="off" aria-describedby="delegate-help";
                    br; small id="delegate-help" { (t(M::DelegateHelp)) }
                }
                p {
                    label for="hours" { (t(M::Hours)) } br;
                    input type="number" id="hours" name="hours" min="1" max=(p.max_hours) value=(p.max_hours.min(8)) required aria-describedby="hours-help";
                    br; small id="hours-help" { (t(M::HoursHelp)) " " (p.max_hours) }
                }
                fieldset {
                    legend { (t(M::ServicesLegend)) }
                    @for (i, (id, name)) in p.offered.iter().enumerate() {
                        p {
                            input type="checkbox" id=(format!("svc-{i}")) name="services" value=(id);
                            " " label for=(format!("svc-{i}")) { (name) }
                        }
                    }
                }
                button type="submit" { (t(M::GiveButton)) }
            }
        }
    }
}

fn made_table(p: &DelegationPage<'_>, names: &dyn Fn(&DelegationRecord) -> String) -> Markup {
    let t = |m: M| m.text(p.lang);
    html! {
        section aria-labelledby="made-h" {
            h2 id="made-h" { (t(M::Made)) }
            @if p.made.is_empty() { p { (t(M::NoneMade)) } } @else {
                p { (t(M::EndHelp)) }
                div class="scroll" { table {
                    thead { tr {
                        th scope="col" { (t(M::Staff)) } th scope="col" { (t(M::ServicesCol)) }
                        th scope="col" { (t(M::Until)) } th scope="col" { (t(M::Action)) }
                    } }
                    tbody { @for d in p.made {
                        tr data-delegation=(d.id) {
                            td { (d.delegate_name) " (" (d.delegate_username) ")" }
                            td { (names(d)) }
                            td { (jst(d.expires_at, p.lang)) }
                            td { form method="post" action="/delegations/end" {
                                input type="hidden" name="csrf" value=(p.csrf);
                                input type="hidden" name="delegation" value=(d.id);
                                button type="submit" class="danger" aria-label=(format!("{} {}", t(M::End), d.delegate_name)) { (t(M::End)) }
                            } }
                        }
                    } }
                } }
            }
        }
    }
}

fn given_table(
    p: &DelegationPage<'_>,
    given: &[DelegationRecord],
    names: &dyn Fn(&DelegationRecord) -> String,
) -> Markup {
    let t = |m: M| m.text(p.lang);
    html! {
        section aria-labelledby="given-h" {
            h2 id="given-h" { (t(M::Given)) }
            @if given.is_empty() { p { (t(M::NoneGiven)) } } @else {
                div class="scroll" { table {
                    thead { tr {
                        th scope="col" { (t(M::Physician)) } th scope="col" { (t(M::ServicesCol)) }
                        th scope="col" { (t(M::Until)) } th scope="col" { (t(M::Action)) }
                    } }
                    tbody { @for d in given {
                        tr data-given=(d.id) {
                            td { (d.physician_name) }
                            td { (names(d)) }
                            td { (jst(d.expires_at, p.lang)) }
                            td { @if p.acting == Some(d.id.as_str()) { strong { (t(M::Acting)) } } @else {
                                form method="post" action="/delegations/act" {
                                    input type="hidden" name="csrf" value=(p.csrf);
                                    input type="hidden" name="delegation" value=(d.id);
                                    button type="submit" aria-label=(format!("{}: {}", t(M::ActFor), d.physician_name)) { (t(M::ActFor)) }
                                }
                            } }
                        }
                    } }
                } }
            }
        }
    }
}

fn stop_form(csrf: &str, lang: Lang) -> Markup {
    html! {
        form method="post" action="/delegations/act" {
            input type="hidden" name="csrf" value=(csrf);
            input type="hidden" name="delegation" value="";
            button type="submit" { (M::Stop.text(lang)) }
        }
    }
}
