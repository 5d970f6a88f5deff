//! Audit entries as people read them (issue #45 item 3): an actor as a role and a name instead of
//! `facility-admin:HF…:pc:<serial>:person:pwd:demo`, an event's kind and outcome in words, and the detail's JSON
//! as a list of keys and values with its Unix times in Japan time. The stored values are never changed: each
//! rendering keeps the raw text at hand (a `title`, the detail page), and the exports stay raw and UTC.

use super::words::M;
use hcpki_html::Lang;
use maud::{Markup, html};

/// Who acted, as the audit chain names them (`hcpki_ca::access::Principal::actor` and the protocols' actors).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Actor<'a> {
    /// `operator:<name>`: an operator certificate.
    Operator(&'a str),
    /// `person:<key>`: a person signed in to the console with their card (the operating body's staff).
    Staff(Person<'a>),
    /// `ra:<ra>:operator:<name>`: an operator certificate of a registration authority (D167).
    RaOperator {
        /// The RA's name.
        ra: &'a str,
        /// The operator's name.
        name: &'a str,
    },
    /// `ra:<ra>:person:<key>`: a registration authority's staff signed in to the console with their card (D167).
    RaStaff {
        /// The RA's name.
        ra: &'a str,
        /// Who.
        person: Person<'a>,
    },
    /// `facility-admin:<facility>:pc:<serial>:person:<key>`: a person at one of the facility's PCs.
    FacilityAdmin {
        /// The facility's ID.
        facility: &'a str,
        /// The PC certificate's serial (hex).
        pc: &'a str,
        /// Who.
        person: Person<'a>,
    },
    /// `facility-admin:<facility>`: a facility PC's certificate alone.
    FacilityPc(&'a str),
    /// `portal:<key>`: a portal user.
    PortalUser(Person<'a>),
    /// `<where>:anonymous`: nobody signed in (`api`, `console`, `portal`).
    Anonymous(&'a str),
    /// `cli:<who>`: the `hcpki` command on the CA's host.
    Cli(&'a str),
    /// `<protocol>:<what>:<id>`: a device enrolling (ACME, SCEP, EST).
    Device {
        /// `acme`, `scep`, `est`.
        protocol: &'a str,
        /// `account`, `credential`, `certificate`, `transaction`, ...
        id: &'a str,
    },
    /// `-`, `system` (the server itself) or anything else: shown as it is.
    Other(&'a str),
}

/// A person key (`hcpki_sso`'s: `pwd:<user>`, `hpki:…:<registration>`, `jpki:…:<digest>`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Person<'a>(pub &'a str);

impl<'a> Actor<'a> {
    /// The actor text read into its parts; what is not recognised is [`Actor::Other`].
    pub fn parse(raw: &'a str) -> Self {
        if let Some(rest) = raw.strip_prefix("facility-admin:") {
            return match rest.split_once(":pc:") {
                Some((facility, rest)) => match rest.split_once(":person:") {
                    Some((pc, person)) => Self::FacilityAdmin { facility, pc, person: Person(person) },
                    None => Self::Other(raw),
                },
                None => Self::FacilityPc(rest),
            };
        }
        if let Some(rest) = raw.strip_prefix("ra:") {
            return match rest.split_once(":operator:") {
                Some((ra, name)) => Self::RaOperator { ra, name },
                None => match rest.split_once(":person:") {
                    Some((ra, key)) => Self::RaStaff { ra, person: Person(key) },
                    None => Self::Other(raw),
                },
            };
        }
        let Some((head, rest)) = raw.split_once(':') else { return Self::Other(raw) };
        match (head, rest) {
            (_, "anonymous") => Self::Anonymous(head),
            ("operator", name) => Self::Operator(name),
            ("person", key) => Self::Staff(Person(key)),
            ("portal", key) => Self::PortalUser(Person(key)),
            ("cli", who) => Self::Cli(who),
            ("acme" | "scep" | "est", id) => Self::Device { protocol: head, id },
            _ => Self::Other(raw),
        }
    }

    /// The role, in words.
    pub fn role(&self) -> M {
        match self {
            Self::Operator(_) => M::RoleOperator,
            Self::Staff(_) => M::RoleStaff,
            Self::RaOperator { .. } => M::RoleRaOperator,
            Self::RaStaff { .. } => M::RoleRaStaff,
            Self::FacilityAdmin { .. } => M::RoleFacilityAdmin,
            Self::FacilityPc(_) => M::RoleFacilityPc,
            Self::PortalUser(_) => M::RolePortalUser,
            Self::Anonymous(_) => M::RoleAnonymous,
            Self::Cli(_) => M::RoleCli,
            Self::Device { .. } => M::RoleDevice,
            Self::Other("-" | "system") => M::RoleSystem,
            Self::Other(_) => M::RoleOther,
        }
    }

    /// Who, in words (without the role).
    pub fn name(&self, lang: Lang) -> String {
        match self {
            Self::Operator(name) => (*name).to_owned(),
            Self::Staff(p) | Self::PortalUser(p) => p.name(lang),
            Self::RaOperator { ra, name } => format!("{name}・{ra}"),
            Self::RaStaff { ra, person } => format!("{}・{ra}", person.name(lang)),
            Self::FacilityAdmin { facility, pc, person } => {
                format!("{}・{} {}・{facility}", person.name(lang), M::AtPc.text(lang), short(pc))
            }
            Self::FacilityPc(facility) => (*facility).to_owned(),
            Self::Anonymous(place) => (*place).to_owned(),
            Self::Cli(who) => (*who).to_owned(),
            Self::Device { protocol, id } => format!("{} {id}", protocol.to_ascii_uppercase()),
            Self::Other(raw) => (*raw).to_owned(),
        }
    }
}

impl Person<'_> {
    /// `demo(パスワード)`, `HPKIカード 12345`, `マイナンバーカード 0a1b2c3d…`.
    pub fn name(&self, lang: Lang) -> String {
        let (open, close) = if lang == Lang::Ja { ("(", ")") } else { (" (", ")") };
        if let Some(user) = self.0.strip_prefix("pwd:") {
            return format!("{user}{open}{}{close}", M::ByPassword.text(lang));
        }
        let last = self.0.rsplit(':').next().unwrap_or(self.0);
        if self.0.starts_with("hpki") {
            format!("{} {}", M::ByHpki.text(lang), short(last))
        } else if self.0.starts_with("jpki") {
            format!("{} {}", M::ByJpki.text(lang), short(last))
        } else {
            self.0.to_owned()
        }
    }
}

/// A long hex value's first 8 characters and an ellipsis (the whole value is on the entry's page).
fn short(v: &str) -> String {
    match v.char_indices().nth(8) {
        Some((i, _)) if v.len() > 12 => format!("{}…", &v[..i]),
        _ => v.to_owned(),
    }
}

/// An actor cell: the role in words, the name, and the stored text as the element's title.
pub fn actor(lang: Lang, raw: &str) -> Markup {
    let a = Actor::parse(raw);
    html! {
        span class="actor" title=(raw) {
            span class="role" { (a.role().text(lang)) } " " span class="wrap" { (a.name(lang)) }
        }
    }
}

/// The words for an event (the action's own name when it has none, else its kind).
pub fn action_label(action: &str) -> M {
    let exact = match action {
        "portal.login" => Some(M::PortalLogin),
        "portal.logout" => Some(M::PortalLogout),
        "portal.sessions.end" => Some(M::PortalSessionsEnd),
        "login.card" => Some(M::LoginCard),
        "console.signin" | "console.login" => Some(M::ConsoleSignIn),
        "console.signout" | "console.logout" => Some(M::ConsoleSignOut),
        "console.session" => Some(M::ConsoleSession),
        "console.csrf" | "portal.csrf" => Some(M::ConsoleCsrf),
        "console.audit.export" => Some(M::AuditExport),
        "admin.audit.read" => Some(M::AuditRead),
        "cert.issue" => Some(M::CertIssue),
        "cert.revoke" | "admin.certificate.revoke" => Some(M::CertRevoke),
        "admin.facility.apply" | "facility.register" => Some(M::FacilityApply),
        "admin.facility.approve" | "facility.approve" => Some(M::FacilityApprove),
        "admin.facility.reject" | "facility.reject" => Some(M::FacilityReject),
        "admin.facility.suspend" => Some(M::FacilitySuspend),
        "admin.facility.resume" => Some(M::FacilityResume),
        "admin.facility.retire" => Some(M::FacilityRetire),
        "admin.user.end_sessions" => Some(M::UserEndSessions),
        "admin.user.clear_lockout" => Some(M::UserClearLockout),
        "admin.user.search" => Some(M::UserSearch),
        "admin.credential.create" => Some(M::CredentialCreate),
        "admin.credential.revoke" => Some(M::CredentialRevoke),
        "admin.device.issue" => Some(M::DeviceIssue),
        "admin.device.name" | "facility.device.name" => Some(M::DeviceName),
        "oidc.token" => Some(M::OidcToken),
        "oidc.authorize" => Some(M::OidcAuthorize),
        _ => None,
    };
    exact.unwrap_or_else(|| match action.split('.').next().unwrap_or("") {
        "login" => M::KindLogin,
        "portal" => M::KindPortal,
        "oidc" => M::KindOidc,
        "cert" => M::KindCert,
        "crl" => M::KindCrl,
        "console" => M::KindConsole,
        "admin" => M::KindAdmin,
        "consent" => M::KindConsent,
        "facility" => M::KindFacility,
        "session" => M::KindSession,
        "delegation" => M::KindDelegation,
        "break_glass" => M::KindBreakGlass,
        "job" => M::KindJob,
        "acme" | "scep" | "est" => M::KindEnroll,
        _ => M::KindOther,
    })
}

/// An event cell: its words, with its stored name (what the filters and exports use) as the title.
pub fn action(lang: Lang, raw: &str) -> Markup {
    // The stored code on one line under the words made every row three lines tall: it is the title here, and
    // the entry's own page shows it (the filter takes it too).
    html! { span title=(raw) { (action_label(raw).text(lang)) } }
}

/// An outcome as a badge in words (its class the stored word, for the colour).
pub fn outcome(lang: Lang, raw: &str) -> Markup {
    let words = match raw {
        "ok" => Some(M::OutcomeOk),
        "denied" => Some(M::OutcomeDenied),
        "failed" => Some(M::OutcomeFailed),
        _ => None,
    };
    html! { span class={ "badge " (raw) } { (words.map_or(raw, |w| w.text(lang))) } }
}

/// One detail value shown: text, or a time.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Value {
    /// Shown as it is (strings unquoted, other JSON as JSON).
    Text(String),
    /// A Unix time in seconds, shown in Japan time.
    Time(i64),
}

/// The detail's JSON as (key, value) pairs in its order; a detail that is not a JSON object is one pair with an
/// empty key. Numbers under a key that names a time (`…_at`, `expires…`, `not_before`, …) and in the range of
/// Unix seconds or milliseconds between 2001 and 2286 are times.
pub fn detail_pairs(detail: &str) -> Vec<(String, Value)> {
    let Ok(serde_json::Value::Object(map)) = serde_json::from_str::<serde_json::Value>(detail) else {
        return vec![(String::new(), Value::Text(detail.to_owned()))];
    };
    map.into_iter()
        .map(|(k, v)| {
            let value = match &v {
                serde_json::Value::String(s) => Value::Text(s.clone()),
                serde_json::Value::Number(n) => match n.as_i64().filter(|_| names_a_time(&k)).and_then(unix_seconds) {
                    Some(t) => Value::Time(t),
                    None => Value::Text(n.to_string()),
                },
                other => Value::Text(other.to_string()),
            };
            (k, value)
        })
        .collect()
}

fn names_a_time(key: &str) -> bool {
    let k = key.to_ascii_lowercase();
    k == "at"
        || k.ends_with("_at")
        || k.ends_with("_ms")
        || ["expires", "until", "since", "not_before", "not_after", "time", "started", "deadline"]
            .iter()
            .any(|w| k.starts_with(w) || k.ends_with(w))
}

/// `n` as Unix seconds when it is seconds or milliseconds of 2001-09-09 … 2286-11-20.
fn unix_seconds(n: i64) -> Option<i64> {
    match n {
        1_000_000_000..10_000_000_000 => Some(n),
        1_000_000_000_000..10_000_000_000_000 => Some(n / 1000),
        _ => None,
    }
}

/// A value as the page shows it.
pub fn value(lang: Lang, v: &Value) -> Markup {
    match v {
        Value::Text(s) => html! { span class="wrap" { (s) } },
        Value::Time(t) => crate::portal::jst_seconds(*t, lang),
    }
}

/// The detail as a list of keys and values (the entry's page), or at most `max` of them with an ellipsis (the
/// table); values longer than `cut` characters are cut in the table.
pub fn details(lang: Lang, detail: &str, max: usize, cut: usize) -> Markup {
    let pairs = detail_pairs(detail);
    let more = pairs.len() > max;
    html! {
        dl class="detail" {
            @for (k, v) in pairs.iter().take(max) {
                dt { (k) }
                dd { @match v {
                    Value::Text(s) if s.chars().count() > cut => {
                        span class="wrap" { (s.chars().take(cut).collect::<String>()) "…" }
                    }
                    _ => (value(lang, v)),
                } }
            }
            @if more { dt { "…" } dd {} }
        }
    }
}

/// The detail in one short line for the table (issue #45 item 5): its `reason` if it has one, else its first
/// value, cut at `cut` characters, and how many more values the entry's page holds. A list of every key and value
/// in each row made a 50-entry page 7,000 pixels tall at 945 pixels wide; the entry's page shows them all.
pub fn summary(lang: Lang, detail: &str, cut: usize) -> Markup {
    let pairs = detail_pairs(detail);
    let first = pairs.iter().position(|(k, _)| k == "reason").unwrap_or(0);
    let Some((key, v)) = pairs.get(first) else { return html! {} };
    let more = pairs.len() - 1;
    html! {
        // One line, cut short with an ellipsis where it is long (the entry's page shows every value).
        span class="summary" {
            @if !key.is_empty() { span class="key" { (key) } " " }
            @match v {
                Value::Text(s) if s.chars().count() > cut => {
                    span class="wrap" { (s.chars().take(cut).collect::<String>()) "…" }
                }
                _ => (value(lang, v)),
            }
            @if more > 0 { " " span class="more" { "+" (more) } }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn actors_read_as_roles_and_names() {
        let raw = "facility-admin:HF0000000001:pc:7f3a9c0b12d4e5f6a7b8:person:pwd:demo";
        let a = Actor::parse(raw);
        assert_eq!(
            a,
            Actor::FacilityAdmin { facility: "HF0000000001", pc: "7f3a9c0b12d4e5f6a7b8", person: Person("pwd:demo") }
        );
        assert_eq!(a.role().text(Lang::Ja), "施設管理者");
        assert_eq!(a.name(Lang::Ja), "demo(パスワード)・施設PC 7f3a9c0b…・HF0000000001");
        assert_eq!(a.name(Lang::En), "demo (password)・facility PC 7f3a9c0b…・HF0000000001");
        assert_eq!(Actor::parse("facility-admin:HF1"), Actor::FacilityPc("HF1"));
        assert_eq!(Actor::parse("operator:ops"), Actor::Operator("ops"));
        let ra = Actor::parse("ra:tokyo:operator:ops-13");
        assert_eq!(ra, Actor::RaOperator { ra: "tokyo", name: "ops-13" });
        assert_eq!((ra.role().text(Lang::Ja), ra.name(Lang::Ja)), ("登録局の運用者", "ops-13・tokyo".to_owned()));
        let staff = Actor::parse("ra:kddi:person:hpki:a1:MHLW:1234567");
        assert_eq!(staff.name(Lang::En), "HPKI card 1234567・kddi");
        assert_eq!(Actor::parse("console:anonymous"), Actor::Anonymous("console"));
        assert_eq!(Actor::parse("cli:uid:0"), Actor::Cli("uid:0"));
        assert_eq!(Actor::parse("acme:account:5"), Actor::Device { protocol: "acme", id: "account:5" });
        assert_eq!(Actor::parse("-").role(), M::RoleSystem);
        assert_eq!(Actor::parse("nonsense").name(Lang::Ja), "nonsense");
        assert_eq!(Person("hpki:a1:MHLW:1234567").name(Lang::Ja), "HPKIカード 1234567");
        assert_eq!(Person("jpki:a1:00112233445566778899").name(Lang::En), "My Number Card 00112233…");
        let cell = actor(Lang::Ja, raw).into_string();
        assert!(cell.contains(&format!("title=\"{raw}\"")), "{cell}");
    }

    #[test]
    fn events_and_outcomes_in_words() {
        assert_eq!(action_label("portal.login").text(Lang::Ja), "ポータルへのログイン");
        assert_eq!(action_label("consent.sign").text(Lang::Ja), "同意");
        assert_eq!(action_label("zzz").text(Lang::En), "Other");
        assert_eq!(action_label("facility.device.name").text(Lang::Ja), "端末の名前の変更");
        assert_eq!(action_label("facility.reject").text(Lang::Ja), "申請の却下");
        assert_eq!(outcome(Lang::Ja, "denied").into_string(), "<span class=\"badge denied\">拒否</span>");
        assert_eq!(outcome(Lang::En, "odd").into_string(), "<span class=\"badge odd\">odd</span>");
    }

    #[test]
    fn details_read_as_keys_and_values_with_times() {
        let d = r#"{"reason":"wrong code","expires_at":1795000000,"at_ms":1795000000123,"count":1795000000,"x":[1]}"#;
        let mut pairs = detail_pairs(d);
        pairs.sort();
        assert_eq!(
            pairs,
            vec![
                ("at_ms".into(), Value::Time(1_795_000_000)),
                ("count".into(), Value::Text("1795000000".into())),
                ("expires_at".into(), Value::Time(1_795_000_000)),
                ("reason".into(), Value::Text("wrong code".into())),
                ("x".into(), Value::Text("[1]".into())),
            ]
        );
        assert_eq!(detail_pairs("not json"), vec![(String::new(), Value::Text("not json".into()))]);
        let shown = details(Lang::Ja, d, 4, 4).into_string();
        assert!(shown.contains("(日本時間)") && shown.contains("<dt>…</dt>"), "{shown}");
        let shown = details(Lang::Ja, r#"{"reason":"wrong code"}"#, 4, 4).into_string();
        assert!(shown.contains("wron…"), "{shown}");
        let line = summary(Lang::Ja, r#"{"scope":"openid","reason":"wrong code","n":1}"#, 5).into_string();
        assert_eq!(
            line,
            "<span class=\"summary\"><span class=\"key\">reason</span> <span class=\"wrap\">wrong…</span> \
             <span class=\"more\">+2</span></span>"
        );
        assert_eq!(summary(Lang::Ja, "{}", 5).into_string(), "");
    }
}
