//! The vendor disclosure (サービス仕様適合開示書 / 製造業者・サービス事業者による医療情報セキュリティ開示書) items
//! hcpki fills: what the product does, for the facility's vendor file. Each answer is this installation's, so a
//! facility hands its inspector the same evidence the checklist items show.

use super::evidence::{AuditChain, Evidence};
use super::item::{Item, Status, tr};
use hcpki_html::Lang;

/// The disclosure items hcpki can answer, with this installation's evidence.
pub fn items(e: &Evidence, lang: Lang) -> Vec<Item> {
    let chain = match &e.audit_chain {
        AuditChain::Intact { entries, .. } => format!("SHA-256 hash chain, {entries} entries, verified"),
        AuditChain::Tampered { why } => format!("SHA-256 hash chain: does not verify{why}"),
    };
    let s = &e.sessions;
    vec![
        filled(
            "disclosure.authentication",
            tr(lang, "利用者の識別・認証", "User identification and authentication"),
            vec![tr(
                lang,
                "HPKI/JPKI カード+PIN、パスワード+TOTP、パスキー(ユーザー検証必須)。いずれも二要素。生体認証は端末の認証器内で本人の鍵に 1:1 で照合",
                "HPKI/JPKI card + PIN, password + TOTP, passkey (user verification required): all two-factor. \
                 Biometrics only inside the authenticator, 1:1 against the person's own key",
            )],
            lang,
        ),
        filled(
            "disclosure.sessions",
            tr(lang, "セッション管理", "Session management"),
            vec![format!(
                "idle {} min / absolute {} h (portal), idle {} min / absolute {} h (console), bound to PC and browser: {}",
                s.portal_idle_minutes,
                s.portal_absolute_hours,
                s.console_idle_minutes,
                s.console_absolute_hours,
                s.bound_to_terminal
            )],
            lang,
        ),
        filled(
            "disclosure.access-log",
            tr(lang, "アクセスログ(記録・改ざん検知・出力)", "Access log (records, tamper evidence, export)"),
            vec![chain, "export: RFC 5424 syslog, JSON lines, IHE ATNA".to_owned()],
            lang,
        ),
        filled(
            "disclosure.encryption",
            tr(lang, "通信の暗号化", "Encryption in transit"),
            vec![e.tls.versions.join(", "), e.tls.suites.join(", ")],
            lang,
        ),
        filled(
            "disclosure.signature",
            tr(lang, "電子署名・タイムスタンプ", "Electronic signatures and time stamps"),
            vec!["CAdES, XAdES, PAdES (HPKI/JPKI signature certificates), RFC 3161 time stamps".to_owned()],
            lang,
        ),
        filled(
            "disclosure.backup",
            tr(lang, "バックアップと復旧", "Backup and recovery"),
            vec![tr(
                lang,
                "hcpki backup / restore: ダイジェスト付きマニフェスト、復旧時に監査ログを検証",
                "hcpki backup / restore: a manifest of digests, the audit chain verified on restore",
            )],
            lang,
        ),
    ]
}

fn filled(id: &'static str, title: String, evidence: Vec<String>, lang: Lang) -> Item {
    Item {
        id,
        title,
        source: "サービス仕様適合開示書(JAHIS/JIRA 製造業者・サービス事業者による医療情報セキュリティ開示書)",
        status: Status::Met,
        evidence,
        to_do: tr(
            lang,
            "開示書の該当欄に転記し、事業者との契約(責任分界)に添付してください。",
            "Copy into the matching section of the disclosure and attach it to the contract with the vendor (the \
             division of responsibility).",
        ),
    }
}
