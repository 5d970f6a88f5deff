//! The words of the patient's consent page (issue #28), in Japanese (the default) and English: short sentences
//! meant for a patient, not a physician ("パスワード", not "PIN"); the physician's attestation has its own. One
//! table, so a message missing in either language does not compile (as `words`).

use hcpki_html::Lang;

hcpki_html::messages! {
    KickerConsent => "同意書への署名", "Signing a consent form";
    KickerWithdrawal => "同意の撤回（撤回書への署名）", "Withdrawing a consent (signing a withdrawal form)";
    KickerAttestation => "医師による同意の証明", "A physician's attestation of consent";
    LeadConsent => "同意書の内容をご確認ください", "Please read the consent form";
    LeadWithdrawal => "撤回書の内容をご確認ください", "Please read the withdrawal form";
    LeadAttestation => "患者さんが同意した内容を確認してください", "Check what the patient consents to";
    StatementLabel => "署名する文書の内容", "What you sign";
    Reference => "整理番号", "Reference";
    MeaningConsent => "署名すると、上の内容に同意したことになります。同意は、あとからいつでも撤回（取り消し）できます。",
        "By signing, you agree to what is shown above. You can withdraw (撤回) your consent at any time later.";
    MeaningWithdrawal => "署名すると、上の同意を撤回（取り消し）したことになります。撤回はすぐに有効になります。",
        "By signing, you withdraw the consent shown above. The withdrawal takes effect at once.";
    MeaningAttestation => "署名すると、患者さんが上の内容に同意したことを、医師としてあなたの HPKI カードで証明します。患者さん本人の署名より弱い記録として扱われます。",
        "By signing, you attest as a physician, with your HPKI card, that the patient agrees to what is shown above. It is kept as weaker evidence than the patient's own signature.";
    PasswordLabel => "署名用パスワード（英数字6〜16文字）を入力してください",
        "Type your signing password (6 to 16 letters and digits)";
    PasswordHint => "マイナンバーカードを受け取ったときに決めた、英字と数字のパスワードです。小文字で入力してもかまいません。",
        "The password of letters and digits chosen when the My Number card was issued. Lower case is fine.";
    TriesLeft => "パスワードの残り回数", "Password tries left";
    TwoLeft => "パスワードの残りは 2 回です。間違えると、残りは 1 回になります。",
        "2 tries left: a wrong password now leaves only the last try.";
    LastTry => "これが最後の 1 回です。間違えるとパスワードがロックされ、市区町村の窓口で初期化するまで使えなくなります。",
        "This is the last try: a wrong password now locks it until your city or ward office resets it.";
    SignConsent => "同意して署名する", "Agree and sign";
    SignWithdrawal => "撤回に署名する", "Sign the withdrawal";
    SignAttestation => "証明に署名する", "Sign the attestation";
    DoNotSign => "署名しない", "Do not sign";
    Details => "文書の詳細（依頼元、文書の指紋など）", "Document details (requester, fingerprint and more)";
    PasswordStaysHere => "この画面は、この PC のカードエージェントが表示しています。パスワードはこの PC の外に送られず、記録もされません。",
        "This page is shown by the card agent on this PC. The password does not leave this PC and is not recorded.";
    Document => "文書", "Document";
    WrongPassword => "署名用パスワードが違います", "Wrong signing password";
    Locked => "署名用パスワードがロックされています", "The signing password is locked";
    LockedHelp => "お住まいの市区町村の窓口で、パスワードの初期化（再設定）ができます。カードと本人確認書類をお持ちください。",
        "Your city or ward office can reset the password: take the card and proof of identity there.";
    Attestation => "今日の同意は、医師が代わりに記録することもできます（医師による証明）。担当の医師にご相談ください。",
        "Today's consent can also be recorded by the physician instead (a physician's attestation). Ask your physician.";
    OneTryLeft => "署名用パスワードの残りが 1 回です", "Only one password try is left";
    OneTryLeftHelp => "誤ってロックしないよう、パスワードは求めませんでした（残り回数は減っていません）。パスワードが確かなときだけ、担当者に伝えてやり直してください。",
        "So that it is not locked by mistake, no password was asked for (no try was spent). Only if you are sure of the password, tell the staff and start again.";
    AskStaff => "もう一度署名するときや、わからないことがあるときは、担当者にお伝えください。",
        "To sign again, or if anything is unclear, please tell the staff.";
    DoneConsent => "同意書への署名が終わりました。カードをカードリーダーから抜いて、担当者にお伝えください。",
        "The consent form is signed. Take your card out of the reader and tell the staff.";
    DoneWithdrawal => "撤回書への署名が終わりました。カードをカードリーダーから抜いて、担当者にお伝えください。",
        "The withdrawal form is signed. Take your card out of the reader and tell the staff.";
    Signed => "署名しました", "Signed";
    NotSigned => "署名しませんでした", "Not signed";
    NotSignedHelp => "「署名しない」が選ばれたため、文書には署名していません。", "You chose not to sign, so nothing was signed.";
    // A consent given with the 4-digit user PIN instead of a signature (D130 item 3): the facility's template asks
    // for no signature, so the patient is asked only for the PIN used to prove who they are.
    KickerConsentPin => "同意の確認（暗証番号）", "Confirming your consent (PIN)";
    KickerWithdrawalPin => "同意の撤回（暗証番号）", "Withdrawing a consent (PIN)";
    PinLabel => "利用者証明用暗証番号（数字4桁）を入力してください", "Type your user PIN (4 digits)";
    PinHint => "マイナンバーカードを受け取ったときに決めた、数字4桁の暗証番号です。マイナ保険証の受付で使うものと同じです。",
        "The 4-digit PIN chosen when the My Number card was issued: the same one as at a clinic's health-insurance reception.";
    PinTriesLeft => "暗証番号の残り回数", "PIN tries left";
    PinTwoLeft => "暗証番号の残りは 2 回です。間違えると、残りは 1 回になります。",
        "2 tries left: a wrong PIN now leaves only the last try.";
    PinLastTry => "これが最後の 1 回です。間違えると暗証番号がロックされ、市区町村の窓口で初期化するまで使えなくなります。",
        "This is the last try: a wrong PIN now locks it until your city or ward office resets it.";
    MeaningConsentPin => "暗証番号を入力すると、上の内容に同意したことになります。署名ではなく、ご本人であることの確認で同意を記録します。同意は、あとからいつでも撤回（取り消し）できます。",
        "By typing your PIN, you agree to what is shown above. Your consent is recorded by confirming it is you, not by a signature. You can withdraw (撤回) it at any time later.";
    MeaningWithdrawalPin => "暗証番号を入力すると、上の同意を撤回（取り消し）したことになります。撤回はすぐに有効になります。",
        "By typing your PIN, you withdraw the consent shown above. The withdrawal takes effect at once.";
    AgreeConsent => "同意する", "Agree";
    AgreeWithdrawal => "撤回する", "Withdraw";
    NotNow => "今回はやめる", "Not now";
    PinStaysHere => "この画面は、この PC のカードエージェントが表示しています。暗証番号はこの PC の外に送られず、記録もされません。",
        "This page is shown by the card agent on this PC. The PIN does not leave this PC and is not recorded.";
    WrongPin => "暗証番号が違います", "Wrong PIN";
    PinLocked => "利用者証明用暗証番号がロックされています", "The user PIN is locked";
    PinLockedHelp => "お住まいの市区町村の窓口で、暗証番号の初期化（再設定）ができます。カードと本人確認書類をお持ちください。",
        "Your city or ward office can reset the PIN: take the card and proof of identity there.";
    OnePinTryLeft => "暗証番号の残りが 1 回です", "Only one PIN try is left";
    OnePinTryLeftHelp => "誤ってロックしないよう、暗証番号は求めませんでした（残り回数は減っていません）。暗証番号が確かなときだけ、担当者に伝えてやり直してください。",
        "So that it is not locked by mistake, no PIN was asked for (no try was spent). Only if you are sure of the PIN, tell the staff and start again.";
    Agreed => "同意しました", "Agreed";
    Withdrawn => "撤回しました", "Withdrawn";
    DoneConsentPin => "同意が終わりました。カードをカードリーダーから抜いて、担当者にお伝えください。",
        "Your consent is given. Take your card out of the reader and tell the staff.";
    DoneWithdrawalPin => "撤回が終わりました。カードをカードリーダーから抜いて、担当者にお伝えください。",
        "The consent is withdrawn. Take your card out of the reader and tell the staff.";
    KeyUsed => "確認に使うもの", "Confirmed with";
    UserCertificate => "利用者証明用電子証明書（文書には署名しません）",
        "The user-authentication certificate (nothing is signed into the document)";
    NotAgreed => "同意しませんでした", "Not agreed";
    NotAgreedHelp => "「今回はやめる」が選ばれたため、何も記録していません。", "You chose not now, so nothing was recorded.";
}

/// "残りは n 回です。" / "n tries are left.": after a wrong password (`pin`: a wrong PIN).
pub fn tries_now(lang: Lang, n: u8, pin: bool) -> String {
    match (lang, n) {
        (Lang::Ja, _) if pin => format!("暗証番号の残りは {n} 回です。"),
        (Lang::Ja, _) => format!("パスワードの残りは {n} 回です。"),
        (Lang::En, 1) => "1 try is left.".to_owned(),
        (Lang::En, _) => format!("{n} tries are left."),
    }
}
