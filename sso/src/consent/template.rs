//! What a consent says: the operator's per-service template (`[[consent.templates]]`: purpose, scope,
//! recipients, period, how to withdraw) filled with the facts of one request (facility, physician, date,
//! reference) into the statement the PDF shows and the card agent reads back
//! ([`hcpki_docsig::consent_document`]). The same template words the withdrawal and the physician's attestation.

use super::ConsentError;
use super::evidence::AttestationReason;
use super::purpose::Purpose;
use hcpki_docsig::consent_document::{Item, Kind, Statement};

/// Longest text of one template field, in characters (the PDF takes 4,000 per item; the rest is headroom for
/// the facts).
const MAX_FIELD_CHARS: usize = 2000;

/// One service's consent for one purpose, as the operator configured it. The words are the service's
/// (reviewed by the operator); the facts are filled in by the portal, never by the service's request.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Template {
    /// The service's OIDC client id (`hcpki:portal` for the portal's own page).
    pub client: String,
    /// The purpose the service names in its request.
    pub purpose: String,
    /// The document's title, e.g. 「診療情報の共有に関する同意書」.
    pub title: String,
    /// 目的: what the records are used for.
    pub purpose_text: String,
    /// 対象となる情報: which records.
    pub scope: String,
    /// 提供先: who receives them.
    pub recipients: String,
    /// 期間: for how long, when the service says.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub period: Option<String>,
    /// 撤回について: how the patient withdraws.
    pub withdrawal: String,
    /// What the patient gives (D130 item 3): `signature` (the default; the JPKI signing password, a signed PDF)
    /// or `authentication` (the 4-digit user PIN, where the law asks for consent but no signature).
    #[serde(default, skip_serializing_if = "ConsentEvidence::is_signature")]
    pub evidence: ConsentEvidence,
    /// The regional network (地域医療連携ネットワーク, D169) the consent is shared in: its member services may check
    /// it, the PDF carries the network's 共同利用 notice, and it is asked for at a member facility only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub network: Option<String>,
}

/// What a template asks of the patient.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConsentEvidence {
    /// The patient signs the PDF with the JPKI signing key (署名用電子証明書 and its password).
    #[default]
    Signature,
    /// The patient agrees with the JPKI user-authentication key (利用者証明用電子証明書 and its 4-digit PIN).
    Authentication,
}

impl ConsentEvidence {
    /// The default (kept out of the serialised configuration).
    pub fn is_signature(&self) -> bool {
        *self == Self::Signature
    }
}

#[cfg(test)]
impl Template {
    /// A template of `client` for `purpose` whose words are one letter each, for tests.
    pub(crate) fn example(client: &str, purpose: &str) -> Self {
        Self {
            client: client.into(),
            purpose: purpose.into(),
            title: "t".into(),
            purpose_text: "p".into(),
            scope: "s".into(),
            recipients: "r".into(),
            period: None,
            withdrawal: "w".into(),
            evidence: ConsentEvidence::Signature,
            network: None,
        }
    }
}

/// The facts of one request the portal fills in.
#[derive(Clone, Debug)]
pub struct Facts<'a> {
    /// The facility's name as registered, and its ID.
    pub facility_name: &'a str,
    pub facility_id: &'a str,
    /// The physician's name from the HPKI card.
    pub physician: &'a str,
    /// The service as people know it.
    pub service: &'a str,
    /// When the request was made (Unix seconds; shown as the Japanese date).
    pub date: i64,
    /// The consent id.
    pub reference: &'a str,
}

impl Template {
    /// The checks `[consent]` loading makes: a purpose name, no empty or overlong field.
    pub fn check(&self) -> Result<(), ConsentError> {
        Purpose::parse(&self.purpose)?;
        if let Some(network) = &self.network {
            super::network::check_name(network).map_err(|e| ConsentError::Template {
                client: self.client.clone(),
                purpose: self.purpose.clone(),
                why: e.to_string(),
            })?;
        }
        let fields = [
            ("title", Some(&self.title)),
            ("purpose_text", Some(&self.purpose_text)),
            ("scope", Some(&self.scope)),
            ("recipients", Some(&self.recipients)),
            ("period", self.period.as_ref()),
            ("withdrawal", Some(&self.withdrawal)),
        ];
        for (name, value) in fields {
            if let Some(v) = value
                && (v.trim().is_empty() || v.chars().count() > MAX_FIELD_CHARS)
            {
                return Err(ConsentError::Template {
                    client: self.client.clone(),
                    purpose: self.purpose.clone(),
                    why: format!("{name} must be 1 to {MAX_FIELD_CHARS} characters"),
                });
            }
        }
        if self.client.trim().is_empty() {
            return Err(ConsentError::Template {
                client: self.client.clone(),
                purpose: self.purpose.clone(),
                why: "client must name the service's OIDC client id".into(),
            });
        }
        Ok(())
    }

    /// The consent the patient is shown and signs.
    pub fn consent(&self, facts: &Facts<'_>) -> Statement {
        let mut items = vec![
            item("目的", &self.purpose_text),
            item("対象となる情報", &self.scope),
            item("提供先", &self.recipients),
        ];
        if let Some(period) = &self.period {
            items.push(item("期間", period));
        }
        items.extend(self.facts(facts));
        items.push(item("撤回について", &self.withdrawal));
        items.push(item(
            "同意",
            "私は、上記の内容について説明を受け、理解したうえで同意します。この同意はいつでも撤回できます。",
        ));
        Statement { kind: Kind::Consent, title: self.title.clone(), items, reference: facts.reference.to_owned() }
    }

    /// The withdrawal (撤回) of the consent signed at `signed_at`.
    pub fn withdrawal(&self, facts: &Facts<'_>, signed_at: i64) -> Statement {
        let mut items = vec![
            item("撤回する同意", &format!("「{}」({} に署名)", self.title, japanese_date(signed_at))),
            item("目的", &self.purpose_text),
            item("提供先", &self.recipients),
        ];
        items.extend(self.facts(facts));
        items.push(item(
            "撤回",
            "私は、上記の同意を撤回します。撤回した時点から、上記の目的での利用と提供は行われません。",
        ));
        Statement {
            kind: Kind::Withdrawal,
            title: format!("同意撤回書({})", self.title),
            items,
            reference: facts.reference.to_owned(),
        }
    }

    /// The physician's attestation that the patient consented, when the patient cannot sign with the card.
    pub fn attestation(&self, facts: &Facts<'_>, reason: AttestationReason) -> Statement {
        let mut items = vec![
            item("同意の内容", &format!("「{}」", self.title)),
            item("目的", &self.purpose_text),
            item("対象となる情報", &self.scope),
            item("提供先", &self.recipients),
        ];
        items.extend(self.facts(facts));
        items.push(item("カードで署名できない理由", reason_words(reason)));
        items.push(item(
            "医師の確認",
            "私(担当医師)は、患者本人に上記の内容を説明し、患者本人が口頭で同意したことを確認しました。\
             この記録は患者本人の電子署名より弱い証拠として扱われます。",
        ));
        Statement {
            kind: Kind::Attestation,
            title: format!("同意確認書(医師による確認)— {}", self.title),
            items,
            reference: facts.reference.to_owned(),
        }
    }

    fn facts(&self, facts: &Facts<'_>) -> Vec<Item> {
        vec![
            item("依頼したサービス", facts.service),
            item("医療機関", &format!("{}({})", facts.facility_name, facts.facility_id)),
            item("担当医師", facts.physician),
            item("日付", &japanese_date(facts.date)),
        ]
    }
}

/// What the attestation says of `reason`.
pub fn reason_words(reason: AttestationReason) -> &'static str {
    match reason {
        AttestationReason::NoSigningCertificate => "カードに署名用電子証明書がない(顔認証マイナンバーカードなど)",
        AttestationReason::PasswordForgotten => "署名用パスワードを忘れた",
        AttestationReason::KeyLocked => "署名用パスワードがロックされている",
    }
}

/// `2026年11月26日` in Japan time.
pub fn japanese_date(unix: i64) -> String {
    let local = hcpki_pkix::time::rfc3339(unix.saturating_add(9 * 3600));
    let part = |range: std::ops::Range<usize>| local.get(range).and_then(|s| s.parse::<u32>().ok()).unwrap_or(0);
    format!("{}年{}月{}日", part(0..4), part(5..7), part(8..10))
}

fn item(label: &str, text: &str) -> Item {
    Item { label: label.to_owned(), text: text.to_owned() }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn template() -> Template {
        Template {
            client: "emr".into(),
            purpose: "record-link".into(),
            title: "診療情報の共有に関する同意書".into(),
            purpose_text: "地域の医療機関で診療情報を共有し、適切な医療を受けるため".into(),
            scope: "受診歴、検査結果、処方".into(),
            recipients: "地域連携ネットワークに参加する医療機関".into(),
            period: None,
            withdrawal: "受付または担当医師に申し出て、マイナンバーカードで撤回書に署名してください。".into(),
            evidence: ConsentEvidence::Signature,
            network: None,
        }
    }

    fn facts() -> Facts<'static> {
        Facts {
            facility_name: "テスト診療所",
            facility_id: "HF00000001X",
            physician: "医師 太郎",
            service: "電子カルテ (emr)",
            date: 1_795_650_000,
            reference: "abc",
        }
    }

    #[test]
    fn the_statement_carries_the_template_and_the_portals_facts() {
        let s = template().consent(&facts());
        assert_eq!(s.kind, Kind::Consent);
        let text: Vec<String> = s.items.iter().map(|i| format!("{}: {}", i.label, i.text)).collect();
        for want in ["目的: 地域", "提供先: 地域連携", "医療機関: テスト診療所(HF00000001X)", "担当医師: 医師 太郎"]
        {
            assert!(text.iter().any(|t| t.starts_with(want)), "{want}: {text:?}");
        }
        assert!(text.iter().any(|t| t.starts_with("撤回について")));
        assert_eq!(s.reference, "abc");
        let w = template().withdrawal(&facts(), 1_795_650_000);
        assert_eq!(w.kind, Kind::Withdrawal);
        assert!(w.title.starts_with("同意撤回書"));
        let a = template().attestation(&facts(), AttestationReason::KeyLocked);
        assert!(a.items.iter().any(|i| i.text.contains("ロック")));
    }

    #[test]
    fn dates_are_japan_dates() {
        // 2026-11-26 20:00 UTC is 2026-11-27 in Japan.
        assert_eq!(japanese_date(1_795_723_200), "2026年11月27日");
    }

    #[test]
    fn a_template_with_an_empty_or_overlong_field_or_a_bad_purpose_is_refused() {
        assert!(template().check().is_ok());
        let empty = Template { scope: " ".into(), ..template() };
        assert!(empty.check().unwrap_err().to_string().contains("scope"));
        let long = Template { recipients: "あ".repeat(MAX_FIELD_CHARS + 1), ..template() };
        assert!(long.check().is_err());
        let purpose = Template { purpose: "Record Link".into(), ..template() };
        assert!(purpose.check().is_err());
    }
}
