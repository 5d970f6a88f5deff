//! The console's page chrome: one layout (skip link, menu by role, language switch, `<main>`) inside the shared
//! document ([`hcpki_html::document`], D49), the refusal page, and the widgets every console page shares
//! (tables, labelled inputs and selects, the CSRF field, status badges). Pages are maud templates: every value
//! is escaped by `html!`, none by hand.

use super::i18n::{Lang, M};
use super::problem::{self, Problem};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use hcpki_ca::access::{AdminBasis, Principal};
use hcpki_ca::operator::OperatorRole;
use hcpki_html::Head;
use maud::{Markup, Render, html};

/// `GET /console/static/console.css`: the only resource a page loads (the CSP allows styles from here): the
/// stylesheet every hcpki page shares ([`hcpki_html::STYLESHEET`]; the portal serves it too).
pub async fn stylesheet() -> Response {
    ([(header::CONTENT_TYPE, "text/css; charset=utf-8")], hcpki_html::STYLESHEET).into_response()
}

/// A whole page: `body` goes into `<main>` under the title.
pub fn page(lang: Lang, who: &Principal, status: StatusCode, title: &str, body: Markup) -> Response {
    let html = document(lang, who, title, body).into_string();
    (status, [(header::CONTENT_TYPE, "text/html; charset=utf-8")], html).into_response()
}

/// The document of [`page`].
fn document(lang: Lang, who: &Principal, title: &str, body: Markup) -> Markup {
    let t = |m: M| m.text(lang);
    let links: Vec<(&str, M)> = match who {
        Principal::Operator { .. } | Principal::Person { .. } => vec![
            ("/console/", M::Applications),
            ("/console/facilities", M::Facilities),
            ("/console/certificates", M::Certificates),
            ("/console/users", M::Users),
            ("/console/audit", M::Audit),
            ("/console/audit?action=login.%2Cportal.login%2Cportal.logout", M::Logins),
            ("/console/jobs", M::Jobs),
            ("/console/break-glass", M::BreakGlass),
            ("/console/oidc-clients", M::OidcClients),
            ("/console/ca/halt", M::IssuanceHalt),
            ("/console/compliance", M::Compliance),
            ("/console/ras", M::Ras),
        ],
        Principal::FacilityAdmin { .. } => vec![
            ("/console/", M::Home),
            ("/console/break-glass", M::BreakGlass),
            ("/console/compliance", M::Compliance),
        ],
        _ => vec![("/console/", M::Home), ("/console/apply", M::Apply)],
    };
    // A portal sign-in can be ended here; a certificate cannot (the browser holds it), but whoever sits at the
    // browser may sign in with their own card instead (D42: the sign-in then wins over the certificate).
    let signed_in = matches!(who, Principal::Person { .. })
        || matches!(who, Principal::FacilityAdmin { basis: AdminBasis::Person { .. }, .. });
    let session_link = if signed_in { ("/console/logout", M::SignOut) } else { ("/console/login", M::SignInWithCard) };
    let links = [links, vec![session_link]].concat();
    let other = lang.other().code();
    let head = Head {
        lang: lang.code(),
        title: &format!("{title} — {}", t(M::Console)),
        meta: html! { meta name="viewport" content="width=device-width, initial-scale=1"; },
        assets: html! { link rel="stylesheet" href="/console/static/console.css"; },
    };
    let body = html! {
        body {
            a class="skip" href="#main" { (t(M::SkipToMain)) }
            header {
                p class="brand" { (t(M::Console)) }
                nav aria-label=(t(M::MainMenu)) {
                    ul { @for (href, m) in &links { li { a href=(href) { (t(*m)) } } } }
                }
                p class="who" { (identity(lang, who)) }
                p class="lang" { a href={ "?lang=" (other) } hreflang=(other) lang=(other) { (t(M::SwitchLanguage)) } }
            }
            main id="main" {
                h1 { (title) }
                (body)
            }
        }
    };
    hcpki_html::document(head, body)
}

/// Who is signed in, as the page header says it.
fn identity(lang: Lang, who: &Principal) -> String {
    let t = |m: M| m.text(lang);
    let role = |r: &OperatorRole| t(if *r == OperatorRole::Auditor { M::Auditor } else { M::Operator });
    match who {
        Principal::Operator { name, role: r, .. } => format!("{} {} ({})", t(M::SignedInAs), name.as_str(), role(r)),
        Principal::Person { name, role: r, .. } => {
            format!("{} {name} ({}, {})", t(M::SignedInAs), role(r), t(M::ByCard))
        }
        Principal::FacilityAdmin { facility, basis } => {
            let by = match basis {
                AdminBasis::Certificate(serial) => format!("PC {serial}, {}", t(M::PcReadOnly)),
                AdminBasis::Credential(_) => "credential".into(),
                AdminBasis::Person { pc, .. } => format!("{}, {} {pc}", t(M::ByCard), t(M::AtPc)),
            };
            format!("{} {} {} ({by})", t(M::SignedInAs), t(M::FacilityAdmin), facility.as_str())
        }
        _ => t(M::NotSignedIn).to_owned(),
    }
}

/// A refusal no form can say in its own place ([`Problem`]): what happened and what to do in the page's
/// language, that nothing changed, and a way back; for a form refused for its stale token, the form again
/// (`resend`), holding what was typed, to send with a fresh token. The operation's own English reason is in
/// the audit log, not on the page.
pub fn refusal(lang: Lang, who: &Principal, problem: Problem, resend: Option<&Resend<'_>>) -> Response {
    let t = |m: problem::M| m.text(lang);
    let (what, next) = problem.words(who);
    let body = html! {
        div class="error" role="alert" {
            p id="refusal-lead" { (t(what)) }
            p id="refusal-next" { (t(next)) }
            @if problem.nothing_changed() { p { (t(problem::M::NothingChanged)) } }
        }
        @if let Some(r) = resend {
            form method="post" action=(r.action) {
                (csrf_field(r.csrf))
                @for (name, value) in r.fields { input type="hidden" name=(name) value=(value); }
                button type="submit" { (t(problem::M::SendAgain)) }
            }
        }
        p { a href=(problem.way_back()) { (t(problem.way_back_words())) } }
    };
    page(lang, who, problem.status(), M::Refused.text(lang), body)
}

/// A refused form to offer again: where it posts, what was typed (without the stale token) and a fresh token.
#[derive(Debug)]
pub struct Resend<'a> {
    /// The form's `action` (the path it was posted to).
    pub action: &'a str,
    /// The fields as sent, in order, without `csrf`.
    pub fields: &'a [(String, String)],
    /// A fresh CSRF token of this viewer.
    pub csrf: &'a str,
}

/// A table with a header row.
pub fn table(caption: &str, head: &[&str], rows: &[Vec<Markup>]) -> Markup {
    html! {
        table {
            caption { (caption) }
            thead { tr { @for h in head { th scope="col" { (h) } } } }
            tbody { @for row in rows { tr { @for cell in row { td { (cell) } } } } }
        }
    }
}

/// `rows` as a table, or "none found" when there are none.
pub fn table_or_none(lang: Lang, caption: &str, head: &[&str], rows: &[Vec<Markup>]) -> Markup {
    if rows.is_empty() {
        html! { p { (M::NoneFound.text(lang)) } }
    } else {
        table(caption, head, rows)
    }
}

/// A labelled `<input>` (see [`input`]); the builder methods add optional attributes, always written in the
/// same order (`type`, `inputmode`, `size`, `required`).
#[derive(Clone, Copy, Debug)]
#[must_use]
pub struct Input<'a> {
    id: &'a str,
    name: &'a str,
    label: &'a str,
    value: &'a str,
    max: usize,
    kind: Option<&'static str>,
    inputmode: Option<&'static str>,
    size: Option<u32>,
    required: bool,
    autocomplete: Option<&'static str>,
    hint: Option<&'a str>,
    autofocus: bool,
}

/// A labelled text `<input>`: `id` is the label's target, `max` its `maxlength`.
pub fn input<'a>(id: &'a str, name: &'a str, label: &'a str, value: &'a str, max: usize) -> Input<'a> {
    Input {
        id,
        name,
        label,
        value,
        max,
        kind: None,
        inputmode: None,
        size: None,
        required: false,
        autocomplete: None,
        hint: None,
        autofocus: false,
    }
}

impl<'a> Input<'a> {
    /// `type="date"`.
    pub fn date(self) -> Self {
        Self { kind: Some("date"), ..self }
    }

    /// `inputmode="numeric"`.
    pub fn numeric(self) -> Self {
        Self { inputmode: Some("numeric"), ..self }
    }

    /// `size`: the field's width in characters.
    pub fn size(self, size: u32) -> Self {
        Self { size: Some(size), ..self }
    }

    /// `required`.
    pub fn required(self) -> Self {
        Self { required: true, ..self }
    }

    /// `autocomplete`: what the browser may fill in (`organization`, `street-address`, `off`…).
    pub fn autocomplete(self, what: &'static str) -> Self {
        Self { autocomplete: Some(what), ..self }
    }

    /// A hint under the field (what it is, the form it takes), tied to it by `aria-describedby`.
    pub fn hint(self, hint: &'a str) -> Self {
        Self { hint: Some(hint), ..self }
    }

    /// `autofocus`, when `on`: the field to fix after a refusal (the page needs no script for it).
    pub fn focus_if(self, on: bool) -> Self {
        Self { autofocus: on, ..self }
    }
}

impl Render for Input<'_> {
    fn render(&self) -> Markup {
        let hint_id = self.hint.map(|_| format!("{}-hint", self.id));
        html! {
            label for=(self.id) { (self.label) }
            input id=(self.id) name=(self.name) value=(self.value) maxlength=(self.max) type=[self.kind]
                inputmode=[self.inputmode] size=[self.size] required[self.required]
                autocomplete=[self.autocomplete] aria-describedby=[&hint_id] autofocus[self.autofocus];
            @if let (Some(hint), Some(id)) = (self.hint, &hint_id) { p class="hint" id=(id) { (hint) } }
        }
    }
}

/// A labelled `<select>` of (value, text) options with `selected` chosen.
pub fn select(id: &str, name: &str, label: &str, options: &[(&str, &str)], selected: &str) -> Markup {
    html! {
        label for=(id) { (label) }
        select id=(id) name=(name) {
            @for (value, text) in options { option value=(value) selected[*value == selected] { (text) } }
        }
    }
}

/// A required choice with nothing chosen beforehand: the first option is `prompt` with an empty value, so the
/// browser asks for a choice rather than sending whatever came first (issue #45 item 2: no preselected
/// revocation reason). `chosen` is the value the person chose before a refusal (empty: none yet).
pub fn choose(id: &str, name: &str, label: &str, options: &[(&str, &str)], prompt: &str, chosen: &str) -> Markup {
    choose_with_hint(id, name, label, options, prompt, chosen, None)
}

/// [`choose`] with a hint under the list, tied to it by `aria-describedby` as [`Input::hint`] does for fields.
pub fn choose_with_hint(
    id: &str,
    name: &str,
    label: &str,
    options: &[(&str, &str)],
    prompt: &str,
    chosen: &str,
    hint: Option<&str>,
) -> Markup {
    let hint_id = hint.map(|_| format!("{id}-hint"));
    html! {
        label for=(id) { (label) }
        select id=(id) name=(name) required aria-describedby=[&hint_id] {
            option value="" selected[chosen.is_empty()] { (prompt) }
            @for (value, text) in options { option value=(value) selected[!chosen.is_empty() && *value == chosen] { (text) } }
        }
        @if let (Some(hint), Some(hint_id)) = (hint, &hint_id) { p class="hint" id=(hint_id) { (hint) } }
    }
}

/// Options whose value is their text.
pub fn same<'a>(values: &[&'a str]) -> Vec<(&'a str, &'a str)> {
    values.iter().map(|v| (*v, *v)).collect()
}

/// A hidden CSRF field.
pub fn csrf_field(token: &str) -> Markup {
    html! { input type="hidden" name="csrf" value=(token); }
}

/// Unix seconds in 日本時間 with the zone named, the portal's one date format (issue #45 item 1): what the
/// people on the phone read out; UTC only in exports.
pub fn jst(unix: i64, lang: Lang) -> Markup {
    crate::portal::jst(unix, lang)
}

/// A status word as a badge (its class and its text).
pub fn badge(word: &str) -> Markup {
    html! { span class={ "badge " (word) } { (word) } }
}

/// A titled section (`aria-labelledby` its heading, whose `id` is `id`).
pub fn section(id: &str, title: &str, inner: Markup) -> Markup {
    html! { section aria-labelledby=(id) { h2 id=(id) { (title) } (inner) } }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_layout_writes_the_bytes_the_hand_built_page_wrote() {
        let page = document(Lang::En, &Principal::Anonymous, "A & <b>", html! { p { "x" } }).into_string();
        assert_eq!(
            page,
            "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
             <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
             <title>A &amp; &lt;b&gt; — hcpki console</title>\
             <link rel=\"stylesheet\" href=\"/console/static/console.css\"></head>\
             <body><a class=\"skip\" href=\"#main\">Skip to content</a><header><p class=\"brand\">hcpki console</p>\
             <nav aria-label=\"Main menu\"><ul><li><a href=\"/console/\">Home</a></li>\
             <li><a href=\"/console/apply\">Apply for a facility</a></li>\
             <li><a href=\"/console/login\">Sign in with card</a></li></ul></nav>\
             <p class=\"who\">Not signed in: sign in with your card, or choose your operator certificate or your \
             facility's PC certificate.</p>\
             <p class=\"lang\"><a href=\"?lang=ja\" hreflang=\"ja\" lang=\"ja\">日本語</a></p>\
             </header><main id=\"main\"><h1>A &amp; &lt;b&gt;</h1><p>x</p></main></body></html>"
        );
    }

    #[test]
    fn widgets_escape_values_and_keep_their_attribute_order() {
        let field = input("from", "from", "From", "\"><script>", 200).date().numeric().size(4).required();
        assert_eq!(
            field.render().into_string(),
            "<label for=\"from\">From</label><input id=\"from\" name=\"from\" value=\"&quot;&gt;&lt;script&gt;\" \
             maxlength=\"200\" type=\"date\" inputmode=\"numeric\" size=\"4\" required>"
        );
        assert_eq!(
            select("state", "state", "State", &[("", "any"), ("a&b", "<a>")], "a&b").into_string(),
            "<label for=\"state\">State</label><select id=\"state\" name=\"state\"><option value=\"\">any</option>\
             <option value=\"a&amp;b\" selected>&lt;a&gt;</option></select>"
        );
        assert_eq!(badge("ok").into_string(), "<span class=\"badge ok\">ok</span>");
        assert_eq!(csrf_field("t\"").into_string(), "<input type=\"hidden\" name=\"csrf\" value=\"t&quot;\">");
        assert_eq!(
            table("c", &["h"], &[vec![html! { "<x>" }]]).into_string(),
            "<table><caption>c</caption><thead><tr><th scope=\"col\">h</th></tr></thead>\
             <tbody><tr><td>&lt;x&gt;</td></tr></tbody></table>"
        );
    }
}
