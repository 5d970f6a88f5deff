//! The portal's words in Japanese (the default) and English: one table, one variant per message, so a message
//! missing in either language does not compile (the console's machinery, [`hcpki_html::messages`]). Refusal
//! reasons written by other modules keep their own text; this table covers the pages' chrome, labels and the
//! words for assurance levels and refused services ([`super::reasons`]).

use hcpki_html::messages;

messages! {
    Portal => "hcpki ポータル", "hcpki portal";
    SkipToMain => "本文へ移動", "Skip to content";
    FacilityOfPc => "この PC の施設", "This PC's facility";
    NoFacilityShort => "この PC には施設証明書がありません", "This PC has no facility certificate";
    // What card-login.js says in the status line while a card login runs (the page hands it these words).
    StatusPreparing => "カードの署名を準備しています…", "Preparing the card signature…";
    StatusPin => "カードエージェントの画面で PIN を入力してください", "Enter the PIN in the card agent's window";
    StatusCancelled => "PIN の入力を取り消しました(試行回数は減っていません)。もう一度ログインするにはボタンを押してください。",
        "PIN entry cancelled (no try used). Press the button to sign in again.";
    StatusPinBlocked => "PIN 入力の画面を開けませんでした(ブラウザーがポップアップを止めました)。もう一度ボタンを押してください。",
        "The PIN window could not open (the browser blocked the pop-up). Press the button again.";
    StatusVerifying => "確認しています…", "Verifying…";
    StatusFailed => "ログインできません:", "Cannot log in:";
    StatusConfirmFirst => "最後の 1 回を使う前に、確認欄にチェックを入れてください", "Tick the confirmation before using the last try";
    NoFacilityExplained => "この PC には施設の PC 証明書がないため、施設からの利用とは確認できません。施設の PC からの利用が必要なサービス(電子カルテなど)は開けません。施設の PC からログインするか、施設の管理者に PC 証明書の設置を依頼してください。",
        "This PC has no facility PC certificate, so the portal cannot tell that you are at a facility: services that must be used from a facility PC (an electronic medical record, for example) will not open. Sign in from a facility PC, or ask your facility's administrator to install its PC certificate.";
    SignIn => "ログイン", "Sign in";
    HpkiButton => "HPKI カードでログイン", "Sign in with your HPKI card";
    HpkiHelp => "HPKI カードをリーダーに挿してからボタンを押し、開いた画面で PIN を入力してください。",
        "Insert your HPKI card into the reader, press the button, and enter your PIN in the window that opens.";
    // Card login off (no card CA configured under `[login]`): the button's place says so, and what to do (issue
    // #45 item 8), instead of a page where a physician holding a card finds no card button and no reason.
    CardOff => "このポータルでは、まだカードでログインできません(カードの認証局が設定されていません)。HPKI カードやマイナンバーカードでログインしたい方は、ポータルの運用担当者に連絡してください。それまでは下のパスワードとワンタイムコードでログインできます。",
        "Card sign-in is not available on this portal yet (no card certification authority is configured). If you want to sign in with an HPKI or My Number card, contact the portal's operator. Until then, sign in with a password and one-time code below.";
    OtherWays => "HPKI カードをお持ちでない場合", "Without an HPKI card";
    OtherWaysHelp => "以下の方法は確認の強さが低く、開けるサービスが限られます。",
        "These ways prove less about you, so fewer services open with them.";
    JpkiHeading => "マイナンバーカード", "My Number card";
    JpkiButton => "マイナンバーカードでログイン", "Sign in with your My Number card";
    JpkiHelp => "マイナンバーカードはご本人であることを確認しますが、医療資格は含みません。医療資格が必要なサービスは開けません。",
        "The My Number card proves who you are but carries no healthcare qualification: services that need one will not open.";
    PasswordHeading => "パスワードとワンタイムコード", "Password and one-time code";
    PasswordHelp => "カードをお持ちでない職員向けです。カードを使わないため、カードでのログインが必要なサービスは開けません。",
        "For staff without a card. No card is used, so services that need a card login will not open.";
    CardOnlyServices => "カードでのログインが必要なサービス:", "Services that need a card login:";
    User => "ユーザー名", "User name";
    Password => "パスワード", "Password";
    Totp => "ワンタイムコード(6 桁)", "One-time code (6 digits)";
    // The password form's hints and its problem boxes (issue #45 item 4): what happened, then what to do.
    UserHint => "半角英数字と . _ - @(大文字・全角で入力しても構いません)", "Letters, digits and . _ - @ (capitals and full-width characters are fine)";
    TotpHint => "認証アプリに表示されている 6 桁の数字(全角・ハイフン入りでも構いません)。初めてのログインで認証アプリをまだ設定していない場合は空欄のままログインしてください(設定の案内が表示されます)。",
        "The 6 digits your authenticator app shows (full-width digits and hyphens are fine). Signing in for the first time without an authenticator app set up? Leave it empty: you will be guided through the set-up.";
    PwdWrong => "ログインできませんでした", "You could not sign in";
    PwdWrongAdvice => "ユーザー名、パスワード、ワンタイムコードのいずれかが違います。パスワードを入力し直し、認証アプリに今表示されているコードを入力してください。何度も間違えると、しばらく待たないと試せなくなります。",
        "The user name, the password or the one-time code is wrong. Type the password again and the code your authenticator app shows now. After several wrong tries you must wait a while before trying again.";
    PwdCodeUsed => "このワンタイムコードは使用済みです", "This one-time code has already been used";
    PwdCodeUsedAdvice => "コードは 1 回しか使えません。認証アプリに次のコードが表示されるまで待ち(30 秒以内に変わります)、新しいコードを入力してください。",
        "A code works once only. Wait until your authenticator app shows the next code (it changes within 30 seconds) and enter the new one.";
    // Setting up the second factor at sign-in (D161; the guideline's two factors from FY2027).
    EnrolTitle => "二要素認証の設定", "Set up your second factor";
    EnrolIntro => "このアカウントには、まだ確認済みの二要素認証(ワンタイムコード)がありません。医療情報システムの安全管理ガイドラインにより、ログインにはパスワードに加えてワンタイムコードが必要です。スマートフォンなどの認証アプリに次のキーを登録し、アプリに表示された 6 桁のコードを入力してください。",
        "This account has no confirmed second factor (one-time code) yet. The safety guideline for medical information systems requires a one-time code besides the password. Add the key below to an authenticator app (on your smartphone, for example) and enter the 6-digit code the app shows.";
    EnrolKey => "認証アプリに登録するキー", "Key to add to your authenticator app";
    EnrolKeyHint => "読み取れない場合は、アプリで「セットアップキーを入力」を選び、アカウント名にユーザー名を、キーに次の文字を入力します(空白は入力しなくても構いません)。種類は「時間ベース」です。このキーは他の人に見せないでください。",
        "If you cannot scan it, choose \u{201c}enter a setup key\u{201d} in the app, use your user name as the account name and type this key (spaces are optional). The type is \u{201c}time-based\u{201d}. Do not show this key to anyone.";
    EnrolQr => "スマートフォンの認証アプリで、この QR コードを読み取ってください。", "Scan this QR code with the authenticator app on your smartphone.";
    EnrolLink => "この端末の認証アプリで開く", "Open in an authenticator app on this device";
    EnrolCode => "アプリに表示されたコード(6 桁)", "The code the app shows (6 digits)";
    EnrolButton => "設定してログイン", "Set up and sign in";
    EnrolBy => "この設定ページは 10 分間有効です。設定できる期限:", "This page is valid for 10 minutes. Set-up is possible until:";
    EnrolOverdue => "二要素認証の設定期限を過ぎています。猶予期間が終わるとログインできなくなり、ヘルプデスクでの再設定が必要になります。",
        "The deadline for the second factor has passed. When the grace period ends you can no longer sign in until the help desk resets your second factor.";
    EnrolWrongCode => "コードが一致しませんでした。キーが正しく登録されたか確かめ、アプリに今表示されているコードを入力してください。",
        "The code did not match. Check that the key was added correctly and enter the code the app shows now.";
    EnrolClosed => "二要素認証の設定期限(猶予期間を含む)が過ぎたため、ログインできません。所属施設の管理者またはヘルプデスクに、二要素認証の再設定を依頼してください。",
        "The period for setting up the second factor (grace included) has ended, so you cannot sign in. Ask your facility's administrator or the help desk to reset your second factor.";
    EnrolAtPc => "二要素認証の設定は、施設の PC(施設の証明書が入った端末)からのみ行えます。施設の PC からもう一度ログインしてください。",
        "The second factor can be set up only from a facility PC (one holding the facility's certificate). Sign in again from a facility PC.";
    EnrolAtOwnPc => "このアカウントの二要素認証は、所属する施設の PC からのみ設定できます。所属施設の PC からもう一度ログインしてください。",
        "This account's second factor can be set up only from a PC of its own facility. Sign in again from a PC of your facility.";
    EnrolLapsed => "設定ページの有効期限(10 分)が切れたか、別のアカウントまたは別の端末のページです。もう一度ログインしてください。新しいキーが表示されます。",
        "The set-up page expired (it lasts 10 minutes) or belongs to another account or PC. Sign in again: a new key will be shown.";
    EnrolDone => "二要素認証はすでに設定されています。認証アプリのコードを入力してログインしてください。",
        "The second factor is already set up. Sign in with the code from your authenticator app.";
    PwdCheck => "入力内容を確かめてください", "Check what you typed";
    PwdUserRule => "ユーザー名は半角英数字と . _ - @ の 1〜64 文字です。", "The user name is 1 to 64 letters, digits and . _ - @.";
    PwdPasswordRule => "パスワードを入力してください(1024 バイトまで)。", "Enter your password (at most 1024 bytes).";
    PwdCodeRule => "ワンタイムコードは 6 桁の数字です。認証アプリに表示されている数字を入力してください。", "The one-time code is 6 digits: enter the digits your authenticator app shows.";
    PwdReopen => "ログインページを開き直してから、もう一度ログインしてください。", "Open the login page again and sign in from there.";
    SignInButton => "ログイン", "Sign in";
    Home => "ホーム", "Home";
    Qualification => "資格", "Qualification";
    NoQualification => "資格の情報なし", "no qualification on record";
    Facility => "施設", "Facility";
    Assurance => "ログイン方法", "Signed in with";
    SessionEnds => "ログインの有効期限", "Session ends";
    CardLeaves => "カードを抜くと自動的にログアウトします。", "Removing your card signs you out automatically.";
    Services => "利用できるサービス", "Your services";
    NoServices => "この PC とログイン方法で開けるサービスはありません。", "No service opens with this PC and this sign-in.";
    NotHere => "ここでは利用できないサービス", "Services you cannot open here";
    Sessions => "ログイン中のセッション", "Your sessions";
    Delegations => "代理の設定", "Delegation";
    NoLaunch => "サービスの画面から開いてください(ログイン済みのため、カードの操作は要りません)。",
        "Open it from the service's own page (you are signed in: no card needed).";
    SignOut => "ログアウト", "Sign out";
    SignOutEverywhere => "すべてのサービスからログアウト", "Sign out of every service";
    AssurancePassword => "パスワードとワンタイムコード(カードなし)", "password and one-time code (no card)";
    AssurancePasskey => "パスキー(カードなし)", "passkey (no card)";
    AssuranceCard => "カードと PIN(施設証明書のない PC)", "card and PIN (a PC without facility certificate)";
    AssuranceCardFacility => "カードと PIN(施設の PC)", "card and PIN (a facility PC)";
    TimesInJst => "時刻は日本時間です", "times are Japan time";
    SessionsOf => "ログイン中の方: ", "Signed in: ";
    SessionsCaption => "ログイン中のセッション(新しい順)", "Live sessions, newest first";
    Started => "開始", "Started";
    EndsBy => "期限", "Ends by";
    SignedInWith => "ログイン方法", "Signed in with";
    PcCertificate => "端末証明書", "PC certificate";
    ServicesInUse => "利用中のサービス", "Services in use";
    Action => "操作", "Action";
    ThisSession => "この端末", "this session";
    End => "終了", "End";
    LogOutEverywhere => "すべての端末からログアウト", "Log out everywhere";
    SignedIn => "ログインしました。", "Signed in.";
    Continue => "続ける", "Continue";
    SignedOutTitle => "ログアウトしました", "Signed out";
    SignedOut => "ログアウトしました。HPKI カードをリーダーから抜いてください。", "You are signed out. Take your HPKI card out of the reader.";
    SignInAgain => "もう一度ログイン", "Sign in again";
    ConfirmSignOut => "ログアウトしますか?", "Sign out?";
    ConfirmSignOutHelp => "ログアウトすると、このポータルから開いたすべてのサービスからもログアウトします。",
        "Signing out also signs you out of every service you opened from this portal.";
    Refused => "受け付けられません", "Refused";
    ToSignIn => "ログインページへ", "To the sign-in page";
    // The portal's own error pages (issue #45 item 6): what happened, what to do, the way back.
    NotFound => "ページが見つかりません", "Page not found";
    NotFoundHelp => "このアドレスのページはありません。アドレスを確かめるか、ホームから開き直してください。",
        "There is no page at this address. Check the address, or open the page again from the home page.";
    MethodNotAllowed => "この操作はこのページではできません", "This page does not accept that request";
    MethodNotAllowedHelp => "ページを開き直し、ページのボタンから操作してください。",
        "Open the page again and use its buttons.";
    ToHome => "ホームへ戻る", "Back to the home page";
    InternalError => "サーバーの内部エラーです", "Internal server error";
    InternalErrorHelp => "この操作はサーバーの不具合で完了しませんでした(記録済みです)。少し待ってからホームから開き直してください。続くときは、発生した時刻を添えて施設の管理者にご連絡ください。",
        "This request failed because of a fault in the server (it is logged). Wait a moment and open it again from the home page; if it keeps failing, tell your facility's administrator the time it happened.";
    Unavailable => "ポータルが一時的に応答できません。しばらくしてからもう一度お試しください。",
        "The portal cannot answer now; try again shortly.";
    // The admission gate's refusal (D138): the server is at its bound; the wait is on the page.
    Busy => "ただいま混み合っています", "The portal is busy";
    BusyHelp => "アクセスが集中しているため、この操作を受け付けられませんでした。何も変更されていません。次の秒数が過ぎてから、もう一度お試しください:",
        "Too many requests are being handled right now, so this one was not taken; nothing was changed. Try again after this many seconds:";
    StaleForm => "このフォームは古くなっています。ページを再読み込みしてから、もう一度お試しください。",
        "The form is stale: reload the page and try again.";
    CrossSite => "ほかのサイトからの送信は受け付けません。ポータルのページから操作してください。",
        "Cross-site request refused: use the portal's own pages.";
    SignInFailed => "ログインできませんでした", "Sign-in failed";
    CardLoginOff => "このポータルではカードでのログインを受け付けていません。ほかの方法でログインしてください。",
        "This portal does not take card logins: use another way to sign in.";
    NoLoginCookie => "ログインページを開いた記録がありません。ログインページを開き直してから、もう一度お試しください。",
        "The login page was not opened in this browser: open it again (it sets a cookie) and retry.";
    NoSuchOwnSession => "そのセッションは見つかりません。セッション一覧を再読み込みしてください。",
        "No such session of yours: reload the sessions page.";
    CertificateExpiredLogin => "このログインに使った証明書(カードまたはこの PC)の有効期限が切れています。有効なカードを使うか、施設の管理者に PC 証明書の更新を依頼してください。",
        "A certificate of this login (the card's or this PC's) has expired: use a valid card, or have this PC's certificate renewed by your facility's administrator.";
    OtherCardSession => "このセッションは別のカードで始まりました。ホームページからログアウトしてください。",
        "This session was not started with that card: sign out from the home page instead.";
}

/// "Too many failed sign-ins: wait `wait` seconds", in `lang`.
pub fn throttled(lang: hcpki_html::Lang, wait: i64) -> String {
    match lang {
        hcpki_html::Lang::Ja => format!(
            "ログインの失敗が続いたため、一時的に受け付けていません。{wait} 秒待ってから、もう一度お試しください。"
        ),
        hcpki_html::Lang::En => format!("Too many failed sign-ins: wait {wait} seconds, then try again."),
    }
}
