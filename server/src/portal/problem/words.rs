//! The problem boxes' words in Japanese (the default) and English: one table, one variant per message, so a
//! message missing in either language does not compile (`hcpki_html::messages!`, the console's pattern, D54).
//! Each problem has a heading (what happened) and a text saying what to do; a few add a line of detail.

hcpki_html::messages! {
    Retry => "もう一度ログインする", "Log in again";
    ToLogin => "ログインページへ", "To the login page";
    TriesLeft => "PIN の残り回数:", "PIN tries left:";
    Reason => "理由:", "Reason:";
    Detail => "詳細(問い合わせの際にお伝えください):", "Details (quote them when you ask for help):";
    HpkiCard => "HPKI カード", "HPKI card";
    JpkiCard => "マイナンバーカード", "My Number card";

    AgentNotRunning => "カードエージェントに接続できません", "The card agent is not answering";
    AgentNotRunningWhat => "この PC でカードエージェント (hcpki-agent) が動いていないか、インストールされていません。カードの読み取りと PIN の入力は、このエージェントが行います。",
        "The card agent (hcpki-agent) is not running on this PC, or is not installed. It is the program that reads the card and asks for its PIN.";
    AgentNotRunningDo => "カードエージェントを起動してから(スタートメニューの「hcpki カードエージェント」、またはコマンド hcpki-agent serve)、もう一度ログインしてください。インストールされていない場合は、施設の管理者に hcpki-agent のインストールを依頼してください(hcpki の配布物に含まれています)。",
        "Start the card agent (\"hcpki card agent\" in the start menu, or the command hcpki-agent serve), then log in again. If it is not installed, ask your facility's administrator to install hcpki-agent (it comes with the hcpki release).";

    NoReader => "カードリーダーが見つかりません", "No card reader found";
    NoReaderDo => "カードリーダーを PC に接続してから、もう一度ログインしてください。接続しても見つからない場合は、施設の管理者に連絡してください。",
        "Connect the card reader to this PC, then log in again. If it is connected and still not found, contact your facility's administrator.";

    NoCard => "カードが見つかりません", "No card in the reader";
    NoCardDo => "カードをカードリーダーに差し込んでから、もう一度ログインしてください。差し込む向き(IC チップの位置)も確かめてください。",
        "Insert the card into the reader, then log in again. Check that it is inserted the right way round (chip first).";

    SeveralCards => "同じ種類のカードが複数あります", "More than one such card";
    SeveralCardsDo => "どのカードを使うか決められません。使うカード 1 枚だけを残してから、もう一度ログインしてください。",
        "The agent cannot tell which card to use. Leave only the card you want to use in a reader, then log in again.";

    WrongCard => "違う種類のカードです", "This is another kind of card";
    WrongCardWhatHpki => "「HPKI カードでログイン」が選ばれましたが、カードリーダーにあるのはマイナンバーカードです。",
        "\"Log in with HPKI card\" was chosen, but the card in the reader is a My Number card.";
    WrongCardWhatJpki => "「マイナンバーカード」が選ばれましたが、カードリーダーにあるのは HPKI カードです。",
        "\"My Number card\" was chosen, but the card in the reader is an HPKI card.";
    WrongCardDo => "選んだ種類のカードを差し込むか、差し込んであるカードの種類のボタンでログインしてください。マイナンバーカードでは、資格 (医師・薬剤師など) が必要なサービスは開けません。",
        "Insert the kind of card you chose, or log in with the button of the card that is inserted. With a My Number card, services that need a qualification (physician, pharmacist …) do not open.";

    CardUntrusted => "このカードはこのポータルでは使えません", "This portal does not accept this card";
    CardUntrustedDo => "カードの証明書が、このポータルが信頼する発行元 (HPKI 認証局・公的個人認証サービス) のものではありません。正規の HPKI カードまたはマイナンバーカードを使ってください。正規のカードでこの表示が出る場合は、施設の管理者を通じてポータルの運用者に連絡してください。",
        "The card's certificate is not from an issuer this portal trusts (an HPKI certification authority, or the JPKI service). Use a genuine HPKI or My Number card. If a genuine card shows this, ask the portal's operator, through your facility's administrator.";

    CardExpired => "カードの証明書の有効期限が切れています", "The card's certificate has expired";
    CardRevoked => "カードの証明書は失効しています", "The card's certificate is revoked";
    CardRenewHpki => "カードの発行元 (カードを発行した HPKI 認証局) で、カードを更新してください。手続きは施設の管理者が案内します。",
        "Have the card renewed by its issuer (the HPKI certification authority that issued it); your facility's administrator can tell you how.";
    CardRenewJpki => "お住まいの市区町村の窓口で、カードの電子証明書を更新してください。",
        "Have the card's certificate renewed at your municipal office.";
    CardRevokedHpki => "このカードではログインできません。カードの発行元 (カードを発行した HPKI 認証局) に、施設の管理者を通じて問い合わせてください。",
        "This card cannot log in. Ask its issuer (the HPKI certification authority that issued it), through your facility's administrator.";
    CardRevokedJpki => "このカードではログインできません。お住まいの市区町村の窓口に問い合わせてください。",
        "This card cannot log in. Ask at your municipal office.";

    LoginFailed => "カードでのログインを完了できませんでした", "The card login did not complete";
    LoginFailedDo => "ログインページを開き直して、もう一度カードでログインしてください。続く場合は、施設の管理者に連絡してください。",
        "Open the login page again and log in with the card again. If it keeps happening, contact your facility's administrator.";

    PcCertMissing => "この PC には施設の PC 証明書がありません", "This PC has no facility certificate";
    PcCertMissingDo => "施設の PC 証明書が、このポータルに登録されたものとして確認できません。施設で登録された PC から開くか、施設の管理者に PC 証明書の設定を依頼してください。",
        "The PC certificate this browser presents is not one registered with this portal. Open the portal on a PC registered by your facility, or ask your facility's administrator to set its PC certificate up.";
    PcCertExpired => "この PC の証明書の有効期限が切れています", "This PC's certificate has expired";
    PcCertExpiredDo => "この PC からはログインできません。施設の管理者に PC 証明書の更新を依頼してください。",
        "Logins from this PC are refused. Ask your facility's administrator to renew the PC's certificate.";
    PcCertRevoked => "この PC の証明書は失効しています", "This PC's certificate is revoked";
    PcCertRevokedDo => "この PC からはログインできません。施設の管理者に新しい PC 証明書の発行を依頼してください。",
        "Logins from this PC are refused. Ask your facility's administrator for a new PC certificate.";
    PcCertOnHold => "この PC の証明書は一時停止 (保留) 中です", "This PC's certificate is on hold";
    PcCertOnHoldDo => "保留が解除されるまで、この PC からはログインできません。施設の管理者に問い合わせてください。",
        "Logins from this PC are refused until the hold is released. Ask your facility's administrator.";

    WrongPin => "PIN が違います", "Wrong PIN";
    WrongPinDo => "PIN を確かめて、もう一度ログインしてください。PIN が確かでなければ、残り回数を使い切る前にカードの発行元に確認してください。",
        "Check the PIN and log in again. If you are not sure of it, ask the card's issuer before the tries run out.";

    LastTry => "PIN の残りが 1 回です", "Only one PIN try is left";
    LastTryDo => "誤ってロックしないよう、このログインでは PIN を求めませんでした。PIN が確かな場合だけ、最後の 1 回を使うことを確認してからログインしてください。間違えるとカードの PIN がロックされます。",
        "So that the card is not blocked by mistake, this login did not ask for the PIN. Only if you are sure of the PIN, confirm that the last try may be used and log in. A wrong PIN now blocks the card.";
    ConfirmLastTry => "最後の 1 回であることを理解したうえで入力します", "I understand that this is the last try";
    UseLastTry => "最後の 1 回を使ってログイン", "Log in with the last try";

    PinLocked => "PIN がロックされています", "The PIN is blocked";
    PinLockedHpki => "間違った PIN が続けて入力されたため、このカードは使えません。PIN のロック解除は、カードを発行した HPKI 認証局が行います。施設の管理者に連絡し、発行元での手続きを確認してください。",
        "Too many wrong PINs were typed: this card cannot be used. Only the HPKI certification authority that issued the card can unblock its PIN: contact your facility's administrator, who will tell you how to apply to the issuer.";
    PinLockedJpki => "間違った PIN が続けて入力されたため、このカードは使えません。PIN のロック解除は、お住まいの市区町村の窓口で行います(本人確認書類を持参してください)。",
        "Too many wrong PINs were typed: this card cannot be used. Its PIN is unblocked at your municipal office (bring proof of identity).";

    PinTimeout => "PIN の入力が時間切れになりました", "The PIN was not typed in time";
    PinTimeoutDo => "PIN の残り回数は減っていません。もう一度ログインし、開いたカードエージェントの画面に PIN を入力してください。",
        "No PIN try was spent. Log in again and type the PIN into the card agent's window that opens.";

    CardError => "カードを読み取れませんでした", "The card could not be read";
    CardErrorDo => "カードを差し込み直してから、もう一度ログインしてください。続く場合は、カードリーダーを替えるか施設の管理者に連絡してください。",
        "Take the card out and insert it again, then log in again. If it keeps happening, try another reader or contact your facility's administrator.";

    FacilitySuspended => "この施設は利用停止中です", "This facility is suspended";
    FacilitySuspendedDo => "施設の利用が停止されているため、この施設の PC からはログインできません。施設の管理者に問い合わせてください(停止の解除はポータルの運用者が行います)。",
        "Logins from this facility's PCs are refused while it is suspended. Ask your facility's administrator (the portal's operator lifts the suspension).";

    ServiceRefused => "このサービスは利用できません", "This service cannot be opened";
    ServiceRefusedCard => "このサービスは、HPKI カードでのログインが必要です。カードでログインし直すと利用できます。",
        "This service needs a login with an HPKI card: it opens once you log in with the card.";
    ServiceRefusedFacility => "このサービスは、施設の PC からのみ利用できます。施設で登録された PC から開いてください。",
        "This service opens only from a facility's PC: open it on a PC registered by your facility.";
    ServiceRefusedOther => "このサービスの利用条件 (資格・施設) に当てはまりません。必要な場合は、施設の管理者に問い合わせてください。",
        "Your login does not meet this service's conditions (qualification, facility). If you need it, ask your facility's administrator.";
    BackToService => "サービスに戻る", "Back to the service";

    EndedCardRemoved => "カードが抜かれたため、ログアウトしました", "You were logged out: the card was removed";
    EndedCardRemovedDo => "ログイン中はカードをカードリーダーに差したままにしてください。続けるには、カードを差し込んでもう一度ログインしてください。",
        "Keep the card in the reader while you are logged in. To continue, insert the card and log in again.";
    EndedTimeout => "ログインの有効時間が過ぎたため、ログアウトしました", "You were logged out: the session's time ran out";
    EndedTimeoutDo => "安全のため、ログインは一定時間で終わります。続けるには、もう一度ログインしてください。",
        "For safety a login lasts a limited time. To continue, log in again.";
    EndedByAdmin => "管理者によってログアウトされました", "An administrator ended your session";
    EndedByAdminDo => "運用者または施設の管理者が、このログインを終了しました。続けるにはもう一度ログインしてください。ログインできない場合は、施設の管理者に理由を問い合わせてください。",
        "The portal's operator or your facility's administrator ended this login. Log in again to continue; if you cannot, ask your facility's administrator why.";
    EndedTokenReused => "安全のためログアウトしました", "You were logged out for your safety";
    EndedTokenReusedDo => "サービスに渡したログインの情報 (リフレッシュトークン) が、更新された後にもう一度使われました。第三者に写し取られたおそれがあるため、このログインと、これで開いていたサービスを終了しました。続けるにはもう一度ログインしてください。繰り返し起きる場合は、施設の管理者に連絡してください。",
        "A sign-in credential a service held for you (its refresh token) was used again after it had been replaced. Someone may have copied it, so this login and the services it opened were ended. Log in again to continue; if it happens again, tell your facility's administrator.";
    EndedIdle => "操作のない時間が続いたため、ロックしました", "Locked: nothing was done for a while";
    EndedIdleDo => "安全のため、一定の時間操作がないとログインを終了します(施設の PC を離れたときに、他の人に使われないように)。続けるには、前と同じ方法(カードと PIN、パスキー、またはパスワードとワンタイムコード)で、もう一度ログインしてください。",
        "For safety, a login ends after a while with nothing done (so that no one else uses it at a PC you left). To continue, sign in again the same way as before (card and PIN, passkey, or password and one-time code).";
    EndedOtherTerminal => "別の端末で使われたため、ログインを終了しました", "Your login was ended: it was used on another terminal";
    EndedOtherTerminalDo => "ログインは、ログインした PC とブラウザーでだけ使えます。このログインの情報 (Cookie) が別の PC または別のブラウザーから送られてきたため、第三者に写し取られたおそれがあるとして、このログインと、これで開いていたサービスを終了しました。使う PC とブラウザーで、もう一度ログインしてください。心当たりがない場合は、施設の管理者に連絡してください。",
        "A login works only on the PC and in the browser it was made in. This login's cookie came from another PC or another browser, so someone may have copied it: this login and the services it opened were ended. Log in again on the PC and in the browser you use. If you did not expect this, tell your facility's administrator.";
}
