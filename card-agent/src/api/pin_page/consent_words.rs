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
}

/// "残りは n 回です。" / "n tries are left.": after a wrong password.
pub fn tries_now(lang: Lang, n: u8) -> String {
    match (lang, n) {
        (Lang::Ja, _) => format!("パスワードの残りは {n} 回です。"),
        (Lang::En, 1) => "1 try is left.".to_owned(),
        (Lang::En, _) => format!("{n} tries are left."),
    }
}
