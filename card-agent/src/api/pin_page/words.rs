//! The PIN page's words in Japanese (the default) and English: one table, one variant per message, so a
//! message missing in either language does not compile (`hcpki_html::messages!`, the console's pattern, D54). What
//! depends on the kind of card (its name, its PIN's label, whom to turn to when it is blocked) is the
//! driver's (`driver::CardLabels`).

use hcpki_html::Lang;

use crate::driver::Words;
use crate::platform::Platform;

hcpki_html::messages! {
    Agent => "hcpki カードエージェント", "hcpki card agent";
    OnPad => "カードリーダーのキーパッドで暗証番号を入力してください", "Type the PIN on the card reader's keypad";
    OnPadHelp => "この画面には入力しません。カードリーダーの数字キーで暗証番号を入力し、確定キーを押してください。やめるときは取消キーを押してください。暗証番号はカードリーダーからカードへ直接送られ、この PC には届きません。",
        "Nothing is typed on this screen: type the PIN with the card reader's number keys and press its OK key, or its cancel key to stop. The PIN goes from the reader straight to the card and never reaches this PC.";
    EnterPin => "カードの PIN を入力してください", "Enter your card's PIN";
    RequestedBy => "依頼元", "Requested by";
    For => "用途", "For";
    ForLogin => "ポータルへのログイン", "Logging in to the portal";
    ForIdentification => "受付での本人確認（ログインではありません）", "Confirming who you are at reception (not a login)";
    IdentifyKicker => "受付での本人確認", "Confirming who you are at reception";
    IdentifyHeading => "マイナンバーカードの暗証番号（数字 4 桁）を入力してください",
        "Type your My Number card's PIN (4 digits)";
    IdentifyLead => "受付で、ご本人であることをカードで確かめます。署名はしません。カードから読み取るのは利用者証明用電子証明書だけで、氏名・住所・個人番号は読み取りません。",
        "Reception checks with your card that it is you. Nothing is signed. Only the card's user-authentication certificate is read: not your name, address or individual number.";
    IdentifyPinHint => "利用者証明用暗証番号です。コンビニでの証明書の交付やマイナポータルのログインで使う、数字 4 桁の暗証番号です（署名用の 6〜16 文字のパスワードではありません）。",
        "The user-authentication PIN: the 4 digits you use for certificates at convenience stores or to log in to Mynaportal (not the 6 to 16 character signing password).";
    Identify => "確認する", "Confirm";
    DoneIdentifyHelp => "本人確認が済みました。カードをカードリーダーから抜いて、受付の担当者にお伝えください。",
        "Done. Take your card out of the reader and tell the reception staff.";
    IdentifyAgain => "受付の担当者にお伝えください。もう一度確認するときは、担当者が始めます。",
        "Please tell the reception staff: they start the check again.";
    Card => "カード", "Card";
    Holder => "カードの持ち主", "Card holder";
    TriesLeft => "PIN の残り回数", "PIN tries left";
    TwoLeft => "残り 2 回です。間違えると残りは 1 回になります。",
        "2 tries left: a wrong PIN now leaves only the last try.";
    LastTry => "これが最後の 1 回です。間違えるとカードの PIN がロックされ、発行元で解除してもらうまで使えなくなります。",
        "This is the last try: a wrong PIN now blocks the card's PIN until its issuer unblocks it.";
    ConfirmLastTry => "最後の 1 回であることを理解したうえで入力します",
        "I understand that this is the last try";
    LogIn => "ログイン", "Log in";
    Cancel => "キャンセル", "Cancel";
    PinStaysHere => "この画面は、この PC で動いているカードエージェントが表示しています。PIN はこの PC から外に出ず、ポータルにも送られず、記録もされません。",
        "This page is shown by the card agent on this PC. The PIN never leaves this PC: it is not sent to the portal and not recorded.";
    Working => "カードと通信しています", "Talking to the card";
    WorkingHelp => "カードをカードリーダーから抜かずに、このままお待ちください。",
        "Leave the card in the reader and wait.";
    Done => "完了しました", "Done";
    DoneHelp => "カードでの署名が済みました。このウィンドウを閉じて、ポータルの画面に戻ってください。",
        "The card has signed. Close this window and go back to the portal.";
    StartAgain => "ポータルの画面に戻り、もう一度ログインしてください。",
        "Go back to the portal and log in again.";
    NoTrySpent => "PIN の残り回数は減っていません。", "No PIN try was spent.";
    WrongPin => "PIN が違います", "Wrong PIN";
    NextWrongBlocks => "次に間違えると PIN がロックされます。PIN が確かでなければ、入力せずにカードの発行元に確認してください。",
        "A wrong PIN next time blocks it: if you are not sure of the PIN, do not try again; ask the card's issuer.";
    Blocked => "PIN がロックされています", "The PIN is blocked";
    BlockedHelp => "間違った PIN が続けて入力されたため、このカードでは PIN を入力できなくなっています。",
        "Too many wrong PINs were typed: this card no longer accepts a PIN.";
    OneTryLeft => "PIN の残りが 1 回です", "Only one PIN try is left";
    OneTryLeftHelp => "誤ってロックしないよう、このログインでは PIN を求めませんでした。PIN が確かな場合だけ、最後の 1 回を使うことを確認してからやり直してください。",
        "So that the card is not blocked by mistake, this login did not ask for the PIN. Only if you are sure of the PIN, confirm that the last try may be used and start again.";
    Removed => "カードが抜かれました", "The card was removed";
    RemovedHelp => "PIN の入力中または通信中にカードがカードリーダーから抜かれたため、中止しました。カードを差し込んでから、",
        "The card left the reader while the PIN was being typed or used, so the agent stopped. Insert the card, then";
    TimedOut => "時間切れです", "Timed out";
    Cancelled => "キャンセルしました", "Cancelled";
    CancelledHelp => "この操作はキャンセルされました。続けるには、",
        "This operation was cancelled. To continue,";
    BadFormat => "PIN の形式が違います", "The PIN has the wrong format";
    BadFormatHelp => "入力された PIN はこのカードの PIN の形式ではありません。必要な形式:",
        "What was typed is not in this card's PIN format. The PIN is:";
    NoCard => "カードが見つかりません", "No card";
    NoCardHelp => "カードリーダーにカードが入っていません。差し込んでから、",
        "No such card is in a reader. Insert it, then";
    SeveralCards => "同じ種類のカードが複数あります", "More than one such card";
    SeveralCardsHelp => "どのカードを使うか決められません。使うカード 1 枚だけを残してから、",
        "The agent cannot tell which card to use. Leave only the card you want to use in a reader, then";
    WrongCard => "別の種類のカードが入っています", "A different kind of card is in the reader";
    NoReaders => "カードリーダーを使えません", "The card readers cannot be used";
    NoReadersHelp => "この PC のスマートカードサービス (PC/SC) が動いていません。PC を再起動し、直らなければ施設の管理者に連絡してください。",
        "This PC's smart card service (PC/SC) is not running. Restart the PC; if that does not help, contact your facility's administrator.";
    NoReadersHelpWindows => "Windows のスマートカードサービスが止まっています。Windows はカードリーダーが 1 台もつながっていないとこのサービスを止めます。カードリーダーがつながっているか確かめ、つなぎ直してください。サービスが動き出せば、カードエージェントはそのまま使えます（再起動は不要です）。直らなければ PC を再起動し、施設の管理者に連絡してください。",
        "Windows' Smart Card service has stopped: Windows stops it while no card reader is plugged in. Check that the card reader is plugged in, and plug it in again. Once the service runs again the card agent carries on by itself (no restart needed). If that does not help, restart the PC and contact your facility's administrator.";
    CardFailed => "カードを使えませんでした", "The card could not be used";
    CardFailedHelp => "カードを差し直してから、もう一度ログインしてください。続くときは、次の内容を施設の管理者に伝えてください:",
        "Take the card out, insert it again and log in again. If it happens again, tell your facility's administrator this:";
    CloseWindow => "このウィンドウは閉じてかまいません。", "You may close this window.";
    NoSuchOperation => "この操作は見つかりません", "No such operation";
    NoSuchOperationHelp => "期限が切れたか、すでに終わっています。ポータルの画面に戻り、もう一度ログインしてください。",
        "It has expired or already ended. Go back to the portal and log in again.";
    Refused => "受け付けられません", "Refused";
    RefusedHelp => "PIN は、このカードエージェント自身の画面からだけ受け付けます。",
        "The PIN is accepted only from the card agent's own page.";
    OutOfDate => "この画面は古くなっています", "This page is out of date";
    OutOfDateHelp => "ページを再読み込みして、もう一度入力してください。", "Reload the page and type the PIN again.";
    NoPin => "PIN が入力されていません", "No PIN was typed";
    BadInput => "入力の形式が違います", "What was typed has the wrong format";
    BadInputNotSent => "入力された内容はカードに送っていません。残り回数は減っていません。次の形式で入力し直してください。",
        "It was not sent to the card, so no try was spent. Type it again in this format:";
    LastTryNotConfirmed => "最後の 1 回の確認がありません", "The last try was not confirmed";
    LastTryNotConfirmedHelp => "残り 1 回の PIN は、確認欄にチェックを入れたときだけ送ります。PIN は使われていません。",
        "With one try left, the PIN is sent only when the confirmation box is ticked. The PIN was not used.";
    BackToPin => "PIN の入力に戻る", "Back to PIN entry";
    SignDocument => "文書に電子署名します", "Signing a document";
    ForDocumentHpki => "文書への電子署名（HPKI カードの署名用の鍵。ログインには使われません）",
        "An electronic signature on a document (the HPKI card's signature key, never used for logins)";
    ForDocumentJpki => "同意書などへの電子署名（マイナンバーカードの署名用電子証明書）",
        "An electronic signature on a consent or similar document (the My Number card's signing certificate)";
    DocumentType => "文書の種類", "Document type";
    DocumentTitle => "表題（依頼元による）", "Title (requester's)";
    FileName => "ファイル名", "File name";
    Size => "大きさ", "Size";
    Sha256 => "SHA-256（文書の指紋）", "SHA-256 (fingerprint)";
    Level => "署名のレベル", "Signature level";
    Signer => "署名者", "Signer";
    SignerRole => "資格（hcRole）", "Role (hcRole)";
    SignerAfterPin => "署名用パスワードの入力後に、カードの署名用電子証明書から読み取ります",
        "read from the card's signing certificate after the signing password";
    WhatIsSigned => "上の文書の内容そのもの（SHA-256 が一致するもの）に署名します。PIN を入力する前に、依頼元・文書・署名者を確かめてください。",
        "The signature covers exactly the document above (the one with this SHA-256). Check the requester, the document and the signer before you type the PIN.";
    Sign => "署名する", "Sign";
    ConfirmInSession => "署名セッション中のため PIN は入力しません。上の内容を確かめ、署名するときは「署名する」を押してください。",
        "You are in a signing session, so no PIN is typed. Check what is shown above and press \"Sign\" to sign it.";
    SessionEnds => "カードを抜く、PC をロックする、ポータルからログアウトすると、署名セッションは終わります。",
        "The signing session ends when you take the card out, lock the PC or log out of the portal.";
    DoneDocumentHelp => "文書に署名しました。このウィンドウを閉じて、依頼元の画面に戻ってください。",
        "The document is signed. Close this window and go back to the page that asked.";
    StartSignAgain => "依頼元の画面に戻り、もう一度署名を始めてください。",
        "Go back to the page that asked and start the signature again.";
    NothingSigned => "文書には署名されていません。", "Nothing was signed.";
    BadDocument => "この文書には署名できません", "This document cannot be signed";
    BadDocumentHelp => "カードエージェントがこの文書または証明書での署名を断りました。PIN は使われましたが、署名はされていません。次の内容を依頼元または施設の管理者に伝えてください:",
        "The card agent refused to sign this document with this certificate. Tell the requester or your facility's administrator this:";
    NoTimeStamp => "タイムスタンプを取得できませんでした", "No time stamp could be obtained";
    NoTimeStampHelp => "設定されたどの時刻認証局（TSA）からも有効なタイムスタンプが得られなかったため、署名済みの文書は渡していません。施設の管理者に次の内容を伝えてください:",
        "None of the configured time-stamping authorities (TSAs) gave a valid time stamp, so no signed document was handed over. Tell your facility's administrator this:";
    NotAsked => "PIN は求められていません", "No PIN is being asked for";
    NotAskedHelp => "この操作は、いま PIN を待っていません。ポータルの画面を確認してください。",
        "This operation is not waiting for a PIN now. Look at the portal's page.";
}

/// What to do when the PC's smart card service cannot be used: on Windows, where the service stops with the last
/// reader unplugged (issue #44), plug the reader in; elsewhere restart the PC.
pub fn no_service_help(lang: Lang, platform: Platform) -> &'static str {
    match platform {
        Platform::Windows => M::NoReadersHelpWindows.text(lang),
        Platform::Unix => M::NoReadersHelp.text(lang),
    }
}

/// "1 / 3": a batch's document number.
pub fn batch_item(lang: Lang, item: usize, items: usize) -> String {
    match lang {
        Lang::Ja => format!("文書 {item} / {items}"),
        Lang::En => format!("Document {item} of {items}"),
    }
}

/// The heading of a batch's page.
pub fn sign_batch(lang: Lang, items: usize) -> String {
    match lang {
        Lang::Ja => format!("{items} 件の文書に電子署名します（1 回の確認で、1 件ずつ署名します）"),
        Lang::En => format!("Signing {items} documents (confirmed once, each signed on its own)"),
    }
}

/// What the PIN typed here opens (D163).
pub fn session_opens(lang: Lang, of: u32, hours: u32) -> String {
    match lang {
        Lang::Ja => format!(
            "この PIN で署名セッションを開始します。これから {hours} 時間、この PC にこのカードを入れている間は、{of} 件目まで PIN \
             を入力せずに署名できます。その場合も 1 件ずつこの画面に表示し、あなたが「署名する」を押したものだけに署名します。"
        ),
        Lang::En => format!(
            "This PIN also opens a signing session: for the next {hours} hours, while this card stays in this PC, up to \
             {of} signatures in all are made without typing the PIN again. Each is still shown on this page and signed \
             only when you press \"Sign\"."
        ),
    }
}

/// Where a session's signature stands: "n of N, until HH:MM (JST)".
pub fn session_count(lang: Lang, count: &crate::signing_session::Count) -> String {
    // Japan Standard Time (UTC+9, no daylight saving): the agent's users read the clock on the wall.
    let jst = count.expires_at.saturating_add(9 * 3600).rem_euclid(86_400);
    let (h, m) = (jst / 3600, jst % 3600 / 60);
    match lang {
        Lang::Ja => format!("署名セッション: {} 件目 / {} 件（{h:02}:{m:02} まで、日本時間）", count.n, count.of),
        Lang::En => format!("Signing session: signature {} of {} (until {h:02}:{m:02} JST)", count.n, count.of),
    }
}

/// "n 回" / "n": the tries left as the page writes them.
pub fn tries(lang: Lang, n: u8) -> String {
    match lang {
        Lang::Ja => format!("{n} 回"),
        Lang::En => n.to_string(),
    }
}

/// "残り n 回です。" / "n tries left.": after a wrong PIN.
pub fn tries_now(lang: Lang, n: u8) -> String {
    match (lang, n) {
        (Lang::Ja, _) => format!("PIN の残り回数は {n} 回です。"),
        (Lang::En, 1) => "1 try is left.".to_owned(),
        (Lang::En, _) => format!("{n} tries are left."),
    }
}

/// Lower-case start for a sentence the English table begins with "then" / "To continue,": the Japanese
/// sentences end in "、" and go on with [`M::StartAgain`] in the same sentence.
pub fn start_again_after_comma(lang: Lang) -> &'static str {
    match lang {
        Lang::Ja => "ポータルの画面に戻ってもう一度ログインしてください。",
        Lang::En => "go back to the portal and log in again.",
    }
}

/// After a comma, for a patient's identification: tell the reception staff, who start it again.
pub fn identify_again_after_comma(lang: Lang) -> &'static str {
    match lang {
        Lang::Ja => "受付の担当者にお伝えください。",
        Lang::En => "tell the reception staff.",
    }
}

/// "n バイト" / "n bytes", with thousands separators.
pub fn size(lang: Lang, n: usize) -> String {
    let digits = n.to_string();
    let mut grouped = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(c);
    }
    match lang {
        Lang::Ja => format!("{grouped} バイト"),
        Lang::En => format!("{grouped} bytes"),
    }
}

/// After a comma, for a document signature: "go back to the page that asked and start again".
pub fn sign_again_after_comma(lang: Lang) -> &'static str {
    match lang {
        Lang::Ja => "依頼元の画面に戻ってもう一度署名を始めてください。",
        Lang::En => "go back to the page that asked and start the signature again.",
    }
}

/// Why a timed-out operation stopped, with the agent's `pin_timeout_secs`.
pub fn timed_out(lang: Lang, secs: u64) -> String {
    match lang {
        Lang::Ja => format!("{secs} 秒以内に PIN が入力されなかったため、中止しました。"),
        Lang::En => format!("No PIN was typed within {secs} second{}, so the agent stopped.", plural(secs)),
    }
}

fn plural(n: u64) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// What goes between two sentences: nothing after "。", a space in English.
pub fn sentence_gap(lang: Lang) -> &'static str {
    match lang {
        Lang::Ja => "",
        Lang::En => " ",
    }
}

/// A colon after a label in running text.
pub fn colon(lang: Lang) -> &'static str {
    match lang {
        Lang::Ja => "：",
        Lang::En => ": ",
    }
}

/// Which readers hold a card of the kind asked for, and to leave only the one to use; runs on with "then …".
pub fn several_cards(lang: Lang, card: Words, readers: &[String]) -> String {
    let n = readers.len();
    match lang {
        Lang::Ja => format!(
            "{}が {n} 台のカードリーダー（{}）に入っていて、どのカードを使うか決められません。使うカード 1 枚だけを残し、ほかのカードを抜いてから、",
            card.ja,
            readers.join("、")
        ),
        Lang::En => format!(
            "A {} is in each of {n} readers ({}), so the agent cannot tell which to use. Leave only the card to use \
             and take the others out, then",
            card.en,
            readers.join(", ")
        ),
    }
}

/// The card found in `reader` is not the kind asked for (`found`: None for a card the agent does not know);
/// runs on with "then …".
pub fn wrong_card(lang: Lang, reader: &str, found: Option<Words>, wanted: Words) -> String {
    const UNKNOWN: Words =
        Words { ja: "このカードエージェントでは使えないカード", en: "card this agent cannot use" };
    let found = found.unwrap_or(UNKNOWN);
    match lang {
        Lang::Ja => format!(
            "カードリーダー「{reader}」に入っているのは{}です。ここで使うのは{}です。カードを入れ替えてから、",
            found.ja, wanted.ja
        ),
        Lang::En => format!(
            "The card in reader \u{201c}{reader}\u{201d} is a {}; this needs the {}. Swap the cards, then",
            found.en, wanted.en
        ),
    }
}
