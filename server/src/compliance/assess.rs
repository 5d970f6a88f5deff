//! From evidence to the report: a pure function. Each item names its source (the guideline's chapter or Q&A,
//! the checklist's wording), says whether this installation meets it, shows the evidence, and says what the
//! facility must still do itself. `docs/compliance.md` explains every item and its sources.

use super::evidence::{
    AuditChain, BACKUP_WINDOW_DAYS, Backup, BackupDatabase, EXPIRY_WINDOW_DAYS, Evidence, LOGIN_WINDOW_DAYS,
    SigningSessions,
};
use super::item::{Item, Status, tr};
use hcpki_html::Lang;
use serde::Serialize;

/// The report: the guideline's and checklist's items, the vendor disclosure's, and the evidence behind them.
#[derive(Clone, Debug, Serialize)]
pub struct Report {
    /// `ja` or `en`.
    pub lang: &'static str,
    /// The guideline's and the checklist's items.
    pub items: Vec<Item>,
    /// The vendor disclosure (サービス仕様適合開示書) items hcpki fills.
    pub disclosure: Vec<Item>,
    /// The typed evidence, as gathered.
    pub evidence: Evidence,
}

/// The report on `evidence`, in `lang`.
pub fn assess(evidence: Evidence, lang: Lang) -> Report {
    let e = &evidence;
    let items = vec![
        two_factor(e, lang),
        second_factor_enrolment(e, lang),
        card_with_pin(e, lang),
        sessions(e, lang),
        passwords(e, lang),
        administrators(e, lang),
        audit_log(e, lang),
        backup(e, lang),
        tls(e, lang),
        certificates(e, lang),
        signing_sessions(e, lang),
        organisation(lang),
    ];
    let disclosure = super::disclosure::items(e, lang);
    Report { lang: lang.code(), items, disclosure, evidence }
}

fn two_factor(e: &Evidence, lang: Lang) -> Item {
    let l = &e.logins;
    let single = l.total - l.two_factor;
    let status = match (l.total, single) {
        (0, _) => Status::Unknown,
        (_, 0) => Status::Met,
        _ => Status::NotMet,
    };
    let share = l.percent().map_or_else(|| "-".to_owned(), |p| format!("{p:.1}%"));
    let mut evidence = vec![match lang {
        Lang::Ja => {
            format!("過去{LOGIN_WINDOW_DAYS}日間のログイン {} 件のうち二要素 {} 件({share})", l.total, l.two_factor)
        }
        Lang::En => format!(
            "{} of {} sign-ins over the last {LOGIN_WINDOW_DAYS} days used two factors ({share})",
            l.two_factor, l.total
        ),
    }];
    evidence.extend(l.by_credential.iter().map(|(c, n)| format!("{c}: {n}")));
    if !l.complete {
        evidence.push(tr(
            lang,
            "監査ログの読み取り上限に達したため、期間の新しい部分だけを数えています",
            "the audit log scan reached its limit: only the newest part of the window is counted",
        ));
    }
    Item {
        id: "auth.two-factor",
        title: tr(lang, "二要素認証によるログイン", "Sign-in with two factors"),
        source: "ガイドライン6.0 システム運用編 14章; 令和7年度チェックリスト「二要素認証」",
        status,
        evidence,
        to_do: tr(
            lang,
            "hcpki を通さない院内システム(電子カルテ等)も、令和9年度以降の導入・更新時に二要素認証にしてください。",
            "Systems that do not sign in through hcpki (e.g. the EHR) need two factors too when installed or renewed \
             from FY2027.",
        ),
    }
}

fn second_factor_enrolment(e: &Evidence, lang: Lang) -> Item {
    let a = &e.accounts;
    let missing = a.without_second_factor.len();
    let mut evidence = vec![match lang {
        Lang::Ja => format!("有効なパスワード+TOTP アカウント {} 件、第二要素未登録 {missing} 件", a.active),
        Lang::En => {
            format!("{} active password + TOTP accounts, {missing} without a confirmed second factor", a.active)
        }
    }];
    evidence.extend(a.without_second_factor.iter().cloned());
    Item {
        id: "auth.second-factor-enrolment",
        title: tr(lang, "第二要素を持たないアカウントがない", "No account without a second factor"),
        source: "ガイドライン6.0 システム運用編 14章; 令和7年度チェックリスト「不要なアカウントの削除」",
        status: if missing == 0 { Status::Met } else { Status::NotMet },
        evidence,
        to_do: tr(
            lang,
            "一覧のアカウントの本人に、施設の PC でワンタイムコードを空欄にしてログインし、案内に従って認証アプリを設定してもらってください([portal] second_factor_deadline と猶予期間まで。過ぎたら hcpki portal user reset-second-factor で新しいキーを手渡し)。使っていなければ無効にしてください(hcpki portal user disable)。退職者のアカウントは速やかに無効にしてください。",
            "Have each listed person sign in at a facility PC with the one-time code left empty and follow the set-up \
             of an authenticator app (until [portal] second_factor_deadline and its grace; after it, hand over a new \
             key with hcpki portal user reset-second-factor), or disable the account if unused (hcpki portal user \
             disable). Disable leavers' accounts promptly.",
        ),
    }
}

fn card_with_pin(e: &Evidence, lang: Lang) -> Item {
    let cards = e.logins.by_credential.get("card").copied().unwrap_or(0);
    Item {
        id: "auth.card-with-pin",
        title: tr(lang, "IC カードは PIN と組み合わせてのみ使う", "An IC card never authenticates or signs alone"),
        source: "ガイドライン6.0 Q&A シQ-49; システム運用編 14章 遵守事項③",
        status: Status::Met,
        evidence: vec![match lang {
            Lang::Ja => {
                format!("カードのログインは必ず PIN による署名で行われます(過去{LOGIN_WINDOW_DAYS}日間 {cards} 件)")
            }
            Lang::En => {
                format!(
                    "every card sign-in is a signature after the PIN ({cards} over the last {LOGIN_WINDOW_DAYS} days)"
                )
            }
        }],
        to_do: tr(
            lang,
            "カードの配布・紛失時の手順と、カードが使えないときの一時的な代替手段の規則を文書にしてください。",
            "Write down how cards are handed out and reported lost, and the temporary fallback rule for when a card \
             cannot be used.",
        ),
    }
}

fn sessions(e: &Evidence, lang: Lang) -> Item {
    let s = &e.sessions;
    let met = s.portal_idle_minutes > 0 && s.bound_to_terminal;
    let idle = if s.portal_idle_minutes == 0 { tr(lang, "なし", "off") } else { s.portal_idle_minutes.to_string() };
    Item {
        id: "auth.session-limits",
        title: tr(
            lang,
            "長時間放置されたログインを残さず、他の端末にログイン状態を持ち越さない",
            "No session left open for long, none carried to another terminal",
        ),
        source: "ガイドライン6.0 Q&A(シングルサインオン); システム運用編 14章",
        status: if met { Status::Met } else { Status::NotMet },
        evidence: match lang {
            Lang::Ja => vec![
                format!("ポータル: 無操作ロック {idle} 分、最長 {} 時間", s.portal_absolute_hours),
                format!("管理コンソール: 無操作 {} 分、最長 {} 時間", s.console_idle_minutes, s.console_absolute_hours),
                format!(
                    "セッションは作成した PC とブラウザに結び付け: {}",
                    if s.bound_to_terminal { "はい" } else { "いいえ" }
                ),
            ],
            Lang::En => vec![
                format!("portal: idle lock {idle} min, absolute limit {} h", s.portal_absolute_hours),
                format!("console: idle {} min, absolute {} h", s.console_idle_minutes, s.console_absolute_hours),
                format!("sessions bound to the PC and browser they were made on: {}", s.bound_to_terminal),
            ],
        },
        to_do: tr(
            lang,
            "離席時の画面ロック(クリアスクリーン)を端末の設定で行ってください。無操作ロックが「なし」なら [portal] idle_minutes を設定してください。",
            "Lock screens when staff leave the PC (the PCs' own settings). If the idle lock is off, set [portal] \
             idle_minutes.",
        ),
    }
}

fn passwords(e: &Evidence, lang: Lang) -> Item {
    let p = &e.passwords;
    let met = p.totp_required && !p.forced_rotation;
    Item {
        id: "auth.passwords",
        title: tr(lang, "パスワードの規則", "Password rules"),
        source: "ガイドライン6.0 システム運用編 14章 遵守事項②",
        status: if met { Status::Met } else { Status::NotMet },
        evidence: match lang {
            Lang::Ja => vec![
                format!("最小 {} 文字", p.min_chars),
                format!("毎回 TOTP が必要: {}", if p.totp_required { "はい" } else { "いいえ" }),
                format!("定期的な強制変更: {}", if p.forced_rotation { "あり" } else { "なし" }),
            ],
            Lang::En => vec![
                format!("at least {} characters", p.min_chars),
                format!("TOTP code at every sign-in: {}", p.totp_required),
                format!("forced periodic change: {}", p.forced_rotation),
            ],
        },
        to_do: tr(
            lang,
            "利用者認証の手順を規則・マニュアルに文書化し、パスワードを本人しか知らない状態に保つよう周知してください。",
            "Document the sign-in procedures in your rules and manuals, and tell staff to keep passwords to \
             themselves.",
        ),
    }
}

fn administrators(e: &Evidence, lang: Lang) -> Item {
    let evidence = e
        .admins
        .iter()
        .map(|a| {
            let facility = a.facility.as_ref().map(|f| format!(" {f}")).unwrap_or_default();
            let note = if a.note.is_empty() { String::new() } else { format!(" ({})", a.note) };
            format!("{}{facility}: {}{note} [{}]", a.role, a.who, a.basis)
        })
        .collect();
    Item {
        id: "access.administrators",
        title: tr(lang, "管理者権限を持つ人", "Who holds administrator roles"),
        source: "ガイドライン6.0 システム運用編 14章 遵守事項④; 令和7年度チェックリスト「アクセス権限の設定」",
        status: Status::FacilityDuty,
        evidence,
        to_do: tr(
            lang,
            "一覧を職員名簿と照らし、申請と承認の記録があるか、退職・異動した人が残っていないかを確認してください。",
            "Check the list against your staff register: each grant requested and approved, nobody who left or moved \
             still on it.",
        ),
    }
}

fn audit_log(e: &Evidence, lang: Lang) -> Item {
    let (status, evidence) = match &e.audit_chain {
        AuditChain::Intact { entries, head } => (
            Status::Met,
            match lang {
                Lang::Ja => format!("監査ログのハッシュ連鎖を検証: 改ざんなし、{entries} 件、先頭 {entries}:{head}"),
                Lang::En => format!("audit hash chain verified: intact, {entries} entries, head {entries}:{head}"),
            },
        ),
        AuditChain::Tampered { why } => (
            Status::NotMet,
            match lang {
                Lang::Ja => format!("監査ログのハッシュ連鎖が一致しません{why}"),
                Lang::En => format!("the audit hash chain does not verify{why}"),
            },
        ),
    };
    Item {
        id: "log.audit-chain",
        title: tr(lang, "アクセスログの記録と改ざん防止", "Access log kept and tamper-evident"),
        source: "ガイドライン6.0 システム運用編(アクセスログ); 令和7年度チェックリスト「アクセスログの管理」",
        status,
        evidence: vec![evidence],
        to_do: tr(
            lang,
            "ログを定期的に確認する担当と頻度を決め、確認した記録を残してください(コンソールの監査ログ、hcpki audit export)。",
            "Name who reviews the log and how often, and keep a record of each review (the console's audit log, \
             hcpki audit export).",
        ),
    }
}

fn backup(e: &Evidence, lang: Lang) -> Item {
    let (status, mut evidence) = match &e.backup {
        Backup::NoneRecorded => {
            (Status::NotMet, vec![tr(lang, "記録されたバックアップはありません", "no backup recorded")])
        }
        Backup::Last { taken_at, taken_by, location, audit_head_seq, includes_secrets, .. } => {
            let days = (e.generated_at - taken_at).div_euclid(86_400);
            let when = hcpki_pkix::time::rfc3339(*taken_at);
            let secrets = match (lang, includes_secrets) {
                (Lang::Ja, true) => "secrets/ を含む",
                (Lang::Ja, false) => "secrets/ は含まない(別の保管場所が必要)",
                (Lang::En, true) => "secrets/ included",
                (Lang::En, false) => "secrets/ not included (keep them in your secret store)",
            };
            let line = match lang {
                Lang::Ja => format!(
                    "最後のバックアップ: {when}({days}日前、{taken_by})、{location}、監査ログ {audit_head_seq} 件目まで、{secrets}"
                ),
                Lang::En => format!(
                    "last backup: {when} ({days} days ago, by {taken_by}) at {location}, audit log up to entry \
                     {audit_head_seq}, {secrets}"
                ),
            };
            (if days <= BACKUP_WINDOW_DAYS { Status::Met } else { Status::NotMet }, vec![line])
        }
    };
    if let Backup::Last { database: BackupDatabase::Postgresql, .. } = e.backup {
        evidence.push(tr(
            lang,
            "データベースは PostgreSQL: その都度 pg_dump(または pg_basebackup と WAL アーカイブ)で保存し、このバックアップと一緒に保管してください",
            "the database is PostgreSQL: dump it each time with pg_dump (or rely on pg_basebackup and WAL archiving) \
             and keep the dump with this backup",
        ));
    }
    let to_do = match lang {
        Lang::Ja => format!(
            "hcpki backup を少なくとも{BACKUP_WINDOW_DAYS}日ごとに実行し(記録はこの報告に出ます)、少なくとも一つはネットワークから切り離して保管してください。hcpki restore で復旧を定期的に試験してください。"
        ),
        Lang::En => format!(
            "Run hcpki backup at least every {BACKUP_WINDOW_DAYS} days (each one is recorded and shown here) and keep at \
             least one copy off the network. Test recovery with hcpki restore regularly."
        ),
    };
    Item {
        id: "ops.backup",
        title: tr(lang, "バックアップと復旧手順", "Backups and the restore procedure"),
        source: "ガイドライン6.0 システム運用編(バックアップ); 令和7年度チェックリスト「バックアップの実施と復旧手順の確認」",
        status,
        evidence,
        to_do,
    }
}

fn tls(e: &Evidence, lang: Lang) -> Item {
    let t = &e.tls;
    Item {
        id: "net.tls",
        title: tr(lang, "通信の暗号化(TLS)", "Encrypted connections (TLS)"),
        source: "ガイドライン6.0 システム運用編(ネットワーク); CRYPTREC TLS 暗号設定ガイドライン(高セキュリティ型)",
        status: Status::Met,
        evidence: vec![t.versions.join(", "), t.suites.join(", "), t.groups.join(", ")],
        to_do: tr(
            lang,
            "施設側のネットワーク(ルーター、IPsec、端末の OS 更新)は医療機関の管理です。",
            "The facility's own network (routers, IPsec, the PCs' updates) stays the facility's to manage.",
        ),
    }
}

fn certificates(e: &Evidence, lang: Lang) -> Item {
    let evidence = if e.expiring.is_empty() {
        vec![match lang {
            Lang::Ja => format!("{EXPIRY_WINDOW_DAYS}日以内に期限が切れる証明書はありません"),
            Lang::En => format!("no certificate expires within {EXPIRY_WINDOW_DAYS} days"),
        }]
    } else {
        e.expiring
            .iter()
            .map(|c| {
                let f = c.facility.as_ref().map(|f| format!(" {f}")).unwrap_or_default();
                format!("{} {}{f} {} notAfter={}", c.serial, c.profile, c.subject, c.not_after)
            })
            .collect()
    };
    Item {
        id: "pki.expiring",
        title: match lang {
            Lang::Ja => format!("{EXPIRY_WINDOW_DAYS}日以内に期限が切れる証明書"),
            Lang::En => format!("Certificates expiring within {EXPIRY_WINDOW_DAYS} days"),
        },
        source: "ガイドライン6.0 システム運用編(電子署名・証明書の管理)",
        status: if e.expiring.is_empty() { Status::Met } else { Status::FacilityDuty },
        evidence,
        to_do: tr(
            lang,
            "一覧の機器の証明書を期限前に更新してください(EST/SCEP/ACME の自動更新か、コンソールの再発行)。",
            "Renew the listed devices' certificates before they expire (EST/SCEP/ACME renewal or the console's \
             re-issue).",
        ),
    }
}

fn signing_sessions(e: &Evidence, lang: Lang) -> Item {
    let evidence = match &e.signing_sessions {
        SigningSessions::AgentLimits { max_signatures, max_hours, facilities_lower } => {
            let mut lines = vec![match lang {
                Lang::Ja => format!(
                    "カードエージェントの上限: 署名用 PIN 1回のあと最大 {max_signatures} 件、{max_hours} 時間まで(各署名はエージェントの画面で本人が確定)"
                ),
                Lang::En => format!(
                    "the card agent's limits: at most {max_signatures} signatures within {max_hours} hours after one \
                     signature PIN (each confirmed by the signer on the agent's page)"
                ),
            }];
            if let Some(n) = facilities_lower {
                lines.push(match lang {
                    Lang::Ja => format!("独自の低い上限を設定した施設: {n}"),
                    Lang::En => format!("facilities with their own lower limit: {n}"),
                });
            }
            lines
        }
        SigningSessions::FacilityLimit { max_signatures: 0, .. }
        | SigningSessions::FacilityLimit { max_hours: 0, .. } => {
            vec![tr(
                lang,
                "この施設では署名セッションを無効にしています: 署名ごとに PIN を求めます",
                "signing sessions are off at this facility: every signature asks for the PIN",
            )]
        }
        SigningSessions::FacilityLimit { max_signatures, max_hours, set_by, set_at } => {
            let when = hcpki_pkix::time::rfc3339(*set_at);
            vec![match lang {
                Lang::Ja => format!(
                    "施設の上限: 署名用 PIN 1回のあと最大 {max_signatures} 件、{max_hours} 時間まで({set_by} が {when} に設定)"
                ),
                Lang::En => format!(
                    "the facility's limit: at most {max_signatures} signatures within {max_hours} hours after one \
                     signature PIN (set by {set_by} at {when})"
                ),
            }]
        }
    };
    Item {
        id: "sign.sessions",
        title: tr(
            lang,
            "署名セッション(1回の PIN 入力で複数署名)",
            "Signing sessions (several signatures after one PIN)",
        ),
        source: "ガイドライン6.0 Q&A シQ-49",
        status: Status::Met,
        evidence,
        to_do: tr(
            lang,
            "署名用カードを本人以外に使わせない運用(離席時のカード抜去、PC のロック)を規則にしてください。上限は hcpki facility signing-limit で下げられます。",
            "Make it a rule that nobody but the holder uses a signature card (pull the card and lock the PC when \
             leaving it). Lower the limits with hcpki facility signing-limit.",
        ),
    }
}

fn organisation(lang: Lang) -> Item {
    Item {
        id: "org.responsibility",
        title: tr(
            lang,
            "医療情報システム安全管理責任者と、インシデント時の連絡体制",
            "A security officer for medical information systems, and the incident contact chart",
        ),
        source: "ガイドライン6.0 経営管理編; 令和7年度チェックリスト「体制構築」「インシデント発生に備えた対応」",
        status: Status::FacilityDuty,
        evidence: vec![tr(
            lang,
            "hcpki は施設ごとのセキュリティ責任者を記録できます(管理 API の security-officer)",
            "hcpki can record each facility's security officer (the admin API's security-officer)",
        )],
        to_do: tr(
            lang,
            "責任者を任命し、事業者を含む連絡体制図を作り、年に一度は訓練してください。",
            "Appoint the officer, draw the contact chart including your vendors, and rehearse it once a year.",
        ),
    }
}

#[cfg(test)]
mod tests;
