//! The consent page the facility's physician and staff see (issue #28): the consent as the patient will sign it,
//! the button that hands it to the card agent (which shows it to the patient in its own window), the
//! physician's attestation for a patient who cannot sign, the refusal; once signed, the staff's identity
//! confirmation and the withdrawal. Japanese first (`lang` switches); every refusal says what to do.

use super::layout::{BodyData, Chrome, Scripts, jst, page, page_with};
use axum::http::StatusCode;
use axum::response::Response;
use hcpki_ca::store::consent::{EvidenceLevel, SignatureEvidence};
use hcpki_html::Lang;
use hcpki_pkix::jpki::BasicFour;
use hcpki_sso::consent::ConsentError;
use hcpki_sso::consent::desk::{ConsentView, DeskError};
use hcpki_sso::consent::life::Phase;
use hcpki_sso::consent::template::ConsentEvidence;
use hcpki_sso::desk::signature::ExtendError;
use hcpki_sso::patient_key::PatientKeyError;
use maud::{Markup, html};

/// The page's script.
pub const SCRIPT_PATH: &str = "/static/consent.js";

/// What the page's script needs beyond the consent.
#[derive(Clone, Copy, Debug)]
pub struct PageContext<'a> {
    /// The local card agent's origin, when card login is configured.
    pub agent: Option<&'a str>,
    /// The card the physician's session was opened with (to lend the reader and see it return).
    pub card: Option<&'a str>,
    /// The session's presence token (D26), handed to the agent again after a lend.
    pub presence: Option<&'a str>,
    /// What the consent's template asks of the patient: a signature, or the 4-digit PIN (D130 item 3).
    pub evidence: ConsentEvidence,
}

fn w(lang: Lang, ja: &'static str, en: &'static str) -> &'static str {
    if lang == Lang::Ja { ja } else { en }
}

/// The refusal reasons the page offers (no free text: a reason is audited, and must not carry personal data).
const REFUSALS: [(&str, &str, &str); 3] = [
    ("declined", "患者さんが同意しなかった", "The patient did not consent"),
    ("no_card", "患者さんがマイナンバーカードを持っていない", "The patient has no My Number card with them"),
    ("other", "その他(今回は同意を取らない)", "Other (no consent this time)"),
];

/// The reason stored for a refusal form's choice.
pub fn refusal_reason(choice: Option<&str>) -> &'static str {
    REFUSALS.iter().find(|(code, ..)| Some(*code) == choice).map_or("other", |(code, ..)| code)
}

/// The words for an attestation without a reason.
pub fn no_reason(lang: Lang) -> &'static str {
    w(lang, "カードで署名できない理由を選んでください。", "Choose why the patient cannot sign with the card.")
}

/// The consent as it stands, with what can be done next.
pub fn consent(lang: Lang, view: &ConsentView, csrf: &str, ctx: PageContext<'_>) -> Response {
    let c = &view.consent;
    let action = format!("/consent/{}", c.id);
    let prepare = format!("/consent/{}/prepare", c.id);
    let body = html! {
        p { strong { (view.service) } (w(lang, " が、患者さんの同意を求めています。", " asks for the patient's consent.")) }
        (state_line(lang, view, ctx.evidence == ConsentEvidence::Authentication))
        section aria-labelledby="statement-title" {
            h2 id="statement-title" { (view.statement.title) }
            dl class="statement" lang="ja" {
                @for item in &view.statement.items { dt { (item.label) } dd class="pre" { (item.text) } }
            }
            p { a href={ (action) "/document?kind=consent" } download { (w(lang, "同意書(PDF)を開く・保存する", "Open or save the consent (PDF)")) } }
        }
        @match view.phase {
            Phase::Requested | Phase::Shown => {
                (patient_signature(lang, view, csrf, &action, &prepare, ctx))
                (attestation(lang, csrf, &action, &prepare, ctx))
                (refusal(lang, csrf, &action))
            }
            Phase::Signed => {
                @if let Some(e) = &c.signature { (evidence(lang, e)) }
                @if c.signature.as_ref().is_some_and(|e| e.level == EvidenceLevel::PatientAuthentication) {
                    p { a href={ (action) "/document?kind=consent" } download { (w(lang, "同意した同意書(PDF)を保存する", "Save the consent agreed to (PDF)")) } }
                    p { a href={ (action) "/document?kind=agreement_proof" } download { (w(lang, "同意の証跡(カードの応答とタイムスタンプ、JSON)を保存する", "Save the proof of consent (the card's answer and time stamp, JSON)")) } }
                } @else {
                    p { a href={ (action) "/document?kind=signed" } download { (w(lang, "署名済みの同意書(PDF)を保存する", "Save the signed consent (PDF)")) } }
                }
                (identity(lang, view, csrf, &action))
                (withdrawal(lang, view, csrf, &action, &prepare, ctx))
            }
            Phase::Withdrawn => {
                @if let Some(e) = &c.signature { (evidence(lang, e)) }
                h2 { (w(lang, "撤回", "Withdrawal")) }
                @if let Some(e) = &c.withdrawal { (evidence(lang, e)) }
                p { a href={ (action) "/document?kind=signed_withdrawal" } download { (w(lang, "署名済みの撤回書(PDF)を保存する", "Save the signed withdrawal (PDF)")) } }
            }
            Phase::Refused | Phase::Expired => {
                p { a href="/" { (w(lang, "ポータルのトップへ", "To the portal's home")) } }
            }
        }
    };
    let title = w(lang, "患者さんの同意(マイナンバーカード)", "Patient consent (My Number card)");
    card_page(lang, StatusCode::OK, title, body, csrf, ctx)
}

/// A page whose forms the script drives with the card agent (when card login is configured: else no script).
pub(super) fn card_page(
    lang: Lang,
    status: StatusCode,
    title: &str,
    body: Markup,
    csrf: &str,
    ctx: PageContext<'_>,
) -> Response {
    match ctx.agent {
        Some(agent) => {
            let data = BodyData {
                agent: Some(agent),
                card: ctx.card,
                csrf: Some(csrf),
                presence: ctx.presence,
                ..BodyData::default()
            };
            page_with(&Chrome::new(lang), status, title, body, Some(Scripts { src: SCRIPT_PATH, agent, data }))
        }
        None => page(lang, status, title, body),
    }
}

/// Where the consent stands, in one sentence.
fn state_line(lang: Lang, view: &ConsentView, by_pin: bool) -> Markup {
    let c = &view.consent;
    let text = match view.phase {
        Phase::Requested | Phase::Shown if by_pin => html! {
            (w(lang, "患者さんの同意待ちです。期限: ", "Waiting for the patient's consent. Give it by: ")) (jst(c.expires_at, lang))
        },
        Phase::Requested | Phase::Shown => html! {
            (w(lang, "署名待ちです。期限: ", "Waiting for the patient's signature. Sign by: ")) (jst(c.expires_at, lang))
        },
        Phase::Signed => html! { (w(lang, "同意が記録されています(有効)。", "The consent is recorded (live).")) },
        Phase::Refused => {
            html! { (w(lang, "同意は得られませんでした(記録済み)。", "No consent was given (recorded).")) }
        }
        Phase::Expired => html! {
            (w(lang, "期限が過ぎました。サービスから新しい同意の依頼を作ってください。",
                "The time ran out: ask for a new consent from the service."))
        },
        Phase::Withdrawn => html! {
            (w(lang, "この同意は撤回されました。以後、この目的での利用はできません。",
                "This consent was withdrawn: it can no longer be relied on."))
        },
    };
    html! { div class="notice" role="status" { p { (text) } } }
}

/// The patient's signature with the My Number card, through the card agent.
fn patient_signature(
    lang: Lang,
    view: &ConsentView,
    csrf: &str,
    action: &str,
    prepare: &str,
    ctx: PageContext<'_>,
) -> Markup {
    let by_pin = ctx.evidence == ConsentEvidence::Authentication;
    html! {
        @if by_pin {
            h2 { (w(lang, "患者さんの同意(暗証番号)", "The patient's consent (PIN)")) }
        } @else {
            h2 { (w(lang, "患者さんの署名", "The patient's signature")) }
        }
        @if ctx.agent.is_some() {
            p { (w(lang, "カードリーダーが 2 台あれば、空いているリーダーに患者さんのマイナンバーカードを置いてください。1 台だけのときは、ボタンを押すと案内に従ってご自身のカードを一時的に抜いていただきます(その間ログインは保たれ、ほかの操作はできません)。",
                "With two card readers, the patient's My Number card goes into the free one. With one reader, press the button and follow the steps: you take your own card out for a while (your sign-in is kept, and nothing else can be done meanwhile).")) }
            @if by_pin {
                p { (w(lang, "この同意は署名ではなく、患者さんが同意書を確かめて利用者証明用の暗証番号(数字 4 桁)を入力することで記録します(サービスの設定による)。",
                    "This consent is recorded without a signature: the patient checks the consent and types the 4-digit PIN of the user-authentication certificate (the service's setting).")) }
                (flow_form(lang, "consent-agree", action, Flow::Agree { prepare, step: "show", post_action: "agree", title: &view.statement.title }, csrf,
                    w(lang, "患者さんのマイナンバーカード(暗証番号 4 桁)で同意を記録する", "Record the consent with the patient's My Number card (4-digit PIN)"), html! {}))
            } @else {
                (flow_form(lang, "consent-sign", action, Flow::Document { prepare, step: "show", kind: "jpki", post_action: "sign", title: &view.statement.title }, csrf,
                    w(lang, "患者さんのマイナンバーカードで署名する", "Sign with the patient's My Number card"), html! {}))
            }
        } @else {
            (no_agent(lang))
        }
    }
}

/// The physician's attestation, the weaker alternative.
fn attestation(lang: Lang, csrf: &str, action: &str, prepare: &str, ctx: PageContext<'_>) -> Markup {
    let reasons = [
        (
            "no_signing_certificate",
            w(
                lang,
                "カードに署名用電子証明書がない(顔認証マイナンバーカードなど)",
                "The card has no signing certificate (e.g. a PIN-less face-authentication card)",
            ),
        ),
        ("password_forgotten", w(lang, "署名用パスワードを忘れた", "The signature password is forgotten")),
        ("key_locked", w(lang, "署名用パスワードがロックされている", "The signature password is locked")),
    ];
    html! {
        details {
            summary { (w(lang, "患者さんがカードで署名できないとき(医師による確認)", "When the patient cannot sign with the card (physician's attestation)")) }
            p { (w(lang, "患者さんに口頭で説明し同意を確かめたうえで、ご自身の HPKI カードの署名用の鍵で「医師による確認」を記録します。この記録は、患者さん本人の電子署名より弱い証拠として、すべての記録と照会に明示されます。",
                "After explaining and hearing the patient's consent, record your attestation with your own HPKI card's signature key. It is marked as weaker evidence than the patient's own signature in every record and answer.")) }
            @if ctx.agent.is_some() {
                (flow_form(lang, "consent-attest", action, Flow::Document { prepare, step: "attestation", kind: "hpki", post_action: "attest",
                    title: w(lang, "同意確認書(医師による確認)", "Physician's attestation of consent") }, csrf,
                    w(lang, "HPKI カードで医師の確認を記録する", "Record the attestation with your HPKI card"), html! {
                    fieldset {
                        legend { (w(lang, "カードで署名できない理由", "Why the card cannot sign")) }
                        @for (i, (code, label)) in reasons.iter().enumerate() {
                            div {
                                input type="radio" name="reason" id={ "reason-" (code) } value=(code) checked[i == 0];
                                label for={ "reason-" (code) } { (label) }
                            }
                        }
                    }
                }))
            } @else {
                (no_agent(lang))
            }
        }
    }
}

/// The refusal, with fixed reasons.
fn refusal(lang: Lang, csrf: &str, action: &str) -> Markup {
    html! {
        form method="post" action=(action) {
            input type="hidden" name="csrf" value=(csrf);
            input type="hidden" name="action" value="refuse";
            label for="refusal-reason" { (w(lang, "同意を取らない理由", "Why no consent is taken")) }
            select id="refusal-reason" name="reason" {
                @for (code, ja, en) in REFUSALS { option value=(code) { (if lang == Lang::Ja { ja } else { en }) } }
            }
            button type="submit" class="danger" { (w(lang, "同意を取らずに終える", "End without consent")) }
        }
    }
}

/// Staff confirm the four items against the facility's records.
fn identity(lang: Lang, view: &ConsentView, csrf: &str, action: &str) -> Markup {
    if let Some(link) = &view.linked {
        return html! {
            h2 { (w(lang, "本人確認", "Identity")) }
            p { (w(lang, "本人確認済みです(カードと患者 ID の対応を記録しました)。確認日時: ", "Identity confirmed (the card is linked to the patient ID). Confirmed at: "))
                (jst(link.confirmed_at, lang)) }
        };
    }
    let Some(four) = &view.unconfirmed_four else { return html! {} };
    html! {
        h2 { (w(lang, "本人確認(職員が行います)", "Identity (for staff)")) }
        @match four {
            Ok(four) => {
                p { (w(lang, "署名用電子証明書の基本 4 情報です。受付の記録(保険証・診察券など)と照合し、一致すれば患者 ID を入力して記録してください。基本 4 情報は保存しません。",
                    "The basic four items of the signing certificate. Compare them with the facility's records; if they match, type the patient ID and record the link. The four items are not stored.")) }
                (four_items(lang, four))
                form method="post" action=(action) {
                    input type="hidden" name="csrf" value=(csrf);
                    input type="hidden" name="action" value="confirm";
                    label for="patient-id" { (w(lang, "患者 ID(この医療機関の ID)", "Patient ID (this facility's)")) }
                    input type="text" id="patient-id" name="patient_id" required autocomplete="off" inputmode="latin" maxlength="64";
                    button type="submit" { (w(lang, "一致を確認して記録する", "Confirm and record the link")) }
                }
            }
            Err(why) => {
                p class="error" role="alert" { (w(lang, "署名用電子証明書の基本 4 情報を読み取れません。別の本人確認書類で確認し、運用担当者に証明書の形式を報告してください。",
                    "The signing certificate's basic four items cannot be read: confirm the identity with another document and report the certificate's profile to the operator.")) }
                p lang="en" { (why) }
            }
        }
    }
}

fn four_items(lang: Lang, four: &BasicFour) -> Markup {
    html! {
        dl class="four-items" lang="ja" {
            dt { (w(lang, "氏名", "Name")) } dd { (four.name()) }
            dt { (w(lang, "生年月日", "Date of birth")) } dd { (four.birth_date().to_japanese()) }
            dt { (w(lang, "性別", "Sex")) } dd { (four.sex().label_ja()) }
            dt { (w(lang, "住所", "Address")) } dd { (four.address()) }
        }
        @if four.has_substitutes() {
            p class="note" { (w(lang, "氏名または住所に代替文字が使われています。券面の表記と異なる場合があります。",
                "The name or address uses substitute characters: it may differ from how the card face writes it.")) }
        }
    }
}

/// The withdrawal, signed with the patient's card as the consent was.
fn withdrawal(lang: Lang, view: &ConsentView, csrf: &str, action: &str, prepare: &str, ctx: PageContext<'_>) -> Markup {
    html! {
        details {
            summary { (w(lang, "同意を撤回する(患者さんの申し出)", "Withdraw the consent (at the patient's request)")) }
            p { (w(lang, "撤回書を患者さんのマイナンバーカードで署名すると、この同意はすぐに終わり、依頼元のサービスに伝わります。",
                "Once the patient signs the withdrawal with the My Number card, the consent ends at once and the service is told.")) }
            @if ctx.agent.is_some() && ctx.evidence == ConsentEvidence::Authentication {
                (flow_form(lang, "consent-withdraw", action, Flow::Agree { prepare, step: "withdrawal", post_action: "agree_withdrawal",
                    title: &format!("同意撤回書({})", view.statement.title) }, csrf,
                    w(lang, "患者さんのカード(暗証番号 4 桁)で撤回を記録する", "Record the withdrawal with the patient's card (4-digit PIN)"), html! {}))
            } @else if ctx.agent.is_some() {
                (flow_form(lang, "consent-withdraw", action, Flow::Document { prepare, step: "withdrawal", kind: "jpki", post_action: "withdraw",
                    title: &format!("同意撤回書({})", view.statement.title) }, csrf,
                    w(lang, "患者さんのカードで撤回書に署名する", "Sign the withdrawal with the patient's card"), html! {}))
            } @else {
                (no_agent(lang))
            }
        }
    }
}

/// What a form the page's script drives does with the card.
#[derive(Clone, Copy, Debug)]
pub enum Flow<'a> {
    /// Prepare the PDF (`prepare`, `step`), have the agent sign it with the card of `kind` (`jpki`: the
    /// patient's signing key and password; `hpki`: the physician's), post it as `post_action`.
    Document { prepare: &'a str, step: &'a str, kind: &'a str, post_action: &'a str, title: &'a str },
    /// Have the patient's My Number card sign the portal's `challenge` with its user-authentication key (the
    /// 4-digit PIN), post the answer.
    Identify { challenge: &'a str },
    /// Prepare the PDF (`prepare`, `step`) with a challenge, have the agent show it and the patient's card agree
    /// with the user-authentication key (the 4-digit PIN, D130 item 3), post the answer as `post_action`.
    Agree { prepare: &'a str, step: &'a str, post_action: &'a str, title: &'a str },
}

/// A form the page's script (`consent.js`) drives, with the words it says at each step and for each of the card
/// agent's failure codes.
pub(super) fn flow_form(
    lang: Lang,
    id: &str,
    action: &str,
    flow: Flow<'_>,
    csrf: &str,
    button: &str,
    extra: Markup,
) -> Markup {
    let (class, preparing, pin, wrong_pin, pin_blocked, last_try) = match flow {
        Flow::Document { .. } => (
            "consent-flow",
            w(lang, "同意書を準備しています…", "Preparing the document…"),
            w(
                lang,
                "カードエージェントの画面を患者さんに見せ、内容を確かめて署名用パスワードを入力してもらってください。",
                "Show the card agent's window to the patient: they check the consent and type the signature password there.",
            ),
            w(
                lang,
                "署名用パスワードが違います。もう一度ボタンを押してやり直してください(残りの回数はカードエージェントの画面に出ます。5 回続けて違うとロックされます)。何も記録していません。",
                "Wrong signature password: press the button to try again (the agent's window shows the tries left; five wrong in a row lock it). Nothing was recorded.",
            ),
            w(
                lang,
                "署名用パスワードがロックされています。市区町村の窓口で解除できます。今日は「医師による確認」で記録することもできます。何も記録していません。",
                "The signature password is locked: the municipal office unlocks it. Today the physician's attestation can be recorded instead. Nothing was recorded.",
            ),
            w(
                lang,
                "残りはあと 1 回です。間違えるとロックされるため、カードエージェントの画面で確認してから入力してください。何も記録していません。",
                "One try is left, and a wrong one locks the password: confirm it in the agent's window before typing. Nothing was recorded.",
            ),
        ),
        Flow::Agree { .. } => (
            "consent-flow",
            w(lang, "同意書を準備しています…", "Preparing the document…"),
            w(
                lang,
                "カードエージェントの画面を患者さんに見せ、内容を確かめて利用者証明用の暗証番号(数字 4 桁)を入力してもらってください。",
                "Show the card agent's window to the patient: they check the document and type the 4-digit PIN of the user-authentication certificate there.",
            ),
            w(
                lang,
                "暗証番号(数字 4 桁)が違います。もう一度ボタンを押してやり直してください(3 回続けて違うとロックされます)。何も記録していません。",
                "Wrong 4-digit PIN: press the button to try again (three wrong in a row lock it). Nothing was recorded.",
            ),
            w(
                lang,
                "暗証番号(数字 4 桁)がロックされています。市区町村の窓口で解除できます。今日は「医師による確認」で記録することもできます。何も記録していません。",
                "The 4-digit PIN is locked: the municipal office unlocks it. Today the physician's attestation can be recorded instead. Nothing was recorded.",
            ),
            w(
                lang,
                "暗証番号の残りはあと 1 回です。間違えるとロックされるため、カードエージェントの画面で確認してから入力してください。何も記録していません。",
                "One PIN try is left, and a wrong one locks it: confirm it in the agent's window before typing. Nothing was recorded.",
            ),
        ),
        Flow::Identify { .. } => (
            "identify-flow",
            w(lang, "確認の準備をしています…", "Preparing the check…"),
            w(
                lang,
                "カードエージェントの画面で、患者さんに利用者証明用の暗証番号(数字 4 桁)を入力してもらってください。",
                "In the card agent's window, the patient types the 4-digit PIN of the user-authentication certificate.",
            ),
            w(
                lang,
                "暗証番号(数字 4 桁)が違います。もう一度ボタンを押してやり直してください(3 回続けて違うとロックされます)。何も記録していません。",
                "Wrong 4-digit PIN: press the button to try again (three wrong in a row lock it). Nothing was recorded.",
            ),
            w(
                lang,
                "暗証番号(数字 4 桁)がロックされています。市区町村の窓口で解除できます。今日は受付の記録と本人確認書類で確認してください。",
                "The 4-digit PIN is locked: the municipal office unlocks it. Today, check the identity with the facility's records and an identity document.",
            ),
            w(
                lang,
                "暗証番号の残りはあと 1 回です。間違えるとロックされるため、今日は受付の記録と本人確認書類で確認してください。何も記録していません。",
                "One PIN try is left, and a wrong one locks it: today, check the identity with the facility's records and an identity document. Nothing was recorded.",
            ),
        ),
    };
    let (prepare, step, kind, post_action, title, challenge) = match flow {
        Flow::Document { prepare, step, kind, post_action, title } => {
            (Some(prepare), Some(step), kind, Some(post_action), Some(title), None)
        }
        Flow::Agree { prepare, step, post_action, title } => {
            (Some(prepare), Some(step), "jpki", Some(post_action), Some(title), None)
        }
        Flow::Identify { challenge } => (None, None, "jpki", None, None, Some(challenge)),
    };
    // The answer of an authentication key (an identification, an agreement) is a challenge's signature and chain.
    let answers_challenge = matches!(flow, Flow::Identify { .. } | Flow::Agree { .. });
    let role = matches!(flow, Flow::Agree { .. }).then_some("auth");
    html! {
        form id=(id) class=(class) method="post" action=(action) data-prepare=[prepare] data-step=[step]
            data-kind=(kind) data-role=[role] data-title=[title] data-challenge=[challenge]
            data-say-preparing=(preparing)
            data-say-lend=(w(lang, "ご自身のカードをカードリーダーから抜き、患者さんのマイナンバーカードを置いてください。ログインは保たれます。",
                "Take your own card out of the reader and put the patient's My Number card in. Your sign-in is kept."))
            data-say-insert=(w(lang, "患者さんのマイナンバーカードを空いているカードリーダーに置いてください。",
                "Put the patient's My Number card into the free card reader."))
            data-say-pin=(pin)
            data-say-pin-hpki=(w(lang, "カードエージェントの画面で内容を確かめ、署名用の暗証番号を入力してください。",
                "Check the document in the card agent's window and enter your signature PIN there."))
            data-say-return=(w(lang, "カードの操作が終わりました。患者さんにカードを返し、ご自身のカードをカードリーダーに戻してください。",
                "The card is done. Give the patient their card back and put your own card back into the reader."))
            data-say-verifying=(w(lang, "カードの署名を確認しています…", "Checking the card's signature…"))
            data-say-cancelled=(w(lang, "カードの操作は取り消されました。何も記録していません。もう一度行うにはボタンを押してください。",
                "The card operation was cancelled; nothing was recorded. Press the button to try again."))
            data-say-no-agent=(w(lang, "カードエージェントが応答しません。起動してから、もう一度ボタンを押してください。",
                "The card agent does not answer. Start it, then press the button again."))
            data-say-no-patient=(w(lang, "先に患者 ID を入力してください。", "Type the patient ID first."))
            data-say-wrong-card=(w(lang, "カードリーダーにあるのは別の種類のカードです。使うカードに入れ替えて、もう一度ボタンを押してください。何も記録していません。",
                "The reader holds a card of the other kind: put in the card to use and press the button again. Nothing was recorded."))
            data-say-several-cards=(w(lang, "マイナンバーカードが 2 枚以上カードリーダーにあります。使う方のカードだけを残して、もう一度ボタンを押してください。何も記録していません。",
                "More than one My Number card is in the readers: leave only the one to use and press the button again. Nothing was recorded."))
            data-say-card-removed=(w(lang, "カードの操作の途中でカードが抜かれました。カードを置き直して、もう一度ボタンを押してください。何も記録していません。",
                "The card was taken out during the operation: put it back and press the button again. Nothing was recorded."))
            data-say-no-card=(w(lang, "カードが見つかりません。カードリーダーに置いてから、もう一度ボタンを押してください。",
                "No card was found: put it into the reader and press the button again."))
            data-say-pin-blocked=(pin_blocked)
            data-say-wrong-pin=(wrong_pin)
            data-say-last-try-not-confirmed=(last_try)
            data-say-pin-timeout=(w(lang, "暗証番号・パスワードが入力されないまま時間が過ぎました。もう一度ボタンを押してください。何も記録していません。",
                "No PIN or password was typed in time: press the button again. Nothing was recorded.")) {
            input type="hidden" name="csrf" value=(csrf);
            @if let Some(post_action) = post_action { input type="hidden" name="action" value=(post_action); }
            input type="hidden" name="signature" value="";
            @if answers_challenge {
                input type="hidden" name="challenge" value="";
                input type="hidden" name="chain" value="";
            } @else if kind == "jpki" {
                input type="hidden" name="authentication_certificate" value="";
            }
            (extra)
            p class="flow-status" role="status" aria-live="polite" {}
            button type="button" class="flow-button" hidden { (button) }
            noscript { p { (w(lang, "カードの操作には JavaScript とカードエージェントが必要です。", "The card needs JavaScript and the card agent.")) } }
        }
    }
}

pub(super) fn no_agent(lang: Lang) -> Markup {
    html! {
        p class="error" role="alert" { (w(lang, "このポータルではカードによるログインが設定されていないため、カードで署名できません。システム管理者に連絡してください。",
            "Card sign-in is not configured on this portal, so no card can sign here: contact the administrator.")) }
    }
}

/// A signature's evidence, the level first.
fn evidence(lang: Lang, e: &SignatureEvidence) -> Markup {
    let level = match e.level {
        EvidenceLevel::PatientSignature => w(
            lang,
            "患者さん本人の電子署名(マイナンバーカードの署名用電子証明書)",
            "The patient's own signature (My Number card signing certificate)",
        ),
        EvidenceLevel::PhysicianAttestation => w(
            lang,
            "医師による確認(患者さん本人の署名より弱い証拠)",
            "Physician's attestation (weaker than the patient's own signature)",
        ),
        EvidenceLevel::PatientAuthentication => w(
            lang,
            "患者さん本人の暗証番号による同意(利用者証明用電子証明書。電子署名ではありません)",
            "The patient's consent with the PIN (user-authentication certificate; not a signature)",
        ),
    };
    let format = match e.level {
        EvidenceLevel::PatientAuthentication => {
            w(lang, "カードによる認証(タイムスタンプ付き)", "Card authentication (time-stamped)").to_owned()
        }
        _ => format!("{} {}", e.format.to_uppercase(), e.signature_level.to_uppercase()),
    };
    html! {
        dl {
            dt { (w(lang, "証拠の種類", "Evidence")) } dd { (level) }
            dt { (w(lang, "タイムスタンプの時刻", "Time-stamp time")) } dd { (jst(e.time_stamp_at, lang)) }
            dt { (w(lang, "署名の形式", "Format")) } dd { (format) }
            dt { (w(lang, "署名証明書の SHA-256", "Signer certificate SHA-256")) } dd { code class="wrap" { (e.signer_sha256) } }
        }
    }
}

/// What a refusal says and its status.
pub fn refusal_words(lang: Lang, e: &DeskError) -> (StatusCode, String) {
    let s = |ja: &'static str, en: &'static str| w(lang, ja, en).to_owned();
    match e {
        DeskError::NotYours => (
            StatusCode::FORBIDDEN,
            s(
                "この同意は、ほかの医師またはほかの医療機関で求められたものです。依頼した医療機関でサービスから開いてください。",
                "This consent was asked for by another physician or at another facility: open it from the service where it was asked.",
            ),
        ),
        DeskError::Consent(ConsentError::Unknown(_)) => (
            StatusCode::NOT_FOUND,
            s(
                "この同意の依頼は見つかりません(署名されなかった依頼は期限の 30 日後に削除されます)。サービスから新しい依頼を作ってください。",
                "This consent request does not exist (unsigned requests are removed 30 days after their deadline): ask for a new one from the service.",
            ),
        ),
        DeskError::Consent(ConsentError::Expired { .. }) => (
            StatusCode::GONE,
            s(
                "この依頼の期限が過ぎました。何も記録していません。サービスから新しい同意の依頼を作ってください。",
                "This request's time ran out; nothing was recorded. Ask for a new consent from the service.",
            ),
        ),
        DeskError::Consent(ConsentError::AlreadyConsented(_)) => (
            StatusCode::CONFLICT,
            s(
                "この患者さんには、同じサービス・同じ目的の有効な同意がすでにあります。新しい同意は記録していません。",
                "The patient already has a live consent for this service and purpose; the new one was not recorded.",
            ),
        ),
        DeskError::Consent(ConsentError::PatientKey(PatientKeyError::PatientId(_))) => (
            StatusCode::BAD_REQUEST,
            s(
                "患者 ID の形式が正しくありません。半角英数字で、受付の記録どおりに入力してください。何も記録していません。",
                "The patient ID is not well formed: type it in half-width letters and digits, exactly as the records hold it. Nothing was recorded.",
            ),
        ),
        DeskError::Consent(ConsentError::CardLinkedElsewhere) => (
            StatusCode::CONFLICT,
            s(
                "このカードは、この医療機関の別の患者 ID に対応づけられています。患者 ID を確かめるか、先にその患者さんの対応を訂正してください。何も記録していません。",
                "This card is linked to another patient ID at this facility: check the ID, or correct that patient's link first. Nothing was recorded.",
            ),
        ),
        DeskError::Consent(
            other @ (ConsentError::Ended { .. }
            | ConsentError::NotShown(_)
            | ConsentError::NotSigned(_)
            | ConsentError::AlreadyShown(_)
            | ConsentError::Raced(..)
            | ConsentError::StampOutsideWindow { .. }),
        ) => (
            StatusCode::CONFLICT,
            format!(
                "{}{other}",
                w(
                    lang,
                    "この操作はいまの状態ではできません。ページを開き直してください。 ",
                    "This cannot be done in the consent's present state; reload the page. "
                )
            ),
        ),
        DeskError::Consent(ConsentError::NoTemplate { .. }) => (
            StatusCode::SERVICE_UNAVAILABLE,
            s(
                "このサービスと目的の同意書のひな形が設定されていません。システム管理者に連絡してください。",
                "No consent template is configured for this service and purpose: contact the administrator.",
            ),
        ),
        DeskError::PatientMismatch => (
            StatusCode::CONFLICT,
            s(
                "入力された患者 ID は、この同意の患者さんのものではありません。受付の記録を確かめて、もう一度入力してください。何も記録していません。",
                "The patient ID typed is not this consent's patient: check the facility's records and type it again. Nothing was recorded.",
            ),
        ),
        DeskError::OtherPatient => (
            StatusCode::FORBIDDEN,
            s(
                "撤回書は、同意したときと別のカードで署名されています。患者さんご本人のカードで署名してください(住所変更などでカードが変わったときは、先に本人確認をやり直してください)。撤回は記録していません。",
                "The withdrawal was signed with another card than the one that consented: have the patient sign with their own card (after an address change, confirm the new card's identity first). Nothing was recorded.",
            ),
        ),
        DeskError::PatientCertificate(words) => (StatusCode::FORBIDDEN, words.clone()),
        DeskError::NotThePhysician(_) => (
            StatusCode::FORBIDDEN,
            s(
                "確認の署名が、ログインしている医師のものではありません。ログインに使ったご自身の HPKI カードで署名してください。何も記録していません。",
                "The attestation was not signed by the signed-in physician: sign with your own HPKI card, the one you signed in with. Nothing was recorded.",
            ),
        ),
        DeskError::BadSignature(_) => (
            StatusCode::BAD_REQUEST,
            s(
                "カードの署名を確認できなかったため、何も記録していません。ページを開き直し、もう一度署名してください。",
                "The card's signature could not be checked, so nothing was recorded: reload the page and sign again.",
            ),
        ),
        DeskError::Extend(ExtendError::NoTimeStamp(_)) => (
            StatusCode::SERVICE_UNAVAILABLE,
            s(
                "時刻認証局からタイムスタンプを得られなかったため、何も記録していません(依頼は残っています)。しばらくしてからもう一度署名するか、システム管理者に連絡してください。",
                "No time-stamping authority gave a time stamp, so nothing was recorded (the request stays open): sign again later, or contact the administrator.",
            ),
        ),
        DeskError::Extend(ExtendError::NoValidationData(_)) => (
            StatusCode::SERVICE_UNAVAILABLE,
            s(
                "署名用電子証明書の失効情報(CRL)がこのポータルにないため、長期署名(B-LT)を作れず、何も記録していません(依頼は残っています)。システム管理者に連絡してください。",
                "The signing certificate's revocation data (CRL) is not on this portal, so the long-term signature (B-LT) could not be made and nothing was recorded (the request stays open): contact the administrator.",
            ),
        ),
        DeskError::NoTrustAnchors => (
            StatusCode::SERVICE_UNAVAILABLE,
            s(
                "このポータルにはカードの信頼点が設定されていないため、署名を確かめられません。システム管理者に連絡してください。",
                "This portal has no card trust anchors, so it cannot check signatures: contact the administrator.",
            ),
        ),
        DeskError::Card(_) => (
            StatusCode::BAD_REQUEST,
            s(
                "カードの応答を確認できなかったため、何も記録していません(カードの証明書が有効でないか失効している、確認の期限が過ぎた、または同意書を表示せずに作られた応答です)。ページを開き直し、もう一度ボタンを押してください。",
                "The card's answer could not be checked, so nothing was recorded (the card's certificate is not valid or is revoked, the check took too long, or the answer was not made over the consent shown): reload the page and press the button again.",
            ),
        ),
        DeskError::NotAMyNumberCard => (
            StatusCode::BAD_REQUEST,
            s(
                "使われたカードはマイナンバーカードではありません。患者さんのマイナンバーカードをカードリーダーに置いて、もう一度ボタンを押してください。何も記録していません。",
                "The card used is not a My Number card: put the patient's My Number card in the reader and press the button again. Nothing was recorded.",
            ),
        ),
        DeskError::NeedsSignature => (
            StatusCode::CONFLICT,
            s(
                "この同意は、患者さんの署名(署名用パスワード)で記録するよう設定されています。暗証番号 4 桁では記録できません。ページを開き直し、署名のボタンを使ってください。何も記録していません。",
                "This consent is set up to be recorded with the patient's signature (signing password), not the 4-digit PIN: reload the page and use the signature button. Nothing was recorded.",
            ),
        ),
        DeskError::NoDocument => (
            StatusCode::GONE,
            s(
                "この同意の文書はもう保存されていません。サービスから新しい同意の依頼を作ってください。",
                "This consent's document is no longer kept: ask for a new consent from the service.",
            ),
        ),
        _ => (
            StatusCode::SERVICE_UNAVAILABLE,
            s(
                "いまは処理できません。しばらくしてからもう一度お試しください。",
                "This cannot be done now: try again later.",
            ),
        ),
    }
}
